"""Plots of run comparisons (matplotlib, rendered to PNG bytes for self-contained HTML)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np


def _fig_png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def recall_vs_svr(rows: list[dict[str, Any]], k: int = 10) -> bytes:
    """Scatter of Recall@k against SVR@k per run, with 95% CIs: down and right is better."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for r in rows:
        rc, sv = r["recall"], r["svr"]
        if not rc or not sv or rc["mean"] is None or sv["mean"] is None:
            continue
        x, y = rc["mean"], sv["mean"] * 100
        xerr = [[x - rc["ci_low"]], [rc["ci_high"] - x]]
        yerr = [[y - sv["ci_low"] * 100], [sv["ci_high"] * 100 - y]]
        marker = "s" if "guard" in r["name"] else "o"
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt=marker, capsize=3, label=r["name"])
    ax.set_xlabel(f"Recall@{k} (higher is better)")
    ax.set_ylabel(f"SVR@{k} % (lower is safer)")
    ax.set_title("Quality vs personalized safety")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return _fig_png(fig)


def svr_heatmap(names: list[str], groups: list[str], values: np.ndarray, title: str) -> bytes:
    """Heatmap of SVR (%) with one row per group (trait or mode) and one column per run."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(names), 0.8 + 0.32 * len(groups)))
    im = ax.imshow(values * 100, aspect="auto", cmap="Reds", vmin=0, vmax=max(1.0, float(np.nanmax(values * 100))))
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(groups)), groups, fontsize=8)
    for i in range(len(groups)):
        for j in range(len(names)):
            v = values[i, j]
            if not np.isnan(v):
                ax.text(j, i, f"{v * 100:.0f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label="SVR %")
    ax.set_title(title)
    return _fig_png(fig)


def grouped_bars(names: list[str], groups: list[str], values: np.ndarray, ylabel: str, title: str) -> bytes:
    """Bars per group (e.g. constraint mode), one bar per run."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(1, len(names))
    x = np.arange(len(groups))
    for j, name in enumerate(names):
        ax.bar(x + j * width - 0.4 + width / 2, values[:, j] * 100, width, label=name)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _fig_png(fig)
