"""The trait taxonomy: user sensitivities, their content-warning tags and Parents-Guide weights.

The 20 built-in traits are the SafeCRS taxonomy (DESIGN.md §3). Users add their own from a JSON or
YAML file with the same shape as ``data/traits.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from persafe.errors import DataError, UnknownNameError

PGCategory = Literal["sex_nudity", "violence_gore", "profanity", "substances", "frightening"]
"""A Parents Guide category id."""

PG_CATEGORIES: tuple[str, ...] = ("sex_nudity", "violence_gore", "profanity", "substances", "frightening")
"""The five IMDb Parents Guide categories, in a fixed order used by every severity vector."""

PG_CATEGORY_NAMES: dict[str, str] = {
    "sex_nudity": "Sex & Nudity",
    "violence_gore": "Violence & Gore",
    "profanity": "Profanity",
    "substances": "Alcohol, Drugs & Smoking",
    "frightening": "Frightening & Intense Scenes",
}
"""Parents Guide display names (as IMDb writes them) by category id."""

SEVERITIES: dict[str, int] = {"None": 0, "Mild": 1, "Moderate": 2, "Severe": 3}
"""Parents Guide severity scale."""


class Trait(BaseModel):
    """One user sensitivity."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Short identifier used in samples and on the command line (``arachnophobia``)."""
    name: str
    """Human-readable name (the SafeCRS trait string for the built-in traits)."""
    description: str = ""
    """One sentence saying whom the trait protects."""
    avoid: list[str]
    """Content-warning tags (DoesTheDogDie questions) whose presence makes an item unsafe."""
    pg_weights: dict[str, float] = Field(default_factory=dict)
    """Weights over the five Parents Guide categories; missing categories weigh 0."""
    pg_applicability: Literal["strong", "weak", "very_weak_proxy", "none"] = "none"
    """How much the Parents Guide tells about this trait (informational)."""

    @field_validator("pg_weights")
    @classmethod
    def _known_categories(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(PG_CATEGORIES)
        if unknown:
            raise ValueError(f"unknown Parents Guide categories {sorted(unknown)}; valid: {list(PG_CATEGORIES)}")
        if any(w < 0 for w in v.values()):
            raise ValueError("Parents Guide weights must be >= 0")
        return v

    def pg_vector(self) -> list[float]:
        """Weights as a vector in ``PG_CATEGORIES`` order."""
        return [float(self.pg_weights.get(c, 0.0)) for c in PG_CATEGORIES]


class TraitTaxonomy:
    """An ordered set of traits; the order fixes the columns of every items × traits matrix.

    Example:
        >>> tax = builtin_traits()
        >>> tax.get("arachnophobia").avoid[:1]
        ['Are there spiders']
    """

    def __init__(self, traits: Iterable[Trait]) -> None:
        self.traits: list[Trait] = list(traits)
        self._by_id = {t.id: t for t in self.traits}
        if len(self._by_id) != len(self.traits):
            dup = [t.id for t in self.traits if sum(u.id == t.id for u in self.traits) > 1]
            raise DataError(f"duplicate trait ids: {sorted(set(dup))}")
        self._by_name = {t.name.lower(): t for t in self.traits}
        self.index: dict[str, int] = {t.id: i for i, t in enumerate(self.traits)}

    def __len__(self) -> int:
        return len(self.traits)

    def __iter__(self) -> Iterator[Trait]:
        return iter(self.traits)

    def __contains__(self, key: str) -> bool:
        return key in self._by_id or key.lower() in self._by_name

    @property
    def ids(self) -> list[str]:
        """Trait ids in column order."""
        return [t.id for t in self.traits]

    @property
    def tags(self) -> list[str]:
        """Every content-warning tag of the taxonomy, each once, in first-seen order."""
        return list(dict.fromkeys(tag for t in self.traits for tag in t.avoid))

    def get(self, key: str) -> Trait:
        """Look a trait up by id or (case-insensitive) full name.

        Raises:
            UnknownNameError: the message lists the valid trait ids.
        """
        if key in self._by_id:
            return self._by_id[key]
        if key.lower() in self._by_name:
            return self._by_name[key.lower()]
        raise UnknownNameError("trait", key, self.ids)

    def resolve(self, keys: Iterable[str]) -> list[str]:
        """Map ids or names to ids, failing on the first unknown one."""
        return [self.get(k).id for k in keys]

    def extended(self, extra: Iterable[Trait]) -> TraitTaxonomy:
        """A new taxonomy with ``extra`` traits appended (an extra trait may replace one with its id)."""
        extra = list(extra)
        replaced = {t.id for t in extra}
        return TraitTaxonomy([t for t in self.traits if t.id not in replaced] + extra)


def _parse_traits(data: object, path: str | Path) -> list[Trait]:
    items = data.get("traits") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise DataError("expected a list of traits or an object with a 'traits' list", path=path)
    out = []
    for i, obj in enumerate(items):
        try:
            out.append(Trait.model_validate(obj))
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise DataError(err["msg"], path=path, field=f"traits[{i}].{loc}") from None
    return out


def load_traits(path: str | Path) -> list[Trait]:
    """Load traits from a JSON or YAML file (a list, or ``{"traits": [...]}``)."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=path)
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) if path.suffix in {".yaml", ".yml"} else json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise DataError(f"cannot parse: {e}", path=path) from None
    return _parse_traits(data, path)


@lru_cache(maxsize=1)
def _builtin() -> TraitTaxonomy:
    ref = resources.files("persafe.catalog") / "data" / "traits.json"
    return TraitTaxonomy(_parse_traits(json.loads(ref.read_text(encoding="utf-8")), str(ref)))


def builtin_traits(extra_file: str | Path | None = None) -> TraitTaxonomy:
    """The 20 SafeCRS traits, optionally extended with the traits of ``extra_file``."""
    tax = _builtin()
    return tax.extended(load_traits(extra_file)) if extra_file else tax
