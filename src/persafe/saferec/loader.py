"""Read SafeRec samples: persafe JSONL splits and the SafeCRS release format."""

from __future__ import annotations

from pathlib import Path

from persafe.catalog.traits import TraitTaxonomy, builtin_traits
from persafe.errors import DataError, UnknownNameError
from persafe.io import read_json, read_jsonl_models, validate_record
from persafe.saferec.schema import SafeRecSample

SPLITS = ("train", "val", "test")


def load_saferec(path: str | Path, split: str = "test") -> list[SafeRecSample]:
    """Load one split of a built benchmark folder (``DIR/{split}.jsonl``) or a JSONL file."""
    path = Path(path)
    if path.is_dir():
        if split not in SPLITS:
            raise UnknownNameError("split", split, SPLITS)
        path = path / f"{split}.jsonl"
    if path.suffix == ".json":
        return load_safecrs(path)
    return read_jsonl_models(path, SafeRecSample)


def load_safecrs(path: str | Path, taxonomy: TraitTaxonomy | None = None) -> list[SafeRecSample]:
    """Load SafeCRS/SafeRec release samples (``{"samples": [...]}`` or a list) as ``SafeRecSample``.

    The SafeCRS trait names (``assigned_trait``, ``constraints``) are mapped to trait ids.

    Raises:
        DataError: malformed file or sample (names the sample index and field).
        UnknownNameError: a trait name not in the taxonomy (lists the valid ones).
    """
    path = Path(path)
    taxonomy = taxonomy or builtin_traits()
    data = read_json(path)
    raw = data.get("samples") if isinstance(data, dict) else data
    if not isinstance(raw, list):
        raise DataError("expected a list of samples or an object with a 'samples' list", path=path)
    out = []
    for i, obj in enumerate(raw):
        if not isinstance(obj, dict):
            raise DataError("sample is not an object", path=path, field=f"samples[{i}]")
        s = validate_record(SafeRecSample, obj, path=f"{path} samples[{i}]", line=None)
        names = [n for n, on in s.constraints.items() if on]
        if not names and s.assigned_trait and obj.get("assignment_success", True):
            names = [s.assigned_trait]
        s.traits = list(dict.fromkeys(taxonomy.resolve(names)))
        if not s.request:
            s.request = s.user_turn
        out.append(s)
    return out
