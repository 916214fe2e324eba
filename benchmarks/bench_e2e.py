"""From raw model text to metrics: persafe's end-to-end path vs the SafeCRS reference procedure.

Both sides score the same seeded LLM-style completions at K = 10, in one run:

- **reference**: SafeCRS ``process_rec_raw`` (libs/utils.py: regex parsing of ``Title (Year)``
  lines) then ``evaluate_direct_match`` (libs/metrics.py: exact title string, year within 2, seen
  titles removed by their text), loaded at run time from ``--reference DIR`` (a folder holding that
  repository's ``utils.py`` and ``metrics.py``; they need ``editdistance``, looked for on
  ``--reference-deps DIR`` too, and torch, transformers and peft). Nothing of it is part of
  persafe. Without ``--reference`` only persafe's side runs, and no ratio is given.
- **persafe**: ``read_lists`` (parse, drop the titles the user named, match to the catalog), the
  catalog rows of the ground truth and named items, the trait mask and ``evaluate_lists`` (an
  oracle with the built-in traits and no content warnings), timed cold: a fresh title index and
  empty memos. The table also shows a warm run (the same answers again, memos kept).

Each completion has 20 title lines in one of 13 styles (numbers, bullets, bold, quotes, bare, a
note after the year), 40% inside ``<think>``/``<solution>`` blocks and 30% between a chatty
preamble and closing line; 1-5 ground-truth titles (each placed among the first 15 lines with
probability 1/2, one in ten of those misspelt or written differently), 0-3 titles the user named
and 0-2 traits. Per line: 10% hallucinated titles, 5% a year off by one, 4% a sequel that mostly
does not exist ("Heat 2", a later year), 4% a title of the same list again, 3% a title the user
named (when there is one), 1% written differently but normalised-equal ("heat", "Usual Suspects,
The"), 0.5% a typo, the rest catalog titles as written in the catalog. Two input sets:

- ``realistic``: catalog titles drawn by popularity (Zipf, weight 1/(rank + 20) over a shuffled
  catalog: popular titles recur across lists, as in real model output), hallucinations from a pool
  of 2,000 plausible fake titles (they recur too).
- ``no-repeat``: catalog titles drawn in a shuffled round-robin (each about equally often: about 27
  uses per title for 200,000 lines on 7.4k titles, the fewest repeats the catalog allows), no title
  twice in a list (the 4% repeats are fresh titles), every hallucinated title new.

Agreement: on every list whose lines write catalog titles exactly as the catalog does ("exact"
lists), Recall@10 of the two sides must agree; lists with a misspelt or normalised-only variant
may score more with persafe and are counted apart.

The fuzzy fallback is measured on its own: ``TitleIndex.match`` of titles that miss every exact key
on a synthetic catalog of 100,000 titles (typo'd catalog titles, which fuzzy matching finds, and
hallucinations, which it rejects), with the index build times; the exhaustive rapidfuzz scan over
every key (the search before the trigram index) runs on the same queries and must give the same
rows.

The catalog is the SafeCRS ground-truth catalog when ``--catalog-pickle`` names its pickle (a list
of ``(title, year)``, read here only, never stored), else a synthetic one of the same size:
MovieLens-100k titles plus titles made of their words.

Run (see BENCHMARKS.md for getting the reference files)::

    .venv/bin/python benchmarks/bench_e2e.py --reference /tmp/safecrs_ref --reference-deps /tmp/refdeps \\
        --catalog-pickle /tmp/gt_catalog_complete.pkl
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import pickle
import platform
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from persafe.catalog import Catalog, SafetyOracle, TitleIndex, WarningsTable, builtin_traits, load_movielens
from persafe.catalog import titles as titles_module
from persafe.catalog.titles import display_title, normalize_title, strict_key, title_numbers
from persafe.metrics.lists import evaluate_lists
from persafe.recsys import parser as parser_module
from persafe.recsys.llm import read_lists
from persafe.saferec import ChatMessage, SafeRecSample

REAL_CATALOG_SIZE = 7_403
"""Titles in the SafeCRS ground-truth catalog (the synthetic catalog has as many)."""

STYLES = (
    "{n}. {t} ({y})",
    "{n}. {t} ({y})",
    "{n}. {t} ({y})",
    "{n}) {t} ({y})",
    "{n}. **{t}** ({y})",
    "{n}. **{t} ({y})**",
    '{n}. "{t}" ({y})',
    "- {t} ({y})",
    "* **{t}** ({y})",
    "{t} ({y})",
    "{t} ({y})",
    "{n}. {t} ({y}) - {note}",
    "{n}. **{t}** ({y}): {note}",
)
NOTES = (
    "a tense, {a} thriller about {b}",
    "a warm comedy about {b}",
    "{a} and moving, with {b}",
    "a cult classic: {a} {b}",
    "smart, {a} and funny",
    "one of the best films about {b}",
)
"""Notes after a title: templates filled with words of the catalog, so that notes rarely repeat."""
PREAMBLES = (
    "Sure! Here are 20 movies you might enjoy:",
    "Here are some recommendations based on what you liked:",
    "Based on your request, I recommend these films:",
)
CLOSINGS = ("Enjoy your movie night!", "I hope you find something you like.", "Happy watching!")
THINK = "<think>\nThe user wants films like the ones they named, nothing too dark; pick well-liked titles.\n</think>"


@dataclass
class Case:
    """One completion with its ground truth and seen titles."""

    text: str
    gt: list[tuple[str, int]]
    seen: list[tuple[str, int]]
    """Titles the user named, with their years (the completion's sample names only the titles)."""
    exact: bool = True
    """Every title line writes a catalog title exactly as the catalog does (or is a hallucination)."""
    traits: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------
# catalogs


def _words(titles: Sequence[str]) -> list[str]:
    words = {w for t in titles for w in re.findall(r"[A-Za-z]{3,}", t)}
    return sorted(words)


def _fake_title(rng: random.Random, words: Sequence[str], taken: set[str], numbered: bool = False) -> str:
    """A plausible title whose normalised form is in neither ``taken`` nor (on success) ever again."""
    while True:
        n = rng.choice((1, 2, 2, 2, 3, 3, 3, 4, 5))
        parts = [rng.choice(words).capitalize() for _ in range(n)]
        if rng.random() < 0.25:
            parts.insert(0, "The")
        elif rng.random() < 0.1:
            parts[-1:] = ["of", "the", parts[-1]]
        if numbered and rng.random() < 0.1:
            parts.append(rng.choice(("2", "3", "II", "III", "Part 2")))
        title = " ".join(parts)
        key = strict_key(title)
        if key and key not in taken and normalize_title(title) not in taken:
            taken.add(key)
            taken.add(normalize_title(title))
            return title


def synthetic_catalog_pairs(size: int, seed: int) -> list[tuple[str, int]]:
    """MovieLens-100k titles (in display form) plus made-up titles of their words, ``size`` in all."""
    ml = load_movielens().catalog
    pairs = [(display_title(it.title), it.year or 1995) for it in ml.items]
    rng = random.Random(seed)
    taken = {strict_key(t) for t, _ in pairs} | {normalize_title(t) for t, _ in pairs}
    words = _words([t for t, _ in pairs])
    while len(pairs) < size:
        pairs.append((_fake_title(rng, words, taken), rng.randint(1930, 2023)))
    return pairs[:size]


def load_pairs(path: str | None, seed: int) -> tuple[list[tuple[str, int]], str]:
    if path:
        with open(path, "rb") as f:
            raw = pickle.load(f)  # the user's own file: SafeCRS's gt_catalog_complete.pkl
        pairs = [(str(t), int(y)) for t, y in raw]
        return pairs, f"SafeCRS ground-truth catalog ({Path(path).name}, {len(pairs):,} titles)"
    pairs = synthetic_catalog_pairs(REAL_CATALOG_SIZE, seed)
    return pairs, f"synthetic: MovieLens-100k titles + generated titles ({len(pairs):,} titles)"


# ---------------------------------------------------------------------------------------------------
# completions


def _variant(rng: random.Random, title: str) -> str | None:
    """The title written differently but normalised-equal (``None`` when no variant applies)."""
    options: list[Callable[[str], str]] = [str.lower, str.upper]
    m = re.match(r"(The|A|An) (.+)$", title)
    if m:
        options.append(lambda t: f"{m.group(2)}, {m.group(1)}")
    if "&" in title:
        options.append(lambda t: t.replace("&", "and"))
    if re.search(r"[:,.!?'-]", title):
        options.append(lambda t: re.sub(r"[:,.!?'-]", "", t))
    for _ in range(3):
        out = rng.choice(options)(title)
        if out != title and normalize_title(out) == normalize_title(title):
            return out
    return None


def _typo(rng: random.Random, title: str) -> str | None:
    """The title with one letter changed (long titles only, so that fuzzy matching may find it)."""
    spots = [i for i, c in enumerate(title) if c.isalpha()]
    if len(title) < 14 or not spots:
        return None
    i = rng.choice(spots)
    c = "e" if title[i].lower() != "e" else "a"
    return title[:i] + c + title[i + 1 :]


class Generator:
    """Seeded LLM-style completions against a catalog."""

    def __init__(self, items: Sequence[tuple[str, int]], seed: int, no_repeat: bool) -> None:
        self.items, self.no_repeat = list(items), no_repeat
        self.rng = random.Random(seed)
        n = len(self.items)
        rank = list(range(n))
        self.rng.shuffle(rank)
        weights = np.array([1.0 / (r + 20) for r in rank])  # Zipf-like popularity, a long head
        self.cum = np.cumsum(weights / weights.sum())
        self.taken = {strict_key(t) for t, _ in self.items} | {normalize_title(t) for t, _ in self.items}
        self.words = _words([t for t, _ in self.items])
        self.fake_pool = [_fake_title(self.rng, self.words, self.taken, numbered=True) for _ in range(2_000)]
        fake_w = np.array([1.0 / (r + 5) for r in range(len(self.fake_pool))])
        self.fake_cum = np.cumsum(fake_w / fake_w.sum())
        self.cycle: list[int] = []

    def _popular(self) -> int:
        if self.no_repeat:
            if not self.cycle:
                self.cycle = list(range(len(self.items)))
                self.rng.shuffle(self.cycle)
            return self.cycle.pop()
        return int(np.searchsorted(self.cum, self.rng.random(), side="right").clip(0, len(self.items) - 1))

    def _fake(self) -> str:
        if self.no_repeat:
            return _fake_title(self.rng, self.words, self.taken, numbered=True)
        return self.fake_pool[int(np.searchsorted(self.fake_cum, self.rng.random(), side="right"))]

    def case(self, n_lines: int, trait_ids: Sequence[str]) -> Case:
        rng = self.rng
        gt_rows: list[int] = []
        n_gt = rng.randint(1, 5)
        while len(gt_rows) < n_gt:
            r = self._popular()
            if r not in gt_rows:
                gt_rows.append(r)
        seen_rows: list[int] = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            r = self._popular()
            if r not in gt_rows and r not in seen_rows:
                seen_rows.append(r)
        used: set[int] = set(gt_rows) | set(seen_rows)
        unnamed = list(seen_rows)
        entries: list[tuple[str, int] | None] = [None] * n_lines
        exact = True
        for r in gt_rows:
            if rng.random() < 0.5:
                t, y = self.items[r]
                if rng.random() < 0.1:  # the ground truth written differently (or with a typo)
                    v = _variant(rng, t) if rng.random() < 0.7 else _typo(rng, t)
                    exact = exact and v is None
                    t = v or t
                entries[rng.randrange(min(15, n_lines))] = (t, y)
        for i in range(n_lines):
            if entries[i] is not None:
                continue
            u = rng.random()
            if u < 0.10:
                entries[i] = (self._fake(), rng.randint(1970, 2023))
            elif u < 0.15:  # a year off by one: still within the tolerance of both sides
                t, y = self.items[self._pick(used)]
                entries[i] = (t, y + rng.choice((-1, 1)))
            elif u < 0.19:  # a sequel that (mostly) does not exist
                t, y = self.items[self._pick(used)]
                entries[i] = (f"{t} {rng.choice(('2', 'II', '3', 'Part II'))}", y + rng.randint(2, 5))
            elif u < 0.23:  # a title of this list again (a new one in the no-repeat set)
                earlier = [e for e in entries[:i] if e is not None]
                entries[i] = rng.choice(earlier) if earlier and not self.no_repeat else self.items[self._pick(used)]
            elif u < 0.26:  # a title the user named (each once per list in the no-repeat set)
                r = rng.choice(unnamed) if unnamed else self._pick(used)
                if self.no_repeat and unnamed:
                    unnamed.remove(r)
                entries[i] = self.items[r]
            elif u < 0.27:  # written differently, normalised-equal
                t, y = self.items[self._pick(used)]
                v = _variant(rng, t)
                exact = exact and v is None
                entries[i] = (v or t, y)
            elif u < 0.275:  # a typo
                t, y = self.items[self._pick(used)]
                v = _typo(rng, t)
                exact = exact and v is None
                entries[i] = (v or t, y)
            else:
                entries[i] = self.items[self._pick(used)]
        style = rng.choice(STYLES)
        lines = [style.format(n=i + 1, t=t, y=y, note=self._note()) for i, (t, y) in enumerate(e for e in entries if e)]
        body = "\n".join(lines)
        shape = rng.random()
        if shape < 0.4:
            text = f"{THINK}\n<solution>\n{body}\n</solution>"
        elif shape < 0.7:
            text = f"{rng.choice(PREAMBLES)}\n\n{body}\n\n{rng.choice(CLOSINGS)}"
        else:
            text = body
        traits = rng.sample(list(trait_ids), rng.choice((0, 1, 1, 2)))
        return Case(
            text=text,
            gt=[self.items[r] for r in gt_rows],
            seen=[self.items[r] for r in seen_rows],
            exact=exact,
            traits=traits,
        )

    def _note(self) -> str:
        words = self.words
        a, b = self.rng.choice(words).lower(), self.rng.choice(words).lower()
        return self.rng.choice(NOTES).format(a=a, b=b)

    def _pick(self, used: set[int]) -> int:
        """A catalog row; in the no-repeat set, one not yet in this list."""
        for _ in range(50):
            r = self._popular()
            if not self.no_repeat or r not in used:
                used.add(r)
                return r
        return r


def make_cases(items: Sequence[tuple[str, int]], n: int, n_lines: int, seed: int, no_repeat: bool) -> list[Case]:
    gen = Generator(items, seed, no_repeat)
    trait_ids = builtin_traits().ids
    return [gen.case(n_lines, trait_ids) for _ in range(n)]


# ---------------------------------------------------------------------------------------------------
# the two sides


def load_reference(folder: str, deps: str | None) -> tuple[ModuleType, ModuleType]:
    """The reference's ``utils.py`` and ``metrics.py``, loaded from ``folder`` under names of their own."""
    if deps and deps not in sys.path:
        sys.path.insert(0, deps)
    try:
        importlib.import_module("editdistance")
    except ImportError:
        sys.exit("the reference needs the editdistance package: install it or pass --reference-deps DIR")
    modules = []
    for name in ("utils", "metrics"):
        path = Path(folder) / f"{name}.py"
        if not path.exists():
            sys.exit(f"--reference {folder}: no {name}.py there (SafeCRS libs/{name}.py is expected)")
        spec = importlib.util.spec_from_file_location(f"safecrs_reference_{name}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        modules.append(module)
    return modules[0], modules[1]


def run_reference(
    cases: Sequence[Case], k: int, utils: ModuleType, metrics: ModuleType, gt_catalog: Any
) -> tuple[float, np.ndarray]:
    items = [
        {
            "raw_rec": c.text,
            "seen_titles": [t for t, _ in c.seen],
            "groundtruth_with_release_year": [[t, str(y)] for t, y in c.gt],
        }
        for c in cases
    ]
    gc.collect()
    t0 = time.perf_counter()
    recalls = []
    for item in items:
        _, item = utils.process_rec_raw(item, "raw_rec", "rec")
        r, _ = metrics.evaluate_direct_match(item, k, "seen_titles", "rec", "groundtruth_with_release_year", gt_catalog)
        recalls.append(r)
    seconds = time.perf_counter() - t0
    return seconds, np.asarray(recalls, dtype=float)


def persafe_samples(cases: Sequence[Case], catalog: Catalog) -> list[SafeRecSample]:
    row_of = {(strict_key(it.title), it.year): i for i, it in enumerate(catalog.items)}

    def ids(pairs: Sequence[tuple[str, int | None]]) -> list[str]:
        return [catalog.items[row_of[(strict_key(t), y)]].item_id for t, y in pairs]

    prompt = [ChatMessage(role="user", content="Recommend 20 movies.")]
    return [
        SafeRecSample(
            sample_id=f"s{i}",
            prompt=prompt,
            seen_titles=[t for t, _ in c.seen],
            seen_item_ids=ids(c.seen),
            groundtruth_with_release_year=[[t, str(y)] for t, y in c.gt],
            groundtruth_item_ids=ids(c.gt),
            traits=c.traits,
        )
        for i, c in enumerate(cases)
    ]


def clear_caches(catalog: Catalog) -> None:
    """A cold start: the catalog's title index rebuilt on next use, the parser's memos emptied."""
    catalog.__dict__.pop("title_index", None)
    for module in (parser_module, titles_module):
        clear = getattr(module, "clear_caches", None)  # absent before memoisation
        if clear is not None:
            clear()


def run_persafe(
    texts: Sequence[str],
    samples: Sequence[SafeRecSample],
    catalog: Catalog,
    oracle: SafetyOracle,
    k: int,
    cold: bool = True,
) -> tuple[float, np.ndarray]:
    if cold:
        clear_caches(catalog)
    gc.collect()
    t0 = time.perf_counter()
    rows, _ = read_lists(texts, samples, catalog, k)
    gt = [catalog.rows(s.groundtruth_item_ids) for s in samples]
    seen = [catalog.rows(s.seen_item_ids) for s in samples]
    mask = oracle.trait_mask([s.traits for s in samples])
    m = evaluate_lists(rows, gt, mask, oracle, k=k, seen=seen)
    seconds = time.perf_counter() - t0
    return seconds, m.recall


# ---------------------------------------------------------------------------------------------------
# fuzzy fallback


def fuzzy_queries(titles: Sequence[str], n: int, seed: int) -> tuple[list[str], list[str]]:
    """Typo'd catalog titles (one letter changed) and hallucinated titles, none an exact key."""
    rng = random.Random(seed)
    keys = {normalize_title(t) for t in titles} | {strict_key(t) for t in titles}
    typos: list[str] = []
    long_titles = [t for t in titles if len(t) >= 14]
    while len(typos) < n:
        q = _typo(rng, rng.choice(long_titles))
        if q and normalize_title(q) not in keys and strict_key(q) not in keys:
            typos.append(q)
    words = _words(titles[:5_000])
    taken = set(keys)
    fakes = [_fake_title(rng, words, taken) for _ in range(n)]
    return typos, fakes


def exhaustive_match(index: TitleIndex, title: str, year: int | None) -> int:
    """The fuzzy search as it was before the trigram index (rapidfuzz scores every key, the best 5
    are examined), replayed on the index's own keys."""
    key = normalize_title(title)
    numbers = title_numbers(key)
    keys = list(index._rows)
    for cand, _score, _ in process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=index.fuzzy_threshold, limit=5):
        if cand == key or title_numbers(cand) != numbers:
            continue
        row = index._pick(index._rows[cand], year)
        if row >= 0:
            return row
    return -1


def bench_fuzzy(n_titles: int, n_queries: int, seed: int, words_from: Sequence[str]) -> list[str]:
    """Markdown lines: build times, then ms per lookup of both searches on the same queries."""
    rng = random.Random(seed)
    taken: set[str] = set()
    words = _words(words_from)
    titles = [_fake_title(rng, words, taken, numbered=True) for _ in range(n_titles)]
    years = [rng.randint(1920, 2023) for _ in titles]
    typos, fakes = fuzzy_queries(titles, n_queries, seed + 1)
    clear = getattr(titles_module, "clear_caches", None)
    if clear is not None:
        clear()  # the queries above normalised every title: forget them
    gc.collect()
    t0 = time.perf_counter()
    index = TitleIndex(titles, years)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.match("qqqq zzzz xxxx")  # the first fuzzy lookup builds the trigram index
    first = time.perf_counter() - t0
    out = [
        f"Index build: {build:.2f} s (exact keys); the first fuzzy lookup, which builds the trigram index: "
        f"{first:.2f} s.",
        "",
        "| lookups (none an exact key) | TitleIndex.match, ms per lookup | exhaustive scan, ms per lookup | "
        "speed-up | matched | same rows |",
        "|---|---|---|---|---|---|",
    ]
    for name, queries in (("typo'd catalog title", typos), ("hallucinated title", fakes)):
        t0 = time.perf_counter()
        got = [index.match(q).index for q in queries]
        fast = time.perf_counter() - t0
        t0 = time.perf_counter()
        want = [exhaustive_match(index, q, None) for q in queries]
        slow = time.perf_counter() - t0
        same = sum(a == b for a, b in zip(got, want, strict=True))
        found = sum(a >= 0 for a in got)
        n = len(queries)
        out.append(
            f"| {name} ({n}) | {fast / n * 1e3:.3f} | {slow / n * 1e3:.3f} | {slow / fast:.1f}× | {found}/{n} | "
            f"{same}/{n} |"
        )
    return out


# ---------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="completions per input set")
    ap.add_argument("--lines", type=int, default=20, help="titles per completion")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per side (best is reported)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--catalog-pickle", help="SafeCRS gt_catalog_complete.pkl (else: a synthetic catalog)")
    ap.add_argument("--reference", help="folder with the SafeCRS reference's metrics.py and utils.py")
    ap.add_argument("--reference-deps", help="folder to put on sys.path for the reference's editdistance")
    ap.add_argument("--fuzzy-titles", type=int, default=100_000, help="titles of the fuzzy-fallback catalog")
    ap.add_argument("--fuzzy-queries", type=int, default=300, help="lookups per kind in the fuzzy benchmark")
    ap.add_argument("--skip-fuzzy", action="store_true")
    args = ap.parse_args()

    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}")
    pairs, source = load_pairs(args.catalog_pickle, args.seed)
    print(f"catalog: {source}")
    catalog = Catalog.from_titles(pairs)
    oracle = SafetyOracle(catalog, builtin_traits(), WarningsTable())
    items = [(it.title, it.year) for it in catalog.items if it.year is not None]
    ref = load_reference(args.reference, args.reference_deps) if args.reference else None
    if ref is None:
        print("no --reference: persafe's side only (the ratio needs the SafeCRS reference)")

    rows_out = []
    for name, no_repeat in (("realistic", False), ("no-repeat", True)):
        cases = make_cases(items, args.n, args.lines, args.seed, no_repeat)
        texts = [c.text for c in cases]
        samples = persafe_samples(cases, catalog)
        n_lines = sum(len(t.splitlines()) for t in texts)
        distinct = len({ln.strip() for t in texts for ln in t.splitlines()})
        print(f"\n## {name}: {len(cases):,} completions, {n_lines:,} lines, {distinct:,} distinct lines")
        best_p, recall_p = min((run_persafe(texts, samples, catalog, oracle, args.k) for _ in range(args.repeat)),
                               key=lambda x: x[0])  # fmt: skip
        warm = run_persafe(texts, samples, catalog, oracle, args.k, cold=False)[0]  # the same answers again
        row = {"set": name, "persafe_s": best_p, "persafe_lps": len(cases) / best_p, "warm_lps": len(cases) / warm}
        if ref is not None:
            best_r, recall_r = min((run_reference(cases, args.k, *ref, pairs) for _ in range(args.repeat)),
                                   key=lambda x: x[0])  # fmt: skip
            row |= {"ref_s": best_r, "ref_lps": len(cases) / best_r}
            exact = np.array([c.exact for c in cases])
            same = np.isclose(recall_p, recall_r, atol=1e-12, rtol=0)
            more = recall_p > recall_r + 1e-12
            row["agree"] = f"{int((same & exact).sum()):,}/{int(exact.sum()):,}"
            row["other"] = (
                f"{int((~exact).sum()):,} lists: {int((same & ~exact).sum())} equal, "
                f"{int((more & ~exact).sum())} more with persafe, {int((~same & ~more & ~exact).sum())} fewer"
            )
            for i in np.flatnonzero(exact & ~same)[:5]:
                print(f"  disagreement (exact list {i}): persafe {recall_p[i]:.3f} reference {recall_r[i]:.3f}")
        rows_out.append(row)

    print(f"\n### Lists/s at K = {args.k}, best of {args.repeat} runs per side\n")
    print("persafe is timed cold (a fresh title index, empty memos); 'warm' scores the same answers again.\n")
    if ref is not None:
        print("| input set | reference s | reference lists/s | persafe s | persafe lists/s | ratio | persafe warm "
              "lists/s | Recall@10 agreement (exact lists) | other lists |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows_out:
            print(f"| {r['set']} | {r['ref_s']:.2f} | {r['ref_lps']:,.0f} | {r['persafe_s']:.2f} | "
                  f"{r['persafe_lps']:,.0f} | **{r['persafe_lps'] / r['ref_lps']:.1f}×** | {r['warm_lps']:,.0f} | "
                  f"{r['agree']} | {r['other']} |")  # fmt: skip
    else:
        print("| input set | persafe s | persafe lists/s | persafe warm lists/s |")
        print("|---|---|---|---|")
        for r in rows_out:
            print(f"| {r['set']} | {r['persafe_s']:.2f} | {r['persafe_lps']:,.0f} | {r['warm_lps']:,.0f} |")

    if not args.skip_fuzzy:
        print(f"\n### Fuzzy fallback: {args.fuzzy_titles:,}-title synthetic catalog\n")
        print("\n".join(bench_fuzzy(args.fuzzy_titles, args.fuzzy_queries, args.seed, [t for t, _ in pairs])))


if __name__ == "__main__":
    main()
