"""The released PENGUIN file: one flat array for all seven domains, the domain derived from ``scenario``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from persafe.cli import app
from persafe.errors import DataError
from persafe.penguin.loader import load_scenarios, match_scenario, nearest_scenarios, scenario_hierarchy
from persafe.penguin.schema import DOMAINS


def _record(source: str, scenario: str, query: str = "What should I do next?") -> dict[str, str]:
    """A released-shape record (every released field, no ``domain``)."""
    return {
        "source": source,
        "query": query,
        "scenario": scenario,
        "education_level": "Bachelor's",
        "age": "31",
        "gender": "female",
        "marital_status": "Single",
        "profession": "Clerk",
        "economic_status": "Moderate",
        "health_status": "Good",
        "mental_health_status": "not given",
        "emotional_state": "Worried",
    }


# (record, expected domain, expected scenario text)
CASES = [
    (_record("real", "education"), "education", "education"),
    (_record("real", "relationship"), "relationship", "relationship"),
    (_record("real", "health"), "health", "health"),
    (_record("real", "career"), "career", "career"),
    (_record("synthetic", "Breakup/Divorce"), "relationship", "Breakup/Divorce"),
    (_record("synthetic", "Sudden Job Loss"), "career", "Sudden Job Loss"),
    (_record("synthetic", "  investment   LOSS "), "financial", "Investment Loss"),  # odd spacing and case
    (_record("synthetic", "partners sudden-death"), "relationship", "Partner's Sudden Death"),  # punctuation
    (_record("synthetic", "Academic Failure"), "education", "Academic Failure"),
    (_record("synthetic", "Neighbor Conflict"), "social", "Neighbor Conflict"),
    (_record("synthetic", "Housing Crisis"), "life", "Housing Crisis"),
    (_record("synthetic", "Debt Issues"), "financial", "Debt Issues"),  # a subcategory
    (_record("synthetic", "Health Crisis Scenarios"), "health", "Health Crisis Scenarios"),  # a category
]


def _write(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def released(tmp_path: Path) -> Path:
    """A multi-domain file in the released shape; its name is no domain, so nothing falls back to it."""
    return _write(tmp_path / "penguin.json", [case[0] for case in CASES])


def test_domains_are_derived_from_scenario(released: Path) -> None:
    scenarios = load_scenarios(released)
    assert [(s.domain, s.scenario) for s in scenarios] == [(d, text) for _, d, text in CASES]
    assert [s.source for s in scenarios] == [r["source"] for r, _, _ in CASES]
    assert len({s.scenario_id for s in scenarios}) == len(CASES)
    assert scenarios[0].profile["age"] == "25-34" and scenarios[0].profile["mental_health_status"] is None


def test_fallback_domain_never_overrides_a_derived_one(released: Path) -> None:
    assert load_scenarios(released, domain="life") == load_scenarios(released)


def test_own_domain_field_comes_first(tmp_path: Path) -> None:
    path = _write(tmp_path / "mixed.json", [_record("synthetic", "Sudden Job Loss") | {"domain": "health"}])
    assert load_scenarios(path)[0].domain == "health"
    path = _write(tmp_path / "mixed.json", [_record("synthetic", "x") | {"category": "Career Crisis Scenarios"}])
    assert load_scenarios(path)[0].domain == "career"  # a category name is accepted as a domain too


def test_unknown_leaf_names_record_and_nearest_leaves(tmp_path: Path) -> None:
    records = [case[0] for case in CASES[:3]] + [_record("synthetic", "Brekup / Divorse")]
    path = _write(tmp_path / "penguin.json", records)
    with pytest.raises(DataError) as err:
        load_scenarios(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}[3] field 'scenario': record 3: cannot derive a domain")
    assert "'Brekup / Divorse'" in msg and "nearest known: 'Breakup/Divorce'" in msg and "--domain" in msg
    assert err.value.field == "scenario"


def test_unknown_leaf_takes_the_fallback_domain(tmp_path: Path) -> None:
    records = [case[0] for case in CASES[:6]] + [_record("synthetic", "Brekup / Divorse")]
    scenarios = load_scenarios(_write(tmp_path / "penguin.json", records), domain="social")
    assert [s.domain for s in scenarios] == [d for _, d, _ in CASES[:6]] + ["social"]
    assert scenarios[-1].scenario == "Brekup / Divorse"  # kept as written


def test_unknown_leaf_in_jsonl_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "penguin.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (CASES[4][0], _record("real", "sports"))) + "\n")
    with pytest.raises(DataError, match=r"penguin\.jsonl:2 field 'scenario': record 1: .*'sports'"):
        load_scenarios(path)


def test_bad_fallback_domain_fails_even_when_unused(released: Path) -> None:
    with pytest.raises(DataError, match="unknown fallback domain 'sports'"):
        load_scenarios(released, domain="sports")


def _build(*args: object) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["penguin", "build", *(str(a) for a in args)])
    return res.exit_code, " ".join(res.output.split())


def test_cli_builds_from_the_released_file(released: Path, tmp_path: Path) -> None:
    out = tmp_path / "scenarios.jsonl"
    code, output = _build("--from", released, "--out", out)
    assert code == 0, output
    assert load_scenarios(out) == load_scenarios(released)
    assert f"wrote {len(CASES)} scenarios" in output and "'financial': 2" in output


def test_cli_unknown_leaf_and_domain_fallback(tmp_path: Path) -> None:
    path = _write(tmp_path / "penguin.json", [CASES[4][0], _record("synthetic", "Sudden Job Los")])
    out = tmp_path / "scenarios.jsonl"
    code, output = _build("--from", path, "--out", out)
    assert code != 0 and "record 1" in output and "'Sudden Job Loss'" in output and not out.exists()
    code, output = _build("--from", path, "--out", out, "--domain", "life")
    assert code == 0, output
    assert [s.domain for s in load_scenarios(out)] == ["relationship", "life"]


def test_shipped_hierarchy_structure() -> None:
    h = scenario_hierarchy()
    assert {"repository", "path", "commit"} <= h.source.keys()
    assert h.source["path"] == "generate_user_data.py"
    assert len(h.hierarchy) == 7
    assert sorted(h.domains.values()) == sorted(DOMAINS)  # each category is one domain, each domain one category
    for category, subcategories in h.hierarchy.items():
        assert len(subcategories) == 2, category
        assert all(len(leaves) == 10 for leaves in subcategories.values()), category
    leaves = h.leaves()
    assert len(leaves) == 7 * 2 * 10
    for category, subcategories in h.hierarchy.items():
        for leaf in (leaf for ls in subcategories.values() for leaf in ls):
            assert match_scenario(leaf.upper()) == (h.domains[category], leaf)
    assert h.domains["Education/Academic Crisis"] == "education"
    assert h.domains["Life Transition Scenarios"] == "life"
    assert leaves["Breakup/Divorce"] == "relationship" and leaves["Sudden Job Loss"] == "career"


def test_match_and_nearest() -> None:
    assert match_scenario("Financial") == ("financial", "Financial")  # a domain name: kept as written
    assert match_scenario("A long free-text description.") is None
    assert nearest_scenarios("sudden job lost")[0] == "Sudden Job Loss"
    assert nearest_scenarios("zzzz") == []
