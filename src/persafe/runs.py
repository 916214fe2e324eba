"""Run directories: config, manifest, resumable ``samples.jsonl`` and atomic ``results.json``.

A run can be interrupted at any point and resumed: samples are appended (and fsync'ed) in batches,
a half-written last line is discarded on reopen, and samples already present are skipped, so none is
lost or counted twice.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from persafe import __version__
from persafe.errors import DataError, PersafeError
from persafe.io import atomic_write_json


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


class RunDir:
    """One run's folder.

    Args:
        path: the folder (created if needed).
        config: the run's configuration; a resumed run must have the same one.
        overwrite: start afresh, deleting previous samples and results.
        seed: recorded in the manifest.

    Raises:
        PersafeError: the folder holds a run with a different configuration (and ``overwrite`` is off).
    """

    def __init__(
        self, path: str | Path, config: dict[str, Any], *, overwrite: bool = False, seed: int | None = None
    ) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        cfg_path = self.path / "config.json"
        config = json.loads(json.dumps(config, default=str))
        if overwrite:
            for name in ("samples.jsonl", "results.json", "report.html"):
                (self.path / name).unlink(missing_ok=True)
        elif cfg_path.exists():
            old = json.loads(cfg_path.read_text(encoding="utf-8"))
            if old != config:
                diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
                raise PersafeError(
                    f"{self.path} holds a run with a different configuration (differs in: {', '.join(diff)}); "
                    "use another output folder or --overwrite"
                )
        atomic_write_json(cfg_path, config)
        if overwrite or not (self.path / "manifest.json").exists():
            atomic_write_json(self.path / "manifest.json", manifest(seed))
        self.config = config
        self._repair_tail()

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
        """Ids of samples already evaluated."""
        return {r["sample_id"] for r in self.read_samples()}

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Append sample records durably (one write, flushed and fsync'ed)."""
        text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
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


def load_run(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(config, results)`` of a finished run folder."""
    path = Path(path)
    cfg = path / "config.json"
    if not cfg.exists():
        raise PersafeError(f"{path} is not a run folder (no config.json)")
    res = path / "results.json"
    if not res.exists():
        raise PersafeError(f"{path} has no results.json (the run has not finished; rerun it to resume)")
    return json.loads(cfg.read_text(encoding="utf-8")), json.loads(res.read_text(encoding="utf-8"))
