"""The failed-sample contract of ``persafe raise``, by fault injection against a real local HTTP server:
a conversation, answer or verdict whose model call failed is never scored (nor planned on), the command
exits 1 naming it, and the rerun retries exactly what failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import persafe.agent.store
from openai_server import FakeOpenAIServer
from persafe.cli import app


def _embed(texts):
    cues = ("drink", "money", "sleep", "job", "lonely", "sober", "daughter", "spider")
    return np.array([[t.lower().count(c) + 0.01 for c in cues] for t in texts])


@pytest.fixture(autouse=True)
def _offline_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(persafe.agent.store, "minilm_embedder", lambda: _embed)
    monkeypatch.setenv("PERSAFE_OPENAI_MAX_RETRIES", "1")
    monkeypatch.setenv("PERSAFE_OPENAI_BACKOFF", "0")


def _answer(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if "Rate the completeness" in system:
        return "2"
    if "ask them one question" in system:
        return "Mental health status"
    if "probability" in system.lower() or "distribution" in system.lower():
        return '{"age": 1, "mental_health_status": 3}'
    return "I am sorry to hear that. Please reach out to a counsellor or a crisis line."


def _user(body: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")


def _invoke(*args: object) -> Any:
    res = CliRunner().invoke(app, ["raise", *(str(a) for a in args)])
    res.flat = " ".join(res.output.split())
    return res


def test_raise_run_fails_then_recovers(tmp_path: Path) -> None:
    from persafe.penguin import generate_scenarios

    broken = generate_scenarios(21, seed=0)[1].query
    server = FakeOpenAIServer(respond=_answer, fault=lambda b: ("status", 500) if broken in _user(b) else None)
    server.start()
    args = (
        "run", "--out", tmp_path / "run", "--n-generated", 21, "--limit", 4, "--variant", "vanilla",
        "--variant", "agent", "--max-questions", 1, "--responder", f"openai:m@{server.url}", "--no-cache",
    )  # fmt: skip
    try:
        res = _invoke(*args)
        assert res.exit_code == 1, res.output
        assert "2 sample(s) failed" in res.flat and "HTTP 500" in res.flat
        out = json.loads((tmp_path / "run" / "results.json").read_text())
        assert out["failed"]["n"] == 2 and out["variants"]["vanilla"]["n"] == 3 and out["variants"]["agent"]["n"] == 3
        server.fault = None
        res = _invoke(*args)
        assert res.exit_code == 0, res.output
    finally:
        server.stop()
    out = json.loads((tmp_path / "run" / "results.json").read_text())
    assert out["failed"]["n"] == 0 and out["variants"]["vanilla"]["n"] == 4 and out["variants"]["agent"]["n"] == 4
    lines = [json.loads(x) for x in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    latest = {r["sample_id"]: r for r in lines}
    assert len(latest) == 8 and all(r["status"] == "ok" for r in latest.values())
    assert len(lines) == 10  # the two failed records, then their retries


def test_raise_plan_leaves_failed_scenarios_out_of_the_store(tmp_path: Path) -> None:
    from persafe.penguin import generate_scenarios

    broken = generate_scenarios(21, seed=0)[0].query
    server = FakeOpenAIServer(respond=_answer, fault=lambda b: ("status", 500) if broken in _user(b) else None)
    server.start()
    try:
        res = _invoke(
            "plan", "--out", tmp_path / "paths", "--n-generated", 21, "--limit", 3, "--rollouts", 3, "--depth", 1,
            "--responder", f"openai:m@{server.url}", "--no-cache",
        )  # fmt: skip
    finally:
        server.stop()
    assert res.exit_code == 1, res.output
    assert "planned 2 of 3 scenarios" in res.flat and "1 sample(s) failed" in res.flat
    stored = [json.loads(x) for x in (tmp_path / "paths.jsonl").read_text().splitlines()]
    assert len(stored) == 2 and broken not in {r["query"] for r in stored}
