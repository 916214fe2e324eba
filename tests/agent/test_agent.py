"""The online agent: abstention direction, acquisition among unasked attributes, fallbacks, simulated user."""

from __future__ import annotations

import numpy as np
import pytest

from persafe.agent.agent import DECLINED, AgentConfig, AgentTask, AskingAgent, SimulatedUser
from persafe.agent.parse import mentions, rating
from persafe.agent.store import PathStore, PlannedPath
from persafe.llm import ScriptedChatModel

ATTRS = ["age", "gender", "mental_health_status", "self_harm_history", "emotional_state"]
LABELS = {"mental_health_status": "Mental Health Status", "self_harm_history": "Past Self-Harm History"}
PROFILE = {"age": "25-34", "gender": None, "mental_health_status": "Anxiety", "self_harm_history": "Yes"}


def _is_rating(conv) -> bool:
    return "Completeness" in conv[-1].content


def scripted(rate: str | callable, choose: str | callable = "age") -> ScriptedChatModel:
    def script(conv):
        if _is_rating(conv):
            return rate(conv) if callable(rate) else rate
        return choose(conv) if callable(choose) else choose

    return ScriptedChatModel(script)


def _task(query: str = "Should I stop taking my meds?") -> AgentTask:
    return AgentTask(query_id="s1", query=query, user=SimulatedUser(PROFILE, LABELS))


def test_high_rating_stops_before_asking() -> None:
    t = AskingAgent(scripted("5"), ATTRS, LABELS, config=AgentConfig(threshold=4)).run([_task()])[0]
    assert t.turns == [] and t.stop == "sufficient" and t.final_rating == 5


def test_rating_equal_to_threshold_stops() -> None:
    t = AskingAgent(scripted("4"), ATTRS, LABELS, config=AgentConfig(threshold=4)).run([_task()])[0]
    assert t.turns == [] and t.stop == "sufficient"


def test_low_rating_keeps_asking_until_the_budget() -> None:
    agent = AskingAgent(scripted("1", "age"), ATTRS, LABELS, config=AgentConfig(threshold=4, max_questions=3))
    t = agent.run([_task()])[0]
    assert len(t.turns) == 3 and t.stop == "budget"
    assert all(x.rating_before == 1 for x in t.turns)


def test_rating_rises_with_the_background() -> None:
    """The agent stops as soon as the rating reaches the threshold, not before and not after."""

    def rate(conv):
        known = conv[-1].content.count("\n- ")
        return str(known * 2)  # 0, 2, 4, ...

    t = AskingAgent(scripted(rate, "age"), ATTRS, LABELS, config=AgentConfig(threshold=4)).run([_task()])[0]
    assert len(t.turns) == 2 and t.stop == "sufficient" and t.final_rating == 4


def test_acquisition_only_picks_unasked_attributes() -> None:
    # the model always names "age" first (even when asked already), then self-harm
    agent = AskingAgent(
        scripted("0", "Age, or maybe Past Self-Harm History"),
        ATTRS,
        LABELS,
        config=AgentConfig(max_questions=len(ATTRS) + 3),
    )
    t = agent.run([_task()])[0]
    assert t.asked[:2] == ["age", "self_harm_history"]
    assert len(t.asked) == len(set(t.asked)) == len(ATTRS) and t.stop == "exhausted"
    assert "mental_health_status" in t.asked


def test_unreadable_answers_fall_back_and_are_counted() -> None:
    store = PathStore(embed=lambda texts: np.ones((len(texts), 2)))
    store.add([PlannedPath(query="meds", path=["self_harm_history", "mental_health_status"], query_id="p1")])
    agent = AskingAgent(
        scripted("hmm", "I cannot say."), ATTRS, LABELS, store=store, config=AgentConfig(max_questions=3)
    )
    t = agent.run([_task()])[0]
    assert t.asked == ["self_harm_history", "mental_health_status", "age"]  # path, then the default order
    assert [x.how_chosen for x in t.turns] == ["path", "path", "default_order"]
    assert t.fallbacks == {"rating_unreadable": 3, "choice_unreadable": 3, "default_order": 1}
    assert t.examples == ["p1"]


def test_examples_are_shown_and_path_acquisition_needs_no_model() -> None:
    store = PathStore(embed=lambda texts: np.array([[1.0, float("meds" in t)] for t in texts]))
    store.add(
        [
            PlannedPath(query="meds question", path=["emotional_state", "age"], query_id="a"),
            PlannedPath(query="job question", path=["gender"], query_id="b"),
        ]
    )
    seen = []

    def choose(conv):
        seen.append(conv[-1].content)
        return "emotional state"

    agent = AskingAgent(scripted("0", choose), ATTRS, LABELS, store=store, config=AgentConfig(max_questions=1))
    agent.run([_task("my meds")])
    assert seen[0].index('"meds question"') < seen[0].index('"job question"')  # nearest example first
    assert "emotional state -> age" in seen[0]
    model = scripted("0")
    path_agent = AskingAgent(
        model, ATTRS, LABELS, store=store, config=AgentConfig(max_questions=2, abstention=False, acquisition="path")
    )
    t = path_agent.run([_task("my meds")])[0]
    assert t.asked == ["emotional_state", "age"] and model.calls == 0


def test_batch_of_tasks_keeps_each_conversation_apart() -> None:
    def rate(conv):
        return "5" if "stop now" in conv[-1].content else "0"

    agent = AskingAgent(scripted(rate, "gender"), ATTRS, LABELS, config=AgentConfig(max_questions=2))
    ts = agent.run(
        [
            AgentTask(query_id="a", query="stop now", user=SimulatedUser(PROFILE)),
            AgentTask(query_id="b", query="go on", user=SimulatedUser(PROFILE)),
        ]
    )
    assert [len(t.turns) for t in ts] == [0, 2]


def test_simulated_user_answers_from_the_profile() -> None:
    u = SimulatedUser(PROFILE, LABELS)
    assert u.answer("self_harm_history") == "My past self-harm history: Yes."
    assert u.answer("gender") == DECLINED  # None in the profile
    assert u.answer("emotional_state") == DECLINED  # missing from the profile
    assert u.asked == ["self_harm_history", "gender", "emotional_state"]


@pytest.mark.parametrize(
    ("text", "want"),
    [("5", 5), ("Completeness: 3/5", 3), ('{"rating": 2}', 2), ("I'd rate it 4 out of 5", 4), ("seven", None)],
)
def test_rating_parser(text: str, want: int | None) -> None:
    assert rating(text) == want


def test_mentions_prefers_the_longest_name() -> None:
    options = ["health_status", "mental_health_status"]
    assert mentions("Mental health status", options) == ["mental_health_status"]
    assert mentions("health status first, then mental health status", options) == options
