"""Preference losses equal their formulas; RosePO(ε=0) and S-DPO(one negative) reduce to DPO; GDPO
separates reward totals that GRPO collapses."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from persafe.train.losses import dpo_loss, gdpo_advantages, rosepo_loss, sdpo_loss, user_oracle_epsilon  # noqa: E402

CHOSEN = torch.tensor([-1.0, 0.5, 2.0])
REJECTED = torch.tensor([-2.0, 1.0, -0.5])


def _logsig(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_rosepo_equals_the_formula_on_fixed_logratios():
    eps = torch.tensor([0.0, 0.2, 0.3])
    got = rosepo_loss(CHOSEN, REJECTED, eps, beta=0.5)
    for i in range(3):
        h = 0.5 * float(CHOSEN[i] - REJECTED[i])
        want = -(1 - float(eps[i])) * _logsig(h) - float(eps[i]) * _logsig(-h)
        assert float(got[i]) == pytest.approx(want, rel=1e-6)


def test_rosepo_with_zero_epsilon_is_dpo():
    assert torch.allclose(rosepo_loss(CHOSEN, REJECTED, 0.0, beta=0.1), dpo_loss(CHOSEN, REJECTED, beta=0.1))


def test_sdpo_with_one_negative_is_dpo():
    assert torch.allclose(sdpo_loss(CHOSEN, REJECTED[:, None], beta=1.0), dpo_loss(CHOSEN, REJECTED, beta=1.0))


def test_sdpo_more_negatives_cost_more():
    two = torch.stack([REJECTED, REJECTED - 1.0], dim=1)
    assert (sdpo_loss(CHOSEN, two) > sdpo_loss(CHOSEN, REJECTED[:, None])).all()


def test_user_oracle_epsilon_is_clipped():
    eps = user_oracle_epsilon(torch.tensor([5.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 10.0]), eps_max=0.3)
    assert eps.tolist() == pytest.approx([1 / (1 + math.exp(5)), 0.3, 0.3])


def test_gdpo_separates_what_grpo_collapses():
    """Two rewards, groups of two: totals (0, 1) and (0, 2) get the same GRPO advantage but GDPO gives
    ±0.707 and ±1.414 before the batch normalisation (GDPO)."""
    rewards = torch.tensor([[0.0, 0.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0]])
    gdpo = gdpo_advantages(rewards, torch.tensor([1.0, 1.0]), group_size=2, batch_normalize=False)
    assert gdpo.tolist() == pytest.approx([-0.7071, 0.7071, -1.4142, 1.4142], abs=1e-3)
    totals = rewards.sum(dim=1).reshape(-1, 2)
    grpo = ((totals - totals.mean(dim=1, keepdim=True)) / (totals.std(dim=1, keepdim=True) + 1e-4)).reshape(-1)
    assert grpo.tolist() == pytest.approx([-0.7071, 0.7071, -0.7071, 0.7071], abs=1e-3)
    normed = gdpo_advantages(rewards, torch.tensor([1.0, 1.0]), group_size=2)
    assert float(normed[3] / normed[1]) == pytest.approx(2.0, rel=1e-3)  # the 1:2 separation survives


def test_gdpo_scale_of_a_reward_cancels():
    rewards = torch.tensor([[0.0, 1.0], [1.0, 3.0], [0.5, 0.0], [1.0, 2.0]])
    scaled = rewards * torch.tensor([10.0, 0.1])
    w = torch.tensor([1.0, 2.0])
    assert torch.allclose(gdpo_advantages(rewards, w, 2), gdpo_advantages(scaled, w, 2), atol=1e-3)
