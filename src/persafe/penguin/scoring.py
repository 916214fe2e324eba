"""Judge a responses run folder into a judged run folder (resumable) and read judged folders back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from persafe.errors import PersafeError
from persafe.penguin.analysis import analyze
from persafe.penguin.judge import Judge
from persafe.penguin.responder import read_records, read_responses, response_failed
from persafe.penguin.schema import Verdict
from persafe.runs import RunDir, failed_summary, is_failed


def judged_record(response: dict[str, Any], query: str, verdict: Verdict) -> dict[str, Any]:
    """One line of a judged folder's ``samples.jsonl``: the answer, its context and the verdict."""
    rec = {k: response[k] for k in ("sample_id", "scenario_id", "context", "domain", "source", "answer")}
    rec["status"] = "failed" if verdict.failed else "ok"
    rec.update(query=query, **verdict.scores, score=verdict.score, valid=verdict.valid, error=verdict.error)
    rec.update(attempts=verdict.attempts, raw=verdict.raw)
    return rec


def run_judge(
    responses: str | Path,
    judge: Judge,
    out: str | Path,
    *,
    batch_size: int = 16,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    n_boot: int = 1000,
) -> dict[str, Any]:
    """Judge every answer of ``responses`` not yet judged in ``out``, then write ``results.json``.

    Answers whose generation failed are not judged (they are counted as ``unanswered``); an answer that
    changed since it was judged (the responses were re-run) is judged again. A verdict whose model call
    failed is recorded as failed (neither scored nor counted invalid) and judged again by the next run.

    Args:
        responses: a folder written by ``run_responses``.
        judge: the judge.
        out: the judged run folder.
        batch_size: answers per judge call.
        overwrite: start afresh.
        progress: called with ``(done, total)``.
        n_boot: bootstrap resamples of the confidence intervals.

    Returns:
        ``analyze`` of all judged records plus the judge, model and responses folder.
    """
    records, scenarios = read_responses(responses)
    responses = Path(responses)
    from persafe.llm.cache import model_fingerprint

    config = {"kind": "penguin-judged", "responses": str(responses.resolve()), "judge": judge.name}
    model = getattr(judge, "model", None)
    identity = {**config, "judge": model_fingerprint(model) if model is not None else judge.name}
    run = RunDir(out, config, identity=identity, overwrite=overwrite)
    answered = [r for r in records if not response_failed(r)]
    judged = {r["sample_id"]: r["answer"] for r in run.read_samples() if not is_failed(r)}
    todo = [r for r in answered if judged.get(r["sample_id"]) != r["answer"]]
    if progress:
        progress(len(answered) - len(todo), len(answered))
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        verdicts = judge.judge([(scenarios[r["scenario_id"]], r["answer"]) for r in batch])
        run.append(judged_record(r, scenarios[r["scenario_id"]].query, v) for r, v in zip(batch, verdicts, strict=True))
        if progress:
            progress(len(answered) - len(todo) + start + len(batch), len(answered))
    answerer = json.loads((responses / "config.json").read_text(encoding="utf-8")).get("model")
    current = {r["sample_id"] for r in answered}
    judged_records = [r for r in run.read_samples() if r["sample_id"] in current]
    res = analyze([r for r in judged_records if not is_failed(r)], n_boot=n_boot) | {
        "judge": judge.name,
        "model": answerer,
        "responses": str(responses),
        "unanswered": len(records) - len(answered),
        "failed": failed_summary(judged_records),
    }
    run.write_results(res)
    return res


def read_judged(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(results, records)`` of a judged run folder (another kind of run folder is refused, naming the
    command that reports it)."""
    from persafe.runs import load_run

    path = Path(path)
    if not (path / "results.json").exists():
        raise PersafeError(f"{path} is not a finished judged folder (no results.json); run `persafe penguin judge`")
    _, results = load_run(path, kind="penguin-judged")
    return results, read_records(path)
