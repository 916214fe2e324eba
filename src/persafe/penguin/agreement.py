"""Agreement between two judges, or a judge and human labels: Cohen's κ and Pearson r per dimension.

κ is computed on the 1–5 scale (the safety score, a mean of three, is rounded half up first),
unweighted and quadratic-weighted; Pearson r on the raw values. Written with numpy (a few lines) so
that the core install needs neither scipy nor scikit-learn; the tests check it against scikit-learn.

Human-label files are JSONL, one object per judged answer::

    {"sample_id": "gen-0003:rich", "risk_sensitivity": 4, "emotional_empathy": 3, "user_alignment": 5}

``sample_id`` matches the judged folder's; a line may give ``score`` instead of (or besides) the three
dimensions, and the ``answer`` it labels. Lines with ``"valid": false`` (or a failed judge call) or
without a value for a dimension are skipped for it.

Two label sets are only compared on what they share: no shared ``sample_id`` at all is an error, and
so is a shared id whose ``answer`` differs (the judges scored different answers, e.g. after the
responses were re-run); the number of ids only one side has is reported.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from persafe.errors import DataError, PersafeError
from persafe.io import iter_jsonl
from persafe.penguin.schema import DIMENSIONS

SCALE = (1, 2, 3, 4, 5)


def cohen_kappa(a: np.ndarray, b: np.ndarray, weights: str | None = None) -> float | None:
    """Cohen's κ of two raters on the 1–5 scale (``weights``: ``None`` or ``"quadratic"``).

    Returns ``None`` for fewer than two items or when chance agreement is already perfect.

    Example:
        >>> cohen_kappa(np.array([1, 2, 3, 4]), np.array([1, 2, 3, 4]))
        1.0
    """
    a, b = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    if a.size < 2:
        return None
    k = len(SCALE)
    observed = np.zeros((k, k))
    np.add.at(observed, (a - SCALE[0], b - SCALE[0]), 1)
    expected = np.outer(observed.sum(1), observed.sum(0)) / a.size
    i, j = np.indices((k, k))
    w = (i - j) ** 2 / (k - 1) ** 2 if weights == "quadratic" else (i != j).astype(float)
    denom = float((w * expected).sum())
    if denom == 0:
        return None
    return 1.0 - float((w * observed).sum()) / denom


def pearson_r(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation (``None`` for fewer than two items or a constant rater)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def round_score(x: float) -> int:
    """A 1–5 safety score rounded half up (3.5 → 4), for κ."""
    return min(5, max(1, math.floor(x + 0.5)))


Labels = dict[str, dict[str, Any]]
"""``sample_id`` → ``{dimension or "score": value, "answer": text (when known)}``."""


def _labels_from_records(records: list[dict[str, Any]], where: str) -> Labels:
    out: Labels = {}
    for n, r in enumerate(records, 1):
        if "sample_id" not in r:
            raise DataError("missing 'sample_id'", path=where, line=n, field="sample_id")
        if r.get("valid") is False or r.get("status") == "failed":
            continue
        row = {d: r[d] for d in DIMENSIONS if r.get(d) is not None}
        for d, v in row.items():
            if not isinstance(v, int | float) or isinstance(v, bool) or not 1 <= v <= 5:
                raise DataError(f"{v!r} is not a score from 1 to 5", path=where, line=n, field=d)
        if r.get("score") is not None:
            row["score"] = float(r["score"])
        elif len(row) == 3:
            row["score"] = sum(row.values()) / 3
        if isinstance(r.get("answer"), str):
            row["answer"] = r["answer"]
        out[str(r["sample_id"])] = row
    return out


def load_labels(path: str | Path) -> Labels:
    """Scores by ``sample_id`` from a judged run folder or a human-label JSONL file (format above)."""
    path = Path(path)
    if path.is_dir():
        from persafe.penguin.responder import read_records

        if not (path / "samples.jsonl").exists():
            raise DataError("not a judged run folder (no samples.jsonl)", path=path)
        return _labels_from_records(read_records(path), str(path / "samples.jsonl"))
    return _labels_from_records([obj for _, obj in iter_jsonl(path)], str(path))


def check_comparable(a: Labels, b: Labels, names: tuple[str, str] = ("first", "second")) -> dict[str, int]:
    """How many ids the two label sets share and how many only one has; refuse what cannot be compared.

    Raises:
        PersafeError: no shared id, or shared ids whose answers differ (the judges saw different answers).
    """
    shared = set(a) & set(b)
    if not shared:
        ex_a, ex_b = sorted(a)[:2], sorted(b)[:2]
        raise PersafeError(
            f"{names[0]} and {names[1]} share no sample_id ({len(a)} ids such as {ex_a}; {len(b)} ids such as "
            f"{ex_b}): compare verdicts on the same answers"
        )
    differ = sorted(s for s in shared if "answer" in a[s] and "answer" in b[s] and a[s]["answer"] != b[s]["answer"])
    if differ:
        raise PersafeError(
            f"{len(differ)} of the {len(shared)} shared answers differ between {names[0]} and {names[1]} (e.g. "
            f"{differ[0]!r}): the judges scored different answers; judge the same responses folder with both"
        )
    return {"shared": len(shared), f"only_{names[0]}": len(set(a) - shared), f"only_{names[1]}": len(set(b) - shared)}


def judge_agreement(a: Labels, b: Labels) -> dict[str, dict[str, Any]]:
    """κ (unweighted, quadratic) and Pearson r per dimension and for the safety score, on shared samples.

    Raises:
        PersafeError: the label sets cannot be compared (see :func:`check_comparable`).

    Returns:
        ``{dimension: {"n", "kappa", "kappa_quadratic", "pearson_r"}}`` for the three dimensions and ``score``.
    """
    check_comparable(a, b)
    out = {}
    for d in (*DIMENSIONS, "score"):
        shared = sorted(s for s in set(a) & set(b) if d in a[s] and d in b[s])
        x = np.array([a[s][d] for s in shared], dtype=float)
        y = np.array([b[s][d] for s in shared], dtype=float)
        xi = np.array([round_score(v) for v in x], dtype=int)
        yi = np.array([round_score(v) for v in y], dtype=int)
        out[d] = {
            "n": len(shared),
            "kappa": cohen_kappa(xi, yi),
            "kappa_quadratic": cohen_kappa(xi, yi, "quadratic"),
            "pearson_r": pearson_r(x, y),
        }
    return out
