"""The generator: reproducible, balanced, and faithful to the dependency rules of PENGUIN."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from persafe.penguin import DOMAINS, VALUES, generate_scenarios, query_bank, sample_profile
from persafe.penguin.generator import QueryEntry


@pytest.fixture(scope="module")
def profiles() -> list[dict[str, str]]:
    """2,000 profiles drawn without any scenario prior."""
    rng = np.random.default_rng(11)
    return [sample_profile(rng) for _ in range(2000)]


@pytest.fixture(scope="module")
def scenarios():
    """2,000 generated scenarios (query priors and risk conditioning included)."""
    return generate_scenarios(2000, seed=5)


def _share(rows: list[dict[str, str]], given: dict[str, set[str]], event: dict[str, set[str]]) -> float:
    """Share of rows meeting ``event`` among those meeting ``given`` (attribute → allowed values)."""
    sel = [r for r in rows if all(r[a] in v for a, v in given.items())]
    assert len(sel) >= 20, "too few rows to estimate a conditional share"
    return sum(all(r[a] in v for a, v in event.items()) for r in sel) / len(sel)


def test_default_size_balance_and_reproducibility() -> None:
    default = generate_scenarios()
    assert len(default) == 700 and set(Counter(s.domain for s in default).values()) == {100}
    assert len({s.scenario_id for s in default}) == 700
    a, b = generate_scenarios(71, seed=1), generate_scenarios(71, seed=1)
    assert a == b and a != generate_scenarios(71, seed=2)
    counts = Counter(s.domain for s in a).values()
    assert max(counts) - min(counts) <= 1


@pytest.mark.parametrize("source", ["profiles", "scenarios"])
def test_hard_rules(source: str, request: pytest.FixtureRequest) -> None:
    rows = request.getfixturevalue(source)
    rows = [r.profile if hasattr(r, "profile") else r for r in rows]
    for p in rows:
        assert all(p[a] in VALUES[a] for a in VALUES)
        if p["age"] == "18-24":
            assert p["education_level"] != "PhD"
            assert p["profession"] not in {"Doctor", "Lawyer", "Retired"}
        if p["self_harm_history"] == "Yes":  # no query of the built-in banks states self-harm
            assert p["mental_health_status"] != "None"
        if p["profession"] == "Retired":
            assert p["age"] == "55+"
        if p["education_level"] == "High school":
            assert p["profession"] not in {"Doctor", "Lawyer", "Teacher"}


def test_conditional_dependencies(profiles: list[dict[str, str]]) -> None:
    harm = {"self_harm_history": {"Yes"}}
    severe, mild = {"mental_health_status": {"Severe depression"}}, {"mental_health_status": {"Mild depression"}}
    assert _share(profiles, severe, harm) > 2 * _share(profiles, mild, harm)
    low = {"emotional_state": {"Despair", "Depression"}}
    assert _share(profiles, severe, low) > 3 * _share(profiles, {"mental_health_status": {"None"}}, low)
    stable = {"economic_status": {"Stable"}}
    assert _share(profiles, {"marital_status": {"Married"}}, stable) > _share(
        profiles, {"marital_status": {"Divorced"}}, stable
    )
    ill = {"health_status": {"Chronic disease", "Serious illness"}}
    assert _share(profiles, {"age": {"55+"}}, ill) > 2 * _share(profiles, {"age": {"18-24"}}, ill)
    student = {"profession": {"Student"}}
    assert _share(profiles, {"age": {"18-24"}}, student) > 5 * _share(profiles, {"age": {"35-44"}}, student)


def test_economic_status_depends_on_profession(scenarios) -> None:
    rows = [s.profile for s in scenarios]
    hard = {"economic_status": {"Difficult", "Severe difficulty"}}
    assert _share(rows, {"profession": {"Unemployed"}}, hard) > 0.6
    assert _share(rows, {"profession": {"Doctor", "Lawyer"}}, hard) < 0.25


def test_a_stated_value_overrides_the_rules() -> None:
    entry = QueryEntry(
        id="t-1", domain="life", query="q", situation="s", risky_for=("self_harm_history=Yes",),
        states={"self_harm_history": "Yes"},
    )  # fmt: skip
    rng = np.random.default_rng(0)
    drawn = [sample_profile(rng, entry.prior, entry.states) for _ in range(300)]
    assert all(p["self_harm_history"] == "Yes" for p in drawn)
    assert any(p["mental_health_status"] == "None" for p in drawn)  # the "unless stated" exception


def test_query_banks_and_risk_factors(scenarios) -> None:
    bank = query_bank()
    assert len({e.id for e in bank}) == len(bank)
    per_domain = Counter(e.domain for e in bank)
    assert set(per_domain) == set(DOMAINS) and min(per_domain.values()) >= 15
    for s in scenarios:
        for factor in s.risk_factors:
            attr, _, value = factor.partition("=")
            assert s.profile[attr] == value
        assert "{" not in s.scenario and s.scenario.endswith(".")
    assert sum(bool(s.risk_factors) for s in scenarios) / len(scenarios) > 0.6
    unconditioned = generate_scenarios(700, seed=5, risky_share=0.0)
    assert sum(bool(s.risk_factors) for s in unconditioned) < sum(bool(s.risk_factors) for s in scenarios[:700])


def test_bad_risk_condition_is_rejected() -> None:
    with pytest.raises(ValueError, match="bad risk condition"):
        QueryEntry(id="x", domain="life", query="q", situation="s", risky_for=("age=17",))
