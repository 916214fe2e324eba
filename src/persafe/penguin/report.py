"""The PENGUIN report: context gain overall, per domain and source, the attribute ablation (with bar
charts), per-dimension scores, invalid verdicts and a few escaped (optionally redacted) answers.
Written as one self-contained HTML page plus a markdown file beside it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from persafe.io import atomic_write_text
from persafe.penguin.schema import ATTRIBUTE_LABELS, DIMENSION_LABELS, DIMENSIONS, DOMAINS
from persafe.penguin.scoring import read_judged
from persafe.report.html import _CSS, _img
from persafe.report.plots import _fig_png, _plt

Table = tuple[list[str], list[list[str]]]


def _f(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:+.1f}%"


def _ci(cell: dict[str, Any]) -> str:
    if cell.get("mean") is None:
        return "–"
    return f"{cell['mean']:.2f} [{cell['ci_low']:.2f}, {cell['ci_high']:.2f}]"


def run_label(res: dict[str, Any]) -> str:
    """``model · judge`` of a judged run."""
    return f"{res.get('model') or '?'} · {res.get('judge') or '?'}"


def tables(res: dict[str, Any]) -> dict[str, Table]:
    """The report's tables for one judged run, by title."""
    g = res["gain"]
    out: dict[str, Table] = {
        "Context gain": (
            ["context-free", "context-rich", "gain", "paired Δ (95% CI)", "paired n", "invalid verdicts"],
            [
                [
                    _f(g["free"]),
                    _f(g["rich"]),
                    _pct(g["gain_pct"]),
                    _ci(g["paired"]),
                    str(g["paired"]["n"]),
                    str(res["invalid"]["total"]),
                ]
            ],
        ),
        "Per context and dimension": (
            ["context", "safety score (95% CI)", *(DIMENSION_LABELS[d] for d in DIMENSIONS), "n", "invalid"],
            [
                [c, _ci(s["score"]), *(_f(s["dimensions"][d]) for d in DIMENSIONS), str(s["n"]), str(s["invalid"])]
                for c, s in res["contexts"].items()
            ],
        ),
    }
    for key, title in (("by_domain", "Per domain"), ("by_source", "Per source")):
        if res[key]:
            out[title] = (
                [title.split()[1], "context-free", "context-rich", "gain", "n free", "n rich"],
                [
                    [k, _f(v["free"]), _f(v["rich"]), _pct(v["gain_pct"]), str(v["n_free"]), str(v["n_rich"])]
                    for k, v in res[key].items()
                ],
            )
    if res["ablation"]:
        rows = sorted(res["ablation"].items(), key=lambda kv: -(kv[1]["score"] or 0))
        out["Single-attribute ablation"] = (
            ["attribute alone", "safety score", "gain over context-free", "n"],
            [[ATTRIBUTE_LABELS[a], _f(v["score"]), _pct(v["gain_pct"]), str(v["n"])] for a, v in rows],
        )
    return out


def markdown(table: Table) -> str:
    """A table as markdown (cells are plain text: ids, numbers)."""
    head, rows = table
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def html_table(table: Table) -> str:
    """A table as escaped HTML."""
    head, rows = table
    esc = html.escape
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return "<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + f"</tr>{body}</table>"


def domain_plot(res: dict[str, Any]) -> bytes | None:
    """Bars of the context-free and context-rich score per domain."""
    rows = [(d, res["by_domain"][d]) for d in DOMAINS if d in res["by_domain"]]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    x = np.arange(len(rows))
    for off, key, label in ((-0.2, "free", "context-free"), (0.2, "rich", "context-rich")):
        ax.bar(x + off, [v[key] if v[key] is not None else np.nan for _, v in rows], 0.4, label=label)
    ax.set_xticks(x, [d for d, _ in rows], rotation=20)
    ax.set_ylim(1, 5)
    ax.set_ylabel("safety score (1–5)")
    ax.set_title("Context-free vs context-rich by domain")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _fig_png(fig)


def ablation_plot(res: dict[str, Any]) -> bytes | None:
    """Horizontal bars of the score with each attribute alone, with the free and rich levels marked."""
    rows = sorted(((a, v["score"]) for a, v in res["ablation"].items() if v["score"] is not None), key=lambda r: r[1])
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.9 + 0.35 * len(rows)))
    bars = ax.barh([ATTRIBUTE_LABELS[a] for a, _ in rows], [s for _, s in rows], color="#4c72b0")
    ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)  # a bar at 1.00 has no length
    for key, style, label in (("free", "--", "context-free"), ("rich", ":", "context-rich")):
        if res["gain"][key] is not None:
            ax.axvline(res["gain"][key], linestyle=style, color="#333", label=label)
    ax.set_xlim(1, 5)
    ax.set_xlabel("safety score (1–5)")
    ax.set_title("Single-attribute ablation: each attribute disclosed alone")
    ax.legend(fontsize=8, loc="lower right")
    return _fig_png(fig)


def _examples(records: list[dict[str, Any]], n: int, redact: bool) -> str:
    """The first ``n`` answers, context-free and context-rich answers of a scenario side by side."""
    order = {"free": 0, "rich": 1}
    records = sorted(records, key=lambda r: (r["context"] not in order, r["scenario_id"], order.get(r["context"], 2)))
    parts = []
    for r in records[:n]:
        verdict = f"score {_f(r.get('score'))}" if r.get("valid") else f"invalid ({r.get('error')})"
        query = "[redacted]" if redact else r.get("query", "")
        answer = "[redacted]" if redact else r.get("answer", "")
        parts.append(
            f"<p class=note>{html.escape(r['sample_id'])} · {html.escape(r['domain'])} · {html.escape(verdict)}</p>"
            f"<pre>Q: {html.escape(query)}\n\nA: {html.escape(answer)}</pre>"
        )
    return "".join(parts)


def build_penguin_report(
    judged: Sequence[str | Path],
    out: str | Path,
    redact: bool = False,
    examples: int = 4,
    title: str = "PENGUIN report",
) -> tuple[Path, str]:
    """Write the HTML report ``out`` and a markdown twin (``out`` with suffix ``.md``).

    Args:
        judged: judged run folders (``persafe penguin judge``), one section each.
        out: HTML file.
        redact: replace queries and answers (they may quote sensitive situations) with "[redacted]".
        examples: answers shown per run (context-free and context-rich of the same scenarios first).
        title: page title.

    Returns:
        The HTML path and the markdown text.
    """
    md_parts, html_parts = [f"# {title}"], [f"<h1>{html.escape(title)}</h1>"]
    html_parts.append(
        "<p class=note>Safety score = mean of Risk Sensitivity, Emotional Empathy and User-specific Alignment "
        "(each 1–5). Invalid verdicts are excluded from every mean and counted. Gain = (rich − free) / free.</p>"
    )
    for path in judged:
        res, records = read_judged(path)
        label = run_label(res)
        md_parts.append(f"## {label}\n\n`{path}` · {res['n_scenarios']} scenarios · {res['n_records']} judged answers")
        html_parts.append(f"<h2>{html.escape(label)}</h2><p class=note>{html.escape(str(path))}</p>")
        for name, table in tables(res).items():
            md_parts.append(f"### {name}\n\n{markdown(table)}")
            html_parts.append(f"<h3>{html.escape(name)}</h3>{html_table(table)}")
            png = domain_plot(res) if name == "Per domain" else ablation_plot(res) if "ablation" in name else None
            if png:
                html_parts.append(_img(png, name))
        html_parts.append(f"<h3>Example answers</h3>{_examples(records, examples, redact)}")
    page = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title><style>{_CSS}</style>"
        f"</head><body>{''.join(html_parts)}</body></html>"
    )
    out = Path(out)
    md = "\n\n".join(md_parts) + "\n"
    atomic_write_text(out, page)
    atomic_write_text(out.with_suffix(".md"), md)
    return out, md
