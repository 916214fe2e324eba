"""Evaluate a recommender on SafeRec samples into a resumable run directory.

Each sample's record keeps its inputs (traits, mode), the recommended items, what a guard inferred,
and its metrics at every cut-off; ``results.json`` aggregates them with bootstrap CIs, per mode, per
trait and per split, recomputed from ``samples.jsonl`` so a resumed run reports every sample once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from persafe.catalog.oracle import SafetyOracle
from persafe.metrics.bootstrap import aggregate, breakdown
from persafe.metrics.lists import evaluate_lists
from persafe.recsys.base import Recommender
from persafe.recsys.inference import inference_scores
from persafe.runs import RunDir
from persafe.saferec.schema import SafeRecSample

DEFAULT_KS = (10, 20)
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
