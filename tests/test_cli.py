"""The command line (typer): catalog stats, build, eval, report, and its error messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import persafe.catalog
from persafe.catalog import MovieLens
from persafe.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _reuse_movielens(monkeypatch: pytest.MonkeyPatch, movielens: MovieLens) -> None:
    """Serve the session's MovieLens instead of re-reading it in every command (loading is tested elsewhere)."""
    real = persafe.catalog.load_movielens
    monkeypatch.setattr(persafe.catalog, "load_movielens", lambda path=None: movielens if path is None else real(path))


def _invoke(*args: str):
    res = runner.invoke(app, [str(a) for a in args])
    res.flat = " ".join(re.sub("[│╭╮╰╯─]", " ", res.output).split())  # rich wraps long lines (and boxes them)
    return res


def test_catalog_stats_json() -> None:
    res = _invoke("catalog", "stats", "--json")
    assert res.exit_code == 0, res.output
    stats = json.loads(res.output)
    cov = stats["coverage"]
    assert cov["items"] == 1682
    assert cov["annotated"] + cov["unknown"] + cov["missing"] == 1682
    assert [r["trait"] for r in stats["per_trait"]] == persafe.catalog.builtin_traits().ids
    for r in stats["per_trait"]:
        assert r["unsafe"] == r["by_tags"] + r["by_pg_only"]
    assert (stats["oracle"]["tau"], stats["oracle"]["unknown_policy"]) == (0.66, "safe")


def test_catalog_stats_options_reach_the_oracle() -> None:
    res = _invoke("catalog", "stats", "--json", "--tau", "0.9", "--unknown", "exclude", "--pg-policy", "max")
    assert res.exit_code == 0, res.output
    oracle = json.loads(res.output)["oracle"]
    assert (oracle["tau"], oracle["unknown_policy"], oracle["pg_policy"]) == (0.9, "exclude", "max")


def test_catalog_stats_table() -> None:
    res = _invoke("catalog", "stats")
    assert res.exit_code == 0, res.output
    assert "1682 movies" in res.flat
    assert "Unsafe movies per trait" in res.flat


def test_catalog_stats_unknown_policy_lists_valid() -> None:
    res = _invoke("catalog", "stats", "--unknown", "bogus")
    assert res.exit_code != 0
    assert "error: unknown unknown-item policy 'bogus'" in res.flat
    assert "exclude, safe, unsafe" in res.flat


def test_catalog_stats_bad_pg_policy_and_tau() -> None:
    res = _invoke("catalog", "stats", "--pg-policy", "min")
    assert res.exit_code != 0
    assert "applicability, max" in res.flat
    res = _invoke("catalog", "stats", "--tau", "0")
    assert res.exit_code != 0
    assert "tau must be in (0, 1]" in res.flat


def test_eval_unknown_recommender_lists_valid(tmp_path: Path) -> None:
    res = _invoke("eval", "--data", tmp_path, "--recommender", "nope", "--out", tmp_path / "run")
    assert res.exit_code != 0
    assert "unknown recommender 'nope'; valid: ease, itemknn, popularity, random" in res.flat
    assert not (tmp_path / "run").exists()


def test_eval_unknown_guard_lists_valid(tmp_path: Path) -> None:
    res = _invoke("eval", "--data", tmp_path, "--guard", "nope", "--out", tmp_path / "run")
    assert res.exit_code != 0
    valid = "decode, decode-oracle, embedding, learned, lexicon, lexicon+embedding, lexicon+learned, llm, none, oracle"
    assert f"unknown guard 'nope'; valid: {valid}" in res.flat
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_build_eval_report(tmp_path: Path) -> None:
    data, run, run2, report = tmp_path / "data", tmp_path / "pop", tmp_path / "pop-lex", tmp_path / "r" / "rep.html"
    cfg = tmp_path / "small.yaml"
    cfg.write_text("max_train_per_user: 1\ntest_cuts_per_user: 1\n", encoding="utf-8")

    res = _invoke("build", "saferec", "--out", data, "--config", cfg, "--seed", "3")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in data.iterdir()) == ["build.json", "test.jsonl", "train.jsonl", "val.jsonl"]
    build = json.loads((data / "build.json").read_text(encoding="utf-8"))
    assert (build["config"]["seed"], build["config"]["max_train_per_user"], build["config"]["test_cuts_per_user"]) == (
        3,
        1,
        1,
    )
    assert f"test: {build['stats']['splits']['test']['samples']}" in res.flat

    res = _invoke("eval", "--data", data, "--recommender", "popularity", "--limit", "50", "--out", run)
    assert res.exit_code == 0, res.output
    assert "popularity: n=50 Recall@10=" in res.flat
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    assert results["n_samples"] == 50
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert (config["recommender"], config["guard"], config["limit"], config["ks"]) == (
        "popularity",
        "none",
        50,
        [10, 20],
    )
    assert len((run / "samples.jsonl").read_text(encoding="utf-8").splitlines()) == 50

    # the same command again resumes: nothing is evaluated twice
    res = _invoke("eval", "--data", data, "--recommender", "popularity", "--limit", "50", "--out", run)
    assert res.exit_code == 0, res.output
    assert len((run / "samples.jsonl").read_text(encoding="utf-8").splitlines()) == 50

    res = _invoke(
        "eval",
        "--data",
        data,
        "--recommender",
        "popularity",
        "--guard",
        "lexicon",
        "--limit",
        "50",
        "--out",
        run2,
        "--k",
        "5",
        "--k",
        "10",
    )
    assert res.exit_code == 0, res.output
    # the run name keeps its brackets (rich markup must not eat "[lexicon]")
    assert "popularity+guard[lexicon]: n=50 Recall@5=" in res.flat
    assert json.loads((run2 / "results.json").read_text(encoding="utf-8"))["ks"] == [5, 10]

    res = _invoke("report", run, run2, "--out", report)
    assert res.exit_code == 0, res.output
    assert report.exists() and report.with_suffix(".md").exists()
    page = report.read_text(encoding="utf-8")
    assert "<img" in page
    assert "popularity+guard[lexicon]" in page
    assert "| popularity+guard[lexicon] |" in res.output  # the markdown table, printed verbatim
    assert "wrote" in res.flat

    res = _invoke("eval", "--data", data, "--recommender", "popularity", "--limit", "40", "--out", run)
    assert res.exit_code != 0
    assert "different configuration" in res.flat
    assert (
        "differs in: n_samples (how many samples are scored), samples (the content of the scored samples)" in res.flat
    )
    assert json.loads((run / "results.json").read_text(encoding="utf-8"))["n_samples"] == 50


def test_report_of_missing_run_fails(tmp_path: Path) -> None:
    res = _invoke("report", tmp_path / "nothing", "--out", tmp_path / "r.html")
    assert res.exit_code != 0
    assert "is not a run folder" in res.flat


def test_error_messages_are_not_read_as_markup(tmp_path: Path) -> None:
    missing = tmp_path / "traits[lexicon].yaml"
    res = _invoke("catalog", "stats", "--traits-file", missing)
    assert res.exit_code != 0
    assert "traits[lexicon].yaml" in res.output.replace("\n", "")
    assert "file not found" in res.flat


# --- results integrity: every finding of the command line, each refused before anything is written ---


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory, saferec_build) -> Path:
    """A built folder with 60 test samples (enough for the command-line checks below)."""
    from persafe.saferec import SafeRecConfig, write_saferec

    out = tmp_path_factory.mktemp("small")
    write_saferec(saferec_build, out, SafeRecConfig())
    lines = (out / "test.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    (out / "test.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _nothing_written(run: Path) -> bool:
    return not run.exists() or not any(
        p.name in ("config.json", "manifest.json", "results.json") for p in run.iterdir()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--limit", "0"), "Invalid value for '--limit': Input should be greater than or equal to 1"),
        (("--limit", "-5"), "Invalid value for '--limit': Input should be greater than or equal to 1"),
        (("--k", "-3"), "Invalid value for '--k': Input should be greater than or equal to 1"),
        (("--k", "5000"), "--k 5000 is larger than the catalog (1682 items); a recommender ranking"),
        (("--batch-size", "0"), "Invalid value for '--batch-size': Input should be greater than or equal to 1"),
        (("--max-new-tokens", "0"), "Invalid value for '--max-new-tokens': Input should be greater than or equal to 1"),
        (("--split", "dev"), "option --split: unknown split 'dev'; valid: test, train, val"),
        (("--tau", "0"), "option --tau: Input should be greater than 0"),
    ],
)
def test_eval_options_are_range_checked(small_data: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    run = tmp_path / "run"
    res = _invoke("eval", "--data", small_data, "--recommender", "popularity", "--out", run, *args)
    assert res.exit_code == 2, res.output
    assert message in res.flat
    assert "Traceback" not in res.output and "https://errors.pydantic.dev" not in res.flat
    assert _nothing_written(run)


def test_penguin_judge_retries_cannot_be_negative(tmp_path: Path) -> None:
    res = _invoke("penguin", "judge", "--responses", tmp_path, "--retries", "-1")
    assert (
        res.exit_code == 2 and "Invalid value for '--retries': Input should be greater than or equal to 0" in res.flat
    )


def test_a_single_file_is_never_fitted_on_itself(small_data: Path, tmp_path: Path) -> None:
    test_file, run = small_data / "test.jsonl", tmp_path / "run"
    res = _invoke("eval", "--data", test_file, "--recommender", "ease", "--out", run)
    assert res.exit_code == 2
    assert "it would be fitted on the very samples it scores" in res.flat and "--train FILE" in res.flat
    assert _nothing_written(run)
    res = _invoke("eval", "--data", test_file, "--train", test_file, "--recommender", "ease", "--out", run)
    assert res.exit_code == 2 and "60 evaluated sample(s) are also training samples" in res.flat
    assert _nothing_written(run)
    res = _invoke("eval", "--data", test_file, "--train", small_data / "train.jsonl", "--recommender", "ease",
                  "--out", run)  # fmt: skip
    assert res.exit_code == 0, res.output
    by_folder = _invoke("eval", "--data", small_data, "--recommender", "ease", "--out", tmp_path / "folder")
    assert by_folder.exit_code == 0
    a = json.loads((run / "results.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "folder" / "results.json").read_text(encoding="utf-8"))
    assert a["by_k"] == b["by_k"]  # the same training samples, given either way
    # a model that does not learn needs no training samples
    res = _invoke("eval", "--data", test_file, "--recommender", "random", "--out", tmp_path / "random")
    assert res.exit_code == 0, res.output


def test_resume_compares_the_data_not_its_path(small_data: Path, tmp_path: Path, monkeypatch) -> None:
    import shutil

    run = tmp_path / "run"
    assert _invoke("eval", "--data", small_data, "--recommender", "popularity", "--out", run).exit_code == 0
    copy = tmp_path / "copy"
    shutil.copytree(small_data, copy)
    monkeypatch.chdir(tmp_path)
    res = _invoke("eval", "--data", "copy", "--recommender", "popularity", "--out", run)  # same data, other path
    assert res.exit_code == 0, res.output
    lines = (copy / "test.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["groundtruth_item_ids"] = first["groundtruth_item_ids"][:1]  # rebuilt data under the same path
    (copy / "test.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")
    res = _invoke("eval", "--data", "copy", "--recommender", "popularity", "--out", run)
    assert res.exit_code == 2 and "differs in: samples (the content of the scored samples)" in res.flat


def test_bad_samples_name_file_line_and_field_and_write_nothing(small_data: Path, tmp_path: Path) -> None:
    lines = (small_data / "test.jsonl").read_text(encoding="utf-8").splitlines()[:5]
    bad = tmp_path / "bad.jsonl"
    run = tmp_path / "run"

    def check(records: list[str], expected: str) -> None:
        bad.write_text("\n".join(records) + "\n", encoding="utf-8")
        res = _invoke("eval", "--data", bad, "--recommender", "random", "--out", run)
        assert res.exit_code == 2, res.output
        assert expected in res.flat, res.flat
        assert _nothing_written(run)

    dup = json.loads(lines[3]) | {"sample_id": json.loads(lines[1])["sample_id"]}
    check(
        [*lines[:3], json.dumps(dup)],
        f"bad.jsonl:4 field 'sample_id': duplicate sample_id {dup['sample_id']!r} (first at",
    )
    trait = json.loads(lines[2]) | {"traits": ["vampires"]}
    check([lines[0], lines[1], json.dumps(trait)], "bad.jsonl:3 field 'traits': unknown trait 'vampires'")
    item = json.loads(lines[1]) | {"groundtruth_item_ids": ["99999"]}
    check([lines[0], json.dumps(item)], "bad.jsonl:2 field 'groundtruth_item_ids': item id '99999' is not in the")
    control = json.loads(lines[0]) | {
        "traits": [],
        "constraint_mode": "explicit",
        "constraints": {},
        "assigned_trait": None,
    }
    check(
        [json.dumps(control)], "bad.jsonl:1 field 'traits': constraint_mode is 'explicit' but the sample has no trait"
    )
    check(["", "   "], "bad.jsonl: no samples in this file")
    bad.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines[:2]).encode() + b"\n")  # a UTF-8 BOM is fine
    assert _invoke("eval", "--data", bad, "--recommender", "random", "--out", tmp_path / "bom").exit_code == 0
    bad.write_bytes(lines[0].encode() + b"\n" + lines[1].replace("I", "\xe9").encode("latin-1") + b"\n")
    res = _invoke("eval", "--data", bad, "--recommender", "random", "--out", run)
    assert res.exit_code == 2 and "bad.jsonl:2" in res.flat and "save the file as UTF-8" in res.flat


def test_constraints_without_traits_are_read_as_traits(small_data: Path, tmp_path: Path) -> None:
    line = json.loads((small_data / "test.jsonl").read_text(encoding="utf-8").splitlines()[0])
    line |= {"traits": [], "constraints": {"Arachnophobia / reptile phobia": True}, "constraint_mode": "explicit"}
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    from persafe.saferec import load_saferec

    (sample,) = load_saferec(path)
    assert sample.traits == ["arachnophobia"] and not sample.is_control


def test_report_writes_exactly_the_files_it_names(small_data: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert _invoke("eval", "--data", small_data, "--recommender", "popularity", "--out", run).exit_code == 0
    html_out = tmp_path / "k.html"
    html_out.write_text("keep me", encoding="utf-8")
    res = _invoke("report", run, "--out", tmp_path / "k.md")
    assert res.exit_code == 0 and f"wrote {tmp_path / 'k.md'}" in res.flat and " and " not in res.flat.split("wrote")[1]
    assert html_out.read_text(encoding="utf-8") == "keep me"
    assert (tmp_path / "k.md").read_text(encoding="utf-8").startswith("# persafe report")
    res = _invoke("report", run, "--out", tmp_path / "r.html")
    assert f"wrote {tmp_path / 'r.html'} and {tmp_path / 'r.md'}" in res.flat
    res = _invoke("report", run, "--out", tmp_path / "r.html", "--k", "5")
    assert res.exit_code == 2 and "was evaluated at K = [10, 20], not 5" in res.flat


def test_report_names_the_command_for_another_kind_of_run(tmp_path: Path) -> None:
    scenarios, resp, judged = tmp_path / "sc.jsonl", tmp_path / "resp", tmp_path / "judged"
    assert _invoke("penguin", "build", "--out", scenarios, "--n", "7").exit_code == 0
    assert _invoke("penguin", "respond", "--model", "scripted:echo", "--scenarios", scenarios, "--out", resp,
                   "--no-cache").exit_code == 0  # fmt: skip
    assert _invoke("penguin", "judge", "--responses", resp, "--out", judged).exit_code == 0
    res = _invoke("report", judged, "--out", tmp_path / "r.html")
    assert res.exit_code == 2 and "is a PENGUIN judged folder, not a SafeRec evaluation run" in res.flat
    assert "persafe penguin report" in res.flat and "by_k" not in res.flat
    run = tmp_path / "run"
    assert _invoke("eval", "--data", tmp_path, "--recommender", "random", "--out", run).exit_code == 2  # no data
    res = _invoke("penguin", "report", resp, "--out", tmp_path / "p.html")
    assert res.exit_code == 2 and "is a PENGUIN responses folder, not a PENGUIN judged folder" in res.flat
    assert "persafe penguin judge, then persafe penguin report" in res.flat


def test_results_are_strict_json(small_data: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    # a model that never answers: every metric is undefined (null), never NaN
    assert _invoke("eval", "--data", small_data, "--model", "scripted:echo", "--limit", "3", "--out", run,
                   "--no-cache").exit_code == 0  # fmt: skip
    text = (run / "results.json").read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


def test_debug_shows_the_traceback_of_an_internal_error(small_data: Path, tmp_path: Path, monkeypatch) -> None:
    import persafe.evaluation

    def boom(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(persafe.evaluation, "run_evaluation", boom)
    res = _invoke("eval", "--data", small_data, "--recommender", "random", "--out", tmp_path / "run")
    assert res.exit_code == 2
    assert "internal error (ZeroDivisionError: division by zero); rerun with --debug" in res.flat
    assert "Traceback" not in res.output
    res = _invoke("--debug", "eval", "--data", small_data, "--recommender", "random", "--out", tmp_path / "run")
    assert res.exit_code == 2 and "Traceback" in res.output


def test_guard_llm_records_the_inference_model_it_uses(small_data: Path, tmp_path: Path) -> None:
    from persafe.evaluation import EvalConfig

    assert EvalConfig(guard="llm").inference_model == "smollm2"
    assert EvalConfig(guard="llm", model="scripted:echo").inference_model == "scripted:echo"
    run = tmp_path / "run"
    res = _invoke("eval", "--data", small_data, "--model", "scripted:echo", "--guard", "llm", "--limit", "4",
                  "--out", run, "--no-cache")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "--guard llm infers traits with scripted:echo" in res.flat
    assert "inference: 4 unparseable" in res.flat  # echoes are not JSON: counted, shown
    cfg = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert cfg["inference_model"] == "scripted:echo"


def test_build_config_typo_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("seed: 1\np_contrl: 0.3\n", encoding="utf-8")
    res = _invoke("build", "saferec", "--out", tmp_path / "data", "--config", cfg)
    assert res.exit_code == 2
    assert f"{cfg}:2 field 'p_contrl': unknown option; did you mean 'p_control'?" in res.flat
    assert not (tmp_path / "data").exists()


# --- infer -------------------------------------------------------------------------------------------


def test_infer_prints_the_traits_of_each_text() -> None:
    res = runner.invoke(
        app, ["infer", "--inference", "lexicon", "Please, no spiders.", "The gorier the better!", "Hi there."]
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines() == ["arachnophobia", "-", "-"]


def test_infer_jsonl_keeps_the_input_fields(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    rows = [{"id": 1, "text": "No gore and no spiders, please."}, {"id": 2, "text": "I love a good ghost story."}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = runner.invoke(app, ["infer", "--inference", "lexicon", "--input", str(src)])
    assert res.exit_code == 0, res.output
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert out == [{**rows[0], "traits": ["arachnophobia", "gore"]}, {**rows[1], "traits": []}]
    dest = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["infer", "--inference", "lexicon", "--input", str(src), "--out", str(dest)])
    assert res.exit_code == 0 and res.stdout == ""
    assert [json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines()] == out


def test_infer_errors_name_the_line_or_option(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "fine"}\n{"prompt": "no text field"}\n', encoding="utf-8")
    res = _invoke("infer", "--inference", "lexicon", "--input", src)
    assert res.exit_code == 2 and f"{src}:2 field 'text'" in res.flat
    assert "valid: embedding, learned" in _invoke("infer", "--inference", "keywords", "x").flat
    assert "one of the two" in _invoke("infer", "--inference", "lexicon").flat
    assert "has no train.jsonl" in _invoke("infer", "--data", tmp_path, "x").flat
