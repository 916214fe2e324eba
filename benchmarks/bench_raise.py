"""RAISE planner: what the reward cache saves, and how good guided vs vanilla MCTS paths are per budget.

Reproducible and cheap: the responder is ``persafe.agent.scripted.background_echo_model`` (answers from
the disclosed background) and the judge is PENGUIN's deterministic ``RubricJudge``, on generated
PENGUIN scenarios. The guided planner's π0 is a fixed stand-in for an LLM prior (it favours the
emotional and mental-health attributes for every query, as LLM priors typically do); pass
``--prior smollm2`` to use the packaged SmolLM2 as the prior instead (slow on CPU).

1. **Reward cache**: judge calls and wall time per planned query at equal T, with and without the cache
   (the projected SmolLM2 time multiplies judge calls by ``--seconds-per-answer``).
2. **Path quality**: objective of the found path / exhaustive optimum, guided vs vanilla, at several
   budgets T, over several queries and seeds (mean ± sd).

Run: ``.venv/bin/python benchmarks/bench_raise.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

from persafe.agent.exhaustive import exhaustive
from persafe.agent.mcts import PlannerConfig, plan
from persafe.agent.prior import FunctionPrior, LLMPrior
from persafe.agent.reward import PenguinReward, RewardCache
from persafe.agent.scripted import background_echo_model
from persafe.penguin import ATTRIBUTE_LABELS, ATTRIBUTES, RubricJudge, generate_scenarios
from persafe.penguin.loader import subsample

STAND_IN_WEIGHTS = {"emotional_state": 3.0, "mental_health_status": 3.0, "self_harm_history": 2.0, "health_status": 2.0}
STAND_IN_PRIOR = FunctionPrior(lambda q, asked, unasked: {a: STAND_IN_WEIGHTS.get(a, 1.0) for a in unasked}, "stand-in")


def objective(path: list[str], reward: PenguinReward, cache: RewardCache, key: str) -> float:
    """Mean reward of the path's prefix states (the planner's ``prefix`` objective)."""
    states = [frozenset(path[: i + 1]) for i in range(len(path))]
    vals = [v for v in cache.evaluate(key, states, reward) if v is not None]
    return sum(vals) / len(vals)


def ms(xs: list[float]) -> str:
    return f"{statistics.mean(xs):.3g} ± {statistics.stdev(xs):.2g}" if len(xs) > 1 else f"{xs[0]:.3g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=14, help="scenarios (round-robin over the 7 domains)")
    ap.add_argument("--rollouts", type=int, default=300, help="T of the cache comparison")
    ap.add_argument("--depth", type=int, default=5, help="k of the cache comparison")
    ap.add_argument("--budgets", type=int, nargs="+", default=[5, 10, 20, 50, 100])
    ap.add_argument("--quality-depth", type=int, default=3, help="k of the quality comparison (exhaustive)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seconds-per-answer", type=float, default=5.0, help="SmolLM2 answer time for the projection")
    ap.add_argument("--prior", default="stand-in", help="stand-in | smollm2 (the packaged model as π0)")
    args = ap.parse_args()

    scenarios = subsample(generate_scenarios(700, seed=0), args.queries)
    responder, judge = background_echo_model(), RubricJudge()
    prior = STAND_IN_PRIOR
    if args.prior != "stand-in":
        from persafe.llm import load_model

        prior = LLMPrior(load_model(args.prior, cache=True), ATTRIBUTE_LABELS)

    print(f"# RAISE planner benchmark ({platform.processor() or platform.machine()}, Python {sys.version.split()[0]})")
    print(
        f"\n{len(scenarios)} generated PENGUIN scenarios; scripted background responder + rubric judge; "
        f"prior: {args.prior}"
    )
    print(f"\n## 1. Reward cache at equal T = {args.rollouts}, depth {args.depth} (vanilla MCTS, prefix objective)\n")
    print("| Cache | Judge calls / query | Wall time / query (s) | Projected SmolLM2 time / query |")
    print("|---|---|---|---|")
    for use_cache in (True, False):
        calls, secs = [], []
        for s in scenarios:
            reward = PenguinReward(s, responder, judge)
            cfg = PlannerConfig(rollouts=args.rollouts, depth=args.depth, use_cache=use_cache)
            t0 = time.perf_counter()
            plan(s.query, reward, None, ATTRIBUTES, cfg, query_key=s.scenario_id)
            secs.append(time.perf_counter() - t0)
            calls.append(reward.calls)
        proj = statistics.mean(calls) * args.seconds_per_answer / 60
        print(f"| {'on' if use_cache else 'off'} | {ms(calls)} | {ms(secs)} | {proj:.0f} min |")

    k = args.quality_depth
    print(f"\n## 2. Path quality vs exhaustive optimum (depth {k}, {args.seeds} seeds x {len(scenarios)} queries)\n")
    optimum, evals = {}, RewardCache()
    ex_calls = []
    for s in scenarios:
        reward = PenguinReward(s, responder, judge)
        ex = exhaustive(reward, ATTRIBUTES, k, "prefix", query_key=s.scenario_id, cache=evals)
        optimum[s.scenario_id] = (ex.value, reward)
        ex_calls.append(ex.n_judged)
    print(f"Exhaustive search judges {ex_calls[0]} attribute sets per query.\n")
    print("| T | Vanilla: quality | Guided: quality | Vanilla: optimal paths | Guided: optimal paths "
          "| Vanilla: judge calls | Guided: judge calls |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for budget in args.budgets:
        row = {}
        for name, pr in (("vanilla", None), ("guided", prior)):
            quality, optimal, calls = [], 0, []
            for s in scenarios:
                best, reward = optimum[s.scenario_id]
                for seed in range(args.seeds):
                    cfg = PlannerConfig(rollouts=budget, depth=k, seed=seed)
                    res = plan(
                        s.query, PenguinReward(s, responder, judge), pr, ATTRIBUTES, cfg, query_key=s.scenario_id
                    )
                    value = objective(res.path, reward, evals, s.scenario_id)
                    quality.append(value / best)
                    optimal += abs(value - best) < 1e-9
                    calls.append(res.n_judged)
            row[name] = (ms(quality), f"{optimal / len(quality):.0%}", ms(calls))
        v, g = row["vanilla"], row["guided"]
        print(f"| {budget} | {v[0]} | {g[0]} | {v[1]} | {g[1]} | {v[2]} | {g[2]} |")
    print("\nCommand: .venv/bin/python benchmarks/bench_raise.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
