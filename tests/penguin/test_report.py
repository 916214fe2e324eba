"""The report: numbers, plots, escaped model text, redaction."""

from __future__ import annotations

from pathlib import Path

from persafe.llm import ScriptedChatModel
from persafe.penguin import RubricJudge, run_judge, run_responses
from persafe.penguin.report import build_penguin_report

EVIL = "<script>alert('x')</script> Please be careful and talk to your doctor, you can do this."


def test_report_has_gain_ablation_plots_and_escapes(tmp_path: Path, fourteen) -> None:
    model = ScriptedChatModel(lambda conv: EVIL if "background" in conv[-1].content else "Just buy it online today.")
    run_responses(model, fourteen[:7], ["free", "rich", "ablation"], tmp_path / "resp")
    res = run_judge(tmp_path / "resp", RubricJudge(), tmp_path / "judged", n_boot=100)
    assert res["gain"]["gain_pct"] > 0  # the careful answer scores above "just buy it"
    path, md = build_penguin_report([tmp_path / "judged"], tmp_path / "report.html", examples=20)
    page = path.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("data:image/png;base64,") == 2  # domain bars + ablation bars
    assert f"{res['gain']['gain_pct']:+.1f}%" in md and "Single-attribute ablation" in md
    assert "Past Self-Harm History" in md and "| life |" in md
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == md
    redacted = build_penguin_report([tmp_path / "judged"], tmp_path / "r2.html", redact=True)[0]
    text = redacted.read_text(encoding="utf-8")
    assert "alert" not in text and "Just buy it" not in text and "[redacted]" in text
