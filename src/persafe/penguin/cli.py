"""``persafe penguin``: build scenarios, answer them, judge the answers, report, and compare judges."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

penguin_app = typer.Typer(
    help="PENGUIN: personalized safety of assistant answers (build → respond → judge → report).",
    no_args_is_help=True,
)
DEFAULT_SCENARIOS = Path("runs/penguin/scenarios.jsonl")


def _slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_") or "model"


@penguin_app.command("build")
def build_cmd(
    out: Annotated[Path, typer.Option(help="Scenario file to write (persafe JSONL).")] = DEFAULT_SCENARIOS,
    n: Annotated[int, typer.Option(min=1, help="Scenarios to generate (domains balanced).")] = 700,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    risky_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of profiles drawn so that the query is risky.")
    ] = 0.75,
    source: Annotated[
        Path | None, typer.Option("--from", help="Convert this released- or profile-format file instead.")
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option(
            help="Fallback domain for --from records whose domain cannot be derived (no 'domain' field, and "
            "'scenario' is neither a domain nor a PENGUIN scenario name); it never overrides a derived one."
        ),
    ] = None,
) -> None:
    """Generate the built-in scenarios (or convert a PENGUIN file) into persafe JSONL."""
    from collections import Counter

    from persafe.cli_support import console, fail
    from persafe.penguin.generator import generate_scenarios
    from persafe.penguin.loader import load_scenarios, write_scenarios

    try:
        scenarios = load_scenarios(source, domain=domain) if source else generate_scenarios(n, seed, risky_share)
        write_scenarios(out, scenarios)
    except Exception as e:
        fail(e)
    domains = Counter(s.domain for s in scenarios)
    sources = Counter(s.source for s in scenarios)
    risky = sum(bool(s.risk_factors) for s in scenarios)
    console.print(f"wrote {len(scenarios)} scenarios to {out}")
    console.print(f"domains: {dict(domains)}; sources: {dict(sources)}; risky for their profile: {risky}")


@penguin_app.command("respond")
def respond_cmd(
    model: Annotated[str, typer.Option(help="Chat-model spec: smollm2, hf:DIR, openai:MODEL@URL, scripted:echo.")],
    scenarios: Annotated[Path, typer.Option(help="Scenario file (any supported shape).")] = DEFAULT_SCENARIOS,
    context: Annotated[
        list[str] | None,
        typer.Option(help="free | rich | only:<attribute> | attrs:<a>,<b> | ablation (repeatable; default free+rich)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Answer only N scenarios, taken round-robin over domains.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder (default runs/penguin/<model>).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Conversations per model call.")] = 8,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Answer budget in tokens.")] = 200,
    temperature: Annotated[float, typer.Option(min=0.0, help="0 = greedy.")] = 0.0,
    cache: Annotated[bool, typer.Option(help="Cache model responses in the user cache.")] = True,
    overwrite: Annotated[bool, typer.Option(help="Start afresh instead of resuming.")] = False,
) -> None:
    """Answer each scenario in each context into a resumable run folder."""
    from persafe.cli_support import console, fail, progress, report_failed
    from persafe.llm import GenerationParams, load_model
    from persafe.penguin.loader import load_scenarios, subsample
    from persafe.penguin.responder import expand_contexts, run_responses

    out = out or Path("runs/penguin") / _slug(model)
    try:
        contexts = expand_contexts(context or ["free", "rich"])
        chosen = subsample(load_scenarios(scenarios), limit)
        params = GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature)
        llm = load_model(model, cache=cache)
        with progress() as prog:
            task = prog.add_task(f"respond {model}", total=None)
            res = run_responses(
                llm,
                chosen,
                contexts,
                out,
                params=params,
                batch_size=batch_size,
                overwrite=overwrite,
                progress=lambda d, t: prog.update(task, completed=d, total=t),
            )
    except Exception as e:
        fail(e)
    for c, row in res["contexts"].items():
        console.print(f"{c}: {row['answers']} answers, {row['errors']} failed, {row['mean_words']} words on average")
    console.print(f"wrote {out}")
    report_failed(res.get("failed"))


@penguin_app.command("judge")
def judge_cmd(
    responses: Annotated[Path, typer.Option(help="A responses run folder (penguin respond).")],
    judge: Annotated[str, typer.Option(help="rubric | any model spec (smollm2, openai:MODEL@URL, ...).")] = "rubric",
    out: Annotated[Path | None, typer.Option(help="Judged run folder (default <responses>/judge-<judge>).")] = None,
    retries: Annotated[
        int, typer.Option(min=0, help="Retries of an unusable LLM verdict before it counts as invalid.")
    ] = 1,
    batch_size: Annotated[int, typer.Option(min=1, help="Answers per judge call.")] = 16,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Token budget of an LLM verdict.")] = 96,
    cache: Annotated[bool, typer.Option(help="Cache judge responses in the user cache.")] = True,
    overwrite: Annotated[bool, typer.Option(help="Start afresh instead of resuming.")] = False,
) -> None:
    """Score every answer on the three dimensions; write verdicts and the analyses."""
    from persafe.cli_support import console, fail, progress, report_failed
    from persafe.llm import GenerationParams
    from persafe.penguin.judge import make_judge
    from persafe.penguin.scoring import run_judge

    out = out or responses / f"judge-{_slug(judge)}"
    try:
        kwargs = {} if judge == "rubric" else {"params": GenerationParams(max_new_tokens=max_new_tokens)}
        j = make_judge(judge, cache=cache, retries=retries, **kwargs)
        with progress() as prog:
            task = prog.add_task(f"judge {j.name}", total=None)
            res = run_judge(
                responses,
                j,
                out,
                batch_size=batch_size,
                overwrite=overwrite,
                progress=lambda d, t: prog.update(task, completed=d, total=t),
            )
    except Exception as e:
        fail(e)
    _print_headline(res, console)
    console.print(f"wrote {out}")
    report_failed(res.get("failed"))


def _num(x: float | None, spec: str = ".2f") -> str:
    return "–" if x is None else format(x, spec)


def _print_headline(res: dict, console) -> None:
    from rich.markup import escape

    g = res["gain"]
    fmt = _num
    console.print(
        escape(
            f"{res['model']} judged by {res['judge']}: context-free {fmt(g['free'])} → context-rich {fmt(g['rich'])} "
            f"(gain {fmt(g['gain_pct'], '+.1f')}%); {res['n_records']} verdicts, {res['invalid']['total']} invalid, "
            f"{(res.get('failed') or {}).get('n', 0)} failed"
        )
    )
    if res["ablation"]:
        parts = [f"{a}={fmt(v['score'])}" for a, v in res["ablation"].items()]
        console.print(escape("attribute alone: " + ", ".join(parts)))


@penguin_app.command("report")
def report_cmd(
    judged: Annotated[list[Path], typer.Argument(help="Judged run folders (penguin judge).")],
    out: Annotated[Path, typer.Option(help="HTML file (a .md twin is written beside it).")] = Path(
        "runs/penguin/report.html"
    ),
    redact: Annotated[bool, typer.Option(help="Hide queries and answers (they may be sensitive).")] = False,
    examples: Annotated[int, typer.Option(min=0, help="Answers shown per run.")] = 4,
) -> None:
    """Write the HTML + markdown report: context gain, per domain/source, ablation, dimensions."""
    from persafe.cli_support import console, fail
    from persafe.penguin.report import build_penguin_report

    try:
        path, md = build_penguin_report(judged, out, redact=redact, examples=examples)
    except Exception as e:
        fail(e)
    console.print(md, markup=False)
    console.print(f"wrote {path}")


@penguin_app.command("agree")
def agree_cmd(
    first: Annotated[Path, typer.Argument(help="A judged run folder or a human-label JSONL file.")],
    second: Annotated[Path, typer.Argument(help="Another judged run folder or human-label file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Agreement of two judges (or a judge and human labels): Cohen's κ and Pearson r per dimension."""
    from rich.table import Table

    from persafe.cli_support import console, fail
    from persafe.io import dumps_json
    from persafe.penguin.agreement import check_comparable, judge_agreement, load_labels

    try:
        a, b = load_labels(first), load_labels(second)
        counts = check_comparable(a, b, (str(first), str(second)))
        res = judge_agreement(a, b)
    except Exception as e:
        fail(e)
    if as_json:
        console.print_json(dumps_json({**res, "compared": counts}))
        return
    only = [
        f"{n} only in {side}" for side, n in ((first, counts[f"only_{first}"]), (second, counts[f"only_{second}"])) if n
    ]
    console.print(f"{counts['shared']} shared answers" + (f" ({', '.join(only)}; not compared)" if only else ""))
    t = Table(title=f"Agreement: {first} vs {second}")
    for col in ("dimension", "n", "κ", "κ quadratic", "Pearson r"):
        t.add_column(col, justify="left" if col == "dimension" else "right")
    for d, row in res.items():
        cells = [row[k] for k in ("kappa", "kappa_quadratic", "pearson_r")]
        t.add_row(d, str(row["n"]), *("–" if c is None else f"{c:.3f}" for c in cells))
    console.print(t)
