"""Preference-optimisation losses on per-sample log-ratios (pure torch, shared by the trainers and tests).

``logratio(y) = log πθ(y|x) − log π_ref(y|x)`` (summed over the answer's tokens).
"""

from __future__ import annotations

from typing import Any


def dpo_loss(chosen: Any, rejected: Any, beta: float = 0.1) -> Any:
    """``−log σ(β (r_w − r_l))`` per sample (Rafailov et al., 2023)."""
    import torch.nn.functional as F

    return -F.logsigmoid(beta * (chosen - rejected))


def rosepo_loss(chosen: Any, rejected: Any, epsilon: Any, beta: float = 0.1) -> Any:
    """RosePO's smoothed DPO loss per sample (Liao et al., arXiv 2410.12519).

    ``L = −(1−ε_u)·log σ(β h) − ε_u·log σ(−β h)`` with ``h = r_w − r_l``. With ``ε_u = 0`` it is DPO.

    Args:
        chosen: ``r_w`` per sample.
        rejected: ``r_l`` per sample.
        epsilon: ``ε_u`` per sample (or a scalar), the confidence that the preference is wrong.
        beta: DPO temperature.
    """
    import torch.nn.functional as F

    h = beta * (chosen - rejected)
    return -(1 - epsilon) * F.logsigmoid(h) - epsilon * F.logsigmoid(-h)


def sdpo_loss(chosen: Any, rejected: Any, beta: float = 1.0) -> Any:
    """S-DPO's multi-negative softmax loss per sample (Chen et al., 2024).

    ``L = −log σ(−log Σ_j exp(β (r_l,j − r_w)))``; with one negative it equals DPO.

    Args:
        chosen: ``r_w``, shape ``(n,)``.
        rejected: ``r_l,j``, shape ``(n, m)`` for ``m`` negatives.
    """
    import torch
    import torch.nn.functional as F

    return -F.logsigmoid(-torch.logsumexp(beta * (rejected - chosen[:, None]), dim=1))


def user_oracle_epsilon(score_chosen: Any, score_rejected: Any, eps_max: float = 0.3) -> Any:
    """RosePO's personalised smoothing from a conventional recommender's scores ``s(u, ·)``:
    ``ε_u = clip(σ(s(u, y_l) − s(u, y_w)), 0, ε_max)``. The paper's exact form is not public; this is the
    documented reconstruction, and trainers accept any function in its place."""
    import torch

    return torch.clamp(torch.sigmoid(score_rejected - score_chosen), 0.0, eps_max)


def gdpo_advantages(
    rewards: Any, weights: Any, group_size: int, eps: float = 1e-4, batch_normalize: bool = True
) -> Any:
    """GDPO advantages (arXiv 2601.05242): z-score each reward within its group, weight and sum, then
    normalise over the batch.

    Args:
        rewards: ``(n, k)``: ``k`` rewards per completion, ``n`` a multiple of ``group_size``, groups
            contiguous.
        weights: ``(k,)`` reward weights.
        group_size: completions per prompt.
        batch_normalize: apply the final batch normalisation (off: the weighted sum of z-scores).

    Returns:
        ``(n,)`` advantages. (TRL computes the same with
        ``GRPOConfig(multi_objective_aggregation="normalize_then_sum")``; this function documents and
        tests the arithmetic.)
    """
    import torch

    r = rewards.reshape(-1, group_size, rewards.shape[-1])
    z = (r - r.mean(dim=1, keepdim=True)) / (r.std(dim=1, keepdim=True) + eps)
    a = (z * torch.as_tensor(weights, dtype=z.dtype)).sum(dim=-1).reshape(-1)
    return (a - a.mean()) / (a.std() + eps) if batch_normalize else a
