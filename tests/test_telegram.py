"""The Telegram channel end to end: PTB's real HTTP client against a loopback Bot API.

Each test serves `BotApiStandIn` with uvicorn on 127.0.0.1, starts a `TelegramChannel` in
polling or webhook mode, delivers real Update JSON and reads what the bot sent back. No
request leaves the machine: the Bot API base URL is the stand-in's.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from bot import LANGUAGES
from bot.engine import Engine
from bot.i18n import LANGUAGE_NAMES
from bot.model import Choice, Contact, Event, Help, Pick, Reply, Restart
from bot.pseudonym import pseudonym
from bot.service import Conversations, Outcome
from bot.settings import Settings
from bot.store import InMemoryStore, open_store
from bot.telegram_bot import (
    APOLOGY,
    COMMANDS,
    DELETED,
    ERASED,
    SECRET_HEADER,
    TOO_OLD,
    TRY_LATER,
    WEBHOOK_PATH,
    TelegramChannel,
    parse_start_payload,
)
from bot.telegram_render import (
    MAX_MESSAGE,
    callback_data,
    keyboard,
    render,
    render_contact,
    split_text,
    utf16_length,
)
from tests.privacy_helpers import key_fragments, production_log_levels, record_text
from tests.telegram_builders import TgUser, command, group_message, media, message, photo, press
from tests.telegram_standin import TOKEN, BotApiStandIn, serve

pytestmark = pytest.mark.timeout(60)

SECRET = "test-webhook_secret-42-0123456789abcdef-padding"
PSEUDONYM_SECRET = "telegram-test-pseudonyms-0123456789abcdef-padding"
OUT_OF_DATE = "This menu is out of date. Here is where we are now:"
SERIOUS = (
    "What you describe sounds serious. It is not your fault, and you are not alone: there are "
    "people who can help, free and in confidence."
)


# ---------------------------------------------------------------------------- harness


@dataclass(frozen=True)
class Sent:
    """One message the bot sent, as the stand-in received it."""

    chat_id: int
    message_id: int
    text: str
    buttons: list[str]
    protect: bool


@dataclass
class Delivered:
    """What delivering one update led to: the webhook's status and the messages sent."""

    status: int
    sent: list[Sent]

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.sent]

    @property
    def read(self) -> str:
        """What the person reads, message after message (a turn's replies are joined so)."""
        return "\n\n".join(self.texts)

    @property
    def last(self) -> Sent:
        return self.sent[-1]


class Harness:
    """A running channel and the stand-in it talks to, in polling or webhook mode."""

    def __init__(self, standin: BotApiStandIn, channel: TelegramChannel, web: Any = None):
        self.standin = standin
        self.channel = channel
        self.client = (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="https://bot.test")
            if web is not None
            else None
        )

    async def deliver(self, update: dict, secret: str | None = SECRET) -> Delivered:
        """Deliver one update and wait until the bot has finished with it."""
        return (await self.deliver_at_once([update], secret))[0]

    async def deliver_at_once(
        self, updates: list[dict], secret: str | None = SECRET
    ) -> list[Delivered]:
        """Deliver several updates together; the messages sent are reported with the last."""
        before = len(self.standin.calls)
        numbered = [
            u if "update_id" in u else {"update_id": self.standin.new_update_id(), **u}
            for u in updates
        ]
        if self.client is None:
            for update in numbered:
                self.standin.feed(update)
            last_id = numbered[-1]["update_id"]
            await until(lambda: self.standin.confirmed >= last_id)
            app = self.channel.application
            assert app is not None
            await app.update_queue.join()
            statuses = [200] * len(numbered)
        else:
            headers = {SECRET_HEADER: secret} if secret is not None else {}
            responses = await asyncio.gather(
                *(self.client.post(WEBHOOK_PATH, json=u, headers=headers) for u in numbered)
            )
            statuses = [r.status_code for r in responses]
            for response in responses:  # Telegram runs a method given in a 200 response
                if response.status_code == 200:
                    self.standin.run_reply(response.content)
        sent = self.sent_since(before)
        return [
            Delivered(s, sent if i == len(numbered) - 1 else []) for i, s in enumerate(statuses)
        ]

    def sent_since(self, index: int) -> list[Sent]:
        """Return the messages sent successfully since call number `index`."""
        return [
            Sent(
                chat_id=c.params["chat_id"],
                message_id=c.result["message_id"],
                text=c.params["text"],
                buttons=[
                    b["callback_data"]
                    for row in (c.params.get("reply_markup") or {}).get("inline_keyboard", [])
                    for b in row
                ],
                protect=bool(c.params.get("protect_content")),
            )
            for c in self.standin.calls[index:]
            if c.method == "sendMessage" and c.status == 200
        ]

    async def press(self, user: TgUser, sent: Sent, data: str) -> Delivered:
        """Press the button `data` under a message the bot sent."""
        assert data in sent.buttons, f"{data} not among {sent.buttons}"
        bot_message = self.standin.message(sent.chat_id, sent.message_id)
        return await self.deliver(press(user, bot_message, data))

    def key(self, user: TgUser) -> str:
        """Return the pseudonym the bot keys this person's conversation by."""
        return pseudonym(PSEUDONYM_SECRET.encode(), "telegram", user.id)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()


async def until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Wait until `predicate()` holds, failing the test after `within` seconds."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - any condition, read from many places
            await asyncio.sleep(0.005)


@pytest.fixture
def standin() -> BotApiStandIn:
    return BotApiStandIn()


@pytest.fixture
async def api_url(standin: BotApiStandIn) -> AsyncIterator[str]:
    async with serve(standin.app) as url:
        yield url


def make_settings(api_url: str, tmp_path: Path, webhook: bool) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        telegram_bot_token=TOKEN,
        telegram_api_base_url=f"{api_url}/bot",
        public_base_url="https://bot.example.org" if webhook else None,
        telegram_webhook_secret=SECRET,
        pseudonym_secret=PSEUDONYM_SECRET,
    )


@asynccontextmanager
async def running(
    standin: BotApiStandIn,
    api_url: str,
    service: Conversations,
    tmp_path: Path,
    mode: str = "polling",
) -> AsyncIterator[Harness]:
    """Start a channel in `mode` and stop it afterwards."""
    webhook = mode == "webhook"
    channel = TelegramChannel(
        make_settings(api_url, tmp_path, webhook), service, retry_backoff=0.01
    )
    await channel.start()
    web = Starlette(routes=[Route(WEBHOOK_PATH, channel.handle_webhook, methods=["POST"])])
    harness = Harness(standin, channel, web if webhook else None)
    try:
        yield harness
    finally:
        await harness.close()
        await channel.stop()


@pytest.fixture(params=["polling", "webhook"])
async def bot(
    request: pytest.FixtureRequest,
    standin: BotApiStandIn,
    api_url: str,
    service: Conversations,
    tmp_path: Path,
) -> AsyncIterator[Harness]:
    """A running channel, once polling and once by webhook."""
    async with running(standin, api_url, service, tmp_path, request.param) as harness:
        yield harness


@pytest.fixture
async def polling(
    standin: BotApiStandIn, api_url: str, service: Conversations, tmp_path: Path
) -> AsyncIterator[Harness]:
    async with running(standin, api_url, service, tmp_path, "polling") as harness:
        yield harness


@pytest.fixture
async def webhook(
    standin: BotApiStandIn, api_url: str, service: Conversations, tmp_path: Path
) -> AsyncIterator[Harness]:
    async with running(standin, api_url, service, tmp_path, "webhook") as harness:
        yield harness


def t(engine: Engine, lang: str, msgid: str) -> str:
    return engine.translator.gettext(lang, msgid)


async def open_menu(bot: Harness, user: TgUser, lang: str = "en") -> Sent:
    """Start by a deep link with a language, and return the main menu message."""
    delivered = await bot.deliver(command(user, "start", f"test__{lang}"))
    menu = delivered.last
    assert "menu.main.job" in menu.buttons
    return menu


# ---------------------------------------------------------------------------- start


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_start_asks_for_the_language_in_the_persons_own(
    polling: Harness, engine: Engine, lang: str
) -> None:
    user = TgUser(101, language_code=lang)
    delivered = await polling.deliver(command(user, "start"))
    question = delivered.last
    assert t(engine, lang, "Choose your language:") in question.text
    assert question.buttons[0] == f"lang:{lang}"
    assert sorted(question.buttons) == sorted(f"lang:{code}" for code in LANGUAGES)
    stored = await polling.channel.service.store.get(polling.key(user))
    assert stored is not None and stored.state["campaign"] is None


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_deep_link_sets_the_campaign_and_the_language(
    polling: Harness, engine: Engine, lang: str
) -> None:
    user = TgUser(102, language_code="en")
    delivered = await polling.deliver(command(user, "start", f"job_fairs__{lang}"))
    # One message: the greeting, a blank line, the menu's question, and its buttons.
    greeting = t(engine, lang, engine._greeting())
    assert delivered.texts == [f"{greeting}\n\n{t(engine, lang, 'What would you like to do?')}"]
    assert "menu.main.job" in delivered.last.buttons
    stored = await polling.channel.service.store.get(polling.key(user))
    assert stored.state["campaign"] == "job_fairs"
    assert stored.state["lang"] == lang


async def test_deep_link_with_a_campaign_only_keeps_the_persons_language(
    polling: Harness, engine: Engine
) -> None:
    user = TgUser(103, language_code="uk")
    delivered = await polling.deliver(command(user, "start", "kaunas_bus"))
    assert t(engine, "uk", "Choose your language:") in delivered.last.text
    stored = await polling.channel.service.store.get(polling.key(user))
    # Not in campaigns.yaml: kept only as "other" (a code may carry a name or a number).
    assert stored.state["campaign"] == "other"


@pytest.mark.parametrize("payload", ["<script>", "a" * 65, "two words", "x.y"])
async def test_an_invalid_deep_link_is_ignored(
    polling: Harness, engine: Engine, payload: str
) -> None:
    user = TgUser(104, language_code="lt")
    delivered = await polling.deliver(command(user, "start", payload))
    assert t(engine, "lt", "Choose your language:") in delivered.last.text
    stored = await polling.channel.service.store.get(polling.key(user))
    assert stored.state["campaign"] is None


def test_start_payload_rules() -> None:
    assert parse_start_payload(["promo1"]) == ("promo1", None)
    assert parse_start_payload(["promo1__ru"]) == ("promo1", "ru")
    assert parse_start_payload(["promo1", "extra"]) == (None, None)
    assert parse_start_payload(["__uk"]) == (None, "uk")
    assert parse_start_payload(["promo__xx"]) == ("promo__xx", None)
    assert parse_start_payload(["a" * 64]) == ("a" * 64, None)
    assert parse_start_payload(["a" * 65]) == (None, None)
    assert parse_start_payload(["bad!"]) == (None, None)
    assert parse_start_payload([]) == (None, None)
    assert parse_start_payload(None) == (None, None)


# ---------------------------------------------------------------------------- buttons


async def test_a_whole_checklist_by_button_presses(bot: Harness, engine: Engine) -> None:
    user = TgUser(201)
    menu = await open_menu(bot, user)
    delivered = await bot.press(user, menu, "menu.main.job")
    presses = 1
    current = delivered.last
    while any(b.startswith("job_offer.") for b in current.buttons):
        choice = next(b for b in current.buttons if b.startswith("job_offer."))
        delivered = await bot.press(user, current, choice)
        presses += 1
        assert delivered.status == 200
        assert OUT_OF_DATE not in delivered.read
        # The pressed keyboard is taken away, so an answered question cannot be pressed again.
        assert "reply_markup" not in bot.standin.message(user.id, current.message_id)
        current = delivered.last
        assert presses < 60, "the checklist never ended"
    assert presses > 3
    # The short result offers the rest ("Show all"), help and the menu.
    assert current.buttons == ["more", "help", "menu"]
    assert len(current.text.split()) <= 120
    delivered = await bot.press(user, current, "more")
    presses += 1
    assert delivered.status == 200
    full = "\n".join(delivered.texts)
    assert len(full.split()) > len(current.text.split())  # every explanation, one tap away
    assert delivered.last.buttons == ["help", "menu"]
    # Every press is answered once: by webhook in the HTTP response, polling by a call.
    answers = bot.standin.calls_to("answerCallbackQuery")
    assert len(answers) == presses
    assert all(a.in_reply == (bot.client is not None) for a in answers)
    for call in bot.standin.calls_to("sendMessage"):
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                assert len(button["callback_data"].encode()) <= 64
                assert button["callback_data"] != button["text"]


async def test_a_stale_button_says_so_and_shows_the_current_step(
    polling: Harness, engine: Engine
) -> None:
    user = TgUser(202, language_code="ru")
    menu = await open_menu(polling, user, "ru")
    question = (await polling.press(user, menu, "menu.main.job")).last
    await polling.deliver(command(user, "menu"))
    old = next(b for b in question.buttons if b.startswith("job_offer."))
    delivered = await polling.press(user, question, old)
    menu = t(engine, "ru", "What would you like to do?")
    assert delivered.texts == [f"{t(engine, 'ru', OUT_OF_DATE)}\n\n{menu}"]
    assert "menu.main.job" in delivered.last.buttons
    assert "reply_markup" not in polling.standin.message(user.id, question.message_id)


async def test_a_language_switch_changes_the_whole_chat(polling: Harness, engine: Engine) -> None:
    user = TgUser(203, language_code="en")
    await open_menu(polling, user, "en")
    question = (await polling.deliver(command(user, "language"))).last
    delivered = await polling.press(user, question, "lang:uk")
    assert t(engine, "uk", "What would you like to do?") in delivered.texts
    menu = polling.standin.commands[f"chat:{user.id}/"]
    assert {c["command"] for c in menu} == {name for name, _ in COMMANDS}
    forget = next(c for c in menu if c["command"] == "forget")
    assert forget["description"] == t(engine, "uk", "Erase this chat")
    # The apology, too, comes in the conversation's language, not the phone's.
    polling.channel.service.store.down = True
    delivered = await polling.deliver(message(user, "hello"))
    assert delivered.texts == [t(engine, "uk", TRY_LATER)]
    # Back to the phone's language: the chat's own menu goes, the English one shows again.
    polling.channel.service.store.down = False
    question = (await polling.deliver(command(user, "language"))).last
    await polling.press(user, question, "lang:en")
    assert f"chat:{user.id}/" not in polling.standin.commands


@pytest.mark.parametrize(
    ("name", "event"),
    [
        ("menu", Restart()),
        ("help", Help()),
        ("language", Pick("lang")),
        ("privacy", Pick("go:about")),
    ],
)
async def test_commands_show_what_the_engine_says(
    polling: Harness, engine: Engine, name: str, event: Event
) -> None:
    user = TgUser(204, language_code="ru")
    await open_menu(polling, user, "ru")
    state = (await polling.channel.service.store.get(polling.key(user))).state
    _, expected = engine.advance(state, event)
    delivered = await polling.deliver(command(user, name))
    assert delivered.texts == [m.text for m in render(expected, lang=state["lang"])]


# ---------------------------------------------------------------------------- help


PHONE = re.compile(r"📞 \+?\d[\d ]{2,}")


async def test_help_hands_off_with_protected_contacts(polling: Harness, engine: Engine) -> None:
    user = TgUser(301, language_code="lt")
    await open_menu(polling, user, "lt")
    delivered = await polling.deliver(command(user, "help"))
    # zero taps: the numbers are in the answer to /help, protected from forwarding
    assert delivered.sent and all(s.protect for s in delivered.sent)
    assert PHONE.search(delivered.texts[0])
    where = await polling.press(user, delivered.last, "country")
    exact = await polling.press(user, where.last, "help.where.LT")
    assert all(s.protect for s in exact.sent)
    assert "8 800 91119" in "\n".join(exact.texts)


async def test_danger_in_free_text_leads_to_the_hotline(polling: Harness, engine: Engine) -> None:
    user = TgUser(302, language_code="en")
    menu = await open_menu(polling, user, "en")
    await polling.press(user, menu, "menu.main.job")
    text = "The employer took my passport and I cannot leave the house"
    delivered = await polling.deliver(message(user, text))
    # the very first message already has a number to call: 112 first, as this is urgent
    assert delivered.texts[0].startswith("🚨") and "📞 112" in delivered.texts[0]
    # then, after a blank line, what to do (one message, as it fits), buttons at the end
    assert f"\n\n{t(engine, 'en', SERIOUS)}" in delivered.read
    assert delivered.last.buttons and not any(s.buttons for s in delivered.sent[:-1])
    assert all(s.protect for s in delivered.sent)
    handoff = await polling.press(user, delivered.last, "country")
    handoff = await polling.press(user, handoff.last, "help.where.LT")
    assert all(s.protect for s in handoff.sent)
    assert PHONE.search("\n".join(handoff.texts))
    # Afterwards the person can go back to the checklist where they were.
    back = await polling.press(user, handoff.last, "resume")
    assert any(b.startswith("job_offer.") for b in back.last.buttons)
    assert not any(s.protect for s in back.sent)
    store = polling.channel.service.store
    assert "passport" not in str((await store.get(polling.key(user))).state)


MEDIA_REPLY = (
    "I cannot listen to voice messages or look at pictures yet. Please type what happened in "
    "a few words. If you need help now, you can call:"
)


@pytest.mark.parametrize("kind", ["voice", "video_note", "sticker"])
async def test_voice_video_note_or_sticker_asks_for_text_and_gives_a_number(
    polling: Harness, engine: Engine, kind: str
) -> None:
    user = TgUser(310 + len(kind), language_code="uk")
    await open_menu(polling, user, "uk")
    delivered = await polling.deliver(media(user, kind))
    assert delivered.texts[0].startswith(t(engine, "uk", MEDIA_REPLY))
    assert "📞 112" in delivered.texts[0] and PHONE.search(delivered.texts[0])


async def test_a_photo_is_answered_without_a_crash(polling: Harness, engine: Engine) -> None:
    user = TgUser(303)
    await open_menu(polling, user)
    delivered = await polling.deliver(photo(user))
    assert delivered.texts[0].startswith(t(engine, "en", MEDIA_REPLY))
    assert PHONE.search(delivered.texts[0])


async def test_a_photo_caption_is_read_like_typed_text(polling: Harness, engine: Engine) -> None:
    user = TgUser(304, language_code="en")
    await open_menu(polling, user, "en")
    delivered = await polling.deliver(photo(user, caption="they locked me in, help"))
    assert delivered.texts[0].startswith("🚨") and "📞 112" in delivered.texts[0]


async def test_group_chats_are_ignored(polling: Harness) -> None:
    delivered = await polling.deliver(group_message(TgUser(305), "/start"))
    assert delivered.sent == []


# ---------------------------------------------------------------------------- forget


async def test_forget_erases_and_deletes_recent_messages(polling: Harness, engine: Engine) -> None:
    user = TgUser(401, language_code="uk")
    old = message(user, "an old question", age=3 * 24 * 3600)
    polling.standin.add_user_message(old["message"])
    await polling.deliver(old)
    menu = await open_menu(polling, user, "uk")
    await polling.press(user, menu, "menu.main.romance")
    ours = [m for (chat, _), m in polling.standin.messages.items() if chat == user.id]
    delivered = await polling.deliver(command(user, "forget"))

    assert await polling.channel.service.store.get(polling.key(user)) is None
    deleted = {
        m for call in polling.standin.calls_to("deleteMessages") for m in call.params["message_ids"]
    }
    recent = {m["message_id"] for m in ours if m is not old["message"]}
    assert recent <= deleted  # the bot's and the person's own messages
    assert old["message"]["message_id"] not in deleted
    report = delivered.last.text
    assert t(engine, "uk", ERASED) in report
    assert t(engine, "uk", DELETED).format(count=len(deleted)) in report
    assert t(engine, "uk", TOO_OLD).format(count=1) in report
    assert (user.id, old["message"]["message_id"]) not in polling.standin.deleted

    # A button left over from before is out of date: the conversation starts afresh.
    again = await polling.deliver(press(user, menu_message(polling, menu), "menu.main.job"))
    assert t(engine, "uk", "Choose your language:") in again.last.text


def menu_message(bot: Harness, sent: Sent) -> dict:
    return {
        "message_id": sent.message_id,
        "date": int(time.time()),
        "chat": {"id": sent.chat_id, "type": "private"},
        "text": sent.text,
    }


# ---------------------------------------------------------------------------- faults


async def test_flood_control_is_waited_out(polling: Harness) -> None:
    user = TgUser(501)
    polling.standin.fail("sendMessage", times=1, status=429, retry_after=1)
    delivered = await polling.deliver(command(user, "start"))
    assert delivered.sent  # the message still arrives
    attempts = polling.standin.calls_to("sendMessage", ok=None)
    assert attempts[0].status == 429 and attempts[1].status == 200
    assert attempts[1].at - attempts[0].at >= 0.95


async def test_server_errors_are_retried_with_backoff(polling: Harness) -> None:
    user = TgUser(502)
    polling.standin.fail("sendMessage", times=2, status=502)
    delivered = await polling.deliver(command(user, "start"))
    assert len(delivered.sent) >= 1
    attempts = polling.standin.calls_to("sendMessage", ok=None)
    assert [a.status for a in attempts[:3]] == [502, 502, 200]
    # The waits double (0.01 s, then 0.02 s with this harness's backoff). Only lower bounds
    # are asserted: a busy machine may add to a wait but never shortens one.
    assert attempts[1].at - attempts[0].at >= 0.01
    assert attempts[2].at - attempts[1].at >= 0.02


class Flaky(Conversations):
    """The real service, except that it fails for one chosen conversation."""

    broken: str | None = None

    async def handle(self, key: str, event: Event, **kwargs: Any) -> Outcome:
        if key == self.broken:
            raise RuntimeError("simulated bug")
        return await super().handle(key, event, **kwargs)


async def test_a_crash_for_one_person_does_not_stop_another(
    standin: BotApiStandIn,
    api_url: str,
    engine: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = Flaky(engine, InMemoryStore())
    victim, other = TgUser(601, language_code="ru"), TgUser(602, language_code="lt")
    async with running(standin, api_url, flaky, tmp_path) as bot:
        await open_menu(bot, victim, "ru")
        flaky.broken = bot.key(victim)
        secret_text = "my name is Olena, call +37060000000"
        caplog.set_level(logging.INFO)
        with caplog.at_level(logging.DEBUG, logger="bot"):
            await bot.deliver_at_once([message(victim, secret_text), command(other, "start")])
        assert standin.texts(victim.id)[-1] == t(engine, "ru", APOLOGY)
        assert t(engine, "lt", "Choose your language:") in standin.texts(other.id)[-1]
        logged = "\n".join(record_text(r) for r in caplog.records)
        assert "update failed" in logged
        for private in (str(victim.id), secret_text, "Olena", victim.username, bot.key(victim)):
            assert private not in logged
        assert key_fragments(logged, bot.key(victim)) == []  # M-2: not even a prefix
        flaky.broken = None
        delivered = await bot.deliver(command(victim, "menu"))
        assert "menu.main.job" in delivered.last.buttons


async def test_a_failed_update_and_a_failed_apology_log_no_pseudonym(
    standin: BotApiStandIn,
    api_url: str,
    engine: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """M-2: the adapter's error lines name the error, never the person's pseudonym."""
    flaky = Flaky(engine, InMemoryStore())
    person = TgUser(604, language_code="en", username="olena_kovalenko")
    async with running(standin, api_url, flaky, tmp_path) as bot:
        await open_menu(bot, person, "en")
        flaky.broken = bot.key(person)
        standin.fail("sendMessage", times=1, status=400)  # the apology fails too
        caplog.set_level(logging.DEBUG)
        with production_log_levels():  # every logger as `serve` sets it, ours at DEBUG
            await bot.deliver_at_once([message(person, "they took my passport")])
        logged = "\n".join(record_text(r) for r in caplog.records)
        assert "update failed: RuntimeError" in logged
        assert "could not apologise: BadRequest" in logged
        for private in (str(person.id), "passport", "olena_kovalenko", bot.key(person)):
            assert private not in logged
        assert key_fragments(logged, bot.key(person)) == []


async def test_the_database_being_down_asks_to_try_again(polling: Harness, engine: Engine) -> None:
    user = TgUser(603, language_code="lt")
    menu = await open_menu(polling, user, "lt")
    polling.channel.service.store.down = True
    delivered = await polling.press(user, menu, "menu.main.job")
    assert delivered.texts == [t(engine, "lt", TRY_LATER)]
    polling.channel.service.store.down = False
    delivered = await polling.press(user, menu, "menu.main.job")
    assert any(b.startswith("job_offer.") for b in delivered.last.buttons)


class SlowFirstWrite(InMemoryStore):
    """A store whose next write can be made slow, so that a later update could overtake it."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: list[float] = []

    async def update(self, key: str, state: dict, version: int) -> Any:
        if self.delays:
            await asyncio.sleep(self.delays.pop())
        return await super().update(key, state, version)


async def test_two_updates_for_one_person_are_handled_in_order(
    standin: BotApiStandIn, api_url: str, engine: Engine, tmp_path: Path
) -> None:
    store = SlowFirstWrite()
    user = TgUser(701)
    async with running(standin, api_url, Conversations(engine, store), tmp_path) as bot:
        menu = await open_menu(bot, user)
        first = (await bot.press(user, menu, "menu.main.job")).last
        # The second press answers the question the first press leads to: it only makes
        # sense after the first one, as when a person taps quickly twice.
        state = (await store.get(bot.key(user))).state
        step = engine.flows["job_offer"].step(state["step"])
        option = step.choices[0]
        nxt = engine.flows["job_offer"].step(option.next)
        answer = f"job_offer.{step.id}.{option.id}"
        follow = f"job_offer.{nxt.id}.{nxt.choices[0].id}"
        bot_message = standin.message(user.id, first.message_id)
        store.delays = [0.2]  # without per-person order, the second press would finish first
        results = await bot.deliver_at_once(
            [press(user, bot_message, answer), press(user, bot_message, follow)]
        )
        texts = results[-1].texts
        assert OUT_OF_DATE not in results[-1].read
        # (a question's text follows its "Question 2 of 17" line)
        asked = [i for i, x in enumerate(texts) if x.endswith(t(engine, "en", nxt.text))]
        assert asked and asked[0] < len(texts) - 1
        stored = await store.get(bot.key(user))
        assert stored.state["answers"][step.id] == option.id
        assert stored.state["answers"][nxt.id] == nxt.choices[0].id


async def test_a_restart_in_the_middle_of_a_flow_resumes(
    standin: BotApiStandIn, api_url: str, engine: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    user = TgUser(702, language_code="uk")
    store = await open_store(sqlite_url)
    try:
        async with running(standin, api_url, Conversations(engine, store), tmp_path) as bot:
            menu = await open_menu(bot, user, "uk")
            question = (await bot.press(user, menu, "menu.main.romance")).last
        # A new process: a new Application and a new service, on the same database.
        async with running(standin, api_url, Conversations(engine, store), tmp_path) as bot:
            choice = next(b for b in question.buttons if b.startswith("romance."))
            delivered = await bot.press(user, question, choice)
            assert t(engine, "uk", OUT_OF_DATE) not in delivered.read
            assert any(b.startswith("romance.") for b in delivered.last.buttons)
            stored = await store.get(bot.key(user))
            assert stored.state["flow"] == "romance" and stored.state["answers"]
    finally:
        await store.close()


# ---------------------------------------------------------------------------- webhook


async def test_webhook_is_registered_with_the_secret_and_menus_are_set(
    webhook: Harness, engine: Engine
) -> None:
    assert webhook.standin.webhook == {
        "url": "https://bot.example.org/telegram/webhook",
        "secret_token": SECRET,
    }
    assert webhook.standin.calls_to("deleteWebhook") == []
    for lang in LANGUAGES:
        menu = webhook.standin.commands[f"default/{lang}"]
        described = {c["command"]: c["description"] for c in menu}
        assert described["help"] == t(engine, lang, "Get help now")
    assert {c["command"] for c in webhook.standin.commands["default/"]} == {n for n, _ in COMMANDS}


async def test_polling_does_not_use_a_webhook(polling: Harness) -> None:
    assert polling.standin.webhook == {}
    await until(lambda: bool(polling.standin.calls_to("getUpdates")))


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
async def test_webhook_refuses_a_wrong_secret(webhook: Harness, secret: str | None) -> None:
    delivered = await webhook.deliver(command(TgUser(801), "start"), secret=secret)
    assert delivered.status == 403
    assert delivered.sent == []


async def test_webhook_refuses_a_malformed_body(webhook: Harness) -> None:
    assert webhook.client is not None
    response = await webhook.client.post(
        WEBHOOK_PATH, content=b"{not json", headers={SECRET_HEADER: SECRET}
    )
    assert response.status_code == 400
    response = await webhook.client.post(WEBHOOK_PATH, json=[1], headers={SECRET_HEADER: SECRET})
    assert response.status_code == 400


async def test_a_redelivered_update_is_processed_once(webhook: Harness) -> None:
    update = {"update_id": 9001, **command(TgUser(802), "start")}
    first = await webhook.deliver(update)
    again = await webhook.deliver(update)
    assert first.status == again.status == 200
    assert first.sent and again.sent == []


async def test_a_failed_update_is_not_acknowledged_and_its_redelivery_runs(
    standin: BotApiStandIn, api_url: str, engine: Engine, tmp_path: Path
) -> None:
    flaky = Flaky(engine, InMemoryStore())
    user = TgUser(803, language_code="uk")
    async with running(standin, api_url, flaky, tmp_path, "webhook") as bot:
        await open_menu(bot, user, "uk")
        flaky.broken = bot.key(user)
        update = {"update_id": 9002, **command(user, "menu")}
        failed = await bot.deliver(update)
        assert failed.status == 500
        assert failed.texts == [t(engine, "uk", APOLOGY)]
        again = await bot.deliver(update)  # Telegram retries; still broken: no second apology
        assert again.status == 500 and again.sent == []
        flaky.broken = None
        fixed = await bot.deliver(update)
        assert fixed.status == 200
        assert "menu.main.job" in fixed.last.buttons
        assert (await bot.deliver(update)).sent == []  # and now it is a duplicate


async def test_webhook_handles_two_updates_for_one_person_at_once(
    webhook: Harness, engine: Engine
) -> None:
    user = TgUser(804)
    menu = await open_menu(webhook, user)
    bot_message = webhook.standin.message(user.id, menu.message_id)
    results = await webhook.deliver_at_once(
        [press(user, bot_message, "menu.main.job"), message(user, "hello")]
    )
    assert [r.status for r in results] == [200, 200]
    assert len(webhook.standin.calls_to("answerCallbackQuery")) == 1
    # Both answers arrived, in order, each one message ending in its buttons: nothing lost.
    sent = results[-1].sent
    assert len(sent) == 2 and all(s.buttons for s in sent)
    assert sent[0].text.startswith("Let's check this job offer together.")
    assert any(b.startswith("job_offer.") for b in sent[0].buttons)


async def post(bot: Harness, update: dict) -> httpx.Response:
    """Post one update to the webhook as Telegram does; return the bot's HTTP response."""
    assert bot.client is not None
    update = {"update_id": bot.standin.new_update_id(), **update}
    return await bot.client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: SECRET})


def answer_in(response: httpx.Response) -> str | None:
    """Return the callback query a webhook response answers (None: it runs no method)."""
    if not response.content:
        return None
    body = response.json()
    assert body["method"] == "answerCallbackQuery" and set(body) == {"method", "callback_query_id"}
    return body["callback_query_id"]


async def test_a_press_is_answered_in_the_webhooks_response(webhook: Harness) -> None:
    user = TgUser(806)
    menu = await open_menu(webhook, user)
    pressed = press(user, webhook.standin.message(user.id, menu.message_id), "menu.main.job")
    before = len(webhook.standin.calls)
    response = await post(webhook, pressed)
    assert response.status_code == 200
    assert answer_in(response) == pressed["callback_query"]["id"]
    # The turn made two calls: the pressed keyboard taken away, and one message.
    made = [c.method for c in webhook.standin.calls[before:]]
    assert sorted(made) == ["editMessageReplyMarkup", "sendMessage"]
    assert "reply_markup" not in webhook.standin.message(user.id, menu.message_id)
    # Typed text and commands have nothing to answer: an empty 200.
    typed = await post(webhook, message(user, "hello"))
    assert typed.status_code == 200 and answer_in(typed) is None


async def test_a_redelivered_press_is_answered_again_and_replied_to_once(
    webhook: Harness,
) -> None:
    user = TgUser(807)
    menu = await open_menu(webhook, user)
    bot_message = webhook.standin.message(user.id, menu.message_id)
    update = {"update_id": 9201, **press(user, bot_message, "menu.main.job")}
    first = await webhook.deliver(update)
    assert first.status == 200 and len(first.sent) == 1
    # Telegram sends an update again only when it did not get our response, so the spinner
    # was not stopped: the redelivery's response answers it; nothing is said twice.
    again = await post(webhook, update)
    assert again.status_code == 200
    assert answer_in(again) == update["callback_query"]["id"]
    assert len(webhook.standin.sent(user.id)) == 2  # the menu and the one answer


async def test_a_slow_turn_answers_the_press_by_a_call(
    standin: BotApiStandIn,
    api_url: str,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.telegram_bot.ANSWER_WITHIN", 0.05)
    store = SlowFirstWrite()
    user = TgUser(808)
    async with running(standin, api_url, Conversations(engine, store), tmp_path, "webhook") as bot:
        menu = await open_menu(bot, user)
        store.delays = [1.0]
        pressed = press(user, standin.message(user.id, menu.message_id), "menu.main.job")
        response = await post(bot, pressed)
        assert response.status_code == 200
        assert answer_in(response) is None  # already answered, not twice
        answers = standin.calls_to("answerCallbackQuery")
        assert len(answers) == 1 and not answers[0].in_reply
        assert answers[0].params["callback_query_id"] == pressed["callback_query"]["id"]
        # The spinner stopped before the answer arrived (the turn waited 1 s on the store).
        assert answers[0].at < standin.calls_to("sendMessage")[-1].at


async def test_a_failed_press_is_answered_by_a_call_and_its_retry_in_the_response(
    standin: BotApiStandIn, api_url: str, engine: Engine, tmp_path: Path
) -> None:
    flaky = Flaky(engine, InMemoryStore())
    user = TgUser(809, language_code="lt")
    async with running(standin, api_url, flaky, tmp_path, "webhook") as bot:
        menu = await open_menu(bot, user, "lt")
        flaky.broken = bot.key(user)
        pressed = {
            "update_id": 9202,
            **press(user, standin.message(user.id, menu.message_id), "menu.main.job"),
        }
        failed = await post(bot, pressed)
        # Telegram runs no method from a failed response: the spinner is stopped by a call.
        assert failed.status_code == 500 and answer_in(failed) is None
        answers = standin.calls_to("answerCallbackQuery")
        assert len(answers) == 1 and not answers[0].in_reply
        assert standin.texts(user.id)[-1] == t(engine, "lt", APOLOGY)
        flaky.broken = None
        retried = await post(bot, pressed)
        assert retried.status_code == 200
        assert answer_in(retried) == pressed["callback_query"]["id"]
        assert any(b.startswith("job_offer.") for b in bot.sent_since(0)[-1].buttons)


async def test_the_web_apps_route_reaches_the_channel(
    webhook: Harness, engine: Engine, tmp_path: Path
) -> None:
    from bot.web.app import create_app

    service = webhook.channel.service
    app = create_app(webhook.channel.settings, service=service)
    app.state.telegram = webhook.channel
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        update = command(TgUser(805, language_code="uk"), "start", "fair__uk")
        refused = await client.post(WEBHOOK_PATH, json={"update_id": 9100, **update})
        assert refused.status_code == 403
        headers = {SECRET_HEADER: SECRET}
        accepted = await client.post(
            WEBHOOK_PATH, json={"update_id": 9101, **update}, headers=headers
        )
        assert accepted.status_code == 200
        # A press, through every middleware: answered in the response, as JSON for Telegram.
        shown = webhook.standin.message(
            805, webhook.standin.calls_to("sendMessage")[-1].result["message_id"]
        )
        pressed = press(TgUser(805, language_code="uk"), shown, "menu.main.job")
        answered = await client.post(
            WEBHOOK_PATH, json={"update_id": 9102, **pressed}, headers=headers
        )
        assert answered.status_code == 200
        assert answered.headers["content-type"] == "application/json"
        assert answered.json() == {
            "method": "answerCallbackQuery",
            "callback_query_id": pressed["callback_query"]["id"],
        }
    assert webhook.standin.texts(805)[0].startswith(t(engine, "uk", engine._greeting()) + "\n\n")
    assert webhook.standin.calls_to("answerCallbackQuery") == []  # no call of its own


# ---------------------------------------------------------------------------- rendering


def test_long_texts_split_at_sentence_ends_under_the_limit() -> None:
    sentence = "Каждое предложение заканчивается точкой, а эмодзи считается дважды 🙂. "
    text = sentence * 200
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(utf16_length(p) <= MAX_MESSAGE for p in pieces)
    assert all(p.endswith("🙂.") for p in pieces)
    assert " ".join(pieces) == text.strip()


def test_a_text_without_breaks_is_cut_hard() -> None:
    pieces = split_text("x" * 9000)
    assert [len(p) for p in pieces] == [4096, 4096, 808]


def test_long_reply_keeps_its_keyboard_on_the_last_piece() -> None:
    reply = Reply("result", "Sentence. " * 1000, (Choice("menu", "Menu"),))
    messages = render([reply])
    assert len(messages) == 3
    assert [m.keyboard is not None for m in messages] == [False, False, True]


QUESTION = Reply("question", "Is the fee paid by you?", (Choice("yes", "Yes"), Choice("no", "No")))


def test_a_turns_replies_are_one_message_joined_by_a_blank_line() -> None:
    turn = [Reply("info", "Question 2 of 17"), Reply("info", "Good to know."), QUESTION]
    messages = render(turn)
    assert [m.text for m in messages] == [
        "Question 2 of 17\n\nGood to know.\n\nIs the fee paid by you?"
    ]
    assert messages[0].keyboard == keyboard(QUESTION.choices)
    # Buttons without a text of their own go under the text before them (no "…" message).
    assert [m.text for m in render([Reply("info", "Hi"), Reply("info", "", QUESTION.choices)])] == [
        "Hi"
    ]


def test_replies_that_would_not_fit_together_stay_apart() -> None:
    # 4,093 UTF-16 units: with the blank line and a one-unit reply, exactly 4,096.
    first = "a" * 4093
    assert [len(m.text) for m in render([Reply("info", first), Reply("info", "b")])] == [4096]
    # An emoji counts two units: one unit too many, so two messages, each reply whole.
    messages = render([Reply("info", first), Reply("question", "🙂", QUESTION.choices)])
    assert [m.text for m in messages] == [first, "🙂"]
    assert [m.keyboard is not None for m in messages] == [False, True]


def test_a_long_turn_is_split_under_the_limit_with_the_buttons_last() -> None:
    long = "Каждое предложение заканчивается точкой 🙂. " * 250  # ~11,000 units
    turn = [Reply("info", "Read this first."), Reply("info", long), QUESTION]
    messages = render(turn)
    assert len(messages) == 3  # the first reply goes with the long one, the question too
    assert all(utf16_length(m.text) <= MAX_MESSAGE for m in messages)
    assert [m.keyboard is not None for m in messages] == [False, False, True]
    # The text read is the same, in order (a cut replaces one space by a new message).
    read = " ".join(" ".join(m.text for m in messages).split())
    assert read == " ".join(" ".join(["Read this first.", long, QUESTION.text]).split())
    assert messages[0].text.startswith("Read this first.\n\nКаждое")
    assert messages[-1].text.endswith("🙂.\n\nIs the fee paid by you?")


def test_buttons_end_their_message_and_every_keyboard_stays() -> None:
    later = Reply("question", "And now?", (Choice("menu", "Menu"),))
    messages = render([QUESTION, Reply("info", "Note"), Reply("result", "Done."), later])
    assert [m.text for m in messages] == ["Is the fee paid by you?", "Note\n\nDone.\n\nAnd now?"]
    assert [m.keyboard for m in messages] == [keyboard(QUESTION.choices), keyboard(later.choices)]
    # Replies after the last keyboard go together, without one.
    assert [m.text for m in render([QUESTION, Reply("info", "A"), Reply("info", "B")])] == [
        "Is the fee paid by you?",
        "A\n\nB",
    ]


def test_the_danger_turns_first_message_has_the_numbers_however_long_the_rest() -> None:
    emergency = Contact("112 (European emergency number)", "EU", phone="112", hours="24/7")
    hotline = Contact("Hotline", "LT", phone="8 800 91119")
    turn = [
        Reply("handoff", "🚨 If you are in danger right now, call 112.", contacts=(emergency,)),
        Reply("handoff", "What you describe sounds serious.", contacts=(hotline,)),
        Reply("info", "What you can do. " * 300),
        Reply("info", "🔒 Calls show in your call history.", (Choice("country", "Where?"),)),
    ]
    messages = render(turn)
    assert len(messages) == 2  # 5,100 units of advice: cut once, at a sentence end
    assert all(utf16_length(m.text) <= MAX_MESSAGE for m in messages)
    first = messages[0].text
    assert first.startswith("🚨") and "📞 112" in first and "📞 8 800 91119" in first
    assert all(m.protect for m in messages)
    assert messages[-1].keyboard is not None and messages[-1].text.endswith("call history.")


def test_callback_data_over_64_bytes_is_refused() -> None:
    assert callback_data(Choice("job_offer.fee.yes", "Yes")) == "job_offer.fee.yes"
    with pytest.raises(ValueError):
        callback_data(Choice("ž" * 33, "Too long in bytes"))


def test_short_labels_go_two_to_a_row() -> None:
    languages = [Choice(f"lang:{c}", name) for c, name in LANGUAGE_NAMES.items()]
    assert [len(row) for row in keyboard(languages).inline_keyboard] == [2, 2]
    long = [Choice("a", "💼 Check a job offer you were sent"), Choice("b", "Other")]
    assert [len(row) for row in keyboard(long).inline_keyboard] == [1, 1]


def test_contact_cards_are_text_with_the_phone_and_handoffs_are_protected() -> None:
    card = Contact("Hotline", "LT", phone="+370 800 00000", hours="24/7", languages=("lt", "en"))
    assert render_contact(card) == "☎ Hotline\n📞 +370 800 00000\n🕒 24/7\n🗣 Lietuvių, English"
    turn = render([Reply("handoff", "Call:", contacts=(card,)), Reply("info", "Note")])
    assert all(m.protect for m in turn)
    assert "+370 800 00000" in turn[0].text
    assert not any(m.protect for m in render([Reply("info", "Hi")]))


class Scripted(Conversations):
    """The real service, except that a turn's replies can be replaced by chosen ones."""

    script: list[Reply] | None = None

    async def handle(self, key: str, event: Event, **kwargs: Any) -> Outcome:
        outcome = await super().handle(key, event, **kwargs)
        if self.script is not None:
            outcome.replies = self.script
        return outcome


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_long_turn_reaches_telegram_split_in_order_with_the_buttons_last(
    standin: BotApiStandIn, api_url: str, engine: Engine, tmp_path: Path, mode: str
) -> None:
    scripted = Scripted(engine, InMemoryStore())
    user = TgUser(901)
    advice = "Ask for a written contract in a language you read 🙂. " * 120  # ~6,500 units
    async with running(standin, api_url, scripted, tmp_path, mode) as bot:
        menu = await open_menu(bot, user)
        scripted.script = [
            Reply("info", "Question 3 of 17"),
            Reply("info", advice),
            Reply("info", "Good to know."),
            QUESTION,
        ]
        delivered = await bot.press(user, menu, "menu.main.job")
    # Telegram took every message (the stand-in refuses one over 4,096 UTF-16 units).
    assert delivered.status == 200 and len(delivered.sent) == 2
    assert all(utf16_length(s.text) <= MAX_MESSAGE for s in delivered.sent)
    assert [s.buttons for s in delivered.sent] == [[], ["yes", "no"]]
    words = " ".join(["Question 3 of 17", advice, "Good to know.", QUESTION.text]).split()
    assert " ".join(delivered.read.split()) == " ".join(words)
    assert delivered.texts[0].startswith("Question 3 of 17\n\nAsk for a written contract")
    assert delivered.texts[1].endswith("🙂.\n\nGood to know.\n\nIs the fee paid by you?")
