"""Training on TRL: Safe-GDPO rewards and preference losses (trainers are being added)."""

from persafe.train.rewards import count_reward, relevance_reward, safe_rec_rewards, safety_reward

__all__ = ["count_reward", "relevance_reward", "safe_rec_rewards", "safety_reward"]
