"""A response cache: reruns of the same request are free.

Keys are a hash of the model's fingerprint (for a local model folder, its weights: a model retrained
into the same folder gets new answers), the generation parameters and the messages. SQLite in WAL mode
with a busy timeout makes the cache safe for several processes and threads writing at once.
Failed generations (``error`` set) are never cached.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from persafe.llm.base import ChatModel, Conversation, Generation, GenerationParams


def model_fingerprint(model: ChatModel) -> str:
    """A model's identity for caching and resuming: its ``fingerprint`` attribute when it has one
    (local model folders hash their weights), else its ``name`` (servers: model name and base URL)."""
    return str(getattr(model, "fingerprint", None) or model.name)


def cache_key(model: str, params: GenerationParams, conversation: Conversation) -> str:
    """The cache key of one request."""
    payload = {
        "model": model,
        "params": params.model_dump(mode="json"),
        "messages": [[m.role, m.content] for m in conversation],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ResponseCache:
    """A SQLite key → Generation store.

    Args:
        path: the database file (created with its folder).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as con:
            con.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        return con

    def get_many(self, keys: Sequence[str]) -> dict[str, Generation]:
        """Cached generations among ``keys``."""
        out: dict[str, Generation] = {}
        con = self._conn()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for key, value in con.execute(f"SELECT key, value FROM responses WHERE key IN ({marks})", chunk):
                out[key] = Generation.model_validate_json(value).model_copy(update={"cached": True})
        return out

    def put_many(self, items: dict[str, Generation]) -> None:
        """Store generations (one transaction)."""
        rows = [(k, g.model_copy(update={"cached": False}).model_dump_json()) for k, g in items.items() if not g.error]
        if not rows:
            return
        con = self._conn()
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany("INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)", rows)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM responses").fetchone()[0])


class CachedChatModel:
    """Wrap a model with a response cache: only requests never seen before reach the model.

    Example:
        >>> cache = ResponseCache("~/.cache/persafe/responses.sqlite")  # doctest: +SKIP
        >>> model = CachedChatModel(load_model("smollm2"), cache)  # doctest: +SKIP
    """

    def __init__(self, model: ChatModel, cache: ResponseCache) -> None:
        self.model, self.cache = model, cache
        self.name = model.name

    @property
    def fingerprint(self) -> str:
        """The wrapped model's fingerprint (see :func:`model_fingerprint`)."""
        return model_fingerprint(self.model)

    @property
    def supports_constraints(self) -> bool:
        """Whether the wrapped model accepts catalog constraints."""
        return bool(getattr(self.model, "supports_constraints", False))

    def catalog_trie(self, lines: Sequence[str]) -> Any:
        """The wrapped model's token trie of catalog lines."""
        return self.model.catalog_trie(lines)  # type: ignore[attr-defined]

    def generate(
        self, conversations: Sequence[Conversation], params: GenerationParams, constraints: Sequence[Any] | None = None
    ) -> list[Generation]:
        fp = self.fingerprint
        keys = [cache_key(fp, params, c) for c in conversations]
        if constraints is not None:  # a constrained answer depends on its catalog, k and exclusions too
            keys = [
                k if c is None else hashlib.sha256(f"{k}|{c.signature()}".encode()).hexdigest()
                for k, c in zip(keys, constraints, strict=True)
            ]
        hits = self.cache.get_many(keys)
        todo = [i for i, k in enumerate(keys) if k not in hits]
        fresh: dict[str, Generation] = {}
        if todo:
            convs = [conversations[i] for i in todo]
            if constraints is not None:
                answers = self.model.generate(convs, params, [constraints[i] for i in todo])  # type: ignore[call-arg]
            else:
                answers = self.model.generate(convs, params)
            for i, g in zip(todo, answers, strict=True):
                fresh[keys[i]] = g
            self.cache.put_many(fresh)
        return [hits.get(k) or fresh[k] for k in keys]
