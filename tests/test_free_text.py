"""What people type, end to end through the real engine: the detector with its model, the
typed-answer and country vocabularies, the hotline directory and the catalogs.

Every reply to a danger text carries a callable number in the same turn (the emergency
number first when urgent); plain requests for help lead straight to help; a typed answer
works like a pressed button; a country named in the text picks its numbers; the person is
answered in the language they write in; bad input gets a clear reply, never an error.
"""

from __future__ import annotations

import pytest

from bot.model import Media, Pick, Start, Text
from bot.runtime import build_engine

MEDIA = (
    "I cannot listen to voice messages or look at pictures yet. Please type what happened in "
    "a few words. If you need help now, you can call:"
)


@pytest.fixture(scope="module")
def engine():
    return build_engine()


def start(engine, lang):
    state, _ = engine.advance(None, Start(lang=lang))
    return state


def phones(replies):
    return [c.phone for r in replies for c in r.contacts if c.phone]


DANGER = {
    "en": "my boss took my passport and does not pay us",
    "lt": "sefas atieme pasa ir nemoka algos",
    "ru": "бригадир забрал паспорт и не платит",
    "uk": "бригадир забрав паспорт і не платить",
}
URGENT = {
    "en": "help they locked me in the basement and beat me",
    "lt": "uzrakino rusy ir musa padekit",
    "ru": "меня заперли в подвале и бьют помогите",
    "uk": "мене замкнули в підвалі і б'ють допоможіть",
}


@pytest.mark.parametrize("lang", ["en", "lt", "ru", "uk"])
def test_danger_gets_a_callable_number_in_the_first_reply(engine, lang):
    state = start(engine, lang)
    state, replies = engine.advance(state, Text(DANGER[lang]))
    first = next(r for r in replies if r.kind == "handoff")
    assert first.contacts and first.contacts[0].phone
    assert state["flow"] == "help" and state["step"] == "contacts"
    assert not replies[0].text.startswith("🚨")


@pytest.mark.parametrize("lang", ["en", "lt", "ru", "uk"])
def test_urgent_danger_leads_with_the_emergency_number(engine, lang):
    state = start(engine, lang)
    _, replies = engine.advance(state, Text(URGENT[lang]))
    assert replies[0].text.startswith("🚨") and replies[0].contacts[0].phone == "112"
    assert len(set(phones(replies))) >= 2  # 112, then a line reachable from abroad


@pytest.mark.parametrize(
    ("lang", "text", "country"),
    [
        ("en", "I'm in Norway, they took my passport", "NO"),
        ("ru", "я в Польше, забрали паспорт и не платят", "PL"),
        ("lt", "esu Vokietijoje, atemė pasą", "DE"),
        ("uk", "ми в Нідерландах, забрали паспорти", "NL"),
    ],
)
def test_a_country_in_the_text_is_used_without_asking(engine, lang, text, country):
    state = start(engine, lang)
    state, replies = engine.advance(state, Text(text))
    assert state["country"] == country
    assert "country" in [c.id for r in replies for c in r.choices]  # "Change country"
    assert phones(replies)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I need help"),
        ("en", "what do i do"),
        ("en", "give me the hotline number, my sister is in trouble"),
        ("lt", "padėkit"),
        ("lt", "man reikia pagalbos"),
        ("ru", "помогите"),
        ("ru", "куда звонить"),
        ("uk", "допоможіть"),
        ("uk", "що мені робити"),
    ],
)
def test_plain_requests_for_help_lead_straight_to_numbers(engine, lang, text):
    state = start(engine, lang)
    state, replies = engine.advance(state, Text(text))
    assert state["flow"] == "help"
    assert phones(replies)


@pytest.mark.parametrize(
    ("lang", "typed", "answer"),
    [
        ("en", "No", "no"),
        ("en", "2", "no"),
        ("en", "not sure", "unsure"),
        ("lt", "ne", "no"),
        ("lt", "taip", "yes"),
        ("lt", "nezinau", "unsure"),
        ("ru", "нет", "no"),
        ("ru", "da", "yes"),
        ("uk", "ні", "no"),
        ("uk", "так", "yes"),
    ],
)
def test_typed_answers_work_like_buttons(engine, lang, typed, answer):
    state = start(engine, lang)
    state, _ = engine.advance(state, Pick("menu.main.job"))
    state, _ = engine.advance(state, Pick(f"job_offer.{state['step']}.NO"))
    step = state["step"]
    state, _ = engine.advance(state, Text(typed))
    assert state["answers"].get(step) == answer


def test_a_lithuanian_message_in_an_english_chat_is_answered_in_lithuanian(engine):
    state, _ = engine.advance(None, Start(hint="nb-NO,nb;q=0.9"))  # a phone set to Norwegian
    state, replies = engine.advance(state, Text("sveiki, noriu patikrinti darbo pasiulyma"))
    assert state["lang"] == "lt"
    assert "lang" in [c.id for c in replies[-1].choices]  # one tap to change it back


@pytest.mark.parametrize(
    ("text", "lang", "phrase"),
    [
        ("nas zaperli na sklade i ne vypuskayut", "ru", "звоните 112"),
        ("nas zakryly na skladi i ne vypuskaiut", "uk", "телефонуйте 112"),
        ("sefas uzrakino mus sandelyje ir neisleidzia", "lt", "skambinkite 112"),
    ],
)
def test_a_cry_typed_in_latin_letters_is_answered_in_its_language(engine, text, lang, phrase):
    """Russian and Ukrainian typed in Latin letters, and Lithuanian without diacritics, in
    a chat set to English: these once read as English and were answered in English."""
    state = start(engine, "en")
    state, replies = engine.advance(state, Text(text))
    assert state["lang"] == lang
    assert phrase in replies[0].text.lower()
    assert replies[0].text.startswith("🚨") and "112" in phones(replies)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x" * 10_000,
        "😭😭😭🙏",
        "\u200b\u200d\u00ad\u202e\ufeff",
        "Помогите pomogite допоможіть padėkit help",
        "日本語のテキスト",
        "\x00\x07",
    ],
)
@pytest.mark.parametrize("lang", ["en", "uk"])
def test_bad_input_gets_a_clear_reply(engine, lang, text):
    state = start(engine, lang)
    state, replies = engine.advance(state, Text(text))
    assert replies and all(r.text for r in replies)
    assert replies[-1].choices or replies[-1].kind == "question"


@pytest.mark.parametrize("lang", ["en", "lt", "ru", "uk"])
def test_a_voice_message_is_answered_with_a_number_in_the_persons_language(engine, lang):
    state = start(engine, lang)
    _, replies = engine.advance(state, Media("voice"))
    assert replies[0].kind == "handoff" and replies[0].contacts[0].phone == "112"
    assert len(replies[0].contacts) >= 2
    said = engine.translator.gettext(lang, MEDIA)
    assert replies[0].text == said and (lang == "en" or said != MEDIA)
    assert replies[-1].choices  # and the conversation goes on where it was
