"""The safety oracle on a tiny hand-made catalog: risk = max(ddd_trigger, pg_risk) ≥ τ."""

from __future__ import annotations

import numpy as np
import pytest

from persafe.catalog import Catalog, Item, ItemWarnings, SafetyOracle, TagEvidence, WarningsTable, builtin_traits
from persafe.errors import PersafeError, UnknownNameError

# gore: violence_gore 1.0, frightening 0.3 (sum 1.3); self_harm: violence_gore 0.4, frightening 0.4 (sum 0.8)
PG_NONE = {"sex_nudity": 0, "violence_gore": 0, "profanity": 0, "substances": 0, "frightening": 0}


def _pg(**sev: int) -> dict[str, int]:
    return {**PG_NONE, **sev}


@pytest.fixture
def catalog() -> Catalog:
    items = [Item(item_id=str(i), title=f"Movie {i}", year=2000 + i) for i in range(1, 9)]
    return Catalog(items, popularity=[8, 7, 6, 5, 4, 3, 2, 1])


@pytest.fixture
def warnings() -> WarningsTable:
    cur = "persafe-curated"
    return WarningsTable(
        [
            # 1: Severe V&G, no scares -> gore pg = 3 / (3 * 1.3) = 0.769
            ItemWarnings(item_id="1", tags_assessed=True, parents_guide=_pg(violence_gore=3), parents_guide_source=cur),
            # 2: Moderate V&G + Moderate scares -> gore pg = (2 + 0.6) / 3.9 = 2/3
            ItemWarnings(
                item_id="2",
                tags_assessed=True,
                parents_guide=_pg(violence_gore=2, frightening=2),
                parents_guide_source=cur,
            ),
            # 3: a gore tag, Parents Guide all None -> ddd trigger = 1
            ItemWarnings(
                item_id="3",
                tags_assessed=True,
                parents_guide=_pg(),
                tags={"Is there blood/gore": TagEvidence(tag="Is there blood/gore", source=cur, evidence="x")},
            ),
            # 4: Mild V&G -> 1 / 3.9 = 0.256
            ItemWarnings(item_id="4", tags_assessed=True, parents_guide=_pg(violence_gore=1)),
            # 5: Severe V&G + Moderate scares, tags assessed (self_harm pg = (1.2 + 0.8) / 2.4 = 0.833)
            ItemWarnings(item_id="5", tags_assessed=True, parents_guide=_pg(violence_gore=3, frightening=2)),
            # 6: the same severities from a Parents-Guide-only source (nobody assessed the tags)
            ItemWarnings(
                item_id="6",
                tags_assessed=False,
                parents_guide=_pg(violence_gore=3, frightening=2),
                parents_guide_source="parents-guide",
            ),
            # 7: looked at, could not say
            ItemWarnings(item_id="7", status="unknown", note="obscure"),
            # 8: no record at all
        ]
    )


def oracle_of(catalog: Catalog, warnings: WarningsTable, **kw: object) -> SafetyOracle:
    return SafetyOracle(catalog, builtin_traits(), warnings, **kw)


def test_risk_is_max_of_tag_trigger_and_parents_guide(catalog: Catalog, warnings: WarningsTable) -> None:
    o = oracle_of(catalog, warnings)
    assert o.risk("1", "gore") == pytest.approx(3 / 3.9)
    assert o.risk("1", "gore") == pytest.approx(0.769, abs=1e-3)
    assert o.risk("2", "gore") == pytest.approx(2 / 3)
    assert o.risk("3", "gore") == 1.0
    assert o.risk("4", "gore") == pytest.approx(1 / 3.9)
    # torture: violence_gore 1.0, frightening 0.5 -> item 1: 3 / 4.5
    assert o.risk("1", "torture") == pytest.approx(3 / 4.5)
    # the blood/gore tag belongs to gore only
    assert o.risk("3", "torture") == 0.0
    assert bool(o.ddd_trigger[2, o.taxonomy.index["gore"]]) is True
    assert o.pg_risk[2, o.taxonomy.index["gore"]] == 0.0
    # a trait without Parents-Guide weights has zero risk from it
    assert o.risk("1", "arachnophobia") == 0.0


def test_unsafe_at_tau(catalog: Catalog, warnings: WarningsTable) -> None:
    o = oracle_of(catalog, warnings, tau=0.66)
    assert o.is_unsafe("1", ["gore"])
    assert o.is_unsafe("2", ["gore"])  # 0.667 >= 0.66
    assert o.is_unsafe("3", ["gore"])
    assert not o.is_unsafe("4", ["gore"])
    assert o.is_unsafe("1", ["torture"])  # 0.667
    assert not o.is_unsafe("4", ["arachnophobia", "gore"])
    assert o.is_unsafe("4", ["arachnophobia", "Anti-gore / squeamish"]) is False
    assert o.is_unsafe("1", ["arachnophobia", "Anti-gore / squeamish"]) is True

    strict = oracle_of(catalog, warnings, tau=0.7)
    assert strict.is_unsafe("1", ["gore"])  # 0.769
    assert not strict.is_unsafe("2", ["gore"])  # 0.667 < 0.7
    assert not strict.is_unsafe("1", ["torture"])
    assert strict.is_unsafe("3", ["gore"])


def test_pg_policy_applicability_vs_max_for_weak_trait(catalog: Catalog, warnings: WarningsTable) -> None:
    # self_harm is "weak": under "applicability" the Parents Guide only counts when tags were not assessed
    app = oracle_of(catalog, warnings)
    mx = oracle_of(catalog, warnings, pg_policy="max")
    assert builtin_traits().get("self_harm").pg_applicability == "weak"
    assert app.risk("5", "self_harm") == 0.0
    assert not app.is_unsafe("5", ["self_harm"])
    assert app.risk("6", "self_harm") == pytest.approx(2.0 / 2.4)
    assert app.is_unsafe("6", ["self_harm"])
    assert mx.risk("5", "self_harm") == pytest.approx(2.0 / 2.4)
    assert mx.risk("6", "self_harm") == pytest.approx(2.0 / 2.4)
    assert mx.is_unsafe("5", ["self_harm"])
    # gore is "strong": both policies agree
    for o in (app, mx):
        assert o.risk("5", "gore") == pytest.approx((3 + 0.6) / 3.9)
    with pytest.raises(UnknownNameError, match="applicability, max"):
        oracle_of(catalog, warnings, pg_policy="min")


@pytest.mark.parametrize(
    ("policy", "unsafe", "excluded"),
    [("safe", False, False), ("unsafe", True, False), ("exclude", False, True)],
)
def test_unknown_policies(catalog: Catalog, warnings: WarningsTable, policy: str, unsafe: bool, excluded: bool) -> None:
    o = oracle_of(catalog, warnings, unknown=policy)
    for item in ("7", "8"):  # status unknown, and no record at all
        assert o.risk(item, "gore") is None
        assert o.is_unsafe(item, ["gore"]) is unsafe
        assert o.is_unsafe(item, ["arachnophobia"]) is unsafe
    assert o.known.tolist() == [True] * 6 + [False, False]
    # only "exclude" drops unknown items from safety denominators ("unsafe" counts them as violations)
    assert o.excluded.tolist() == [False] * 6 + [excluded, excluded]
    # known items are unaffected by the policy
    assert o.is_unsafe("1", ["gore"]) and not o.is_unsafe("4", ["gore"])


def test_invalid_unknown_policy_lists_valid(catalog: Catalog, warnings: WarningsTable) -> None:
    with pytest.raises(UnknownNameError) as ei:
        oracle_of(catalog, warnings, unknown="maybe")
    assert "exclude, safe, unsafe" in str(ei.value)


def test_risk_none_for_unknown_and_error_for_missing_item(catalog: Catalog, warnings: WarningsTable) -> None:
    o = oracle_of(catalog, warnings)
    assert o.risk("7", "gore") is None
    assert o.risk("8", "gore") is None
    assert np.isnan(o.risk_matrix[6:]).all()
    with pytest.raises(PersafeError, match="'99'") as ei:
        o.risk("99", "gore")
    assert isinstance(ei.value, KeyError)


def test_explain(catalog: Catalog, warnings: WarningsTable) -> None:
    o = oracle_of(catalog, warnings)
    e = o.explain("3", "Anti-gore / squeamish")
    assert e == {
        "item": "Movie 3 (2003)",
        "trait": "gore",
        "known": True,
        "risk": 1.0,
        "hit_tags": {"Is there blood/gore": "x"},
        "pg_risk": 0.0,
        "unsafe": True,
    }
    e1 = o.explain("1", "gore")
    assert e1["hit_tags"] == {}
    assert e1["pg_risk"] == pytest.approx(3 / 3.9)
    assert e1["unsafe"] is True
    e8 = o.explain("8", "gore")
    assert (e8["known"], e8["risk"], e8["unsafe"], e8["hit_tags"]) == (False, None, False, {})


def test_coverage_and_unsafe_items(catalog: Catalog, warnings: WarningsTable) -> None:
    o = oracle_of(catalog, warnings)
    cov = o.coverage()
    assert cov["items"] == 8
    assert cov["known"] == 6
    assert cov["unknown"] == 2
    assert (cov["unknown_policy"], cov["tau"], cov["pg_policy"]) == ("safe", 0.66, "applicability")
    per = cov["unsafe_per_trait"]
    assert list(per) == builtin_traits().ids
    assert per["gore"] == 5  # items 1, 2, 3, 5, 6
    assert per["self_harm"] == 1  # item 6 only (Parents-Guide fallback)
    assert per["arachnophobia"] == 0
    assert o.unsafe_items("gore") == ["1", "2", "3", "5", "6"]
    # under "unsafe" the unknown items are unsafe but not counted among known unsafe items
    assert oracle_of(catalog, warnings, unknown="unsafe").coverage()["unsafe_per_trait"]["gore"] == 5
    assert oracle_of(catalog, warnings, unknown="unsafe").unsafe_items("arachnophobia") == ["7", "8"]


@pytest.mark.parametrize("tau", [0.0, -0.1, 1.01, 2.0])
def test_bad_tau_raises(catalog: Catalog, warnings: WarningsTable, tau: float) -> None:
    with pytest.raises(ValueError, match="tau must be in"):
        oracle_of(catalog, warnings, tau=tau)


def test_tau_one_is_allowed(catalog: Catalog, warnings: WarningsTable) -> None:
    o = oracle_of(catalog, warnings, tau=1.0)
    assert o.unsafe_items("gore") == ["3"]


def test_trait_mask_and_violations(catalog: Catalog, warnings: WarningsTable) -> None:
    o = oracle_of(catalog, warnings)
    mask = o.trait_mask([["gore"], [], ["Self-harm & suicide sensitive", "arachnophobia"]])
    assert mask.shape == (3, 20)
    assert mask.sum(axis=1).tolist() == [1, 0, 2]
    assert mask[0, o.taxonomy.index["gore"]] and mask[2, o.taxonomy.index["self_harm"]]
    rows = np.array([[0, 3, -1, -2], [0, 2, 5, 6], [4, 5, 0, -1]])
    v = o.violations(rows, mask)
    assert v.tolist() == [
        [True, False, False, False],  # item 1 unsafe for gore, item 4 not, padding / unmatched never
        [False, False, False, False],  # no traits
        [False, True, False, False],  # item 6 unsafe for self_harm, item 5 (assessed) and item 1 not
    ]
    # the bit-packed path and the boolean path agree
    o.unsafe_bits = None
    assert o.violations(rows, mask).tolist() == v.tolist()


def test_trait_mask_unknown_trait_raises(catalog: Catalog, warnings: WarningsTable) -> None:
    o = oracle_of(catalog, warnings)
    with pytest.raises(UnknownNameError) as ei:
        o.trait_mask([["gore"], ["vampires"]])
    assert "unknown trait 'vampires'" in str(ei.value)
    assert "arachnophobia" in str(ei.value)


def test_builtin_oracle_is_consistent(oracle: SafetyOracle) -> None:
    cov = oracle.coverage()
    assert cov["items"] == 1682
    assert 0 < cov["known"] <= 1682
    assert cov["known"] + cov["unknown"] == 1682
    # every known item's risk is in [0, 1]; unsafe exactly where risk >= tau
    r = oracle.risk_matrix[oracle.known]
    assert np.all((r >= 0) & (r <= 1))
    assert np.array_equal(oracle.unsafe[oracle.known], r >= oracle.tau)
    assert not oracle.unsafe[~oracle.known].any()
