"""Training on TRL: Safe-SFT, Safe-GDPO, RosePO and S-DPO (data, pair builders, configs, trainers, rewards).

Heavy imports (torch, TRL) happen in the submodules that need them (``persafe.train.sft``,
``persafe.train.gdpo``, ``persafe.train.preference``, ``persafe.train.config``, ``persafe.train.losses``).
"""

from persafe.train.data import reasoning_text, sft_rows
from persafe.train.pairs import STRATEGIES, PairBuilder, PairStats, epsilon_sigmoid, recommender_scorer
from persafe.train.rewards import count_reward, relevance_reward, safe_rec_rewards, safety_reward

__all__ = [
    "STRATEGIES",
    "PairBuilder",
    "PairStats",
    "count_reward",
    "epsilon_sigmoid",
    "reasoning_text",
    "recommender_scorer",
    "relevance_reward",
    "safe_rec_rewards",
    "safety_reward",
    "sft_rows",
]
