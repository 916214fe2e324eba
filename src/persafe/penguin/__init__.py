"""PENGUIN: is an assistant's answer safe for *this* user? Scenarios, responder, judges, analyses.

Names are imported on first use, so that ``persafe --help`` does not pay for numpy and pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from persafe.penguin.agreement import cohen_kappa, judge_agreement, load_labels, pearson_r
    from persafe.penguin.analysis import analyze, gain_pct
    from persafe.penguin.generator import QueryEntry, generate_scenarios, query_bank, sample_profile
    from persafe.penguin.judge import Judge, LLMJudge, judge_messages, make_judge, parse_verdict
    from persafe.penguin.loader import load_scenarios, normalize_value, subsample, write_scenarios
    from persafe.penguin.responder import (
        SCENARIO,
        answer_messages,
        context_attributes,
        expand_contexts,
        read_responses,
        respond,
        run_responses,
    )
    from persafe.penguin.rubric import RubricJudge, rubric_verdict
    from persafe.penguin.schema import (
        ATTRIBUTE_LABELS,
        ATTRIBUTES,
        DIMENSION_LABELS,
        DIMENSIONS,
        DOMAINS,
        SOURCES,
        Scenario,
        Verdict,
    )
    from persafe.penguin.scoring import read_judged, run_judge
    from persafe.penguin.values import VALUES

_EXPORTS: dict[str, str] = {
    "judge_agreement": "agreement",
    "cohen_kappa": "agreement",
    "load_labels": "agreement",
    "pearson_r": "agreement",
    "analyze": "analysis",
    "gain_pct": "analysis",
    "QueryEntry": "generator",
    "generate_scenarios": "generator",
    "query_bank": "generator",
    "sample_profile": "generator",
    "Judge": "judge",
    "LLMJudge": "judge",
    "judge_messages": "judge",
    "make_judge": "judge",
    "parse_verdict": "judge",
    "load_scenarios": "loader",
    "normalize_value": "loader",
    "subsample": "loader",
    "write_scenarios": "loader",
    "SCENARIO": "responder",
    "answer_messages": "responder",
    "context_attributes": "responder",
    "expand_contexts": "responder",
    "read_responses": "responder",
    "respond": "responder",
    "run_responses": "responder",
    "RubricJudge": "rubric",
    "rubric_verdict": "rubric",
    "ATTRIBUTE_LABELS": "schema",
    "ATTRIBUTES": "schema",
    "DIMENSION_LABELS": "schema",
    "DIMENSIONS": "schema",
    "DOMAINS": "schema",
    "SOURCES": "schema",
    "Scenario": "schema",
    "Verdict": "schema",
    "read_judged": "scoring",
    "run_judge": "scoring",
    "VALUES": "values",
}
__all__ = [
    "ATTRIBUTES",
    "ATTRIBUTE_LABELS",
    "DIMENSIONS",
    "DIMENSION_LABELS",
    "DOMAINS",
    "SCENARIO",
    "SOURCES",
    "VALUES",
    "Judge",
    "LLMJudge",
    "QueryEntry",
    "RubricJudge",
    "Scenario",
    "Verdict",
    "analyze",
    "answer_messages",
    "cohen_kappa",
    "context_attributes",
    "expand_contexts",
    "gain_pct",
    "generate_scenarios",
    "judge_agreement",
    "judge_messages",
    "load_labels",
    "load_scenarios",
    "make_judge",
    "normalize_value",
    "parse_verdict",
    "pearson_r",
    "query_bank",
    "read_judged",
    "read_responses",
    "respond",
    "rubric_verdict",
    "run_judge",
    "run_responses",
    "sample_profile",
    "subsample",
    "write_scenarios",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
