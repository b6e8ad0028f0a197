"""Engine unit tests: pure, with the real flows and catalogs and small fakes."""

from __future__ import annotations

import json

import pytest

from bot import DIALOGS_DIR, LOCALES_DIR
from bot.engine import MAX_TEXT, Engine
from bot.flows import load_flows
from bot.i18n import Translator
from bot.model import Back, Help, Pick, Restart, SetLanguage, Show, Start, Text
from tests.fakes import FakeDirectory, KeywordDetector


@pytest.fixture(scope="module")
def flows():
    return load_flows(DIALOGS_DIR)


@pytest.fixture(scope="module")
def translator():
    return Translator.load(LOCALES_DIR)


@pytest.fixture
def eng(flows, translator):
    return Engine(flows, translator, detector=KeywordDetector(), directory=FakeDirectory())


def ids(replies):
    return [c.id for r in replies for c in r.choices]


def started(eng, lang="en"):
    return eng.advance(None, Start(lang=lang))


def test_first_contact_without_language_asks_for_it_with_the_hint_first(eng):
    state, replies = eng.advance(None, Start(hint="uk-UA,uk;q=0.9,en;q=0.5"))
    assert state["lang"] == "uk" and not state["chosen"]
    assert ids(replies)[:4] == ["lang:uk", "lang:lt", "lang:ru", "lang:en"]
    state, replies = eng.advance(state, Pick("lang:lt"))
    assert state["lang"] == "lt" and state["chosen"]
    assert "menu.main.job" in ids(replies)


def test_explicit_language_skips_the_question_and_shows_the_menu(eng):
    state, replies = started(eng, "ru")
    assert state["chosen"] and state["lang"] == "ru"
    assert replies[-1].kind == "question"
    assert ids(replies)[0] == "menu.main.job"


def test_state_is_small_and_json_serialisable(eng):
    state, _ = started(eng)
    state, _ = eng.advance(state, Pick("menu.main.job"))
    text = json.dumps(state)
    assert json.loads(text) == state
    assert len(text) < 1000


def test_each_event_gives_at_least_one_reply(eng):
    state, _ = started(eng)
    for event in (Show(), Back(), Restart(), Help(), SetLanguage("uk"), Text("hello"), Pick("x")):
        state, replies = eng.advance(state, event)
        assert replies, event


def test_choice_moves_forward_and_back_undoes_the_answer(eng, flows):
    state, _ = started(eng)
    state, _ = eng.advance(state, Pick("menu.main.job"))
    assert state["flow"] == "job_offer"
    first = state["step"]
    step = flows["job_offer"].step(first)
    if step.type != "question":
        pytest.skip("the job-offer flow starts with a non-question step")
    choice = step.choices[-1].id
    state, _ = eng.advance(state, Pick(f"job_offer.{first}.{choice}"))
    assert state["answers"][first] == choice
    state, replies = eng.advance(state, Back())
    assert state["step"] == first and first not in state["answers"]
    assert replies[-1].kind == "question"


def test_stale_button_says_so_and_shows_the_current_step(eng):
    state, _ = started(eng)
    state, _ = eng.advance(state, Pick("menu.main.job"))
    before = dict(state)
    state, replies = eng.advance(state, Pick("menu.main.romance"))
    assert "out of date" in replies[0].text
    assert state["flow"] == before["flow"] and state["step"] == before["step"]


def test_unknown_choice_is_explained_and_nothing_is_lost(eng):
    state, _ = started(eng)
    state, replies = eng.advance(state, Pick("no-such-choice"))
    assert "choose one of the options" in replies[0].text
    assert replies[-1].choices


def test_empty_control_and_oversized_text_get_a_clear_message(eng):
    state, _ = started(eng)
    state, replies = eng.advance(state, Text("\x00\x07  \u202e "))
    assert "did not get any text" in replies[0].text
    state, replies = eng.advance(state, Text("a" * (MAX_TEXT + 1)))
    assert "too long" in replies[0].text and "4,000" in replies[0].text
    assert replies[-1].kind == "question"


def test_danger_text_interrupts_and_the_person_can_resume(eng):
    state, _ = started(eng)
    state, _ = eng.advance(state, Pick("menu.main.job"))
    where = (state["flow"], state["step"])
    state, replies = eng.advance(state, Text("my passport taken by the boss"))
    # the numbers come at once, with no question first; the country can be refined after
    assert state["flow"] == "help" and state["step"] == "contacts"
    handoff = [r for r in replies if r.kind == "handoff"]
    assert "serious" in handoff[0].text and handoff[0].contacts
    assert all(c.phone for c in handoff[0].contacts)
    assert not any(r.text.startswith("🚨") for r in replies)
    assert "country" in ids(replies)
    state, replies = eng.advance(state, Pick("country"))
    assert state["step"] == "where"
    state, replies = eng.advance(state, Pick("help.where.DE"))
    assert state["country"] == "DE"
    handoff = [r for r in replies if r.kind == "handoff"]
    assert handoff and handoff[0].contacts[0].phone == "+370 000"
    assert "resume" in ids(replies)
    state, replies = eng.advance(state, Pick("resume"))
    assert (state["flow"], state["step"]) == where


def test_urgent_text_leads_with_the_emergency_number_for_the_country(eng):
    state, _ = started(eng)
    state["country"] = "GB"
    state, replies = eng.advance(state, Text("I am locked in"))
    handoff = [r for r in replies if r.kind == "handoff"]
    assert handoff[0].text.startswith("🚨") and "999" in handoff[0].text
    assert handoff[0].contacts[0].phone == "999"


def test_help_remembers_the_country_for_the_conversation(eng):
    state, _ = started(eng)
    state, _ = eng.advance(state, Help())
    state, _ = eng.advance(state, Pick("help.where.PL"))
    state, _ = eng.advance(state, Restart())
    state, replies = eng.advance(state, Help())
    assert state["step"] == "contacts" and any(r.kind == "handoff" for r in replies)
    state, replies = eng.advance(state, Pick("country"))
    assert state["step"] == "where"


def test_language_switch_re_renders_the_current_step(eng, translator):
    state, replies = started(eng, "en")
    state, replies = eng.advance(state, SetLanguage("uk"))
    assert state["lang"] == "uk"
    assert replies[-1].text == translator.gettext("uk", "What would you like to do?")
    state, replies = eng.advance(state, SetLanguage("xx"))
    assert state["lang"] == "uk" and "lang:en" in ids(replies)


@pytest.mark.parametrize(
    "corrupt",
    [
        {"v": 1, "flow": "nope", "step": "x", "lang": "en"},
        {"v": 99},
        "not a dict",
        {"v": 1, "flow": "menu", "step": "main", "lang": "xx", "answers": {}, "trail": []},
        {"v": 1, "flow": "menu", "step": "main", "lang": "lt", "answers": [], "trail": []},
    ],
)
def test_corrupt_state_restarts_at_the_menu_with_a_message(eng, corrupt):
    state, replies = eng.advance(corrupt, Show())
    assert state["flow"] == "menu"
    sorry = (
        "Sorry, something went wrong with our conversation, so I started again "
        "from the menu. Nothing you need is lost."
    )
    assert replies[0].text == eng.translator.gettext(state["lang"], sorry)
    assert ids(replies)


def test_result_lists_flags_heaviest_first(eng, flows):
    flow = flows["job_offer"]
    results = [s for s in flow.steps.values() if s.type == "result"]
    assert results, "the job-offer flow ends in a result"
    flagged = [(s.id, c.id, c.flag) for s in flow.steps.values() for c in s.choices if c.flag][:3]
    state, _ = started(eng)
    state, _ = eng.advance(state, Pick("menu.main.job"))
    state["answers"] = {s: c for s, c, _ in flagged}
    state["step"] = results[0].id
    turn = eng.turn(state, Show())
    text = turn.replies[-1].text
    raised = {f for *_, f in flagged}
    # the short result: each flag's one line, heaviest first
    in_order = sorted(raised, key=lambda f: text.index("• " + flow.flags[f].short[:30]))
    weights = [flow.flags[f].weight for f in in_order]
    assert weights == sorted(weights, reverse=True)
    assert turn.replies[-1].kind == "result" and "help" in ids(turn.replies)


def test_notes_carry_no_free_text(eng):
    state, _ = started(eng)
    turn = eng.turn(state, Text("my passport taken, my name is Ona Petraitė"))
    blob = json.dumps([n.__dict__ for n in turn.notes])
    assert "Ona" not in blob and "passport" not in blob
    assert ("danger", "documents_taken") in [(n.name, n.value) for n in turn.notes]


def test_a_pasted_ad_describing_a_trap_is_scanned_not_interrupted(flows, translator):
    class AdScanner:
        def scan(self, text):
            from bot.scanner import Finding, ScanResult

            return ScanResult((Finding("passport_kept", "keep your passport", "Why.", 5),), "en")

    eng = Engine(flows, translator, KeywordDetector(), AdScanner(), directory=FakeDirectory())
    state, _ = started(eng)
    state, _ = eng.advance(state, Pick("menu.main.scan"))
    state, replies = eng.advance(state, Text("We keep your passport taken for registration"))
    assert replies[0].kind == "result" and "keep your passport" in replies[0].text
    assert "help" in ids(replies) and state["flow"] == "scan"
    state, replies = eng.advance(state, Pick("scan.after.another"))
    state, replies = eng.advance(state, Text("Help, I am locked in"))
    assert state["flow"] == "help"  # an urgent signal still interrupts at once
