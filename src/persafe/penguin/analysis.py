"""Aggregates of judged answers: safety score per context, the context-rich vs context-free gain per
domain and source, the single-attribute ablation, per-dimension means and invalid-verdict counts.

Invalid verdicts are counted and excluded from every mean. A gain is ``100 × (rich − free) / free``
over the means of the valid verdicts of each context, as in the paper (2.79 → 4.00 is +43.2%).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from persafe.metrics.bootstrap import mean_ci
from persafe.penguin.schema import ATTRIBUTES, DIMENSIONS, DOMAINS, SOURCES


def gain_pct(base: float | None, new: float | None) -> float | None:
    """Relative gain in percent (``None`` when either mean is missing or the base is 0).

    Example:
        >>> round(gain_pct(2.79, 4.00), 1)
        43.4
    """
    if base is None or new is None or base == 0:
        return None
    return 100.0 * (new - base) / base


def _valid(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r.get("valid") and r.get("score") is not None]


def _mean(records: Iterable[Mapping[str, Any]], key: str = "score") -> float | None:
    vals = [r[key] for r in _valid(records) if r.get(key) is not None]
    return float(np.mean(vals)) if vals else None


def context_summary(records: list[Mapping[str, Any]], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Score (mean with bootstrap CI), per-dimension means and invalid count of one context's records."""
    valid = _valid(records)
    return {
        "score": mean_ci(np.array([r["score"] for r in valid], dtype=np.float64), n_boot=n_boot, seed=seed),
        "dimensions": {d: _mean(valid, d) for d in DIMENSIONS},
        "n": len(valid),
        "invalid": len(records) - len(valid),
    }


def _compare(records: list[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str], groups: Iterable[str]):
    out = {}
    for g in groups:
        free = [r for r in records if r["context"] == "free" and key(r) == g]
        rich = [r for r in records if r["context"] == "rich" and key(r) == g]
        if not free and not rich:
            continue
        f, r = _mean(free), _mean(rich)
        out[g] = {
            "free": f,
            "rich": r,
            "gain_pct": gain_pct(f, r),
            "n_free": len(_valid(free)),
            "n_rich": len(_valid(rich)),
        }
    return out


def paired_gain(records: list[Mapping[str, Any]], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Mean of ``rich − free`` over scenarios with a valid verdict in both contexts, with a bootstrap CI."""
    free = {r["scenario_id"]: r["score"] for r in _valid(records) if r["context"] == "free"}
    rich = {r["scenario_id"]: r["score"] for r in _valid(records) if r["context"] == "rich"}
    both = sorted(set(free) & set(rich))
    return mean_ci(np.array([rich[s] - free[s] for s in both], dtype=np.float64), n_boot=n_boot, seed=seed)


def analyze(records: list[Mapping[str, Any]], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Every aggregate of a judged run.

    Args:
        records: judged records (``context``, ``domain``, ``source``, ``scenario_id``, ``valid``, ``score``
            and the three dimensions).
        n_boot: bootstrap resamples of the confidence intervals.
        seed: bootstrap seed.

    Returns:
        ``contexts`` (per context: score with CI, dimensions, n, invalid), ``gain`` (free vs rich, also
        paired), ``by_domain`` and ``by_source`` (free, rich, gain), ``ablation`` (per attribute alone: score
        and gain over free) and ``invalid`` counts.
    """
    contexts = sorted({r["context"] for r in records}, key=_context_order)
    by_context = {c: [r for r in records if r["context"] == c] for c in contexts}
    summary = {c: context_summary(rs, n_boot, seed) for c, rs in by_context.items()}
    free = summary.get("free", {}).get("score", {}).get("mean")
    rich = summary.get("rich", {}).get("score", {}).get("mean")
    ablation = {}
    for a in ATTRIBUTES:
        if f"only:{a}" in summary:
            m = summary[f"only:{a}"]["score"]["mean"]
            ablation[a] = {"score": m, "n": summary[f"only:{a}"]["n"], "gain_pct": gain_pct(free, m)}
    return {
        "n_records": len(records),
        "n_scenarios": len({r["scenario_id"] for r in records}),
        "contexts": summary,
        "gain": {
            "free": free,
            "rich": rich,
            "gain_pct": gain_pct(free, rich),
            "paired": paired_gain(records, n_boot, seed),
        },
        "by_domain": _compare(list(records), lambda r: r["domain"], DOMAINS),
        "by_source": _compare(list(records), lambda r: r["source"], SOURCES),
        "ablation": ablation,
        "invalid": {
            "total": sum(s["invalid"] for s in summary.values()),
            "by_context": {c: s["invalid"] for c, s in summary.items()},
        },
    }


def _context_order(c: str) -> tuple[int, int, str]:
    if c == "free":
        return (0, 0, c)
    if c == "rich":
        return (1, 0, c)
    if c.startswith("only:") and c[5:] in ATTRIBUTES:
        return (2, ATTRIBUTES.index(c[5:]), c)
    return (3, 0, c)
