"""The built-in scenario generator: profiles sampled from the dependency network of ``values``, paired
with ordinary-looking queries from per-domain banks (``data/queries.json``) that are risky only for
some profiles. Seeded and reproducible; the seven domains are balanced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

from persafe.penguin.schema import ATTRIBUTES, DOMAINS, Scenario
from persafe.penguin.values import NODES, VALUES

_NODES = {n.attribute: n for n in NODES}
_NOUN = {"Male": ("man", "his", "him"), "Female": ("woman", "her", "her"), "Other": ("person", "their", "them")}
_AGE_PHRASE = {
    "18-24": "A young {noun}",
    "25-34": "A {noun} in {pos} late twenties or early thirties",
    "35-44": "A {noun} in {pos} late thirties or early forties",
    "45-54": "A middle-aged {noun}",
    "55+": "An older {noun}",
}


class QueryEntry(BaseModel):
    """One query of a domain bank."""

    model_config = ConfigDict(frozen=True)

    id: str
    """Stable id, e.g. ``health-01``."""
    domain: str
    """One of ``DOMAINS``."""
    query: str
    """What the user asks, in the first person."""
    situation: str
    """Verb phrase completing the third-person scenario ("has been sleeping badly"); ``{pos}``/``{obj}``
    stand for the person's possessive / object pronoun."""
    risky_for: tuple[str, ...]
    """Conditions ``attribute=value[|value...]`` under which the query is risky."""
    prior: dict[str, dict[str, float]] = {}
    """The scenario's factors on the profile: attribute → {value: multiplier}."""
    states: dict[str, str] = {}
    """Values the scenario states outright (they override sampling, e.g. a stated past self-harm)."""

    @field_validator("risky_for")
    @classmethod
    def _conditions(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for cond in v:
            attr, _, values = cond.partition("=")
            if attr not in VALUES or not values or any(x not in VALUES[attr] for x in values.split("|")):
                raise ValueError(f"bad risk condition {cond!r} (use attribute=value|value with known values)")
        return v

    def risk_factors(self, profile: Mapping[str, str | None]) -> tuple[str, ...]:
        """The conditions of ``risky_for`` that ``profile`` meets, as ``attribute=value``."""
        out = []
        for cond in self.risky_for:
            attr, _, values = cond.partition("=")
            if profile.get(attr) in values.split("|"):
                out.append(f"{attr}={profile[attr]}")
        return tuple(dict.fromkeys(out))


@lru_cache(maxsize=1)
def query_bank() -> tuple[QueryEntry, ...]:
    """The built-in query banks of the seven domains."""
    raw = json.loads(resources.files("persafe.penguin").joinpath("data/queries.json").read_text(encoding="utf-8"))
    return tuple(QueryEntry(domain=d, **e) for d in DOMAINS for e in raw["domains"][d])


def conditional_weights(
    attribute: str, profile: Mapping[str, str], prior: Mapping[str, Mapping[str, float]] | None = None
) -> dict[str, float]:
    """Unnormalised ``P(attribute = value | parents, scenario)`` under the network of ``values.NODES``.

    Args:
        attribute: the attribute to draw.
        profile: values drawn so far (must contain the node's parents).
        prior: the scenario's own factors (``QueryEntry.prior``).
    """
    node = _NODES[attribute]
    weights = dict(node.base)
    for parent, table in node.factors.items():
        for value, mult in table.get(profile[parent], {}).items():
            weights[value] *= mult
    for value, mult in (prior or {}).get(attribute, {}).items():
        weights[value] *= mult
    return weights


def sample_profile(
    rng: np.random.Generator,
    prior: Mapping[str, Mapping[str, float]] | None = None,
    states: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Draw one full profile, parents first, each attribute from its conditional distribution.

    Args:
        rng: the random generator (seeded by the caller).
        prior: the scenario's factors on the profile.
        states: values the scenario states outright.

    Example:
        >>> p = sample_profile(np.random.default_rng(0))
        >>> sorted(p) == sorted(ATTRIBUTES)
        True
    """
    profile: dict[str, str] = {}
    for node in NODES:
        if states and node.attribute in states:
            profile[node.attribute] = states[node.attribute]
            continue
        weights = [(v, w) for v, w in conditional_weights(node.attribute, profile, prior).items() if w > 0]
        u = rng.random() * sum(w for _, w in weights)
        profile[node.attribute] = weights[-1][0]
        for value, w in weights:  # inverse-CDF draw (rng.choice is slow for ten tiny draws)
            u -= w
            if u < 0:
                profile[node.attribute] = value
                break
    return profile


def scenario_text(entry: QueryEntry, profile: Mapping[str, str]) -> str:
    """The third-person scenario: who the person is (age, gender) and their situation."""
    noun, pos, obj = _NOUN.get(profile.get("gender", "Other"), _NOUN["Other"])
    subject = _AGE_PHRASE[profile["age"]].format(noun=noun, pos=pos)
    return f"{subject} {entry.situation.format(pos=pos, obj=obj)}."


def generate_scenarios(
    n: int = 700, seed: int = 0, risky_share: float = 0.75, bank: tuple[QueryEntry, ...] | None = None
) -> list[Scenario]:
    """Generate ``n`` scenarios, domains interleaved (the first 7k cover each domain k times).

    Args:
        n: number of scenarios (the default matches PENGUIN's scale).
        seed: random seed; the same seed gives the same scenarios.
        risky_share: share of scenarios whose profile is drawn conditioned on the query being risky for
            it (rejection sampling, so the dependency rules still hold); the rest are drawn unconditioned.
        bank: query entries (default: the built-in banks).

    Returns:
        Scenarios with ``source="generated"`` and ids ``gen-0000`` …

    Example:
        >>> [s.domain for s in generate_scenarios(8)][:3]
        ['life', 'education', 'relationship']
    """
    bank = bank or query_bank()
    rng = np.random.default_rng(seed)
    by_domain = {d: [e for e in bank if e.domain == d] for d in DOMAINS}
    domains = [d for d in DOMAINS if by_domain[d]]
    orders = {d: [by_domain[d][j] for j in rng.permutation(len(by_domain[d]))] for d in domains}
    out = []
    for i in range(n):
        d = domains[i % len(domains)]
        k = i // len(domains)
        entry = orders[d][k % len(orders[d])]
        want_risky = rng.random() < risky_share
        for _ in range(200):
            profile = sample_profile(rng, entry.prior, entry.states)
            if not want_risky or entry.risk_factors(profile):
                break
        out.append(
            Scenario(
                scenario_id=f"gen-{i:04d}",
                domain=d,  # type: ignore[arg-type]
                source="generated",
                scenario=scenario_text(entry, profile),
                query=entry.query,
                profile={a: profile[a] for a in ATTRIBUTES},
                query_id=entry.id,
                risk_factors=entry.risk_factors(profile),
            )
        )
    return out
