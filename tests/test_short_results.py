"""Checklist results people read to the end: short first, everything one tap away.

Measured the way a phone shows it: the short result (before "Show all") of the longest
case, every warning sign raised, in every language and for every destination.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import LANGUAGES
from bot.engine import TOP_FLAGS, Engine
from bot.model import Pick

#: About one phone screen (390 × 844 CSS px at the chat page's font size).
MAX_WORDS = 120
DESTINATIONS = ("LT", "GB", "DE", "NO", "NL", "PL", "OTHER")


@pytest.fixture(scope="module")
def real() -> Engine:
    from bot.runtime import build_engine

    return build_engine().with_desk(None, clock=lambda: datetime(2026, 12, 4, tzinfo=UTC))


def answer_all(engine: Engine, flow_id: str, lang: str, picks: dict[str, str], risky=True):
    """Answer a flow, each question with its heaviest non-urgent answer unless `picks` says."""
    flow = engine.flows[flow_id]
    state = engine.new_state(lang=lang)
    state["chosen"] = True
    turn = engine.turn(state, Pick(f"go:{flow_id}"))
    while (step := flow.step(turn.state["step"])).type != "result":
        calm = [c for c in step.choices if not c.urgent]
        heavy = max(calm, key=lambda c: flow.flags[c.flag].weight if c.flag else 0)
        choice = picks.get(step.id, (heavy if risky else calm[0]).id)
        turn = engine.turn(turn.state, Pick(f"{flow_id}.{step.id}.{choice}"))
    return turn


CASES = [
    (flow_id, lang, where)
    for flow_id in ("job_offer", "romance")
    for lang in LANGUAGES
    for where in DESTINATIONS
] + [("risk", lang, where) for lang in LANGUAGES for where in DESTINATIONS]


@pytest.mark.parametrize(("flow_id", "lang", "where"), CASES)
def test_the_short_result_fits_one_phone_screen(real, flow_id, lang, where):
    picks = {"country": where, "where_to": where, "a_where": where, "track": "abroad"}
    turn = answer_all(real, flow_id, lang, picks)
    result = turn.replies[-1]
    assert result.kind == "result"
    words = len(result.text.split())
    assert words <= MAX_WORDS, f"{words} words:\n{result.text}"
    assert [c.id for c in result.choices][:1] == ["more"]
    flow = real.flows[flow_id]
    flags, _ = real._score(turn.state)
    assert len(flags) > TOP_FLAGS  # the case is the long one
    shown = [f for f in flags if real.translator.gettext(lang, flow.flags[f].short) in result.text]
    assert shown == flags[:TOP_FLAGS]  # the three heaviest, one line each
    full = real.turn(turn.state, Pick("more"))
    everything = "\n".join(r.text for r in full.replies)
    for flag in flags:  # nothing is lost: every explanation is one tap away
        assert real._said(turn.state, flow.flags[flag].text) in everything
    assert full.replies[-1].choices[0].id == "help"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_job_result_names_the_minimum_wage_there_with_date_and_source(real, lang):
    turn = answer_all(real, "job_offer", lang, {"country": "DE"})
    text = turn.replies[-1].text
    assert "13,90" in text or "13.90" in text  # the rate in force on 4 December 2026
    assert "big-direkt.de" in text and "2026" in text
    full = real.turn(turn.state, Pick("more"))
    everything = "\n".join(r.text for r in full.replies)
    consular = "+38 044 284 19 15" if lang == "uk" else "+370 706 52444"  # by reader
    assert "arbeitsagentur.de" in everything and consular in everything
    assert any(c.phone == "116 016" for r in full.replies for c in r.contacts)


def test_a_country_without_a_statutory_minimum_wage_gets_no_invented_figure(real):
    turn = answer_all(real, "job_offer", "en", {"country": "NO"})
    text = turn.replies[-1].text
    assert "no general legal minimum wage" in text
    turn = answer_all(real, "job_offer", "en", {"country": "OTHER"})
    assert "minimum wage" not in turn.replies[-1].text


@pytest.mark.parametrize(
    ("lang", "first", "later"),
    [
        ("en", "Question 1 of 18", "Question 2 of 17"),
        ("lt", "Klausimas 1 iš 18", "Klausimas 2 iš 17"),
        ("ru", "Вопрос 1 из 18", "Вопрос 2 из 17"),
        ("uk", "Питання 1 з 18", "Питання 2 з 17"),
    ],
)
def test_questions_show_progress_and_the_total_never_grows(real, lang, first, later):
    state = real.new_state(lang=lang)
    state["chosen"] = True
    turn = real.turn(state, Pick("go:job_offer"))
    assert first in turn.replies[-1].text
    turn = real.turn(turn.state, Pick("job_offer.country.DE"))
    assert later in turn.replies[-1].text
    totals = []
    flow = real.flows["job_offer"]
    while (step := flow.step(turn.state["step"])).type != "result":
        text = turn.replies[-1].text
        totals.append(int(text.split("\n")[0].split()[-1]))
        turn = real.turn(turn.state, Pick(f"job_offer.{step.id}.{step.choices[1].id}"))
    assert totals == sorted(totals, reverse=True)  # "no agency" shortens it; it never grows
    assert totals[-1] == 16


def test_see_my_result_skips_the_rest_and_says_so(real):
    state = real.new_state(lang="en")
    state["chosen"] = True
    turn = real.turn(state, Pick("go:job_offer"))
    assert "finish" not in [c.id for c in turn.replies[-1].choices]  # nothing answered yet
    turn = real.turn(turn.state, Pick("job_offer.country.PL"))
    turn = real.turn(turn.state, Pick("job_offer.contract.no"))
    assert "finish" in [c.id for c in turn.replies[-1].choices]
    turn = real.turn(turn.state, Pick("finish"))
    result = turn.replies[-1]
    assert result.kind == "result"
    assert "You skipped some questions" in result.text
    assert "No written contract" in result.text
    assert [n.value for n in turn.notes if n.name == "flow_completed"] == ["job_offer"]


@pytest.mark.parametrize("flow_id", ["job_offer", "romance", "risk"])
def test_the_total_never_grows_whatever_the_answers(real, flow_id):
    flow = real.flows[flow_id]
    for pick in (0, 1, -1):  # first, second and last answers all the way
        state = real.new_state(lang="en")
        state["chosen"] = True
        turn = real.turn(state, Pick(f"go:{flow_id}"))
        totals = []
        while (step := flow.step(turn.state["step"])).type != "result":
            totals.append(int(turn.replies[-1].text.split("\n")[0].split()[-1]))
            calm = [c for c in step.choices if not c.urgent]
            turn = real.turn(
                turn.state, Pick(f"{flow_id}.{step.id}.{calm[min(pick, len(calm) - 1)].id}")
            )
        assert totals == sorted(totals, reverse=True), (pick, totals)
