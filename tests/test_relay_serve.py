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

from bot.relay_dialog import COUNSELLOR as COUNSELLOR_WORD
from bot.telegram_bot import SECRET_HEADER
from tests.privacy_helpers import (
    Serve,
    TelegramChat,
    TelegramPerson,
    WebChat,
    database_leaks,
    leaks,
    subprocess_env,
    t,
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
    standin.run_reply(response.content)  # as Telegram does


async def open_web_relay(chat: WebChat, standin: BotApiStandIn) -> int:
    """Agree to the relay on the web; return the topic the desk got."""
    before = set(standin.topics)
    await chat.say(choice="relay")
    messages = await chat.say(choice="relay:yes")
    assert "relay:end" in [c["id"] for c in messages[-1]["choices"]], messages
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


def answered(text: str, lang: str = "en") -> str:
    return f"💬 {t(lang, COUNSELLOR_WORD)}:\n{text}"


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
                standin.run_reply(response.content)  # as Telegram does

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


# ---------------------------------------------------------------------------- two workers

CHATS = 50
#: Per chat: what the person writes (to alternating workers), the counsellor's answers
#: posted one after the other (to alternating workers), then two posted at the same moment,
#: one to each worker.
FROM_PERSON = 3
IN_TURN = 4
RETRIES = 50


async def _call(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send a request; on 503 (the database is busy: try again) retry as a person would."""
    for _ in range(RETRIES):
        response = await http.request(method, url, **kwargs)
        if response.status_code != 503:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError(f"still 503 after {RETRIES} tries: {method} {url}")


async def _webhook(http: httpx.AsyncClient, standin: BotApiStandIn, update: dict) -> None:
    update = {"update_id": standin.new_update_id(), **update}
    headers = {SECRET_HEADER: WEBHOOK_SECRET}
    response = await _call(http, "POST", "/telegram/webhook", json=update, headers=headers)
    assert response.status_code == 200, response.text
    standin.run_reply(response.content)  # as Telegram does


async def postgres_dump(url: str) -> str:
    """Every row of every table of the database, as text."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
        rows = []
        for table in tables:
            name = table["tablename"]
            rows += [
                r[0] for r in await connection.fetch(f'SELECT row_to_json(t)::text FROM "{name}" t')
            ]
        return "\n".join(rows)
    finally:
        await connection.close()


@pytest.mark.postgres
async def test_two_workers_relay_fifty_chats_both_ways_exactly_once_in_order(
    postgres_url: str, desk: tuple[BotApiStandIn, str], tmp_path: Path
) -> None:
    standin, api_url = desk
    workers = [
        Serve(
            relay_env(
                DATABASE_URL=postgres_url,
                DATA_DIR=str(tmp_path / f"worker{n}" / "data"),
                LOG_LEVEL="WARNING",
                TELEGRAM_API_BASE_URL=f"{api_url}/bot",
                RATE_LIMIT_PER_CONVERSATION="600",
                TRUSTED_PROXIES="127.0.0.1",
            ),
            cwd=tmp_path / f"worker{n}",
        ).start()
        for n in range(2)
    ]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    clients: list[httpx.AsyncClient] = []
    try:
        await asyncio.gather(*(w.ready() for w in workers))
        for worker in workers:
            clients.append(httpx.AsyncClient(base_url=worker.url, timeout=30, limits=limits))
        topic_lock = asyncio.Lock()

        async def one(n: int) -> tuple[WebChat, int, Events, list[str], list[str], list[str]]:
            holder = clients[n % 2]  # the worker holding the live connection
            other = clients[(n + 1) % 2]
            chat = WebChat(holder, headers={"X-Forwarded-For": f"198.51.100.{n + 1}"})
            await chat.start("en" if n % 2 else "lt")
            async with topic_lock:  # the topic id is read from the stand-in's new topics
                topic = await open_web_relay(chat, standin)
            events = await Events(holder, chat).start()
            said = [f"person {n} message {i}" for i in range(FROM_PERSON)]
            for i, text in enumerate(said):
                response = await _call(
                    clients[(n + i) % 2],
                    "POST",
                    f"{chat.path}/messages",
                    json={"text": text},
                    headers=chat.auth(),
                )
                assert response.status_code == 200, response.text
            in_turn = [f"answer {i} to chat {n}" for i in range(IN_TURN)]
            for i, text in enumerate(in_turn):
                worker = other if i % 2 == 0 else holder
                await _webhook(worker, standin, topic_message(COUNSELLOR, DESK_CHAT, topic, text))
            together = [f"together {i} to chat {n}" for i in range(2)]
            await asyncio.gather(
                *(
                    _webhook(clients[i], standin, topic_message(COUNSELLOR, DESK_CHAT, topic, text))
                    for i, text in enumerate(together)
                )
            )
            return chat, topic, events, said, in_turn, together

        chats = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(CHATS))), 150)
        expected = IN_TURN + 2
        await wait_until(
            lambda: all(len(events.texts) >= expected for _c, _t, events, *_ in chats), 30
        )
        await asyncio.sleep(0.5)  # a duplicate would arrive now
        topics = {topic for _c, topic, *_ in chats}
        assert len(topics) == CHATS
        for chat, topic, events, said, in_turn, together in chats:
            lang = chat.lang
            # Person -> counsellor: each message in the topic once, in order.
            relayed = [x for x in topic_texts(standin, topic) if x.startswith("person ")]
            assert relayed == said, (topic, relayed)
            # Counsellor -> person: exactly once, in order, numbered without gaps.
            assert events.texts[:IN_TURN] == [answered(x, lang) for x in in_turn], events.texts
            assert sorted(events.texts[IN_TURN:]) == sorted(answered(x, lang) for x in together)
            assert len(events.texts) == expected
            assert events.ids == list(range(events.ids[0], events.ids[0] + expected))
        at_rest = await postgres_dump(postgres_url)
        for chat, *_ in chats:
            await chat.say(choice="relay:end")
        for _chat, _topic, events, *_ in chats:
            await events.stop()
        for _chat, topic, _e, said, in_turn, together in chats:
            assert leaks(at_rest, {x: x for x in said + in_turn + together}) == []
            assert standin.topics[(DESK_CHAT, topic)]["closed"]
    finally:
        for client in clients:
            await client.aclose()
        for worker in workers:
            worker.kill_quietly()
    for worker in workers:
        assert "Traceback" not in worker.output(), worker.output()
