"""Read scenario files in three shapes: the PENGUIN release (flat objects with snake_case attribute keys),
the profile format (full-name keys such as ``Age`` or ``Past Self-Harm History``), and persafe's own
JSONL (``Scenario`` records). Unknown values ("not given", "N/A", empty, null) become ``None``.

The release is one file for all seven domains without a ``domain`` field: a record's domain is derived
from its ``scenario``, which is the lowercase domain for real records and a leaf of the official scenario
hierarchy (``data/scenario_hierarchy.json``) for synthetic ones.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from persafe.errors import DataError
from persafe.io import iter_jsonl, write_jsonl
from persafe.penguin.schema import ATTRIBUTE_LABELS, ATTRIBUTES, DOMAINS, Scenario
from persafe.penguin.values import AGES, VALUES

UNKNOWN_VALUES = frozenset(
    {"", "not given", "unknown", "n/a", "na", "none given", "not specified", "not provided", "not mentioned", "-"}
    | {"null", "unspecified", "not stated", "?"}
)
"""Values (compared lower-case) that mean "not given"."""
_NONE_IS_A_VALUE = frozenset({"mental_health_status", "self_harm_history"})
"""Attributes whose value set contains "None" (no condition); elsewhere "none" means unknown."""
_DOMAIN_SYNONYMS = {
    "academic": "education",
    "academics": "education",
    "study": "education",
    "relationships": "relationship",
    "family": "relationship",
    "medical": "health",
    "mental health": "health",
    "finance": "financial",
    "finances": "financial",
    "money": "financial",
    "work": "career",
    "job": "career",
    "life transition": "life",
    "daily life": "life",
    "social life": "social",
}
_SOURCE_SYNONYMS = {"real": "real", "reddit": "real", "human": "real", "synthetic": "synthetic", "llm": "synthetic"} | {
    "generated": "generated"
}


def _norm_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", key.strip().lower()).strip("_")


_KEYS: dict[str, str] = {a: a for a in ATTRIBUTES} | {_norm_key(label): a for a, label in ATTRIBUTE_LABELS.items()}
_KEYS |= {"self_harm": "self_harm_history", "mental_health": "mental_health_status", "education": "education_level"}
_KEYS |= {"emotion": "emotional_state", "marital": "marital_status", "economic": "economic_status"}
_KEYS |= {"health": "health_status", "occupation": "profession", "job": "profession"}


def normalize_value(attribute: str, value: Any) -> str | None:
    """One attribute value as persafe stores it.

    Unknown markers become ``None``; a value matching a known one up to case takes its spelling; an age
    given as a number becomes its band; other free text is kept as written.

    Example:
        >>> normalize_value("age", 23), normalize_value("gender", "female"), normalize_value("profession", "not given")
        ('18-24', 'Female', None)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        value = "Yes" if value else "None"
    text = str(value).strip()
    low = text.lower()
    if low in UNKNOWN_VALUES or (low == "none" and attribute not in _NONE_IS_A_VALUE):
        return None
    if attribute == "self_harm_history" and low in {"no", "false"}:
        return "None"
    if attribute == "age" and re.fullmatch(r"\d{1,3}", text):
        years = int(text)
        return next((band for band, top in zip(AGES, (24, 34, 44, 54, 200), strict=True) if years <= top), text)
    for known in VALUES.get(attribute, ()):
        if known.lower() == low or known.replace("-", "–").lower() == low:
            return known
    return text


DomainId = Literal["life", "education", "relationship", "health", "social", "financial", "career"]


class ScenarioHierarchy(BaseModel):
    """PENGUIN's scenario hierarchy (category → subcategory → leaves) and each category's domain."""

    model_config = ConfigDict(frozen=True)

    source: dict[str, str]
    """Where the hierarchy was copied from (repository, path, commit)."""
    domains: dict[str, DomainId]
    """Category → persafe domain id."""
    hierarchy: dict[str, dict[str, tuple[str, ...]]]
    """Category → subcategory → leaf scenario names, in the authors' order."""

    @model_validator(mode="after")
    def _every_category_has_a_domain(self) -> ScenarioHierarchy:
        if set(self.domains) != set(self.hierarchy):
            raise ValueError("'domains' must map exactly the categories of 'hierarchy'")
        return self

    def leaves(self) -> dict[str, str]:
        """Every leaf scenario name → its domain, in the authors' order."""
        return {
            leaf: self.domains[cat]
            for cat, subs in self.hierarchy.items()
            for leaves in subs.values()
            for leaf in leaves
        }

    def names(self) -> dict[str, str]:
        """Every category, subcategory and leaf name → its domain."""
        out = {cat: self.domains[cat] for cat in self.hierarchy}
        out |= {sub: self.domains[cat] for cat, subs in self.hierarchy.items() for sub in subs}
        return out | self.leaves()


@functools.cache
def scenario_hierarchy() -> ScenarioHierarchy:
    """The hierarchy shipped in ``persafe/penguin/data/scenario_hierarchy.json``."""
    text = resources.files("persafe.penguin").joinpath("data/scenario_hierarchy.json").read_text(encoding="utf-8")
    return ScenarioHierarchy.model_validate_json(text)


def _squash(text: str) -> str:
    """``text`` without case, whitespace or punctuation (``"Breakup / divorce"`` → ``"breakupdivorce"``)."""
    return re.sub(r"[^a-z0-9]+", "", text.casefold())


def _spaced(text: str) -> str:
    """``text`` lower-case with runs of other characters as one space (for fuzzy matching)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


@functools.cache
def _scenario_index() -> dict[str, tuple[str, str | None]]:
    """Squashed name → ``(domain, official spelling)``; the spelling is ``None`` for domain names."""
    index: dict[str, tuple[str, str | None]] = {}
    entries = [(name, (dom, None)) for name, dom in ({d: d for d in DOMAINS} | _DOMAIN_SYNONYMS).items()]
    entries += [(name, (dom, name)) for name, dom in scenario_hierarchy().names().items()]
    for name, hit in entries:
        known = index.setdefault(_squash(name), hit)
        if known[0] != hit[0]:  # a packaging error, not a user's: the shipped data is inconsistent
            raise RuntimeError(f"scenario name {name!r} maps to both {known[0]} and {hit[0]}")
    return index


def match_scenario(text: str) -> tuple[str, str] | None:
    """The domain a ``scenario`` value names, and the scenario text to keep.

    A domain name (or synonym) gives that domain, the text kept as written; a category, subcategory or
    leaf of the scenario hierarchy gives its category's domain, the text in the official spelling.
    Matching ignores case, whitespace and punctuation.

    Returns:
        ``(domain, scenario_text)``, or ``None`` when ``text`` names neither.

    Example:
        >>> match_scenario("breakup / divorce"), match_scenario("education"), match_scenario("a bad week")
        (('relationship', 'Breakup/Divorce'), ('education', 'education'), None)
    """
    hit = _scenario_index().get(_squash(text))
    return None if hit is None else (hit[0], hit[1] or text.strip())


def nearest_scenarios(text: str, n: int = 3) -> list[str]:
    """Up to ``n`` known leaves (or domain names) closest to ``text``, best first."""
    known = {_spaced(name): name for name in (*DOMAINS, *scenario_hierarchy().leaves())}
    return [known[m] for m in difflib.get_close_matches(_spaced(text), known, n=n, cutoff=0.6)]


def _domain(value: Any, where: dict[str, Any]) -> str:
    """A record's ``domain``/``category`` value (a domain, synonym or hierarchy name) as a domain id."""
    hit = match_scenario(str(value))
    if hit is None:
        raise DataError(f"unknown domain {value!r}; valid: {', '.join(DOMAINS)}", field="domain", **where)
    return hit[0]


def _fallback_domain(domain: str | None, stem: str, path: str | Path | None = None) -> str | None:
    """The fallback domain: ``domain`` when given (checked), else the file stem when it names a domain."""
    if domain is None or not domain.strip():
        low = _DOMAIN_SYNONYMS.get(stem.lower(), stem.lower())
        return low if low in DOMAINS else None
    hit = match_scenario(domain)
    if hit is None:
        raise DataError(
            f"unknown fallback domain {domain!r} (domain= / --domain); valid: {', '.join(DOMAINS)}", path=path
        )
    return hit[0]


def _derived_domain(fields: dict[str, Any], index: int, fallback: str | None, where: dict[str, Any]) -> tuple[str, str]:
    """``(domain, scenario text)`` of a record: its ``domain`` field, else its ``scenario``, else ``fallback``."""
    text = str(fields.get("scenario") or "").strip()
    explicit = fields.get("domain") or fields.get("category")
    if explicit is not None and str(explicit).strip():
        return _domain(explicit, where), text
    if text and (hit := match_scenario(text)) is not None:
        return hit
    if fallback is not None:
        return fallback, text
    if not text:
        raise DataError(
            f"record {index}: no domain: add a 'domain' field, name the file after a domain (e.g. health.json) "
            "or pass domain= (CLI: --domain)",
            **where,
        )
    near = nearest_scenarios(text)
    hint = f"nearest known: {', '.join(map(repr, near))}" if near else "no known scenario is close"
    raise DataError(
        f"record {index}: cannot derive a domain from scenario {text!r}: it is neither a domain "
        f"({', '.join(DOMAINS)}) nor a category, subcategory or leaf of PENGUIN's scenario hierarchy ({hint}); "
        "fix the spelling, add a 'domain' field, or pass domain= (CLI: --domain) as the fallback for such records",
        field="scenario",
        **where,
    )


def record_to_scenario(
    obj: dict[str, Any], index: int, *, stem: str, domain: str | None = None, where: dict[str, Any] | None = None
) -> Scenario:
    """One released-format, profile-format or persafe record as a ``Scenario``.

    Args:
        obj: the record.
        index: its position in the file (for a generated id).
        stem: the file's stem (id prefix; also the fallback domain when it names one).
        domain: the fallback domain of records whose domain cannot be derived (no ``domain`` field and a
            ``scenario`` that names no domain and no part of the scenario hierarchy).
        where: ``path``/``line`` for error messages.

    Raises:
        DataError: a field is missing or invalid, or the domain cannot be derived and there is no fallback.
    """
    where = where or {}
    if isinstance(obj.get("profile"), dict) and "scenario_id" in obj:  # persafe's own format
        try:
            return Scenario.model_validate(obj)
        except ValidationError as e:
            err = e.errors()[0]
            raise DataError(err["msg"], field=".".join(str(p) for p in err["loc"]), **where) from None
    flat = dict(obj)
    for nested in ("profile", "attributes", "user_profile"):
        if isinstance(flat.get(nested), dict):
            flat |= flat.pop(nested)
    fields = {_norm_key(k): v for k, v in flat.items()}
    query = fields.get("query") or fields.get("question") or fields.get("user_query")
    if not isinstance(query, str) or not query.strip():
        raise DataError("missing or empty 'query'", field="query", **where)
    profile = {_KEYS[k]: normalize_value(_KEYS[k], v) for k, v in fields.items() if k in _KEYS}
    source = str(fields.get("source") or "synthetic").strip().lower()
    if source not in _SOURCE_SYNONYMS:
        raise DataError(f"unknown source {source!r}; valid: real, synthetic, generated", field="source", **where)
    derived, text = _derived_domain(fields, index, _fallback_domain(domain, stem), where)
    return Scenario(
        scenario_id=str(fields.get("scenario_id") or fields.get("id") or f"{stem}-{index:05d}"),
        domain=derived,  # type: ignore[arg-type]
        source=_SOURCE_SYNONYMS[source],  # type: ignore[arg-type]
        scenario=text,
        query=query.strip(),
        profile=profile,
    )


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
    """``(index, record, where)`` for a JSONL file or a JSON array (or ``{"scenarios": [...]}``)."""
    if path.suffix == ".jsonl":
        for i, (line, obj) in enumerate(iter_jsonl(path)):
            yield i, obj, {"path": path, "line": line}
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path=path, line=e.lineno) from None
    if isinstance(data, dict):
        data = next((data[k] for k in ("scenarios", "data", "items") if isinstance(data.get(k), list)), [data])
    if not isinstance(data, list):
        raise DataError("expected a JSON array of scenario objects", path=path)
    for i, obj in enumerate(data):
        if not isinstance(obj, dict):
            raise DataError(f"item {i} is a {type(obj).__name__}, expected an object", path=path)
        yield i, obj, {"path": f"{path}[{i}]"}


def load_scenarios(path: str | Path, domain: str | None = None) -> list[Scenario]:
    """Read a scenario file, detecting its shape per record.

    Args:
        path: ``.jsonl`` (one object per line) or ``.json`` (an array, or an object with a
            ``scenarios``/``data`` array).
        domain: the fallback domain, used only for records whose domain cannot be derived (default: the
            file name when it names a domain, e.g. ``health.json``). A record's own ``domain`` field comes
            first, then its ``scenario`` when that is a domain name (the release's real records) or a
            category, subcategory or leaf of ``scenario_hierarchy()`` (its synthetic records).

    Returns:
        The scenarios, in file order.

    Raises:
        DataError: a record is malformed (the message names file, line or item, and field), or two
            records share an id.

    Example:
        >>> load_scenarios("penguin.json")  # the release, all seven domains  # doctest: +SKIP
    """
    path = Path(path)
    _fallback_domain(domain, path.stem, path)  # a bad domain= fails even when no record needs it
    out, seen = [], set()
    for i, obj, where in _records(path):
        s = record_to_scenario(obj, i, stem=path.stem, domain=domain, where=where)
        if s.scenario_id in seen:
            raise DataError(f"duplicate scenario_id {s.scenario_id!r}", field="scenario_id", **where)
        seen.add(s.scenario_id)
        out.append(s)
    return out


def write_scenarios(path: str | Path, scenarios: list[Scenario]) -> None:
    """Atomically write scenarios as persafe JSONL (read back by ``load_scenarios``)."""
    write_jsonl(path, scenarios)  # type: ignore[arg-type]


def subsample(scenarios: list[Scenario], n: int | None) -> list[Scenario]:
    """The first ``n`` scenarios taken round-robin over domains (so a small ``n`` covers every domain)."""
    if n is None or n >= len(scenarios):
        return list(scenarios)
    queues = {d: [s for s in scenarios if s.domain == d] for d in DOMAINS}
    out: list[Scenario] = []
    while len(out) < n:
        for d in DOMAINS:
            if queues[d] and len(out) < n:
                out.append(queues[d].pop(0))
    return out
