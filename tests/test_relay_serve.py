"""Write to a counsellor through real `serve` processes: privacy at rest and in logs, workers.

The Telegram side is the loopback Bot API stand-in (chat -100777 is a forum group); the
counsellors' answers are topic messages posted to `serve`'s webhook, as Telegram would.
Web people talk over real HTTP and receive answers on the server-sent events stream.

- Privacy: one `serve` at DEBUG on SQLite relays a web person and a Telegram person both
  ways; no relayed text is in any table, in the database files (WAL included) while it
  runs and after, or in the log.
- Workers: two `serve` processes on one PostgreSQL database relay 50 web chats at once.
  Each person's live connection is held by one worker while the counsellor's answers are
  posted to either; every message reaches the other side exactly once and in order
  (LISTEN/NOTIFY), and nothing relayed is in any PostgreSQL table.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.telegram_bot import SECRET_HEADER
from tests.privacy_helpers import (
    Serve,
    TelegramChat,
    TelegramPerson,
    WebChat,
    database_leaks,
    leaks,
    subprocess_env,
    wait_until,
)
from tests.telegram_builders import TgUser, topic_message
from tests.telegram_standin import TOKEN, BotApiStandIn, serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

DESK_CHAT = -100777
PSEUDONYM_SECRET = "relay-serve-test-pseudonyms-0123456789abcdef-padding"
WEBHOOK_SECRET = "relay-serve-webhook-secret-0123456789abcdef-padding"

COUNSELLOR = TgUser(9101, first_name="Rasa")

#: Relayed text, both ways: none of it may be kept or logged.
RELAYED = {
    "web person's text": "Gintarė Vaitkevičiūtė keeps my passport in Kaunas",
    "telegram person's text": "my employer Žydrūnas Baltrušaitis locked the hostel door",
    "answer to web": "Kotryna from the Vilnius shelter will meet you at the station",
    "answer to telegram": "call Jurgita at the consulate, she knows Baltrušaitis",
}


def relay_env(**values: str | None) -> dict[str, str]:
    """The environment of a `serve` with the relay on, always open, Telegram by webhook."""
    return subprocess_env(
        PSEUDONYM_SECRET=PSEUDONYM_SECRET,
        TELEGRAM_BOT_TOKEN=TOKEN,
        PUBLIC_BASE_URL="https://bot.example.org",
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        COUNSELLOR_CHAT_ID=str(DESK_CHAT),
        COUNSELLOR_ORGANISATION="Caritas Test",
        COUNSELLOR_HOURS="always",
        COUNSELLOR_TIMEZONE="Europe/Vilnius",
        COUNSELLOR_LANGUAGES="en,lt",
        **values,
    )


@pytest.fixture
async def desk() -> AsyncIterator[tuple[BotApiStandIn, str]]:
    standin = BotApiStandIn()
    standin.forums.add(DESK_CHAT)
    async with serve(standin.app) as url:
        yield standin, url


def topic_texts(standin: BotApiStandIn, thread: int) -> list[str]:
    return [
        p["text"] for p in standin.sent(DESK_CHAT) if int(p.get("message_thread_id") or 0) == thread
    ]


async def post_update(http: httpx.AsyncClient, standin: BotApiStandIn, update: dict) -> None:
    """Post one update to a worker's webhook, as Telegram does."""
    update = {"update_id": standin.new_update_id(), **update}
    response = await http.post(
        "/telegram/webhook", json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 200, response.text


async def open_web_relay(chat: WebChat, standin: BotApiStandIn) -> int:
    """Agree to the relay on the web; return the topic the desk got."""
    before = set(standin.topics)
    await chat.say(choice="relay")
    messages = await chat.say(choice="relay:yes")
    assert "You are connected" in messages[-1]["text"], messages
    new = [thread for (c, thread) in set(standin.topics) - before if c == DESK_CHAT]
    assert len(new) == 1
    return new[0]


class Events:
    """A live SSE connection: what arrived, in order, with its ids."""

    def __init__(self, http: httpx.AsyncClient, chat: WebChat):
        self.http = http
        self.chat = chat
        self.texts: list[str] = []
        self.ids: list[int] = []
        self.connected = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        headers = {**self.chat.auth(), "Accept": "text/event-stream"}
        async with self.http.stream("GET", f"{self.chat.path}/events", headers=headers) as r:
            assert r.status_code == 200
            event_id = 0
            async for line in r.aiter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("data: "):
                    self.ids.append(event_id)
                    for message in json.loads(line[6:]).get("messages", []):
                        self.texts.append(message["text"])

    async def start(self) -> Events:
        self.task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.connected.wait(), 15)
        return self

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await self.task


def answered(text: str) -> str:
    return f"💬 Counsellor:\n{text}"


# ---------------------------------------------------------------------------- privacy


async def test_a_relay_through_serve_keeps_and_logs_no_relayed_text(
    desk: tuple[BotApiStandIn, str], tmp_path: Path
) -> None:
    standin, api_url = desk
    data = tmp_path / "data"
    db = data / "safe_abroad.db"
    server = Serve(
        relay_env(
            DATA_DIR=str(data),
            LOG_LEVEL="DEBUG",
            TELEGRAM_API_BASE_URL=api_url.replace("127.0.0.1", "localhost") + "/bot",
        ),
        cwd=tmp_path,
    )
    person = TelegramPerson(id=6048213388, username="relay_person_77", language_code="en")
    try:
        server.start()
        await server.ready()
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
            # The web person, listening live.
            web = await WebChat(http).start("en")
            web_topic = await open_web_relay(web, standin)
            events = await Events(http, web).start()
            await web.say(text=RELAYED["web person's text"])
            assert topic_texts(standin, web_topic)[-1] == RELAYED["web person's text"]
            await post_update(
                http,
                standin,
                topic_message(COUNSELLOR, DESK_CHAT, web_topic, RELAYED["answer to web"]),
            )
            await wait_until(lambda: len(events.texts) >= 1, within=15)
            assert events.texts == [answered(RELAYED["answer to web"])]

            # The Telegram person.
            async def webhook(update: dict[str, Any]) -> None:
                response = await http.post(
                    "/telegram/webhook", json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
                )
                assert response.status_code == 200, response.text

            chat = TelegramChat(standin, person, webhook=webhook)
            await chat.type("/start")
            await chat.press("lang:en")
            await chat.type("/help")
            before = set(standin.topics)
            await chat.press("relay")
            await chat.press("relay:yes")
            (tg_topic,) = [t for (c, t) in set(standin.topics) - before if c == DESK_CHAT]
            await webhook(
                {
                    "update_id": standin.new_update_id(),
                    **_typed(person, RELAYED["telegram person's text"]),
                }
            )
            await wait_until(
                lambda: RELAYED["telegram person's text"] in topic_texts(standin, tg_topic)
            )
            await post_update(
                http,
                standin,
                topic_message(COUNSELLOR, DESK_CHAT, tg_topic, RELAYED["answer to telegram"]),
            )
            await wait_until(
                lambda: answered(RELAYED["answer to telegram"]) in standin.texts(person.id)
            )
            running = database_leaks(db, RELAYED)  # while serving: WAL and all
            # The web person ends the chat; the counsellor ends the Telegram one.
            await web.say(choice="relay:end")
            await events.stop()
            await post_update(http, standin, topic_message(COUNSELLOR, DESK_CHAT, tg_topic, "/end"))
            await wait_until(lambda: standin.topics[(DESK_CHAT, tg_topic)]["closed"])
            assert standin.topics[(DESK_CHAT, web_topic)]["closed"]
        assert await server.stop() in (0, -signal.SIGTERM)
    finally:
        server.kill_quietly()
    output = server.output()
    assert running == {}
    assert database_leaks(db, RELAYED) == {}
    assert leaks(output, RELAYED) == []
    # The access log was written (and read): the scan had lines to look at.
    assert "POST /telegram/webhook" in output and "/events" in output


def _typed(person: TelegramPerson, text: str) -> dict[str, Any]:
    from tests.privacy_helpers import tg_message

    return tg_message(person, text)
