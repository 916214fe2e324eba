"""Constraint inference: which traits does a request reveal?

``LexiconInference`` matches hand-written keyword patterns per trait and reads their polarity: a mention
said with liking or indifference ("the gorier the better", "not scared of spiders", "hospital dramas
don't bother me") is not an avoidance. It reads explicit statements well and misses most implicit cues
("I've been sober for eight months"), which is the point of the learned, embedding and LLM inferers that
plug into the same protocol. Keyword rules are written by hand because no library ships a lexicon of
these sensitivities; the polarity rule is a small clause-scoped cue test, in the spirit of NegEx.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from persafe.errors import DataError
from persafe.io import read_json


@runtime_checkable
class ConstraintInference(Protocol):
    """Infer trait ids from request texts."""

    name: str

    def infer(self, texts: Sequence[str]) -> list[list[str]]:
        """One list of trait ids per text."""
        ...


def _lexicon_file(path: str | Path | None) -> tuple[Path, dict]:
    ref = Path(path) if path else Path(str(resources.files("persafe.recsys") / "data" / "lexicon.json"))
    data = read_json(ref)
    if not isinstance(data, dict) or not isinstance(data.get("patterns"), dict):
        raise DataError("expected an object with a 'patterns' map of trait id -> list of regexes", path=ref)
    return ref, data


def load_lexicon(path: str | Path | None = None) -> dict[str, list[str]]:
    """Keyword patterns per trait id from a JSON file (default: the shipped ``data/lexicon.json``)."""
    return _lexicon_file(path)[1]["patterns"]


def load_polarity(path: str | Path | None = None) -> dict[str, list[str]]:
    """Polarity cues (``liking`` and ``avoidance`` regex lists) from a lexicon file (none: empty lists)."""
    ref, data = _lexicon_file(path)
    cues = data.get("polarity", {})
    if not isinstance(cues, dict) or any(not isinstance(cues.get(k, []), list) for k in ("liking", "avoidance")):
        raise DataError("'polarity' must be an object with 'liking' and 'avoidance' lists of regexes", path=ref)
    return {k: list(cues.get(k, [])) for k in ("liking", "avoidance")}


LEXICON: dict[str, list[str]] = load_lexicon()
"""Keyword patterns per trait id (regular expressions, matched case-insensitively)."""

POLARITY: dict[str, list[str]] = load_polarity()
"""Cues of liking or indifference, and of avoidance (regular expressions, case-insensitive)."""

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n+")
_CLAUSE_BREAK = re.compile(r";|,?\s+\b(?:but|though|although|except|unless|as long as|so long as)\b|[:\u2014]|\s-\s")


def _any(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None


def _spans(text: str, sep: re.Pattern[str]) -> list[tuple[int, int]]:
    """``(start, end)`` of the pieces of ``text`` between separators."""
    out, start = [], 0
    for m in sep.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return [(a, b) for a, b in out if text[a:b].strip()]


class LexiconInference:
    """Infer traits by keyword patterns, reading each mention's polarity.

    A trait is inferred when one of its patterns matches and the clause around the match is an
    avoidance: it carries no liking cue, or an avoidance cue remains once the liking cues are removed
    ("I love dogs, so please no dog deaths"). A sentence with liking cues and no avoidance cue reveals
    nothing ("Not squeamish in the slightest; I watched my own knee surgery"). Clauses end at sentence
    ends, semicolons and *but*, *though*, *except*, *unless*, *as long as*.

    Args:
        lexicon: patterns per trait id (default ``LEXICON``).
        polarity: ``liking`` and ``avoidance`` cue patterns (default ``POLARITY``); ``False`` takes every
            mention for an avoidance.
    """

    name = "lexicon"

    def __init__(
        self, lexicon: Mapping[str, Sequence[str]] | None = None, polarity: Mapping[str, Sequence[str]] | bool = True
    ) -> None:
        self.patterns = {t: _any(ps) for t, ps in (lexicon or LEXICON).items() if ps}
        cues = POLARITY if polarity is True else (polarity or {})
        self.liking = _any(list(cues.get("liking", [])))
        self.avoidance = _any(list(cues.get("avoidance", [])))

    def is_avoidance(self, clause: str) -> bool:
        """Whether a clause that mentions some content says to avoid it (rather than liking it)."""
        if self.liking is None or not self.liking.search(clause):
            return True
        rest = self.liking.sub(" ", clause)
        return bool(self.avoidance and self.avoidance.search(rest))

    def _read(self, text: str) -> list[str]:
        found: list[str] = []
        for a, b in _spans(text, _SENTENCE_END):
            sentence = text[a:b]
            if not self.is_avoidance(sentence):  # a sentence said with liking throughout mentions freely
                continue
            clauses = _spans(sentence, _CLAUSE_BREAK)
            for t, pat in self.patterns.items():
                if t in found:
                    continue
                for m in pat.finditer(sentence):
                    end = max(m.end(), m.start() + 1)
                    around = " ".join(sentence[x:y] for x, y in clauses if x < end and y > m.start())
                    if self.is_avoidance(around or sentence):
                        found.append(t)
                        break
        return [t for t in self.patterns if t in found]

    def infer(self, texts: Sequence[str]) -> list[list[str]]:
        return [self._read(text) for text in texts]


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


def request_texts(samples: Sequence[Any]) -> list[str]:
    """What an inferer reads of each sample: the request (else the user's turn) without the titles the
    user named."""
    return [strip_titles(s.request or s.user_turn, s.seen_titles) for s in samples]


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


INFERENCE_TARGETS = {"explicit_recall": 0.98, "implicit_recall": 0.80, "precision": 0.85, "false_alarm_rate": 0.02}
"""What the default inferer aims for on held-out phrasings: explicit and implicit recall, each at this
precision, and at most this share of control requests (including distractors) given any trait."""


def inference_breakdown(predicted: Sequence[Sequence[str]], samples: Sequence[Any]) -> dict[str, Any]:
    """How an inferer reads a labelled set: precision and recall per constraint mode, false alarms on
    control requests (plain, and distractors that mention content with liking), and which of
    ``INFERENCE_TARGETS`` are met.

    Args:
        predicted: inferred trait ids per sample.
        samples: SafeRec samples or evaluation records (``traits``, ``constraint_mode``, ``distractor``).
    """

    def get(s: Any, field: str) -> Any:
        return s.get(field) if isinstance(s, Mapping) else getattr(s, field, None)

    out: dict[str, Any] = {}
    for mode in ("explicit", "implicit"):
        sel = [i for i, s in enumerate(samples) if get(s, "constraint_mode") == mode]
        if sel:
            sc = inference_scores([predicted[i] for i in sel], [get(samples[i], "traits") for i in sel])
            out[mode] = {k: sc[k] for k in ("precision", "recall", "f1", "n")}
    controls: dict[str, Any] = {}
    for kind in ("all", "plain", "distractor"):
        sel = [
            i
            for i, s in enumerate(samples)
            if not get(s, "traits") and (kind == "all" or bool(get(s, "distractor")) == (kind == "distractor"))
        ]
        alarms = sum(1 for i in sel if predicted[i])
        controls[kind] = {"n": len(sel), "false_alarms": alarms, "rate": alarms / len(sel) if sel else float("nan")}
    out["controls"] = controls
    t = INFERENCE_TARGETS

    def met(mode: str, recall: float) -> bool | None:
        m = out.get(mode)
        return None if m is None else bool(m["recall"] >= recall and m["precision"] >= t["precision"])

    out["targets"] = {
        "explicit": met("explicit", t["explicit_recall"]),
        "implicit": met("implicit", t["implicit_recall"]),
        "false_alarms": None if not controls["all"]["n"] else bool(controls["all"]["rate"] <= t["false_alarm_rate"]),
    }
    return out


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
