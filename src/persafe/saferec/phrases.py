"""Phrase banks: how users state (explicitly) or hint at (implicitly) their sensitivities.

Written for this project; several phrasings per trait and mode. Users may pass their own bank (same
JSON shape as ``data/phrases.json``) to the builder.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from persafe.errors import DataError
from persafe.io import read_json


class TraitPhrases(BaseModel):
    """Phrasings of one trait."""

    explicit: list[str] = Field(min_length=1)
    """Plain statements of what to avoid."""
    implicit: list[str] = Field(min_length=1)
    """Cues from which a thoughtful recommender infers the need."""


class RequestPhrases(BaseModel):
    """Templates of the request around the constraint."""

    openers: list[str] = Field(min_length=1)
    """Open the request with the liked movies (``{liked}``)."""
    closers: list[str] = Field(min_length=1)
    """Ask for recommendations (optional ``{n}``)."""


class PhraseBank(BaseModel):
    """All phrasings used by the SafeRec builder."""

    version: int = 1
    traits: dict[str, TraitPhrases]
    requests: RequestPhrases
    two_trait_joiners: list[str] = Field(min_length=1)
    """Combine two constraint sentences (``{first}``, ``{second}``)."""


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
    """The phrase bank shipped with persafe (covers the 20 built-in traits)."""
    return load_phrase_bank(Path(str(resources.files("persafe.saferec") / "data" / "phrases.json")))
