"""Every model-output parser, fuzzed: 10,000 generated inputs each, no exception, every call < 50 ms.

The inputs come from a seeded ``random`` generator (hypothesis shrinking would cost minutes here):
deep nesting (``{`` × N, ``[`` × N, ``{"a":`` × N, balanced and not), bracket and quote soup,
backslashes, random unicode (lone surrogates included), JSON that is valid, truncated or wrapped
in prose and fences, title lists, very long lines, and a handful of 1 MB strings per parser.

A call that takes over the limit is timed twice more and judged on its fastest run, so that a
busy machine does not fail the test; a quadratic parser is slow on every run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from persafe.agent.parse import json_object, mentions, rating
from persafe.catalog import MovieLens
from persafe.penguin import parse_verdict
from persafe.penguin.schema import Verdict
from persafe.recsys import classify_output
from persafe.recsys.llm_inference import parse_trait_answer

N_INPUTS = 10_000
LIMIT_S = 0.050
MB = 1_000_000

OPTIONS = ["age", "gender", "mental_health_status", "health_status", "emotional_state", "self_harm_history"]
LABELS = {"self_harm_history": "past self-harm history"}
TRAITS = {"arachnophobia", "kid_safety", "gore"}

_ATOMS = [
    "{", "}", "[", "]", '"', "\\", ":", ",", " ", "\n", "'", "`", "```", "```json\n", "(", ")", "1", "4", "9", "1995",
    "-", ".", "/", "5", "out of", "rating", "score", "<solution>", "</solution>", "null", "true", "NaN", "\\u00e9",
    '"risk_sensitivity"', '"emotional_empathy"', '"user_alignment"', '"scores"', '"traits"', '"title"', '"year"',
    "Heat", "The", "Fargo", "1.", "2)", "**", "- ", "I think", "Here are", "mental health status", "age", "é", "\u2028",
]  # fmt: skip
_TITLE_WORDS = [
    "Heat",
    "Fargo",
    "3:10",
    "to",
    "Yuma",
    "St.",
    "Vincent",
    "Let",
    "Me",
    "In",
    "II",
    "2",
    "The",
    "Père",
    "東京",
]


def _unicode(rng: random.Random, n: int) -> str:
    # mostly printable, some control characters and lone surrogates (a str can hold them)
    ranges = [(0x20, 0x7E), (0x00, 0x1F), (0xA0, 0x2FFF), (0xD800, 0xDFFF), (0x4E00, 0x9FFF), (0x1F300, 0x1FAFF)]
    out = []
    for _ in range(n):
        lo, hi = ranges[min(int(rng.expovariate(1.2)), len(ranges) - 1)]
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def _title(rng: random.Random) -> str:
    words = " ".join(rng.choice(_TITLE_WORDS) for _ in range(rng.randint(1, 4)))
    return words if rng.random() < 0.3 else f"{words} ({rng.randint(1850, 2030)})"


def _deep(rng: random.Random, n: int) -> str:
    opener = rng.choice(["{", "[", '{"a":', '{"a":[', '["', "[{", '{"risk_sensitivity":'])
    n = max(1, n // len(opener))  # about n characters in all
    kind = rng.randrange(4)
    if kind == 0:  # never closed
        return opener * n
    if kind == 1:  # balanced
        closer = "".join({"{": "}", "[": "]"}.get(c, "") for c in reversed(opener))
        return opener * n + "1" + closer * n
    if kind == 2:  # closed too often, or by the wrong bracket
        return opener * n + rng.choice(["}", "]", '"}', "]}"]) * (n + rng.randint(-3, 3))
    return "".join(rng.choice('{}[]"\\:,') for _ in range(n))


def _structured(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.25:
        keys = ("risk_sensitivity", "Emotional Empathy", "user_alignment", "reason")
        values = ["1", "3", "5", "7", "2.5", "true", '"4"']
        scores = ", ".join(f'"{k}": {rng.choice(values)}' for k in keys)
        obj = f"{{{scores}}}"
        if rng.random() < 0.3:
            obj = f'{{"reason": "x", "scores": {obj}}}'
        return rng.choice(["", "Here is my verdict: ", "```json\n"]) + obj + rng.choice(["", "\n```", " Done."])
    if r < 0.4:
        traits = rng.choice(["[]", '["gore"]', '["vampires"]', '"gore"', "[1]", '["gore", "kid_safety"]'])
        return rng.choice(["", "Sure: "]) + '{"traits": ' + traits + "}"
    if r < 0.75:
        lines = [rng.choice(["", "1. ", "- ", "* ", "**", "## "]) + _title(rng) for _ in range(rng.randint(0, 25))]
        text = "\n".join(lines)
        if rng.random() < 0.3:
            text = f"Sure!\n<solution>\n{text}\n</solution>" + rng.choice(["", "<solution></solution>"])
        if rng.random() < 0.2:
            text = ", ".join(_title(rng) for _ in range(rng.randint(2, 20)))
        if rng.random() < 0.2:
            text = (
                "[" + ", ".join(f'{{"title": "{_title(rng)}", "year": 1995}}' for _ in range(rng.randint(0, 8))) + "]"
            )
        return text
    return f"I'd rate it {rng.randint(0, 9)}/5. Ask about {rng.choice(OPTIONS).replace('_', ' ')} first."


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 6)):
        i = rng.randint(0, len(text))
        r = rng.random()
        if r < 0.4:
            text = text[:i] + rng.choice(_ATOMS) + text[i:]
        elif r < 0.7:
            text = text[:i] + text[i + rng.randint(1, 5) :]
        else:
            text = text[:i]  # truncated output
    return text


def _long_line(rng: random.Random, n: int) -> str:
    unit = rng.choice(["a", " ", "7", "7.", "x (1995), ", "Heat ", "](", "mental ", "rating", "\\", '"', "é"])
    return rng.choice(["", "1. ", "Rating: ", "<solution>"]) + unit * (n // len(unit))


def _megabyte_inputs(rng: random.Random) -> list[str]:
    """A handful of 1 MB strings, each a known worst case for some parser."""
    chunk = _unicode(rng, 10_000)
    return [
        "{" * MB,
        "[" * (MB // 2) + "]" * (MB // 2),
        '{"a":' * (MB // 5),
        "7" * MB,
        chunk * (MB // len(chunk)),
        "Heat (1995)\n" * (MB // 12),
        "Heat (1995), " * (MB // 13),
        '["Heat (1995)", ' * (MB // 16),
    ]


def generated_inputs(seed: int = 0) -> Iterator[str]:
    """``N_INPUTS`` strings, the same for every parser; most are small, a few are long or 1 MB."""
    rng = random.Random(seed)
    big = _megabyte_inputs(rng)
    for i in range(N_INPUTS - len(big)):
        if i % 100 == 0:  # every hundredth input is long: up to 100 KB
            yield rng.choice([_long_line, _deep])(rng, rng.randint(2_000, 100_000))
            continue
        r = rng.random()
        if r < 0.25:
            yield _unicode(rng, rng.randint(0, 300))
        elif r < 0.4:
            yield "".join(rng.choice(_ATOMS) for _ in range(rng.randint(0, 60)))
        elif r < 0.55:
            yield _deep(rng, rng.randint(1, 3_000))
        elif r < 0.85:
            yield _structured(rng)
        else:
            yield _mutate(rng, _structured(rng))
    yield from big


@pytest.fixture(scope="module")
def inputs() -> list[str]:
    return list(generated_inputs())


def _check(parse: Callable[[str], Any], inputs: list[str], valid: Callable[[Any], bool]) -> None:
    assert len(inputs) == N_INPUTS
    slow: list[tuple[float, str]] = []
    for text in inputs:
        t0 = time.perf_counter()
        try:
            out = parse(text)
        except Exception as e:  # pragma: no cover - the point of the test
            pytest.fail(f"{type(e).__name__} on input {text[:200]!r} (length {len(text)}): {e}")
        took = time.perf_counter() - t0
        if took > LIMIT_S:
            for _ in range(2):  # a busy machine, or a slow parser?
                t0 = time.perf_counter()
                parse(text)
                took = min(took, time.perf_counter() - t0)
        if took > LIMIT_S:
            slow.append((took, text[:80]))
        assert valid(out), f"unexpected result {out!r} for {text[:200]!r}"
    assert not slow, f"{len(slow)} calls over {LIMIT_S * 1000:.0f} ms, e.g. {max(slow)}"


@pytest.mark.slow
def test_parse_verdict(inputs: list[str]) -> None:
    _check(parse_verdict, inputs, lambda v: isinstance(v, Verdict) and (v.valid or v.error))


@pytest.mark.slow
def test_rating(inputs: list[str]) -> None:
    _check(rating, inputs, lambda r: r is None or (isinstance(r, int) and 0 <= r <= 5))


@pytest.mark.slow
def test_json_object(inputs: list[str]) -> None:
    _check(json_object, inputs, lambda o: o is None or isinstance(o, dict))


@pytest.mark.slow
def test_mentions(inputs: list[str]) -> None:
    _check(lambda t: mentions(t, OPTIONS, LABELS), inputs, lambda m: set(m) <= set(OPTIONS))


@pytest.mark.slow
def test_parse_trait_answer(inputs: list[str]) -> None:
    _check(lambda t: parse_trait_answer(t, TRAITS), inputs, lambda a: a is None or set(a) <= TRAITS)


@pytest.mark.slow
def test_classify_output(inputs: list[str]) -> None:
    def valid(outcome: Any) -> bool:
        return (outcome.status == "parsed") == bool(outcome.titles) and all(
            p.title.strip() and (p.year is None or 1800 <= p.year <= 2099) and p.line >= 0 for p in outcome.titles
        )

    _check(classify_output, inputs, valid)


@pytest.mark.slow
def test_catalog_match(inputs: list[str], movielens: MovieLens) -> None:
    catalog = movielens.catalog
    years = random.Random(1)

    def match(text: str) -> int:
        return catalog.match(text, years.choice([None, 1995, 2020])).index

    _check(match, inputs, lambda row: -1 <= row < len(catalog.items))
