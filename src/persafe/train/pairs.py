"""Preference pairs for RosePO and S-DPO from SafeRec samples (the candidate-choice task).

The prompt shows the user's recent history, their request and 20 candidates (the same prompt as
``persafe eval --task choice``); the chosen answer is the target (the first safety-filtered ground-truth
item) and each rejected answer is drawn by a strategy:

===============  =========================================================================================
``self_hard``    the SFT model's own wrong answer to the prompt (sampled): a mistake it actually makes.
``semantic``     hallucination / semantic negative: the item most similar to the target (item-kNN cosine
                 over the training interactions) that is *not* a candidate, so naming it is a hallucination.
``popularity``   the most popular non-target candidate (against popularity bias).
``unsafe``       an item violating one of the user's traits: an unsafe candidate if there is one, else the
                 most popular unsafe item the user has not seen (persafe's addition).
``random``       a random non-target candidate (seeded per sample): the DPO / S-DPO baseline.
===============  =========================================================================================

A strategy that cannot produce a negative for a sample (``unsafe`` for a user without traits, ``self_hard``
when the model answers the target or nothing readable) falls back to the next one in the list; every fallback
is counted in :class:`PairStats`, never hidden.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from persafe.catalog.items import Catalog
from persafe.catalog.oracle import SafetyOracle
from persafe.errors import UnknownNameError
from persafe.llm.base import ChatModel, GenerationParams
from persafe.recsys.base import history_rows, interaction_matrix
from persafe.recsys.llm import candidate_conversation, candidate_rows
from persafe.recsys.parser import classify_output
from persafe.saferec.schema import SafeRecSample

STRATEGIES = ("self_hard", "semantic", "popularity", "unsafe", "random")

Scorer = Callable[[SafeRecSample, Sequence[int]], np.ndarray]
"""``s(u, items)``: a conventional recommender's scores of catalog rows for the sample's user."""

EpsilonFn = Callable[[float, float], float]
"""``ε_u = f(s(u, chosen), s(u, rejected))``: RosePO's personalised smoothing."""


class PairStats(BaseModel):
    """What the builder did: pairs made, negatives per strategy, fallbacks, samples skipped."""

    pairs: int = 0
    negatives: dict[str, int] = Field(default_factory=dict)
    fallbacks: dict[str, int] = Field(default_factory=dict)
    """``"unsafe->semantic": 12``: the first strategy had no negative, the second was used."""
    skipped: int = 0
    """Samples without a (safe) ground-truth item, or for which no strategy produced enough negatives."""


def epsilon_sigmoid(eps_max: float = 0.3) -> EpsilonFn:
    """The documented reconstruction ``ε_u = clip(σ(s(u,y_l) − s(u,y_w)), 0, ε_max)``.

    The paper does not publish its exact form, so it stays a pluggable function.
    """

    def eps(score_chosen: float, score_rejected: float) -> float:
        return float(min(max(1.0 / (1.0 + np.exp(score_chosen - score_rejected)), 0.0), eps_max))

    return eps


def recommender_scorer(name: str, train: Sequence[SafeRecSample], catalog: Catalog) -> Scorer:
    """The user oracle: a fitted ``itemknn``, ``ease`` or ``popularity`` recommender's scores."""
    from persafe.recsys.registry import make_recommender

    rec: Any = make_recommender(name)
    if not hasattr(rec, "_scores"):
        raise UnknownNameError("user oracle", name, ["itemknn", "ease", "popularity"])
    rec.fit(train, catalog)

    def score(sample: SafeRecSample, rows: Sequence[int]) -> np.ndarray:
        hist = np.zeros((1, len(catalog)), dtype=np.float32)
        hist[0, history_rows(sample, catalog)] = 1.0
        return np.asarray(rec._scores(hist, [sample]), dtype=np.float64)[0, list(rows)]

    return score


class PairBuilder:
    """Build preference rows (TRL's conversational ``prompt``/``chosen``/``rejected`` format).

    Args:
        catalog: the items.
        oracle: decides ``unsafe`` negatives (the same oracle as evaluation).
        train: training samples (item similarity for ``semantic``).
        n_candidates: candidates shown per prompt.
        history: history titles shown.
        sampler: a chat model for ``self_hard`` (e.g. the SFT model as ``hf:DIR``).
        sampler_params: its sampling parameters (default: temperature 1, 48 tokens).
        seed: candidate sets and sampling seed.
    """

    def __init__(
        self,
        catalog: Catalog,
        oracle: SafetyOracle,
        train: Sequence[SafeRecSample],
        n_candidates: int = 20,
        history: int = 10,
        sampler: ChatModel | None = None,
        sampler_params: GenerationParams | None = None,
        seed: int = 0,
    ) -> None:
        self.catalog, self.oracle, self.n_candidates, self.history = catalog, oracle, n_candidates, history
        self.sampler, self.seed = sampler, seed
        self.sampler_params = sampler_params or GenerationParams(max_new_tokens=48, temperature=1.0, seed=seed)
        x = interaction_matrix(train, catalog)
        co = x.T @ x
        norms = np.sqrt(np.diag(co))
        self.similarity = co / (np.outer(norms, norms) + 1e-9)
        np.fill_diagonal(self.similarity, -np.inf)
        counts = x.sum(axis=0)
        self.popularity = counts if counts.any() else catalog.popularity

    def build(
        self,
        samples: Sequence[SafeRecSample],
        strategies: Sequence[str],
        n_negatives: int = 1,
        scorer: Scorer | None = None,
        epsilon: EpsilonFn | None = None,
    ) -> tuple[list[dict[str, Any]], PairStats]:
        """One row per usable sample: ``prompt``, ``chosen``, ``rejected`` (+ ``more_rejected`` when
        ``n_negatives > 1``, + ``epsilon`` when a scorer is given), ``sample_id``, ``strategies``.

        Sample ``i``'s negative ``j`` uses ``strategies[(i + j) % len(strategies)]`` (then the fallbacks).

        Raises:
            UnknownNameError: an unknown strategy.
            ValueError: ``self_hard`` without a sampler.
        """
        for s in strategies:
            if s not in STRATEGIES:
                raise UnknownNameError("rejected strategy", s, STRATEGIES)
        if not strategies:
            raise ValueError("give at least one rejected strategy")
        if "self_hard" in strategies and self.sampler is None:
            raise ValueError("the self_hard strategy needs a sampler model (sampler_model: hf:<SFT output>)")
        usable = [s for s in samples if s.groundtruth_item_ids]
        stats = PairStats(skipped=len(samples) - len(usable))
        cands = [candidate_rows(s, self.catalog, self.n_candidates, self.seed) for s in usable]
        prompts = [candidate_conversation(s, self.catalog, c, self.history) for s, c in zip(usable, cands, strict=True)]
        own = self._sample_answers(prompts) if "self_hard" in strategies else [None] * len(usable)
        neg_counter: Counter[str] = Counter()
        fb_counter: Counter[str] = Counter()
        rows = []
        for i, (s, c, prompt, answer) in enumerate(zip(usable, cands, prompts, own, strict=True)):
            target = self.catalog.row[s.groundtruth_item_ids[0]]
            taken = {target, *history_rows(s, self.catalog), *self.catalog.rows(s.groundtruth_item_ids)}
            negs: list[tuple[int, str]] = []
            for j in range(n_negatives):
                order = [strategies[(i + j + t) % len(strategies)] for t in range(len(strategies))]
                for t, strat in enumerate(order):
                    row = self._negative(strat, s, c, target, taken | {r for r, _ in negs}, answer)
                    if row is not None:
                        negs.append((row, strat))
                        if t:
                            fb_counter[f"{order[0]}->{strat}"] += 1
                        break
            if len(negs) < n_negatives:
                stats.skipped += 1
                continue
            neg_counter.update(strat for _, strat in negs)
            rows.append(self._row(s, prompt, target, negs, scorer, epsilon))
        stats.pairs, stats.negatives, stats.fallbacks = len(rows), dict(neg_counter), dict(fb_counter)
        return rows, stats

    def _row(self, s: SafeRecSample, prompt: list[Any], target: int, negs: list[tuple[int, str]],
             scorer: Scorer | None, epsilon: EpsilonFn | None) -> dict[str, Any]:  # fmt: skip
        items = self.catalog.items

        def answer(row: int) -> list[dict[str, str]]:
            return [{"role": "assistant", "content": items[row].display}]

        row: dict[str, Any] = {
            "prompt": [{"role": m.role, "content": m.content} for m in prompt],
            "chosen": answer(target),
            "rejected": answer(negs[0][0]),
            "sample_id": s.sample_id,
            "chosen_item_id": items[target].item_id,
            "rejected_item_ids": [items[r].item_id for r, _ in negs],
            "strategies": [strat for _, strat in negs],
        }
        if len(negs) > 1:
            row["more_rejected"] = [answer(r) for r, _ in negs[1:]]
        if scorer is not None:
            sc = scorer(s, [target, negs[0][0]])
            row["epsilon"] = (epsilon or epsilon_sigmoid())(float(sc[0]), float(sc[1]))
        return row

    def _negative(
        self, strategy: str, s: SafeRecSample, cands: list[int], target: int, taken: set[int], answer: int | None
    ) -> int | None:
        if strategy == "popularity":
            pool = [r for r in cands if r not in taken]
            return max(pool, key=lambda r: (self.popularity[r], -r)) if pool else None
        if strategy == "random":
            pool = sorted(r for r in cands if r not in taken)
            if not pool:
                return None
            key = f"{self.seed}:{s.sample_id}:{len(taken)}".encode()
            h = int.from_bytes(hashlib.sha256(key).digest()[:8], "little")
            return pool[h % len(pool)]
        if strategy == "semantic":
            sim = self.similarity[target].copy()
            sim[list(taken | set(cands))] = -np.inf
            best = int(np.argmax(sim))
            return best if np.isfinite(sim[best]) else None
        if strategy == "unsafe":
            if not s.traits:
                return None
            every = np.arange(len(self.catalog))[None, :]
            unsafe = self.oracle.violations(every, self.oracle.trait_mask([s.traits]))[0]  # the one definition
            pool = [r for r in cands if r not in taken and unsafe[r]]
            if not pool:
                pool = [r for r in np.flatnonzero(unsafe).tolist() if r not in taken]
            return max(pool, key=lambda r: (self.popularity[r], -r)) if pool else None
        # self_hard: the model's own answer, when it names an item that is not the target
        return answer if answer is not None and answer not in taken else None

    def _sample_answers(self, prompts: list[list[Any]]) -> list[int | None]:
        gens = self.sampler.generate(prompts, self.sampler_params)  # type: ignore[union-attr]
        out: list[int | None] = []
        for g in gens:
            titles = classify_output(g.text).titles if not g.error else ()
            m = self.catalog.match(titles[0].title, titles[0].year) if titles else None
            out.append(m.index if m is not None and m.index >= 0 else None)
        return out
