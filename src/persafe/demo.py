"""The demo: build SafeRec-ML100k, evaluate classic recommenders with and without the guard, report."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

DEMO_RUNS: tuple[tuple[str, str], ...] = (
    ("random", "none"),
    ("random", "lexicon"),
    ("popularity", "none"),
    ("popularity", "lexicon"),
    ("itemknn", "none"),
    ("itemknn", "lexicon"),
    ("ease", "none"),
    ("ease", "lexicon"),
    ("itemknn", "oracle"),
)
"""(recommender, guard) pairs of the demo; ``oracle`` guards with the true traits (an upper bound)."""


def run_demo(out: str | Path = "runs/demo", limit: int | None = None, console: Console | None = None) -> Path:
    """Run the whole demo into ``out`` and print the comparison table; returns the report path."""
    from persafe.cli import _oracle, _progress, run_eval
    from persafe.report import build_report, comparison_rows, rich_table
    from persafe.runs import load_run
    from persafe.saferec import SafeRecConfig, build_saferec, write_saferec

    console = console or Console()
    out = Path(out)
    t0 = time.perf_counter()
    loaded = _oracle(None, 0.66, "safe", "applicability")
    ml, oracle = loaded
    cov = oracle.coverage()
    console.print(
        f"[bold]catalog[/bold]: {len(ml.catalog)} MovieLens-100k movies, {cov['known']} with curated "
        f"content warnings ({cov['unknown']} unknown → treated as safe)"
    )
    data = out / "saferec-ml100k"
    if not (data / "test.jsonl").exists():
        cfg = SafeRecConfig()
        with _progress() as prog:
            task = prog.add_task("building SafeRec-ML100k", total=len(ml.users))
            result = build_saferec(ml, oracle, cfg, progress=lambda d, t: prog.update(task, completed=d, total=t))
        write_saferec(result, data, cfg)
        sizes = ", ".join(f"{s} {v['samples']}" for s, v in result.stats["splits"].items())
        console.print(f"[bold]benchmark[/bold]: {sizes} samples → {data}")
    run_dirs, splits = [], {}
    for rec, guard in DEMO_RUNS:
        name = rec + ("" if guard == "none" else f"+guard-{guard}")
        run_dir = out / name
        run_eval(data, rec, guard, run_dir, limit=limit, loaded=loaded, overwrite=True, splits=splits)
        run_dirs.append(run_dir)
    report, _ = build_report(run_dirs, out / "report.html", title="persafe demo: SafeRec-ML100k test split")
    rows = comparison_rows([load_run(p) for p in run_dirs], 10)
    console.print(rich_table(rows, 10, title="SafeRec-ML100k test: quality and personalized safety (K=10)"))
    for r in rows:
        if r.get("inference") and "lexicon" in r["name"]:
            bm = r["inference"]["by_mode"]
            console.print(
                "lexicon constraint inference (precision / recall): "
                + ", ".join(
                    f"{m} {bm[m]['precision']:.2f} / {bm[m]['recall']:.2f}" for m in ("explicit", "implicit") if m in bm
                )
            )
            break
    console.print(f"report: {report} (and {report.with_suffix('.md')}); {time.perf_counter() - t0:.0f} s")
    return report
