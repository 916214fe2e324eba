"""Statistics of the catalog's content warnings: coverage, tags per movie, unsafe movies per trait."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from persafe.catalog.movielens import MovieLens
from persafe.catalog.oracle import SafetyOracle
from persafe.catalog.validate import top_rated_rows


def catalog_stats(ml: MovieLens, oracle: SafetyOracle, top_n: int = 1000) -> dict[str, Any]:
    """Coverage (annotated / unknown / missing, overall and among the ``top_n`` most-rated movies),
    tags per annotated movie, label sources, and unsafe movies per trait (by tags vs Parents Guide)."""
    cat = ml.catalog
    status = []
    for it in cat.items:
        rec = oracle.warnings.get(it.item_id)
        status.append("missing" if rec is None else rec.status)
    status_arr = np.array(status)
    top = top_rated_rows(ml, top_n)
    n_tags = [len(r.tags) for r in oracle.warnings if r.status == "annotated" and r.item_id in cat]
    sources: Counter[str] = Counter()
    for r in oracle.warnings:
        for ev in r.tags.values():
            sources[f"tag:{ev.source}"] += 1
        if r.parents_guide_source:
            sources[f"parents_guide:{r.parents_guide_source}"] += 1
    known = oracle.known
    per_trait = []
    for k, tid in enumerate(oracle.taxonomy.ids):
        unsafe = oracle.unsafe[:, k] & known
        by_tags = unsafe & oracle.ddd_trigger[:, k]
        per_trait.append(
            {
                "trait": tid,
                "unsafe": int(unsafe.sum()),
                "share": float(unsafe.sum() / max(1, known.sum())),
                "by_tags": int(by_tags.sum()),
                "by_pg_only": int((unsafe & ~oracle.ddd_trigger[:, k]).sum()),
            }
        )
    return {
        "coverage": {
            "items": len(cat),
            "annotated": int((status_arr == "annotated").sum()),
            "unknown": int((status_arr == "unknown").sum()),
            "missing": int((status_arr == "missing").sum()),
            f"top{top_n}_annotated": int((status_arr[top] == "annotated").sum()),
            f"top{top_n}_unknown": int((status_arr[top] == "unknown").sum()),
            f"top{top_n}_missing": int((status_arr[top] == "missing").sum()),
        },
        "tags_per_movie": {
            "mean": float(np.mean(n_tags)) if n_tags else 0.0,
            "median": float(np.median(n_tags)) if n_tags else 0.0,
            "max": int(max(n_tags, default=0)),
            "none": int(sum(n == 0 for n in n_tags)),
        },
        "sources": dict(sources),
        "per_trait": per_trait,
        "oracle": oracle.coverage(),
    }
