"""Evaluate a recommender on SafeRec samples into a resumable run directory.

Each sample's record keeps its inputs (traits, mode), the recommended items, what a guard inferred,
and its metrics at every cut-off; ``results.json`` aggregates them with bootstrap CIs, per mode, per
trait and per split, recomputed from ``samples.jsonl`` so a resumed run reports every sample once.

A sample whose model call failed (the recommender's or the guard's) is recorded as ``failed``: never
scored, listed under ``failed`` in ``results.json``, and retried by the next run of the same command.
Recommenders that learn never see the samples they score: a single sample file needs separate
training samples, and training and evaluated samples may not share ids.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from persafe.catalog.oracle import SafetyOracle
from persafe.metrics.bootstrap import aggregate, breakdown, mean_ci
from persafe.metrics.lists import evaluate_lists
from persafe.recsys.base import Recommender
from persafe.recsys.inference import inference_breakdown, inference_scores
from persafe.runs import RunDir, failed_summary, is_failed
from persafe.saferec.schema import SafeRecSample

DEFAULT_KS = (10, 20)
GUARDS = (
    "none", "lexicon", "learned", "lexicon+learned", "embedding", "lexicon+embedding", "llm", "oracle",
    "decode", "decode-oracle",
)  # fmt: skip
"""``oracle`` guards with the sample's true traits (an upper bound); the others name an inference method."""
TASKS = ("list", "choice")
HEADLINE = ("recall", "ndcg", "svr", "svr_slots", "sdcg", "validity", "popularity", "produced", "hit")


def evaluate_recommender(
    recommender: Recommender,
    samples: Sequence[SafeRecSample],
    oracle: SafetyOracle,
    run: RunDir,
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int = 256,
    n_boot: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Recommend for every sample not yet in the run, append the records, and write ``results.json``.

    The recommender must already be fitted. Returns the results.
    """
    catalog = oracle.catalog
    done = run.done_ids()
    todo = [s for s in samples if s.sample_id not in done]
    depth = max(ks)
    total = len(samples)
    if progress:
        progress(total - len(todo), total)
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        recs = recommender.recommend(batch, depth)
        errors = recs.errors or [None] * len(batch)
        gt = [catalog.rows(s.groundtruth_item_ids) for s in batch]
        seen = [catalog.rows(s.seen_item_ids) for s in batch]
        mask = oracle.trait_mask([s.traits for s in batch])
        outside = [len(s.unmatched_groundtruth) for s in batch]
        per_k = {k: evaluate_lists(recs.rows, gt, mask, oracle, k=k, seen=seen, outside=outside) for k in ks}
        viol = oracle.violations(recs.rows, mask)
        records = []
        for i, s in enumerate(batch):
            rec: dict[str, Any] = {
                "sample_id": s.sample_id,
                "split": s.split,
                "user_id": s.user_id,
                "traits": s.traits,
                "constraint_mode": s.constraint_mode,
            }
            if s.distractor:
                rec["distractor"] = s.distractor
            if s.unmatched_groundtruth:
                rec["unmatched_groundtruth"] = s.unmatched_groundtruth
            if errors[i]:  # a failed model call is not an answer: keep why, score nothing
                rec.update(status="failed", error=errors[i])
                records.append(rec)
                continue
            rows = recs.rows[i]
            rec.update(
                status="ok",
                recommended=[catalog.items[r].item_id if r >= 0 else None for r in rows if r != -1],
                violating=[int(j) for j in np.flatnonzero(viol[i])],
                metrics={str(k): m.row(i) for k, m in per_k.items()},
            )
            if recs.inferred_traits is not None:
                rec["inferred_traits"] = recs.inferred_traits[i]
            if recs.raw is not None:
                rec["raw"] = recs.raw[i]
            if recs.extra:
                rec["extra"] = recs.extra[i]
            records.append(rec)
        run.append(records)
        if progress:
            progress(total - len(todo) + start + len(batch), total)
    results = summarize(run.read_samples(), ks, n_boot=n_boot)
    results["run"] = run.config.get("name")
    results["oracle"] = oracle.coverage()
    known = int(oracle.known.sum())
    results["coverage"] = {
        "catalog_items": len(catalog),
        "labelled_items": known,
        "labelled_items_share": known / len(catalog) if len(catalog) else None,
        **(results["coverage"] or {}),
    }
    run.write_results(results)
    return results


def _slot_coverage(records: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """How many recommended slots at ``k`` name a catalog item with content-warning data: SVR over the
    rest depends on the unknown-item policy."""
    cells = [r["metrics"][str(k)] for r in records]
    matched = sum(c.get("matched") or 0 for c in cells)
    labelled = sum(c.get("labelled") or 0 for c in cells)
    return {
        "slots": int(sum(c.get("produced") or 0 for c in cells)),
        "matched_slots": int(matched),
        "labelled_slots": int(labelled),
        "labelled_share": labelled / matched if matched else None,
    }


def _metric_arrays(records: list[dict[str, Any]], k: int) -> dict[str, np.ndarray]:
    out = {}
    for name in HEADLINE:
        vals = [r["metrics"][str(k)].get(name) for r in records]
        out[name] = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
    return out


def summarize(records: list[dict[str, Any]], ks: Sequence[int] = DEFAULT_KS, n_boot: int = 1000) -> dict[str, Any]:
    """Aggregate sample records: overall, control (``none``) samples, by mode, trait and split.

    Failed records (their model call failed) are not scored; they are listed under ``failed``.
    ``n_samples`` counts the scored samples.
    """
    failed = failed_summary(records)
    records = sorted((r for r in records if not is_failed(r)), key=lambda r: r["sample_id"])
    modes = [r["constraint_mode"] for r in records]
    traits = [r["traits"] or ["(control)"] for r in records]
    splits = [r.get("split") or "?" for r in records]
    out: dict[str, Any] = {"n_samples": len(records), "ks": list(ks), "failed": failed, "by_k": {}}
    control = np.array([m == "none" for m in modes])
    control_kinds = [
        ("distractor" if r.get("distractor") else "plain") if r["constraint_mode"] == "none" else None for r in records
    ]
    for k in ks:
        arrays = _metric_arrays(records, k)
        out["by_k"][str(k)] = {
            "overall": aggregate(arrays, n_boot=n_boot),
            "control": aggregate(arrays, control, n_boot=n_boot) if control.any() else None,
            "by_control": _control_breakdown(arrays, control_kinds, n_boot),
            "by_mode": breakdown(arrays, modes, n_boot=n_boot),
            "by_trait": breakdown(arrays, traits, n_boot=n_boot),
            "by_split": breakdown(arrays, splits, n_boot=n_boot),
            "empty_lists": int(np.sum(arrays["produced"] == 0)),
            "coverage": _slot_coverage(records, k),
        }
    out["coverage"] = out["by_k"][str(ks[0])]["coverage"] if ks else None
    unmatched = [r.get("unmatched_groundtruth") or [] for r in records]
    out["unmatched_ground_truth"] = {
        "n": sum(map(len, unmatched)),
        "samples": sum(1 for u in unmatched if u),
        "examples": [f"{t} ({y})" if y else t for u in unmatched for t, y in u][:5],
    }
    extras = [r.get("extra") or {} for r in records]
    if any("valid" in e for e in extras):  # candidate-choice task
        out["candidate_choice"] = {
            "valid_ratio": mean_ci(np.array([float(e.get("valid", False)) for e in extras]), n_boot=n_boot),
            "hit_ratio_at_1": mean_ci(np.array([float(e.get("hit_at_1", False)) for e in extras]), n_boot=n_boot),
        }
    if any("parse" in e for e in extras):  # LLM answers: how many could be read at all
        out["parse"] = dict(sorted(Counter(e.get("parse", "?") for e in extras).items()))
    constrained = [e["constrained"] for e in extras if isinstance(e.get("constrained"), dict)]
    if constrained:  # constrained decoding: did every answer keep to the catalog (a server may ignore it)?
        out["constrained"] = {
            "answers": len(constrained),
            "complete": sum(bool(c.get("complete")) for c in constrained),
            "not_honoured": sum(c.get("honoured") is False for c in constrained),
        }
    if any("inference_status" in e for e in extras):
        out["inference_status"] = dict(
            sorted(Counter(e["inference_status"] for e in extras if "inference_status" in e).items())
        )
    if records and "inferred_traits" in records[0]:
        by_mode: dict[str, Any] = {}
        for mode in sorted(set(modes)):
            sel = [r for r in records if r["constraint_mode"] == mode]
            by_mode[mode] = inference_scores([r["inferred_traits"] for r in sel], [r["traits"] for r in sel])
        out["inference"] = {
            "overall": inference_scores([r["inferred_traits"] for r in records], [r["traits"] for r in records]),
            "by_mode": by_mode,
            **inference_breakdown([r["inferred_traits"] for r in records], records),
        }
    return out


def _control_breakdown(arrays: dict[str, np.ndarray], kinds: list[str | None], n_boot: int) -> dict[str, Any] | None:
    """Metrics of plain control samples and of distractor controls (they mention content with liking):
    a guard that misreads polarity loses recall on the distractor ones."""
    if not any(kinds):
        return None
    sel = [i for i, k in enumerate(kinds) if k]
    sub = {name: a[sel] for name, a in arrays.items()}
    return breakdown(sub, [kinds[i] for i in sel], n_boot=n_boot)


GuardName = Literal[
    "none", "lexicon", "learned", "lexicon+learned", "embedding", "lexicon+embedding", "llm", "oracle",
    "decode", "decode-oracle",
]  # fmt: skip
LEARNING_GUARDS = ("learned", "lexicon+learned", "embedding", "lexicon+embedding", "decode")
"""Guards whose inference is fitted on training samples (the learned classifier is trained there, its
thresholds set on the validation split; the embedding threshold is calibrated on training samples)."""


class EvalConfig(BaseModel):
    """One evaluation: which recommender, guarded how, on which data. Stored as the run's ``config.json``.

    Every field is checked when the config is made, so a bad value fails before anything is written.
    """

    model_config = ConfigDict(extra="forbid")

    data: str = "runs/saferec-ml100k"
    """A built SafeRec folder, or one sample file (JSONL, or a SafeCRS JSON release file)."""
    train: str | None = None
    """Training samples for recommenders that learn (default: ``train.jsonl`` of a built folder). A
    single ``data`` file has none: give them here, so nothing is fitted on the samples it scores."""
    catalog: str | None = None
    """The catalog: ``None`` for the built-in MovieLens-100k (with its curated content warnings), a catalog
    file (CSV/TSV/JSON/JSONL with ``title``, ``year``, optional ``item_id``, ``imdb_id``, ``genres``), or
    ``from-data``: every ground-truth and seen title of the samples (the SafeCRS ground-truth catalog)."""
    oracle: list[str] = Field(default_factory=list)
    """Content-warning files: SafeCRS ``movie_trait_sensitivity.json`` (joined on IMDb id), DDD vote
    tables and Parents-Guide tables (keyed by item id or IMDb id). Merged over the curated warnings of
    the built-in catalog; for another catalog they are the only labels (none: every item is unknown)."""
    completions: str | None = None
    """Score outputs produced elsewhere instead of running a model: a JSONL file of
    ``{"sample_id", "text"}`` lines, or ``from-data`` for the samples' own ``completion`` field."""
    recommender: str | None = "itemknn"
    """A classic recommender (``random``, ``popularity``, ``itemknn``, ``ease``); ignored with ``model``."""
    model: str | None = None
    """A chat-model spec (``smollm2``, ``hf:DIR``, ``openai:MODEL@URL``) for an LLM recommender."""
    task: Literal["list", "choice"] = "list"
    """LLM task: ``list`` (N titles, SafeCRS) or ``choice`` (one of 20 candidates)."""
    guard: GuardName = "none"
    """``none``, ``oracle`` (the true traits) or a SafetyGuard inference: ``lexicon``, ``learned``,
    ``lexicon+learned``, ``embedding``, ``lexicon+embedding``, ``llm``; or, for an LLM list recommender,
    ``decode`` (items unsafe for the traits the default inference reads are never written: constrained
    decoding) and ``decode-oracle`` (the same with the true traits)."""
    inference_model: str | None = None
    """Chat-model spec for ``guard=llm``; when not given it is set to ``model``, else ``smollm2`` (and the
    config records which)."""
    split: Literal["train", "val", "test"] = "test"
    """The split of a built folder to evaluate."""
    ks: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [10, 20], min_length=1)
    """Cut-offs K (at most the catalog's size)."""
    limit: int | None = Field(None, ge=1)
    """Evaluate only the first N samples of the split."""
    tau: float = Field(0.66, gt=0.0, le=1.0)
    """Risk threshold τ of the oracle."""
    unknown: Literal["safe", "unsafe", "exclude"] = "safe"
    """Policy for items without content warnings."""
    pg_policy: Literal["applicability", "max"] = "applicability"
    """How the Parents Guide combines with content-warning tags."""
    batch_size: int = Field(8, ge=1)
    """Samples per model call (LLM recommenders)."""
    max_new_tokens: int = Field(320, ge=1)
    """Generation budget of LLM list answers."""
    prompt_style: Literal["safecrs", "chat"] = "safecrs"
    """LLM list prompt: ``safecrs`` (the benchmark's prompt) or ``chat`` (system instruction + request)."""
    n_titles: int = Field(20, ge=1)
    """Titles asked for in the ``chat`` style (and lines written with ``decoding=constrained``)."""
    decoding: Literal["free", "constrained"] = "free"
    """LLM decoding: ``free``, or ``constrained`` (only catalog lines, none repeated or named by the user;
    for ``choice``, only one of the candidates)."""
    repetition_penalty: float = Field(1.0, gt=0.0)
    """Penalty on repeated tokens (local models)."""
    cache: bool = True
    """Cache LLM responses (reruns are free; failed calls are never cached)."""

    @field_validator("ks")
    @classmethod
    def _sorted_unique(cls, v: list[int]) -> list[int]:
        return sorted(set(v))

    @field_validator("task", "guard", "split", "unknown", "pg_policy", "prompt_style", "decoding", mode="before")
    @classmethod
    def _one_of(cls, v: Any, info: ValidationInfo) -> Any:
        valid = get_args(cls.model_fields[info.field_name].annotation)
        if v not in valid:
            kind = {"pg_policy": "Parents-Guide policy", "unknown": "unknown-item policy"}.get(info.field_name)
            raise ValueError(
                f"unknown {kind or info.field_name.replace('_', ' ')} {v!r}; valid: {', '.join(sorted(valid))}"
            )
        return v

    @field_validator("recommender")
    @classmethod
    def _known_recommender(cls, v: str | None) -> str | None:
        from persafe.recsys.registry import RECOMMENDERS

        if v is not None and v not in RECOMMENDERS:
            raise ValueError(f"unknown recommender {v!r}; valid: {', '.join(sorted(RECOMMENDERS))}")
        return v

    @model_validator(mode="after")
    def _effective_inference_model(self) -> EvalConfig:
        if self.guard in ("decode", "decode-oracle"):
            if not (self.model and self.task == "list"):
                raise ValueError(f"guard {self.guard!r} guards an LLM list recommender while it decodes (--model)")
            self.decoding = "constrained"
        if self.decoding == "constrained" and not self.model:
            raise ValueError("decoding 'constrained' applies to an LLM recommender (--model)")
        if self.guard == "llm" and not self.inference_model:
            self.inference_model = self.model or "smollm2"
        return self

    @model_validator(mode="after")
    def _one_source_of_answers(self) -> EvalConfig:
        if self.completions and self.model:
            raise ValueError("give --model (answer live) or --completions (answers from a file), not both")
        return self

    @property
    def base_name(self) -> str:
        if self.completions:
            return (
                f"completions[{self.completions if self.completions == 'from-data' else Path(self.completions).name}]"
            )
        if self.model:
            return f"llm-{self.task}{'-constrained' if self.decoding == 'constrained' else ''}[{self.model}]"
        return str(self.recommender)

    @property
    def name(self) -> str:
        return self.base_name + ("" if self.guard == "none" else f"+guard[{self.guard}]")

    @property
    def learns(self) -> bool:
        """Whether the recommender or its guard is fitted on training samples."""
        classic_learns = not self.model and not self.completions and self.recommender != "random"
        return classic_learns or self.guard in LEARNING_GUARDS


def build_recommender(
    cfg: EvalConfig,
    oracle: SafetyOracle,
    completions: dict[str, str] | None = None,
    calibration: Sequence[SafeRecSample] | None = None,
) -> Recommender:
    """The (guarded) recommender an evaluation config describes.

    Args:
        cfg: the evaluation.
        oracle: catalog and oracle (its taxonomy names the traits a learned guard predicts).
        completions: the texts to score when ``cfg.completions`` is set.
        calibration: validation samples that set a learned guard's thresholds (see ``load_calibration``).
    """
    from persafe.errors import UnknownNameError
    from persafe.recsys import SafetyGuard, make_recommender
    from persafe.recsys.registry import make_inference

    if cfg.guard not in GUARDS:
        raise UnknownNameError("guard", cfg.guard, GUARDS)
    if cfg.model:
        if cfg.task not in TASKS:
            raise UnknownNameError("task", cfg.task, TASKS)
        from persafe.llm import GenerationParams, load_model
        from persafe.recsys.llm import CandidateChoiceRecommender, LLMListRecommender

        model = load_model(cfg.model, cache=cfg.cache, **({"batch_size": cfg.batch_size} if _is_hf(cfg.model) else {}))
        if cfg.task == "list":
            params = GenerationParams(max_new_tokens=cfg.max_new_tokens, repetition_penalty=cfg.repetition_penalty)
            rec: Recommender = LLMListRecommender(
                model, params, prompt_style=cfg.prompt_style, n=cfg.n_titles, decoding=cfg.decoding
            )
        else:
            rec = CandidateChoiceRecommender(model, decoding=cfg.decoding)
        rec.name = cfg.base_name
    elif cfg.completions:
        from persafe.recsys.llm import CompletionsRecommender

        rec = CompletionsRecommender(completions or {}, name=cfg.base_name)
    else:
        rec = make_recommender(cfg.recommender or "")
    if cfg.guard == "none":
        return rec
    if cfg.guard == "oracle":
        return SafetyGuard(rec, oracle, use_assigned_traits=True)
    if cfg.guard in ("decode", "decode-oracle"):
        from persafe.recsys.guard import DecodeGuard
        from persafe.recsys.registry import DEFAULT_INFERENCE

        if cfg.guard == "decode-oracle":
            decode = DecodeGuard(rec, oracle, use_assigned_traits=True)
        else:
            inference = make_inference(
                DEFAULT_INFERENCE, cache=cfg.cache, traits=oracle.taxonomy.ids, calibration=calibration
            )
            decode = DecodeGuard(rec, oracle, inference=inference)
        decode.name = cfg.name
        return decode
    inference = make_inference(
        cfg.guard, cfg.inference_model, cache=cfg.cache, traits=oracle.taxonomy.ids, calibration=calibration
    )
    guard = SafetyGuard(rec, oracle, inference=inference)
    guard.name = cfg.name
    return guard


def _is_hf(spec: str) -> bool:
    return spec == "smollm2" or spec.startswith("hf:")


def check_samples(samples: Sequence[SafeRecSample], oracle: SafetyOracle, *, needs_target: bool = False) -> None:
    """Check that every item id a sample names is in the catalog (the error names file, line and field).

    Args:
        samples: loaded samples.
        oracle: its catalog is the one the samples must use.
        needs_target: every sample must have a ground-truth item (the candidate-choice task).

    Raises:
        DataError: an unknown item id, or a missing target.
    """
    from persafe.errors import DataError

    rows = oracle.catalog.row
    example = ", ".join(list(rows)[:3])
    for s in samples:
        for field in ("groundtruth_item_ids", "seen_item_ids", "history_item_ids"):
            bad = [i for i in getattr(s, field) if i not in rows]
            if bad:
                raise DataError(
                    f"item id {bad[0]!r} is not in the catalog ({len(rows)} items, ids such as {example}); "
                    "build the samples from the same catalog, or pass that catalog",
                    path=s.where,
                    field=field,
                )
        if needs_target and not s.groundtruth_item_ids:
            raise DataError(
                "the candidate-choice task needs a ground-truth item per sample (its target)",
                path=s.where,
                field="groundtruth_item_ids",
            )


def load_eval_samples(
    cfg: EvalConfig, splits: dict[str, list[SafeRecSample]] | None = None
) -> tuple[list[SafeRecSample], list[SafeRecSample]]:
    """``(training samples, evaluated samples)`` of a config, checked for leakage.

    Training samples are ``cfg.train``, else the ``train`` split of a built folder; they are only loaded
    when the recommender learns. A single ``data`` file has no training split: it is refused for a
    recommender that learns unless ``cfg.train`` is given, and no training sample may share an id with
    an evaluated one.

    Raises:
        PersafeError: a single file without ``train`` for a learning recommender, or shared sample ids.
        DataError: unreadable, empty or invalid samples.
    """
    from persafe.errors import PersafeError
    from persafe.saferec import load_saferec

    splits = splits if splits is not None else {}

    def load(path: str, split: str) -> list[SafeRecSample]:
        key = f"{path}\0{split}"
        if key not in splits:
            splits[key] = load_saferec(path, split)
        return splits[key]

    samples = load(cfg.data, cfg.split)[: cfg.limit]
    if not cfg.learns:
        return [], samples
    if cfg.train:
        train = load(cfg.train, "train")
    elif Path(cfg.data).is_dir():
        train = load(cfg.data, "train")
    else:
        raise PersafeError(
            f"--data {cfg.data} is a single sample file, and {cfg.name} learns from training samples: it would "
            "be fitted on the very samples it scores. Give the training samples with --train FILE (or pass a "
            "built folder, persafe build saferec, whose train.jsonl is used)"
        )
    shared = {s.sample_id for s in train} & {s.sample_id for s in samples}
    if shared:
        ex = ", ".join(sorted(shared)[:3])
        raise PersafeError(
            f"{len(shared)} evaluated sample(s) are also training samples (ids such as {ex}): a recommender "
            "fitted on them would score its own training data; give training samples that exclude them"
        )
    return train, samples


def load_calibration(
    cfg: EvalConfig, splits: dict[str, list[SafeRecSample]] | None = None
) -> list[SafeRecSample] | None:
    """Validation samples for a learned guard's thresholds: the ``val`` split of the built folder the
    training samples come from (``cfg.train`` or else ``cfg.data``) when it has one and ``val`` is not the
    evaluated split; else ``None`` (the guard then holds out a fifth of the training users). Never the
    evaluated samples."""
    from persafe.saferec import load_saferec

    if cfg.guard not in ("learned", "lexicon+learned", "decode") or cfg.split == "val":
        return None
    folder = Path(cfg.train or cfg.data)
    if not (folder.is_dir() and (folder / "val.jsonl").is_file()):
        return None
    splits = splits if splits is not None else {}
    key = f"{folder}\0val"
    if key not in splits:
        splits[key] = load_saferec(folder, "val")
    return splits[key]


def run_identity(
    cfg: EvalConfig,
    samples: Sequence[SafeRecSample],
    train: Sequence[SafeRecSample],
    rec: Recommender,
    oracle: SafetyOracle,
) -> dict[str, Any]:
    """What determines a run's numbers: its settings and fingerprints of the samples it scores, the
    training samples, the models' weights and the oracle (never file paths)."""
    from persafe.fingerprint import records_fingerprint
    from persafe.llm.base import ChatModel
    from persafe.llm.cache import model_fingerprint

    def fp(obj: Any) -> str | None:
        model = getattr(obj, "model", None)
        return model_fingerprint(model) if isinstance(model, ChatModel) else None

    base = getattr(rec, "base", rec)
    inference = getattr(rec, "inference", None)
    parts = getattr(inference, "parts", [inference]) if inference is not None else []
    inference_fps = [f for f in (fp(p) for p in parts) if f]
    settings = cfg.model_dump(exclude={"data", "train", "cache", "limit", "catalog", "oracle", "completions"})
    return {
        **settings,
        "samples": records_fingerprint(samples),
        "n_samples": len(samples),
        "train": records_fingerprint(train) if train else None,
        "model": fp(base),
        "inference_model": inference_fps[0] if inference_fps else None,
        "oracle": oracle.fingerprint,
    }


def run_evaluation(
    cfg: EvalConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    loaded: tuple[Any, SafetyOracle] | None = None,
    splits: dict[str, list[SafeRecSample]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit on the training samples and evaluate ``cfg.split`` into the run folder ``out`` (resumable).

    Everything is checked (samples, cut-offs against the catalog, models loadable) before the run folder
    is touched, so a refused run writes nothing.

    Args:
        cfg: what to evaluate.
        out: run folder.
        overwrite: start afresh instead of resuming.
        loaded: ``(movielens, oracle)`` already loaded (default: the catalog and oracle ``cfg`` names).
        splits: a cache of loaded sample files shared by several evaluations.
        progress: called with ``(done, total)``.
    """
    from persafe.errors import PersafeError
    from persafe.fingerprint import digest
    from persafe.saferec.resolve import resolve_titles

    train, samples = load_eval_samples(cfg, splits)
    oracle_files: list[dict[str, Any]] = []
    if loaded is not None:
        oracle = loaded[1]
    else:
        oracle, oracle_files = build_oracle(cfg, [*samples, *train])
    if max(cfg.ks) > len(oracle.catalog) and not (cfg.model or cfg.completions):
        raise PersafeError(  # a ranking of the whole catalog would hit everything (a model's list may not)
            f"--k {max(cfg.ks)} is larger than the catalog ({len(oracle.catalog)} items); a recommender ranking "
            "the catalog would list every item. Use a cut-off up to the catalog size"
        )
    samples, train = resolve_titles(samples, oracle.catalog), resolve_titles(train, oracle.catalog)
    check_samples(samples, oracle, needs_target=bool(cfg.model) and cfg.task == "choice")
    check_samples(train, oracle)
    texts = load_completions(cfg, samples, splits) if cfg.completions else None
    calibration = load_calibration(cfg, splits)
    if calibration is not None:
        calibration = resolve_titles(calibration, oracle.catalog)
    rec = build_recommender(cfg, oracle, texts, calibration)
    config = {"name": rec.name, "base": cfg.base_name if cfg.guard != "none" else None, **cfg.model_dump()}
    identity = run_identity(cfg, samples, train, rec, oracle)
    if texts is not None:
        identity["completions"] = digest([[s.sample_id, texts[s.sample_id]] for s in samples])
    if calibration is not None:
        from persafe.fingerprint import records_fingerprint

        identity["calibration"] = records_fingerprint(calibration)
    with RunDir(out, config, identity=identity, overwrite=overwrite) as run:
        rec.fit(train, oracle.catalog)
        res = evaluate_recommender(rec, samples, oracle, run, ks=cfg.ks, batch_size=_batch(cfg), progress=progress)
        if oracle_files:
            res["oracle"]["files"] = oracle_files
            run.write_results(res)
        return res


def build_oracle(cfg: EvalConfig, samples: Sequence[SafeRecSample]) -> tuple[SafetyOracle, list[dict[str, Any]]]:
    """The catalog and oracle a config names, and a summary of each content-warning file read.

    Args:
        cfg: ``catalog``, ``oracle`` files and the oracle's policies.
        samples: every loaded sample (the ``from-data`` catalog is built from their titles).
    """
    from persafe.catalog import SafetyOracle, builtin_oracle, builtin_traits
    from persafe.catalog.files import catalog_from_samples, load_catalog
    from persafe.catalog.warnings import WarningsTable, load_oracle_file

    policies = {"tau": cfg.tau, "unknown": cfg.unknown, "pg_policy": cfg.pg_policy}
    taxonomy = builtin_traits()
    if cfg.catalog is None:
        ml, _, base = builtin_oracle(**policies)  # type: ignore[arg-type]
        catalog = ml.catalog
    else:
        catalog = catalog_from_samples(samples) if cfg.catalog == "from-data" else load_catalog(cfg.catalog)
        base = None
    tables, summaries = WarningsTable(), []
    for path in cfg.oracle:
        table, summary = load_oracle_file(path, catalog, taxonomy)
        tables = tables.merged(table)
        summaries.append(summary)
    if base is not None and not cfg.oracle:
        return base, summaries
    warnings = base.warnings.merged(tables) if base is not None else tables
    return SafetyOracle(catalog, taxonomy, warnings, **policies), summaries  # type: ignore[arg-type]


def load_completions(
    cfg: EvalConfig, samples: Sequence[SafeRecSample], splits: dict[str, list[SafeRecSample]] | None = None
) -> dict[str, str]:
    """The answer text of every evaluated sample, from a JSONL file or the samples' ``completion``.

    Raises:
        DataError: a line without ``sample_id`` / ``text``, a duplicate id (names both lines), ids that
            are not samples of the data (extra), or evaluated samples without a text (missing).
    """
    from persafe.errors import DataError
    from persafe.io import iter_jsonl

    if cfg.completions == "from-data":
        out = {}
        for s in samples:
            answer = [m.content for m in s.completion if m.role == "assistant"]
            if not answer:
                raise DataError(
                    "no assistant message in 'completion' to score; give --completions FILE instead",
                    path=s.where,
                    field="completion",
                )
            out[s.sample_id] = answer[-1]
        return out
    path = Path(str(cfg.completions))
    texts: dict[str, str] = {}
    lines: dict[str, int] = {}
    for n, obj in iter_jsonl(path):
        for key in ("sample_id", "text"):
            if not isinstance(obj.get(key), str):
                raise DataError(f"expected a string {key!r} on every line", path=path, line=n, field=key)
        sid = obj["sample_id"]
        if sid in lines:
            raise DataError(
                f"duplicate sample_id {sid!r} (first on line {lines[sid]})", path=path, line=n, field="sample_id"
            )
        texts[sid], lines[sid] = obj["text"], n
    from persafe.saferec import load_saferec

    known = {s.sample_id for s in (splits or {}).get(f"{cfg.data}\0{cfg.split}") or load_saferec(cfg.data, cfg.split)}
    extra = sorted(set(texts) - known)
    if extra:
        raise DataError(
            f"{len(extra)} completion(s) for sample ids that are not in {cfg.data}: {', '.join(extra[:5])}"
            + (" …" if len(extra) > 5 else "")
            + "; check that the completions were made for these samples",
            path=path,
        )
    missing = [s.sample_id for s in samples if s.sample_id not in texts]
    if missing:
        raise DataError(
            f"no completion for {len(missing)} evaluated sample(s): {', '.join(missing[:5])}"
            + (" …" if len(missing) > 5 else "")
            + "; add them, or evaluate fewer samples (--limit)",
            path=path,
        )
    return texts


def _batch(cfg: EvalConfig) -> int:
    return max(cfg.batch_size * 4, 32) if cfg.model else 256  # LLM runs write progress more often


def run_folder_name(name: str) -> str:
    """A file-system friendly folder name for a run name (``llm-list[smollm2]+guard[lexicon]`` →
    ``llm-list-smollm2+guard-lexicon``)."""
    return re.sub(r"-*\+-*", "+", re.sub(r"[^\w.+-]+", "-", name)).strip("-")
