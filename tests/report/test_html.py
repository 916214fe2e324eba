"""The HTML/markdown report: plots, run names, escaped (or redacted) model text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from persafe.catalog import Catalog, MovieLens, SafetyOracle
from persafe.evaluation import evaluate_recommender
from persafe.recsys import PopularityRecommender, Recommendations, SafetyGuard
from persafe.report import build_report
from persafe.runs import RunDir
from persafe.saferec import BuildResult, SafeRecSample

EVIL = "<script>alert(1)</script>"


class ChattyRecommender:
    """Popularity lists, plus raw "model text" that tries to inject a script into the report."""

    name = "chatty<llm>"

    def __init__(self) -> None:
        self.base = PopularityRecommender()

    def fit(self, samples: Sequence[SafeRecSample], catalog: Catalog) -> None:
        self.base.fit(samples, catalog)

    def recommend(self, samples: Sequence[SafeRecSample], k: int) -> Recommendations:
        recs = self.base.recommend(samples, k)
        recs.raw = [f"Here you go {EVIL} for {s.sample_id}" for s in samples]
        return recs


@pytest.fixture(scope="module")
def run_dirs(
    tmp_path_factory: pytest.TempPathFactory, saferec_build: BuildResult, movielens: MovieLens, oracle: SafetyOracle
) -> list[Path]:
    root = tmp_path_factory.mktemp("runs")
    train, test = saferec_build.samples["train"], saferec_build.samples["test"][:60]
    out = []
    pop = PopularityRecommender()
    guard = SafetyGuard(ChattyRecommender(), oracle)
    for rec, cfg in (
        (pop, {"name": "popularity", "base": None}),
        (guard, {"name": "chatty<llm>+guard", "base": "popularity"}),
    ):
        rec.fit(train, movielens.catalog)
        path = root / cfg["name"].replace("<", "_").replace(">", "_")
        evaluate_recommender(rec, test, oracle, RunDir(path, cfg), n_boot=50)
        out.append(path)
    return out


@pytest.fixture(scope="module")
def report(run_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("report") / "sub" / "report.html"
    path, md = build_report(run_dirs, out, title="My <report>")
    assert path == out
    return out, md, out.read_text(encoding="utf-8")


def test_report_html(report: tuple[Path, str, str]) -> None:
    _, _, page = report
    assert page.startswith("<!doctype html>")
    assert page.count("<img") == 3  # recall vs SVR, SVR by mode, SVR by trait
    assert 'src="data:image/png;base64,' in page
    assert "<td>popularity</td>" in page
    assert "<td>chatty&lt;llm&gt;+guard</td>" in page
    assert "<title>My &lt;report&gt;</title>" in page
    assert "Constraint inference of the guards" in page
    assert "<th>False alarms: plain</th><th>distractor</th><th>Targets met</th>" in page
    assert "Model output examples" in page


def test_model_text_is_escaped(report: tuple[Path, str, str]) -> None:
    _, _, page = report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert EVIL not in page
    assert "<script" not in page
    assert "chatty<llm>" not in page
    assert page.count("alert(1)") == 3  # three examples of the run with raw text


def test_redact_hides_model_text(run_dirs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    build_report(run_dirs, out, redact=True)
    page = out.read_text(encoding="utf-8")
    assert "alert(1)" not in page
    assert "Here you go" not in page
    assert page.count("[redacted]") == 3


def test_markdown_written(report: tuple[Path, str, str]) -> None:
    out, md, _ = report
    text = out.with_suffix(".md").read_text(encoding="utf-8")
    assert text == f"# My <report>\n\n{md}"
    lines = md.strip().splitlines()
    assert lines[0].startswith("| Recommender | Recall@10 | NDCG@10 | SVR@10 |")
    assert len(lines) == 4  # header, separator, two runs
    assert lines[2].startswith("| popularity | ")
    assert lines[3].startswith("| chatty<llm>+guard | ")
    # the guarded run names its base, so its over-filtering (a signed number) is filled in
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    cells = [c.strip() for c in lines[3].strip("|").split("|")]
    assert cells[header.index("Over-filtering")][0] in "+-"
    base_cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert base_cells[header.index("Over-filtering")] == "–"  # an unguarded run has no base


def test_unfinished_run_fails(tmp_path: Path, run_dirs: list[Path]) -> None:
    from persafe.errors import PersafeError

    RunDir(tmp_path / "unfinished", {"name": "x"})
    with pytest.raises(PersafeError, match=r"has no results\.json"):
        build_report([run_dirs[0], tmp_path / "unfinished"], tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_tables_keep_bracketed_names(run_dirs: list[Path]) -> None:
    from rich.console import Console

    from persafe.report import comparison_rows, markdown_table, rich_table
    from persafe.runs import load_run

    cfg, res = load_run(run_dirs[0])
    rows = comparison_rows([(cfg, res), ({"name": "popularity+guard[lexicon]", "base": "popularity"}, res)], 10)
    assert rows[1]["overfiltering"] == {"mean": 0.0}  # same results as its base
    assert "| popularity+guard[lexicon] |" in markdown_table(rows, 10)
    console = Console(record=True, width=300)
    console.print(rich_table(rows, 10))
    assert "popularity+guard[lexicon]" in console.export_text()
