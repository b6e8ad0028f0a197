"""Risk questionnaire scoring: each level starts and ends where risk.yaml says it does."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.flows import load_flows
from bot.i18n import Translator
from bot.model import Pick

CRITICAL = {
    ("a_safe", "danger"),
    ("a_movement", "locked"),
    ("a_violence", "yes"),
    ("p_forced", "yes"),
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    # No detector or directory: only the flow logic is under test here.
    return Engine(flows=load_flows(), translator=Translator.load())


def take_test(engine: Engine, track: str, answers: dict[str, str]) -> tuple[str, str]:
    """Answer the test (harmlessly wherever `answers` is silent); return the level and text."""
    state = engine.new_state(lang="en")
    state["chosen"] = True
    turn = engine.turn(state, Pick("go:risk"))
    answers = {"track": track, **answers}
    flow = engine.flows["risk"]
    for _ in range(len(flow.steps)):
        step = flow.step(turn.state["step"])
        if step.type == "result":
            break
        harmless = next(c.id for c in step.choices if not c.flag and not c.urgent)
        turn = engine.turn(turn.state, Pick(f"risk.{step.id}.{answers.get(step.id, harmless)}"))
    levels = [n.value for n in turn.notes if n.name == "result_level"]
    assert len(levels) == 1, turn.replies
    return levels[0].removeprefix("risk:"), turn.replies[-1].text


PLANNING = [
    ({}, "low"),
    ({"p_employer": "no"}, "low"),  # 2: an unchecked employer alone
    ({"p_contract": "no"}, "some"),  # 3
    ({"p_documents": "yes"}, "some"),  # 5
    ({"p_fee": "yes", "p_housing": "employer"}, "high"),  # 4 + 2 = 6
    ({"p_documents": "yes", "p_housing": "not_free", "p_fee": "yes", "p_situation": "yes"}, "high"),
    (
        {
            "p_documents": "yes",
            "p_housing": "not_free",
            "p_fee": "yes",
            "p_situation": "yes",
            "p_safety": "no",
        },
        "urgent",
    ),  # 5 + 5 + 4 + 1 + 1 = 16
]

ABROAD = [
    ({}, "low"),
    ({"a_depend": "yes"}, "some"),  # 2
    ({"a_contact": "yes"}, "some"),  # 4
    ({"a_documents": "yes"}, "high"),  # 5: one strong sign is enough
    ({"a_promises": "partly", "a_hours": "yes"}, "high"),  # 3 + 3: two medium signs
    ({"a_documents": "yes", "a_debt": "unsure", "a_contact": "yes"}, "high"),  # 14
    ({"a_documents": "yes", "a_debt": "yes", "a_threats": "yes"}, "urgent"),  # 15
]


@pytest.mark.parametrize(("answers", "level"), PLANNING)
def test_planning_level_boundaries(engine, answers, level):
    assert take_test(engine, "planning", answers)[0] == level


@pytest.mark.parametrize(("answers", "level"), ABROAD)
def test_abroad_level_boundaries(engine, answers, level):
    assert take_test(engine, "abroad", answers)[0] == level


def test_result_lists_the_answers_that_raised_it_heaviest_first(engine):
    _, text = take_test(engine, "abroad", {"a_depend": "yes", "a_documents": "yes"})
    assert "not a legal finding" in text
    assert text.index("passport or ID") < text.index("controls your home")


def test_critical_answers_are_exactly_the_urgent_ones():
    flow = load_flows()["risk"]
    urgent = {(s.id, c.id) for s in flow.steps.values() for c in s.choices if c.urgent}
    assert urgent == CRITICAL


@pytest.mark.parametrize(("step", "choice"), sorted(CRITICAL))
def test_a_critical_answer_interrupts_with_help_then_the_result_is_urgent(engine, step, choice):
    flow = engine.flows["risk"]
    track = "planning" if step.startswith("p_") else "abroad"
    state = engine.new_state(lang="en")
    state["chosen"], state["country"] = True, "LT"
    turn = engine.turn(state, Pick("go:risk"))
    turn = engine.turn(turn.state, Pick(f"risk.track.{track}"))
    while turn.state["step"] != step:
        here = flow.step(turn.state["step"])
        harmless = next(c.id for c in here.choices if not c.flag and not c.urgent)
        turn = engine.turn(turn.state, Pick(f"risk.{here.id}.{harmless}"))
    turn = engine.turn(turn.state, Pick(f"risk.{step}.{choice}"))
    assert turn.state["flow"] == "help"
    assert [r.kind for r in turn.replies][:2] == ["info", "handoff"]
    turn = engine.turn(turn.state, Pick("resume"))
    assert (turn.state["flow"], turn.state["step"]) == ("risk", flow.step(step).choice(choice).next)
    while flow.step(turn.state["step"]).type != "result":
        here = flow.step(turn.state["step"])
        harmless = next(c.id for c in here.choices if not c.flag and not c.urgent)
        turn = engine.turn(turn.state, Pick(f"risk.{here.id}.{harmless}"))
    assert [n.value for n in turn.notes if n.name == "result_level"] == ["risk:urgent"]


def test_every_flag_can_be_raised_and_choice_ids_stay_text():
    flow = load_flows()["risk"]
    raised = {c.flag for s in flow.steps.values() for c in s.choices if c.flag}
    assert raised == set(flow.flags)
    for step in flow.steps.values():
        for choice in step.choices:
            # An unquoted yes/no in YAML would become a boolean and be stored as "True".
            assert choice.id not in ("True", "False"), (step.id, choice.id)
