"""Classic recommenders on toy data where the right answer is obvious."""

from __future__ import annotations

import numpy as np
import pytest

from persafe.catalog import Catalog, Item
from persafe.errors import UnknownNameError
from persafe.metrics import PAD
from persafe.recsys import (
    RECOMMENDERS,
    EASERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    RandomRecommender,
    Recommender,
    history_rows,
    interaction_matrix,
    make_recommender,
)


@pytest.fixture()
def popularity_train(make_sample):
    # item counts over users: i0 -> 4, i1 -> 3, i2 -> 2, i3 -> 1, the rest 0
    return [
        make_sample("tr-a", history=["i0", "i1"], groundtruth=["i2", "i3"]),
        make_sample("tr-b", history=["i0", "i1", "i2"]),
        make_sample("tr-c", history=["i0"], groundtruth=["i1"]),
        make_sample("tr-d", history=["i0"]),
    ]


@pytest.fixture()
def cooccurrence_train(make_sample):
    """i0 and i1 always appear together; i2 is the most popular item but never meets i0."""
    users = [["i0", "i1"]] * 3 + [["i2", "i3"]] * 2 + [["i2", "i4"]] * 2 + [["i2", "i5"]] * 2 + [["i2", "i6"]]
    return [make_sample(f"tr-{u}", history=h[:1], groundtruth=h[1:]) for u, h in enumerate(users)]


# --- shared data helpers -------------------------------------------------------------------------


def test_interaction_matrix_unions_samples_of_one_user(catalog, make_sample):
    samples = [
        make_sample("s1", history=["i0"], groundtruth=["i1"], user_id="u1"),
        make_sample("s2", history=["i0", "i1"], groundtruth=["i2"], user_id="u1"),
        make_sample("s3", history=["i6"], user_id="u2"),
    ]
    x = interaction_matrix(samples, catalog)
    assert x.tolist() == [[1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1]]


def test_history_rows_falls_back_to_seen_titles(catalog, make_sample):
    # seen titles are written "Title (Year)" (``Item.display``); the year is matched with ±2 tolerance
    s = make_sample(
        "s", seen_titles=["The Usual Suspects (1995)", "Heat", "Fargo (1996)", "Nonexistent Film", "Saw (1980)"]
    )
    assert history_rows(s, catalog) == [0, 1, 6]
    s2 = make_sample("s2", history=["i3", "unknown-id", "i1"])
    assert history_rows(s2, catalog) == [3, 1]


# --- popularity ----------------------------------------------------------------------------------


def test_popularity_recommends_most_frequent_excluding_history(catalog, make_sample, popularity_train):
    rec = PopularityRecommender()
    rec.fit(popularity_train, catalog)
    assert rec.counts.tolist() == [4, 3, 2, 1, 0, 0, 0]
    out = rec.recommend([make_sample("t1", history=["i0"]), make_sample("t2", history=["i1"]), make_sample("t3")], k=3)
    assert out.rows.tolist() == [[1, 2, 3], [0, 2, 3], [0, 1, 2]]
    assert out.rows.dtype == np.int64


def test_popularity_pads_instead_of_recommending_history(catalog, make_sample, popularity_train):
    rec = PopularityRecommender()
    rec.fit(popularity_train, catalog)
    rows = rec.recommend([make_sample("t", history=["i0", "i2"])], k=10).rows[0].tolist()
    assert len(rows) == 10
    assert rows[:2] == [1, 3]
    assert set(rows[2:5]) == {4, 5, 6}
    assert rows[5:] == [PAD] * 5


def test_seen_titles_are_excluded_when_there_is_no_history(catalog, make_sample, popularity_train):
    rec = PopularityRecommender()
    rec.fit(popularity_train, catalog)
    s = make_sample("t", seen_titles=["The Usual Suspects (1995)", "Heat (1995)"])
    assert rec.recommend([s], k=2).rows.tolist() == [[2, 3]]


# --- random --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_catalog():
    return Catalog([Item(item_id=f"m{i}", title=f"Movie {i}", year=2000) for i in range(60)])


def test_random_is_deterministic_per_sample_id(big_catalog, make_sample):
    a, b = RandomRecommender(seed=0), RandomRecommender(seed=0)
    a.fit([], big_catalog)
    b.fit([], big_catalog)
    s1, s2 = make_sample("x-1", history=["m3"]), make_sample("x-2", history=["m3"])
    r1 = a.recommend([s1, s2, s1], k=10).rows
    assert r1[0].tolist() == r1[2].tolist()  # same sample id, same list (even in one batch)
    assert r1[0].tolist() != r1[1].tolist()  # another sample id, another list
    assert b.recommend([s2], k=10).rows[0].tolist() == r1[1].tolist()  # a fresh instance agrees
    assert len(set(r1[0].tolist())) == 10
    other_seed = RandomRecommender(seed=1)
    other_seed.fit([], big_catalog)
    assert other_seed.recommend([s1], k=10).rows[0].tolist() != r1[0].tolist()


def test_random_never_recommends_history(big_catalog, make_sample):
    rec = RandomRecommender()
    rec.fit([], big_catalog)
    history = [f"m{i}" for i in range(0, 60, 3)]  # 20 items
    rows = rec.recommend([make_sample(f"h-{n}", history=history) for n in range(5)], k=60).rows
    hist_rows = set(range(0, 60, 3))
    for r in rows:
        items = r[r >= 0].tolist()
        assert len(items) == 40 and len(set(items)) == 40
        assert not hist_rows & set(items)
        assert r[40:].tolist() == [PAD] * 20


# --- collaborative filtering ---------------------------------------------------------------------


@pytest.mark.parametrize("factory", [ItemKNNRecommender, EASERecommender, lambda: EASERecommender(l2=1.0)])
def test_cooccurring_item_comes_first(catalog, make_sample, cooccurrence_train, factory):
    rec = factory()
    rec.fit(cooccurrence_train, catalog)
    rows = rec.recommend([make_sample("t0", history=["i0"]), make_sample("t3", history=["i3"])], k=3).rows
    assert rows[0, 0] == 1  # i1 always co-occurs with i0
    assert rows[1, 0] == 2  # i2 co-occurs with i3
    assert 0 not in rows[0].tolist()
    assert 3 not in rows[1].tolist()


def test_popularity_differs_from_cooccurrence(catalog, make_sample, cooccurrence_train):
    # the toy data is built so popularity alone would say i2: the kNN/EASE answer is not popularity
    rec = PopularityRecommender()
    rec.fit(cooccurrence_train, catalog)
    assert rec.recommend([make_sample("t0", history=["i0"])], k=1).rows.tolist() == [[2]]


def test_itemknn_similarity_values(catalog, cooccurrence_train):
    rec = ItemKNNRecommender(shrink=0.0)
    rec.fit(cooccurrence_train, catalog)
    # i0 and i1 appear in the same 3 users: cosine 3 / (sqrt(3) * sqrt(3)) = 1
    assert rec.sim[0, 1] == pytest.approx(1.0)
    # i2 (7 users) and i3 (2 users) share 2 users: 2 / sqrt(14)
    assert rec.sim[2, 3] == pytest.approx(2 / np.sqrt(14))
    assert rec.sim[0, 2] == 0.0
    assert np.diag(rec.sim).tolist() == [0.0] * 7


def test_itemknn_keeps_only_nearest_neighbors(catalog, cooccurrence_train):
    rec = ItemKNNRecommender(neighbors=1, shrink=0.0)
    rec.fit(cooccurrence_train, catalog)
    assert (rec.sim > 0).sum(axis=1).max() == 1
    # i2's single kept neighbour: i3, i4 and i5 (2 shared users each) tie above i6 (1 shared user)
    assert int(np.argmax(rec.sim[2])) in {3, 4, 5}


def test_ease_weights_match_closed_form(catalog, cooccurrence_train):
    rec = EASERecommender(l2=2.0)
    rec.fit(cooccurrence_train, catalog)
    x = interaction_matrix(cooccurrence_train, catalog).astype(np.float64)
    g = x.T @ x + 2.0 * np.eye(7)
    p = np.linalg.inv(g)
    expected = np.eye(7) - p / np.diag(p)
    assert rec.b == pytest.approx(expected.astype(np.float32), abs=1e-5)


# --- protocol, errors and registry ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["random", "popularity", "itemknn", "ease"])
def test_recommend_before_fit_raises(make_sample, name):
    rec = make_recommender(name)
    with pytest.raises(RuntimeError, match=r"fit\(\)"):
        rec.recommend([make_sample("s")], k=3)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("random", RandomRecommender),
        ("popularity", PopularityRecommender),
        ("itemknn", ItemKNNRecommender),
        ("ease", EASERecommender),
    ],
)
def test_make_recommender(name, cls):
    rec = make_recommender(name)
    assert type(rec) is cls
    assert rec.name == name
    assert isinstance(rec, Recommender)


def test_unknown_recommender_lists_valid_names():
    with pytest.raises(UnknownNameError) as exc:
        make_recommender("nope")
    msg = str(exc.value)
    assert "'nope'" in msg
    for name in RECOMMENDERS:
        assert name in msg
    assert msg == "unknown recommender 'nope'; valid: ease, itemknn, popularity, random"
    assert isinstance(exc.value, KeyError)


def test_ties_are_broken_by_catalog_order_every_time(catalog, popularity_train, make_sample):
    from persafe.recsys.classic import top_k

    scores = np.array([[1.0, 3.0, 3.0, 0.0, 3.0, 1.0]])
    assert top_k(scores, 4).tolist() == [[1, 2, 4, 0]]  # tied 3.0s in row order, then the tied 1.0s
    rec = PopularityRecommender()
    rec.fit(popularity_train, catalog)  # counts i0 4, i1 3, i2 2, i3 1, every other item 0 (all tied)
    probe = [make_sample("p", history=["i1"])]
    first = rec.recommend(probe, len(catalog)).rows[0].tolist()
    assert first == [0, 2, 3, 4, 5, 6, PAD]  # zero-count items by catalog row; the history (i1) never
    assert all(rec.recommend(probe, len(catalog)).rows[0].tolist() == first for _ in range(3))
