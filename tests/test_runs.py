"""Run directories: resumable samples.jsonl, config checks, manifest, atomic results."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from persafe.errors import DataError, PersafeError
from persafe.io import atomic_write_json
from persafe.runs import RunDir, load_run

CONFIG = {"name": "popularity", "limit": 200, "ks": [10, 20]}


def _records(*ids: str) -> list[dict]:
    return [{"sample_id": i, "metrics": {"10": {"recall": 0.5}}} for i in ids]


def test_resume_drops_half_written_tail(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run", CONFIG)
    run.append(_records("s0", "s1"))
    run.append(_records("s2"))
    run.append([])  # nothing to write
    good = run.samples_path.read_bytes()
    assert good.count(b"\n") == 3
    # simulate a crash in the middle of a write: half a line, no newline
    with run.samples_path.open("a", encoding="utf-8") as f:
        f.write('{"sample_id": "s3", "metrics": {"10"')
    with pytest.raises(DataError, match=r"samples.jsonl:4"):
        run.read_samples()

    again = RunDir(tmp_path / "run", CONFIG)
    assert again.samples_path.read_bytes() == good
    assert again.done_ids() == {"s0", "s1", "s2"}
    again.append(_records("s3"))
    assert [r["sample_id"] for r in again.read_samples()] == ["s0", "s1", "s2", "s3"]
    assert len(again.samples_path.read_text(encoding="utf-8").splitlines()) == 4


def test_reopen_complete_file_is_untouched(tmp_path: Path) -> None:
    run = RunDir(tmp_path, CONFIG)
    run.append(_records("a", "b"))
    before = run.samples_path.read_bytes()
    RunDir(tmp_path, CONFIG)
    assert run.samples_path.read_bytes() == before


def test_last_record_wins_for_repeated_id(tmp_path: Path) -> None:
    run = RunDir(tmp_path, CONFIG)
    run.append([{"sample_id": "a", "v": 1}, {"sample_id": "b", "v": 2}, {"sample_id": "a", "v": 3}])
    assert sorted((r["sample_id"], r["v"]) for r in run.read_samples()) == [("a", 3), ("b", 2)]


def test_different_config_raises(tmp_path: Path) -> None:
    RunDir(tmp_path, CONFIG).append(_records("s0"))
    with pytest.raises(PersafeError) as ei:
        RunDir(tmp_path, {**CONFIG, "limit": 50, "extra": True})
    msg = str(ei.value)
    assert "different configuration" in msg
    assert "differs in: extra, limit" in msg
    assert "--overwrite" in msg
    # the refused open changed nothing
    assert json.loads((tmp_path / "config.json").read_text(encoding="utf-8")) == CONFIG
    assert RunDir(tmp_path, CONFIG).done_ids() == {"s0"}


def test_config_compared_after_json_round_trip(tmp_path: Path) -> None:
    RunDir(tmp_path, {"ks": (10, 20), "data": Path("runs/x")})
    run = RunDir(tmp_path, {"ks": [10, 20], "data": "runs/x"})  # same config once serialised
    assert run.config == {"ks": [10, 20], "data": "runs/x"}


def test_overwrite_clears(tmp_path: Path) -> None:
    run = RunDir(tmp_path, CONFIG)
    run.append(_records("s0", "s1"))
    run.write_results({"n_samples": 2})
    (tmp_path / "report.html").write_text("<html>", encoding="utf-8")
    fresh = RunDir(tmp_path, {**CONFIG, "limit": 10}, overwrite=True)
    assert fresh.done_ids() == set()
    assert not fresh.samples_path.exists()
    assert not fresh.results_path.exists()
    assert not (tmp_path / "report.html").exists()
    assert json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))["limit"] == 10


def test_manifest(tmp_path: Path) -> None:
    RunDir(tmp_path, CONFIG, seed=7)
    man = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    for key in ("git_sha", "python", "seed", "persafe", "numpy", "platform", "command", "created"):
        assert key in man, key
    assert man["seed"] == 7
    assert man["python"].count(".") == 2
    assert man["git_sha"] is None or len(man["git_sha"]) == 40
    # a resumed run keeps its original manifest
    (tmp_path / "manifest.json").write_text('{"seed": 7, "marker": 1}', encoding="utf-8")
    RunDir(tmp_path, CONFIG, seed=8)
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["marker"] == 1
    RunDir(tmp_path, CONFIG, seed=8, overwrite=True)
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["seed"] == 8


def test_results_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = RunDir(tmp_path, CONFIG)
    with pytest.raises(PersafeError, match=r"no results\.json"):
        run.read_results()
    with pytest.raises(PersafeError, match="has not finished"):
        load_run(tmp_path, kind=None)
    run.write_results({"n_samples": 3, "x": float("nan")})
    assert run.read_results()["n_samples"] == 3
    assert load_run(tmp_path, kind=None) == (CONFIG, run.read_results())

    # a write that fails before the rename leaves the old file intact and no temporary file behind
    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        run.write_results({"n_samples": 4})
    monkeypatch.undo()
    assert run.read_results()["n_samples"] == 3
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".lock", "config.json", "manifest.json", "results.json"]  # the lock file stays, unlocked


def test_atomic_write_json_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c.json"
    atomic_write_json(target, {"k": [1, 2], "p": Path("x")})
    assert json.loads(target.read_text(encoding="utf-8")) == {"k": [1, 2], "p": "x"}


def test_load_run_needs_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(PersafeError, match="not a run folder"):
        load_run(tmp_path, kind=None)


def test_a_folder_is_locked_while_another_process_writes_it(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from persafe.runs import RunDir; r = RunDir(sys.argv[1], {'name': 'x'}); "
         "print('locked', flush=True); time.sleep(30)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(PersafeError, match=rf"is being written by pid {holder.pid}; wait for it"):
            RunDir(tmp_path, {"name": "x"})
    finally:
        holder.kill()
        holder.wait()
    t0 = time.perf_counter()
    while True:  # a killed writer leaves no stale lock: the operating system released it
        try:
            run = RunDir(tmp_path, {"name": "x"})
            break
        except PersafeError:
            assert time.perf_counter() - t0 < 5
            time.sleep(0.05)
    run.append(_records("a"))
    assert run.done_ids() == {"a"}
    again = RunDir(tmp_path, {"name": "x"})  # the same process may open it twice (e.g. a resumed evaluation)
    assert again.done_ids() == {"a"}


def test_failed_records_are_not_done_and_a_retry_replaces_them(tmp_path: Path) -> None:
    from persafe.runs import failed_summary

    run = RunDir(tmp_path, CONFIG)
    run.append([{"sample_id": "a", "status": "ok"}, {"sample_id": "b", "status": "failed", "error": "HTTP 500"}])
    assert run.done_ids() == {"a"}
    assert failed_summary(run.read_samples()) == {"n": 1, "sample_ids": ["b"], "errors": {"HTTP 500": 1}}
    run.append([{"sample_id": "b", "status": "ok"}])
    assert run.done_ids() == {"a", "b"} and failed_summary(run.read_samples())["n"] == 0


def test_identity_not_paths_decides_a_resume(tmp_path: Path) -> None:
    RunDir(tmp_path, {"data": "a/b"}, identity={"samples": "123"})
    RunDir(tmp_path, {"data": "/abs/a/b"}, identity={"samples": "123"})  # another path to the same data
    with pytest.raises(PersafeError, match=r"differs in: samples \(the content of the scored samples\)"):
        RunDir(tmp_path, {"data": "a/b"}, identity={"samples": "456"})
