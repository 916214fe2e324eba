"""The RAISE report: vanilla → agent → planner on PENGUIN, and the ask-before-recommend trade-off.

One self-contained HTML page (inline PNG plots, every piece of model or user text escaped, optionally
redacted) plus the same tables as markdown beside it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from persafe.errors import PersafeError
from persafe.io import atomic_write_text
from persafe.report.html import _CSS, _img
from persafe.report.plots import _fig_png, _plt

DIMENSION_NAMES = {
    "risk_sensitivity": "Risk sensitivity",
    "emotional_empathy": "Emotional empathy",
    "user_alignment": "User alignment",
}


def _f(x: float | None, pct: bool = False, digits: int = 2) -> str:
    if x is None:
        return "–"
    return f"{x:.1%}" if pct else f"{x:.{digits}f}"


def _ci(cell: dict[str, Any] | None) -> str:
    if not cell or cell.get("mean") is None:
        return "–"
    return f"{cell['mean']:.2f} [{cell['ci_low']:.2f}, {cell['ci_high']:.2f}]"


def _md(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def penguin_tables(res: dict[str, Any]) -> tuple[tuple[list[str], list[list[str]]], tuple[list[str], list[list[str]]]]:
    """The variant comparison and the per-domain table of a RAISE-on-PENGUIN run."""
    header = ["Variant", "Safety score", *DIMENSION_NAMES.values(), "Questions", "Gain", "n", "invalid"]
    rows = []
    for name, v in res["variants"].items():
        rows.append(
            [
                name,
                _ci(v["score"]),
                *[_f(v["dimensions"][d]["mean"]) for d in DIMENSION_NAMES],
                _f(v["mean_questions"]),
                _f(v.get("gain_vs_vanilla"), pct=True),
                str(v["n"]),
                str(v["n_invalid"]),
            ]
        )
    domains = sorted({d for v in res["variants"].values() for d in v["by_domain"]})
    dom_rows = [
        [d, *[_f((v["by_domain"].get(d) or {}).get("mean")) for v in res["variants"].values()]] for d in domains
    ]
    return (header, rows), (["Domain", *res["variants"]], dom_rows)


def tradeoff_plot(points: list[dict[str, Any]], k: int = 10) -> bytes:
    """SVR@k and Recall@k against the number of questions, one line per asking policy, baselines dashed."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    curves: dict[str, list[dict[str, Any]]] = {}
    for p in points:
        if p["policy"] not in ("baseline",):
            curves.setdefault(p["policy"], []).append(p)
    for ax, metric, label in ((axes[0], "svr", f"SVR@{k} % (lower is safer)"), (axes[1], "recall", f"Recall@{k}")):
        scale = 100 if metric == "svr" else 1
        for policy, pts in curves.items():
            pts = sorted(pts, key=lambda p: p["mean_questions"])
            xs = [p["mean_questions"] for p in pts]
            ys = [(p[metric] or 0) * scale for p in pts]
            ax.plot(xs, ys, marker="o" if len(pts) > 1 else "*", markersize=6 if len(pts) > 1 else 12, label=policy)
        for p, style in zip([p for p in points if p["policy"] == "baseline"], ("--", ":", "-."), strict=False):
            if p[metric] is not None:
                ax.axhline(p[metric] * scale, linestyle=style, color="grey", label=p["name"])
        ax.set_xlabel("questions asked (mean per conversation)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    axes[0].set_title("Violations vs questions")
    axes[1].set_title("Quality vs questions")
    return _fig_png(fig)


def recommend_table(res: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = [
        "Recommender",
        "Policy",
        "Questions",
        f"SVR@{res['k']}",
        f"Recall@{res['k']}",
        "SVR implicit",
        "Recall none",
    ]
    rows = []
    for p in res["points"]:
        rows.append(
            [
                p["name"],
                p["policy"],
                _f(p["mean_questions"]),
                _f(p["svr"], pct=True),
                _f(p["recall"], digits=4),
                _f((p["by_mode"].get("implicit") or {}).get("svr"), pct=True),
                _f((p["by_mode"].get("none") or {}).get("recall"), digits=4),
            ]
        )
    return header, rows


def _transcripts(run_dir: Path, n: int, redact: bool) -> str:
    path = run_dir / "samples.jsonl"
    if not path.exists():
        return ""
    shown = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("variant") == "planner" and rec.get("transcript") and rec.get("status") != "failed":
                shown.append(rec)
            if len(shown) >= n:
                break
    esc = html.escape
    parts = ["<h2>Example conversations (planner)</h2>"] if shown else []
    for rec in shown:
        t = rec["transcript"]
        lines = [f"User: {rec['query']}"]
        lines += [f"Agent: {x['question']}\nUser: {x['answer']}" for x in t["turns"]]
        lines.append(f"[stopped: {t['stop']}; asked {len(t['turns'])}]")
        lines.append(f"Assistant: {rec['answer']}")
        text = "[redacted]" if redact else "\n".join(lines)
        parts.append(
            f"<p class=note>{esc(rec['scenario_id'])} · {esc(rec['domain'])} · score {_f(rec['score'])}</p>"
            f"<pre>{esc(text)}</pre>"
        )
    return "\n".join(parts)


def build_raise_report(
    run_dirs: Sequence[str | Path], out: str | Path, redact: bool = False, title: str = "RAISE report"
) -> tuple[Path, str]:
    """Write the HTML report (and a ``.md`` beside it) for RAISE run folders of either task.

    Args:
        run_dirs: folders written by ``persafe raise run`` (PENGUIN or ask-before-recommend).
        out: the HTML file.
        redact: hide queries, questions, answers (they may be sensitive).
        title: page title.

    Returns:
        The HTML path and the markdown.
    """
    esc = html.escape
    sections = [f"<h1>{esc(title)}</h1>"]
    md = [f"# {title}"]
    for d in map(Path, run_dirs):
        res_path = d / "results.json"
        if not res_path.exists():
            raise PersafeError(f"{d} has no results.json (the run has not finished; rerun it to resume)")
        res = json.loads(res_path.read_text(encoding="utf-8"))
        task = res.get("task")
        if task == "raise-penguin":
            (h, rows), (dh, drows) = penguin_tables(res)
            sections += [
                f"<h2>Ask before answering (PENGUIN): {esc(d.name)}</h2>",
                "<p class=note>Safety score = mean of the judge's three 1–5 dimensions, with bootstrap 95% CIs. "
                "vanilla = context-free answer; agent = asks without planned examples; planner = RAISE; "
                "rich = everything disclosed (upper bound).</p>",
                _html_table(h, rows),
                "<h3>Safety score by domain</h3>",
                _html_table(dh, drows),
                _transcripts(d, 3, redact),
            ]
            md += [f"## Ask before answering (PENGUIN): {d.name}", _md(h, rows), "### By domain", _md(dh, drows)]
        elif task == "ask-before-recommend":
            h, rows = recommend_table(res)
            sections += [
                f"<h2>Ask before recommending (SafeRec): {esc(d.name)}</h2>",
                f"<p class=note>{res['n_samples']} samples ({esc(str(res['modes']))}); questions are about trait "
                "families; a simulated user reveals the sample's traits in the families asked.</p>",
                _html_table(h, rows),
                _img(tradeoff_plot(res["points"], res["k"]), "SVR and Recall vs questions"),
            ]
            md += [f"## Ask before recommending (SafeRec): {d.name}", _md(h, rows)]
        else:
            raise PersafeError(f"{d} is not a RAISE run (results.json task = {task!r})")
    page = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{esc(title)}</title><style>{_CSS}</style>"
        f"</head><body>{''.join(sections)}</body></html>"
    )
    out = Path(out)
    atomic_write_text(out, page)
    text = "\n\n".join(md) + "\n"
    atomic_write_text(out.with_suffix(".md"), text)
    return out, text
