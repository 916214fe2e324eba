"""The HTML report: a self-contained page (inline PNG plots) comparing runs; model text is escaped."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from persafe.io import atomic_write_text
from persafe.report import plots
from persafe.report.tables import COLUMNS, comparison_rows, fmt, markdown_table
from persafe.runs import load_run

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}img{max-width:100%;margin:.5rem 0}
pre{background:#f7f7f7;padding:.5rem;white-space:pre-wrap;font-size:.8rem}.note{color:#666;font-size:.85rem}
"""


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _group_matrix(runs: list[tuple[dict, dict]], key: str, k: int, metric: str = "svr") -> tuple[list[str], np.ndarray]:
    groups = sorted({g for _, res in runs for g in res["by_k"][str(k)][key]})
    vals = np.full((len(groups), len(runs)), np.nan)
    for j, (_, res) in enumerate(runs):
        block = res["by_k"][str(k)][key]
        for i, g in enumerate(groups):
            cell = (block.get(g) or {}).get(metric)
            if cell and cell["mean"] is not None:
                vals[i, j] = cell["mean"]
    return groups, vals


def _examples(run_dir: Path, n: int, redact: bool) -> str:
    samples = run_dir / "samples.jsonl"
    if not samples.exists():
        return ""
    shown = []
    with samples.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if "raw" in rec:
                shown.append(rec)
            if len(shown) >= n:
                break
    if not shown:
        return ""
    parts = [f"<h3>Model output examples: {html.escape(run_dir.name)}</h3>"]
    for rec in shown:
        text = "[redacted]" if redact else str(rec["raw"])
        parts.append(
            f"<p class=note>{html.escape(rec['sample_id'])} · traits: "
            f"{html.escape(', '.join(rec['traits']) or 'none')} · mode: {html.escape(rec['constraint_mode'])}</p>"
            f"<pre>{html.escape(text)}</pre>"
        )
    return "\n".join(parts)


def build_report(
    run_dirs: Sequence[str | Path], out: str | Path, k: int = 10, redact: bool = False, title: str = "persafe report"
) -> tuple[Path, str]:
    """Write ``out`` (HTML) and ``out`` with suffix ``.md`` comparing the runs.

    Args:
        run_dirs: finished run folders.
        out: HTML file to write.
        k: cut-off of the headline table.
        redact: replace model text (which may quote sensitive requests) by "[redacted]".
        title: page title.

    Returns:
        The HTML path and the markdown table.
    """
    paths = [Path(p) for p in run_dirs]
    runs = [load_run(p) for p in paths]
    rows = comparison_rows(runs, k)
    md = markdown_table(rows, k)
    names = [r["name"] for r in rows]
    esc = html.escape
    head = "".join(f"<th>{esc(label.format(k=k))}</th>" for _, label in COLUMNS)
    body = "".join(
        "<tr><td>"
        + esc(r["name"])
        + "</td>"
        + "".join(f"<td>{esc(fmt(r[key], key))}</td>" for key, _ in COLUMNS)
        + "</tr>"
        for r in rows
    )
    sections = [
        f"<h1>{esc(title)}</h1>",
        f"<p class=note>{len(runs)} runs; values are means with bootstrap 95% CIs; SVR = share of produced "
        f"recommendations that violate the user's sensitivities; over-filtering = drop of Recall@{k} on control "
        "samples (no sensitivity) relative to the unguarded recommender.</p>",
        f"<table><tr><th>Recommender</th>{head}</tr>{body}</table>",
        _img(plots.recall_vs_svr(rows, k), "Recall vs SVR"),
    ]
    groups, vals = _group_matrix(runs, "by_mode", k)
    if groups:
        sections.append(
            _img(plots.grouped_bars(names, groups, vals, f"SVR@{k} %", "SVR by constraint mode"), "SVR by mode")
        )
    groups, vals = _group_matrix(runs, "by_trait", k)
    if groups:
        sections.append(_img(plots.svr_heatmap(names, groups, vals, f"SVR@{k} (%) by trait"), "SVR by trait"))
    inf_rows = [(r["name"], r["inference"]) for r in rows if r.get("inference")]
    if inf_rows:
        sections.append(
            "<h2>Constraint inference of the guards</h2><table><tr><th>Run</th><th>Mode</th>"
            "<th>Precision</th><th>Recall</th><th>F1</th><th>n</th></tr>"
        )
        for name, inf in inf_rows:
            for mode, s in inf["by_mode"].items():
                cells = [
                    f"{s[m]:.3f}" if isinstance(s[m], float) and not np.isnan(s[m]) else "–"
                    for m in ("precision", "recall", "f1")
                ]
                sections.append(
                    f"<tr><td>{esc(name)}</td><td>{esc(mode)}</td>"
                    + "".join(f"<td>{c}</td>" for c in cells)
                    + f"<td>{s['n']}</td></tr>"
                )
        sections.append("</table>")
    for p in paths:
        sections.append(_examples(p, 3, redact))
    page = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{esc(title)}</title><style>{_CSS}</style>"
        f"</head><body>{''.join(sections)}</body></html>"
    )
    out = Path(out)
    atomic_write_text(out, page)
    atomic_write_text(out.with_suffix(".md"), f"# {title}\n\n{md}")
    return out, md
