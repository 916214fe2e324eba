"""``persafe raise``: plan which questions to ask, run the asking agent, report.

Heavy imports (models, sentence-transformers) stay inside the commands so ``persafe --help`` is fast.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from persafe.cli_support import console, fail, progress, report_failed

raise_app = typer.Typer(
    help="RAISE: plan which questions to ask (MCTS), then ask before answering or recommending.",
    no_args_is_help=True,
)

ScenariosOpt = Annotated[
    Path | None, typer.Option(help="PENGUIN scenario file (JSON/JSONL); default: generated scenarios.")
]
NGenOpt = Annotated[int, typer.Option(min=1, help="Scenarios generated when no file is given.")]
SeedOpt = Annotated[int, typer.Option(help="Random seed (scenario generation and the planner).")]
ResponderOpt = Annotated[str, typer.Option(help="Chat-model spec that answers: smollm2, hf:DIR, openai:MODEL@URL.")]
JudgeOpt = Annotated[str, typer.Option(help="rubric (offline, deterministic) or a chat-model spec (LLM judge).")]
CacheOpt = Annotated[bool, typer.Option(help="Cache model responses in the user cache (reruns are free).")]
TokensOpt = Annotated[int, typer.Option(min=1, help="Answer budget of the responder (tokens).")]


def _scenarios(path: Path | None, n_generated: int, seed: int):
    from persafe.penguin import generate_scenarios, load_scenarios

    return load_scenarios(path) if path else generate_scenarios(n_generated, seed=seed)


@raise_app.command("plan")
def plan_cmd(
    out: Annotated[Path, typer.Option(help="Path store to write (<out>.jsonl + <out>.npy).")] = Path(
        "runs/raise/paths"
    ),
    scenarios: ScenariosOpt = None,
    n_generated: NGenOpt = 700,
    limit: Annotated[int | None, typer.Option(min=1, help="Plan the first N scenarios only.")] = None,
    responder: ResponderOpt = "smollm2",
    judge: JudgeOpt = "rubric",
    prior: Annotated[str, typer.Option(help="π0: llm (the prior model) | uniform (vanilla MCTS).")] = "llm",
    prior_model: Annotated[str | None, typer.Option(help="Chat-model spec of the LLM prior (default: responder).")] = (
        None
    ),
    prior_tokens: Annotated[
        int, typer.Option(min=1, help="Generation budget of each prior call (a JSON distribution).")
    ] = 96,
    rollouts: Annotated[int, typer.Option(min=1, help="T: MCTS iterations per scenario.")] = 300,
    depth: Annotated[int, typer.Option(min=1, help="k: the longest path (questions).")] = 5,
    c: Annotated[float, typer.Option(min=0.0, help="PUCT exploration constant.")] = 0.75,
    eps0: Annotated[float, typer.Option(min=0.0, max=1.0, help="ε0 of the ε-greedy rollout policy.")] = 0.2,
    reward_mode: Annotated[str, typer.Option(help="prefix (mean over prefixes) | leaf (final set only).")] = "prefix",
    max_new_tokens: TokensOpt = 200,
    seed: SeedOpt = 0,
    cache: CacheOpt = True,
) -> None:
    """Plan the best attribute-acquisition path of each scenario with LLM-guided MCTS (RAISE offline)."""
    try:
        import json

        from persafe.agent.evaluate import plan_scenarios
        from persafe.agent.mcts import PlannerConfig
        from persafe.agent.prior import LLMPrior, UniformPrior
        from persafe.errors import UnknownNameError
        from persafe.io import atomic_write_json
        from persafe.llm import GenerationParams, load_model
        from persafe.penguin import ATTRIBUTE_LABELS, make_judge
        from persafe.penguin.loader import subsample

        if prior not in ("llm", "uniform"):
            raise UnknownNameError("prior", prior, ["llm", "uniform"])
        config = PlannerConfig(
            rollouts=rollouts,
            depth=depth,
            c=c,
            eps0=eps0,
            reward_mode=reward_mode,
            seed=seed,  # type: ignore[arg-type]
        )
        items = subsample(_scenarios(scenarios, n_generated, seed), limit)
        model = load_model(responder, cache=cache)
        pi = (
            LLMPrior(
                load_model(prior_model, cache=cache) if prior_model else model,
                ATTRIBUTE_LABELS,
                GenerationParams(max_new_tokens=prior_tokens),
            )
            if prior == "llm"
            else UniformPrior()
        )
        with progress() as prog:
            task = prog.add_task(f"planning {len(items)} scenarios", total=len(items))
            store, stats = plan_scenarios(
                items,
                model,
                make_judge(judge, cache=cache),
                pi,
                config,
                params=GenerationParams(max_new_tokens=max_new_tokens),
                progress=lambda d, t: prog.update(task, completed=d, total=t),
            )
        path = store.save(out)
        summary = {
            "config": config.model_dump(),
            "responder": responder,
            "judge": judge,
            "prior": prior if prior == "uniform" else f"llm[{prior_model or responder}]",
            "prior_stats": pi.stats() if isinstance(pi, LLMPrior) else None,
            "scenarios": [s.scenario_id for s in items],
            "per_scenario": stats,
        }
        atomic_write_json(Path(out).with_suffix("").with_name(Path(out).stem + ".plan.json"), summary)
        judged = sum(s["n_judged"] for s in stats)
        secs = sum(s["seconds"] for s in stats)
        failed = [s for s in stats if s.get("failed")]
        console.print(
            f"planned {len(items) - len(failed)} of {len(items)} scenarios: {judged} judge calls, {secs:.1f} s; "
            f"wrote {path}" + (f"; prior {json.dumps(summary['prior_stats'])}" if summary["prior_stats"] else "")
        )
    except Exception as e:
        fail(e)
    errors = Counter(e for s in failed for e in s["failed"])
    report_failed(
        {"n": len(failed), "sample_ids": [s["scenario_id"] for s in failed], "errors": dict(errors.most_common())},
        "they are not in the store; rerun the same command (answers already given come from the response cache)",
    )


@raise_app.command("run")
def run_cmd(
    out: Annotated[Path, typer.Option(help="Run folder (resumed if it exists).")] = Path("runs/raise/penguin"),
    store: Annotated[Path | None, typer.Option(help="Path store from `persafe raise plan` (planner variant).")] = None,
    scenarios: ScenariosOpt = None,
    n_generated: NGenOpt = 700,
    offset: Annotated[int, typer.Option(min=0, help="Skip the first N scenarios (e.g. the planned ones).")] = 0,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate N scenarios (round-robin over domains).")] = None,
    variant: Annotated[
        list[str] | None, typer.Option(help="vanilla | agent | planner | rich (repeatable; default the first three).")
    ] = None,
    responder: ResponderOpt = "smollm2",
    agent_model: Annotated[
        str | None, typer.Option(help="Chat-model spec of the asking agent (default: responder).")
    ] = (None),
    judge: JudgeOpt = "rubric",
    threshold: Annotated[
        int, typer.Option(min=0, max=6, help="Stop asking when the completeness rating (0-5) is ≥ this.")
    ] = 4,
    max_questions: Annotated[int, typer.Option(min=0, help="Question budget.")] = 5,
    n_examples: Annotated[int, typer.Option(min=0, help="Planned paths shown as examples.")] = 3,
    acquisition: Annotated[str, typer.Option(help="llm (the model picks) | path (follow the nearest path).")] = "llm",
    max_new_tokens: TokensOpt = 200,
    batch_size: Annotated[int, typer.Option(min=1, help="Scenarios per model call.")] = 8,
    seed: SeedOpt = 0,
    cache: CacheOpt = True,
    overwrite: Annotated[bool, typer.Option(help="Start afresh instead of resuming.")] = False,
) -> None:
    """Compare vanilla → +agent → +planner (RAISE) answers on PENGUIN scenarios with the judge."""
    try:
        from persafe.agent.evaluate import RaiseConfig, evaluate_raise
        from persafe.agent.store import PathStore
        from persafe.llm import load_model
        from persafe.llm.cache import model_fingerprint
        from persafe.penguin import make_judge
        from persafe.penguin.loader import subsample
        from persafe.runs import RunDir

        cfg = RaiseConfig(
            scenarios=str(scenarios) if scenarios else None,
            n_generated=n_generated,
            limit=limit,
            offset=offset,
            store=str(store) if store else None,
            variants=list(variant or ["vanilla", "agent", "planner"]),
            responder=responder,
            agent_model=agent_model,
            judge=judge,
            threshold=threshold,
            max_questions=max_questions,
            n_examples=n_examples,
            acquisition=acquisition,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            seed=seed,
            cache=cache,
        )
        items = subsample(_scenarios(scenarios, n_generated, seed)[offset:], limit)
        model = load_model(responder, cache=cache)
        agent = load_model(agent_model, cache=cache) if agent_model and agent_model != responder else model
        paths = PathStore.load(store) if store else None
        the_judge = make_judge(judge, cache=cache)
        identity = {
            **cfg.model_dump(exclude={"cache"}),
            "responder": model_fingerprint(model),
            "agent_model": model_fingerprint(agent),
            "judge": model_fingerprint(the_judge.model) if hasattr(the_judge, "model") else the_judge.name,
        }
        run = RunDir(out, cfg.model_dump(), identity=identity, overwrite=overwrite, seed=seed)
        with progress() as prog:
            task = prog.add_task("raise run", total=None)
            res = evaluate_raise(
                items,
                model,
                the_judge,
                agent,
                paths,
                run,
                cfg,
                progress=lambda d, t: prog.update(task, completed=d, total=t),
            )
    except Exception as e:
        fail(e)
    from persafe.agent.report import _md, penguin_tables

    (h, rows), _ = penguin_tables(res)
    console.print(_md(h, rows), markup=False)
    console.print(f"wrote {out}")
    report_failed(res.get("failed"))


@raise_app.command("recommend")
def recommend_cmd(
    out: Annotated[Path, typer.Option(help="Folder of the trade-off runs.")] = Path("runs/raise/recommend"),
    data: Annotated[Path, typer.Option(help="A built SafeRec folder (persafe build saferec).")] = Path(
        "runs/saferec-ml100k"
    ),
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate the first N implicit/none test samples.")] = 200,
    recommender: Annotated[str, typer.Option(help="Base recommender: random | popularity | itemknn | ease.")] = (
        "itemknn"
    ),
    max_questions: Annotated[int, typer.Option(min=0, help="Sweep budgets 0..N family questions.")] = 3,
    policy: Annotated[
        list[str] | None, typer.Option(help="popular | planned | agent (repeatable; default popular, planned).")
    ] = None,
    plan_samples: Annotated[int, typer.Option(min=1, help="Training samples planned.")] = 400,
    rollouts: Annotated[int, typer.Option(min=1, help="T: MCTS iterations per planned sample.")] = 48,
    depth: Annotated[int, typer.Option(min=1, help="k: planned path length.")] = 3,
    agent_model: Annotated[str | None, typer.Option(help="Chat-model spec of the agent policy.")] = None,
    combine_inference: Annotated[
        str | None,
        typer.Option(help="Also filter with traits inferred from the request (lexicon, lexicon+learned, ...)."),
    ] = None,
    default_guard: Annotated[
        bool,
        typer.Option(help="Also evaluate the guard with the default inference (lexicon+learned) as a baseline."),
    ] = False,
    seed: SeedOpt = 0,
    cache: CacheOpt = True,
    overwrite: Annotated[bool, typer.Option(help="Start afresh instead of resuming.")] = False,
) -> None:
    """Ask before recommending on SafeRec: SVR@10 / Recall@10 against the number of family questions."""
    try:
        from persafe.agent.recommend import AskRecConfig, run_ask_before_recommend

        cfg = AskRecConfig(
            data=str(data),
            limit=limit,
            recommender=recommender,
            max_questions=max_questions,
            policies=list(policy or ["popular", "planned"]),
            plan_samples=plan_samples,
            rollouts=rollouts,
            depth=depth,
            agent_model=agent_model,
            combine_inference=combine_inference,
            default_guard=default_guard,
            seed=seed,
            cache=cache,
        )
        with progress() as prog:
            task = prog.add_task("ask before recommend", total=None)
            res = run_ask_before_recommend(
                cfg, out, overwrite=overwrite, progress=lambda msg: prog.update(task, description=msg)
            )
    except Exception as e:
        fail(e)
    from persafe.agent.report import _md, recommend_table

    console.print(_md(*recommend_table(res)), markup=False)
    console.print(f"wrote {out}")
    report_failed(res.get("failed"))


@raise_app.command("report")
def report_cmd(
    runs: Annotated[list[Path], typer.Argument(help="Folders of `persafe raise run` / `persafe raise recommend`.")],
    out: Annotated[Path, typer.Option(help="HTML file (a .md is written beside it).")] = Path("runs/raise/report.html"),
    redact: Annotated[bool, typer.Option(help="Hide queries, questions and answers.")] = False,
) -> None:
    """Write the RAISE report: vanilla → agent → planner, and the ask-before-recommend trade-off curve."""
    try:
        from persafe.agent.report import build_raise_report

        path, md = build_raise_report(runs, out, redact=redact)
    except Exception as e:
        fail(e)
    console.print(md, markup=False)
    console.print(f"wrote {path}")
