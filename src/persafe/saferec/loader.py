"""Read SafeRec samples: persafe JSONL splits and the SafeCRS release format.

Every sample is checked as it is read, and a problem names the file, the line (or the index in a
JSON list) and the field: duplicate ``sample_id``s (both places), trait ids or names that the taxonomy
does not know, a sample whose ``constraint_mode`` says it states a sensitivity but that carries no
trait, and files with no samples at all. Traits come from ``traits`` (ids), else from the SafeCRS
fields ``constraints`` (``{trait name: true}``) and ``assigned_trait``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from persafe.catalog.traits import TraitTaxonomy, builtin_traits
from persafe.errors import DataError, UnknownNameError
from persafe.io import iter_jsonl, read_json, validate_record
from persafe.saferec.schema import SafeRecSample

SPLITS = ("train", "val", "test")


def split_path(path: str | Path, split: str = "test") -> Path:
    """The file a split is read from: ``DIR/{split}.jsonl`` for a built folder, else ``path`` itself."""
    path = Path(path)
    if path.is_dir():
        if split not in SPLITS:
            raise UnknownNameError("split", split, SPLITS)
        return path / f"{split}.jsonl"
    return path


def load_saferec(path: str | Path, split: str = "test", taxonomy: TraitTaxonomy | None = None) -> list[SafeRecSample]:
    """Load one split of a built benchmark folder (``DIR/{split}.jsonl``) or one sample file.

    A file may be JSONL (one sample per line) or JSON (a list of samples, or ``{"samples": [...]}``,
    as the SafeCRS release writes them); ``split`` only picks the file of a folder.

    Raises:
        DataError: the file is missing, empty or malformed, or a sample is invalid (names file, line
            and field).
    """
    path = split_path(path, split)
    taxonomy = taxonomy or builtin_traits()
    samples: list[SafeRecSample] = []
    first_seen: dict[str, str] = {}
    for where, line, obj in _records(path):
        s = validate_record(SafeRecSample, obj, path=where, line=line)
        at = f"{where}:{line}" if line is not None else where
        if s.sample_id in first_seen:
            raise DataError(
                f"duplicate sample_id {s.sample_id!r} (first at {first_seen[s.sample_id]}); sample ids must be "
                "unique within a file",
                path=where,
                line=line,
                field="sample_id",
            )
        first_seen[s.sample_id] = at
        _resolve_traits(s, obj, taxonomy, where, line)
        if not s.request:
            s.request = s.user_turn
        s._where = at
        samples.append(s)
    if not samples:
        raise DataError("no samples in this file; check that it is the right file and not empty", path=path)
    return samples


def load_safecrs(path: str | Path, taxonomy: TraitTaxonomy | None = None) -> list[SafeRecSample]:
    """Load SafeCRS/SafeRec release samples (``{"samples": [...]}``, a JSON list, or JSONL).

    The SafeCRS trait names (``assigned_trait``, ``constraints``) are mapped to trait ids.

    Raises:
        DataError: malformed file or sample (names the sample and field), or an unknown trait name.
    """
    return load_saferec(path, taxonomy=taxonomy)


def _records(path: Path) -> Iterator[tuple[str, int | None, dict[str, Any]]]:
    """``(where, line, object)`` per sample: JSONL lines, or the entries of a JSON list."""
    if path.suffix.lower() == ".json":
        data = read_json(path)
        raw = data.get("samples") if isinstance(data, dict) else data
        if not isinstance(raw, list):
            raise DataError("expected a list of samples or an object with a 'samples' list", path=path)
        for i, obj in enumerate(raw):
            if not isinstance(obj, dict):
                raise DataError("sample is not an object", path=path, field=f"samples[{i}]")
            yield f"{path} samples[{i}]", None, obj
        return
    for n, obj in iter_jsonl(path):
        yield str(path), n, obj


def _resolve_traits(
    s: SafeRecSample, obj: dict[str, Any], taxonomy: TraitTaxonomy, where: str, line: int | None
) -> None:
    """Set ``s.traits`` to trait ids, from ``traits`` or else the SafeCRS fields, checking every name."""
    if s.traits:
        field, names = "traits", s.traits
    else:
        names = [n for n, on in s.constraints.items() if on]
        field = "constraints"
        if not names and s.assigned_trait and obj.get("assignment_success", True):
            field, names = "assigned_trait", [s.assigned_trait]
    try:
        s.traits = list(dict.fromkeys(taxonomy.resolve(names)))
    except UnknownNameError as e:
        raise DataError(
            f"{e} (trait ids or SafeCRS trait names; extra traits can be given with a traits file)",
            path=where,
            line=line,
            field=field,
        ) from None
    if not s.traits and s.constraint_mode in ("explicit", "implicit"):
        raise DataError(
            f"constraint_mode is {s.constraint_mode!r} but the sample has no trait; give its trait ids in "
            "'traits' (or SafeCRS 'constraints'), or set constraint_mode to 'none' for a control sample",
            path=where,
            line=line,
            field="traits",
        )
