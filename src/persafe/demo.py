"""The demo: build SafeRec-ML100k, evaluate recommenders with and without the guard, report.

Classic recommenders and the guard's inference methods run on the whole test split; the zero-shot
SmolLM2 rows (CPU generation) run on a fixed subsample so that ``make demo`` stays under 10 minutes.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from persafe.evaluation import EvalConfig, run_folder_name
from persafe.recsys.registry import DEFAULT_INFERENCE

FULL_RUNS: tuple[tuple[str, str], ...] = (
    ("random", "none"), ("random", DEFAULT_INFERENCE),
    ("popularity", "none"), ("popularity", DEFAULT_INFERENCE),
    ("itemknn", "none"), ("itemknn", "lexicon"), ("itemknn", "learned"), ("itemknn", "lexicon+learned"),
    ("itemknn", "embedding"), ("itemknn", "lexicon+embedding"),
    ("ease", "none"), ("ease", DEFAULT_INFERENCE),
    ("itemknn", "oracle"),
)  # fmt: skip
"""(recommender, guard) pairs evaluated on the whole test split; ``oracle`` uses the true traits."""

LLM_SAMPLES = 24
"""Test samples for the SmolLM2 rows (the first N of the test split)."""


def llm_runs(data: str, n: int) -> list[EvalConfig]:
    """The SmolLM2 rows: zero-shot list recommendation with and without the guard, with catalog-constrained
    decoding (alone and with the decode guard), LLM inference, and item-kNN on the same samples for
    reference."""
    common = {"data": data, "limit": n}
    smol = {
        "model": "smollm2",
        "prompt_style": "chat",
        "n_titles": 10,
        "max_new_tokens": 160,
        "repetition_penalty": 1.3,
    }
    return [
        EvalConfig(**smol, **common),
        EvalConfig(**smol, guard=DEFAULT_INFERENCE, **common),
        EvalConfig(**{**smol, "repetition_penalty": 1.0}, decoding="constrained", **common),
        EvalConfig(**{**smol, "repetition_penalty": 1.0}, guard="decode", **common),
        EvalConfig(recommender="itemknn", **common),
        EvalConfig(recommender="itemknn", guard="llm", inference_model="smollm2", **common),
    ]


def _num(x: float | None) -> str:
    return "–" if x is None or x != x else f"{x:.2f}"  # undefined (no prediction at all) is not 0


def run_demo(
    out: str | Path = "runs/demo", limit: int | None = None, llm: bool = True, console: Console | None = None
) -> Path:
    """Run the whole demo into ``out`` and print the comparison tables; returns the report path."""
    from persafe.catalog import builtin_oracle
    from persafe.cli_support import progress
    from persafe.evaluation import run_evaluation
    from persafe.report import build_report, comparison_rows, rich_table
    from persafe.runs import load_run
    from persafe.saferec import SafeRecConfig, build_saferec, write_saferec

    console = console or Console()
    out = Path(out)
    t0 = time.perf_counter()
    ml, _, oracle = builtin_oracle()
    cov = oracle.coverage()
    console.print(
        f"[bold]catalog[/bold]: {len(ml.catalog)} MovieLens-100k movies, {cov['known']} with curated "
        f"content warnings ({cov['unknown']} unknown → treated as safe)"
    )
    data = out / "saferec-ml100k"
    if not (data / "test.jsonl").exists():
        cfg = SafeRecConfig()
        with progress() as prog:
            task = prog.add_task("building SafeRec-ML100k", total=len(ml.users))
            result = build_saferec(ml, oracle, cfg, progress=lambda d, t: prog.update(task, completed=d, total=t))
        write_saferec(result, data, cfg)
        sizes = ", ".join(f"{s} {v['samples']}" for s, v in result.stats["splits"].items())
        console.print(f"[bold]benchmark[/bold]: {sizes} samples → {data}")

    configs = [EvalConfig(data=str(data), recommender=r, guard=g, limit=limit) for r, g in FULL_RUNS]
    n_full = len(configs)
    if llm:
        configs += llm_runs(str(data), min(LLM_SAMPLES, limit or LLM_SAMPLES))
    run_dirs, splits = [], {}
    for i, cfg in enumerate(configs):
        folder = ("subsample-" if i >= n_full else "") + run_folder_name(cfg.name)
        run_dir = out / folder
        with progress() as prog:
            task = prog.add_task(f"eval {cfg.name}", total=None)
            run_evaluation(
                cfg,
                run_dir,
                overwrite=True,
                loaded=(ml, oracle),
                splits=splits,
                progress=lambda d, t, task=task: prog.update(task, completed=d, total=t),
            )
        run_dirs.append(run_dir)
    report, _ = build_report(run_dirs, out / "report.html", title="persafe demo: SafeRec-ML100k test split")
    runs = [load_run(p) for p in run_dirs]
    console.print(
        rich_table(
            comparison_rows(runs[:n_full], 10), title=f"SafeRec-ML100k test ({runs[0][1]['n_samples']} samples), K=10"
        )
    )
    if llm:
        console.print(
            rich_table(
                comparison_rows(runs[n_full:], 10),
                title=f"Zero-shot SmolLM2-135M on the first {runs[n_full][1]['n_samples']} test samples, K=10",
            )
        )
    console.print(
        "constraint inference of the guards on held-out phrasings (precision / recall; false alarms on control "
        "requests, plain and distractor; targets met):"
    )
    for cfg_, res in runs:
        inf = res.get("inference")
        if inf and "oracle" not in cfg_["name"] and "controls" in inf:
            parts = [
                f"{m} {_num(inf[m]['precision'])} / {_num(inf[m]['recall'])}"
                for m in ("explicit", "implicit")
                if m in inf
            ]
            c = inf["controls"]
            met = [k for k, v in inf["targets"].items() if v]
            console.print(
                f"  {cfg_['name']:<36} n={inf['overall']['n']:<5} "
                + ", ".join(parts)
                + f", false alarms {c['plain']['false_alarms']}/{c['plain']['n']} plain,"
                f" {c['distractor']['false_alarms']}/{c['distractor']['n']} distractor;"
                f" targets met: {', '.join(met) or 'none'}",
                markup=False,
            )
    console.print(f"report: {report} (and {report.with_suffix('.md')}); {time.perf_counter() - t0:.0f} s")
    return report
