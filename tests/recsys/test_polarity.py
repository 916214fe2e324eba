"""The lexicon reads polarity: a mention said with liking or indifference is not an avoidance."""

from __future__ import annotations

import pytest

from persafe.recsys.inference import LexiconInference, load_polarity

LIKING = [
    "I love horror movies, the scarier the better.",
    "The gorier the better, honestly.",
    "Not scared of spiders at all, bring on the creature features.",
    "I'm an ER nurse, hospital dramas don't bother me.",
    "I'm not afraid of needles.",
    "Torture scenes don't faze me.",
    "Gory splatter comedies are my favorite.",
    "I'm fine with films about suicide as long as they are well made.",
    "Zero phobias here, snakes included.",
]

AVOIDING = [
    ("I'm terrified of spiders.", ["arachnophobia"]),
    ("Please, no horror.", ["horror"]),
    ("I love dogs, so please no scenes where a dog dies.", ["animal_harm"]),
    ("I love horror, but no spiders please.", ["arachnophobia"]),
    ("No gore please, I'm squeamish.", ["gore"]),
    ("I'd like to avoid anything with needles.", ["needle_phobia"]),
]


@pytest.mark.parametrize("text", LIKING)
def test_a_mention_with_liking_is_not_an_avoidance(text: str) -> None:
    assert LexiconInference().infer([text]) == [[]]


@pytest.mark.parametrize(("text", "traits"), AVOIDING)
def test_an_avoidance_is_read_even_next_to_liking(text: str, traits: list[str]) -> None:
    assert LexiconInference().infer([text]) == [traits]


def test_polarity_off_takes_every_mention_for_an_avoidance() -> None:
    plain = LexiconInference(polarity=False)
    assert plain.infer(["Gory splatter comedies are my favorite."]) == [["gore"]]
    assert plain.infer(["I love horror movies, the scarier the better."]) == [["horror"]]


def test_each_clause_has_its_own_polarity() -> None:
    """Liking in one clause does not clear an avoidance in another, nor the reverse."""
    inf = LexiconInference()
    assert inf.infer(["I love a good ghost story, but please no spiders."]) == [["arachnophobia"]]
    assert inf.infer(["No spiders please. I love horror movies, the scarier the better."]) == [["arachnophobia"]]


def test_custom_cues() -> None:
    inf = LexiconInference({"horror": [r"\bhorror\b"]}, polarity={"liking": [r"\bhooray\b"], "avoidance": []})
    assert inf.infer(["horror hooray", "no horror"]) == [[], ["horror"]]


def test_polarity_file_is_checked(tmp_path) -> None:
    from persafe.errors import DataError

    bad = tmp_path / "lex.json"
    bad.write_text('{"patterns": {}, "polarity": {"liking": "love"}}', encoding="utf-8")
    with pytest.raises(DataError, match="'liking' and 'avoidance' lists"):
        load_polarity(bad)
