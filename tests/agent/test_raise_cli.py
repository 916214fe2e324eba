"""``persafe raise plan / run / recommend / report`` end to end with scripted models and the rubric judge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import persafe.agent.store
import persafe.catalog
from persafe.cli import app

runner = CliRunner()


def _embed(texts):
    cues = ("drink", "money", "sleep", "job", "lonely", "sober", "daughter", "spider")
    return np.array([[t.lower().count(c) + 0.01 for c in cues] for t in texts])


@pytest.fixture(autouse=True)
def _offline_fast(monkeypatch: pytest.MonkeyPatch, movielens, oracle) -> None:
    """A word-count embedder instead of MiniLM, and the session's oracle instead of reloading it."""
    monkeypatch.setattr(persafe.agent.store, "minilm_embedder", lambda: _embed)
    monkeypatch.setattr(persafe.catalog, "builtin_oracle", lambda *a, **kw: (movielens, oracle.taxonomy, oracle))


def _invoke(*args):
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res


def test_plan_run_report(tmp_path: Path, saferec_dir: Path) -> None:
    common = ("--responder", "scripted:echo", "--judge", "rubric", "--n-generated", "21", "--no-cache")
    _invoke(
        "raise", "plan", "--out", tmp_path / "paths", "--limit", "7", "--rollouts", "6", "--depth", "2",
        "--prior", "llm", *common,
    )  # fmt: skip
    records = [json.loads(x) for x in (tmp_path / "paths.jsonl").read_text().splitlines()]
    assert len(records) == 7 and all(len(r["path"]) == 2 for r in records)
    summary = json.loads((tmp_path / "paths.plan.json").read_text())
    assert summary["prior_stats"]["fallbacks"] == summary["prior_stats"]["calls"] > 0  # hashes are no JSON
    res = _invoke(
        "raise", "run", "--out", tmp_path / "run", "--store", tmp_path / "paths", "--offset", "7", "--limit", "7",
        "--max-questions", "2", *common,
    )  # fmt: skip
    assert "planner" in res.output
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert set(results["variants"]) == {"vanilla", "agent", "planner"}
    assert results["variants"]["planner"]["fallbacks"]["rating_unreadable"] > 0
    assert results["variants"]["planner"]["mean_questions"] == 2.0
    _invoke(
        "raise", "recommend", "--out", tmp_path / "rec", "--data", saferec_dir, "--limit", "30",
        "--recommender", "popularity", "--max-questions", "1", "--plan-samples", "20", "--rollouts", "8",
        "--depth", "2", "--no-cache",
    )  # fmt: skip
    rep = _invoke("raise", "report", tmp_path / "run", tmp_path / "rec", "--out", tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "vanilla" in rep.output and "Ask before recommending" in page and "<img" in page
    assert (tmp_path / "report.md").exists()


def test_report_escapes_and_redacts(tmp_path: Path) -> None:
    from persafe.agent.report import build_raise_report

    run = tmp_path / "run"
    run.mkdir()
    verdict = {"risk_sensitivity": 2, "emotional_empathy": 2, "user_alignment": 2, "valid": True}
    rec = {
        "sample_id": "planner:x", "variant": "planner", "scenario_id": "x", "domain": "life",
        "query": "<script>alert(1)</script>", "asked": ["age"], "n_questions": 1, "answer": "<b>hi</b>",
        "verdict": verdict, "score": 2.0,
        "transcript": {"turns": [{"question": "Q?", "answer": "<i>25</i>"}], "stop": "budget", "fallbacks": {}},
    }  # fmt: skip
    (run / "samples.jsonl").write_text(json.dumps(rec) + "\n")
    from persafe.agent.evaluate import summarize_raise

    (run / "results.json").write_text(json.dumps(summarize_raise([rec], ["planner"])))
    build_raise_report([run], tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;i&gt;25" in page
    build_raise_report([run], tmp_path / "r2.html", redact=True)
    assert "script" not in (tmp_path / "r2.html").read_text() and "[redacted]" in (tmp_path / "r2.html").read_text()


def test_unknown_prior_is_a_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["raise", "plan", "--prior", "magic", "--out", str(tmp_path / "p")])
    assert res.exit_code == 2 and "unknown prior 'magic'" in " ".join(res.output.split())
