"""evaluate_recommender: records, aggregation with CIs, resuming without duplicates, guards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from persafe.catalog import MovieLens, SafetyOracle
from persafe.evaluation import evaluate_recommender
from persafe.recsys import PopularityRecommender, SafetyGuard
from persafe.runs import RunDir
from persafe.saferec import BuildResult, SafeRecSample

N_BOOT = 200


@pytest.fixture(scope="module")
def popularity(saferec_build: BuildResult, movielens: MovieLens) -> PopularityRecommender:
    rec = PopularityRecommender()
    rec.fit(saferec_build.samples["train"], movielens.catalog)
    return rec


@pytest.fixture(scope="module")
def samples200(saferec_build: BuildResult) -> list[SafeRecSample]:
    return saferec_build.samples["test"][:200]


def _lines(run: RunDir) -> list[dict]:
    return [json.loads(x) for x in run.samples_path.read_text(encoding="utf-8").splitlines()]


def test_resume_counts_every_sample_once(
    tmp_path: Path, popularity: PopularityRecommender, samples200: list[SafeRecSample], oracle: SafetyOracle
) -> None:
    cfg = {"name": "popularity", "split": "test"}
    first = evaluate_recommender(popularity, samples200[:100], oracle, RunDir(tmp_path, cfg), n_boot=N_BOOT)
    assert first["n_samples"] == 100
    head = (tmp_path / "samples.jsonl").read_bytes()
    res = evaluate_recommender(popularity, samples200, oracle, RunDir(tmp_path, cfg), n_boot=N_BOOT)
    lines = _lines(RunDir(tmp_path, cfg))
    assert len(lines) == 200
    assert len({r["sample_id"] for r in lines}) == 200
    assert {r["sample_id"] for r in lines} == {s.sample_id for s in samples200}
    assert (tmp_path / "samples.jsonl").read_bytes().startswith(head)  # the first 100 were not redone
    assert res["n_samples"] == 200
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["n_samples"] == 200
    # running again evaluates nothing new
    again = evaluate_recommender(popularity, samples200, oracle, RunDir(tmp_path, cfg), n_boot=N_BOOT)
    assert len(_lines(RunDir(tmp_path, cfg))) == 200
    assert again["by_k"] == res["by_k"]


def test_interrupted_run_resumes_to_the_same_results(
    tmp_path: Path, popularity: PopularityRecommender, samples200: list[SafeRecSample], oracle: SafetyOracle
) -> None:
    cfg = {"name": "popularity"}

    def interrupt(done: int, total: int) -> None:
        if done >= 64:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate_recommender(
            popularity,
            samples200,
            oracle,
            RunDir(tmp_path / "a", cfg),
            batch_size=64,
            n_boot=N_BOOT,
            progress=interrupt,
        )
    assert len(_lines(RunDir(tmp_path / "a", cfg))) == 64
    assert not (tmp_path / "a" / "results.json").exists()
    calls: list[tuple[int, int]] = []
    resumed = evaluate_recommender(
        popularity,
        samples200,
        oracle,
        RunDir(tmp_path / "a", cfg),
        batch_size=64,
        n_boot=N_BOOT,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(64, 200), (128, 200), (192, 200), (200, 200)]
    straight = evaluate_recommender(popularity, samples200, oracle, RunDir(tmp_path / "b", cfg), n_boot=N_BOOT)
    assert resumed == straight
    assert len(_lines(RunDir(tmp_path / "a", cfg))) == 200


@pytest.fixture(scope="module")
def pop_run(
    tmp_path_factory: pytest.TempPathFactory,
    popularity: PopularityRecommender,
    samples200: list[SafeRecSample],
    oracle: SafetyOracle,
) -> tuple[dict, list[dict]]:
    run = RunDir(tmp_path_factory.mktemp("pop200"), {"name": "popularity"})
    res = evaluate_recommender(popularity, samples200, oracle, run, n_boot=N_BOOT)
    return res, _lines(run)


def test_results_structure(pop_run: tuple[dict, list[dict]], samples200: list[SafeRecSample]) -> None:
    res, _ = pop_run
    assert res["run"] == "popularity"
    assert res["ks"] == [10, 20]
    assert set(res["by_k"]) == {"10", "20"}
    assert res["oracle"]["items"] == 1682
    for k in ("10", "20"):
        block = res["by_k"][k]
        for name in ("recall", "ndcg", "svr", "svr_slots", "sdcg", "validity", "popularity", "produced", "hit"):
            cell = block["overall"][name]
            assert cell["ci_low"] <= cell["mean"] <= cell["ci_high"], (k, name)
        assert block["overall"]["recall"]["n"] == 200
        assert block["overall"]["produced"]["mean"] == int(k)
        assert block["overall"]["validity"]["mean"] == 1.0
        assert block["empty_lists"] == 0
        assert set(block["by_mode"]) == {"explicit", "implicit", "none"}
        n_control = sum(s.is_control for s in samples200)
        assert block["by_mode"]["none"]["recall"]["n"] == n_control
        assert block["control"]["recall"]["n"] == n_control
        assert block["control"]["svr"]["mean"] == 0.0  # nothing violates "no trait"
        traits = {t for s in samples200 for t in s.traits}
        assert set(block["by_trait"]) == traits | {"(control)"}
        assert set(block["by_split"]) == {"test"}
    assert "inference" not in res


def test_records_match_hand_computed_metrics(
    pop_run: tuple[dict, list[dict]], samples200: list[SafeRecSample], oracle: SafetyOracle
) -> None:
    res, lines = pop_run
    by_id = {s.sample_id: s for s in samples200}
    recalls, svrs = [], []
    for rec in lines:
        s = by_id[rec["sample_id"]]
        assert (rec["traits"], rec["constraint_mode"], rec["split"], rec["user_id"]) == (
            s.traits,
            s.constraint_mode,
            "test",
            s.user_id,
        )
        assert len(rec["recommended"]) == 20
        assert not set(rec["recommended"]) & set(s.history_item_ids)
        top = rec["recommended"][:10]
        recall = len(set(top) & set(s.groundtruth_item_ids)) / len(set(s.groundtruth_item_ids))
        bad = [oracle.is_unsafe(i, s.traits) for i in rec["recommended"]]
        assert rec["violating"] == [j for j, b in enumerate(bad) if b]
        m = rec["metrics"]["10"]
        assert m["recall"] == pytest.approx(recall)
        assert m["violations"] == sum(bad[:10])
        assert m["svr"] == pytest.approx(sum(bad[:10]) / 10)
        assert m["svr_slots"] == pytest.approx(sum(bad[:10]) / 10)
        assert rec["metrics"]["20"]["violations"] == sum(bad)
        recalls.append(recall)
        svrs.append(sum(bad[:10]) / 10)
    overall = res["by_k"]["10"]["overall"]
    assert overall["recall"]["mean"] == pytest.approx(np.mean(recalls))
    assert overall["svr"]["mean"] == pytest.approx(np.mean(svrs))
    assert overall["svr"]["mean"] > 0  # the unguarded popularity list does violate some traits


def test_oracle_guard_has_zero_svr(
    tmp_path: Path,
    saferec_build: BuildResult,
    movielens: MovieLens,
    samples200: list[SafeRecSample],
    oracle: SafetyOracle,
) -> None:
    guard = SafetyGuard(PopularityRecommender(), oracle, use_assigned_traits=True)
    guard.fit(saferec_build.samples["train"], movielens.catalog)
    assert guard.name == "popularity+guard[oracle-traits]"
    run = RunDir(tmp_path, {"name": guard.name})
    res = evaluate_recommender(guard, samples200, oracle, run, n_boot=N_BOOT)
    for k in ("10", "20"):
        assert res["by_k"][k]["overall"]["svr"]["mean"] == 0.0
        assert res["by_k"][k]["overall"]["svr"]["ci_high"] == 0.0
        assert res["by_k"][k]["overall"]["produced"]["mean"] == int(k)  # backfilled to full length
    lines = _lines(run)
    assert all(r["inferred_traits"] == r["traits"] for r in lines)
    assert all(r["violating"] == [] for r in lines)
    assert all(set(r["extra"]) == {"filtered", "backfilled"} for r in lines)
    assert res["inference"]["overall"]["recall"] == 1.0
    assert res["inference"]["overall"]["precision"] == 1.0


@pytest.mark.slow
def test_lexicon_guard_on_full_test_split(
    tmp_path: Path,
    saferec_build: BuildResult,
    movielens: MovieLens,
    popularity: PopularityRecommender,
    oracle: SafetyOracle,
) -> None:
    test = saferec_build.samples["test"]
    base = evaluate_recommender(
        popularity, test, oracle, RunDir(tmp_path / "pop", {"name": "popularity"}), n_boot=N_BOOT
    )
    guard = SafetyGuard(PopularityRecommender(), oracle)
    guard.fit(saferec_build.samples["train"], movielens.catalog)
    res = evaluate_recommender(guard, test, oracle, RunDir(tmp_path / "lex", {"name": guard.name}), n_boot=N_BOOT)
    assert res["n_samples"] == base["n_samples"] == len(test)
    g10, b10 = res["by_k"]["10"], base["by_k"]["10"]
    # test phrasings are never in train: the lexicon reads most explicit statements, not all
    assert b10["by_mode"]["explicit"]["svr"]["mean"] > 0.1  # the guard had something to remove
    assert g10["by_mode"]["explicit"]["svr"]["mean"] < 0.5 * b10["by_mode"]["explicit"]["svr"]["mean"]
    assert g10["overall"]["svr"]["mean"] < b10["overall"]["svr"]["mean"]
    assert res["inference"]["explicit"]["recall"] >= 0.6
    # no over-filtering of plain controls: exactly the unguarded recall; distractors are reported apart
    plain, base_plain = g10["by_control"]["plain"], b10["by_control"]["plain"]
    assert plain["recall"]["mean"] == pytest.approx(base_plain["recall"]["mean"])
    c = res["inference"]["controls"]
    assert c["plain"]["false_alarms"] == 0 and c["distractor"]["n"] >= 0.3 * c["all"]["n"]


class _EmptyForOdd:
    """Returns an empty list for every other sample (a model that answered nothing usable)."""

    name = "empty-for-odd"

    def __init__(self, base: PopularityRecommender) -> None:
        self.base = base

    def fit(self, samples, catalog) -> None:
        pass

    def recommend(self, samples, k):
        recs = self.base.recommend(samples, k)
        recs.rows[1::2] = -1
        return recs


def test_empty_recommendation_lists_are_counted_not_scored(
    tmp_path: Path, popularity: PopularityRecommender, samples200: list[SafeRecSample], oracle: SafetyOracle
) -> None:
    res = evaluate_recommender(
        _EmptyForOdd(popularity), samples200[:20], oracle, RunDir(tmp_path, {"name": "e"}), n_boot=N_BOOT
    )
    block = res["by_k"]["10"]
    assert block["empty_lists"] == 10
    assert block["overall"]["svr"]["n"] == 10  # SVR is undefined for an empty list: excluded, and counted above
    assert block["overall"]["svr_slots"]["n"] == 20  # an empty list has 0 violations over 10 slots
    assert block["overall"]["recall"]["n"] == 20
    lines = _lines(RunDir(tmp_path, {"name": "e"}))
    empty = [r for r in lines if not r["recommended"]]
    assert len(empty) == 10
    assert all(r["metrics"]["10"]["svr"] is None and r["metrics"]["10"]["recall"] == 0.0 for r in empty)


def test_sample_with_an_item_missing_from_the_catalog_fails_clearly(
    tmp_path: Path, popularity: PopularityRecommender, samples200: list[SafeRecSample], oracle: SafetyOracle
) -> None:
    from persafe.errors import UnknownItemError

    bad = samples200[0].model_copy(update={"groundtruth_item_ids": ["99999"]})
    with pytest.raises(UnknownItemError, match=r"item id '99999' is not in the catalog \(1682 items"):
        evaluate_recommender(popularity, [bad], oracle, RunDir(tmp_path, {"name": "p"}), n_boot=N_BOOT)
    assert not (tmp_path / "samples.jsonl").exists() or not _lines(RunDir(tmp_path, {"name": "p"}))


def test_llm_configs_run_end_to_end_with_a_scripted_model(tmp_path: Path, saferec_dir: Path, monkeypatch) -> None:
    """``EvalConfig(model=...)`` builds LLM recommenders (list and choice) whose answers are classified."""
    from persafe.evaluation import EvalConfig, run_evaluation

    monkeypatch.setenv("PERSAFE_CACHE", str(tmp_path / "cache"))
    lst = run_evaluation(EvalConfig(data=str(saferec_dir), model="scripted:echo", limit=6, ks=[10]), tmp_path / "l")
    assert lst["run"] == "llm-list[scripted:echo]"
    assert lst["parse"] == {"unparseable": 6}  # a hash is not a list of titles: counted, never scored as a hit
    assert lst["by_k"]["10"]["empty_lists"] == 6
    ch = run_evaluation(
        EvalConfig(data=str(saferec_dir), model="scripted:echo", task="choice", guard="lexicon", limit=6, ks=[10]),
        tmp_path / "c",
    )
    assert ch["run"] == "llm-choice[scripted:echo]+guard[lexicon]"
    assert ch["candidate_choice"]["valid_ratio"]["mean"] == 0.0
    assert ch["candidate_choice"]["hit_ratio_at_1"]["n"] == 6
    assert (tmp_path / "cache" / "responses.sqlite").exists()  # responses were cached
    # answers naming no candidate recommend nothing: counted as unparseable, never a "safe" slot in SVR
    assert ch["parse"] == {"unparseable": 6}
    assert ch["by_k"]["10"]["overall"]["svr"]["n"] == 0 and ch["by_k"]["10"]["overall"]["svr"]["mean"] is None


def test_summary_never_scores_failed_records(pop_run: tuple[dict, list[dict]]) -> None:
    from persafe.evaluation import summarize

    _, records = pop_run
    failed = [{k: r[k] for k in ("sample_id", "split", "traits", "constraint_mode")} | {"status": "failed",
              "error": "HTTP 500 after 5 attempts"} for r in records[:3]]  # fmt: skip
    res = summarize(records[3:] + failed, [10], n_boot=N_BOOT)
    clean = summarize(records[3:], [10], n_boot=N_BOOT)
    assert res["n_samples"] == len(records) - 3 and res["by_k"] == clean["by_k"]
    assert res["failed"] == {
        "n": 3,
        "sample_ids": sorted(r["sample_id"] for r in records[:3]),
        "errors": {"HTTP 500 after 5 attempts": 3},
    }


@pytest.mark.slow
def test_learned_guard_is_calibrated_on_validation_never_on_the_scored_split(
    tmp_path: Path, saferec_dir: Path, monkeypatch
) -> None:
    """``--guard learned`` trains on train, sets thresholds on val, and the run identity records both."""
    import persafe.recsys.learned as learned_mod
    from persafe.evaluation import EvalConfig, load_calibration, run_evaluation

    monkeypatch.setenv("PERSAFE_CACHE", str(tmp_path / "cache"))
    seen: dict[str, int] = {}

    class Frozen(learned_mod.LearnedInference):  # the encoder frozen: seconds instead of minutes
        def __init__(self, traits, calibration=None, **kw):
            seen["calibration"] = len(calibration or [])
            seen["fit_cache"] = kw["cache"]
            super().__init__(traits, calibration=calibration, **{**kw, "body_steps": 0})

    monkeypatch.setattr(learned_mod, "LearnedInference", Frozen)
    cfg = EvalConfig(data=str(saferec_dir), recommender="popularity", guard="learned", limit=120, ks=[10])
    val = load_calibration(cfg)
    assert val is not None and {s.split for s in val} == {"val"}
    res = run_evaluation(cfg, tmp_path / "run")
    assert seen["calibration"] == len(val)
    # --no-cache is about model answers: a fitted inferer is still reused (it is keyed by what it learned)
    run_evaluation(cfg.model_copy(update={"cache": False}), tmp_path / "run2")
    assert seen["fit_cache"] is True
    assert res["inference"]["controls"]["all"]["n"] > 0 and "targets" in res["inference"]
    config = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert config["fingerprint"]["calibration"]
    # the validation split itself is never calibrated on itself
    assert load_calibration(cfg.model_copy(update={"split": "val"})) is None
    assert load_calibration(cfg.model_copy(update={"guard": "lexicon"})) is None


@pytest.mark.slow
def test_decode_guard_never_writes_an_unsafe_item(tmp_path: Path, saferec_dir: Path, monkeypatch) -> None:
    """``--guard decode-oracle``: items unsafe for the true traits are excluded while decoding, so SVR is 0
    by construction; every line is a catalog item, none repeated or named by the user."""
    from persafe.evaluation import EvalConfig, run_evaluation
    from persafe.llm.tiny import tiny_model, tiny_tokenizer

    monkeypatch.setenv("PERSAFE_CACHE", str(tmp_path / "cache"))
    tok = tiny_tokenizer()
    folder = tmp_path / "tiny"
    tiny_model(tok).save_pretrained(folder)
    tok.save_pretrained(folder)
    common = {"data": str(saferec_dir), "model": f"hf:{folder}", "prompt_style": "chat", "n_titles": 10, "ks": [10]}
    cfg = EvalConfig(**common, guard="decode-oracle", limit=12)
    assert cfg.decoding == "constrained" and cfg.name == f"llm-list-constrained[hf:{folder}]+guard[decode-oracle]"
    res = run_evaluation(cfg, tmp_path / "decode")
    o = res["by_k"]["10"]["overall"]
    assert o["svr"]["mean"] == 0.0 and o["validity"]["mean"] == 1.0
    free = run_evaluation(EvalConfig(**common, decoding="constrained", limit=12), tmp_path / "free")
    assert free["by_k"]["10"]["overall"]["svr"]["mean"] > 0  # the same decoding without the guard does write some
    records = [json.loads(x) for x in (tmp_path / "decode" / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(len(set(r["recommended"])) == len(r["recommended"]) == 10 for r in records)
    assert any(r["extra"]["excluded_unsafe"] > 0 for r in records)
    with pytest.raises(ValueError, match="guards an LLM list recommender"):
        EvalConfig(data=str(saferec_dir), recommender="itemknn", guard="decode")
