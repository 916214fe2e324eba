"""Finding JSON in free text: order, fences, strings, stray quotes, depth, and the parsers built on it."""

from __future__ import annotations

import time

import pytest

from persafe.recsys.llm_inference import parse_trait_answer
from persafe.textjson import MAX_DEPTH, MAX_TOKENS, json_objects, json_values, objects_in


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('a {"x": 1} b [2, 3] c {"y": [4]}', [{"x": 1}, [2, 3], {"y": [4]}]),
        ("no json here, {not json} [nor this", []),
        ('{"x": 1', []),  # cut short
        ('{"s": "} ] { ["}', [{"s": "} ] { ["}]),  # brackets inside a string
        ('{"s": "a \\" } quote"}', [{"s": 'a " } quote'}]),  # an escaped quote
        ('{"broken": } {"ok": {"inner": 1}}', [{"ok": {"inner": 1}}]),
        ('{"outer": [1, 2, oops], "inner": {"a": 1}}', [{"a": 1}]),  # the valid child of a broken object
        ('[1, {"a": 2}, 3]', [[1, {"a": 2}, 3]]),
        ('it\'s {"a": 1} and "quoted" prose', [{"a": 1}]),  # quotes outside brackets mean nothing
        ('{"a": 1}}] {"b": 2}', [{"a": 1}, {"b": 2}]),  # stray closers
        ('[{"a": 1}}, {"b": 2}]', [{"a": 1}, {"b": 2}]),  # a wrong closer
        ('{"line": "one\ntwo"} {"c": 3}', [{"c": 3}]),  # JSON strings never span lines
        ('[oops "} {"a": 1}', [{"a": 1}]),  # a stray quote inside a bracket does not hide what follows
    ],
)
def test_json_values(text: str, want: list) -> None:
    assert json_values(text) == want


def test_fenced_values_can_come_first() -> None:
    text = 'prose {"p": 1}\n```json\n{"f": 1}\n```\nmore {"q": 1} ```\n[2]\n```'
    assert json_values(text) == [{"p": 1}, {"f": 1}, {"q": 1}, [2]]
    assert json_values(text, fenced_first=True) == [{"f": 1}, [2], {"p": 1}, {"q": 1}]


def test_objects_are_listed_outer_before_inner() -> None:
    assert list(objects_in([{"a": {"b": {}}}, {"c": [{"d": 1}]}])) == [
        {"a": {"b": {}}},
        {"b": {}},
        {},
        {"c": [{"d": 1}]},
        {"d": 1},
    ]
    assert json_objects('x [{"a": 1}] {"b": {"c": 2}}') == [{"a": 1}, {"b": {"c": 2}}, {"c": 2}]


def test_depth_is_bounded() -> None:
    deep = "[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10)
    (value,) = json_values(deep)  # the deepest part the decoder may take whole
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert depth == MAX_DEPTH - 1
    (value,) = json_values("[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH)  # exactly the limit: taken whole
    for _ in range(MAX_DEPTH):
        (value,) = value
    assert value == 1


@pytest.mark.parametrize(
    "text",
    [
        "{" * 1_000_000,
        "[" * 500_000 + "]" * 500_000,
        '{"a":' * 200_000,
        '["' * 300_000,
        "[]" * 500_000,
        "[" + '"\n' * 500_000,
        '{"a": ' * 3_000 + "1" + "}" * 3_000,
    ],
)
def test_never_raises_and_stays_linear(text: str) -> None:
    start = time.perf_counter()
    values = json_values(text, fenced_first=True)
    assert isinstance(values, list) and len(values) <= MAX_TOKENS
    assert time.perf_counter() - start < 1.0


def test_non_text_holds_no_json() -> None:
    assert json_values(None) == [] and json_objects(b'{"a": 1}') == []


def test_parse_trait_answer_on_hard_inputs() -> None:
    valid = {"arachnophobia", "kid_safety"}
    assert parse_trait_answer('{"note": "}"} then {"traits": ["kid_safety"]} and {"other": 1}', valid) == ["kid_safety"]
    assert parse_trait_answer('```json\n{"answer": {"traits": []}}\n```', valid) == []
    assert parse_trait_answer('{"traits": ["arachnophobia"]', valid) is None  # cut short
    assert parse_trait_answer('{"traits": ' + "[" * 5_000 + "]" * 5_000 + "}", valid) is None  # was RecursionError
    assert parse_trait_answer('{"traits":' * 50_000, valid) is None
    assert parse_trait_answer("[" * 50_000 + "]" * 50_000, valid) is None
    assert parse_trait_answer(None, valid) is None  # type: ignore[arg-type]
