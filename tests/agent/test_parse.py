"""Reading mentions, JSON objects and ratings from chat-model answers: formats, and no blow-ups."""

from __future__ import annotations

import time

import pytest

from persafe.agent.parse import json_object, label_of, mentions, rating

OPTIONS = ["age", "mental_health_status", "health_status", "self_harm_history"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Ask about Mental Health Status, then age.", ["mental_health_status", "age"]),
        ("mental_health_status", ["mental_health_status"]),
        ("mental-health   status", ["mental_health_status"]),
        ("health status first, then mental health status", ["health_status", "mental_health_status"]),
        ("AGE", ["age"]),
        ("page, stage, teenage", []),  # only whole words count
        ("Self harm history, age and age again", ["self_harm_history", "age"]),
        ("2", ["mental_health_status"]),  # an option number
        ("3. because", ["health_status"]),
        ("9", []),
        ("The 2 of them", []),
        ("", []),
    ],
)
def test_mentions(text: str, want: list[str]) -> None:
    assert mentions(text, OPTIONS) == want


def test_mentions_by_label() -> None:
    labels = {"self_harm_history": "past self-harm"}
    assert label_of("self_harm_history", labels) == "past self-harm"
    assert mentions("Any past self-harm?", OPTIONS, labels) == ["self_harm_history"]
    assert mentions("anything", [], labels) == []
    assert mentions(None, OPTIONS) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('{"age": 0.7}', {"age": 0.7}),
        ('Weights:\n```json\n{"age": 0.7, "gender": 0.3}\n```', {"age": 0.7, "gender": 0.3}),
        ('{"reason": "x", oops} {"age": 1}', {"age": 1}),
        ('[{"age": 1}]', {"age": 1}),
        ('{"note": "a } in a string", "age": 2}', {"note": "a } in a string", "age": 2}),
        ("no json {here}", None),
        ('{"age": 1', None),
        ("", None),
    ],
)
def test_json_object(text: str, want: dict | None) -> None:
    assert json_object(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("5", 5),
        ("Completeness: 3/5", 3),
        ('{"rating": 2}', 2),
        ('{"sufficient": true, "rating": 4}', 4),  # a boolean is no rating
        ("I'd rate it 4 out of 5", 4),
        ("Score - 2.6", 3),
        ("4.5/5", 4),
        ("12 out of 20", None),
        ("seven", None),
        ("7" * 100_000 + "/5", None),
    ],
)
def test_rating(text: str, want: int | None) -> None:
    assert rating(text) == want


@pytest.mark.parametrize(
    "text",
    ["{" * 20_000, "[" * 20_000, '{"a":' * 20_000, "[" * 5_000 + "]" * 5_000, '{"a": ' * 3_000 + "1" + "}" * 3_000],
)
def test_deep_nesting_neither_raises_nor_crawls(text: str) -> None:
    start = time.perf_counter()
    assert rating(text) is None or isinstance(rating(text), int)
    json_object(text)
    mentions(text, OPTIONS)
    assert time.perf_counter() - start < 1.0  # before: 7.9 s for 20,000 "{" (quadratic)


def test_long_texts_are_read_in_linear_time() -> None:
    text = "mental health status and age " * 14_000  # 400 KB; before: 9.6 s
    start = time.perf_counter()
    assert mentions(text, OPTIONS) == ["mental_health_status", "age"]
    assert time.perf_counter() - start < 1.0
