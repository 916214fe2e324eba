"""The trait taxonomy: user sensitivities, their content-warning tags and Parents-Guide weights.

The 20 built-in traits are the SafeCRS taxonomy. Users add their own from a JSON or YAML file with
the same shape as ``data/traits.json``. A trait's ``avoid`` tags must be known content-warning tags
(those of the built-in traits); a file that needs a new tag declares it in a top-level ``new_tags``
list, so that a typo in a tag is an error rather than a trait that never flags a movie.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Iterable, Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from persafe.errors import DataError, UnknownNameError
from persafe.io import read_text, yaml_line

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

    model_config = ConfigDict(extra="forbid")

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


TRAIT_FILE_KEYS = ("version", "source", "new_tags", "traits")
"""Top-level keys of a traits file in object form."""


def close_matches(word: str, valid: Iterable[str], n: int = 3) -> list[str]:
    """The entries of ``valid`` closest to ``word`` (case-insensitive), best first."""
    lower = {v.lower(): v for v in valid}
    return [lower[m] for m in difflib.get_close_matches(word.lower(), list(lower), n=n, cutoff=0.6)]


def unknown_tag_message(tag: str, vocabulary: Collection[str], hint: str | None = None) -> str:
    """Error text for a content-warning tag outside ``vocabulary``, with the nearest known tags."""
    near = close_matches(tag, vocabulary)
    guess = f"did you mean {' or '.join(repr(t) for t in near)}? " if near else ""
    hint = hint or (
        "tags are the DoesTheDogDie questions in the traits' 'avoid' lists (TraitTaxonomy.tags); "
        "fix the tag or remove the row"
    )
    return f"unknown content-warning tag {tag!r}; {guess}{hint}"


def _parse_traits(data: object, path: str | Path, text: str | None = None) -> list[Trait]:
    items = data.get("traits") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise DataError("expected a list of traits or an object with a 'traits' list", path=path)
    prefix: tuple[str, ...] = ("traits",) if isinstance(data, dict) else ()
    out = []
    for i, obj in enumerate(items):
        try:
            out.append(Trait.model_validate(obj))
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                near = close_matches(str(err["loc"][-1]), Trait.model_fields, n=1)
                msg = "unknown field" + (f"; did you mean {near[0]!r}?" if near else "")
                msg += f" (a trait has the fields {', '.join(Trait.model_fields)})"
            line = yaml_line(text, (*prefix, i, *err["loc"])) if text is not None else None
            raise DataError(msg, path=path, line=line, field=f"traits[{i}]" + (f".{loc}" if loc else "")) from None
    return out


def _new_tags(data: object, path: Path, text: str) -> set[str]:
    if not isinstance(data, dict):
        return set()
    for key in data:
        if key not in TRAIT_FILE_KEYS:
            near = close_matches(str(key), TRAIT_FILE_KEYS, n=1)
            raise DataError(
                "unknown key"
                + (f"; did you mean {near[0]!r}?" if near else "")
                + f" (a traits file has the keys {', '.join(TRAIT_FILE_KEYS)})",
                path=path,
                line=yaml_line(text, (key,)),
                field=str(key),
            )
    new = data.get("new_tags") or []
    if not isinstance(new, list) or not all(isinstance(t, str) and t.strip() for t in new):
        raise DataError(
            "expected a list of tag strings (DoesTheDogDie questions)",
            path=path,
            line=yaml_line(text, ("new_tags",)),
            field="new_tags",
        )
    return {t.strip() for t in new}


def load_traits(path: str | Path, *, base: TraitTaxonomy | None = None) -> list[Trait]:
    """Load traits from a JSON or YAML file (a list, or ``{"traits": [...], "new_tags": [...]}``).

    Every ``avoid`` tag must be a tag of the built-in traits or be declared in the file's ``new_tags``
    list; trait ids must be unique within the file.

    Args:
        path: the file.
        base: traits the file adds to; its traits' ids and names must not be reused.

    Raises:
        DataError: the file cannot be read or parsed, or an entry is invalid (names file, line and entry).
    """
    path = Path(path)
    text = read_text(path)
    try:
        data = yaml.safe_load(text) if path.suffix.lower() in {".yaml", ".yml"} else json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"cannot parse: {e.msg} at column {e.colno}", path=path, line=e.lineno) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise DataError(
            f"cannot parse YAML: {problem}", path=path, line=mark.line + 1 if mark is not None else None
        ) from None
    new_tags = _new_tags(data, path, text)
    traits = _parse_traits(data, path, text)
    prefix: tuple[str, ...] = ("traits",) if isinstance(data, dict) else ()
    vocab = set(_builtin().tags) | new_tags
    first: dict[str, int] = {}
    first_name: dict[str, int] = {}
    for i, t in enumerate(traits):
        if t.id in first:
            raise DataError(
                f"trait id {t.id!r} is already used by traits[{first[t.id]}]; choose another id",
                path=path,
                line=yaml_line(text, (*prefix, i, "id")),
                field=f"traits[{i}].id",
            )
        first[t.id] = i
        if t.name.lower() in first_name:
            raise DataError(
                f"trait name {t.name!r} is already used by traits[{first_name[t.name.lower()]}]; choose another name",
                path=path,
                line=yaml_line(text, (*prefix, i, "name")),
                field=f"traits[{i}].name",
            )
        first_name[t.name.lower()] = i
        if base is not None and t.id in base.index:
            raise DataError(
                f"trait id {t.id!r} is already used by the built-in trait {base.get(t.id).name!r}; "
                "choose another id (a traits file adds traits, it cannot replace built-in ones)",
                path=path,
                line=yaml_line(text, (*prefix, i, "id")),
                field=f"traits[{i}].id",
            )
        if base is not None and t.name.lower() in (u.name.lower() for u in base):
            raise DataError(
                f"trait name {t.name!r} is already used by the built-in trait {base.get(t.name).id!r}; "
                "choose another name",
                path=path,
                line=yaml_line(text, (*prefix, i, "name")),
                field=f"traits[{i}].name",
            )
        for j, tag in enumerate(t.avoid):
            if tag not in vocab:
                hint = (
                    "a traits file may only use known tags (those of the built-in traits, "
                    "persafe.catalog.builtin_traits().tags) or tags it declares in a top-level 'new_tags' list"
                )
                raise DataError(
                    unknown_tag_message(tag, vocab, hint),
                    path=path,
                    line=yaml_line(text, (*prefix, i, "avoid", j)),
                    field=f"traits[{i}].avoid[{j}]",
                )
    return traits


@lru_cache(maxsize=1)
def _builtin() -> TraitTaxonomy:
    ref = resources.files("persafe.catalog") / "data" / "traits.json"
    return TraitTaxonomy(_parse_traits(json.loads(ref.read_text(encoding="utf-8")), str(ref)))


def builtin_traits(extra_file: str | Path | None = None) -> TraitTaxonomy:
    """The 20 SafeCRS traits, optionally extended with the traits of ``extra_file``.

    Raises:
        DataError: ``extra_file`` is invalid, or one of its traits reuses the id or name of a built-in
            trait (which would silently replace it).
    """
    tax = _builtin()
    if not extra_file:
        return tax
    return tax.extended(load_traits(extra_file, base=tax))
