"""Free vs catalog-constrained decoding of SmolLM2-135M lists, side by side on the same test samples.

Runs, on the first ``--n`` test samples of the built-in SafeRec-ML100k (chat prompt, 10 titles, greedy,
no response cache so that every answer is generated and timed):

- ``free``: the model writes what it likes; titles are matched to the catalog afterwards;
- ``free + guard``: the same answers filtered afterwards by the default guard (``lexicon+learned``);
- ``constrained``: only catalog lines, 10 of them, none repeated, none the user named;
- ``constrained + guard decode``: also none unsafe for the traits the default inference reads;
- ``constrained + guard decode-oracle``: none unsafe for the sample's true traits (SVR 0 by construction);
- item-kNN on the same samples for reference.

Reported: validity (matched titles / titles), Recall@10, NDCG@10, SVR@10 overall / explicit / implicit,
unparseable answers, and generated tokens per second (the answers' tokens, re-tokenized, over the run's
wall time). Then the trie: build time and Python heap for the 1,682 MovieLens titles and for a synthetic
catalog of 50,000 titles (MovieLens titles and made-up ones from their words).

Run::

    .venv/bin/python benchmarks/bench_decoding.py --n 100
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
from pathlib import Path


def _runs(data: str, n: int) -> list[tuple[str, dict]]:
    llm = {"model": "smollm2", "prompt_style": "chat", "n_titles": 10, "max_new_tokens": 160, "cache": False}
    return [
        ("free", {**llm, "repetition_penalty": 1.3}),
        ("free + guard lexicon+learned", {**llm, "repetition_penalty": 1.3, "guard": "lexicon+learned"}),
        ("constrained", {**llm, "decoding": "constrained"}),
        ("constrained + guard decode", {**llm, "guard": "decode"}),
        ("constrained + guard decode-oracle", {**llm, "guard": "decode-oracle"}),
        ("item-kNN", {"recommender": "itemknn"}),
    ]


def _fmt(cell: dict | None, pct: bool = False) -> str:
    if not cell or cell.get("mean") is None:
        return "–"
    return f"{cell['mean']:.2%}" if pct else f"{cell['mean']:.4f}"


def decoding_table(data: str, n: int, out: Path) -> str:
    import json

    from transformers import AutoTokenizer

    from persafe.evaluation import EvalConfig, run_evaluation
    from persafe.llm.smollm2 import smollm2_dir

    tok = AutoTokenizer.from_pretrained(str(smollm2_dir()), local_files_only=True)
    lines = [
        "| run | validity | Recall@10 | NDCG@10 | SVR@10 | SVR@10 explicit | SVR@10 implicit | unparseable "
        "| tokens/s | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, kw in _runs(data, n):
        cfg = EvalConfig(data=data, limit=n, ks=[10], **kw)
        t0 = time.perf_counter()
        res = run_evaluation(cfg, out / name.replace(" ", "_"), overwrite=True)
        wall = time.perf_counter() - t0
        by = res["by_k"]["10"]
        o, modes = by["overall"], by["by_mode"]
        tokens = "–"
        if cfg.model:
            raws = [json.loads(x).get("raw") or "" for x in (out / name.replace(" ", "_") / "samples.jsonl").open()]
            tokens = f"{sum(len(tok(r)['input_ids']) for r in raws) / wall:.1f}"
        explicit, implicit = modes.get("explicit", {}).get("svr"), modes.get("implicit", {}).get("svr")
        unparseable = res.get("parse", {}).get("unparseable", 0) if cfg.model else "–"
        lines.append(
            f"| {name} | {_fmt(o['validity'], True)} | {_fmt(o['recall'])} | {_fmt(o['ndcg'])} "
            f"| {_fmt(o['svr'], True)} | {_fmt(explicit, True)} | {_fmt(implicit, True)} "
            f"| {unparseable} | {tokens} | {wall:.0f} |"
        )
        print(f"{name}: done ({wall:.0f} s)", flush=True)
    return "\n".join(lines)


def trie_table() -> str:
    import random

    from transformers import AutoTokenizer

    from persafe.catalog import load_movielens
    from persafe.llm.constrained import CatalogTrie
    from persafe.llm.smollm2 import smollm2_dir

    tok = AutoTokenizer.from_pretrained(str(smollm2_dir()), local_files_only=True)
    titles = [item.display for item in load_movielens().catalog.items]
    rng = random.Random(0)
    words = [w for t in titles for w in t.rsplit(" (", 1)[0].split()]
    synthetic = list(titles)
    while len(synthetic) < 50_000:
        synthetic.append(f"{' '.join(rng.choices(words, k=rng.randint(1, 5)))} ({rng.randint(1920, 2024)})")
    rows = ["| catalog | titles | trie nodes | build s | Python heap MiB |", "|---|---|---|---|---|"]
    for name, lines in (("MovieLens-100k", titles), ("synthetic", synthetic)):
        tracemalloc.start()
        t0 = time.perf_counter()
        trie = CatalogTrie(lines, tok)
        secs = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(f"| {name} | {len(lines):,} | {trie.n_nodes:,} | {secs:.2f} | {peak / 2**20:.0f} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100, help="test samples")
    ap.add_argument("--data", default="runs/demo/saferec-ml100k", help="built SafeRec folder (persafe demo makes it)")
    ap.add_argument("--out", default="runs/bench-decoding")
    args = ap.parse_args()
    print(decoding_table(args.data, args.n, Path(args.out)))
    print()
    print(trie_table())
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
