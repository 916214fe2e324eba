"""Fingerprints: short content hashes of what determines a run's numbers.

A run is identified by the content of the samples it scores, the model that answers (for a local
model folder: its weights, configuration and tokenizer files; for a server: the model name and base
URL) and its settings, never by file paths. Resuming a run and the response cache both key on these.

Hashing a model folder reads every file once (about a second per GB); the digest is remembered in
the user cache, keyed by each file's path, size and modification time, so later runs do not re-read
unchanged weights.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

_CHUNK = 1 << 20
_memo_lock = threading.Lock()


def digest(obj: Any) -> str:
    """SHA-256 (hex, 16 characters) of a JSON-serialisable object in canonical form."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def records_fingerprint(records: Iterable[BaseModel | dict[str, Any]]) -> str:
    """Hash of a sequence of records (pydantic models or dicts), order included."""
    h = hashlib.sha256()
    for r in records:
        data = r.model_dump(mode="json") if isinstance(r, BaseModel) else r
        h.update(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()[:16]


def _memo_path() -> Path:
    from persafe.llm.smollm2 import cache_root

    return cache_root() / "fingerprints.json"


def _load_memo() -> dict[str, str]:
    try:
        data = json.loads(_memo_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def file_digest(path: Path, memo: dict[str, str] | None = None) -> str:
    """SHA-256 of a file's content, reusing ``memo`` when path, size and mtime are unchanged."""
    st = path.stat()
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    if memo is not None and key in memo:
        return memo[key]
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    value = h.hexdigest()
    if memo is not None:
        memo[key] = value
    return value


def folder_fingerprint(folder: str | Path) -> str:
    """Hash of the files directly in a model folder (weights, configuration, tokenizer, adapter).

    Sub-folders (``checkpoint-*``) and hidden files are left out: they do not change what the folder
    loads as. Digests are remembered in the user cache (see the module docstring).
    """
    from persafe.io import atomic_write_json

    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    with _memo_lock:
        memo = _load_memo()
        before = len(memo)
        parts = [(p.name, file_digest(p, memo)) for p in files]
        if len(memo) != before:
            live = {k: v for k, v in memo.items() if os.path.exists(k.split("|", 1)[0])}
            with contextlib.suppress(OSError):  # a read-only cache only costs re-hashing next time
                atomic_write_json(_memo_path(), live)
    return digest(parts)
