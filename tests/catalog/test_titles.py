"""Title display, normalisation, aliases and catalog matching."""

from __future__ import annotations

import pytest

from persafe.catalog import Catalog, Item, MovieLens, TitleIndex, display_title, normalize_title
from persafe.catalog.titles import YEAR_TOLERANCE, title_aliases, title_numbers


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Usual Suspects, The", "The Usual Suspects"),
        ("Blue Angel, The (Blaue Engel, Der)", "The Blue Angel (Blaue Engel, Der)"),
        ("Amant, L'", "L'Amant"),
        ("Cité des enfants perdus, La", "La Cité des enfants perdus"),
        ("  Heat ", "Heat"),
        ("Seven (Se7en)", "Seven (Se7en)"),
        ("Romeo & Juliet", "Romeo & Juliet"),
    ],
)
def test_display_title(raw: str, shown: str) -> None:
    assert display_title(raw) == shown


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("Usual Suspects, The", "usual suspects"),
        ("The Usual Suspects", "usual suspects"),
        ("  THE Usual Suspects!! ", "usual suspects"),
        ("Seven (Se7en)", "seven se7en"),
        ("Amélie", "amelie"),
        ("Cité des enfants perdus, La", "cite des enfants perdus"),
        ("Romeo & Juliet", "romeo and juliet"),
        ("Romeo and Juliet", "romeo and juliet"),
        ("Amant, L'", "amant"),
        ("A, The", "a"),  # an article alone is not stripped to nothing
        ("!!", ""),
    ],
)
def test_normalize_title(raw: str, norm: str) -> None:
    assert normalize_title(raw) == norm


def test_title_aliases() -> None:
    assert title_aliases("Seven (Se7en)") == ["seven se7en", "seven", "se7en"]
    assert title_aliases("Blue Angel, The (Blaue Engel, Der)") == [
        "blue angel blaue engel der",
        "blue angel",
        "blaue engel",
    ]
    assert title_aliases("Heat") == ["heat"]


@pytest.fixture
def index() -> TitleIndex:
    return TitleIndex(
        ["Usual Suspects, The", "Heat", "Heat", "Seven (Se7en)"],
        [1995, 1995, 1986, 1995],
        popularity=[10, 5, 50, 1],
    )


def test_year_tolerance(index: TitleIndex) -> None:
    assert YEAR_TOLERANCE == 2
    assert index.match("The Usual Suspects", 1995).index == 0
    assert index.match("The Usual Suspects", 1993).index == 0
    assert index.match("The Usual Suspects", 1997).index == 0
    assert index.match("The Usual Suspects", 1998).index == -1
    assert index.match("The Usual Suspects", 1992).index == -1
    assert index.match("The Usual Suspects").index == 0  # no year: no year check


def test_same_title_picks_closest_year_then_popularity(index: TitleIndex) -> None:
    assert index.match("Heat", 1995).index == 1
    assert index.match("Heat", 1987).index == 2
    assert index.match("Heat", 1990).index == -1  # 5 and 4 years away
    assert index.match("Heat").index == 2  # no year: the more popular one


def test_alias_exact_fuzzy_and_none(index: TitleIndex) -> None:
    m = index.match("Se7en", 1995)
    assert (m.index, m.method, m.score) == (3, "exact", 100.0)
    assert index.match("Seven", 1996).index == 3
    assert index.match("Seven", 2001).index == -1
    fuzzy = index.match("Usual Suspect", 1995)
    assert (fuzzy.index, fuzzy.method) == (0, "fuzzy")
    assert 92.0 <= fuzzy.score < 100.0
    assert index.match("Completely Different", 1995).method == "none"
    assert index.match("").index == -1
    assert index.match("!!").index == -1


def test_fuzzy_can_be_disabled() -> None:
    idx = TitleIndex(["Usual Suspects, The"], [1995], fuzzy_threshold=None)
    assert idx.match("Usual Suspect", 1995).index == -1
    assert idx.match("usual suspects", 1995).index == 0


def test_catalog_match_and_display() -> None:
    cat = Catalog([Item(item_id=12, title="Usual Suspects, The", year=1995), Item(item_id="x", title="Heat")])
    assert cat.items[0].item_id == "12"
    assert cat.items[0].display == "The Usual Suspects (1995)"
    assert cat.items[1].display == "Heat"
    assert cat.match("the usual suspects", 1996).index == 0
    assert "12" in cat
    assert cat.rows([12, "x"]) == [0, 1]


def test_movielens_titles(movielens: MovieLens) -> None:
    cat = movielens.catalog
    m = cat.match("The Usual Suspects", 1995)
    assert m.method == "exact"
    assert cat.items[m.index].title == "Usual Suspects, The"
    assert cat.items[m.index].display == "The Usual Suspects (1995)"
    assert cat.get(m.index + 1).item_id == cat.items[m.index].item_id  # MovieLens ids are 1-based rows


# --- rules that hold on real catalogs --------------------------------------------------------------


@pytest.fixture
def sequels() -> TitleIndex:
    return TitleIndex(
        [
            "Moon Patrol",
            "Moon Patrol 3",
            "Harbor Kings II",
            "Harbor Kings III",
            "Night Shift: Part 2",
            "Baker and I, The",
        ],
        [2008, 2016, 1990, 1994, 2001, 1999],
    )


def test_fuzzy_match_needs_the_same_numbers(sequels: TitleIndex) -> None:
    # the next, non-existent sequel is not its neighbour
    assert sequels.match("Moon Patrol 2", 2014).index == -1
    assert sequels.match("Moon Patrol 4", 2016).index == -1
    assert sequels.match("Harbor Kings IV", 1994).index == -1
    assert sequels.match("Harbor Kings II", 1992).index == 2
    assert sequels.match("Harbor Kings III", 1992).index == 3
    assert sequels.match("Night Shift: Part 3", 2001).index == -1
    # nor is the first film its sequel, or the other way round
    assert TitleIndex(["Moon Patrol 2"], [2010]).match("Moon Patrol", 2010).index == -1
    assert TitleIndex(["Moon Patrol"], [2010]).match("Moon Patrol 2", 2010).index == -1


def test_fuzzy_match_with_the_same_numbers_still_works(sequels: TitleIndex) -> None:
    assert sequels.match("Moon Patrl 3", 2016).index == 1
    assert sequels.match("Moon Patrol3", 2016).index == 1  # a digit glued to a word is still a number
    assert sequels.match("Harbour Kings II", 1990).index == 2
    assert sequels.match("Night Shfit: Part 2", 2001).index == 4
    assert sequels.match("The Bakers and I", 1999).index == 5  # "I" is the pronoun, not one


def test_title_numbers() -> None:
    assert title_numbers("moon patrol 3") == ("3",)
    assert title_numbers("harbor kings iii") == ("3",)
    assert title_numbers("part 2 007") == ("2", "7")
    assert title_numbers("baker and i") == ()
    assert title_numbers("mix vivid") == ()
    assert title_numbers("rocky xiv") == ("14",)


def test_the_article_as_written_decides_between_two_works() -> None:
    idx = TitleIndex(["Father", "Father, The", "Orchard, The"], [2020, 2020, 2011], popularity=[100, 1, 1])
    assert idx.match("The Father", 2020).index == 1
    assert idx.match("Father, The", 2020).index == 1
    assert idx.match("Father", 2020).index == 0
    assert idx.match("the father").index == 1
    assert idx.match("Orchard", 2011).index == 2  # without the article it still matches the only one
    # the year still decides first: only the other form is close enough
    idx = TitleIndex(["Father", "Father, The"], [2020, 1990])
    assert idx.match("The Father", 2020).index == 0


def test_overlong_or_odd_input_matches_nothing(index: TitleIndex) -> None:
    assert index.match("Heat" + " " * 10_000, 1995).index == -1
    assert index.match(None).index == -1  # type: ignore[arg-type]


# --- memos and the trigram index change no result ----------------------------------------------------


def _plain_normal_forms(title: str) -> tuple[str, str]:
    """The normal forms as first defined (no shortcut), which ``_normal_forms`` must give."""
    import re
    import unicodedata

    from persafe.catalog.titles import _ARTICLES, _TRAILING_ARTICLE

    m = _TRAILING_ARTICLE.match(title.strip())
    shown = title.strip()
    if m:
        art = m.group("art")
        shown = f"{art}{'' if art.endswith(chr(39)) else ' '}{m.group('body').strip()}{m.group('rest') or ''}"
    t = unicodedata.normalize("NFKD", shown).encode("ascii", "ignore").decode("ascii").lower()
    full = re.sub(r"[^0-9a-z]+", " ", t.replace("&", " and ")).strip()
    for art in _ARTICLES:
        a = art.rstrip("'")
        if full.startswith(a + " ") and len(full) > len(a) + 1:
            return full, full[len(a) + 1 :]
    return full, full


def test_normal_forms_equal_the_plain_definition(movielens: MovieLens) -> None:
    import random

    from persafe.catalog.titles import _normal_forms, normalize_titles

    rng = random.Random(2)
    titles = [it.title for it in movielens.catalog.items]
    atoms = ["The ", "the", ", The", ", L'", "L'", "Les ", "A", " ", "&", "é", "Ǆ", "ﬁ", "東", "-", "(", ")", "x", "7"]
    atoms.append(",")
    titles += ["".join(rng.choice(atoms) for _ in range(rng.randint(0, 8))) for _ in range(3_000)]
    for title in titles:
        assert _normal_forms(title) == _plain_normal_forms(title), title
    assert normalize_titles(titles) == [normalize_title(t) for t in titles]


def _typos(rng, key: str, edits: int) -> str:
    for _ in range(edits):
        i = rng.randrange(len(key) + 1)
        op = rng.random()
        c = rng.choice("abcdefghijklmnopqrstuvwxyz 0123456789")
        key = key[:i] + c + key[i:] if op < 0.4 else key[:i] + key[i + 1 :] if op < 0.7 else key[:i] + c + key[i + 1 :]
    return key


def test_trigram_index_finds_what_scoring_every_key_finds() -> None:
    import random

    from persafe.catalog.titles import TitleIndex

    rng = random.Random(11)
    words = ["moon", "patrol", "harbor", "kings", "night", "shift", "the", "of", "a", "baker", "star", "road", "ana"]
    titles = sorted({" ".join(rng.choice(words) for _ in range(rng.randint(1, 5))) for _ in range(3_000)})
    titles = [t + rng.choice(["", "", " 2", " II", " 3", " part 2", " 1999", "s"]) for t in titles]
    idx = TitleIndex(titles, [rng.randint(1950, 2020) for _ in titles])
    keys = list(idx._rows)
    queries = [_typos(rng, rng.choice(keys), rng.choice([0, 1, 1, 2, 3])) for _ in range(600)]
    queries += ["ab", "abcd", "anana banana", "x" * 60, "é moon", "moon\npatrol", ""]
    for threshold in (92.0, 95.0, 85.0, 70.0, 100.0, 40.0):
        for key in queries:
            assert idx._fuzzy_candidates(key, threshold) == idx._fuzzy_scan(key, threshold), (key, threshold)


def test_trigram_candidates_hold_every_key_that_reaches_the_threshold() -> None:
    """Also for keys that are not normalised (any character): the filter may only add candidates."""
    import random

    from rapidfuzz import fuzz

    from persafe.catalog.titles import _TrigramBlocks

    rng = random.Random(4)
    alphabet = "ab c\néö東_-"
    keys = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(500)]
    blocks = _TrigramBlocks(keys)
    for _ in range(300):
        query = _typos(rng, rng.choice(keys), rng.randint(0, 2)) if rng.random() < 0.8 else rng.choice(keys)
        for threshold in (92.0, 80.0):
            found = blocks.candidates(query, threshold)
            if found is None:
                continue
            reach = {i for i, k in enumerate(keys) if fuzz.ratio(query, k, score_cutoff=threshold)}
            assert reach <= set(found.tolist()), (query, threshold)


def test_match_rows_equals_match(index: TitleIndex) -> None:
    pairs = [("The Usual Suspects", 1995), ("Heat", 1987), ("Heat", None), ("Usual Suspect", 1995),
             ("Nothing", 2000), ("", None), ("x" * 600, 1995), (None, 1995), ("Se7en", 1996)] * 3  # fmt: skip
    want = [index.match(t, y).index for t, y in pairs]  # type: ignore[arg-type]
    assert index.match_rows(pairs) == want  # type: ignore[arg-type]
    assert index.match_rows(pairs, missing=-2) == [-2 if r == -1 else r for r in want]  # type: ignore[arg-type]
    assert index.match_rows([]) == []


def test_match_memos_are_bounded_and_change_nothing(monkeypatch: pytest.MonkeyPatch, movielens: MovieLens) -> None:
    import random

    from persafe.catalog import titles

    cat = movielens.catalog
    rng = random.Random(8)
    pairs = [(_typos(rng, it.title, rng.choice([0, 0, 1])), it.year) for it in rng.sample(cat.items, 300)]
    fresh = TitleIndex([it.title for it in cat.items], [it.year for it in cat.items], cat.popularity)
    want = [fresh.match(t, y) for t, y in pairs]
    monkeypatch.setattr(titles, "MEMO_SIZE", 20)
    titles.clear_caches()
    small = TitleIndex([it.title for it in cat.items], [it.year for it in cat.items], cat.popularity)
    for _ in range(2):
        assert [small.match(t, y) for t, y in pairs] == want
        assert small.match_rows(pairs) == [m.index for m in want]
        assert len(small._memo) <= 20 and len(small._row_memo) <= 20 and len(small._fuzzy_memo) <= 20
