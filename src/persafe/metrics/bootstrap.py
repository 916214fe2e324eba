"""Aggregates with bootstrap 95% confidence intervals, and breakdowns by trait, mode and split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def mean_ci(
    values: np.ndarray, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> dict[str, float | int | None]:
    """Mean of the defined (non-NaN) values with a percentile-bootstrap CI.

    Returns:
        ``{"mean", "ci_low", "ci_high", "n"}``; ``None`` values when no sample is defined.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    chunk = max(1, 2_000_000 // v.size)  # bound memory: at most ~2M resampled values at a time
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        means[start : start + b] = v[rng.integers(0, v.size, size=(b, v.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return {"mean": float(v.mean()), "ci_low": float(lo), "ci_high": float(hi), "n": int(v.size)}


def aggregate(
    metrics: Mapping[str, np.ndarray], mask: np.ndarray | None = None, n_boot: int = 1000, seed: int = 0
) -> dict[str, dict[str, float | int | None]]:
    """``mean_ci`` of every metric over the samples selected by ``mask``."""
    out = {}
    for name, arr in metrics.items():
        arr = np.asarray(arr, dtype=np.float64)
        out[name] = mean_ci(arr if mask is None else arr[mask], n_boot=n_boot, seed=seed)
    return out


def breakdown(
    metrics: Mapping[str, np.ndarray],
    labels: Sequence[Sequence[str]] | Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """Aggregate per group. ``labels[i]`` is sample i's group, or a list of groups (a two-trait sample
    counts in both of its traits' groups)."""
    groups: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        for g in [lab] if isinstance(lab, str) else lab:
            groups.setdefault(g, []).append(i)
    n = len(labels)
    out = {}
    for g in sorted(groups):
        mask = np.zeros(n, dtype=bool)
        mask[groups[g]] = True
        out[g] = aggregate(metrics, mask, n_boot=n_boot, seed=seed)
    return out
