"""Catalog items (movies) and the catalog that indexes them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Annotated

import numpy as np
from pydantic import BaseModel, BeforeValidator, Field

from persafe.catalog.titles import TitleIndex, TitleMatch, display_title
from persafe.errors import UnknownItemError

ItemId = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
"""Item identifiers are strings; integer ids (MovieLens) are accepted and converted."""


class Item(BaseModel):
    """One recommendable item."""

    item_id: ItemId
    """Identifier, unique within the catalog (the MovieLens item id for the built-in catalog)."""
    title: str
    """Title as the source writes it (MovieLens keeps articles at the end: "Usual Suspects, The")."""
    year: int | None = None
    """Release year, when known."""
    genres: list[str] = Field(default_factory=list)
    """Genre labels."""
    imdb_id: str | None = None
    """IMDb id (``tt0114814``) when known; links external content-warning sources."""

    @property
    def display(self) -> str:
        """``"The Usual Suspects (1995)"``: how the item is shown to a person or a model."""
        t = display_title(self.title)
        return f"{t} ({self.year})" if self.year else t


class Catalog:
    """An ordered collection of items: row ``i`` of every items × something matrix is ``items[i]``.

    Args:
        items: the items, in row order.
        popularity: optional interaction count per row (used by popularity metrics and tie-breaks).
    """

    def __init__(self, items: Iterable[Item], popularity: Sequence[float] | None = None) -> None:
        self.items: list[Item] = list(items)
        self.row: dict[str, int] = {it.item_id: i for i, it in enumerate(self.items)}
        if len(self.row) != len(self.items):
            raise ValueError("duplicate item ids in catalog")
        pop = np.zeros(len(self.items)) if popularity is None else np.asarray(popularity, dtype=float)
        if pop.shape != (len(self.items),):
            raise ValueError("popularity must have one value per item")
        self.popularity: np.ndarray = pop

    @classmethod
    def from_titles(cls, titles: Iterable[tuple[str, int | str | None]]) -> Catalog:
        """A catalog of the distinct ``(title, year)`` pairs given (see ``persafe.catalog.files``).

        Example:
            >>> Catalog.from_titles([("Heat", 1995), ("heat", "1995"), ("Fargo", 1996)]).ids([0, 1])
            ['Heat (1995)', 'Fargo (1996)']
        """
        from persafe.catalog.files import catalog_from_titles

        return catalog_from_titles(titles)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: str) -> bool:
        return str(item_id) in self.row

    def get(self, item_id: str | int) -> Item:
        """The item with this id.

        Raises:
            UnknownItemError: the id is not in the catalog.
        """
        return self.items[self.rows([item_id])[0]]

    def rows(self, item_ids: Iterable[str | int]) -> list[int]:
        """Row numbers of item ids (raises on an unknown id, naming it)."""
        out = []
        for i in item_ids:
            r = self.row.get(str(i))
            if r is None:
                raise UnknownItemError(str(i), len(self.items), list(self.row)[:3])
            out.append(r)
        return out

    def ids(self, rows: Iterable[int]) -> list[str]:
        """Item ids of row numbers (negative rows, i.e. unmatched or padding, are skipped)."""
        return [self.items[r].item_id for r in rows if r >= 0]

    @cached_property
    def popularity_percentile(self) -> np.ndarray:
        """Per-row popularity percentile in [0, 1] (1 = most popular item)."""
        n = len(self.items)
        if n <= 1:
            return np.ones(n)
        order = np.argsort(np.argsort(self.popularity, kind="stable"), kind="stable")
        return order / (n - 1)

    @cached_property
    def imdb_row(self) -> dict[str, int]:
        """Row of each IMDb id (normalised: ``tt0114814`` and ``114814`` are one key)."""
        out = {}
        for row, it in enumerate(self.items):
            if it.imdb_id:
                v = it.imdb_id.strip().lower()
                out[(v[2:] if v.startswith("tt") else v).lstrip("0")] = row
        return out

    @cached_property
    def title_index(self) -> TitleIndex:
        """Title matcher over this catalog (built on first use)."""
        return TitleIndex([it.title for it in self.items], [it.year for it in self.items], self.popularity)

    def match(self, title: str, year: int | None = None) -> TitleMatch:
        """Match a free-text title (and year) to a catalog row; see ``persafe.catalog.titles``."""
        return self.title_index.match(title, year)
