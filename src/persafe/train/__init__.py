"""Training on TRL: Safe-SFT and Safe-GDPO (data, configs, trainers, rewards) and preference losses.

Heavy imports (torch, TRL) happen in the submodules that need them (``persafe.train.sft``,
``persafe.train.gdpo``, ``persafe.train.config``, ``persafe.train.losses``).
"""

from persafe.train.data import reasoning_text, sft_rows
from persafe.train.rewards import count_reward, relevance_reward, safe_rec_rewards, safety_reward

__all__ = ["count_reward", "reasoning_text", "relevance_reward", "safe_rec_rewards", "safety_reward", "sft_rows"]
