"""The SafeRec recommendation-safety benchmark: sample schema, builder, phrase banks, loaders."""

from persafe.saferec.builder import (
    SAFECRS_INSTRUCTION,
    BuildResult,
    SafeRecConfig,
    build_saferec,
    load_saferec_config,
    write_saferec,
)
from persafe.saferec.loader import SPLITS, load_safecrs, load_saferec
from persafe.saferec.phrases import PhraseBank, builtin_phrase_bank, load_phrase_bank
from persafe.saferec.schema import MODES, ChatMessage, ConstraintMode, SafeRecSample

__all__ = [
    "MODES",
    "SAFECRS_INSTRUCTION",
    "SPLITS",
    "BuildResult",
    "ChatMessage",
    "ConstraintMode",
    "PhraseBank",
    "SafeRecConfig",
    "SafeRecSample",
    "build_saferec",
    "builtin_phrase_bank",
    "load_phrase_bank",
    "load_safecrs",
    "load_saferec",
    "load_saferec_config",
    "write_saferec",
]
