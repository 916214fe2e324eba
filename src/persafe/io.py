"""Small I/O helpers: atomic writes and JSONL reading with errors that point at the line."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from persafe.errors import DataError

M = TypeVar("M", bound=BaseModel)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON."""
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    """Parse a JSON file.

    Raises:
        DataError: the file is missing or not valid JSON (the message names file and line).
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path=path, line=e.lineno) from None


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    Raises:
        DataError: a line is not a JSON object (the message names file and line).
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=path)
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path=path, line=n) from None
            if not isinstance(obj, dict):
                raise DataError(f"expected a JSON object, got {type(obj).__name__}", path=path, line=n)
            yield n, obj


def validate_record(model: type[M], obj: dict[str, Any], *, path: str | Path, line: int | None) -> M:
    """Validate one record, turning pydantic's error into a DataError naming file, line and field."""
    try:
        return model.model_validate(obj)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise DataError(err["msg"], path=path, line=line, field=field) from None


def read_jsonl_models(path: str | Path, model: type[M]) -> list[M]:
    """Read a JSONL file into validated pydantic models."""
    return [validate_record(model, obj, path=path, line=n) for n, obj in iter_jsonl(path)]


def write_jsonl(path: str | Path, records: list[BaseModel] | list[dict[str, Any]]) -> None:
    """Atomically write records (models or dicts) as JSONL."""
    lines = [
        r.model_dump_json(exclude_none=False) if isinstance(r, BaseModel) else json.dumps(r, ensure_ascii=False)
        for r in records
    ]
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
