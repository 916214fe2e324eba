"""Evaluate a recommender on SafeRec samples into a resumable run directory.

Each sample's record keeps its inputs (traits, mode), the recommended items, what a guard inferred,
and its metrics at every cut-off; ``results.json`` aggregates them with bootstrap CIs, per mode, per
trait and per split, recomputed from ``samples.jsonl`` so a resumed run reports every sample once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from persafe.catalog.oracle import SafetyOracle
from persafe.metrics.bootstrap import aggregate, breakdown, mean_ci
from persafe.metrics.lists import evaluate_lists
from persafe.recsys.base import Recommender
from persafe.recsys.inference import inference_scores
from persafe.runs import RunDir
from persafe.saferec.schema import SafeRecSample

DEFAULT_KS = (10, 20)
GUARDS = ("none", "lexicon", "embedding", "lexicon+embedding", "llm", "oracle")
"""``oracle`` guards with the sample's true traits (an upper bound); the others name an inference method."""
TASKS = ("list", "choice")
HEADLINE = ("recall", "ndcg", "svr", "svr_slots", "sdcg", "validity", "popularity", "produced", "hit")


def evaluate_recommender(
    recommender: Recommender,
    samples: Sequence[SafeRecSample],
    oracle: SafetyOracle,
    run: RunDir,
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int = 256,
    n_boot: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Recommend for every sample not yet in the run, append the records, and write ``results.json``.

    The recommender must already be fitted. Returns the results.
    """
    catalog = oracle.catalog
    done = run.done_ids()
    todo = [s for s in samples if s.sample_id not in done]
    depth = max(ks)
    total = len(samples)
    if progress:
        progress(total - len(todo), total)
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        recs = recommender.recommend(batch, depth)
        gt = [catalog.rows(s.groundtruth_item_ids) for s in batch]
        seen = [catalog.rows(s.seen_item_ids) for s in batch]
        mask = oracle.trait_mask([s.traits for s in batch])
        per_k = {k: evaluate_lists(recs.rows, gt, mask, oracle, k=k, seen=seen) for k in ks}
        viol = oracle.violations(recs.rows, mask)
        records = []
        for i, s in enumerate(batch):
            rows = recs.rows[i]
            rec = {
                "sample_id": s.sample_id,
                "split": s.split,
                "user_id": s.user_id,
                "traits": s.traits,
                "constraint_mode": s.constraint_mode,
                "recommended": [catalog.items[r].item_id if r >= 0 else None for r in rows if r != -1],
                "violating": [int(j) for j in np.flatnonzero(viol[i])],
                "metrics": {str(k): m.row(i) for k, m in per_k.items()},
            }
            if recs.inferred_traits is not None:
                rec["inferred_traits"] = recs.inferred_traits[i]
            if recs.raw is not None:
                rec["raw"] = recs.raw[i]
            if recs.extra:
                rec["extra"] = recs.extra[i]
            records.append(rec)
        run.append(records)
        if progress:
            progress(total - len(todo) + start + len(batch), total)
    results = summarize(run.read_samples(), ks, n_boot=n_boot)
    results["run"] = run.config.get("name")
    results["oracle"] = oracle.coverage()
    run.write_results(results)
    return results


def _metric_arrays(records: list[dict[str, Any]], k: int) -> dict[str, np.ndarray]:
    out = {}
    for name in HEADLINE:
        vals = [r["metrics"][str(k)].get(name) for r in records]
        out[name] = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
    return out


def summarize(records: list[dict[str, Any]], ks: Sequence[int] = DEFAULT_KS, n_boot: int = 1000) -> dict[str, Any]:
    """Aggregate sample records: overall, control (``none``) samples, by mode, trait and split."""
    records = sorted(records, key=lambda r: r["sample_id"])
    modes = [r["constraint_mode"] for r in records]
    traits = [r["traits"] or ["(control)"] for r in records]
    splits = [r.get("split") or "?" for r in records]
    out: dict[str, Any] = {"n_samples": len(records), "ks": list(ks), "by_k": {}}
    control = np.array([m == "none" for m in modes])
    for k in ks:
        arrays = _metric_arrays(records, k)
        out["by_k"][str(k)] = {
            "overall": aggregate(arrays, n_boot=n_boot),
            "control": aggregate(arrays, control, n_boot=n_boot) if control.any() else None,
            "by_mode": breakdown(arrays, modes, n_boot=n_boot),
            "by_trait": breakdown(arrays, traits, n_boot=n_boot),
            "by_split": breakdown(arrays, splits, n_boot=n_boot),
            "empty_lists": int(np.sum(arrays["produced"] == 0)),
        }
    extras = [r.get("extra") or {} for r in records]
    if any("valid" in e for e in extras):  # candidate-choice task
        out["candidate_choice"] = {
            "valid_ratio": mean_ci(np.array([float(e.get("valid", False)) for e in extras]), n_boot=n_boot),
            "hit_ratio_at_1": mean_ci(np.array([float(e.get("hit_at_1", False)) for e in extras]), n_boot=n_boot),
        }
    if any("parse" in e for e in extras):  # LLM answers: how many could be read at all
        out["parse"] = dict(Counter(e.get("parse", "?") for e in extras))
    if any("inference_status" in e for e in extras):
        out["inference_status"] = dict(Counter(e["inference_status"] for e in extras if "inference_status" in e))
    if records and "inferred_traits" in records[0]:
        by_mode: dict[str, Any] = {}
        for mode in sorted(set(modes)):
            sel = [r for r in records if r["constraint_mode"] == mode]
            by_mode[mode] = inference_scores([r["inferred_traits"] for r in sel], [r["traits"] for r in sel])
        out["inference"] = {
            "overall": inference_scores([r["inferred_traits"] for r in records], [r["traits"] for r in records]),
            "by_mode": by_mode,
        }
    return out


class EvalConfig(BaseModel):
    """One evaluation: which recommender, guarded how, on which data. Stored as the run's ``config.json``."""

    data: str = "runs/saferec-ml100k"
    """A built SafeRec folder."""
    recommender: str | None = "itemknn"
    """A classic recommender (``random``, ``popularity``, ``itemknn``, ``ease``); ignored with ``model``."""
    model: str | None = None
    """A chat-model spec (``smollm2``, ``hf:DIR``, ``openai:MODEL@URL``) for an LLM recommender."""
    task: str = "list"
    """LLM task: ``list`` (N titles, SafeCRS) or ``choice`` (one of 20 candidates)."""
    guard: str = "none"
    """``none`` or a SafetyGuard inference: ``lexicon``, ``embedding``, ``lexicon+embedding``, ``llm``, ``oracle``."""
    inference_model: str | None = None
    """Chat-model spec for ``guard=llm`` (default: ``model``, else ``smollm2``)."""
    split: str = "test"
    ks: list[int] = [10, 20]
    limit: int | None = None
    """Evaluate only the first N samples of the split."""
    tau: float = 0.66
    unknown: str = "safe"
    pg_policy: str = "applicability"
    batch_size: int = 8
    """Samples per model call (LLM recommenders)."""
    max_new_tokens: int = 320
    """Generation budget of LLM list answers."""
    prompt_style: str = "safecrs"
    """LLM list prompt: ``safecrs`` (the benchmark's prompt) or ``chat`` (system instruction + request)."""
    n_titles: int = 20
    """Titles asked for in the ``chat`` style."""
    repetition_penalty: float = 1.0
    """Penalty on repeated tokens (local models)."""
    cache: bool = True
    """Cache LLM responses (reruns are free)."""

    @property
    def base_name(self) -> str:
        return f"llm-{self.task}[{self.model}]" if self.model else str(self.recommender)

    @property
    def name(self) -> str:
        return self.base_name + ("" if self.guard == "none" else f"+guard[{self.guard}]")


def build_recommender(cfg: EvalConfig, oracle: SafetyOracle) -> Recommender:
    """The (guarded) recommender an evaluation config describes."""
    from persafe.errors import UnknownNameError
    from persafe.recsys import SafetyGuard, make_recommender
    from persafe.recsys.registry import make_inference

    if cfg.guard not in GUARDS:
        raise UnknownNameError("guard", cfg.guard, GUARDS)
    if cfg.model:
        if cfg.task not in TASKS:
            raise UnknownNameError("task", cfg.task, TASKS)
        from persafe.llm import GenerationParams, load_model
        from persafe.recsys.llm import CandidateChoiceRecommender, LLMListRecommender

        model = load_model(cfg.model, cache=cfg.cache, **({"batch_size": cfg.batch_size} if _is_hf(cfg.model) else {}))
        if cfg.task == "list":
            params = GenerationParams(max_new_tokens=cfg.max_new_tokens, repetition_penalty=cfg.repetition_penalty)
            rec: Recommender = LLMListRecommender(model, params, prompt_style=cfg.prompt_style, n=cfg.n_titles)
        else:
            rec = CandidateChoiceRecommender(model)
        rec.name = cfg.base_name
    else:
        rec = make_recommender(cfg.recommender or "")
    if cfg.guard == "none":
        return rec
    if cfg.guard == "oracle":
        return SafetyGuard(rec, oracle, use_assigned_traits=True)
    inference = make_inference(cfg.guard, cfg.inference_model or cfg.model, cache=cfg.cache)
    guard = SafetyGuard(rec, oracle, inference=inference)
    guard.name = cfg.name
    return guard


def _is_hf(spec: str) -> bool:
    return spec == "smollm2" or spec.startswith("hf:")


def run_evaluation(
    cfg: EvalConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    loaded: tuple[Any, SafetyOracle] | None = None,
    splits: dict[str, list[SafeRecSample]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit on the train split and evaluate on ``cfg.split`` into the run folder ``out`` (resumable).

    Args:
        cfg: what to evaluate.
        out: run folder.
        overwrite: start afresh instead of resuming.
        loaded: ``(movielens, oracle)`` already loaded (default: the built-in ones for ``cfg``).
        splits: a cache of loaded splits shared by several evaluations.
        progress: called with ``(done, total)``.
    """
    from persafe.catalog import builtin_oracle
    from persafe.saferec import load_saferec

    if loaded is None:
        ml, _, oracle = builtin_oracle(tau=cfg.tau, unknown=cfg.unknown, pg_policy=cfg.pg_policy)
    else:
        ml, oracle = loaded
    rec = build_recommender(cfg, oracle)
    splits = splits if splits is not None else {}
    for name in ("train", cfg.split):
        if name not in splits:
            splits[name] = load_saferec(cfg.data, name)
    train, samples = splits["train"], splits[cfg.split][: cfg.limit]
    config = {"name": rec.name, "base": cfg.base_name if cfg.guard != "none" else None, **cfg.model_dump()}
    run = RunDir(out, config, overwrite=overwrite)
    rec.fit(train, ml.catalog)
    return evaluate_recommender(rec, samples, oracle, run, ks=cfg.ks, batch_size=_batch(cfg), progress=progress)


def _batch(cfg: EvalConfig) -> int:
    return max(cfg.batch_size * 4, 32) if cfg.model else 256  # LLM runs write progress more often


def run_folder_name(name: str) -> str:
    """A file-system friendly folder name for a run name (``llm-list[smollm2]+guard[lexicon]`` →
    ``llm-list-smollm2+guard-lexicon``)."""
    return re.sub(r"-*\+-*", "+", re.sub(r"[^\w.+-]+", "-", name)).strip("-")
