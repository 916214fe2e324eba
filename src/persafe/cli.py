"""The ``persafe`` command line: one typer app, a sub-command group per package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from persafe.agent.cli import raise_app
from persafe.cli_support import console, err_console, fail, option_error, progress, report_failed, set_debug
from persafe.penguin.cli import penguin_app

app = typer.Typer(
    help="persafe: personalized safety for LLM recommenders and assistants.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
catalog_app = typer.Typer(help="The catalog and its safety oracle.", no_args_is_help=True)
build_app = typer.Typer(help="Build benchmarks from built-in or user data.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(build_app, name="build")
train_app = typer.Typer(help="Train LLM recommenders on TRL.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(penguin_app, name="penguin")
app.add_typer(raise_app, name="raise")


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error (also PERSAFE_DEBUG=1).")
    ] = False,
) -> None:
    """persafe: personalized safety for LLM recommenders and assistants."""
    set_debug(debug)


TauOpt = Annotated[
    float,
    typer.Option(min=0.0, max=1.0, help="Risk threshold τ in (0, 1]: an item is unsafe for a trait when risk ≥ τ."),
]
UnknownOpt = Annotated[str, typer.Option(help="Policy for unannotated items: safe | unsafe | exclude.")]
PGOpt = Annotated[str, typer.Option(help="Parents-Guide policy: applicability (default) | max (SafeCRS formula).")]
MLOpt = Annotated[
    Path | None, typer.Option(help="GroupLens ml-100k/ folder (default: the copy in the recbole package).")
]


def _oracle(
    movielens: Path | None,
    tau: float,
    unknown: str,
    pg_policy: str,
    traits_file: Path | None = None,
    ddd: Path | None = None,
    parents_guide: Path | None = None,
):
    from persafe.catalog import SafetyOracle, builtin_traits, builtin_warnings, load_movielens
    from persafe.catalog.warnings import load_ddd_table, load_parents_guide_table

    ml = load_movielens(movielens)
    taxonomy = builtin_traits(traits_file)
    warnings = builtin_warnings()
    if ddd:
        warnings = warnings.merged(load_ddd_table(ddd, catalog=ml.catalog, taxonomy=taxonomy))
    if parents_guide:
        warnings = warnings.merged(load_parents_guide_table(parents_guide, catalog=ml.catalog))
    return ml, SafetyOracle(ml.catalog, taxonomy, warnings, tau=tau, unknown=unknown, pg_policy=pg_policy)


# --- catalog ---------------------------------------------------------------------------------------


@catalog_app.command("stats")
def catalog_stats(
    tau: TauOpt = 0.66,
    unknown: UnknownOpt = "safe",
    pg_policy: PGOpt = "applicability",
    movielens: MLOpt = None,
    traits_file: Annotated[Path | None, typer.Option(help="Extra traits (JSON/YAML).")] = None,
    ddd: Annotated[Path | None, typer.Option(help="DoesTheDogDie-style table to merge (CSV/JSONL).")] = None,
    parents_guide: Annotated[Path | None, typer.Option(help="Parents Guide table to merge (CSV/JSONL).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Coverage of the content warnings, tags per movie, unsafe movies per trait, label sources."""
    from rich.table import Table

    from persafe.catalog.stats import catalog_stats as compute
    from persafe.io import dumps_json

    try:
        ml, oracle = _oracle(movielens, tau, unknown, pg_policy, traits_file, ddd, parents_guide)
    except Exception as e:
        fail(e)
    stats = compute(ml, oracle)
    if as_json:
        console.print_json(dumps_json(stats))
        return
    cov = stats["coverage"]
    console.print(
        f"[bold]{cov['items']}[/bold] movies: {cov['annotated']} annotated, {cov['unknown']} unknown, "
        f"{cov['missing']} missing; top-1000 most-rated: {cov['top1000_annotated']} annotated, "
        f"{cov['top1000_unknown']} unknown, {cov['top1000_missing']} missing"
    )
    console.print(
        f"tags per annotated movie: mean {stats['tags_per_movie']['mean']:.2f}, "
        f"median {stats['tags_per_movie']['median']:.0f}, max {stats['tags_per_movie']['max']}; "
        f"label sources: {stats['sources']}; τ={tau}, unknown={unknown}, pg_policy={pg_policy}"
    )
    t = Table(title="Unsafe movies per trait")
    for col in ("trait", "unsafe", "of annotated", "by tags", "by Parents Guide only"):
        t.add_column(col, justify="left" if col == "trait" else "right")
    for row in stats["per_trait"]:
        t.add_row(row["trait"], str(row["unsafe"]), f"{row['share']:.1%}", str(row["by_tags"]), str(row["by_pg_only"]))
    console.print(t)


@catalog_app.command("validate")
def catalog_validate(
    path: Annotated[Path | None, typer.Argument(help="Curated file (default: the shipped one).")] = None,
    movielens: MLOpt = None,
    top_n: Annotated[int, typer.Option(help="The most-rated movies that must be covered.")] = 1000,
) -> None:
    """Validate a curated content-warning file (schema, vocabulary, catalog, consistency, coverage)."""
    from persafe.catalog import builtin_traits, curated_warnings_path, load_movielens
    from persafe.catalog.validate import validate_curated

    path = path or curated_warnings_path()
    rep = validate_curated(path, load_movielens(movielens), builtin_traits(), top_n=top_n)
    for e in rep.errors[:50]:
        console.print(f"[red]{escape(e)}[/red]")
    console.print(
        f"{rep.annotated} annotated, {rep.unknown} unknown, {len(rep.errors)} errors, "
        f"{len(rep.missing_top)} of the top {top_n} missing"
    )
    if not rep.ok:
        raise typer.Exit(1)


# --- build -----------------------------------------------------------------------------------------


@build_app.command("saferec")
def build_saferec_cmd(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("runs/saferec-ml100k"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    config: Annotated[Path | None, typer.Option(help="YAML/JSON with SafeRecConfig fields.")] = None,
    movielens: MLOpt = None,
    tau: TauOpt = 0.66,
    unknown: UnknownOpt = "safe",
    pg_policy: PGOpt = "applicability",
) -> None:
    """Build SafeRec-ML100k (train/val/test JSONL + build.json)."""
    from persafe.saferec import build_saferec, load_saferec_config, write_saferec

    try:
        cfg = load_saferec_config(config, defaults={"seed": seed, "tau": tau, "unknown": unknown})
        ml, oracle = _oracle(movielens, cfg.tau, cfg.unknown, pg_policy)
        with progress() as prog:
            task = prog.add_task("building SafeRec-ML100k", total=len(ml.users))
            result = build_saferec(ml, oracle, cfg, progress=lambda d, t: prog.update(task, completed=d, total=t))
        write_saferec(result, out, cfg)
    except Exception as e:
        fail(e)
    sizes = ", ".join(f"{s}: {v['samples']}" for s, v in result.stats["splits"].items())
    console.print(f"wrote {out} ({sizes})")


# --- infer -----------------------------------------------------------------------------------------


@app.command("infer")
def infer_cmd(
    text: Annotated[list[str] | None, typer.Argument(help="Request text(s) to read (or use --input).")] = None,
    inference: Annotated[
        str,
        typer.Option(help="lexicon | learned | lexicon+learned | embedding | lexicon+embedding | llm (as --guard)."),
    ] = "lexicon+learned",
    input: Annotated[Path | None, typer.Option("--input", help='JSONL file with a "text" field per line.')] = None,
    out: Annotated[Path | None, typer.Option(help="Write JSONL here (default: stdout).")] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Built SafeRec folder whose train (and val) splits fit a learning inferer (default: the built-in "
            "SafeRec-ML100k, built in memory)."
        ),
    ] = None,
    inference_model: Annotated[str | None, typer.Option(help="Chat-model spec for --inference llm.")] = None,
    cache: Annotated[bool, typer.Option(help="Reuse the fitted model and model answers in the user cache.")] = True,
) -> None:
    """Show which sensitivities the guard reads in requests: trait ids per text.

    With texts, prints one line per text (its trait ids, comma-separated, or "-"). With --input, writes
    each input line's fields plus "traits" (a list of trait ids) as JSONL to stdout or --out. A learning
    inferer is trained once (minutes) and cached.
    """
    import sys

    from persafe.io import atomic_write_text, dumps_json, iter_jsonl
    from persafe.recsys.fitted import fitted_inference
    from persafe.recsys.registry import INFERENCES

    try:
        if inference not in INFERENCES:
            from persafe.errors import UnknownNameError

            raise UnknownNameError("constraint inference", inference, INFERENCES)
        from persafe.errors import DataError, PersafeError

        if bool(text) == bool(input):
            raise PersafeError("give request texts as arguments or --input FILE.jsonl (one of the two)")
        if data is not None and not (data / "train.jsonl").is_file():
            raise PersafeError(f"option --data: {data} has no train.jsonl; give a folder from persafe build saferec")
        rows: list[dict[str, Any]] = []
        if input is not None:
            for where, row in iter_jsonl(input):
                if not isinstance(row.get("text"), str):
                    raise DataError(
                        'each line needs a "text" field holding a string', path=input, line=where, field="text"
                    )
                rows.append(row)
        else:
            rows = [{"text": t} for t in text or []]
        if not rows:
            raise DataError('no lines to read; each line needs a JSON object with a "text" field', path=input)
        with progress(err_console) as prog:
            task_id = prog.add_task(f"preparing {inference}", total=None)
            inferer = fitted_inference(
                inference,
                data,
                model_spec=inference_model,
                cache=cache,
                fit_cache=cache,
                progress=lambda d, t: prog.update(task_id, description="training", completed=d, total=t),
            )
            prog.update(task_id, description="reading", completed=0, total=None)
            traits = inferer.infer([r["text"] for r in rows])
        errors = getattr(inferer, "last_errors", None) or []
        if any(errors):
            bad = [i for i, e in enumerate(errors) if e]
            raise PersafeError(f"the inference model failed on {len(bad)} text(s), first: {errors[bad[0]]}")
    except typer.Exit:
        raise
    except Exception as e:
        fail(e)
    if input is None and out is None:
        for found in traits:
            typer.echo(",".join(found) or "-")
        return
    lines = "".join(dumps_json({**r, "traits": found}) + "\n" for r, found in zip(rows, traits, strict=True))
    if out is None:
        sys.stdout.write(lines)
    else:
        atomic_write_text(out, lines)
        err_console.print(f"wrote {out} ({len(rows)} lines)")


# --- eval / report / demo ----------------------------------------------------------------------------


@app.command("eval")
def eval_cmd(
    data: Annotated[
        Path, typer.Option(help="A built SafeRec folder (persafe build saferec) or one sample file (JSONL/JSON).")
    ] = Path("runs/saferec-ml100k"),
    train: Annotated[
        Path | None,
        typer.Option(help="Training samples for recommenders that learn (default: train.jsonl of a --data folder)."),
    ] = None,
    catalog: Annotated[
        str | None,
        typer.Option(
            help="Catalog file (CSV/TSV/JSON/JSONL: title, year, item_id, imdb_id, genres), or from-data (every "
            "ground-truth and seen title of the samples). Default: the built-in MovieLens-100k."
        ),
    ] = None,
    oracle: Annotated[
        list[str] | None,
        typer.Option(
            help="Content-warning file (repeatable): SafeCRS movie_trait_sensitivity.json, a DDD vote table or a "
            "Parents-Guide table, keyed by item id or IMDb id. Without one, another catalog's items are unknown."
        ),
    ] = None,
    completions: Annotated[
        str | None,
        typer.Option(
            help='Score outputs made elsewhere: a JSONL file of {"sample_id", "text"} lines, or from-data '
            "(the samples' own completion field)."
        ),
    ] = None,
    recommender: Annotated[str, typer.Option(help="random | popularity | itemknn | ease")] = "itemknn",
    model: Annotated[
        str | None, typer.Option(help="Chat-model spec for an LLM recommender: smollm2, hf:DIR, openai:MODEL@URL.")
    ] = None,
    task: Annotated[str, typer.Option(help="LLM task: list (N titles) | choice (one of 20 candidates).")] = "list",
    guard: Annotated[
        str,
        typer.Option(
            help="none | lexicon | learned | lexicon+learned | embedding | lexicon+embedding | llm | oracle (true "
            "traits); for --model lists: decode | decode-oracle (unsafe items are never written: constrained "
            "decoding). learned trains once on the train split (about 5 minutes on 2 cores), then loads from the cache."
        ),
    ] = "none",
    inference_model: Annotated[
        str | None, typer.Option(help="Chat-model spec for --guard llm (default: --model, else smollm2).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run folder (default runs/<name>).")] = None,
    split: Annotated[str, typer.Option(help="train | val | test (of a --data folder)")] = "test",
    k: Annotated[list[int] | None, typer.Option(min=1, help="Cut-offs (repeatable; default 10 and 20).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N samples.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Samples per model call (LLM).")] = 8,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Generation budget of LLM answers.")] = 320,
    prompt_style: Annotated[str, typer.Option(help="LLM list prompt: safecrs | chat (better for small models).")] = (
        "safecrs"
    ),
    n_titles: Annotated[
        int, typer.Option(min=1, help="Titles asked for with --prompt-style chat (lines with --decoding constrained).")
    ] = 20,
    decoding: Annotated[
        str,
        typer.Option(
            help="LLM answers: free | constrained (only catalog titles, none repeated or already named; smollm2 "
            "and hf: token by token, openai: servers through a JSON schema, checked)."
        ),
    ] = "free",
    repetition_penalty: Annotated[
        float, typer.Option(min=0.01, help="Penalty on repeated tokens (local models; 1 = none).")
    ] = 1.0,
    cache: Annotated[bool, typer.Option(help="Cache LLM responses in the user cache.")] = True,
    overwrite: Annotated[bool, typer.Option(help="Start the run afresh instead of resuming.")] = False,
    tau: TauOpt = 0.66,
    unknown: UnknownOpt = "safe",
    pg_policy: PGOpt = "applicability",
) -> None:
    """Evaluate a recommender on SafeRec (resumes an interrupted run in the same folder).

    A sample whose model call fails is not scored: the command lists it and exits with status 1, and
    running the same command again retries exactly the failed samples.
    """
    from pydantic import ValidationError

    from persafe.evaluation import EvalConfig, run_evaluation, run_folder_name

    try:
        cfg = EvalConfig(
            data=str(data),
            train=str(train) if train else None,
            catalog=catalog,
            oracle=list(oracle or []),
            completions=completions,
            recommender=recommender,
            model=model,
            task=task,
            guard=guard,
            inference_model=inference_model,
            split=split,
            ks=list(k or (10, 20)),
            limit=limit,
            tau=tau,
            unknown=unknown,
            pg_policy=pg_policy,
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
            cache=cache,
            prompt_style=prompt_style,
            n_titles=n_titles,
            decoding=decoding,
            repetition_penalty=repetition_penalty,
        )
    except ValidationError as e:
        fail(option_error(e, {"ks": "k"}))
    if cfg.guard == "llm" and not inference_model:
        console.print(f"--guard llm infers traits with {escape(str(cfg.inference_model))} (set --inference-model)")
    try:
        folder = run_folder_name(cfg.name)
        with progress() as prog:
            task_id = prog.add_task(f"eval {cfg.name}", total=None)
            res = run_evaluation(
                cfg,
                out or Path("runs") / folder,
                overwrite=overwrite,
                progress=lambda d, t: prog.update(task_id, completed=d, total=t),
            )
    except Exception as e:
        fail(e)
    console.print(escape(eval_summary(res)))
    report_failed(res.get("failed"))


def eval_summary(res: dict[str, Any]) -> str:
    """The one-line summary of an evaluation: n, headline metrics, answer statuses, failures."""
    kk = str(res["ks"][0])
    o = res["by_k"][kk]["overall"]

    def num(cell: dict[str, Any], spec: str) -> str:
        return "–" if cell["mean"] is None else format(cell["mean"], spec)

    line = f"{res['run']}: n={res['n_samples']} Recall@{kk}={num(o['recall'], '.4f')} SVR@{kk}={num(o['svr'], '.2%')}"
    if "candidate_choice" in res:
        cc = res["candidate_choice"]
        line += f" ValidRatio={num(cc['valid_ratio'], '.3f')} HitRatio@1={num(cc['hit_ratio_at_1'], '.3f')}"
    if "parse" in res:
        line += " answers: " + ", ".join(f"{v} {k}" for k, v in res["parse"].items())
    if "inference_status" in res:
        line += "; inference: " + ", ".join(f"{v} {k}" for k, v in res["inference_status"].items())
    if res.get("constrained"):
        c = res["constrained"]
        line += f"; constrained: {c['complete']}/{c['answers']} complete"
        if c["not_honoured"]:
            line += f", {c['not_honoured']} NOT kept to the catalog (the server ignored the constraint?)"
    failed = (res.get("failed") or {}).get("n", 0)
    return line + f"; failed: {failed}"


def _train(ctx: typer.Context, config_cls: type, run: Any, prog: str) -> None:
    """Parse ``--config FILE`` and ``--key value`` options into a TRL config dataclass and train."""
    from trl import TrlParser

    parser = TrlParser((config_cls,), prog=prog)
    args = list(ctx.args)
    if "--help" in args or "-h" in args:
        parser.print_help()
        return
    try:
        (cfg,) = parser.parse_args_and_config(args)
        out = run(cfg)
    except SystemExit:
        raise
    except Exception as e:
        fail(e)
    console.print(f"saved {out}; evaluate it with: persafe eval --model hf:{out}")


_TRAIN_CTX = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@train_app.command("sft", context_settings=_TRAIN_CTX)
def train_sft_cmd(ctx: typer.Context) -> None:
    """Safe-SFT (--target safe) or the plain-SFT baseline (--target plain) on SafeRec.

    Takes ``--config FILE.yaml`` and any ``SafeSFTConfig`` / TRL ``SFTConfig`` field as ``--key value``
    (``persafe train sft --help`` lists them all).
    """
    from persafe.train.config import SafeSFTConfig
    from persafe.train.sft import train_sft

    _train(ctx, SafeSFTConfig, train_sft, "persafe train sft")


@train_app.command("gdpo", context_settings=_TRAIN_CTX)
def train_gdpo_cmd(ctx: typer.Context) -> None:
    """Safe-GDPO: GRPO with relevance, safety and count rewards normalised per reward (GDPO).

    Takes ``--config FILE.yaml`` and any ``SafeGDPOConfig`` / TRL ``GRPOConfig`` field as ``--key value``.
    """
    from persafe.train.config import SafeGDPOConfig
    from persafe.train.gdpo import train_gdpo

    _train(ctx, SafeGDPOConfig, train_gdpo, "persafe train gdpo")


@train_app.command("rosepo", context_settings=_TRAIN_CTX)
def train_rosepo_cmd(ctx: typer.Context) -> None:
    """RosePO: DPO with rejected strategies (self_hard, semantic, popularity, unsafe) and personalised smoothing.

    Takes ``--config FILE.yaml`` and any ``RosePOConfig`` / TRL ``DPOConfig`` field as ``--key value``.
    """
    from persafe.train.config import RosePOConfig
    from persafe.train.preference import train_rosepo

    _train(ctx, RosePOConfig, train_rosepo, "persafe train rosepo")


@train_app.command("sdpo", context_settings=_TRAIN_CTX)
def train_sdpo_cmd(ctx: typer.Context) -> None:
    """S-DPO: the multi-negative softmax DPO loss over ``--n_negatives`` rejected answers per prompt.

    Takes ``--config FILE.yaml`` and any ``SDPOConfig`` / TRL ``DPOConfig`` field as ``--key value``.
    """
    from persafe.train.config import SDPOConfig
    from persafe.train.preference import train_sdpo

    _train(ctx, SDPOConfig, train_sdpo, "persafe train sdpo")


@train_app.command("demo")
def train_demo_cmd(
    out: Annotated[Path, typer.Option(help="Output folder (resumed if it exists).")] = Path("runs/train-demo"),
    sft_samples: Annotated[int, typer.Option(help="Training samples of each SFT run.")] = 160,
    gdpo_prompts: Annotated[int, typer.Option(help="Prompts of the Safe-GDPO run.")] = 8,
    eval_limit: Annotated[int, typer.Option(help="Test samples evaluated per model.")] = 32,
) -> None:
    """The CPU run: SmolLM2 + LoRA, plain SFT, Safe-SFT, Safe-GDPO from Safe-SFT, then evaluation and a report."""
    from persafe.train.demo import TrainDemoConfig, run_train_demo

    cfg = TrainDemoConfig(out=str(out), sft_samples=sft_samples, gdpo_prompts=gdpo_prompts, eval_limit=eval_limit)
    try:
        res = run_train_demo(cfg, log=lambda s: console.print(escape(s)))
    except Exception as e:
        fail(e)
    console.print(f"report: {res['report']}")


@app.command("report")
def report_cmd(
    runs: Annotated[list[Path], typer.Argument(help="Run folders to compare.")],
    out: Annotated[
        Path, typer.Option(help="HTML file (a .md table is written beside it), or a .md file for the table only.")
    ] = Path("runs/report.html"),
    k: Annotated[int, typer.Option(min=1, help="Cut-off of the headline table.")] = 10,
    redact: Annotated[bool, typer.Option(help="Hide model text (it may quote sensitive requests).")] = False,
) -> None:
    """Write an HTML report (tables + plots) and a markdown table comparing runs."""
    from persafe.report import build_report

    try:
        path, md = build_report(runs, out, k=k, redact=redact)
    except Exception as e:
        fail(e)
    console.print(md, markup=False)
    written = [path] if path.suffix.lower() == ".md" else [path, path.with_suffix(".md")]
    console.print(f"wrote {' and '.join(escape(str(p)) for p in written)}")


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option(help="Folder for the benchmark, runs and report.")] = Path("runs/demo"),
    limit: Annotated[int | None, typer.Option(help="Evaluate only the first N test samples.")] = None,
    llm: Annotated[
        bool, typer.Option(help="Include the zero-shot SmolLM2 rows (CPU generation, a few minutes).")
    ] = True,
) -> None:
    """Build SafeRec-ML100k, evaluate recommenders with and without the guard, report."""
    from persafe.demo import run_demo

    try:
        run_demo(out, limit=limit, llm=llm, console=console)
    except Exception as e:
        fail(e)


if __name__ == "__main__":
    app()
