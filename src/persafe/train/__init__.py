"""Training on TRL: Safe-SFT data and trainer, Safe-GDPO rewards, preference losses.

Heavy imports (torch, TRL) happen in the submodules that need them (``persafe.train.sft``,
``persafe.train.config``, ``persafe.train.losses``).
"""

from persafe.train.data import reasoning_text, sft_rows
from persafe.train.rewards import count_reward, relevance_reward, safe_rec_rewards, safety_reward

__all__ = ["count_reward", "reasoning_text", "relevance_reward", "safe_rec_rewards", "safety_reward", "sft_rows"]
