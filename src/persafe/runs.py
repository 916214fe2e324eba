"""Run directories: config, manifest, resumable ``samples.jsonl`` and atomic ``results.json``.

A run can be interrupted at any point and resumed: samples are appended (and fsync'ed) in batches,
a half-written last line is discarded on reopen, and samples already present are skipped, so none is
lost or counted twice. A sample whose model call failed is recorded with ``"status": "failed"``: it is
never scored, and the next run of the same command retries it (its new record replaces the old one).
A folder is locked while a process writes it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from persafe import __version__
from persafe.errors import DataError, PersafeError
from persafe.io import atomic_write_json, dumps_json


def git_sha(cwd: str | Path | None = None) -> str | None:
    """The current git commit (``None`` outside a repository)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def manifest(seed: int | None = None) -> dict[str, Any]:
    """Versions, seed and code revision of the current process."""
    import numpy

    return {
        "persafe": __version__,
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "seed": seed,
        "git_sha": git_sha(Path(__file__).parent),
        "command": sys.argv,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


_FINGERPRINTS = {
    "samples": "the content of the scored samples",
    "n_samples": "how many samples are scored",
    "train": "the content of the training samples",
    "model": "the model's weights or server",
    "inference_model": "the inference model's weights or server",
    "oracle": "the catalog or its content warnings",
}
"""What each fingerprint of a run's identity stands for (said when a resume is refused)."""


def is_failed(record: dict[str, Any]) -> bool:
    """Whether a sample record stands for a failed model call (never scored; retried on resume)."""
    return record.get("status") == "failed"


def failed_summary(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """``{"n", "sample_ids", "errors"}`` of the failed records (errors: message → count, most common first)."""
    failed = [r for r in records if is_failed(r)]
    errors = Counter(str(r.get("error") or "unknown error") for r in failed)
    return {
        "n": len(failed),
        "sample_ids": sorted(r["sample_id"] for r in failed),
        "errors": dict(errors.most_common()),
    }


class _FolderLock:
    """An exclusive lock on a run folder (``.lock``), shared by the objects of one process.

    ``flock`` locks are released by the operating system when the process dies, so a killed run never
    leaves a stale lock; a second process is refused while the first writes. Where ``fcntl`` does not
    exist (Windows) folders are not locked.
    """

    _held: ClassVar[dict[Path, _FolderLock]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, key: Path, handle: Any) -> None:
        self.key, self.handle, self.count = key, handle, 1

    @classmethod
    def acquire(cls, folder: Path) -> _FolderLock:
        key = folder.resolve()
        with cls._guard:
            held = cls._held.get(key)
            if held is not None:
                held.count += 1
                return held
            handle = (folder / ".lock").open("a+", encoding="utf-8")
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows
                fcntl = None
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    handle.seek(0)
                    owner = handle.read().strip() or "another process"
                    handle.close()
                    raise PersafeError(
                        f"{folder} is being written by {owner}; wait for it to finish or use another output folder"
                    ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            cls._held[key] = lock = cls(key, handle)
            return lock

    def release(self) -> None:
        with self._guard:
            self.count -= 1
            if self.count > 0:
                return
            self._held.pop(self.key, None)
            self.handle.close()  # closing the file releases the flock


class RunDir:
    """One run's folder, locked while this object is open.

    A run's identity is what determines its numbers (a fingerprint of the samples, the model and the
    settings). Resuming compares identities, not file paths: the same data given by another path
    resumes, rebuilt data with the same path is refused.

    Args:
        path: the folder (created if needed).
        config: the run's configuration, written to ``config.json``.
        identity: what a resumed run must share (default: the whole ``config``); stored in
            ``config.json`` under ``"fingerprint"`` when given.
        overwrite: start afresh, deleting previous samples and results.
        seed: recorded in the manifest.

    Raises:
        PersafeError: the folder holds a run with another identity (and ``overwrite`` is off), or
            another process is writing it.
    """

    def __init__(
        self,
        path: str | Path,
        config: dict[str, Any],
        *,
        identity: dict[str, Any] | None = None,
        overwrite: bool = False,
        seed: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = _FolderLock.acquire(self.path)
        try:
            self._open(config, identity, overwrite, seed)
        except BaseException:
            self.close()
            raise

    def _open(self, config: dict[str, Any], identity: dict[str, Any] | None, overwrite: bool, seed: int | None) -> None:
        cfg_path = self.path / "config.json"
        config = json.loads(json.dumps(config, default=str))
        if identity is not None:
            config["fingerprint"] = json.loads(json.dumps(identity, default=str))
        if overwrite:
            for name in ("samples.jsonl", "results.json", "report.html"):
                (self.path / name).unlink(missing_ok=True)
        elif cfg_path.exists():
            old = json.loads(cfg_path.read_text(encoding="utf-8"))
            if identity is not None:
                old_id, new_id = old.get("fingerprint") or {}, config["fingerprint"]
            else:
                old_id, new_id = old, config
            if old_id != new_id:
                diff = sorted(k for k in set(old_id) | set(new_id) if old_id.get(k) != new_id.get(k))
                named = [f"{k} ({_FINGERPRINTS[k]})" if k in _FINGERPRINTS else k for k in diff]
                raise PersafeError(
                    f"{self.path} holds a run with a different configuration (differs in: {', '.join(named)}); "
                    "use another output folder or --overwrite"
                )
        atomic_write_json(cfg_path, config)
        if overwrite or not (self.path / "manifest.json").exists():
            atomic_write_json(self.path / "manifest.json", manifest(seed))
        self.config = config
        self._repair_tail()

    def close(self) -> None:
        """Release the folder's lock (also done when the object is garbage-collected)."""
        lock, self._lock = getattr(self, "_lock", None), None
        if lock is not None:
            lock.release()

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    @property
    def samples_path(self) -> Path:
        return self.path / "samples.jsonl"

    @property
    def results_path(self) -> Path:
        return self.path / "results.json"

    def _repair_tail(self) -> None:
        """Drop a half-written last line left by an interruption."""
        p = self.samples_path
        if not p.exists() or p.stat().st_size == 0:
            return
        with p.open("rb+") as f:
            data = f.read()
            if data.endswith(b"\n"):
                return
            cut = data.rfind(b"\n") + 1
            f.seek(cut)
            f.truncate()

    def read_samples(self) -> list[dict[str, Any]]:
        """Every sample record written so far (the last one wins if an id appears twice)."""
        if not self.samples_path.exists():
            return []
        records: dict[str, dict[str, Any]] = {}
        with self.samples_path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise DataError(f"corrupt sample record ({e.msg})", path=self.samples_path, line=n) from None
                records[rec["sample_id"]] = rec
        return list(records.values())

    def done_ids(self) -> set[str]:
        """Ids of samples already finished: a sample whose model call failed is not done (it is retried)."""
        return {r["sample_id"] for r in self.read_samples() if not is_failed(r)}

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Append sample records durably (one write, flushed and fsync'ed)."""
        text = "".join(dumps_json(r) + "\n" for r in records)
        if not text:
            return
        with self.samples_path.open("a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def write_results(self, results: dict[str, Any]) -> None:
        """Atomically write ``results.json``."""
        atomic_write_json(self.results_path, results)

    def read_results(self) -> dict[str, Any]:
        """The run's ``results.json``."""
        if not self.results_path.exists():
            raise PersafeError(f"{self.path} has no results.json (the run has not finished)")
        return json.loads(self.results_path.read_text(encoding="utf-8"))


RUN_KINDS = {
    "saferec": ("a SafeRec evaluation run", "persafe report"),
    "penguin-responses": ("a PENGUIN responses folder", "persafe penguin judge, then persafe penguin report"),
    "penguin-judged": ("a PENGUIN judged folder", "persafe penguin report"),
    "raise-penguin": ("a RAISE run", "persafe raise report"),
    "ask-before-recommend": ("a RAISE ask-before-recommend run", "persafe raise report"),
}
"""Kinds of run folder: what each is, and the command that reports it."""


def run_kind(config: dict[str, Any], results: dict[str, Any] | None = None) -> str:
    """Which kind of run a folder holds (a key of ``RUN_KINDS``, or ``"unknown"``)."""
    kind = config.get("kind") or (results or {}).get("task")
    if kind in RUN_KINDS:
        return str(kind)
    if results is not None and "by_k" in results:
        return "saferec"
    return "unknown"


def load_run(path: str | Path, kind: str | None = "saferec") -> tuple[dict[str, Any], dict[str, Any]]:
    """``(config, results)`` of a finished run folder.

    Args:
        path: the run folder.
        kind: the kind of run expected (``None``: any); another kind is refused, naming its command.
    """
    path = Path(path)
    cfg = path / "config.json"
    if not cfg.exists():
        raise PersafeError(f"{path} is not a run folder (no config.json)")
    res = path / "results.json"
    if not res.exists():
        raise PersafeError(f"{path} has no results.json (the run has not finished; rerun it to resume)")
    config, results = json.loads(cfg.read_text(encoding="utf-8")), json.loads(res.read_text(encoding="utf-8"))
    found = run_kind(config, results)
    if kind is not None and found != kind:
        what, command = RUN_KINDS.get(found, ("not a run folder persafe knows", "the command that wrote it"))
        raise PersafeError(f"{path} is {what}, not {RUN_KINDS[kind][0]}; report it with {command}")
    return config, results
