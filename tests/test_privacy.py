"""Privacy promises, proved: nothing personal at rest or in logs, erase, and retention.

After a whole conversation in every channel (the web API, Telegram through the real PTB
client and a loopback Bot API, the console), the SQLite database (every table and the raw
file bytes, WAL included) and every log line are searched for the person's names, username,
raw Telegram id, typed phone numbers, typed text, the web token and id, and the client
address. Only detector categories may be kept. Then: erase leaves no row in any channel,
and stale conversations are purged by `python -m bot purge` and by `serve` itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import bot.web.app as web_app
from bot.console import ConsoleSession
from bot.pseudonym import pseudonym
from bot.service import Conversations
from bot.settings import Settings
from bot.store import open_store
from bot.telegram_bot import ERASED, SECRET_HEADER, TelegramChannel
from bot.web.app import create_app
from tests.privacy_helpers import (
    AD,
    AD_NAME,
    MARKER,
    PHONE,
    PHONE_SPACED,
    Serve,
    TelegramChat,
    TelegramPerson,
    WebChat,
    database_leaks,
    dump_tables,
    leaks,
    production_log_levels,
    record_text,
    sqlite_path,
    subprocess_env,
    t,
    table_rows,
    wait_until,
    whole_telegram_conversation,
    whole_web_conversation,
)
from tests.telegram_standin import TOKEN, BotApiStandIn, serve

pytestmark = pytest.mark.timeout(120)

PSEUDONYM_SECRET = "privacy-test-pseudonyms-0123456789abcdef-padding"
WEBHOOK_SECRET = "privacy-webhook-secret-5f1c-0123456789abcdef-padding"
CLIENT_IP = "203.0.113.7"
FORWARDED_IP = "198.51.100.23"
CATEGORY = "documents_taken"  # what the detector keeps of MARKER
SERIOUS = (
    "What you describe sounds serious. It is not your fault, and you are not alone: there are "
    "people who can help, free and in confidence."
)

#: What a person typed or is: none of it may be kept or logged.
TYPED = {
    "typed text": MARKER,
    "typed surname": "Zabrauskienė",
    "typed phone": PHONE,
    "typed phone (spaced)": PHONE_SPACED,
    "typed phone digits": PHONE.lstrip("+"),
    "name in a pasted ad": AD_NAME,
}


def web_secrets(chat: WebChat) -> dict[str, str]:
    """Return what identifies a web conversation to its holder."""
    return {"web token": chat.token, "web conversation id": chat.id}


def conversation_rows(db: Path) -> list[dict[str, Any]]:
    """Return the rows of the conversations table."""
    return table_rows(db)["conversations"]


def category_counts(db: Path) -> dict[str, int]:
    """Return how often each detector category was counted."""
    counts: dict[str, int] = {}
    for row in table_rows(db)["event_counts"]:
        if row["name"] == "danger":
            value = row["value"].split(":")[0]
            counts[value] = counts.get(value, 0) + row["count"]
    return counts


def pick_number(session: ConsoleSession, prefix: str) -> str:
    """Return the number the console shows for the first choice starting with `prefix`."""
    for number, choice in enumerate(session.choices, start=1):
        if choice.startswith(prefix):
            return str(number)
    raise AssertionError(f"no choice {prefix!r} among {session.choices}")


async def whole_console_conversation(session: ConsoleSession) -> None:
    """Hold a whole console conversation, as typed into the terminal."""
    await session.start()
    await session.send(pick_number(session, "menu.main.job"))
    for _ in range(3):
        await session.send(pick_number(session, "job_offer."))
    await session.send(f"{MARKER}, call me on {PHONE_SPACED}")
    await session.send(pick_number(session, "country"))
    await session.send(pick_number(session, "help.where.LT"))
    await session.send(PHONE)
    await session.send("/menu")
    await session.send(pick_number(session, "menu.main.scan"))
    await session.send(AD)


def telegram_settings(tmp_path: Path, api_url: str, **extra: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        telegram_bot_token=TOKEN,
        telegram_api_base_url=f"{api_url}/bot",
        public_base_url=None,
        pseudonym_secret=PSEUDONYM_SECRET,
        **extra,
    )


@pytest.fixture
async def standin_url() -> AsyncIterator[tuple[BotApiStandIn, str]]:
    standin = BotApiStandIn()
    async with serve(standin.app) as url:
        yield standin, url


@pytest.fixture
async def sqlite_service(engine: Any, sqlite_url: str) -> AsyncIterator[Conversations]:
    store = await open_store(sqlite_url)
    try:
        yield Conversations(engine, store)
    finally:
        await store.close()


def web_client(app: Any, client_ip: str = CLIENT_IP) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


# ---------------------------------------------------------------------------- scans


def test_the_leak_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan itself works: a planted secret is found in a table, the WAL and in UTF-16."""
    import sqlite3

    db = tmp_path / "canary.db"
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.execute("INSERT INTO notes VALUES (?)", (MARKER,))
    connection.commit()
    found = database_leaks(db, TYPED)
    assert "typed text" in found["canary.db-wal"]
    assert "typed text" in found["tables"]
    connection.close()
    assert "typed text" in leaks(MARKER.encode("utf-16-le"), TYPED)


async def test_no_personal_data_at_rest_or_in_logs_after_every_channel(
    engine: Any,
    sqlite_service: Conversations,
    sqlite_url: str,
    standin_url: tuple[BotApiStandIn, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Web, Telegram and console in one process, one SQLite file, every logger at DEBUG."""
    standin, api_url = standin_url
    person = TelegramPerson()
    settings = telegram_settings(tmp_path, api_url)
    db = sqlite_path(sqlite_url)
    caplog.set_level(logging.DEBUG)
    with production_log_levels():
        # Web: the real app and its middleware, a client at a known address.
        app = create_app(
            settings.model_copy(update={"telegram_bot_token": None}), service=sqlite_service
        )
        async with app.router.lifespan_context(app), web_client(app) as http:
            web = WebChat(http)
            await whole_web_conversation(web, "lt")
            assert (await web.post(text="x", choice="y")).status_code == 422
        # Telegram: the real PTB client, polling the loopback Bot API.
        channel = TelegramChannel(settings, sqlite_service, retry_backoff=0.01)
        await channel.start()
        try:
            await whole_telegram_conversation(TelegramChat(standin, person))
        finally:
            await channel.stop()
        # Console: the session the terminal uses.
        console_key = pseudonym(PSEUDONYM_SECRET.encode(), "console", secrets.token_hex(16))
        session = ConsoleSession(sqlite_service, console_key, "lt", None)
        await whole_console_conversation(session)

        forbidden = {**TYPED, **person.secrets(), **web_secrets(web), "client address": CLIENT_IP}
        rows = conversation_rows(db)
        assert len(rows) == 3, "one conversation per channel is kept while it lasts"
        assert all(len(row["key"]) == 64 for row in rows)
        assert database_leaks(db, forbidden) == {}
        # What is kept of the typed text: the detector's category, once per channel.
        assert category_counts(db).get(CATEGORY) == 3

        await session.close()
        assert console_key not in dump_tables(db)

    logged = "\n".join(record_text(r) for r in caplog.records)
    assert "POST /api/v1/conversations/{conversation_id}/messages 200" in logged
    keys = {f"stored key {i}": row["key"] for i, row in enumerate(rows)}
    assert leaks(logged, {**forbidden, **keys, "bot token": TOKEN}) == []


#: Malformed requests carrying a token and typed text (uvicorn refuses them with a 400).
MALFORMED = [
    b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
    + TOKEN.encode()
    + b"\x01\r\nX-Note: "
    + MARKER.encode()
    + b"\x00\r\nContent-Length: 2\r\n\r\n{}",
    b"GET /api/v1/conversations/" + PHONE.encode() + b"\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: " + MARKER.encode() + b"\r\n\r\n",
]


async def send_raw(host: str, port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(200), 10)
    writer.close()
    await writer.wait_closed()
    return answer


@pytest.mark.slow
@pytest.mark.parametrize(("log_format", "mode"), [("json", "webhook"), ("text", "polling")])
async def test_serve_logs_and_database_hold_no_personal_data(
    log_format: str, mode: str, standin_url: tuple[BotApiStandIn, str], tmp_path: Path
) -> None:
    """`python -m bot serve` at DEBUG, web over real HTTP behind a proxy, and Telegram."""
    standin, api_url = standin_url
    person = TelegramPerson(id=6048213377, username="kvietkauskas_az")
    data = tmp_path / "data"
    db = data / "safe_abroad.db"
    server = Serve(
        subprocess_env(
            DATA_DIR=str(data),
            # Polling: generated and kept on first run. A webhook is production-like, so
            # `serve` insists on an explicit key there.
            PSEUDONYM_SECRET=None if mode == "polling" else PSEUDONYM_SECRET,
            LOG_FORMAT=log_format,
            LOG_LEVEL="DEBUG",
            TELEGRAM_BOT_TOKEN=TOKEN,
            # "localhost", so that 127.0.0.1 in the log could only be a client's address.
            TELEGRAM_API_BASE_URL=api_url.replace("127.0.0.1", "localhost") + "/bot",
            PUBLIC_BASE_URL="https://bot.example.org" if mode == "webhook" else None,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            # The test plays a reverse proxy on loopback, whose X-Forwarded-For is believed.
            TRUSTED_PROXIES="127.0.0.1,::1",
        ),
        cwd=tmp_path,
        host="localhost",
    )
    try:
        server.start()
        await server.ready()
        # The app sits behind a reverse proxy on loopback, which names the real client.
        proxy = {"X-Forwarded-For": FORWARDED_IP}
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            web = WebChat(http, headers=proxy)
            await whole_web_conversation(web, "ru")
            refused = await http.post(
                f"{web.path}/messages",
                json={"text": MARKER, "choice": PHONE},
                headers=web.auth(),
            )
            assert refused.status_code == 422
            assert leaks(refused.text, TYPED) == []  # errors never echo what was sent
            wrong = await http.get(web.path, headers={**proxy, "Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            huge = await http.post(
                f"{web.path}/messages", json={"text": MARKER * 2000}, headers=web.auth()
            )
            assert huge.status_code == 413
            for request in MALFORMED:
                assert b" 400 " in await send_raw("localhost", server.port, request)

            async def webhook(update: dict[str, Any]) -> None:
                headers = {SECRET_HEADER: WEBHOOK_SECRET}
                response = await http.post("/telegram/webhook", json=update, headers=headers)
                assert response.status_code == 200, response.text
                standin.run_reply(response.content)  # as Telegram does

            chat = TelegramChat(standin, person, webhook=webhook if mode == "webhook" else None)
            await whole_telegram_conversation(chat)
        if mode == "webhook":
            assert standin.webhook["url"] == "https://bot.example.org/telegram/webhook"
        forbidden = {
            **TYPED,
            **person.secrets(),
            **web_secrets(web),
            "client address": FORWARDED_IP,
            "proxy address": "127.0.0.1",
            "bot token": TOKEN,
            "webhook secret": WEBHOOK_SECRET,
        }
        running = database_leaks(db, forbidden)  # while serving: WAL and all
        assert len(conversation_rows(db)) == 2
        assert category_counts(db).get(CATEGORY) == 2
        # uvicorn shuts down gracefully, then re-raises SIGTERM as its exit status.
        assert await server.stop() in (0, -signal.SIGTERM)
    finally:
        server.kill_quietly()
    output = server.output()
    assert running == {}
    assert database_leaks(db, forbidden) == {}
    assert leaks(output, forbidden) == []
    assert "POST /api/v1/conversations/{conversation_id}/messages 200" in output
    assert "Application shutdown complete" in output
    if log_format == "json":
        lines = [json.loads(line) for line in output.splitlines() if line.strip()]
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)


@pytest.mark.slow
def test_console_chat_keeps_and_logs_nothing_personal(tmp_path: Path) -> None:
    """`python -m bot chat` from a pipe at DEBUG: stderr and the database stay clean."""
    data = tmp_path / "data"
    lines = [
        *("1", "1", "1", f"{MARKER}, call me on {PHONE_SPACED}", "2", "1", PHONE),
        *("/menu", "4", AD),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--lang", "lt"],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=90,
        env=subprocess_env(DATA_DIR=str(data), LOG_LEVEL="DEBUG", LOG_FORMAT="json"),
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # the detector read the typed text (answered in English, the language it was typed in)
    assert t("en", SERIOUS) in result.stdout
    db = data / "safe_abroad.db"
    assert leaks(result.stderr, TYPED) == []
    assert database_leaks(db, TYPED) == {}
    assert conversation_rows(db) == []  # a console conversation ends with the session
    assert category_counts(db).get(CATEGORY) == 1


# ---------------------------------------------------------------------------- erase


async def test_web_erase_button_and_quick_exit_remove_every_row(
    engine: Any, sqlite_service: Conversations, sqlite_url: str, tmp_path: Path
) -> None:
    db = sqlite_path(sqlite_url)
    settings = Settings(data_dir=tmp_path / "data", pseudonym_secret=PSEUDONYM_SECRET)
    app = create_app(settings, service=sqlite_service)
    async with app.router.lifespan_context(app), web_client(app) as http:
        erased, kept, exited = WebChat(http), WebChat(http), WebChat(http)
        for chat in (erased, kept, exited):
            await chat.start("uk")
            await chat.say(choice="menu.main.romance")
        keys = {
            chat.id: pseudonym(PSEUDONYM_SECRET.encode(), "web", chat.id)
            for chat in (erased, kept, exited)
        }
        assert len(conversation_rows(db)) == 3

        assert (await erased.erase()).status_code == 204  # the "Erase chat" button
        # Quick exit sends only the token (keepalive fetch, no other headers).
        quick = await http.delete(exited.path, headers={"Authorization": f"Bearer {exited.token}"})
        assert quick.status_code == 204

        dump = dump_tables(db)
        assert keys[erased.id] not in dump and keys[exited.id] not in dump
        assert [row["key"] for row in conversation_rows(db)] == [keys[kept.id]]
        for gone in (erased, exited):
            assert (await gone.pending()).status_code == 401
            assert (await gone.post(choice="menu")).status_code == 401
            assert (await gone.erase()).status_code == 401
        assert (await kept.pending()).status_code == 200


WAL_FIX = (
    "the SQLite WAL keeps the erased row's page (its key, token hash and state) until a "
    "checkpoint, which on a quiet server may be days; fix in bot/store.py: "
    "SqlAlchemyStore.delete and .purge run `PRAGMA wal_checkpoint(TRUNCATE)` on SQLite "
    "after deleting, and _tune_sqlite sets `PRAGMA secure_delete = ON`"
)


async def test_an_erased_web_conversation_leaves_no_bytes_in_the_database_files(
    sqlite_service: Conversations, sqlite_url: str, tmp_path: Path
) -> None:
    """Not only the row: the raw files (WAL too) no longer hold it, while the server runs."""
    db = sqlite_path(sqlite_url)
    settings = Settings(data_dir=tmp_path / "data", pseudonym_secret=PSEUDONYM_SECRET)
    app = create_app(settings, service=sqlite_service)
    async with app.router.lifespan_context(app), web_client(app) as http:
        chat = await WebChat(http).start("lt")
        await chat.say(choice="menu.main.job")
        key = pseudonym(PSEUDONYM_SECRET.encode(), "web", chat.id)
        (row,) = conversation_rows(db)
        traces = {"stored key": key, "token hash": row["secret_hash"]}
        assert database_leaks(db, traces)  # the scan sees a live conversation
        assert (await chat.erase()).status_code == 204
        assert database_leaks(db, traces) == {}


async def test_a_purged_conversation_leaves_no_bytes_in_the_database_files(
    sqlite_url: str,
) -> None:
    await seed(sqlite_url, {"e" * 64: 40})
    store = await open_store(sqlite_url)
    try:
        assert await store.purge(datetime.now(UTC) - timedelta(days=30)) == 1
        assert database_leaks(sqlite_path(sqlite_url), {"stored key": "e" * 64}) == {}
    finally:
        await store.close()


async def test_a_made_up_campaign_code_is_not_kept_by_name(
    sqlite_service: Conversations, sqlite_url: str, tmp_path: Path
) -> None:
    """A link code can carry anything a person or a helper typed into it: a name, a number."""
    personal_code = "Marija_Jonaitiene_37061234567"
    db = sqlite_path(sqlite_url)
    settings = Settings(data_dir=tmp_path / "data", pseudonym_secret=PSEUDONYM_SECRET)
    app = create_app(settings, service=sqlite_service)
    async with app.router.lifespan_context(app), web_client(app) as http:
        chat = await WebChat(http).start("lt", campaign=personal_code)
        await chat.say(text=MARKER)
        assert (await chat.erase()).status_code == 204
    assert category_counts(db).get(CATEGORY) == 1  # the aggregate is still counted
    assert personal_code not in dump_tables(db)


async def test_an_erase_racing_a_message_leaves_no_row(
    sqlite_service: Conversations, sqlite_url: str, tmp_path: Path
) -> None:
    """However a message and an erase interleave, nothing of the conversation survives."""
    db = sqlite_path(sqlite_url)
    settings = Settings(data_dir=tmp_path / "data", pseudonym_secret=PSEUDONYM_SECRET)
    app = create_app(settings, service=sqlite_service)
    async with app.router.lifespan_context(app), web_client(app) as http:
        chats = [await WebChat(http).start("en") for _ in range(12)]
        results = await asyncio.gather(
            *(
                coroutine
                for i, chat in enumerate(chats)
                for coroutine in (
                    (chat.post(choice="menu.main.job"), chat.erase())
                    if i % 2
                    else (chat.erase(), chat.post(choice="menu.main.job"))
                )
            )
        )
    statuses = {r.status_code for r in results}
    assert statuses <= {200, 204, 401}, statuses
    assert conversation_rows(db) == []


async def test_telegram_forget_removes_every_row(
    sqlite_service: Conversations,
    sqlite_url: str,
    standin_url: tuple[BotApiStandIn, str],
    tmp_path: Path,
) -> None:
    standin, api_url = standin_url
    db = sqlite_path(sqlite_url)
    leaving, staying = TelegramPerson(id=5550001111), TelegramPerson(id=5550002222)
    channel = TelegramChannel(
        telegram_settings(tmp_path, api_url), sqlite_service, retry_backoff=0.01
    )
    await channel.start()
    try:
        for person in (leaving, staying):
            chat = TelegramChat(standin, person)
            await chat.type("/start")
            await chat.press("lang:lt")
            await chat.press("menu.main.risk")
        assert len(conversation_rows(db)) == 2
        erased_text = t("lt", ERASED)
        chat = TelegramChat(standin, leaving)
        texts = await chat.type(
            "/forget", done=lambda sent: any(erased_text in c.params["text"] for c in sent)
        )
        assert erased_text in texts[-1]
    finally:
        await channel.stop()
    key = pseudonym(PSEUDONYM_SECRET.encode(), "telegram", leaving.id)
    assert key not in dump_tables(db)
    assert [row["key"] for row in conversation_rows(db)] == [
        pseudonym(PSEUDONYM_SECRET.encode(), "telegram", staying.id)
    ]


async def test_console_forget_removes_every_row(
    sqlite_service: Conversations, sqlite_url: str
) -> None:
    db = sqlite_path(sqlite_url)
    key = pseudonym(PSEUDONYM_SECRET.encode(), "console", secrets.token_hex(16))
    session = ConsoleSession(sqlite_service, key, "ru", None)
    await session.start()
    await session.send(pick_number(session, "menu.main.job"))
    await session.send(pick_number(session, "job_offer."))
    assert [row["key"] for row in conversation_rows(db)] == [key]
    answer = await session.send("/forget")
    assert "Удалено" in answer
    assert key not in dump_tables(db)
    await session.close()


# ---------------------------------------------------------------------------- retention


async def seed(url: str, keys_by_age: dict[str, float]) -> None:
    """Store conversations last touched `age` days ago."""
    now = datetime.now(UTC)
    for key, age in keys_by_age.items():
        store = await open_store(url, clock=lambda age=age: now - timedelta(days=age))
        try:
            await store.create(key, {"v": 1, "lang": "en"})
        finally:
            await store.close()


def kept_keys(db: Path) -> set[str]:
    return {row["key"] for row in conversation_rows(db)}


@pytest.mark.slow
def test_purge_command_removes_only_conversations_past_retention(
    sqlite_url: str, tmp_path: Path
) -> None:
    asyncio.run(seed(sqlite_url, {"a" * 64: 45, "b" * 64: 30.01, "c" * 64: 29.9, "d" * 64: 0}))
    db = sqlite_path(sqlite_url)

    def purge(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "purge"],
            capture_output=True,
            text=True,
            timeout=60,
            env=subprocess_env(DATABASE_URL=sqlite_url, **env),
            cwd=tmp_path,
            check=False,
        )

    result = purge()  # RETENTION_DAYS unset: 30 days
    assert result.returncode == 0, result.stderr
    assert "Removed 2 conversation(s)" in result.stdout
    assert kept_keys(db) == {"c" * 64, "d" * 64}
    result = purge(RETENTION_DAYS="7")
    assert result.returncode == 0, result.stderr
    assert kept_keys(db) == {"d" * 64}


async def test_serve_purges_stale_conversations_at_start_and_then_periodically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's own lifespan (as `serve` runs it) starts the purge task and repeats it."""
    rounds: list[float] = []
    original = web_app.purge_forever

    async def quick_purge(store: Any, retention_days: int, every: Any = None) -> None:
        rounds.append(retention_days)
        await original(store, retention_days, every=timedelta(seconds=0.05))

    monkeypatch.setattr(web_app, "purge_forever", quick_purge)
    settings = Settings(
        data_dir=tmp_path / "data", pseudonym_secret=PSEUDONYM_SECRET, retention_days=5
    )
    url = settings.resolved_database_url()
    db = sqlite_path(url)
    await seed(url, {"s" * 64: 6, "f" * 64: 4})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await wait_until(lambda: kept_keys(db) == {"f" * 64}, within=20)
        assert rounds == [5]  # started once, with RETENTION_DAYS
        await seed(url, {"l" * 64: 9})  # goes stale while the server runs
        await wait_until(lambda: "l" * 64 not in kept_keys(db), within=5)
    assert kept_keys(db) == {"f" * 64}
