"""persafe.io: UTF-8 reading with errors that name the line, and strict JSON writing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel

from persafe.errors import DataError
from persafe.io import (
    atomic_write_json,
    dumps_json,
    iter_jsonl,
    iter_lines,
    read_json,
    read_text,
    to_json_safe,
    write_jsonl,
    yaml_line,
)
from persafe.recsys.inference import load_lexicon
from persafe.saferec.phrases import load_phrase_bank

BOM = b"\xef\xbb\xbf"


def _strict_loads(text: str):
    """json.loads that fails on NaN / Infinity (which Python accepts by default)."""

    def refuse(name: str):
        raise AssertionError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# --- reading ------------------------------------------------------------------------------------


def test_read_text_drops_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(BOM + "héllo\n".encode())
    assert read_text(path) == "héllo\n"


def test_read_text_not_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"one\ntwo\nthr\xe9e\n")
    with pytest.raises(DataError) as ei:
        read_text(path)
    err = ei.value
    assert (err.path, err.line) == (path, 3)
    assert str(err) == f"{path}:3: not UTF-8 text (byte 0xe9 at column 4); save the file as UTF-8"
    assert "can't decode" not in str(err)


def test_read_text_with_bom_counts_lines_after_it(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(BOM + b"\xff\n")
    with pytest.raises(DataError, match=r"a.txt:1: not UTF-8 text \(byte 0xff at column 1\)"):
        read_text(path)


def test_read_text_missing_or_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.txt: file not found"):
        read_text(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="is a folder; expected a file"):
        read_text(tmp_path)
    with pytest.raises(DataError, match="file not found"):
        list(iter_lines(tmp_path / "nope.txt"))


def test_iter_lines_bom_crlf_and_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(BOM + b"a\r\nb\nc")
    assert list(iter_lines(path)) == [(1, "a\n"), (2, "b\n"), (3, "c")]
    path.write_bytes(b"a\nb\nc\n\x80d\n")
    lines = iter_lines(path)
    assert [next(lines) for _ in range(3)] == [(1, "a\n"), (2, "b\n"), (3, "c\n")]
    with pytest.raises(DataError, match=r"a.txt:4: not UTF-8 text \(byte 0x80 at column 1\); save the file as UTF-8"):
        next(lines)


def test_read_json_bom_and_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(BOM + b'{"a": 1}')
    assert read_json(path) == {"a": 1}  # refused before: "Unexpected UTF-8 BOM"
    path.write_bytes(b'{\n  "title": "Caf\xe9"\n}\n')
    with pytest.raises(DataError, match=r"a.json:2: not UTF-8 text \(byte 0xe9 at column 16\)"):
        read_json(path)


def test_iter_jsonl_bom_and_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(BOM + b'{"a": 1}\r\n\r\n{"a": 2}\n')
    assert list(iter_jsonl(path)) == [(1, {"a": 1}), (3, {"a": 2})]
    path.write_bytes(b'{"a": 1}\n{"a": "\xe9"}\n')
    with pytest.raises(DataError) as ei:
        list(iter_jsonl(path))
    assert ei.value.line == 2
    assert "save the file as UTF-8" in str(ei.value)


def test_user_phrase_banks_and_lexicons_are_read_as_utf8(tmp_path: Path) -> None:
    for loader in (load_phrase_bank, load_lexicon):
        path = tmp_path / "bank.json"
        path.write_bytes(b'{\n  "patterns": {"gore": ["gor\xe9"]}\n}\n')
        with pytest.raises(DataError, match=r"bank.json:2: not UTF-8 text"):
            loader(path)
    path = tmp_path / "lexicon.json"
    path.write_bytes(BOM + json.dumps({"patterns": {"gore": ["blood"]}}).encode())
    assert load_lexicon(path) == {"gore": ["blood"]}


def test_yaml_line() -> None:
    text = "a: 1\nb:\n  - x: 1\n  - y: 2\n    z: 3\n"
    assert yaml_line(text, ("a",)) == 1
    assert yaml_line(text, ("b", 1, "z")) == 5
    assert yaml_line(text, ("b", 1)) == 4
    assert yaml_line(text, ("b", 7)) == 2  # as far as the document goes
    assert yaml_line(text, ("nope",)) is None
    assert yaml_line('{"a": {\n "b": 2}}', ("a", "b")) == 2  # JSON is YAML
    assert yaml_line("a: [", ("a",)) is None
    assert yaml_line(None, ("a",)) is None


# --- writing strict JSON ------------------------------------------------------------------------

NESTED = {
    "nan": float("nan"),
    "inf": np.float64("inf"),
    "ninf": -float("inf"),
    "list": [1.0, np.nan, {"deep": (float("nan"), np.float32(0.5))}],
    "np": {"i": np.int64(3), "b": np.bool_(True), "arr": np.array([1.0, np.nan, np.inf]), "f": np.float32("nan")},
    "ok": {"x": 0.25, "s": "é", "n": None},
}
EXPECTED = {
    "nan": None,
    "inf": None,
    "ninf": None,
    "list": [1.0, None, {"deep": [None, 0.5]}],
    "np": {"i": 3, "b": True, "arr": [1.0, None, None], "f": None},
    "ok": {"x": 0.25, "s": "é", "n": None},
}


def test_to_json_safe_converts_numpy_and_non_finite() -> None:
    out = to_json_safe(NESTED)
    assert out == EXPECTED
    assert type(out["np"]["i"]) is int and type(out["np"]["b"]) is bool
    assert type(to_json_safe(np.float64(1.5))) is float
    assert to_json_safe({np.int64(1): 1, "s": {2, 1}}) == {1: 1, "s": [1, 2]}


def test_atomic_write_json_is_strict(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    atomic_write_json(path, NESTED)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert _strict_loads(text) == EXPECTED
    with pytest.raises(ValueError):  # the encoder itself refuses NaN: nothing slips through
        json.dumps(float("nan"), allow_nan=False)
    assert dumps_json([float("nan")]) == "[null]"


class _Row(BaseModel):
    x: float
    y: list[float]


def test_write_jsonl_is_strict(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [NESTED, {"a": [np.nan]}])
    rows = [_strict_loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows == [EXPECTED, {"a": [None]}]
    write_jsonl(path, [_Row(x=float("nan"), y=[1.0, float("inf")])])
    assert _strict_loads(path.read_text(encoding="utf-8")) == {"x": None, "y": [1.0, None]}
