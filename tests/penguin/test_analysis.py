"""Aggregation arithmetic, end to end: scripted assistant → scripted LLM judge → results, checked by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persafe.llm import ScriptedChatModel
from persafe.penguin import LLMJudge, analyze, gain_pct, read_judged, run_judge, run_responses

from .conftest import verdict_json

# (context, scenario index) → the judge's reply; "garbage" is unparseable on every attempt
REPLIES = {
    ("free", 0): verdict_json(2, 2, 2),
    ("free", 1): verdict_json(3, 3, 3),
    ("free", 2): verdict_json(1, 2, 3),
    ("free", 3): "garbage",
    ("rich", 0): verdict_json(4, 4, 4),
    ("rich", 1): verdict_json(5, 4, 3),
    ("rich", 2): verdict_json(3, 3, 3),
    ("rich", 3): verdict_json(5, 5, 5),
    ("age", 0): verdict_json(3, 3, 3),
    ("age", 1): verdict_json(3, 3, 3),
    ("age", 2): verdict_json(2, 2, 2),
    ("age", 3): verdict_json(3, 3, 3),
}


@pytest.fixture
def judged(tmp_path: Path, fourteen) -> tuple[dict, list[dict], ScriptedChatModel]:
    scenarios = fourteen[:4]  # life, education, relationship, health
    index = {s.query: i for i, s in enumerate(scenarios)}

    def assistant(conv) -> str:
        text = conv[-1].content
        query = text.split("My question: ")[-1]
        context = "free" if "background" not in text else "rich" if "Scenario:" in text else "age"
        return f"{context}|{index[query]}"

    def judge(conv) -> str:
        answer = conv[1].content.split("<answer>\n")[1].split("\n</answer>")[0]
        context, i = answer.split("|")
        return REPLIES[(context, int(i))]

    run_responses(ScriptedChatModel(assistant), scenarios, ["free", "rich", "only:age"], tmp_path / "resp")
    judge_model = ScriptedChatModel(judge, name="scripted-judge")
    res = run_judge(tmp_path / "resp", LLMJudge(judge_model, retries=1), tmp_path / "judged", n_boot=200)
    return res, read_judged(tmp_path / "judged")[1], judge_model


def test_context_gain_excludes_invalid_verdicts(judged) -> None:
    res, records, judge_model = judged
    assert judge_model.calls == 12 + 1  # one retry, for the garbage reply
    g = res["gain"]
    assert g["free"] == pytest.approx(7 / 3)  # (2 + 3 + 2) / 3: the invalid verdict is not a 1
    assert g["rich"] == pytest.approx(4.0)  # (4 + 4 + 3 + 5) / 4
    assert g["gain_pct"] == pytest.approx(100 * 5 / 7)
    assert g["paired"]["mean"] == pytest.approx(4 / 3) and g["paired"]["n"] == 3
    assert res["invalid"] == {"total": 1, "by_context": {"free": 1, "rich": 0, "only:age": 0}}
    bad = next(r for r in records if r["context"] == "free" and r["score"] is None)
    assert bad["valid"] is False and bad["attempts"] == 2 and bad["raw"] == "garbage"


def test_breakdowns(judged) -> None:
    res = judged[0]
    rich = res["contexts"]["rich"]
    assert rich["dimensions"] == pytest.approx(
        {"risk_sensitivity": 4.25, "emotional_empathy": 4.0, "user_alignment": 3.75}
    )
    assert rich["n"] == 4 and res["contexts"]["free"]["n"] == 3
    assert res["by_domain"]["life"] == {"free": 2.0, "rich": 4.0, "gain_pct": 100.0, "n_free": 1, "n_rich": 1}
    assert res["by_domain"]["health"]["free"] is None and res["by_domain"]["health"]["gain_pct"] is None
    assert set(res["by_domain"]) == {"life", "education", "relationship", "health"}
    assert res["by_source"]["generated"]["gain_pct"] == pytest.approx(100 * 5 / 7)
    assert res["ablation"]["age"]["score"] == pytest.approx(2.75)
    assert res["ablation"]["age"]["gain_pct"] == pytest.approx(100 * 5 / 28)
    assert set(res["ablation"]) == {"age"} and res["judge"] == "llm:scripted-judge"


def test_judging_resumes_without_new_calls(judged, tmp_path: Path) -> None:
    res, _, judge_model = judged
    again = run_judge(tmp_path / "resp", LLMJudge(judge_model), tmp_path / "judged", n_boot=200)
    assert judge_model.calls == 13 and again["gain"] == res["gain"]
    samples = tmp_path / "resp" / "samples.jsonl"  # one answer changes: only it is judged again
    lines = samples.read_text().splitlines()
    first = json.loads(lines[0])
    samples.write_text("\n".join([*lines, json.dumps(first | {"answer": "rich|0"})]) + "\n")
    again = run_judge(tmp_path / "resp", LLMJudge(judge_model), tmp_path / "judged", n_boot=200)
    assert judge_model.calls == 14 and again["contexts"]["free"]["n"] == 3


def test_gain_edge_cases() -> None:
    assert gain_pct(None, 3.0) is None and gain_pct(0.0, 3.0) is None and gain_pct(2.0, 3.0) == 50.0
    rec = {"scenario_id": "a", "domain": "life", "source": "real", "valid": False, "score": None}
    res = analyze([rec | {"context": "free"}, rec | {"context": "rich", "valid": True, "score": 3.0}])
    assert res["gain"]["free"] is None and res["gain"]["gain_pct"] is None and res["gain"]["rich"] == 3.0
    assert res["invalid"]["total"] == 1 and res["by_source"]["real"]["n_free"] == 0
