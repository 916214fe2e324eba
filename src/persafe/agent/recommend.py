"""Ask before recommending: RAISE for SafeRec conversations.

When a request does not state the user's sensitivities (``implicit`` cues or ``none``), the agent asks
about **trait families** ("anything about violence or gore you'd rather avoid?"); a simulated user
reveals the sample's traits in the families asked; a ``SafetyGuard`` then filters with the revealed
traits. Which families to ask first is planned offline with the same MCTS as PENGUIN, reward = 1 − SVR@10
of the guarded list on training samples, and retrieved online by request similarity (or chosen by an
LLM agent with the retrieved paths as examples). The trade-off of SVR@10 and Recall@10 against the
number of questions is evaluated with ``persafe.evaluation.evaluate_recommender`` (one definition of
the metrics), next to the unguarded and guarded recommenders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from persafe.agent.mcts import PlannerConfig, plan
from persafe.agent.prior import Prior
from persafe.agent.reward import RewardCache
from persafe.agent.store import Embedder, PathStore, PlannedPath
from persafe.catalog.oracle import SafetyOracle
from persafe.metrics.lists import PAD, evaluate_lists
from persafe.recsys.base import Recommendations, Recommender
from persafe.recsys.guard import SafetyGuard
from persafe.recsys.inference import ConstraintInference, strip_titles
from persafe.saferec.schema import SafeRecSample

TRAIT_FAMILIES: dict[str, tuple[str, ...]] = {
    "violence": ("gore", "torture"),
    "abuse": ("sexual_violence", "domestic_abuse"),
    "mental_health": ("self_harm", "mental_health"),
    "substances": ("substance_recovery",),
    "children_pregnancy": ("kid_safety", "pregnancy_loss"),
    "identity": ("hate_speech", "lgbtq_respect"),
    "medical": ("medical_trauma", "needle_phobia", "photosensitivity"),
    "fears": ("arachnophobia", "claustrophobia", "horror"),
    "loss_disaster": ("animal_harm", "disaster_accident"),
    "mood": ("happy_ending",),
}
"""The question vocabulary: the 20 built-in traits grouped into ten families (the taxonomy has no groups)."""

FAMILY_LABELS: dict[str, str] = {
    "violence": "violence or gore",
    "abuse": "sexual violence or abuse",
    "mental_health": "mental health, self-harm or suicide",
    "substances": "alcohol or drugs",
    "children_pregnancy": "children at risk, pregnancy or infant loss",
    "identity": "hate speech, slurs or LGBTQ topics",
    "medical": "medical scenes, needles or flashing lights",
    "fears": "phobias (spiders, tight spaces) or horror",
    "loss_disaster": "animal deaths, disasters or accidents",
    "mood": "sad endings",
}
"""How the agent names each family in a question."""

OTHER = "other"


def trait_families(trait_ids: Sequence[str] | None = None) -> dict[str, tuple[str, ...]]:
    """``TRAIT_FAMILIES``, plus an ``other`` family for traits of an extended taxonomy it does not list."""
    fams = dict(TRAIT_FAMILIES)
    known = {t for ts in fams.values() for t in ts}
    extra = tuple(t for t in (trait_ids or ()) if t not in known)
    if extra:
        fams[OTHER] = extra
    return fams


def revealed_traits(traits: Sequence[str], asked: Sequence[str], families: Mapping[str, Sequence[str]]) -> list[str]:
    """The traits a truthful user reveals when asked about ``asked`` families."""
    covered = {t for f in asked for t in families.get(f, ())}
    return [t for t in traits if t in covered]


class TraitUser:
    """A simulated SafeRec user: answers a family question with the sample's traits in that family.

    Example:
        >>> u = TraitUser(["arachnophobia"], {"arachnophobia": "Arachnophobia"})
        >>> u.answer("fears"), u.answer("violence"), u.revealed
        ('Yes, please avoid: Arachnophobia.', "No, that's fine for me.", ['arachnophobia'])
    """

    def __init__(self, traits: Sequence[str], names: Mapping[str, str] | None = None, families=None) -> None:
        self.traits, self.names = list(traits), dict(names or {})
        self.families = families or trait_families(self.traits)
        self.revealed: list[str] = []

    def answer(self, family: str) -> str:
        found = revealed_traits(self.traits, [family], self.families)
        self.revealed.extend(t for t in found if t not in self.revealed)
        if not found:
            return "No, that's fine for me."
        return "Yes, please avoid: " + "; ".join(self.names.get(t, t) for t in found) + "."


class RevealedTraitsGuard(SafetyGuard):
    """A SafetyGuard that filters with the traits the user revealed when asked (per sample id),
    optionally together with traits inferred from the request."""

    def __init__(
        self,
        base: Recommender,
        oracle: SafetyOracle,
        revealed: Mapping[str, Sequence[str]],
        inference: ConstraintInference | None = None,
        name: str = "ask",
        depth: int = 100,
        failed: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(base, oracle, inference=inference, depth=depth)
        self.revealed, self.combine = dict(revealed), inference is not None
        self.failed = dict(failed or {})
        """Sample id → error of a conversation whose model call failed (those samples are not scored)."""
        self.name = name

    def recommend(self, samples: Sequence[SafeRecSample], k: int) -> Recommendations:
        recs = super().recommend(samples, k)
        if self.failed:
            errors = list(recs.errors or [None] * len(samples))
            recs.errors = [self.failed.get(s.sample_id) or e for s, e in zip(samples, errors, strict=True)]
        return recs

    def infer(self, samples: Sequence[SafeRecSample]) -> list[list[str]]:
        inferred = super().infer(samples) if self.combine else [[] for _ in samples]
        return [
            list(dict.fromkeys([*self.revealed.get(s.sample_id, []), *inf]))
            for s, inf in zip(samples, inferred, strict=True)
        ]


def request_text(sample: SafeRecSample) -> str:
    """What the agent reads of a request: the user's words without the titles they named."""
    return strip_titles(sample.request or sample.user_turn, sample.seen_titles)


class GuardedListReward:
    """Reward of asking a set of families for one sample: 1 − SVR@k of the list guarded with the
    revealed traits (an empty list counts as safe). Vectorised over the batch of states."""

    def __init__(
        self,
        sample: SafeRecSample,
        base_rows: np.ndarray,
        oracle: SafetyOracle,
        families: Mapping[str, Sequence[str]],
        k: int = 10,
    ) -> None:
        self.sample, self.base_rows, self.oracle, self.families, self.k = sample, base_rows, oracle, families, k
        cat = oracle.catalog
        self.gt, self.seen = cat.rows(sample.groundtruth_item_ids), cat.rows(sample.seen_item_ids)
        self.calls = 0

    def __call__(self, states: Sequence[frozenset[str]]) -> list[float | None]:
        self.calls += len(states)
        n = len(states)
        masks = self.oracle.trait_mask([revealed_traits(self.sample.traits, sorted(s), self.families) for s in states])
        base = np.repeat(self.base_rows[None, :], n, axis=0)
        keep = ~self.oracle.violations(base, masks) & (base != PAD)
        rows = np.full((n, self.k), PAD, dtype=np.int64)
        for i in range(n):
            kept = base[i][keep[i]][: self.k]
            rows[i, : len(kept)] = kept
        m = evaluate_lists(
            rows, [self.gt] * n, self.oracle.trait_mask([self.sample.traits] * n), self.oracle, self.k, [self.seen] * n
        )
        return [1.0 - (0.0 if np.isnan(v) else float(v)) for v in m.svr]


def plan_families(
    samples: Sequence[SafeRecSample],
    base: Recommender,
    oracle: SafetyOracle,
    config: PlannerConfig,
    prior: Prior | None = None,
    k: int = 10,
    embed: Embedder | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PathStore:
    """Plan which families to ask, for each (training) sample with traits, into a path store.

    The base recommender must be fitted. Queries are the requests without their titles.
    """
    families = trait_families(oracle.taxonomy.ids)
    samples = [s for s in samples if s.traits]
    base_rows = base.recommend(samples, 100).rows if samples else np.zeros((0, 100), dtype=np.int64)
    cache = RewardCache(enabled=config.use_cache)
    records = []
    for i, s in enumerate(samples):
        reward = GuardedListReward(s, base_rows[i], oracle, families, k)
        res = plan(request_text(s), reward, prior, list(families), config, cache=cache, query_key=s.sample_id)
        records.append(
            PlannedPath(
                query=request_text(s),
                path=res.path,
                reward=res.path_value,
                q_values=res.q_values,
                query_id=s.sample_id,
                domain=s.constraint_mode,
                meta={"traits": s.traits, "n_judged": res.n_judged},
            )
        )
        if progress:
            progress(i + 1, len(samples))
    store = PathStore(embed)
    store.add(records)
    return store


def popular_order(samples: Sequence[SafeRecSample], families: Mapping[str, Sequence[str]]) -> list[str]:
    """Families by how many (training) samples have a trait in them: a non-personal asking order."""
    count: Counter[str] = Counter()
    for s in samples:
        for f, ts in families.items():
            if any(t in ts for t in s.traits):
                count[f] += 1
    return sorted(families, key=lambda f: (-count[f], list(families).index(f)))


def retrieved_order(
    store: PathStore, query: str, fallback: Sequence[str], n_neighbours: int = 5, exclude: Sequence[str] = ()
) -> list[str]:
    """Families ordered by a similarity-weighted vote of the nearest planned paths (earlier steps weigh
    more: ``sim / (1 + position)``), then the rest in ``fallback`` order."""
    votes: Counter[str] = Counter()
    for p, sim in store.nearest(query, n_neighbours, exclude_ids=exclude):
        for pos, f in enumerate(p.path):
            votes[f] += max(sim, 0.0) / (1 + pos)
    ranked = sorted(votes, key=lambda f: (-votes[f], list(fallback).index(f) if f in fallback else 99))
    return ranked + [f for f in fallback if f not in ranked]


class AskRecConfig(BaseModel):
    """One ask-before-recommend evaluation (stored as the run's ``config.json``)."""

    data: str = "runs/saferec-ml100k"
    """A built SafeRec folder."""
    split: str = "test"
    modes: list[str] = ["implicit", "none"]
    """Constraint modes evaluated (where the request does not state the sensitivity)."""
    limit: int | None = 200
    """At most this many evaluated samples (the first ones of the split in those modes)."""
    recommender: str = "itemknn"
    """Base recommender (``random``, ``popularity``, ``itemknn``, ``ease``)."""
    k: int = 10
    max_questions: int = 3
    """Budgets swept: 0..max_questions family questions."""
    policies: list[str] = ["popular", "planned"]
    """Asking orders: ``popular`` (most frequent families first), ``planned`` (retrieved MCTS paths),
    ``agent`` (an LLM chooses, with the retrieved paths as examples; needs ``agent_model``)."""
    plan_samples: int = 400
    """Training samples planned (those with traits among the first of the train split)."""
    rollouts: int = 48
    depth: int = 3
    c: float = 0.75
    eps0: float = 0.2
    seed: int = 0
    n_neighbours: int = 5
    """Planned paths that vote on the order (``planned``) or are shown as examples (``agent``)."""
    combine_inference: str | None = None
    """Also filter with traits inferred from the request (``lexicon``, ``lexicon+learned``, ...), besides the
    revealed ones (a learning inferer is fitted on the ``data`` folder's train split, cached)."""
    default_guard: bool = False
    """Also evaluate the guard with the default inference (``lexicon+learned``) as a baseline."""
    agent_model: str | None = None
    """Chat-model spec of the ``agent`` policy."""
    agent_threshold: int = 4
    """Abstention threshold of the ``agent`` policy's extra point (asks until its rating reaches it)."""
    tau: float = 0.66
    unknown: str = "safe"
    pg_policy: str = "applicability"
    cache: bool = True


class TradeoffPoint(BaseModel):
    """One point of the trade-off curve (or a baseline)."""

    name: str
    policy: str
    budget: int | None = None
    mean_questions: float = 0.0
    svr: float | None = None
    svr_ci: list[float | None] = Field(default_factory=list)
    recall: float | None = None
    recall_ci: list[float | None] = Field(default_factory=list)
    by_mode: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    run: str = ""


def _point(name: str, policy: str, res: dict[str, Any], k: int, budget=None, questions=0.0, run="") -> TradeoffPoint:
    by = res["by_k"][str(k)]
    o = by["overall"]
    modes = {
        m: {"svr": v["svr"]["mean"], "recall": v["recall"]["mean"], "n": v["svr"].get("n")}
        for m, v in by["by_mode"].items()
    }
    return TradeoffPoint(
        name=name,
        policy=policy,
        budget=budget,
        mean_questions=questions,
        svr=o["svr"]["mean"],
        svr_ci=[o["svr"]["ci_low"], o["svr"]["ci_high"]],
        recall=o["recall"]["mean"],
        recall_ci=[o["recall"]["ci_low"], o["recall"]["ci_high"]],
        by_mode=modes,
        run=run,
    )


def run_ask_before_recommend(
    cfg: AskRecConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    loaded: tuple[Any, SafetyOracle] | None = None,
    splits: dict[str, list[SafeRecSample]] | None = None,
    embed: Embedder | None = None,
    model: Any = None,
    store: PathStore | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Evaluate the trade-off curves and baselines into ``out`` (one run folder per point).

    Args:
        cfg: what to evaluate.
        out: folder; holds ``results.json`` (every point), ``paths.{jsonl,npy}`` (the planned store),
            ``transcripts.jsonl`` (agent policy) and one evaluation run folder per point.
        overwrite: start afresh.
        loaded: ``(movielens, oracle)`` already loaded.
        splits: loaded SafeRec splits by name (default: read ``cfg.data``).
        embed: query embedder of the path store (default: the packaged all-MiniLM-L6-v2).
        model: chat model of the ``agent`` policy (default: ``load_model(cfg.agent_model)``).
        store: an already planned family store (default: plan it, or load ``out/paths`` if present).
        progress: called with a status line.
    """
    from persafe.agent.agent import AgentConfig, AgentTask, AskingAgent
    from persafe.catalog import builtin_oracle
    from persafe.errors import UnknownNameError
    from persafe.evaluation import evaluate_recommender
    from persafe.io import write_jsonl
    from persafe.recsys import make_recommender
    from persafe.recsys.fitted import fitted_inference
    from persafe.recsys.registry import DEFAULT_INFERENCE, make_inference
    from persafe.runs import RunDir
    from persafe.saferec import load_saferec

    say = progress or (lambda msg: None)
    unknown_policies = set(cfg.policies) - {"popular", "planned", "agent"}
    if unknown_policies:
        raise UnknownNameError("asking policy", sorted(unknown_policies)[0], ["popular", "planned", "agent"])
    out = Path(out)
    top = RunDir(out, cfg.model_dump(), overwrite=overwrite, seed=cfg.seed)
    if loaded is None:
        _, _, oracle = builtin_oracle(tau=cfg.tau, unknown=cfg.unknown, pg_policy=cfg.pg_policy)
    else:
        oracle = loaded[1]
    splits = dict(splits or {})
    for name in ("train", cfg.split):
        if name not in splits:
            splits[name] = load_saferec(cfg.data, name)
    train = splits["train"]
    samples = [s for s in splits[cfg.split] if s.constraint_mode in cfg.modes][: cfg.limit]
    families = trait_families(oracle.taxonomy.ids)
    base = make_recommender(cfg.recommender)
    base.fit(train, oracle.catalog)
    pop = popular_order(train, families)

    points: list[TradeoffPoint] = []

    def evaluate(rec: Recommender, folder: str) -> dict[str, Any]:
        run = RunDir(out / folder, {"name": rec.name, "parent": cfg.model_dump()}, overwrite=overwrite)
        return evaluate_recommender(rec, samples, oracle, run, ks=[cfg.k], n_boot=500)

    say("baselines")
    points.append(_point("unguarded", "baseline", evaluate(base, "unguarded"), cfg.k, run="unguarded"))
    lex = SafetyGuard(base, oracle, inference=make_inference("lexicon"))
    points.append(_point(lex.name, "baseline", evaluate(lex, "guard-lexicon"), cfg.k, run="guard-lexicon"))
    if cfg.default_guard:
        say(f"fitting the {DEFAULT_INFERENCE} inference (cached after the first time)")
        inferred = SafetyGuard(base, oracle, inference=fitted_inference(DEFAULT_INFERENCE, cfg.data, cache=cfg.cache))
        folder = "guard-" + DEFAULT_INFERENCE.replace("+", "-")
        points.append(_point(inferred.name, "baseline", evaluate(inferred, folder), cfg.k, run=folder))
    orc = SafetyGuard(base, oracle, use_assigned_traits=True)
    points.append(_point(orc.name, "baseline", evaluate(orc, "guard-oracle"), cfg.k, run="guard-oracle"))

    if store is None and ("planned" in cfg.policies or "agent" in cfg.policies):
        if (out / "paths.jsonl").exists() and not overwrite:
            store = PathStore.load(out / "paths", embed=embed)
        else:
            say(f"planning family paths on up to {cfg.plan_samples} training samples")
            pcfg = PlannerConfig(rollouts=cfg.rollouts, depth=cfg.depth, c=cfg.c, eps0=cfg.eps0, seed=cfg.seed)
            planned_on = [s for s in train if s.traits and s.constraint_mode in ("implicit", "explicit")]
            store = plan_families(planned_on[: cfg.plan_samples], base, oracle, pcfg, embed=embed)
            store.save(out / "paths")

    orders: dict[str, dict[str, list[str]]] = {}
    if "popular" in cfg.policies:
        orders["popular"] = {s.sample_id: pop for s in samples}
    if "planned" in cfg.policies:
        assert store is not None
        orders["planned"] = {
            s.sample_id: retrieved_order(store, request_text(s), pop, cfg.n_neighbours, [s.sample_id]) for s in samples
        }
    names = {t.id: t.name for t in oracle.taxonomy}
    agent_points: list[tuple[float, dict[str, list[str]]]] = []
    failed: dict[str, str] = {}
    if "agent" in cfg.policies:
        if model is None:
            from persafe.llm import load_model

            model = load_model(cfg.agent_model or "smollm2", cache=cfg.cache)
        say("agent: choosing family questions")
        transcripts = []
        for threshold in (6, cfg.agent_threshold):  # 6 = never satisfied: the full order for the sweep
            agent = AskingAgent(
                model,
                list(families),
                FAMILY_LABELS,
                store=store,
                config=AgentConfig(threshold=threshold, max_questions=cfg.max_questions, n_examples=cfg.n_neighbours),
                default_order=pop,
            )
            tasks = [
                AgentTask(query_id=s.sample_id, query=request_text(s), user=TraitUser(s.traits, names, families))
                for s in samples
            ]
            ts = agent.run(tasks)
            failed.update({t.query_id: f"agent: {t.error}" for t in ts if t.stop == "failed"})
            transcripts.extend({"threshold": threshold, **t.model_dump()} for t in ts)
            if threshold == 6:
                orders["agent"] = {t.query_id: t.asked for t in ts}
            else:
                asked = {t.query_id: t.asked for t in ts}
                agent_points.append((float(np.mean([len(a) for a in asked.values()])) if asked else 0.0, asked))
        write_jsonl(out / "transcripts.jsonl", transcripts)

    inference = fitted_inference(cfg.combine_inference, cfg.data, cache=cfg.cache) if cfg.combine_inference else None
    for policy, order in orders.items():
        for b in range(cfg.max_questions + 1):
            say(f"{policy}: {b} question(s)")
            revealed = {s.sample_id: revealed_traits(s.traits, order[s.sample_id][:b], families) for s in samples}
            rec = RevealedTraitsGuard(
                base,
                oracle,
                revealed,
                inference=inference,
                name=f"{base.name}+ask[{policy},{b}]",
                failed=failed if policy == "agent" else None,
            )
            folder = f"ask-{policy}-{b}"
            questions = float(np.mean([min(b, len(order[s.sample_id])) for s in samples])) if samples else 0.0
            points.append(_point(rec.name, policy, evaluate(rec, folder), cfg.k, b, questions, folder))
    for questions, asked in agent_points:
        revealed = {s.sample_id: revealed_traits(s.traits, asked[s.sample_id], families) for s in samples}
        name = f"{base.name}+ask[agent,abstain≥{cfg.agent_threshold}]"
        rec = RevealedTraitsGuard(base, oracle, revealed, inference=inference, name=name, failed=failed)
        folder = "ask-agent-abstain"
        points.append(_point(name, "agent-abstain", evaluate(rec, folder), cfg.k, None, questions, folder))

    results = {
        "task": "ask-before-recommend",
        "n_samples": len(samples),
        "modes": dict(Counter(s.constraint_mode for s in samples)),
        "k": cfg.k,
        "families": {f: list(ts) for f, ts in families.items()},
        "popular_order": pop,
        "points": [p.model_dump() for p in points],
        "store_size": len(store) if store is not None else 0,
        "failed": {"n": len(failed), "sample_ids": sorted(failed), "errors": dict(Counter(failed.values()))},
    }
    top.write_results(results)
    return results
