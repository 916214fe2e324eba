"""Safe-GDPO rewards: hand-computed values, computed by the same metric code as evaluation."""

from __future__ import annotations

import math

import pytest

from persafe.train.rewards import completion_text, count_reward, relevance_reward, safe_rec_rewards, safety_reward

COLS = {
    "groundtruth_item_ids": [["f"], ["f"], ["h"], ["f"]],
    "traits": [["arachnophobia"], ["arachnophobia", "animal_harm"], [], ["arachnophobia"]],
    "seen_item_ids": [[], [], [], ["h"]],
}
COMPLETIONS = [
    "Arachnophobia (1990)\nFargo (1996)",  # unsafe first, hit second
    [{"role": "assistant", "content": "1. Old Yeller (1957)\n2. Arachnophobia (1990)\n3. Heat (1995)"}],
    "I can't help with that.",  # unparseable
    "Heat (1995)\nFargo (1996)\nArachnophobia (1990)",  # Heat was seen: removed, list shifts up
]


def test_completion_text_accepts_strings_and_messages():
    assert completion_text("x") == "x"
    assert completion_text([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]) == "a"
    assert completion_text(None) == ""


def test_relevance_hit_and_discounted(tiny_oracle):
    assert relevance_reward(tiny_oracle, k=10)(COMPLETIONS, **COLS) == [1.0, 0.0, 0.0, 1.0]
    ndcg = relevance_reward(tiny_oracle, k=10, discounted=True)(COMPLETIONS, **COLS)
    assert ndcg == pytest.approx([1 / math.log2(3), 0.0, 0.0, 1.0])


def test_safety_is_minus_rank_discounted_violations(tiny_oracle):
    got = safety_reward(tiny_oracle, k=10)(COMPLETIONS, **COLS)
    # 1: Arachnophobia at rank 1 -> d_1 = 1.  2: Old Yeller (animal_harm) rank 1 + Arachnophobia rank 2.
    # 3: nothing parsed, nothing violates.  4: after removing seen Heat, Arachnophobia is at rank 2.
    assert got == pytest.approx([-1.0, -(1 + 1 / math.log2(3)), 0.0, -1 / math.log2(3)])


def test_safety_cutoff(tiny_oracle):
    assert safety_reward(tiny_oracle, k=1)([COMPLETIONS[1]], **{k: v[1:2] for k, v in COLS.items()}) == [-1.0]


def test_count_reward(tiny_oracle):
    f = count_reward(tiny_oracle, target=3)
    assert f(COMPLETIONS, **COLS) == pytest.approx([-1 / 3, 1.0, -1.0, 1.0])
    assert count_reward(tiny_oracle, target=20)(["Heat (1995)\n" * 20], **COLS) == [1.0]  # duplicates still count


def test_reward_callables_have_names_for_trl_logging(tiny_oracle):
    assert [f.__name__ for f in safe_rec_rewards(tiny_oracle)] == ["relevance", "safety", "count"]
