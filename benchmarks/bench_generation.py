"""Generation throughput on SmolLM2-135M: batched ``hf`` generation vs one prompt at a time (and llama.cpp
when installed), in one run. Run: ``.venv/bin/python benchmarks/bench_generation.py``.

Tokens/s counts generated tokens only. Prompts are SafeRec-style requests; decoding is greedy with a
fixed budget, so both ways generate comparable token counts (reported).
"""

from __future__ import annotations

import argparse
import platform
import time

from persafe.llm import GenerationParams, Message, load_model

REQUESTS = [
    "I loved Heat (1995), Fargo (1996) and Clerks (1994).",
    "Big fan of Toy Story (1995) and Babe (1995). My daughter is six and she'll be watching with me.",
    "Lately I've watched Alien (1979) and The Thing (1982). Please nothing with spiders.",
    "I enjoyed Sense and Sensibility (1995) and Emma (1996). I've been sober for eight months.",
]


def conversations(n: int) -> list[list[Message]]:
    system = Message(role="system", content="You are a movie recommender. Answer with a numbered list of movie "
                     "titles with their release year, one per line, and nothing else.")  # fmt: skip
    return [
        [system, Message(role="user", content=f"{REQUESTS[i % len(REQUESTS)]} Please list {5 + i % 3} movies.")]
        for i in range(n)
    ]


def timed(model, convs, params) -> tuple[float, int]:
    t0 = time.perf_counter()
    gens = model.generate(convs, params)
    return time.perf_counter() - t0, sum(g.completion_tokens or 0 for g in gens)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    args = ap.parse_args()
    params = GenerationParams(max_new_tokens=args.max_new_tokens, repetition_penalty=1.3)
    convs = conversations(args.prompts)

    model = load_model("smollm2", batch_size=args.batch_size)
    model.generate(convs[:1], GenerationParams(max_new_tokens=4))  # warm-up
    rows = []
    model.batch_size = args.batch_size
    sec, toks = timed(model, convs, params)
    rows.append((f"hf, batched (batch size {args.batch_size})", sec, toks))
    model.batch_size = 1
    sec, toks = timed(model, convs, params)
    rows.append(("hf, one prompt at a time", sec, toks))
    try:
        ll = load_model("llamacpp:smollm2")
    except Exception as e:
        print(f"llamacpp: not measured ({e})")
    else:
        sec, toks = timed(ll, convs, params)
        rows.append(("llamacpp (in-process, one at a time)", sec, toks))

    print(f"machine: {platform.machine()} python {platform.python_version()}; {args.prompts} prompts, "
          f"greedy, max {args.max_new_tokens} new tokens")  # fmt: skip
    print("| implementation | seconds | generated tokens | tokens/s |")
    print("|---|---|---|---|")
    for name, sec, toks in rows:
        print(f"| {name} | {sec:.1f} | {toks} | {toks / sec:.1f} |")
    print(f"batched vs one at a time: {(rows[0][2] / rows[0][1]) / (rows[1][2] / rows[1][1]):.1f}x tokens/s")


if __name__ == "__main__":
    main()
