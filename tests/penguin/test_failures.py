"""The failed-sample contract of ``persafe penguin respond`` and ``judge``, by fault injection against a
real local HTTP server: a failed call is never an answer or a verdict, the command exits 1 and names
it, and the rerun retries exactly what failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openai_server import FakeOpenAIServer
from persafe.cli import app

VERDICT = '{"risk_sensitivity": 4, "emotional_empathy": 3, "user_alignment": 2}'


@pytest.fixture(autouse=True)
def _fast_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSAFE_OPENAI_MAX_RETRIES", "1")
    monkeypatch.setenv("PERSAFE_OPENAI_BACKOFF", "0")


def _invoke(*args: object) -> Any:
    res = CliRunner().invoke(app, ["penguin", *(str(a) for a in args)])
    res.flat = " ".join(res.output.split())
    return res


def _records(folder: Path) -> dict[str, dict[str, Any]]:
    lines = [json.loads(x) for x in (folder / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    return {r["sample_id"]: r for r in lines}


def _user(body: dict[str, Any]) -> str:
    return [m["content"] for m in body["messages"] if m["role"] == "user"][-1]


def _answer(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    return VERDICT if "evaluate whether" in system else "Please talk to someone you trust; a counsellor can help."


@pytest.fixture
def scenarios(tmp_path: Path) -> Path:
    path = tmp_path / "sc.jsonl"
    assert _invoke("build", "--out", path, "--n", 7, "--seed", 1).exit_code == 0
    return path


def test_respond_and_judge_fail_then_recover(tmp_path: Path, scenarios: Path) -> None:
    from persafe.penguin import load_scenarios

    items = load_scenarios(scenarios)
    broken, unjudged = items[2].query, items[4].query
    server = FakeOpenAIServer(respond=_answer, fault=lambda b: ("status", 500) if broken in _user(b) else None)
    server.start()
    model = f"openai:m@{server.url}"
    resp, judged = tmp_path / "resp", tmp_path / "judged"
    try:
        res = _invoke("respond", "--model", model, "--scenarios", scenarios, "--out", resp, "--no-cache")
        assert res.exit_code == 1 and "2 sample(s) failed" in res.flat  # free and rich of one scenario
        failed = {k for k, r in _records(resp).items() if r["status"] == "failed"}
        assert len(failed) == 2 and json.loads((resp / "results.json").read_text())["failed"]["n"] == 2

        # the judge only sees answers that exist, and its own failed calls are not verdicts
        server.fault = lambda b: ("status", 502) if unjudged in _user(b) else None
        res = _invoke("judge", "--responses", resp, "--judge", model, "--out", judged, "--no-cache")
        assert res.exit_code == 1, res.output
        out = json.loads((judged / "results.json").read_text())
        assert out["failed"]["n"] == 2 and out["invalid"]["total"] == 0  # a failed call is not an invalid verdict
        assert out["n_records"] == 10 and out["unanswered"] == 2
        assert all(r["score"] is None for r in _records(judged).values() if r["status"] == "failed")

        server.fault = None
        before = len(server.requests)
        res = _invoke("respond", "--model", model, "--scenarios", scenarios, "--out", resp, "--no-cache")
        assert res.exit_code == 0, res.output
        assert len(server.requests) - before == 2  # exactly the failed answers
        res = _invoke("judge", "--responses", resp, "--judge", model, "--out", judged, "--no-cache")
        assert res.exit_code == 0, res.output
    finally:
        server.stop()
    out = json.loads((judged / "results.json").read_text())
    assert out["n_records"] == 14 and out["failed"]["n"] == 0 and out["unanswered"] == 0
    assert out["contexts"]["free"]["score"]["mean"] == pytest.approx(3.0)
    latest = _records(judged)
    assert len(latest) == 14 and all(r["status"] == "ok" and r["score"] == 3.0 for r in latest.values())


def test_agree_refuses_judges_of_different_answers(tmp_path: Path, scenarios: Path) -> None:
    resp_a, resp_b = tmp_path / "a", tmp_path / "b"
    for resp, model in ((resp_a, "scripted:echo"), (resp_b, "scripted:echo")):
        assert (
            _invoke("respond", "--model", model, "--scenarios", scenarios, "--out", resp, "--no-cache").exit_code == 0
        )
    assert _invoke("judge", "--responses", resp_a, "--out", tmp_path / "ja").exit_code == 0
    assert _invoke("judge", "--responses", resp_b, "--out", tmp_path / "jb").exit_code == 0
    res = _invoke("agree", tmp_path / "ja", tmp_path / "jb")
    assert res.exit_code == 0 and "14 shared answers" in res.flat

    # another answer under the same id: the judges did not score the same thing
    lines = (tmp_path / "jb" / "samples.jsonl").read_text().splitlines()
    first = json.loads(lines[0]) | {"answer": "something else"}
    (tmp_path / "jb" / "samples.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    res = _invoke("agree", tmp_path / "ja", tmp_path / "jb")
    assert res.exit_code == 2 and "1 of the 14 shared answers differ" in res.flat

    human = tmp_path / "human.jsonl"
    human.write_text(json.dumps({"sample_id": "nope:free", "score": 3}) + "\n")
    res = _invoke("agree", tmp_path / "ja", human)
    assert res.exit_code == 2 and "share no sample_id" in res.flat
