"""Write to a counsellor: the relay end to end on Telegram (forum topics) and the web (SSE).

python-telegram-bot's real HTTP client talks to the loopback Bot API stand-in, whose chat
-100777 is a forum group; the person is a private chat. Counsellors' answers are real
topic messages from that group. Nothing relayed may reach the database or the logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot import LANGUAGES
from bot.counsellor import Desk
from bot.model import NoPickup, Pick, SetLanguage, Start, Text
from bot.relay import Hub, Relay, payloads, seal, seal_key, unseal
from bot.relay_dialog import (
    CLOSED_NOW,
    COUNSELLOR,
    COUNSELLOR_ENDED,
    ENDED,
    HOURS_YOURS,
    NO_PICKUP,
)
from bot.relay_store import MemoryRoutes
from bot.service import Conversations
from bot.store import InMemoryStore
from tests.telegram_builders import TgUser, command, message, topic_message
from tests.telegram_standin import BotApiStandIn, serve
from tests.test_telegram import PSEUDONYM_SECRET, Harness, running

pytestmark = pytest.mark.timeout(60)

DESK_CHAT = -100777
OPEN = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)  # a Monday, 13:00 in Vilnius
CLOSED = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)  # a Sunday
SECRET_WORDS = "my boss Dariusz keeps my passport at Kalvariju 12"


def make_desk() -> Desk:
    return Desk(DESK_CHAT, "Caritas Test", "mon-fri 09:00-18:00", "Europe/Vilnius", ("lt", "en"))


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(OPEN)


@pytest.fixture
def relay_service(engine, clock: Clock) -> Conversations:
    store = InMemoryStore(clock=clock)
    desk = make_desk()
    relay = Relay(desk, MemoryRoutes(clock), Hub(), PSEUDONYM_SECRET.encode(), clock=clock)
    return Conversations(engine.with_desk(desk, clock), store, relay)


@pytest.fixture
def standin() -> BotApiStandIn:
    standin = BotApiStandIn()
    standin.forums.add(DESK_CHAT)
    return standin


@pytest.fixture
async def api_url(standin: BotApiStandIn) -> AsyncIterator[str]:
    async with serve(standin.app) as url:
        yield url


@pytest.fixture(params=["polling", "webhook"])
async def bot(
    request: pytest.FixtureRequest,
    standin: BotApiStandIn,
    api_url: str,
    relay_service: Conversations,
    tmp_path: Path,
) -> AsyncIterator[Harness]:
    async with running(standin, api_url, relay_service, tmp_path, request.param) as harness:
        yield harness


def topic_texts(standin: BotApiStandIn, thread: int) -> list[str]:
    return [
        p["text"] for p in standin.sent(DESK_CHAT) if int(p.get("message_thread_id") or 0) == thread
    ]


async def connect(bot: Harness, person: TgUser) -> int:
    """/help, Write to a counsellor, agree: return the topic id."""
    await bot.deliver(command(person, "start", "x__en"))
    help_screen = await bot.deliver(command(person, "help"))
    offer = next(s for s in help_screen.sent if "relay" in s.buttons)
    consent = await bot.press(person, offer, "relay")
    assert "Caritas Test" in consent.last.text and "no copy" in consent.last.text
    assert "Mon–Fri 09:00–18:00 (UTC+3)" in consent.last.text
    agreed = await bot.press(person, consent.last, "relay:yes")
    assert "You are connected" in agreed.last.text and "relay:end" in agreed.last.buttons
    (chat, thread), _topic = next(iter(bot.standin.topics.items()))
    assert chat == DESK_CHAT
    return thread


async def test_a_person_and_a_counsellor_talk_through_a_topic(
    bot: Harness, caplog: pytest.LogCaptureFixture, relay_service: Conversations
) -> None:
    # Our own logs at their most talkative; the libraries as `serve` sets them (bot.logs).
    caplog.set_level(logging.DEBUG)
    for noisy in ("httpx", "httpcore", "telegram", "uvicorn"):
        caplog.set_level(logging.WARNING, logger=noisy)
    person = TgUser(7001)
    thread = await connect(bot, person)
    name = bot.standin.topics[(DESK_CHAT, thread)]["name"]
    code, lang, channel = name.split(" · ")
    assert len(code) == 6 and lang == "EN" and channel == "telegram"

    said = await bot.deliver(message(person, SECRET_WORDS))
    assert said.sent == [] or all(s.chat_id == DESK_CHAT for s in said.sent)
    assert topic_texts(bot.standin, thread)[-1] == SECRET_WORDS

    counsellor = TgUser(9001, first_name="Rasa")
    await bot.deliver(topic_message(counsellor, DESK_CHAT, thread, "I am here. Are you safe?"))
    to_person = bot.standin.texts(person.id)[-1]
    assert to_person == f"💬 {COUNSELLOR}:\nI am here. Are you safe?"

    # Urgent text: the emergency number to the person, and the topic is marked.
    urgent = await bot.deliver(message(person, "they locked me in, help me now"))
    assert any("112" in s.text for s in urgent.sent if s.chat_id == person.id)
    assert bot.standin.topics[(DESK_CHAT, thread)]["name"].startswith("🚨 ")
    assert any("URGENT" in t for t in topic_texts(bot.standin, thread))

    # Another group's messages, and the general chat of the desk group, are not relayed.
    before = len(bot.standin.texts(person.id))
    await bot.deliver(topic_message(counsellor, -100999, thread, "from elsewhere"))
    general = topic_message(counsellor, DESK_CHAT, thread, "general chat")
    del general["message"]["message_thread_id"], general["message"]["is_topic_message"]
    await bot.deliver(general)
    assert len(bot.standin.texts(person.id)) == before

    # /end closes the topic and tells the person.
    await bot.deliver(topic_message(counsellor, DESK_CHAT, thread, "/end"))
    assert bot.standin.topics[(DESK_CHAT, thread)]["closed"]
    assert bot.standin.texts(person.id)[-1].endswith(COUNSELLOR_ENDED)
    state = (await relay_service.store.get(bot.key(person))).state
    assert state["relay"] is None

    # Nothing relayed is at rest or in the logs.
    stored = json.dumps([s.state for s in relay_service.store.conversations.values()])
    assert SECRET_WORDS not in stored and "Are you safe" not in stored
    assert "Dariusz" not in caplog.text and "Are you safe" not in caplog.text
    counts = {(k[1], k[2]) for k in relay_service.store.counts}
    assert {("relay", "requested"), ("relay", "answered"), ("relay_wait", "<5m")} <= counts


async def test_end_chat_and_forget_tell_the_counsellor(bot: Harness) -> None:
    person = TgUser(7002)
    thread = await connect(bot, person)
    ended = await bot.deliver(message(person, "hello"))
    del ended
    last = [s for s in bot.sent_since(0) if s.chat_id == person.id and "relay:end" in s.buttons]
    left = await bot.press(person, last[-1], "relay:end")
    assert any(ENDED in s.text for s in left.sent)
    assert "The person left the chat" in topic_texts(bot.standin, thread)[-1]
    assert bot.standin.topics[(DESK_CHAT, thread)]["closed"]

    other = TgUser(7003)
    # A second topic for a second person; /forget ends it.
    await bot.deliver(command(other, "start", "x__en"))
    help_screen = await bot.deliver(command(other, "help"))
    offer = next(s for s in help_screen.sent if "relay" in s.buttons)
    consent = await bot.press(other, offer, "relay")
    await bot.press(other, consent.last, "relay:yes")
    thread2 = max(t for _c, t in bot.standin.topics)
    await bot.deliver(command(other, "forget"))
    assert "The person left the chat" in topic_texts(bot.standin, thread2)[-1]
    counsellor = TgUser(9001)
    await bot.deliver(topic_message(counsellor, DESK_CHAT, thread2, "still there?"))
    assert "still there?" not in bot.standin.texts(other.id)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_outside_hours_says_so_at_once_with_numbers(engine, lang: str) -> None:
    desk = make_desk()
    twin = engine.with_desk(desk, Clock(CLOSED))
    state, _ = twin.advance(None, Start(lang=lang))
    turn = twin.turn(state, Pick("relay"))
    closed = twin.translator.gettext(lang, CLOSED_NOW).split("{")[0].strip()
    assert closed and any(closed in r.text for r in turn.replies)
    assert lang == "en" or closed != CLOSED_NOW.split("{")[0].strip()
    assert any(r.contacts for r in turn.replies), "numbers come with the news"
    assert not turn.actions and ("relay", "outside_hours") in {
        (n.name, n.value) for n in turn.notes
    }


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_no_pickup_tells_the_person_with_numbers(engine, lang: str) -> None:
    desk = make_desk()
    twin = engine.with_desk(desk, Clock(OPEN))
    state, _ = twin.advance(None, Start(lang=lang))
    state = twin.turn(state, Pick("relay:yes")).state
    state["relay"]["topic"] = 5
    turn = twin.turn(state, NoPickup())
    words = twin.translator.gettext(lang, NO_PICKUP)
    assert lang == "en" or words != NO_PICKUP
    assert any(words in r.text for r in turn.replies)
    assert any(r.contacts for r in turn.replies)
    assert turn.state["relay"]["topic"] == 5, "the person may keep waiting"


async def test_the_sweep_tells_each_waiting_person_once(
    bot: Harness, relay_service: Conversations, clock: Clock
) -> None:
    person = TgUser(7004)
    thread = await connect(bot, person)
    clock.now = OPEN + timedelta(minutes=11)
    assert await relay_service.relay.sweep() == 1
    assert await relay_service.relay.sweep() == 0
    assert any("No counsellor has answered yet" in t for t in bot.standin.texts(person.id))
    assert "No one answered within 10 minutes" in topic_texts(bot.standin, thread)[-1]


def test_sealed_chat_ids_need_the_key() -> None:
    key = seal_key(b"k" * 32)
    sealed = seal(key, 5550001111)
    assert "5550001111" not in sealed and unseal(key, sealed) == 5550001111
    with pytest.raises(ValueError):
        unseal(seal_key(b"x" * 32), sealed)


def test_long_pushes_are_split_under_the_notify_limit() -> None:
    hub = Hub()
    body = json.dumps([{"kind": "info", "text": "ж" * 9000}], ensure_ascii=False)
    parts = payloads("k" * 64, 3, body)
    assert len(parts) > 1 and all(len(p.encode()) < 8000 for p in parts)
    for part in reversed(parts):
        hub.receive(part)
    hub.receive(parts[0])  # a repeat of a finished push is dropped
    assert [p.seq for p in hub._recent["k" * 64]] == [3]


async def test_web_person_receives_the_answer_live(
    relay_service: Conversations, standin: BotApiStandIn, api_url: str, tmp_path: Path
) -> None:
    from bot.web.app import create_app
    from tests.test_telegram import make_settings

    # The store runs on the test clock (2025); idle expiry would read that as long ago.
    settings = make_settings(api_url, tmp_path, webhook=False).model_copy(
        update={"web_idle_minutes": 0}
    )
    async with running(standin, api_url, relay_service, tmp_path, "polling") as harness:
        app = create_app(settings, service=relay_service)
        # A real server: httpx's ASGI transport would hold a stream back until it ends.
        async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
            created = (await client.post("/api/v1/conversations", json={"lang": "en"})).json()
            auth = {"Authorization": f"Bearer {created['token']}"}
            path = f"/api/v1/conversations/{created['id']}"
            await client.post(f"{path}/messages", json={"choice": "relay"}, headers=auth)
            agreed = await client.post(
                f"{path}/messages", json={"choice": "relay:yes"}, headers=auth
            )
            assert "messages" in agreed.json(), agreed.text
            assert "You are connected" in agreed.json()["messages"][-1]["text"]
            thread = max(t for _c, t in standin.topics)
            await client.post(f"{path}/messages", json={"text": "hello from the web"}, headers=auth)
            assert topic_texts(standin, thread)[-1] == "hello from the web"

            received: list[dict] = []

            async def listen() -> None:
                async with client.stream("GET", f"{path}/events", headers=auth) as response:
                    assert response.headers["content-type"].startswith("text/event-stream")
                    async for line in response.aiter_lines():
                        if line.startswith("data: "):
                            received.append(json.loads(line[6:]))
                            if len(received) == 2:
                                return

            task = asyncio.create_task(listen())
            await asyncio.sleep(0.2)
            counsellor = TgUser(9002)
            for text in ("first answer", "second answer"):
                await harness.deliver(topic_message(counsellor, DESK_CHAT, thread, text))
            await asyncio.wait_for(task, 5)
            texts = [m["messages"][0]["text"] for m in received]
            assert texts == [f"💬 {COUNSELLOR}:\nfirst answer", f"💬 {COUNSELLOR}:\nsecond answer"]

            # Erasing ends the relay and tells the counsellor.
            assert (await client.delete(path, headers=auth)).status_code == 204
            assert "The person left the chat" in topic_texts(standin, thread)[-1]


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_hours_are_shown_in_the_persons_own_time(engine, lang: str) -> None:
    """Vilnius answers 09:00-18:00 (UTC+3 in June); someone who says they are in London
    (UTC+1) reads 07:00-16:00 as their own time, on the consent screen and outside hours."""
    desk = make_desk()
    yours = twin_words = None
    for now in (OPEN, CLOSED):
        twin = engine.with_desk(desk, Clock(now))
        state, _ = twin.advance(None, Start(lang=lang))
        state = twin.turn(state, Text("they took my passport, I am in London")).state
        state = twin.turn(state, SetLanguage(lang)).state
        assert (state["country"], state["lang"]) == ("GB", lang)
        turn = twin.turn(state, Pick("relay"))
        shown = "\n".join([turn.lead or "", *(r.text for r in turn.replies)])
        assert "07:00–16:00" in shown and "UTC+1" in shown, shown
        assert "09:00" not in shown and "UTC+3" not in shown, shown
        if now is OPEN:
            twin_words = twin.translator.gettext(lang, HOURS_YOURS)
            yours = twin_words.split("{zone}")[0].split("(")[-1].strip(" ,")
            assert yours and yours in shown, "the person is told it is their own time"
    assert lang == "en" or twin_words != HOURS_YOURS
