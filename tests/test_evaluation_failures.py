"""The failed-sample contract of ``persafe eval``, by fault injection against a real local HTTP server.

A sample whose model call fails (server down, HTTP 500, 429, timeouts, the server dying mid-run) is
recorded as failed: never scored, never cached, listed in results.json and the summary, and the command
exits 1. Rerunning the same command once the server is back retries exactly those samples, and the run
then equals a clean run: no sample lost or counted twice.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openai_server import FakeOpenAIServer
from persafe.cli import app
from persafe.llm.cache import ResponseCache

LIST_ANSWER = "1. Heat (1995)\n2. Fargo (1996)\n3. Toy Story (1995)\n4. Babe (1995)"
LIMIT = 6


def _answer(body: dict[str, Any]) -> str:
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    if "sensitivities" in system:  # the LLM guard's trait inference
        return '{"traits": ["arachnophobia"]}'
    return LIST_ANSWER


def _user(body: dict[str, Any]) -> str:
    return [m["content"] for m in body["messages"] if m["role"] == "user"][-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _fast_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PERSAFE_OPENAI_MAX_RETRIES", "1")
    monkeypatch.setenv("PERSAFE_OPENAI_BACKOFF", "0")
    monkeypatch.setenv("PERSAFE_OPENAI_TIMEOUT", "0.5")
    monkeypatch.setenv("PERSAFE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer(respond=_answer).start()
    yield srv
    srv.stop()


def _eval(data: Path, url: str, out: Path, *extra: str) -> Any:
    args = ["eval", "--data", str(data), "--model", f"openai:m@{url}", "--limit", str(LIMIT), "--out", str(out)]
    return CliRunner().invoke(app, [*args, *extra])


def _results(run: Path) -> dict[str, Any]:
    return json.loads((run / "results.json").read_text(encoding="utf-8"))


def _latest(run: Path) -> dict[str, dict[str, Any]]:
    lines = [json.loads(x) for x in (run / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    return {r["sample_id"]: r for r in lines}


@pytest.fixture
def reference(saferec_dir: Path, server: FakeOpenAIServer, tmp_path: Path) -> dict[str, Any]:
    """The results of a run that never failed."""
    res = _eval(saferec_dir, server.url, tmp_path / "clean")
    assert res.exit_code == 0, res.output
    return _results(tmp_path / "clean")


def _assert_recovered(run: Path, reference: dict[str, Any]) -> None:
    res = _results(run)
    assert res["n_samples"] == LIMIT and res["failed"]["n"] == 0
    assert res["by_k"] == reference["by_k"]  # nothing lost, nothing counted twice
    latest = _latest(run)
    assert len(latest) == LIMIT and all(r["status"] == "ok" for r in latest.values())


def test_server_down_fails_every_sample_and_the_rerun_recovers(
    saferec_dir: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    port = _free_port()
    url, run = f"http://127.0.0.1:{port}/v1", tmp_path / "run"
    cache = ResponseCache(tmp_path / "cache" / "responses.sqlite")
    cached = len(cache)  # the reference run's answers
    res = _eval(saferec_dir, url, run)
    assert res.exit_code == 1, res.output
    flat = " ".join(res.output.split())
    assert f"failed: {LIMIT}" in flat and f"{LIMIT} sample(s) failed" in flat
    assert "connection error" in flat and "rerun the same command to retry exactly them" in flat
    out = _results(run)
    assert out["n_samples"] == 0 and out["failed"]["n"] == LIMIT  # no recall of 0 for calls that never happened
    assert out["by_k"]["10"]["overall"]["recall"]["mean"] is None
    assert all(r["status"] == "failed" and "metrics" not in r for r in _latest(run).values())
    assert len(cache) == cached  # failures are never cached

    srv = FakeOpenAIServer(port=port, respond=_answer).start()
    try:
        res = _eval(saferec_dir, url, run)
    finally:
        srv.stop()
    assert res.exit_code == 0, res.output
    assert len(srv.requests) == LIMIT and len(cache) == cached + LIMIT
    _assert_recovered(run, reference)


def test_http_500_fails_only_those_samples_and_the_rerun_retries_exactly_them(
    saferec_dir: Path, server: FakeOpenAIServer, reference: dict[str, Any], tmp_path: Path
) -> None:
    from persafe.saferec import load_saferec

    test = load_saferec(saferec_dir, "test")[:LIMIT]
    broken = {test[1].request, test[4].request}
    server.fault = lambda body: ("status", 500) if any(b in _user(body) for b in broken) else None
    run = tmp_path / "run"
    res = _eval(saferec_dir, server.url, run, "--no-cache")
    assert res.exit_code == 1, res.output
    out = _results(run)
    assert out["n_samples"] == LIMIT - 2
    assert out["failed"]["sample_ids"] == sorted([test[1].sample_id, test[4].sample_id])
    assert "HTTP 500 after 2 attempts" in out["failed"]["errors"]

    server.fault = None
    before = len(server.requests)
    res = _eval(saferec_dir, server.url, run, "--no-cache")
    assert res.exit_code == 0, res.output
    assert len(server.requests) - before == 2  # exactly the failed samples
    _assert_recovered(run, reference)


def test_429_with_retry_after_is_waited_for(
    saferec_dir: Path, server: FakeOpenAIServer, reference: dict[str, Any], tmp_path: Path, monkeypatch
) -> None:
    import persafe.llm.openai_compat as oc

    delays: list[float] = []
    monkeypatch.setattr(oc, "_sleep", delays.append)
    seen: set[str] = set()

    def once(body: dict[str, Any]) -> tuple | None:
        key = _user(body)
        if key in seen:
            return None
        seen.add(key)
        return ("status", 429, {"Retry-After": "0.25"})

    server.fault = once
    run = tmp_path / "run"
    res = _eval(saferec_dir, server.url, run, "--no-cache")
    assert res.exit_code == 0, res.output
    assert delays == [0.25] * LIMIT  # the server's Retry-After, once per sample
    _assert_recovered(run, reference)


def test_timeouts_fail_the_sample_and_the_rerun_recovers(
    saferec_dir: Path, server: FakeOpenAIServer, reference: dict[str, Any], tmp_path: Path
) -> None:
    from persafe.saferec import load_saferec

    slow = load_saferec(saferec_dir, "test")[2]
    server.fault = lambda body: ("sleep", 3) if slow.request in _user(body) else None
    run = tmp_path / "run"
    res = _eval(saferec_dir, server.url, run, "--no-cache")
    assert res.exit_code == 1, res.output
    out = _results(run)
    assert out["failed"]["sample_ids"] == [slow.sample_id] and out["n_samples"] == LIMIT - 1
    assert "timeout after 2 attempts" in out["failed"]["errors"]
    server.fault = None
    assert _eval(saferec_dir, server.url, run, "--no-cache").exit_code == 0
    _assert_recovered(run, reference)


def test_server_dying_mid_run_loses_and_doubles_nothing(
    saferec_dir: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    count = {"n": 0}

    def die_at_third(body: dict[str, Any]) -> tuple | None:
        count["n"] += 1
        return ("die",) if count["n"] == 3 else None

    srv = FakeOpenAIServer(respond=_answer, fault=die_at_third).start()
    run = tmp_path / "run"
    res = _eval(saferec_dir, srv.url, run, "--no-cache", "--batch-size", "1")
    assert res.exit_code == 1, res.output
    out = _results(run)
    assert out["failed"]["n"] >= 1 and out["n_samples"] + out["failed"]["n"] == LIMIT
    srv = srv.restarted()
    try:
        res = _eval(saferec_dir, srv.url, run, "--no-cache", "--batch-size", "1")
    finally:
        srv.stop()
    assert res.exit_code == 0, res.output
    _assert_recovered(run, reference)


def test_a_failed_llm_guard_call_is_not_scored_as_no_sensitivity(
    saferec_dir: Path, server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.fault = lambda body: ("status", 503)
    run = tmp_path / "guard"
    args = ["--recommender", "popularity", "--guard", "llm", "--inference-model", f"openai:m@{server.url}"]
    res = CliRunner().invoke(
        app, ["eval", "--data", str(saferec_dir), "--limit", str(LIMIT), "--out", str(run), "--no-cache", *args]
    )
    assert res.exit_code == 1, res.output
    out = _results(run)
    assert out["n_samples"] == 0 and out["failed"]["n"] == LIMIT
    assert all("constraint inference: HTTP 503" in e for e in out["failed"]["errors"])
    server.fault = None
    res = CliRunner().invoke(
        app, ["eval", "--data", str(saferec_dir), "--limit", str(LIMIT), "--out", str(run), "--no-cache", *args]
    )
    assert res.exit_code == 0, res.output
    out = _results(run)
    assert out["n_samples"] == LIMIT and out["inference_status"] == {"ok": LIMIT}
    assert all(r["inferred_traits"] == ["arachnophobia"] for r in _latest(run).values())
