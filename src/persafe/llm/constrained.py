"""Catalog-constrained decoding: a model can only write lines that are catalog items.

A token trie holds every catalog line (``Title (Year)`` and a newline, tokenised on its own, as the
model must write it). A transformers ``LogitsProcessor`` walks the trie for each answer of a batch:
at every step only the tokens that continue some allowed line keep their scores; after ``k`` lines
only the end-of-sequence token is left. An item is not allowed when it was already written (no
repeats) or is excluded for that answer (the titles the user named, the items unsafe for the user),
and a branch stays open only while it still leads to an allowed item, so no answer can get stuck.

Written by hand because the libraries that constrain generation work from a grammar or a regular
expression (outlines, transformers-cfg, vLLM's structured outputs): none of them excludes items per
request or forbids repeats without compiling one automaton per request, which for a 1,682-title
catalog costs seconds per answer. The trie is built once per catalog and tokenizer.

A known trap of logit masking: when every allowed token's score is already ``-inf`` (another logits
processor removed them, e.g. a minimum length that forbids the end token), the masked distribution
is all ``-inf`` and generation silently produces garbage. The processor detects it and keeps the first
allowed branch instead, counting each such fallback (``fallbacks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class CatalogLines:
    """Catalog lines a constrained answer may write, for a backend that constrains by itself (an
    OpenAI-compatible server, through a JSON schema).

    Args:
        lines: one text per catalog row; ``None`` for a row that may never be written.
    """

    def __init__(self, lines: Sequence[str | None]) -> None:
        from persafe.fingerprint import digest

        self.lines = list(lines)
        self.fingerprint = digest(["lines", self.lines])

    def __len__(self) -> int:
        return len(self.lines)

    def allowed(self, exclude: frozenset[int]) -> list[str]:
        """The distinct lines not excluded (a line excluded through one row is excluded for every row)."""
        banned = {self.lines[r] for r in exclude if 0 <= r < len(self.lines)}
        return list(dict.fromkeys(x for x in self.lines if x is not None and x not in banned))


def list_schema(allowed: Sequence[str], k: int) -> dict[str, Any]:
    """A JSON schema for ``{"titles": [k distinct allowed lines]}`` (fewer when fewer are allowed)."""
    n = min(k, len(allowed))
    return {
        "type": "object",
        "properties": {
            "titles": {
                "type": "array",
                "items": {"enum": list(allowed)},
                "minItems": n,
                "maxItems": n,
                "uniqueItems": True,
            }
        },
        "required": ["titles"],
        "additionalProperties": False,
    }


def check_answer(text: str, allowed: Sequence[str], k: int) -> dict[str, Any]:
    """Whether a server honoured a list constraint: ``{"lines", "complete", "honoured"}``.

    An answer is honoured when it is the JSON object the schema asks for, with ``min(k, allowed)``
    distinct allowed lines.
    """
    import json

    try:
        titles = json.loads(text)["titles"]
        ok_shape = isinstance(titles, list) and all(isinstance(t, str) for t in titles)
    except (ValueError, TypeError, KeyError):
        return {"lines": 0, "complete": False, "honoured": False}
    if not ok_shape:
        return {"lines": 0, "complete": False, "honoured": False}
    allowed_set = set(allowed)
    good = len(set(titles)) == len(titles) and all(t in allowed_set for t in titles)
    n = min(k, len(allowed))
    return {"lines": len(titles), "complete": len(titles) == n, "honoured": good and len(titles) == n}


class CatalogTrie:
    """Token sequences of catalog lines in a trie (built once per catalog and tokenizer).

    Args:
        lines: one text per catalog row (e.g. ``Title (Year)``); equal lines are one branch; ``None``
            for a row that may never be written.
        tokenizer: the model's tokenizer.
        newline: what ends a line.

    Attributes:
        children: per node, ``{token id: child node}`` (node 0 is the root: the start of a line).
        count: per node, how many catalog rows lie below it.
        ends: per node, the rows whose line ends there.
        paths: per row, its nodes from the root to its end.
    """

    def __init__(self, lines: Sequence[str | None], tokenizer: Any, newline: str = "\n") -> None:
        from persafe.fingerprint import digest

        self.lines = list(lines)
        nl = tokenizer.encode(newline, add_special_tokens=False)
        self.children: list[dict[int, int]] = [{}]
        counts = [0]
        self.ends: dict[int, list[int]] = {}
        self.paths: list[np.ndarray] = []
        texts = [line for line in self.lines if line is not None]
        encoded = iter(tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else [])
        for row, line in enumerate(self.lines):
            if line is None:
                self.paths.append(np.zeros(0, dtype=np.int64))
                continue
            toks = next(encoded)
            node, path = 0, [0]
            for t in [*toks, *nl]:
                nxt = self.children[node].get(t)
                if nxt is None:
                    nxt = len(self.children)
                    self.children[node][t] = nxt
                    self.children.append({})
                    counts.append(0)
                node = nxt
                path.append(node)
            for n in path:
                counts[n] += 1
            self.ends.setdefault(node, []).append(row)
            self.paths.append(np.array(path, dtype=np.int64))
        self.count = np.array(counts, dtype=np.int64)
        self.max_tokens = max((len(p) - 1 for p in self.paths), default=0)
        """The longest line in tokens (newline included)."""
        vocab = getattr(tokenizer, "name_or_path", "") or str(len(tokenizer))
        self.fingerprint = digest([self.lines, vocab, len(tokenizer), newline])

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def n_nodes(self) -> int:
        return len(self.children)


@dataclass(frozen=True)
class ListConstraint:
    """What one answer may contain: ``k`` lines of ``trie``, none of the rows in ``exclude``.

    Attributes:
        trie: the catalog lines.
        k: lines to write (fewer only when fewer items are allowed).
        exclude: catalog rows that may not be written (seen items, items unsafe for the user).
    """

    trie: CatalogTrie | CatalogLines
    k: int
    exclude: frozenset[int] = field(default_factory=frozenset)

    def signature(self) -> str:
        """What the answer depends on besides the prompt (part of the response-cache key)."""
        from persafe.fingerprint import digest

        return digest([self.trie.fingerprint, self.k, sorted(self.exclude)])

    def max_new_tokens(self) -> int:
        """A generation budget that always fits ``k`` lines and the end token."""
        return self.k * self.trie.max_tokens + 1


class _Answer:
    """Where one answer stands in the trie."""

    def __init__(self, c: ListConstraint) -> None:
        self.c, self.node, self.lines, self.done = c, 0, 0, c.k <= 0
        self.blocked = np.zeros(c.trie.n_nodes, dtype=np.int64)
        self.gone: set[int] = set()
        for row in c.exclude:  # an excluded row takes every row of the same text with it
            if 0 <= row < len(c.trie) and len(c.trie.paths[row]):
                for r in c.trie.ends[int(c.trie.paths[row][-1])]:
                    self._block(r)

    def _block(self, row: int) -> None:
        if row not in self.gone:  # each row once: a node is closed when every row below it is blocked
            self.gone.add(row)
            self.blocked[self.c.trie.paths[row]] += 1

    def allowed(self) -> list[int]:
        trie = self.c.trie
        return [t for t, ch in trie.children[self.node].items() if trie.count[ch] > self.blocked[ch]]

    def step(self, token: int) -> bool:
        """Follow ``token``; ``False`` when it leaves the trie (another processor forced it)."""
        nxt = self.c.trie.children[self.node].get(token)
        if nxt is None:
            return False
        self.node = nxt
        rows = self.c.trie.ends.get(nxt)
        if rows is not None:  # a line ends here (lines never contain the newline: an end is a leaf)
            for r in rows:  # written: no row with this text may come again
                self._block(r)
            self.node, self.lines = 0, self.lines + 1
            self.done = self.lines >= self.c.k
        return True


class CatalogLogitsProcessor:
    """A transformers logits processor that keeps each answer of a batch on its constraint.

    Args:
        constraints: one per row of the batch (``None``: that row is free).
        eos_token_id: the token that ends an answer.
        free_budget: new tokens a free row may write (the batch's budget grows to fit the constrained
            rows' lines; a free row still ends at its own).
    """

    def __init__(
        self, constraints: Sequence[ListConstraint | None], eos_token_id: int, free_budget: int | None = None
    ) -> None:
        self.answers = [_Answer(c) if c is not None else None for c in constraints]
        self.free = [c is None for c in constraints]
        self.eos, self.free_budget, self.steps = eos_token_id, free_budget, 0
        self.started = False
        self.fallbacks = 0
        """Steps where every allowed token had score ``-inf`` and the first allowed branch was kept."""
        self.off_trie = 0
        """Tokens that left the trie (another processor forced them); that answer is then left free."""

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self.started:
            last = input_ids[:, -1].tolist()
            for b, a in enumerate(self.answers):
                if a is not None and not a.done and not a.step(last[b]):
                    self.off_trie += 1
                    self.answers[b] = None
            self.steps += 1
        self.started = True
        out = scores.clone()
        if self.free_budget is not None and self.steps >= self.free_budget:
            for b, free in enumerate(self.free):
                if free:  # its own budget is spent: end it
                    out[b] = float("-inf")
                    out[b, self.eos] = 0.0
        for b, a in enumerate(self.answers):
            if a is None:
                continue
            allowed = [] if a.done else a.allowed()
            if not allowed:  # k lines written, or nothing left to write
                a.done = True
                allowed = [self.eos]
            keep = torch.tensor(allowed, dtype=torch.long, device=scores.device)
            row = torch.full_like(scores[b], float("-inf"))
            row[keep] = scores[b, keep]
            if torch.isneginf(row[keep]).all():  # the silent-failure trap: keep the first allowed branch
                row[keep[0]] = 0.0
                self.fallbacks += 1
            out[b] = row
        return out
