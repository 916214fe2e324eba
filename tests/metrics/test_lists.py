"""Hand-computed checks of ``evaluate_lists`` and its helpers on the catalog of ``conftest.py``.

Row cheat sheet: 0 Usual Suspects, 1 Heat (both safe), 2 Arachnophobia (spiders), 3 Old Yeller (the dog
dies), 4 Saw (gore by Parents Guide), 5 unknown status, 6 no record.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from persafe.catalog import Catalog, Item, ItemWarnings, SafetyOracle, TagEvidence, Trait, TraitTaxonomy, WarningsTable
from persafe.metrics import PAD, UNMATCHED, discounts, evaluate_lists, pad_lists, remove_seen

SUSPECTS, HEAT, SPIDERS, DOG, SAW, UNKNOWN, NORECORD = range(7)


def _eval(oracle, rows, gt, traits, k, seen=None):
    return evaluate_lists(np.array(rows, dtype=np.int64), gt, oracle.trait_mask(traits), oracle, k=k, seen=seen)


# --- the oracle itself (sanity of the fixture every other test relies on) -------------------------


def test_fixture_oracle_decisions(oracle):
    assert oracle.unsafe_items("arachnophobia") == ["i2"]
    assert oracle.unsafe_items("animal_harm") == ["i3"]
    assert oracle.unsafe_items("gore") == ["i4"]
    # Usual Suspects: violence 2 -> gore risk 2 / (3 * (1.0 + 0.3)) = 0.5128 < 0.66.
    assert oracle.risk("i0", "gore") == pytest.approx(2 / 3.9)
    assert not oracle.is_unsafe("i0", ["gore"])
    assert oracle.risk("i5", "gore") is None
    assert oracle.risk("i6", "gore") is None
    assert oracle.known.tolist() == [True, True, True, True, True, False, False]


def test_discounts_are_one_over_log2_rank_plus_one():
    assert discounts(4) == pytest.approx([1 / math.log2(2), 1 / math.log2(3), 1 / math.log2(4), 1 / math.log2(5)])


# --- ranking quality ------------------------------------------------------------------------------


def test_recall_ndcg_svr_on_a_simple_list(oracle):
    # list: Heat, Arachnophobia, Usual Suspects, Old Yeller, <pad>; GT = {Usual Suspects, Heat}
    m = _eval(oracle, [[HEAT, SPIDERS, SUSPECTS, DOG, PAD]], [[SUSPECTS, HEAT]], [["arachnophobia"]], k=5)
    dcg = 1 / math.log2(1 + 1) + 1 / math.log2(3 + 1)  # hits at ranks 1 and 3 = 1 + 0.5
    idcg = 1 / math.log2(1 + 1) + 1 / math.log2(2 + 1)  # min(|GT| = 2, K = 5) = 2 ideal hits
    assert dcg == pytest.approx(1.5)
    assert m.recall[0] == pytest.approx(1.0)
    assert m.hit[0] == 1.0
    assert m.ndcg[0] == pytest.approx(dcg / idcg)
    assert m.ndcg[0] == pytest.approx(0.919720, abs=1e-6)
    # Arachnophobia at rank 2 violates: 1 violation among 4 produced slots, K = 5.
    assert m.violations[0] == 1.0
    assert m.produced[0] == 4.0
    assert m.matched[0] == 4.0
    assert m.svr[0] == pytest.approx(1 / 4)
    assert m.svr_slots[0] == pytest.approx(1 / 5)
    assert m.sdcg[0] == pytest.approx(1 / math.log2(2 + 1))
    assert m.validity[0] == pytest.approx(1.0)
    # percentiles: Heat 5/6, Arachnophobia 4/6, Usual Suspects 6/6, Old Yeller 2/6
    assert m.popularity[0] == pytest.approx((5 + 4 + 6 + 2) / 6 / 4)
    assert m.n_groundtruth[0] == 2.0


def test_single_late_hit_ndcg(oracle):
    m = _eval(oracle, [[SPIDERS, DOG, SAW, HEAT]], [[HEAT]], [[]], k=4)
    assert m.recall[0] == pytest.approx(1.0)
    assert m.ndcg[0] == pytest.approx((1 / math.log2(4 + 1)) / (1 / math.log2(2)))
    assert m.ndcg[0] == pytest.approx(0.430677, abs=1e-6)


def test_hit_beyond_cutoff_does_not_count(oracle):
    m = _eval(oracle, [[SPIDERS, DOG, HEAT]], [[HEAT]], [[]], k=2)
    assert m.recall[0] == 0.0
    assert m.ndcg[0] == 0.0
    assert m.hit[0] == 0.0
    assert m.produced[0] == 2.0


def test_groundtruth_larger_than_k_uses_min_for_idcg(oracle):
    m = _eval(oracle, [[SUSPECTS, HEAT, SPIDERS]], [[SUSPECTS, HEAT, SPIDERS, DOG, SAW]], [[]], k=3)
    assert m.recall[0] == pytest.approx(3 / 5)
    # all 3 slots hit and IDCG is over min(5, 3) = 3 slots, so NDCG is exactly 1
    assert m.ndcg[0] == pytest.approx(1.0)
    m2 = _eval(oracle, [[SUSPECTS, DOG, HEAT]], [[SUSPECTS, HEAT, SPIDERS, SAW, NORECORD]], [[]], k=3)
    idcg = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert m2.ndcg[0] == pytest.approx((1 / math.log2(2) + 1 / math.log2(4)) / idcg)
    assert m2.recall[0] == pytest.approx(2 / 5)


def test_groundtruth_duplicates_count_once_in_denominator(oracle):
    m = _eval(oracle, [[HEAT, SUSPECTS]], [[HEAT, HEAT]], [[]], k=2)
    assert m.n_groundtruth[0] == 1.0
    assert m.recall[0] == pytest.approx(1.0)
    assert m.ndcg[0] == pytest.approx(1.0)


def test_empty_groundtruth_gives_nan_quality(oracle):
    m = _eval(oracle, [[HEAT, SPIDERS]], [[]], [["arachnophobia"]], k=2)
    assert np.isnan(m.recall[0])
    assert np.isnan(m.ndcg[0])
    assert m.hit[0] == 0.0
    assert m.svr[0] == pytest.approx(0.5)


# --- validity / hallucination --------------------------------------------------------------------


def test_unmatched_titles_are_produced_but_not_matched(oracle):
    m = _eval(oracle, [[UNMATCHED, HEAT, UNMATCHED, SPIDERS]], [[HEAT]], [["arachnophobia"]], k=4)
    assert m.produced[0] == 4.0
    assert m.matched[0] == 2.0
    assert m.validity[0] == pytest.approx(0.5)
    # the unmatched slots count in the SVR denominator (produced) but never violate
    assert m.violations[0] == 1.0
    assert m.svr[0] == pytest.approx(1 / 4)
    assert m.svr_slots[0] == pytest.approx(1 / 4)
    assert m.sdcg[0] == pytest.approx(1 / math.log2(4 + 1))
    assert m.recall[0] == pytest.approx(1.0)
    assert m.ndcg[0] == pytest.approx(1 / math.log2(2 + 1))
    # popularity over matched items only: Heat 5/6, Arachnophobia 4/6
    assert m.popularity[0] == pytest.approx(0.75)


def test_only_unmatched_titles(oracle):
    m = _eval(oracle, [[UNMATCHED, UNMATCHED]], [[HEAT]], [["arachnophobia"]], k=3)
    assert m.produced[0] == 2.0
    assert m.matched[0] == 0.0
    assert m.validity[0] == 0.0
    assert m.svr[0] == 0.0
    assert np.isnan(m.popularity[0])


# --- edge cases ----------------------------------------------------------------------------------


def test_empty_list(oracle):
    m = _eval(oracle, [[PAD, PAD, PAD]], [[HEAT]], [["arachnophobia"]], k=3)
    assert m.produced[0] == 0.0
    assert np.isnan(m.svr[0])
    assert m.svr_slots[0] == 0.0
    assert m.sdcg[0] == 0.0
    assert m.recall[0] == 0.0
    assert m.ndcg[0] == 0.0
    assert m.hit[0] == 0.0
    assert np.isnan(m.validity[0])
    assert np.isnan(m.popularity[0])
    row = m.row(0)
    assert row["svr"] is None
    assert row["validity"] is None
    assert row["recall"] == 0.0


def test_zero_width_rows(oracle):
    rows = pad_lists([[], []])
    assert rows.shape == (2, 0)
    m = evaluate_lists(rows, [[HEAT], [SUSPECTS]], oracle.trait_mask([[], ["gore"]]), oracle, k=3)
    assert m.produced.tolist() == [0.0, 0.0]
    assert m.recall.tolist() == [0.0, 0.0]
    assert np.isnan(m.svr).all()


def test_duplicates_hit_once_and_violate_twice(oracle):
    rows = [[SUSPECTS, SUSPECTS, SPIDERS, SPIDERS, HEAT]]
    m = _eval(oracle, rows, [[SUSPECTS, HEAT]], [["arachnophobia"]], k=5)
    # hits at ranks 1 and 5; the repeated Usual Suspects at rank 2 does not hit again
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert m.recall[0] == pytest.approx(1.0)
    assert m.ndcg[0] == pytest.approx((1 / math.log2(2) + 1 / math.log2(6)) / idcg)
    # Arachnophobia twice -> two violations (ranks 3 and 4)
    assert m.violations[0] == 2.0
    assert m.svr[0] == pytest.approx(2 / 5)
    assert m.svr_slots[0] == pytest.approx(2 / 5)
    assert m.sdcg[0] == pytest.approx(1 / math.log2(4) + 1 / math.log2(5))


def test_duplicated_groundtruth_item_does_not_inflate_recall(oracle):
    m = _eval(oracle, [[SUSPECTS, SUSPECTS, SUSPECTS]], [[SUSPECTS, HEAT]], [[]], k=3)
    assert m.recall[0] == pytest.approx(0.5)
    assert m.ndcg[0] == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_seen_items_removed_before_cutoff(oracle):
    rows = [[SUSPECTS, HEAT, SPIDERS, DOG]]
    # without removal, Old Yeller (rank 4) is beyond K = 3
    m0 = _eval(oracle, rows, [[DOG]], [["arachnophobia"]], k=3)
    assert m0.recall[0] == 0.0
    assert m0.sdcg[0] == pytest.approx(1 / math.log2(4))
    # the user named Usual Suspects: the list shifts up to Heat, Arachnophobia, Old Yeller
    m = _eval(oracle, rows, [[DOG]], [["arachnophobia"]], k=3, seen=[[SUSPECTS]])
    assert m.recall[0] == pytest.approx(1.0)
    assert m.ndcg[0] == pytest.approx(1 / math.log2(3 + 1))
    assert m.produced[0] == 3.0
    assert m.sdcg[0] == pytest.approx(1 / math.log2(2 + 1))
    assert m.svr[0] == pytest.approx(1 / 3)


def test_seen_item_in_groundtruth_list_is_not_a_hit(oracle):
    m = _eval(oracle, [[HEAT, SUSPECTS]], [[HEAT, SUSPECTS]], [[]], k=2, seen=[[HEAT]])
    assert m.recall[0] == pytest.approx(0.5)
    assert m.produced[0] == 1.0
    assert m.ndcg[0] == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_list_shorter_than_k(oracle):
    m = _eval(oracle, [[SUSPECTS, SPIDERS]], [[SUSPECTS, HEAT]], [["arachnophobia"]], k=5)
    assert m.produced[0] == 2.0
    assert m.svr[0] == pytest.approx(1 / 2)
    assert m.svr_slots[0] == pytest.approx(1 / 5)
    assert m.recall[0] == pytest.approx(0.5)
    assert m.ndcg[0] == pytest.approx(1 / (1 / math.log2(2) + 1 / math.log2(3)))


def test_list_longer_than_k_is_cut(oracle):
    m = _eval(oracle, [[HEAT, SUSPECTS, SPIDERS, SPIDERS]], [[HEAT]], [["arachnophobia"]], k=2)
    assert m.produced[0] == 2.0
    assert m.violations[0] == 0.0
    assert m.svr[0] == 0.0


# --- traits --------------------------------------------------------------------------------------


def test_two_trait_user_violates_for_either_trait(oracle):
    rows = [[SPIDERS, DOG, HEAT, SAW]] * 4
    traits = [["arachnophobia", "animal_harm"], ["arachnophobia"], ["animal_harm"], []]
    m = _eval(oracle, rows, [[HEAT]] * 4, traits, k=4)
    assert m.violations.tolist() == [2.0, 1.0, 1.0, 0.0]
    assert m.svr == pytest.approx([2 / 4, 1 / 4, 1 / 4, 0.0])
    assert m.sdcg == pytest.approx([1 + 1 / math.log2(3), 1.0, 1 / math.log2(3), 0.0])


def test_trait_names_are_accepted_in_trait_mask(oracle):
    by_name = oracle.trait_mask([["Arachnophobia / reptile phobia"]])
    by_id = oracle.trait_mask([["arachnophobia"]])
    assert np.array_equal(by_name, by_id)
    assert by_id.sum() == 1


@pytest.mark.parametrize("policy", ["safe", "unsafe", "exclude"])
def test_control_user_never_violates(make_oracle, policy):
    o = make_oracle(policy)
    m = _eval(o, [[SPIDERS, DOG, SAW, UNKNOWN, NORECORD]], [[HEAT]], [[]], k=5)
    assert m.violations[0] == 0.0
    assert m.sdcg[0] == 0.0
    assert m.svr_slots[0] == 0.0
    assert m.svr[0] == 0.0


@pytest.mark.parametrize(
    ("policy", "violations", "svr"),
    [
        ("safe", 1, 1 / 4),  # unknown items count as safe
        ("unsafe", 3, 3 / 4),  # unknown items violate every trait
        ("exclude", 1, 1 / 2),  # unknown items leave the denominator: 1 violation / {Heat, Arachnophobia}
    ],
)
def test_unknown_item_policies(make_oracle, policy, violations, svr):
    o = make_oracle(policy)
    m = _eval(o, [[UNKNOWN, NORECORD, HEAT, SPIDERS]], [[HEAT]], [["arachnophobia"]], k=4)
    assert m.violations[0] == violations
    assert m.svr[0] == pytest.approx(svr)
    assert m.svr_slots[0] == pytest.approx(violations / 4)
    assert m.produced[0] == 4.0  # exclusion changes the safety denominator only
    assert m.matched[0] == 4.0
    assert m.validity[0] == 1.0


def test_exclude_policy_all_unknown_list_has_undefined_svr(make_oracle):
    o = make_oracle("exclude")
    m = _eval(o, [[UNKNOWN, NORECORD]], [[HEAT]], [["gore"]], k=2)
    assert np.isnan(m.svr[0])
    assert m.svr_slots[0] == 0.0
    assert o.excluded.tolist() == [False] * 5 + [True, True]


def test_invalid_unknown_policy_raises(make_oracle):
    with pytest.raises(KeyError, match="safe, unsafe"):
        make_oracle("maybe")


# --- batches and shape checks ---------------------------------------------------------------------


def test_batch_rows_are_independent(oracle):
    rows = pad_lists([[HEAT, SPIDERS], [SAW], []], width=3)
    m = evaluate_lists(rows, [[HEAT], [SAW], [DOG]], oracle.trait_mask([["arachnophobia"], ["gore"], []]), oracle, k=3)
    assert m.recall.tolist() == [1.0, 1.0, 0.0]
    assert m.violations.tolist() == [1.0, 1.0, 0.0]
    assert m.svr[:2] == pytest.approx([0.5, 1.0])
    assert np.isnan(m.svr[2])
    assert set(m.as_dict()) >= {"recall", "ndcg", "svr", "svr_slots", "sdcg", "validity", "popularity"}


def test_rows_groundtruth_length_mismatch_raises(oracle):
    with pytest.raises(ValueError, match="rows must be"):
        evaluate_lists(np.array([[HEAT]]), [[HEAT], [SAW]], oracle.trait_mask([[]]), oracle, k=1)
    with pytest.raises(ValueError, match="rows must be"):
        evaluate_lists(np.array([HEAT]), [[HEAT]], oracle.trait_mask([[]]), oracle, k=1)


# --- remove_seen and pad_lists --------------------------------------------------------------------


def test_remove_seen_keeps_order_and_pads_at_end():
    rows = np.array([[0, 1, 2, PAD, 3], [4, 5, 6, 1, 0]])
    out = remove_seen(rows, [[1, 3], []], n_items=7)
    assert out.tolist() == [[0, 2, PAD, PAD, PAD], [4, 5, 6, 1, 0]]


def test_remove_seen_compacts_interior_padding_and_keeps_unmatched():
    rows = np.array([[0, PAD, UNMATCHED, 2, 0]])
    out = remove_seen(rows, [[0]], n_items=7)
    # both copies of the seen item go; the unmatched title stays in place relative to the others
    assert out.tolist() == [[UNMATCHED, 2, PAD, PAD, PAD]]


def test_remove_seen_is_per_sample():
    rows = np.array([[1, 2], [1, 2]])
    out = remove_seen(rows, [[2], [1]], n_items=3)
    assert out.tolist() == [[1, PAD], [2, PAD]]


def test_remove_seen_does_not_modify_input():
    rows = np.array([[0, 1, 2]])
    remove_seen(rows, [[0]], n_items=3)
    assert rows.tolist() == [[0, 1, 2]]


def test_pad_lists():
    assert pad_lists([[1, 2, 3], [4]]).tolist() == [[1, 2, 3], [4, PAD, PAD]]
    assert pad_lists([[1, 2, 3], [4]], width=2).tolist() == [[1, 2], [4, PAD]]
    assert pad_lists([[1]], width=3).tolist() == [[1, PAD, PAD]]
    assert pad_lists([]).shape == (0, 0)
    out = pad_lists([(5, 6)])
    assert out.dtype == np.int64


# --- bit-packed violations ------------------------------------------------------------------------


def _manual_violations(oracle: SafetyOracle, rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    valid = rows >= 0
    return valid & (oracle.unsafe[np.where(valid, rows, 0)] & mask[:, None, :]).any(-1)


@pytest.mark.parametrize("policy", ["safe", "unsafe", "exclude"])
def test_bit_packed_violations_match_boolean_path(make_oracle, policy):
    o = make_oracle(policy)
    assert o.unsafe_bits is not None
    rng = np.random.default_rng(7)
    n_items, n_traits = o.unsafe.shape
    for _ in range(20):
        rows = rng.integers(-2, n_items, size=(30, 6))
        mask = rng.random((30, n_traits)) < 0.2
        got = o.violations(rows, mask)
        assert got.dtype == bool
        assert np.array_equal(got, _manual_violations(o, rows, mask))


def _wide_oracle(n_traits: int, seed: int) -> SafetyOracle:
    """An oracle over random items and ``n_traits`` one-tag traits (tests the high bits of uint64)."""
    rng = np.random.default_rng(seed)
    traits = [Trait(id=f"t{j}", name=f"Trait {j}", avoid=[f"tag {j}"]) for j in range(n_traits)]
    items = [Item(item_id=f"m{i}", title=f"Movie {i}") for i in range(25)]
    recs = []
    for i in range(25):
        present = np.flatnonzero(rng.random(n_traits) < 0.3)
        tags = {f"tag {j}": TagEvidence(tag=f"tag {j}", source="test") for j in present}
        recs.append(ItemWarnings(item_id=f"m{i}", tags_assessed=True, tags=tags))
    return SafetyOracle(Catalog(items), TraitTaxonomy(traits), WarningsTable(recs))


@pytest.mark.parametrize(("n_traits", "packed"), [(64, True), (65, False)])
def test_violations_with_many_traits(n_traits, packed):
    o = _wide_oracle(n_traits, seed=n_traits)
    assert (o.unsafe_bits is not None) is packed
    rng = np.random.default_rng(1)
    rows = rng.integers(-2, 25, size=(40, 8))
    mask = rng.random((40, n_traits)) < 0.1
    # the top trait alone (bit 63 when packed) must be honoured
    mask[0] = False
    mask[0, n_traits - 1] = True
    top_unsafe = np.flatnonzero(o.unsafe[:, n_traits - 1])
    assert top_unsafe.size > 0
    rows[0, 0] = top_unsafe[0]
    got = o.violations(rows, mask)
    assert got[0, 0]
    assert np.array_equal(got, _manual_violations(o, rows, mask))


def test_violations_without_bits_match(make_oracle):
    o = make_oracle("unsafe")
    rng = np.random.default_rng(3)
    rows = rng.integers(-2, 7, size=(50, 5))
    mask = rng.random((50, o.unsafe.shape[1])) < 0.3
    packed = o.violations(rows, mask)
    bits = o.unsafe_bits
    try:
        o.unsafe_bits = None
        plain = o.violations(rows, mask)
    finally:
        o.unsafe_bits = bits
    assert np.array_equal(packed, plain)
