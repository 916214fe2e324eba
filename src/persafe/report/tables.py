"""Comparison tables of runs: rows of numbers, as markdown and as a rich terminal table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from persafe.errors import PersafeError

COLUMNS: tuple[tuple[str, str], ...] = (
    ("recall", "Recall@{k}"),
    ("ndcg", "NDCG@{k}"),
    ("svr", "SVR@{k}"),
    ("svr_slots", "SVR@{k}-slots"),
    ("svr_explicit", "SVR@{k} explicit"),
    ("svr_implicit", "SVR@{k} implicit"),
    ("control_recall", "Recall@{k} control"),
    ("overfiltering", "Over-filtering"),
    ("validity", "Validity"),
    ("labelled", "Labelled slots"),
)
"""Headline columns: metric key and label. ``Labelled slots`` is the share of recommended catalog items that
have content-warning data: SVR over the others rests on the unknown-item policy."""
PERCENT = {"svr", "svr_slots", "svr_explicit", "svr_implicit", "validity", "labelled"}


def _mean(block: dict[str, Any] | None, metric: str) -> float | None:
    if not block or metric not in block:
        return None
    return block[metric]["mean"]


def comparison_rows(runs: Sequence[tuple[dict[str, Any], dict[str, Any]]], k: int = 10) -> list[dict[str, Any]]:
    """One row per run with the headline numbers at cut-off ``k``.

    ``overfiltering`` is the drop in Recall@k on control samples relative to the run named in the
    config's ``base`` (the unguarded recommender) on the same samples, when that run is among ``runs``.
    Runs that share a name but not their samples are told apart by their sample count.
    """
    rows = []
    for cfg, res in runs:
        if str(k) not in res["by_k"]:
            raise PersafeError(
                f"run {cfg.get('name', '?')!r} has no results at K={k}; it was evaluated at K={', '.join(res['by_k'])}"
            )
        by = res["by_k"][str(k)]
        modes = by.get("by_mode", {})
        row = {
            "name": cfg.get("name", "?"),
            "samples": _samples_key(cfg, res),
            "base": cfg.get("base"),
            "recall": by["overall"]["recall"],
            "ndcg": by["overall"]["ndcg"],
            "svr": by["overall"]["svr"],
            "svr_slots": by["overall"]["svr_slots"],
            "svr_explicit": (modes.get("explicit") or {}).get("svr"),
            "svr_implicit": (modes.get("implicit") or {}).get("svr"),
            "control_recall": (by.get("control") or {}).get("recall"),
            "validity": by["overall"]["validity"],
            "labelled": {"mean": (by.get("coverage") or {}).get("labelled_share")},
            "mean_length": by["overall"]["produced"],
            "inference": res.get("inference"),
        }
        rows.append(row)
    by_key = {(r["name"], r["samples"]): r for r in rows}
    for r in rows:
        base = by_key.get((r["base"], r["samples"])) if r["base"] else None
        cr, br = (r["control_recall"] or {}).get("mean"), ((base or {}).get("control_recall") or {}).get("mean")
        r["overfiltering"] = None if base is None or cr is None or br is None else {"mean": br - cr}
    names = [r["name"] for r in rows]
    for r, (_, res) in zip(rows, runs, strict=True):
        if names.count(r["name"]) > 1:
            r["name"] = f"{r['name']} (n={res['n_samples']})"
    return rows


def _samples_key(cfg: dict[str, Any], res: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies the evaluated samples of a run (data, split, limit, count)."""
    return (cfg.get("data"), cfg.get("split"), cfg.get("limit"), res.get("n_samples"))


def fmt(cell: Any, key: str, ci: bool = True) -> str:
    """Format one cell (``{"mean", "ci_low", "ci_high"}``) as text."""
    if not cell or cell.get("mean") is None:
        return "–"
    scale, unit = (100.0, "%") if key in PERCENT else (1.0, "")
    digits = 2 if unit else 4
    text = f"{cell['mean'] * scale:.{digits}f}{unit}"
    if key == "overfiltering":
        return f"{cell['mean']:+.4f}"
    if ci and cell.get("ci_low") is not None:
        text += f" [{cell['ci_low'] * scale:.{digits}f}, {cell['ci_high'] * scale:.{digits}f}]"
    return text


def markdown_table(rows: list[dict[str, Any]], k: int = 10, ci: bool = False) -> str:
    """The comparison as a GitHub markdown table."""
    head = ["Recommender"] + [label.format(k=k) for _, label in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["name"]] + [fmt(r[key], key, ci) for key, _ in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rich_table(rows: list[dict[str, Any]], k: int = 10, title: str | None = None):
    """The comparison as a ``rich.table.Table`` for the terminal."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    table.add_column("Recommender", style="bold")
    for _, label in COLUMNS:
        table.add_column(label.format(k=k), justify="right")
    for r in rows:
        table.add_row(escape(r["name"]), *[fmt(r[key], key, ci=False) for key, _ in COLUMNS])
    return table
