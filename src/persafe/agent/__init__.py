"""RAISE: plan which questions to ask (LLM-guided MCTS), then ask before answering or recommending.

Offline, ``plan`` searches attribute-acquisition paths per query and a ``PathStore`` keeps the best ones
with their query embeddings; online, ``AskingAgent`` asks until the background is sufficient, with the
nearest planned paths as examples (RAISE). ``recommend`` applies the same agent to SafeRec.
"""

from persafe.agent.agent import (
    DECLINED,
    AgentConfig,
    AgentTask,
    AskingAgent,
    SimulatedUser,
    Transcript,
    Turn,
)
from persafe.agent.evaluate import VARIANTS, RaiseConfig, evaluate_raise, plan_scenarios, summarize_raise
from persafe.agent.exhaustive import ExhaustiveResult, exhaustive
from persafe.agent.mcts import Node, Planner, PlannerConfig, PlanResult, epsilon, plan
from persafe.agent.prior import FunctionPrior, LLMPrior, Prior, UniformPrior
from persafe.agent.recommend import (
    FAMILY_LABELS,
    TRAIT_FAMILIES,
    AskRecConfig,
    GuardedListReward,
    RevealedTraitsGuard,
    TraitUser,
    plan_families,
    revealed_traits,
    run_ask_before_recommend,
    trait_families,
)
from persafe.agent.report import build_raise_report
from persafe.agent.reward import PenguinReward, RewardCache, RewardFn
from persafe.agent.store import PathStore, PlannedPath, minilm_embedder

__all__ = [
    "DECLINED",
    "FAMILY_LABELS",
    "TRAIT_FAMILIES",
    "VARIANTS",
    "AgentConfig",
    "AgentTask",
    "AskRecConfig",
    "AskingAgent",
    "ExhaustiveResult",
    "FunctionPrior",
    "GuardedListReward",
    "LLMPrior",
    "Node",
    "PathStore",
    "PenguinReward",
    "PlanResult",
    "PlannedPath",
    "Planner",
    "PlannerConfig",
    "Prior",
    "RaiseConfig",
    "RevealedTraitsGuard",
    "RewardCache",
    "RewardFn",
    "SimulatedUser",
    "TraitUser",
    "Transcript",
    "Turn",
    "UniformPrior",
    "build_raise_report",
    "epsilon",
    "evaluate_raise",
    "exhaustive",
    "minilm_embedder",
    "plan",
    "plan_families",
    "plan_scenarios",
    "revealed_traits",
    "run_ask_before_recommend",
    "summarize_raise",
    "trait_families",
]
