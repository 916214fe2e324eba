"""Errors a user can cause, each saying what was wrong, where, and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class PersafeError(Exception):
    """Base class of every error persafe raises on purpose."""


class DataError(PersafeError, ValueError):
    """A data file is malformed; the message names the file, line and field."""

    def __init__(
        self, message: str, *, path: str | Path | None = None, line: int | None = None, field: str | None = None
    ) -> None:
        where = ""
        if path is not None:
            where = str(path) + (f":{line}" if line is not None else "")
        if field:
            where = f"{where} field '{field}'" if where else f"field '{field}'"
        super().__init__(f"{where}: {message}" if where else message)
        self.path, self.line, self.field = path, line, field


class UnknownNameError(PersafeError, KeyError):
    """A name (trait, recommender, split, ...) is not known; the message lists the valid ones."""

    def __init__(self, kind: str, name: str, valid: Iterable[str]) -> None:
        valid = sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid: {', '.join(valid)}")
        self.kind, self.name, self.valid = kind, name, valid

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0])


class UnknownItemError(PersafeError, KeyError):
    """An item id is not in the catalog."""

    def __init__(self, item_id: str, n_items: int, examples: Iterable[str] = ()) -> None:
        ex = ", ".join(list(examples)[:3])
        super().__init__(
            f"item id {item_id!r} is not in the catalog ({n_items} items"
            + (f", ids such as {ex})" if ex else ")")
            + "; check that the samples were built from the same catalog"
        )
        self.item_id = item_id

    def __str__(self) -> str:
        return str(self.args[0])
