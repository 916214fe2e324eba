"""SafetyGuard: make any recommender respect users' sensitivities without training.

Infer the user's traits from the request, drop items the oracle finds unsafe for them, and backfill
from deeper in the base ranking.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from persafe.catalog.items import Catalog
from persafe.catalog.oracle import SafetyOracle
from persafe.metrics.lists import PAD
from persafe.recsys.base import Recommendations, Recommender
from persafe.recsys.inference import ConstraintInference, LexiconInference, request_texts
from persafe.saferec.schema import SafeRecSample


class SafetyGuard:
    """Wrap a recommender: infer constraints, filter unsafe items, backfill.

    Args:
        base: the recommender to guard.
        oracle: decides which items are unsafe for which traits.
        inference: how to read traits from the request (default: keyword lexicon).
        depth: how many base recommendations to fetch per sample, so filtered slots can be backfilled.
        use_assigned_traits: use the sample's true traits instead of inferring them (an upper bound that
            isolates the filter from the inference).

    Example:
        >>> guard = SafetyGuard(PopularityRecommender(), oracle)   # doctest: +SKIP
        >>> guard.fit(train, catalog); recs = guard.recommend(test, k=10)  # doctest: +SKIP
    """

    def __init__(
        self,
        base: Recommender,
        oracle: SafetyOracle,
        inference: ConstraintInference | None = None,
        depth: int = 100,
        use_assigned_traits: bool = False,
    ) -> None:
        self.base, self.oracle = base, oracle
        self.inference = inference or LexiconInference()
        self.depth, self.use_assigned_traits = depth, use_assigned_traits
        how = "oracle-traits" if use_assigned_traits else self.inference.name
        self.name = f"{base.name}+guard[{how}]"

    def fit(self, samples: Sequence[SafeRecSample], catalog: Catalog) -> None:
        self.base.fit(samples, catalog)
        if not self.use_assigned_traits and hasattr(self.inference, "fit"):
            self.inference.fit(samples, catalog)  # e.g. calibrate an embedding threshold on train

    def infer(self, samples: Sequence[SafeRecSample]) -> list[list[str]]:
        """Traits per sample (read from the request with the named titles removed)."""
        if self.use_assigned_traits:
            return [list(s.traits) for s in samples]
        return self.inference.infer(request_texts(samples))

    def recommend(self, samples: Sequence[SafeRecSample], k: int) -> Recommendations:
        base = self.base.recommend(samples, max(k, self.depth))
        traits = self.infer(samples)
        mask = self.oracle.trait_mask(traits)
        unsafe = self.oracle.violations(base.rows, mask)
        keep = ~unsafe & (base.rows != PAD)
        rows = np.full((len(samples), k), PAD, dtype=np.int64)
        status = None if self.use_assigned_traits else getattr(self.inference, "last_status", None)
        inference_errors = None if self.use_assigned_traits else getattr(self.inference, "last_errors", None)
        extra = []
        for i in range(len(samples)):
            kept = base.rows[i][keep[i]][:k]
            rows[i, : len(kept)] = kept
            e = dict(base.extra[i]) if base.extra else {}
            e["filtered"] = int(unsafe[i, :k].sum())
            e["backfilled"] = len(kept) - int(keep[i, :k].sum())  # taken from beyond the first k
            if status:
                e["inference_status"] = status[i]
            extra.append(e)
        errors = [
            (base.errors[i] if base.errors else None)
            or (f"constraint inference: {inference_errors[i]}" if inference_errors and inference_errors[i] else None)
            for i in range(len(samples))
        ]
        return Recommendations(
            rows=rows, raw=base.raw, inferred_traits=traits, extra=extra, errors=errors if any(errors) else None
        )


class DecodeGuard:
    """Guard an LLM list recommender while it decodes: the items unsafe for the traits read from the
    request (or the sample's true traits) can never be written, instead of being filtered afterwards
    and backfilled from elsewhere.

    Args:
        base: an ``LLMListRecommender`` with ``decoding="constrained"``.
        oracle: decides which items are unsafe for which traits.
        inference: how to read traits from the request (ignored with ``use_assigned_traits``).
        use_assigned_traits: exclude the items unsafe for the sample's true traits (an upper bound).
    """

    def __init__(
        self,
        base: Recommender,
        oracle: SafetyOracle,
        inference: ConstraintInference | None = None,
        use_assigned_traits: bool = False,
    ) -> None:
        if getattr(base, "decoding", None) != "constrained":
            raise ValueError("DecodeGuard needs an LLM list recommender with decoding='constrained'")
        self.base, self.oracle = base, oracle
        self.inference = inference or LexiconInference()
        self.use_assigned_traits = use_assigned_traits
        how = "oracle-traits" if use_assigned_traits else self.inference.name
        self.name = f"{base.name}+guard[decode,{how}]"

    def fit(self, samples: Sequence[SafeRecSample], catalog: Catalog) -> None:
        self.base.fit(samples, catalog)
        if not self.use_assigned_traits and hasattr(self.inference, "fit"):
            self.inference.fit(samples, catalog)

    def infer(self, samples: Sequence[SafeRecSample]) -> list[list[str]]:
        """Traits per sample (read from the request with the named titles removed)."""
        if self.use_assigned_traits:
            return [list(s.traits) for s in samples]
        return self.inference.infer(request_texts(samples))

    def recommend(self, samples: Sequence[SafeRecSample], k: int) -> Recommendations:
        traits = self.infer(samples)
        mask = self.oracle.trait_mask(traits)
        exclude = [
            set(np.flatnonzero((self.oracle.unsafe & m).any(axis=1)).tolist()) if m.any() else set() for m in mask
        ]
        recs = self.base.recommend(samples, k, exclude=exclude)  # type: ignore[call-arg]
        inference_errors = None if self.use_assigned_traits else getattr(self.inference, "last_errors", None)
        errors = list(recs.errors or [None] * len(samples))
        if inference_errors:
            errors = [
                e or (f"constraint inference: {x}" if x else None)
                for e, x in zip(errors, inference_errors, strict=True)
            ]
        extra = [dict(e) for e in recs.extra] if recs.extra else [{} for _ in samples]
        for e, ex in zip(extra, exclude, strict=True):
            e["excluded_unsafe"] = len(ex)
        return Recommendations(
            rows=recs.rows, raw=recs.raw, inferred_traits=traits, extra=extra, errors=errors if any(errors) else None
        )
