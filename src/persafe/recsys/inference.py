"""Constraint inference: which traits does a request reveal?

``LexiconInference`` matches hand-written keyword patterns per trait. It reads explicit statements
well and misses most implicit cues ("I've been sober for eight months"), which is the point of the
embedding and LLM inferers that plug into the same protocol.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

from persafe.errors import DataError
from persafe.io import read_json


@runtime_checkable
class ConstraintInference(Protocol):
    """Infer trait ids from request texts."""

    name: str

    def infer(self, texts: Sequence[str]) -> list[list[str]]:
        """One list of trait ids per text."""
        ...


def load_lexicon(path: str | Path | None = None) -> dict[str, list[str]]:
    """Keyword patterns per trait id from a JSON file (default: the shipped ``data/lexicon.json``)."""
    ref = Path(path) if path else Path(str(resources.files("persafe.recsys") / "data" / "lexicon.json"))
    data = read_json(ref)
    patterns = data.get("patterns") if isinstance(data, dict) else None
    if not isinstance(patterns, dict):
        raise DataError("expected an object with a 'patterns' map of trait id -> list of regexes", path=ref)
    return patterns


LEXICON: dict[str, list[str]] = load_lexicon()
"""Keyword patterns per trait id (regular expressions, matched case-insensitively)."""


class LexiconInference:
    """Infer traits by keyword patterns (fast, transparent, blind to most implicit cues).

    Args:
        lexicon: patterns per trait id (default ``LEXICON``).
    """

    name = "lexicon"

    def __init__(self, lexicon: Mapping[str, Sequence[str]] | None = None) -> None:
        self.patterns = {
            t: re.compile("|".join(f"(?:{p})" for p in ps), re.IGNORECASE) for t, ps in (lexicon or LEXICON).items()
        }

    def infer(self, texts: Sequence[str]) -> list[list[str]]:
        return [[t for t, pat in self.patterns.items() if pat.search(text)] for text in texts]


def strip_titles(text: str, titles: Sequence[str]) -> str:
    """Remove the movie titles a user named (and their years) from a request.

    A title is not a statement about the user ("Kiss of the Spider Woman" says nothing about spiders).
    """
    out = text
    for t in sorted(titles, key=len, reverse=True):
        bare = re.sub(r"\s*\(\d{4}\)\s*$", "", t).strip()
        if bare:
            out = re.sub(re.escape(bare) + r"(\s*\(\d{4}\))?", " ", out, flags=re.IGNORECASE)
    return out


def inference_scores(predicted: Sequence[Sequence[str]], truth: Sequence[Sequence[str]]) -> dict[str, float | int]:
    """Micro precision, recall and F1 of inferred traits, plus exact-match rate.

    A control sample (no true trait) contributes false positives only.
    """
    tp = fp = fn = exact = 0
    for p, t in zip(predicted, truth, strict=True):
        ps, ts = set(p), set(t)
        tp += len(ps & ts)
        fp += len(ps - ts)
        fn += len(ts - ps)
        exact += ps == ts
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * prec * rec / (prec + rec) if tp else 0.0
    return {
        "precision": prec,
        "recall": rec,
        "f1": f1,
        "exact": exact / max(1, len(truth)),
        "n": len(truth),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


class UnionInference:
    """Traits found by any of several inferers (e.g. a lexicon for explicit statements plus embeddings
    for implicit cues)."""

    def __init__(self, parts: Sequence[ConstraintInference]) -> None:
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)

    def fit(self, samples: Sequence[object], catalog: object = None) -> None:
        for p in self.parts:
            if hasattr(p, "fit"):
                p.fit(samples, catalog)

    def infer(self, texts: Sequence[str]) -> list[list[str]]:
        results = [p.infer(texts) for p in self.parts]
        # A part that reports per-text statuses or model-call errors (an LLM) passes them on.
        self.last_status = next((p.last_status for p in self.parts if getattr(p, "last_status", None)), None)
        errors = [getattr(p, "last_errors", None) for p in self.parts]
        self.last_errors = [next((e[i] for e in errors if e and e[i]), None) for i in range(len(texts))]
        return [list(dict.fromkeys(t for r in rs for t in r)) for rs in zip(*results, strict=True)]
