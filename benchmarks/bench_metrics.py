"""Oracle + metric evaluation of 100,000 top-20 lists: persafe's vectorised path vs a plain Python loop.

Both compute Recall@10, NDCG@10, SVR@10, SVR@10-slots and S-DCG@10 with the same definitions (the
loop is checked against the vectorised result). Run: ``.venv/bin/python benchmarks/bench_metrics.py``.
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np

from persafe.catalog import builtin_oracle
from persafe.metrics import evaluate_lists


def make_inputs(oracle, n: int, width: int, seed: int):
    rng = np.random.default_rng(seed)
    n_items, trait_ids = len(oracle.catalog), oracle.taxonomy.ids
    rows = rng.integers(0, n_items, size=(n, width))
    gt = [rng.choice(n_items, size=rng.integers(1, 11), replace=False).tolist() for _ in range(n)]
    traits = [list(rng.choice(trait_ids, size=rng.integers(0, 3), replace=False)) for _ in range(n)]
    return rows, gt, traits


def risk_per_item(oracle):
    """``is_unsafe(item, traits)`` computed from the content warnings at every call (no matrix):
    risk = max(ddd_trigger, pg_risk) with the oracle's policies, as a direct reading of the SafeCRS formula."""
    from persafe.catalog.traits import PG_CATEGORIES

    def is_unsafe(item_id: str, ts: list[str]) -> bool:
        rec = oracle.warnings.get(item_id)
        for t in ts:
            trait = oracle.taxonomy.get(t)
            if rec is None or rec.status != "annotated":
                if oracle.unknown_policy == "unsafe":
                    return True
                continue
            ddd = any(tag in rec.tags for tag in trait.avoid)
            w = trait.pg_vector()
            pg = 0.0
            if sum(w) > 0 and (
                oracle.pg_policy == "max" or trait.pg_applicability == "strong" or not rec.tags_assessed
            ):
                pg = sum(wi * rec.parents_guide.get(c, 0) for wi, c in zip(w, PG_CATEGORIES, strict=True)) / (
                    3 * sum(w)
                )
            override = rec.risk_override.get(trait.id)
            risk = override if override is not None else max(float(ddd), pg)
            if risk >= oracle.tau:
                return True
        return False

    return is_unsafe


def loop_metrics(rows, gt, traits, oracle, k: int, mode: str):
    """The straightforward implementation: a Python loop over lists and slots.

    ``mode="risk"`` computes each slot's risk from the content warnings (no materialised matrix);
    ``mode="api"`` asks the materialised oracle per item (``SafetyOracle.is_unsafe``), as user code
    would; ``mode="dict"`` first copies the oracle into a ``{(item, trait): bool}`` dictionary.
    """
    if mode == "risk":
        is_unsafe = risk_per_item(oracle)
    elif mode == "dict":
        table = {}
        for i, item in enumerate(oracle.catalog.items):
            for j, t in enumerate(oracle.taxonomy.ids):
                table[(item.item_id, t)] = bool(oracle.unsafe[i, j])

        def is_unsafe(item: str, ts: list[str]) -> bool:
            return any(table[(item, t)] for t in ts)
    else:
        is_unsafe = oracle.is_unsafe
    ids = [it.item_id for it in oracle.catalog.items]
    out = {"recall": [], "ndcg": [], "svr": [], "svr_slots": [], "sdcg": []}
    for r, g, ts in zip(rows.tolist(), gt, traits, strict=True):
        gset, used = {ids[x] for x in g}, set()
        dcg = sdcg = 0.0
        hits = viol = produced = 0
        for pos, row in enumerate(r[:k], 1):
            item = ids[row]
            produced += 1
            if item in gset and item not in used:
                used.add(item)
                hits += 1
                dcg += 1 / math.log2(pos + 1)
            if is_unsafe(item, ts):
                viol += 1
                sdcg += 1 / math.log2(pos + 1)
        idcg = sum(1 / math.log2(p + 1) for p in range(1, min(len(gset), k) + 1))
        out["recall"].append(hits / len(gset))
        out["ndcg"].append(dcg / idcg)
        out["svr"].append(viol / produced)
        out["svr_slots"].append(viol / k)
        out["sdcg"].append(sdcg)
    return {m: np.array(v) for m, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lists", type=int, default=100_000)
    ap.add_argument("--width", type=int, default=20)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3, help="vectorised timing: best of N")
    args = ap.parse_args()

    _, _, oracle = builtin_oracle()
    rows, gt, traits = make_inputs(oracle, args.lists, args.width, seed=0)

    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        mask = oracle.trait_mask(traits)
        m = evaluate_lists(rows, gt, mask, oracle, k=args.k)
        best = min(best, time.perf_counter() - t0)

    loops = {}
    for mode in ("risk", "api", "dict"):
        t0 = time.perf_counter()
        ref = loop_metrics(rows, gt, traits, oracle, args.k, mode)
        loops[mode] = time.perf_counter() - t0
        for name, arr in ref.items():
            np.testing.assert_allclose(getattr(m, name), arr, rtol=1e-9, atol=1e-12, err_msg=name)

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}, "
        f"numpy {np.__version__}"
    )
    print(f"{args.lists:,} lists x top-{args.width}, metrics @{args.k}, {len(oracle.taxonomy)} traits")
    print("| implementation | seconds | lists/s |")
    print("|---|---|---|")
    print(f"| persafe (vectorised, best of {args.repeat}) | {best:.3f} | {args.lists / best:,.0f} |")
    labels = {
        "risk": "Python loop, risk computed per item (no matrix)",
        "api": "Python loop, materialised oracle per item (`is_unsafe`)",
        "dict": "Python loop, oracle copied to a dict first",
    }
    for mode, sec in loops.items():
        print(f"| {labels[mode]} | {sec:.3f} | {args.lists / sec:,.0f} |")
    print("speed-up: " + "; ".join(f"{loops[m] / best:.1f}x vs {m} loop" for m in loops) + " (all results identical)")


if __name__ == "__main__":
    main()
