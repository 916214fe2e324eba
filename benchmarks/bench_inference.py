"""Constraint inference side by side: what each inferer reads in held-out SafeRec-ML100k requests.

Every inferer the guard can use (``lexicon`` with and without its polarity cues, ``learned``,
``lexicon+learned``, ``embedding``, ``lexicon+embedding`` and, with ``--llm N``, ``llm`` on the first N
requests) reads the requests of the validation and test splits of the built-in SafeRec-ML100k (built
in memory, deterministic; or ``--data DIR``). Their phrasings never occur in the training split, and
about 38% of the control requests are distractors that mention some trait's content with liking.

Per inferer and split: precision and recall of explicit and implicit statements, false alarms on
control requests (plain and distractor), whether the targets are met (explicit recall ≥ 0.98 and
implicit recall ≥ 0.80, each at precision ≥ 0.85; false alarms on ≤ 2% of controls), the CPU time per
1,000 requests (process time of ``infer``, fitting excluded) and the fitting time (``cached`` when the
fitted model came from the user cache). The default inferer is chosen on the validation split.

Run::

    .venv/bin/python benchmarks/bench_inference.py            # ~6 min the first time (training), then ~1 min
    .venv/bin/python benchmarks/bench_inference.py --llm 200  # adds the SmolLM2 inferer on 200 requests
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

from persafe.recsys.inference import INFERENCE_TARGETS, LexiconInference, inference_breakdown, request_texts

NAMES = ("lexicon", "learned", "lexicon+learned", "embedding", "lexicon+embedding")


def _make(name: str, data: str | None, cache: bool) -> tuple[Any, str]:
    from persafe.recsys.fitted import fitted_inference

    if name == "lexicon (no polarity)":
        return LexiconInference(polarity=False), "–"
    t0 = time.perf_counter()
    inf = fitted_inference(name, data, cache=cache, fit_cache=cache)
    parts = getattr(inf, "parts", [inf])
    report = next((p.report for p in parts if getattr(p, "report", None)), None)
    if report and report.get("cached"):
        return inf, f"cached ({report['seconds']:.0f} s)"
    return inf, f"{time.perf_counter() - t0:.0f} s"


def _row(name: str, fit: str, split: str, samples: list[Any], inf: Any) -> dict[str, Any]:
    import persafe.recsys.learned as learned

    texts = request_texts(samples)
    learned._MEMO.clear()  # time a cold read: no sentence probabilities kept from another inferer or split
    c0 = time.process_time()
    predicted = inf.infer(texts)
    cpu = time.process_time() - c0
    b = inference_breakdown(predicted, samples)
    return {
        "inferer": name,
        "split": split,
        "n": len(samples),
        "fit": fit,
        "cpu_s_per_1000": 1000 * cpu / len(texts),
        **b,
    }


def _fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| inferer | explicit P / R | implicit P / R | false alarms: plain | distractor | all | targets met "
        "| CPU s / 1,000 | fit |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        c = r["controls"]
        met = [k for k, v in r["targets"].items() if v]
        lines.append(
            f"| {r['inferer']} | {_fmt(r['explicit']['precision'])} / {_fmt(r['explicit']['recall'])} "
            f"| {_fmt(r['implicit']['precision'])} / {_fmt(r['implicit']['recall'])} "
            f"| {c['plain']['false_alarms']}/{c['plain']['n']} "
            f"| {c['distractor']['false_alarms']}/{c['distractor']['n']} "
            f"| {c['all']['rate']:.1%} | {', '.join(met) or 'none'} | {r['cpu_s_per_1000']:.2f} | {r['fit']} |"
        )
    return head + "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="built SafeRec folder (default: the built-in SafeRec-ML100k, built in memory)")
    ap.add_argument("--llm", type=int, default=0, help="also the SmolLM2 inferer, on the first N requests")
    ap.add_argument("--no-cache", action="store_true", help="retrain instead of loading the fitted model")
    ap.add_argument("--out", help="also write the rows as JSON here")
    args = ap.parse_args()

    from persafe.saferec import load_saferec

    if args.data:
        splits = {s: load_saferec(args.data, s) for s in ("val", "test")}
    else:
        from persafe.catalog import builtin_oracle
        from persafe.saferec import SafeRecConfig, build_saferec

        ml, _, oracle = builtin_oracle()
        built = build_saferec(ml, oracle, SafeRecConfig())
        splits = {s: built.samples[s] for s in ("val", "test")}
    rows = []
    for name in ("lexicon (no polarity)", *NAMES):
        inf, fit = _make(name, args.data, cache=not args.no_cache)
        for split, samples in splits.items():
            rows.append(_row(name, fit, split, samples, inf))
        print(f"{name}: done", flush=True)
    if args.llm:
        from persafe.recsys.registry import make_inference

        inf = make_inference("llm", cache=False)  # every answer generated (timed), none from the response cache
        for split, samples in splits.items():
            rows.append(_row(f"llm (SmolLM2, first {args.llm})", "–", split, samples[: args.llm], inf))
    for split in splits:
        print(f"\n### {split} split ({len(splits[split])} requests)\n")
        print(table([r for r in rows if r["split"] == split]))
    print(
        f"\ntargets: {INFERENCE_TARGETS}; machine: {platform.processor() or platform.machine()}, "
        f"{__import__('os').cpu_count()} CPUs"
    )
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
