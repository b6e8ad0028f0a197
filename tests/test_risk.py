"""Risk questionnaire scoring: each level starts and ends where risk.yaml says it does."""

from __future__ import annotations

import re

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

# Calibrated to the Delphi combination rule (risk.yaml, top): strong coercion 5, excessive
# hours 4, medium 2, weak ("Partly") 1; HIGH from 5, CRITICAL from 15.
MEDIUM_SIGNS = {
    "a_promises": "yes",
    "a_pay": "yes",
    "a_conditions": "yes",
    "a_threats": "yes",
    "a_depend": "yes",
}
STRONG_SIGNS = {
    "a_documents": "yes",
    "a_debt": "yes",
    "a_movement": "watched",
    "a_contact": "yes",
}

ABROAD = [
    ({}, "low"),
    ({"a_promises": "partly"}, "low"),  # 1: one weak sign
    ({"a_promises": "yes"}, "some"),  # 2: one medium sign
    ({"a_promises": "partly", "a_conditions": "yes"}, "some"),  # 1 + 2: the newcomer's case
    ({"a_pay": "yes", "a_threats": "yes"}, "some"),  # 2 + 2: two medium signs
    ({"a_hours": "yes"}, "some"),  # 4: excessive hours alone is not coercion
    ({"a_hours": "yes", "a_promises": "partly"}, "high"),  # 1 strong + 1 weak
    ({"a_pay": "yes", "a_threats": "yes", "a_promises": "partly"}, "high"),  # 2 medium + 1 weak
    ({"a_pay": "yes", "a_threats": "yes", "a_depend": "yes"}, "high"),  # 3 medium
    ({"a_documents": "yes"}, "high"),  # 5: one strong coercion sign
    ({"a_documents": "yes", "a_debt": "unsure", "a_contact": "yes"}, "urgent"),  # 15
    ({"a_documents": "yes", "a_debt": "yes", "a_pay": "yes", "a_depend": "yes"}, "high"),  # 14
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
    assert text.index("passport or ID") < text.index("depend on the employer")


def test_partly_weighs_less_than_yes(engine):
    assert take_test(engine, "abroad", {"a_promises": "partly"})[0] == "low"
    assert take_test(engine, "abroad", {"a_promises": "yes"})[0] == "some"
    assert take_test(engine, "planning", {"p_safety": "partly", "p_employer": "no"})[0] == "some"
    assert take_test(engine, "planning", {"p_safety": "partly"})[0] == "low"


TRAFFICKING = {"en": "traffick", "lt": "prekyb", "ru": "торговл", "uk": "торгівл"}
LEVEL_NAMES = {
    "en": ("Risk: MEDIUM", "Risk: HIGH"),
    "lt": ("Rizika: VIDUTINĖ", "Rizika: DIDELĖ"),
    "ru": ("Риск: СРЕДНИЙ", "Риск: ВЫСОКИЙ"),
    "uk": ("Ризик: СЕРЕДНІЙ", "Ризик: ВИСОКИЙ"),
}


@pytest.fixture(scope="module")
def real():
    from bot.runtime import build_engine

    return build_engine()


def result_in(engine: Engine, lang: str, answers: dict[str, str]) -> tuple[str, str]:
    """Take the abroad track in `lang`; return the level and the short result's text."""
    state = engine.new_state(lang=lang)
    state["chosen"] = True
    turn = engine.turn(state, Pick("go:risk"))
    answers = {"track": "abroad", **answers}
    flow = engine.flows["risk"]
    while (step := flow.step(turn.state["step"])).type != "result":
        harmless = next(c.id for c in step.choices if not c.flag and not c.urgent)
        turn = engine.turn(turn.state, Pick(f"risk.{step.id}.{answers.get(step.id, harmless)}"))
    level = next(n.value for n in turn.notes if n.name == "result_level")
    return level.removeprefix("risk:"), turn.replies[-1].text


@pytest.mark.parametrize("lang", sorted(TRAFFICKING))
@pytest.mark.parametrize("step", sorted(MEDIUM_SIGNS))
def test_one_medium_sign_is_medium_and_never_speaks_of_trafficking(real, lang, step):
    level, text = result_in(real, lang, {step: MEDIUM_SIGNS[step]})
    assert level == "some"
    assert text.startswith(LEVEL_NAMES[lang][0])
    # The hotline may be called an anti-trafficking line; the verdict must not say it.
    state = {**real.new_state(lang=lang), "country": "LT"}
    hotline = real._hotline(state, "LT")
    assert hotline and hotline in text
    assert TRAFFICKING[lang] not in text.replace(hotline, "").lower()


@pytest.mark.parametrize("lang", sorted(TRAFFICKING))
@pytest.mark.parametrize("step", sorted(STRONG_SIGNS))
def test_one_strong_coercion_sign_is_high_and_names_the_hotline(real, lang, step):
    level, text = result_in(real, lang, {step: STRONG_SIGNS[step]})
    assert level == "high"
    assert text.startswith(LEVEL_NAMES[lang][1])
    assert "+370 616 91119" in text or "8 800 91119" in text or "+38 044 284 19 15" in text


@pytest.mark.parametrize("flow_id", ["risk", "job_offer", "romance", "help"])
def test_every_call_names_the_number(flow_id):
    """ "Call ..." is followed, in the same sentence, by a number or {emergency}/{hotline}."""
    flow = load_flows()[flow_id]
    texts = [f.text for f in flow.flags.values()] + [f.short for f in flow.flags.values()]
    for step in flow.steps.values():
        texts += [step.text, step.todo, step.advice, step.urgent_text]
        texts += [lv.text for lv in step.levels]
    calls = 0
    for text in texts:
        for match in re.finditer(r"(?<!The )(?<!video )\b[Cc]all\b(?! is\b)", text):
            calls += 1
            sentence = re.split(r"[.!?](\s|$)", text[match.end() :])[0]
            assert re.search(r"\d|\{emergency\}|\{hotline\}", sentence), text
    assert calls or flow_id == "romance"


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
    after = flow.step(flow.step(step).choice(choice).next)
    if after.type == "branch":  # (the country question is skipped once help knows it)
        after = flow.step(engine._branch(turn.state, after))
    assert (turn.state["flow"], turn.state["step"]) == ("risk", after.id)
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
