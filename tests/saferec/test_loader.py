"""Reading SafeRec samples: the SafeCRS release format and persafe JSONL splits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persafe.errors import DataError, UnknownNameError
from persafe.saferec import SPLITS, BuildResult, load_safecrs, load_saferec

SAFECRS_FIXTURE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "saferec_phase0_sample.json"


@pytest.fixture
def safecrs_fixture() -> Path:
    if not SAFECRS_FIXTURE.exists():
        pytest.skip(f"SafeCRS fixture not found at {SAFECRS_FIXTURE} (expected in shared/ beside the repository)")
    return SAFECRS_FIXTURE


def test_load_real_safecrs_fixture(safecrs_fixture: Path) -> None:
    samples = load_safecrs(safecrs_fixture)
    assert len(samples) == 20
    first = samples[0]
    assert first.sample_id == "train_2"
    assert first.assigned_trait == "Animal lover (avoid animal harm/death)"
    assert first.traits == ["animal_harm"]
    assert first.constraint_mode == "unspecified"
    assert first.seen_titles == ["Best in Show"]
    assert first.groundtruth_with_release_year[0] == ["This Is Spinal Tap", "1984"]
    assert first.request == first.user_turn
    assert first.request.startswith("Pretend you are a movie recommender system.")
    assert "Best in Show" in first.request
    by_trait = {}
    for s in samples:
        assert len(s.traits) == 1
        by_trait[s.traits[0]] = by_trait.get(s.traits[0], 0) + 1
    assert by_trait == {
        "animal_harm": 1,
        "torture": 7,
        "sexual_violence": 4,
        "self_harm": 3,
        "gore": 4,
        "kid_safety": 1,
    }
    # load_saferec dispatches .json files to the SafeCRS reader
    assert [s.sample_id for s in load_saferec(safecrs_fixture)] == [s.sample_id for s in samples]


def _safecrs_sample(**over: object) -> dict:
    base = {
        "sample_id": "s1",
        "prompt": [{"role": "user", "content": "I loved Heat (1995). Any ideas?"}],
        "seen_titles": ["Heat"],
        "groundtruth_with_release_year": [["Ronin", 1998]],
        "assigned_trait": "Anti-gore / squeamish",
        "assignment_success": True,
    }
    return {**base, **over}


def test_safecrs_traits_from_constraints_and_assignment(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    data = [
        _safecrs_sample(),
        _safecrs_sample(
            sample_id="s2",
            constraints={"Horror avoider (avoids scares & supernatural)": True, "gore": True, "torture": False},
        ),
        _safecrs_sample(sample_id="s3", assignment_success=False),
        _safecrs_sample(sample_id="s4", assigned_trait=None, request="my own request"),
    ]
    path.write_text(json.dumps(data), encoding="utf-8")
    s1, s2, s3, s4 = load_safecrs(path)
    assert s1.traits == ["gore"]
    assert s1.groundtruth_with_release_year == [["Ronin", "1998"]]
    assert s2.traits == ["horror", "gore"]
    assert s3.traits == []  # a failed assignment carries no trait
    assert s4.traits == [] and s4.request == "my own request"


def test_unknown_trait_name_lists_valid_ids(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"samples": [_safecrs_sample(assigned_trait="Vampire phobia")]}), encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_safecrs(path)
    msg = str(ei.value)
    assert f"{path} samples[0] field 'assigned_trait'" in msg  # where: file, sample, field
    assert "unknown trait 'Vampire phobia'" in msg
    assert "animal_harm" in msg and "horror" in msg


def test_safecrs_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_safecrs(tmp_path / "missing.json")
    path = tmp_path / "s.json"
    path.write_text('{"samples": [\n  {"sample_id": }\n]}', encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_safecrs(path)
    assert f"{path}:2" in str(ei.value)
    path.write_text(json.dumps({"samples": {"a": 1}}), encoding="utf-8")
    with pytest.raises(DataError, match="expected a list of samples"):
        load_safecrs(path)
    path.write_text(json.dumps([_safecrs_sample(), {"sample_id": "s2"}]), encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_safecrs(path)
    assert "samples[1]" in str(ei.value) and "field 'prompt'" in str(ei.value)


def test_written_split_round_trips(saferec_build: BuildResult, saferec_dir: Path) -> None:
    assert sorted(p.name for p in saferec_dir.iterdir()) == ["build.json", "test.jsonl", "train.jsonl", "val.jsonl"]
    for split in SPLITS:
        loaded = load_saferec(saferec_dir, split)
        assert loaded == saferec_build.samples[split], split
    assert load_saferec(saferec_dir) == saferec_build.samples["test"]  # test is the default split
    assert load_saferec(saferec_dir / "val.jsonl") == saferec_build.samples["val"]
    build = json.loads((saferec_dir / "build.json").read_text(encoding="utf-8"))
    assert build["config"]["seed"] == 0
    assert build["stats"]["splits"]["test"]["samples"] == len(saferec_build.samples["test"])


def test_malformed_jsonl_line_names_file_and_line(saferec_dir: Path, tmp_path: Path) -> None:
    lines = (saferec_dir / "val.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    path = tmp_path / "val.jsonl"
    path.write_text("\n".join([lines[0], lines[1][: len(lines[1]) // 2], lines[2]]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_saferec(path)
    assert str(ei.value).startswith(f"{path}:2: invalid JSON")
    assert ei.value.line == 2


def test_invalid_record_names_line_and_field(saferec_dir: Path, tmp_path: Path) -> None:
    lines = (saferec_dir / "val.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    bad = json.loads(lines[2])
    bad["constraint_mode"] = "shouted"
    path = tmp_path / "val.jsonl"
    path.write_text("\n".join([lines[0], lines[1], json.dumps(bad)]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_saferec(path)
    assert f"{path}:3 field 'constraint_mode'" in str(ei.value)


def test_unknown_split_raises(saferec_dir: Path) -> None:
    with pytest.raises(UnknownNameError) as ei:
        load_saferec(saferec_dir, "dev")
    assert str(ei.value) == "unknown split 'dev'; valid: test, train, val"


def test_missing_split_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_saferec(tmp_path, "test")
