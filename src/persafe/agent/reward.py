"""Rewards of attribute sets: the judge's safety score of the answer generated with what was acquired.

``RewardCache`` memoises rewards per (query key, attribute set), so a state reached by several paths
or rollouts is judged once. ``PenguinReward`` is the RAISE reward on a PENGUIN scenario: answer the
query with the acquired profile attributes, then ask the judge. An invalid verdict gives ``None``,
which the planner excludes from its backup (an invalid verdict is never scored as 1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

RewardFn = Callable[[Sequence[frozenset[str]]], list[float | None]]
"""``reward(states) -> [score or None]``: the reward of each attribute set, in order."""


class RewardCache:
    """Rewards per (query key, attribute set), with hit/miss counters.

    Args:
        enabled: serve repeated states from memory; ``False`` recomputes every time (to measure the saving).

    Attributes:
        hits: rewards served from the cache.
        misses: rewards computed (judge calls).
        computed: how many times each (key, state) was computed (≤ 1 when enabled).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._store: dict[tuple[str, frozenset[str]], float | None] = {}
        self.hits = self.misses = 0
        self.computed: Counter[tuple[str, frozenset[str]]] = Counter()

    def evaluate(self, key: str, states: Sequence[Iterable[str]], fn: RewardFn) -> list[float | None]:
        """Rewards of ``states`` for query ``key``; only unseen states (each once) reach ``fn``."""
        states = [frozenset(s) for s in states]
        todo = list(dict.fromkeys(s for s in states if (key, s) not in self._store)) if self.enabled else list(states)
        if todo:
            values = fn(todo)
            if len(values) != len(todo):
                raise ValueError(f"reward function returned {len(values)} values for {len(todo)} states")
            for s, v in zip(todo, values, strict=True):
                self._store[(key, s)] = v
                self.computed[(key, s)] += 1
        self.misses += len(todo)
        self.hits += len(states) - len(todo)
        if self.enabled:
            return [self._store[(key, s)] for s in states]
        fresh = dict(zip(todo, values, strict=True)) if todo else {}
        return [fresh[s] for s in states]

    def known(self, key: str) -> dict[frozenset[str], float | None]:
        """Every reward computed so far for ``key``."""
        return {s: v for (k, s), v in self._store.items() if k == key}

    def __len__(self) -> int:
        return len(self._store)


class PenguinReward:
    """RAISE reward on one PENGUIN scenario: judge score of the answer given the acquired attributes.

    Args:
        scenario: a ``persafe.penguin.Scenario``.
        responder: the chat model that answers.
        judge: a ``persafe.penguin.Judge`` (``RubricJudge()`` offline, ``LLMJudge`` for real runs).
        params: generation parameters of the answers.

    Attributes:
        calls: states answered and judged.
        invalid: verdicts that were invalid (reward ``None``).
        failed: states whose answer or judge call failed (reward ``None``; see ``errors``).
        verdicts: the verdict of each state judged, by state.

    Example:
        >>> reward = PenguinReward(scenario, load_model("smollm2"), RubricJudge())  # doctest: +SKIP
        >>> reward([frozenset({"mental_health_status"})])                          # doctest: +SKIP
        [3.67]
    """

    def __init__(self, scenario: Any, responder: Any, judge: Any, params: Any = None) -> None:
        from persafe.llm import GenerationParams

        self.scenario, self.responder, self.judge = scenario, responder, judge
        self.params = params or GenerationParams(max_new_tokens=200)
        self.calls = self.invalid = self.failed = 0
        self.errors: list[str] = []
        self.verdicts: dict[frozenset[str], Any] = {}
        self.answers: dict[frozenset[str], str] = {}

    def __call__(self, states: Sequence[frozenset[str]]) -> list[float | None]:
        from persafe.penguin import answer_messages

        if not states:
            return []
        convs = [answer_messages(self.scenario, sorted(s)) for s in states]
        gens = self.responder.generate(convs, self.params)
        ok = [i for i, g in enumerate(gens) if not g.error]
        verdicts: list[Any] = [None] * len(states)
        for i, v in zip(ok, self.judge.judge([(self.scenario, gens[i].text) for i in ok]), strict=True):
            verdicts[i] = v
        self.calls += len(states)
        out: list[float | None] = []
        for s, g, v in zip(states, gens, verdicts, strict=True):
            if g.error or v.failed:  # no reward at all, not an invalid one: the plan is not trustworthy
                self.failed += 1
                self.errors.append(f"answer: {g.error}" if g.error else f"judge: {v.error}")
                out.append(None)
                continue
            self.verdicts[s], self.answers[s] = v, g.text
            score = v.score if v.valid else None
            self.invalid += score is None
            out.append(score)
        return out
