"""Small I/O helpers: UTF-8 text reading, atomic writes of strict JSON, and JSONL reading.

Every reader accepts a UTF-8 byte-order mark and turns a decoding error into a :class:`DataError`
that names the file and the line; every JSON writer writes strict JSON (NaN and infinities as
``null``).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from persafe.errors import DataError

M = TypeVar("M", bound=BaseModel)

_BOM = b"\xef\xbb\xbf"


def _decode_error(path: Path, data: bytes, err: UnicodeDecodeError, first_line: int = 1) -> DataError:
    """A DataError naming the line (and byte column) where ``data`` stops being UTF-8."""
    before = data[: err.start]
    line = first_line + before.count(b"\n")
    column = err.start - (before.rfind(b"\n") + 1) + 1
    bad = data[err.start : err.start + 1].hex()
    return DataError(f"not UTF-8 text (byte 0x{bad} at column {column}); save the file as UTF-8", path=path, line=line)


def _open_binary(path: Path) -> BinaryIO:
    """Open a file for reading, turning the usual failures into errors that name the file."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except IsADirectoryError:
        raise DataError("is a folder; expected a file", path=path) from None
    except PermissionError:
        raise DataError("permission denied; make the file readable", path=path) from None


def _read_bytes(path: Path) -> bytes:
    with _open_binary(path) as f:
        return f.read()


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file (a leading byte-order mark is accepted and dropped).

    Raises:
        DataError: the file is missing, or is not UTF-8 (the message names the line and says how to fix it).
    """
    path = Path(path)
    data = _read_bytes(path)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _decode_error(path, data, e) from None


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` for each line of a UTF-8 text file, each ending in ``"\\n"`` (but the last).

    Reads the file as it goes (for large tables); a leading byte-order mark is dropped.

    Raises:
        DataError: the file is missing, or a line is not UTF-8 (the message names that line).
    """
    path = Path(path)
    with _open_binary(path) as f:
        for n, raw in enumerate(f, 1):
            if n == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if raw.endswith(b"\r\n"):  # as text mode reads it: one "\n" ends every line
                raw = raw[:-2] + b"\n"
            try:
                yield n, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise _decode_error(path, raw, e, first_line=n) from None


def yaml_line(text: str | None, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the entry at ``loc`` (keys and list indices) in a YAML or JSON document.

    Follows ``loc`` as far as the document goes and returns the line of the last key or list entry
    reached (for a mapping key, the line of the key); ``None`` when the text does not parse as YAML.
    """
    if text is None:
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(key):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def to_json_safe(obj: Any) -> Any:
    """A copy of ``obj`` that strict JSON can hold.

    NaN and ±infinity become ``None``; numpy scalars and arrays become Python numbers and lists; tuples
    and sets become lists; pydantic models become dicts. Recurses through dicts and sequences; other
    objects are left for the JSON encoder (which writes them with ``str``).
    """
    if isinstance(obj, float):  # also np.float64, a float subclass
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, bool | int | str) or obj is None:
        return obj.item() if isinstance(obj, np.generic) else obj
    if isinstance(obj, np.generic):
        return to_json_safe(obj.item())
    if isinstance(obj, np.ndarray):
        return to_json_safe(obj.tolist())
    if isinstance(obj, BaseModel):
        return to_json_safe(obj.model_dump())
    if isinstance(obj, Mapping):
        return {_json_key(k): to_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json_safe(v) for v in obj]
    if isinstance(obj, set | frozenset):
        items = [to_json_safe(v) for v in obj]
        try:
            return sorted(items)
        except TypeError:
            return items
    return obj


def _json_key(k: Any) -> Any:
    if isinstance(k, np.generic):
        k = k.item()
    if isinstance(k, float) and not math.isfinite(k):
        return str(k)
    return k if isinstance(k, str | int | float | bool) or k is None else str(k)


def dumps_json(data: Any, *, indent: int | None = None) -> str:
    """Serialize ``data`` as strict JSON (see :func:`to_json_safe`); never writes ``NaN`` or ``Infinity``."""
    return json.dumps(to_json_safe(data), indent=indent, ensure_ascii=False, default=str, allow_nan=False)


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
    """Atomically write ``data`` as indented strict JSON (NaN and infinities as ``null``)."""
    atomic_write_text(path, dumps_json(data, indent=2) + "\n")


def read_json(path: str | Path) -> Any:
    """Parse a JSON file.

    Raises:
        DataError: the file is missing, not UTF-8 or not valid JSON (the message names file and line).
    """
    path = Path(path)
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON ({e.msg} at column {e.colno})", path=path, line=e.lineno) from None


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    Raises:
        DataError: the file is missing, or a line is not UTF-8 or not a JSON object (the message names file
            and line).
    """
    path = Path(path)
    for n, line in iter_lines(path):
        if not line.strip():
            continue
        yield n, parse_jsonl_line(line, path=path, line=n)


def parse_jsonl_line(text: str, *, path: str | Path, line: int) -> dict[str, Any]:
    """Parse one JSONL line that must hold a JSON object.

    Raises:
        DataError: the line is not valid JSON or not an object (names file and line).
    """
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(
            f"invalid JSON ({e.msg} at column {e.colno}); each line must be one JSON object", path=path, line=line
        ) from None
    if not isinstance(obj, dict):
        raise DataError(f"expected a JSON object, got {type(obj).__name__}", path=path, line=line)
    return obj


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
    """Atomically write records (models or dicts) as JSONL, one strict-JSON object per line."""
    lines = [r.model_dump_json(exclude_none=False) if isinstance(r, BaseModel) else dumps_json(r) for r in records]
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
