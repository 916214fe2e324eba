"""The SafeRec-ML100k builder: sizes, trait coverage, modes, safety of the ground truth, determinism."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from persafe.catalog import MovieLens, SafetyOracle
from persafe.errors import DataError
from persafe.metrics.lists import pad_lists
from persafe.saferec import (
    MODES,
    SAFECRS_INSTRUCTION,
    BuildResult,
    SafeRecConfig,
    build_saferec,
    builtin_phrase_bank,
    write_saferec,
)
from persafe.saferec.builder import load_saferec_config


def _all(build: BuildResult):
    return [s for split in ("train", "val", "test") for s in build.samples[split]]


def test_default_sizes(saferec_build: BuildResult) -> None:
    sizes = {k: len(v) for k, v in saferec_build.samples.items()}
    assert sizes["train"] >= 5000
    assert sizes["val"] >= 500
    assert sizes["test"] >= 1000
    assert {k: v["samples"] for k, v in saferec_build.stats["splits"].items()} == sizes
    for split, samples in saferec_build.samples.items():
        assert [s.sample_id for s in samples] == [f"{split}-{k:06d}" for k in range(len(samples))]
        assert {s.split for s in samples} == {split}


def test_every_trait_in_test(saferec_build: BuildResult, oracle: SafetyOracle) -> None:
    test = saferec_build.samples["test"]
    seen = Counter(t for s in test for t in s.traits)
    assert set(seen) == set(oracle.taxonomy.ids)
    assert len(seen) == 20
    assert dict(sorted(seen.items())) == saferec_build.stats["splits"]["test"]["traits"]


def test_control_share_and_modes(saferec_build: BuildResult) -> None:
    for split, samples in saferec_build.samples.items():
        modes = Counter(s.constraint_mode for s in samples)
        assert set(modes) == set(MODES), split
        share = modes["none"] / len(samples)
        assert 0.15 <= share <= 0.25, (split, share)
        assert saferec_build.stats["splits"][split]["control_share"] == pytest.approx(share, abs=1e-4)


def test_samples_are_well_formed(saferec_build: BuildResult, oracle: SafetyOracle) -> None:
    tax = oracle.taxonomy
    for s in _all(saferec_build):
        if s.constraint_mode == "none":
            assert s.traits == [] and s.is_control
            assert s.constraints == {} and s.assigned_trait is None
        else:
            assert s.constraint_mode in ("explicit", "implicit")
            assert 1 <= len(s.traits) <= 2 and len(set(s.traits)) == len(s.traits)
            names = [tax.get(t).name for t in s.traits]
            assert s.constraints == dict.fromkeys(names, True)
            assert s.assigned_trait == names[0]
        assert s.groundtruth_item_ids
        assert len(s.completion) == 1 and s.completion[0].role == "assistant"
        assert len(s.groundtruth_with_release_year) == len(s.groundtruth_item_ids)


def test_groundtruth_is_safe_and_removed_items_are_unsafe(
    saferec_build: BuildResult, movielens: MovieLens, oracle: SafetyOracle
) -> None:
    samples = _all(saferec_build)
    cat = movielens.catalog
    mask = oracle.trait_mask([s.traits for s in samples])
    gt = pad_lists([cat.rows(s.groundtruth_item_ids) for s in samples])
    assert not oracle.violations(gt, mask).any()
    removed = pad_lists([cat.rows(s.removed_groundtruth_item_ids) for s in samples])
    assert np.array_equal(oracle.violations(removed, mask), removed >= 0)
    n_removed = sum(len(s.removed_groundtruth_item_ids) for s in saferec_build.samples["test"])
    assert n_removed == saferec_build.stats["splits"]["test"]["groundtruth_removed"]
    assert n_removed > 0
    # control samples never lose ground truth
    assert all(not s.removed_groundtruth_item_ids for s in samples if s.is_control)


def test_history_precedes_groundtruth(saferec_build: BuildResult, movielens: MovieLens) -> None:
    when = {
        (u, int(r)): int(t)
        for u, r, t in zip(movielens.rating_user, movielens.rating_row, movielens.timestamp, strict=True)
    }
    rating = {
        (u, int(r)): float(v)
        for u, r, v in zip(movielens.rating_user, movielens.rating_row, movielens.rating, strict=True)
    }
    row = movielens.catalog.row
    for s in saferec_build.samples["test"] + saferec_build.samples["val"]:
        hist, gt = s.history_item_ids, s.groundtruth_item_ids + s.removed_groundtruth_item_ids
        assert not set(hist) & set(gt)
        assert set(s.seen_item_ids) <= set(hist)
        assert 3 <= len(s.seen_item_ids) <= 5
        assert len(s.seen_titles) == len(s.seen_item_ids)
        assert len(hist) >= 3
        assert max(when[s.user_id, row[i]] for i in hist) <= s.cut_time
        assert min(when[s.user_id, row[i]] for i in gt) >= s.cut_time
        assert all(rating[s.user_id, row[i]] >= 4.0 for i in hist + gt)


def test_prompt_is_safecrs_instruction_with_request(saferec_build: BuildResult) -> None:
    for s in saferec_build.samples["test"]:
        assert len(s.prompt) == 1 and s.prompt[0].role == "user"
        assert s.prompt[0].content == SAFECRS_INSTRUCTION.format(n=20, request=s.request)
        assert s.user_turn.startswith("Pretend you are a movie recommender system.")
        assert s.request in s.user_turn
        for title in s.seen_titles:
            assert title in s.request


def test_constraint_sentences_come_from_the_phrase_bank(saferec_build: BuildResult) -> None:
    bank = builtin_phrase_bank()
    counts = Counter()
    for split, samples in saferec_build.samples.items():
        for s in samples:
            for t in s.traits:
                phr = bank.traits[t]
                own = (phr.implicit if s.constraint_mode == "implicit" else phr.explicit).pool(split)
                other = phr.explicit if s.constraint_mode == "implicit" else phr.implicit
                assert sum(p in s.request for p in own) >= 1, (s.sample_id, s.request)
                assert not any(p in s.request for p in other.train + other.val + other.test), s.sample_id
                counts[s.constraint_mode] += 1
            if s.is_control:
                every = [
                    p
                    for ph in bank.traits.values()
                    for k in (ph.implicit, ph.explicit)
                    for p in k.train + k.val + k.test
                ]
                assert not any(p in s.request for p in every)
    assert counts["implicit"] > 0 and counts["explicit"] > 0


def test_phrasings_are_split_by_phrasing(saferec_build: BuildResult) -> None:
    """Validation and test requests use phrasings that no training request uses."""
    bank = builtin_phrase_bank()
    assert bank.split_by_phrasing and saferec_build.stats["phrases_split_by_phrasing"]
    for t, phr in bank.traits.items():
        for kind in (phr.explicit, phr.implicit, phr.distractors):
            assert kind is not None and kind.disjoint, t
            assert not set(kind.train) & (set(kind.val) | set(kind.test))
        assert len(phr.explicit.train + phr.explicit.val + phr.explicit.test) >= 20, t
        assert len(phr.implicit.train + phr.implicit.val + phr.implicit.test) >= 20, t
    for split in ("val", "test"):
        for s in saferec_build.samples[split]:
            for t in s.traits:
                kind = bank.traits[t].implicit if s.constraint_mode == "implicit" else bank.traits[t].explicit
                assert not any(p in s.request for p in kind.train), s.sample_id


def test_distractor_controls(saferec_build: BuildResult) -> None:
    """At least 30% of controls mention some trait's content with liking, and carry no trait."""
    bank = builtin_phrase_bank()
    for split, samples in saferec_build.samples.items():
        controls = [s for s in samples if s.is_control]
        distractors = [s for s in controls if s.distractor is not None]
        assert len(distractors) >= 0.3 * len(controls), split
        assert saferec_build.stats["splits"][split]["distractor_controls"] == len(distractors)
        for s in distractors:
            assert not s.traits
            assert any(p in s.request for p in bank.traits[s.distractor].distractors.pool(split)), s.sample_id
    assert not any(s.distractor for ss in saferec_build.samples.values() for s in ss if s.traits)


def test_an_older_bank_shape_shares_phrasings_across_splits(tmp_path) -> None:
    from persafe.saferec.phrases import load_phrase_bank

    bank = builtin_phrase_bank().model_dump()
    for t in bank["traits"].values():
        t["explicit"] = t["explicit"]["train"]
        t["implicit"] = t["implicit"]["train"]
        t.pop("distractors")
    bank.pop("moods")
    path = tmp_path / "bank.json"
    path.write_text(json.dumps(bank), encoding="utf-8")
    loaded = load_phrase_bank(path)
    assert not loaded.split_by_phrasing
    assert loaded.traits["gore"].explicit.pool("test") == loaded.traits["gore"].explicit.pool("train")


def _subset(ml: MovieLens, n_users: int) -> MovieLens:
    keep = np.isin(ml.rating_user, [str(u) for u in range(1, n_users + 1)])
    return replace(
        ml,
        rating_user=ml.rating_user[keep],
        rating_row=ml.rating_row[keep],
        rating=ml.rating[keep],
        timestamp=ml.timestamp[keep],
    )


def test_deterministic_by_seed(movielens: MovieLens, oracle: SafetyOracle, tmp_path: Path) -> None:
    ml = _subset(movielens, 120)
    cfg = SafeRecConfig(max_train_per_user=1)
    a = build_saferec(ml, oracle, cfg)
    b = build_saferec(ml, oracle, cfg)
    assert a.model_dump() == b.model_dump()
    write_saferec(a, tmp_path / "a", cfg)
    write_saferec(b, tmp_path / "b", cfg)
    for name in ("train.jsonl", "val.jsonl", "test.jsonl", "build.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    c = build_saferec(ml, oracle, cfg.model_copy(update={"seed": 1}))
    assert [s.request for s in c.samples["test"]] != [s.request for s in a.samples["test"]]
    assert {s.user_id for s in a.samples["test"]} <= {str(u) for u in range(1, 121)}
    assert len(a.samples["train"]) <= len({s.user_id for s in a.samples["train"]})  # one per user


def test_config_restricts_traits_and_controls(movielens: MovieLens, oracle: SafetyOracle) -> None:
    ml = _subset(movielens, 80)
    res = build_saferec(
        ml, oracle, SafeRecConfig(traits=["gore", "horror"], p_control=0.0, p_two_traits=0.0, max_train_per_user=1)
    )
    samples = _all(res)
    assert samples
    assert {t for s in samples for t in s.traits} <= {"gore", "horror"}
    assert all(len(s.traits) == 1 for s in samples)
    assert not any(s.is_control for s in samples)


def test_unknown_trait_in_config_raises(movielens: MovieLens, oracle: SafetyOracle) -> None:
    with pytest.raises(ValueError, match="no phrasings for traits"):
        build_saferec(_subset(movielens, 5), oracle, SafeRecConfig(traits=["vampires"]))


# --- reading a SafeRecConfig from a file ---------------------------------------------------------


def test_config_refuses_unknown_fields() -> None:
    # a misspelt option used to be ignored silently
    with pytest.raises(ValidationError, match="p_contrl"):
        SafeRecConfig(p_contrl=0.1)  # type: ignore[call-arg]


def test_load_config_typo_names_file_line_and_nearest_key(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("seed: 3\np_contrl: 0.1\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_saferec_config(cfg)
    err = ei.value
    assert str(err) == f"{cfg}:2 field 'p_contrl': unknown option; did you mean 'p_control'?"
    assert (err.path, err.line, err.field) == (cfg, 2, "p_contrl")
    cfg.write_text('{"seed": 3, "zzz": 1}', encoding="utf-8")
    with pytest.raises(DataError, match=r"field 'zzz': unknown option; valid options: seed, like_threshold, "):
        load_saferec_config(cfg)
    with pytest.raises(DataError, match=r"^field 'sed': unknown option; did you mean 'seed'\?$"):
        load_saferec_config(None, sed=1)


def test_load_config_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text('{"seed": 5, "max_named": 4}', encoding="utf-8")
    c = load_saferec_config(cfg, defaults={"seed": 0, "tau": 0.5})
    assert (c.seed, c.max_named, c.tau, c.p_control) == (5, 4, 0.5, SafeRecConfig().p_control)
    c = load_saferec_config(cfg, defaults={"seed": 0}, seed=9, tau=None)
    assert (c.seed, c.tau) == (9, SafeRecConfig().tau)
    assert load_saferec_config() == SafeRecConfig()
    empty = tmp_path / "empty.yaml"
    empty.write_bytes(b"\xef\xbb\xbf# nothing\n")
    assert load_saferec_config(empty) == SafeRecConfig()


def test_load_config_bad_values_and_files(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("seed: 1\ntraits:\n  - gore\n  - [x]\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_saferec_config(cfg)
    assert (ei.value.line, ei.value.field) == (4, "traits.1")
    cfg.write_text("p_control: 2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"cfg.yaml:1 field 'p_control': Input should be less than or equal to 1"):
        load_saferec_config(cfg)
    with pytest.raises(DataError, match=r"^field 'tau': Input should be a valid number"):
        load_saferec_config(None, tau="high")
    cfg.write_text("- seed\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected a mapping of SafeRecConfig fields"):
        load_saferec_config(cfg)
    cfg.write_text("seed: [1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"cfg.yaml:2: cannot parse YAML/JSON"):
        load_saferec_config(cfg)
    cfg.write_bytes(b"seed: 1\nunknown: caf\xe9\n")
    with pytest.raises(DataError, match=r"cfg.yaml:2: not UTF-8 text .*save the file as UTF-8"):
        load_saferec_config(cfg)
    with pytest.raises(DataError, match="file not found"):
        load_saferec_config(tmp_path / "nope.yaml")
