"""Phrase banks: how users state (explicitly) or hint at (implicitly) their sensitivities.

Written for this project. The built-in bank (``data/phrases.json``, version 2) splits its phrasings **by
phrasing**: every trait and mode has its own train, validation and test phrasings, so an inferer
fitted on the training requests is measured on sentences it never saw. It also has *distractors*
(sentences that mention a trait's content with liking or indifference, for control requests: a
keyword is not a sensitivity) and *moods* (ordinary things people add to a request). Users may pass
their own bank to the builder; in the older shape (version 1: one list of phrasings per trait and mode)
every split draws from the same phrasings, and the build says so.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from persafe.errors import DataError
from persafe.io import read_json

SPLITS = ("train", "val", "test")


class SplitPhrases(BaseModel):
    """Phrasings of one kind, split by phrasing: validation and test phrasings never appear in train."""

    train: list[str] = Field(min_length=1)
    val: list[str] = Field(min_length=1)
    test: list[str] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _shared_list(cls, v: Any) -> Any:
        """A plain list (the older bank shape) is shared by every split."""
        return {split: v for split in SPLITS} if isinstance(v, list) else v

    def pool(self, split: str | None) -> list[str]:
        """The phrasings of a split (``None``: train)."""
        return getattr(self, split or "train")

    @property
    def disjoint(self) -> bool:
        """Whether no phrasing is shared between splits."""
        sets = [set(self.train), set(self.val), set(self.test)]
        return all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1 :])


class TraitPhrases(BaseModel):
    """Phrasings of one trait."""

    explicit: SplitPhrases
    """Plain statements of what to avoid."""
    implicit: SplitPhrases
    """Cues from which a thoughtful recommender infers the need."""
    distractors: SplitPhrases | None = None
    """Mentions of the trait's content with liking or indifference (for control requests): no sensitivity."""


class RequestPhrases(BaseModel):
    """Templates of the request around the constraint."""

    openers: list[str] = Field(min_length=1)
    """Open the request with the liked movies (``{liked}``)."""
    closers: list[str] = Field(min_length=1)
    """Ask for recommendations (optional ``{n}``)."""


class PhraseBank(BaseModel):
    """All phrasings used by the SafeRec builder."""

    version: int = 1
    split_note: str | None = None
    """How the phrasings were split."""
    traits: dict[str, TraitPhrases]
    moods: SplitPhrases | None = None
    """Ordinary sentences about moods, genres, occasions and company (no sensitivity)."""
    requests: RequestPhrases
    two_trait_joiners: list[str] = Field(min_length=1)
    """Combine two constraint sentences (``{first}``, ``{second}``)."""

    @property
    def split_by_phrasing(self) -> bool:
        """Whether every trait's phrasings (and the distractors and moods) are disjoint across splits."""
        kinds = [p for t in self.traits.values() for p in (t.explicit, t.implicit, t.distractors) if p is not None]
        return all(k.disjoint for k in [*kinds, *([self.moods] if self.moods else [])])


def load_phrase_bank(path: str | Path) -> PhraseBank:
    """Load and validate a phrase bank."""
    data = read_json(path)
    try:
        return PhraseBank.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise DataError(err["msg"], path=path, field=".".join(map(str, err["loc"]))) from None


@lru_cache(maxsize=1)
def builtin_phrase_bank() -> PhraseBank:
    """The phrase bank shipped with persafe (covers the 20 built-in traits; split by phrasing)."""
    return load_phrase_bank(Path(str(resources.files("persafe.saferec") / "data" / "phrases.json")))
