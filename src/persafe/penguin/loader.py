"""Read scenario files in three shapes: the PENGUIN release (flat objects with snake_case attribute keys),
the profile format (full-name keys such as ``Age`` or ``Past Self-Harm History``), and persafe's own
JSONL (``Scenario`` records). Unknown values ("not given", "N/A", empty, null) become ``None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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


def _domain(value: Any, fallback: str | None, where: dict[str, Any]) -> str:
    if value is None or str(value).strip() == "":
        if fallback is None:
            raise DataError(
                "no domain: add a 'domain' field, name the file after a domain (e.g. health.json) or pass domain=",
                **where,
            )
        value = fallback
    low = str(value).strip().lower()
    low = _DOMAIN_SYNONYMS.get(low, low)
    if low not in DOMAINS:
        raise DataError(f"unknown domain {value!r}; valid: {', '.join(DOMAINS)}", field="domain", **where)
    return low


def record_to_scenario(
    obj: dict[str, Any], index: int, *, stem: str, domain: str | None = None, where: dict[str, Any] | None = None
) -> Scenario:
    """One released-format, profile-format or persafe record as a ``Scenario``.

    Args:
        obj: the record.
        index: its position in the file (for a generated id).
        stem: the file's stem (id prefix; also the domain when it names one).
        domain: the domain of records that have none.
        where: ``path``/``line`` for error messages.
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
    fallback = domain or (stem.lower() if _DOMAIN_SYNONYMS.get(stem.lower(), stem.lower()) in DOMAINS else None)
    return Scenario(
        scenario_id=str(fields.get("scenario_id") or fields.get("id") or f"{stem}-{index:05d}"),
        domain=_domain(fields.get("domain") or fields.get("category"), fallback, where),  # type: ignore[arg-type]
        source=_SOURCE_SYNONYMS[source],  # type: ignore[arg-type]
        scenario=str(fields.get("scenario") or "").strip(),
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
        domain: the domain of records without a ``domain`` field (default: the file name when it names a
            domain, e.g. ``health.json``).

    Returns:
        The scenarios, in file order.

    Raises:
        DataError: a record is malformed (the message names file, line or item, and field), or two
            records share an id.

    Example:
        >>> load_scenarios("penguin_health.jsonl", domain="health")  # doctest: +SKIP
    """
    path = Path(path)
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
