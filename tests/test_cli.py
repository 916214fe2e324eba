"""The command line (typer): catalog stats, build, eval, report, and its error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import persafe.catalog
from persafe.catalog import MovieLens
from persafe.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _reuse_movielens(monkeypatch: pytest.MonkeyPatch, movielens: MovieLens) -> None:
    """Serve the session's MovieLens instead of re-reading it in every command (loading is tested elsewhere)."""
    real = persafe.catalog.load_movielens
    monkeypatch.setattr(persafe.catalog, "load_movielens", lambda path=None: movielens if path is None else real(path))


def _invoke(*args: str):
    res = runner.invoke(app, [str(a) for a in args])
    res.flat = " ".join(res.output.split())  # rich wraps long lines
    return res


def test_catalog_stats_json() -> None:
    res = _invoke("catalog", "stats", "--json")
    assert res.exit_code == 0, res.output
    stats = json.loads(res.output)
    cov = stats["coverage"]
    assert cov["items"] == 1682
    assert cov["annotated"] + cov["unknown"] + cov["missing"] == 1682
    assert [r["trait"] for r in stats["per_trait"]] == persafe.catalog.builtin_traits().ids
    for r in stats["per_trait"]:
        assert r["unsafe"] == r["by_tags"] + r["by_pg_only"]
    assert (stats["oracle"]["tau"], stats["oracle"]["unknown_policy"]) == (0.66, "safe")


def test_catalog_stats_options_reach_the_oracle() -> None:
    res = _invoke("catalog", "stats", "--json", "--tau", "0.9", "--unknown", "exclude", "--pg-policy", "max")
    assert res.exit_code == 0, res.output
    oracle = json.loads(res.output)["oracle"]
    assert (oracle["tau"], oracle["unknown_policy"], oracle["pg_policy"]) == (0.9, "exclude", "max")


def test_catalog_stats_table() -> None:
    res = _invoke("catalog", "stats")
    assert res.exit_code == 0, res.output
    assert "1682 movies" in res.flat
    assert "Unsafe movies per trait" in res.flat


def test_catalog_stats_unknown_policy_lists_valid() -> None:
    res = _invoke("catalog", "stats", "--unknown", "bogus")
    assert res.exit_code != 0
    assert "error: unknown unknown-item policy 'bogus'" in res.flat
    assert "exclude, safe, unsafe" in res.flat


def test_catalog_stats_bad_pg_policy_and_tau() -> None:
    res = _invoke("catalog", "stats", "--pg-policy", "min")
    assert res.exit_code != 0
    assert "applicability, max" in res.flat
    res = _invoke("catalog", "stats", "--tau", "0")
    assert res.exit_code != 0
    assert "tau must be in (0, 1]" in res.flat


def test_eval_unknown_recommender_lists_valid(tmp_path: Path) -> None:
    res = _invoke("eval", "--data", tmp_path, "--recommender", "nope", "--out", tmp_path / "run")
    assert res.exit_code != 0
    assert "unknown recommender 'nope'; valid: ease, itemknn, popularity, random" in res.flat
    assert not (tmp_path / "run").exists()


def test_eval_unknown_guard_lists_valid(tmp_path: Path) -> None:
    res = _invoke("eval", "--data", tmp_path, "--guard", "nope", "--out", tmp_path / "run")
    assert res.exit_code != 0
    assert "unknown guard 'nope'; valid: embedding, lexicon, lexicon+embedding, llm, none, oracle" in res.flat
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_build_eval_report(tmp_path: Path) -> None:
    data, run, run2, report = tmp_path / "data", tmp_path / "pop", tmp_path / "pop-lex", tmp_path / "r" / "rep.html"
    cfg = tmp_path / "small.yaml"
    cfg.write_text("max_train_per_user: 1\ntest_cuts_per_user: 1\n", encoding="utf-8")

    res = _invoke("build", "saferec", "--out", data, "--config", cfg, "--seed", "3")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in data.iterdir()) == ["build.json", "test.jsonl", "train.jsonl", "val.jsonl"]
    build = json.loads((data / "build.json").read_text(encoding="utf-8"))
    assert (build["config"]["seed"], build["config"]["max_train_per_user"], build["config"]["test_cuts_per_user"]) == (
        3,
        1,
        1,
    )
    assert f"test: {build['stats']['splits']['test']['samples']}" in res.flat

    res = _invoke("eval", "--data", data, "--recommender", "popularity", "--limit", "50", "--out", run)
    assert res.exit_code == 0, res.output
    assert "popularity: n=50 Recall@10=" in res.flat
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    assert results["n_samples"] == 50
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert (config["recommender"], config["guard"], config["limit"], config["ks"]) == (
        "popularity",
        "none",
        50,
        [10, 20],
    )
    assert len((run / "samples.jsonl").read_text(encoding="utf-8").splitlines()) == 50

    # the same command again resumes: nothing is evaluated twice
    res = _invoke("eval", "--data", data, "--recommender", "popularity", "--limit", "50", "--out", run)
    assert res.exit_code == 0, res.output
    assert len((run / "samples.jsonl").read_text(encoding="utf-8").splitlines()) == 50

    res = _invoke(
        "eval",
        "--data",
        data,
        "--recommender",
        "popularity",
        "--guard",
        "lexicon",
        "--limit",
        "50",
        "--out",
        run2,
        "--k",
        "5",
        "--k",
        "10",
    )
    assert res.exit_code == 0, res.output
    # the run name keeps its brackets (rich markup must not eat "[lexicon]")
    assert "popularity+guard[lexicon]: n=50 Recall@5=" in res.flat
    assert json.loads((run2 / "results.json").read_text(encoding="utf-8"))["ks"] == [5, 10]

    res = _invoke("report", run, run2, "--out", report)
    assert res.exit_code == 0, res.output
    assert report.exists() and report.with_suffix(".md").exists()
    page = report.read_text(encoding="utf-8")
    assert "<img" in page
    assert "popularity+guard[lexicon]" in page
    assert "| popularity+guard[lexicon] |" in res.output  # the markdown table, printed verbatim
    assert "wrote" in res.flat

    res = _invoke("eval", "--data", data, "--recommender", "popularity", "--limit", "40", "--out", run)
    assert res.exit_code != 0
    assert "different configuration" in res.flat
    assert "differs in: limit" in res.flat
    assert json.loads((run / "results.json").read_text(encoding="utf-8"))["n_samples"] == 50


def test_report_of_missing_run_fails(tmp_path: Path) -> None:
    res = _invoke("report", tmp_path / "nothing", "--out", tmp_path / "r.html")
    assert res.exit_code != 0
    assert "is not a run folder" in res.flat


def test_error_messages_are_not_read_as_markup(tmp_path: Path) -> None:
    missing = tmp_path / "traits[lexicon].yaml"
    res = _invoke("catalog", "stats", "--traits-file", missing)
    assert res.exit_code != 0
    assert "traits[lexicon].yaml" in res.output.replace("\n", "")
    assert "file not found" in res.flat
