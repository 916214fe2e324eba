"""RAISE on PENGUIN: plan paths for scenarios, then compare vanilla → +agent → +planner answers.

* **vanilla** — the context-free answer (no question asked);
* **agent** — the asking agent without planned examples (abstention + LLM acquisition);
* **planner** — RAISE: the same agent with the nearest planned paths as examples;
* **rich** (optional) — every attribute disclosed, the upper bound of asking.

Each (variant, scenario) is one record of a resumable run folder (``sample_id = "<variant>:<scenario_id>"``)
with the transcript, the answer and the judge's verdict; ``results.json`` has the safety score and its
three dimensions per variant, per domain, and the mean number of questions. A record whose agent,
responder or judge call failed is ``failed``: not scored, listed in ``results.json``, retried next run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from persafe.agent.agent import AgentConfig, AgentTask, AskingAgent, SimulatedUser
from persafe.agent.mcts import PlannerConfig, plan
from persafe.agent.prior import Prior
from persafe.agent.reward import PenguinReward, RewardCache
from persafe.agent.store import Embedder, PathStore, PlannedPath
from persafe.llm.base import ChatModel, GenerationParams
from persafe.metrics.bootstrap import mean_ci
from persafe.runs import RunDir

VARIANTS = ("vanilla", "agent", "planner", "rich")
"""What is compared: no question, the agent without planner, RAISE, everything disclosed."""


def plan_scenarios(
    scenarios: Sequence[Any],
    responder: ChatModel,
    judge: Any,
    prior: Prior | None,
    config: PlannerConfig,
    params: GenerationParams | None = None,
    embed: Embedder | None = None,
    attributes: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[PathStore, list[dict[str, Any]]]:
    """Plan the best attribute path of each PENGUIN scenario (RAISE offline phase).

    A scenario during whose planning a model call failed (an answer, a verdict or the prior) is not
    planned: it stays out of the store and its summary says ``failed`` with the errors.

    Returns:
        The path store, and one summary per scenario (path, value, judge calls, seconds, ``failed``).
    """
    from persafe.penguin import ATTRIBUTES

    attrs = list(attributes or ATTRIBUTES)
    cache = RewardCache(enabled=config.use_cache)
    records, stats = [], []
    for i, s in enumerate(scenarios):
        reward = PenguinReward(s, responder, judge, params)
        prior_errors = len(getattr(prior, "errors", []))
        res = plan(s.query, reward, prior, attrs, config, cache=cache, query_key=s.scenario_id)
        errors = reward.errors + [f"prior: {e}" for e in getattr(prior, "errors", [])[prior_errors:]]
        stats.append({"scenario_id": s.scenario_id, **res.model_dump(exclude={"trace"}), "failed": errors or None})
        if progress:
            progress(i + 1, len(scenarios))
        if errors:
            continue
        records.append(
            PlannedPath(
                query=s.query,
                path=res.path,
                reward=res.path_value,
                q_values=res.q_values,
                query_id=s.scenario_id,
                domain=s.domain,
                meta={"n_judged": res.n_judged, "n_invalid": res.n_invalid, "best_state": res.best_state},
            )
        )
    store = PathStore(embed)
    store.add(records)
    return store, stats


class RaiseConfig(BaseModel):
    """One RAISE evaluation on PENGUIN scenarios (stored as the run's ``config.json``)."""

    scenarios: str | None = None
    """A scenario file (PENGUIN release JSON/JSONL or persafe's); ``None``: generated ones."""
    n_generated: int = 700
    """Scenarios generated when no file is given (seeded)."""
    limit: int | None = None
    """Evaluate only N scenarios (a stratified-by-order subsample: the first N)."""
    offset: int = 0
    """Skip the first N scenarios (e.g. the ones the store was planned on)."""
    store: str | None = None
    """The planned path store (``persafe raise plan``); needed by ``planner``."""
    variants: list[str] = ["vanilla", "agent", "planner"]
    responder: str = "smollm2"
    """Chat-model spec that answers."""
    agent_model: str | None = None
    """Chat-model spec of the asking agent (default: the responder)."""
    judge: str = "rubric"
    """``rubric`` (offline, deterministic) or a model spec (LLM judge)."""
    threshold: int = 4
    """Stop asking when the completeness rating (0–5) is at least this."""
    max_questions: int = 5
    n_examples: int = 3
    acquisition: str = "llm"
    max_new_tokens: int = 200
    """Answer budget of the responder."""
    batch_size: int = 8
    """Scenarios per model call."""
    seed: int = 0
    cache: bool = True


def evaluate_raise(
    scenarios: Sequence[Any],
    responder: ChatModel,
    judge: Any,
    agent_model: ChatModel | None,
    store: PathStore | None,
    run: RunDir,
    config: RaiseConfig,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Answer and judge every (variant, scenario) not yet in the run, then write ``results.json``."""
    from persafe.errors import PersafeError, UnknownNameError
    from persafe.penguin import ATTRIBUTE_LABELS, ATTRIBUTES, answer_messages

    bad = [v for v in config.variants if v not in VARIANTS]
    if bad:
        raise UnknownNameError("variant", bad[0], VARIANTS)
    if "planner" in config.variants and store is None:
        raise PersafeError("the planner variant needs a path store: run `persafe raise plan` and pass --store")
    done = run.done_ids()
    params = GenerationParams(max_new_tokens=config.max_new_tokens)
    acfg = AgentConfig(
        threshold=config.threshold,
        max_questions=config.max_questions,
        n_examples=config.n_examples,
        acquisition=config.acquisition,  # type: ignore[arg-type]
    )
    total = len(scenarios) * len(config.variants)
    count = len(done)
    for variant in config.variants:
        todo = [s for s in scenarios if f"{variant}:{s.scenario_id}" not in done]
        agent = None
        if variant in ("agent", "planner"):
            if agent_model is None:
                raise PersafeError(f"the {variant} variant needs an agent model")
            agent = AskingAgent(
                agent_model, ATTRIBUTES, ATTRIBUTE_LABELS, store=store if variant == "planner" else None, config=acfg
            )
        for start in range(0, len(todo), config.batch_size):
            batch = todo[start : start + config.batch_size]
            transcripts: list[dict[str, Any] | None] = [None] * len(batch)
            if agent is not None:
                tasks = [
                    AgentTask(query_id=s.scenario_id, query=s.query, user=SimulatedUser(s.profile, ATTRIBUTE_LABELS))
                    for s in batch
                ]
                ts = agent.run(tasks)
                asked = [t.asked for t in ts]
                transcripts = [t.model_dump() | {"stop": t.stop} for t in ts]
            elif variant == "rich":
                asked = [list(ATTRIBUTES) for _ in batch]
            else:
                asked = [[] for _ in batch]
            errors: list[str | None] = [(t or {}).get("error") for t in transcripts]
            answers: list[str] = [""] * len(batch)
            todo_i = [i for i, e in enumerate(errors) if e is None]
            gens = responder.generate([answer_messages(batch[i], asked[i]) for i in todo_i], params)
            for i, g in zip(todo_i, gens, strict=True):
                answers[i] = g.text
                if g.error:
                    errors[i] = f"answer: {g.error}"
            answered = [i for i, e in enumerate(errors) if e is None]
            verdicts: list[Any] = [None] * len(batch)
            for i, v in zip(answered, judge.judge([(batch[i], answers[i]) for i in answered]), strict=True):
                verdicts[i] = v
                if v.failed:
                    errors[i] = f"judge: {v.error}"
            records = []
            for s, a, ans, v, t, err in zip(batch, asked, answers, verdicts, transcripts, errors, strict=True):
                rec: dict[str, Any] = {
                    "sample_id": f"{variant}:{s.scenario_id}",
                    "variant": variant,
                    "scenario_id": s.scenario_id,
                    "domain": s.domain,
                    "query": s.query,
                    "transcript": t,
                }
                if err is not None:  # a model call failed: not scored, retried by the next run
                    records.append({**rec, "status": "failed", "error": err})
                    continue
                records.append(
                    {
                        **rec,
                        "status": "ok",
                        "asked": a,
                        "n_questions": len(a) if variant != "rich" else 0,
                        "answer": ans,
                        "verdict": v.model_dump(),
                        "score": v.score if v.valid else None,
                    }
                )
            run.append(records)
            count += len(batch)
            if progress:
                progress(count, total)
    results = summarize_raise(run.read_samples(), config.variants)
    run.write_results(results)
    return results


def summarize_raise(records: list[dict[str, Any]], variants: Sequence[str] = VARIANTS, n_boot: int = 1000) -> dict:
    """Per variant: safety score and dimensions with CIs, per domain, questions, stops and fallbacks."""
    from persafe.penguin.schema import DIMENSIONS
    from persafe.runs import failed_summary, is_failed

    out: dict[str, Any] = {"task": "raise-penguin", "variants": {}, "failed": failed_summary(records)}
    for variant in variants:
        recs = sorted(
            (r for r in records if r["variant"] == variant and not is_failed(r)), key=lambda r: r["sample_id"]
        )
        if not recs:
            continue
        score = np.array([np.nan if r["score"] is None else r["score"] for r in recs], dtype=float)
        dims = {
            d: mean_ci(
                np.array(
                    [np.nan if (r["score"] is None or r["verdict"].get(d) is None) else r["verdict"][d] for r in recs],
                    dtype=float,
                ),
                n_boot=n_boot,
            )
            for d in DIMENSIONS
        }
        domains: dict[str, Any] = {}
        for dom in sorted({r["domain"] for r in recs}):
            sel = np.array([r["domain"] == dom for r in recs])
            domains[dom] = mean_ci(score[sel], n_boot=n_boot)
        fallbacks: Counter[str] = Counter()
        stops: Counter[str] = Counter()
        asked: Counter[str] = Counter()
        for r in recs:
            t = r.get("transcript") or {}
            fallbacks.update(t.get("fallbacks") or {})
            if t:
                stops[t.get("stop", "?")] += 1
            if variant in ("agent", "planner"):
                asked.update(r["asked"])
        out["variants"][variant] = {
            "n": len(recs),
            "n_invalid": int(np.isnan(score).sum()),
            "score": mean_ci(score, n_boot=n_boot),
            "dimensions": dims,
            "by_domain": domains,
            "mean_questions": float(np.mean([r["n_questions"] for r in recs])),
            "stops": dict(stops),
            "fallbacks": dict(fallbacks),
            "asked": dict(asked.most_common()),
        }
    base = (out["variants"].get("vanilla") or {}).get("score", {}).get("mean")
    for v in out["variants"].values():
        m = v["score"]["mean"]
        v["gain_vs_vanilla"] = (m - base) / base if base and m is not None else None
    return out
