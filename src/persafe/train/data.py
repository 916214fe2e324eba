"""Training data from SafeRec samples: prompt/completion rows for SFT (Safe-SFT and the plain baseline)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from persafe.catalog.items import Catalog
from persafe.catalog.traits import TraitTaxonomy
from persafe.saferec.schema import SafeRecSample

Target = Literal["safe", "plain"]
"""``safe``: the safety-filtered ground truth (Safe-SFT). ``plain``: the unfiltered ground truth, as a
recommender trained without safety would learn it (the baseline SafeCRS compares against)."""


def reasoning_text(sample: SafeRecSample, taxonomy: TraitTaxonomy) -> str:
    """A short safety analysis: which sensitivities the request reveals and what to leave out."""
    if not sample.traits:
        return "The user mentions no sensitivity, so any fitting movie is fine."
    parts = []
    for tid in sample.traits:
        t = taxonomy.get(tid)
        avoid = "; ".join(a.lower() for a in t.avoid[:3])
        parts.append(f"{t.description} I leave out movies where: {avoid}.")
    how = "says" if sample.constraint_mode == "explicit" else "implies"
    return f"The user {how} a sensitivity. " + " ".join(parts)


def sft_rows(
    samples: Sequence[SafeRecSample],
    catalog: Catalog,
    taxonomy: TraitTaxonomy,
    target: Target = "safe",
    reasoning: bool = False,
) -> list[dict[str, Any]]:
    """Conversational prompt/completion rows (TRL's format) with the sample columns rewards need.

    Args:
        samples: SafeRec samples (their ``prompt`` is the SafeCRS prompt).
        catalog: resolves item ids to display titles.
        taxonomy: names the traits in the reasoning.
        target: ``safe`` or ``plain`` (see ``Target``).
        reasoning: wrap the answer as ``<reasoning>…</reasoning><solution>…</solution>``.
    """
    if target not in ("safe", "plain"):
        raise ValueError(f"target must be 'safe' or 'plain', got {target!r}")
    rows = []
    for s in samples:
        ids = list(s.groundtruth_item_ids)
        if target == "plain":
            ids += s.removed_groundtruth_item_ids
        titles = "\n".join(catalog.get(i).display for i in ids)
        answer = (
            f"<reasoning>{reasoning_text(s, taxonomy)}</reasoning>\n<solution>\n{titles}\n</solution>"
            if reasoning
            else titles
        )
        rows.append({
            "prompt": [{"role": m.role, "content": m.content} for m in s.prompt],
            "completion": [{"role": "assistant", "content": answer}],
            "sample_id": s.sample_id,
            "groundtruth_item_ids": list(s.groundtruth_item_ids),
            "seen_item_ids": list(s.seen_item_ids),
            "traits": list(s.traits),
        })  # fmt: skip
    return rows


def choice_rows(
    samples: Sequence[SafeRecSample], catalog: Catalog, n_candidates: int = 20, history: int = 10, seed: int = 0
) -> list[dict[str, Any]]:
    """Candidate-choice rows: the prompt of ``persafe eval --task choice`` (the same candidates for the same
    seed), answered with the target, the first safety-filtered ground-truth item. Samples without one are
    left out."""
    from persafe.recsys.llm import candidate_conversation, candidate_rows

    rows = []
    for s in samples:
        if not s.groundtruth_item_ids:
            continue
        cands = candidate_rows(s, catalog, n_candidates, seed)
        prompt = candidate_conversation(s, catalog, cands, history)
        rows.append({
            "prompt": [{"role": m.role, "content": m.content} for m in prompt],
            "completion": [{"role": "assistant", "content": catalog.get(s.groundtruth_item_ids[0]).display}],
            "sample_id": s.sample_id,
        })  # fmt: skip
    return rows
