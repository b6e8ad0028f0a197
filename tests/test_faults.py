"""Faults, proved: the database going away, a process killed mid-flow, a bug for one person.

The database outage is real: PostgreSQL behind a loopback `TcpProxy` that the test cuts
and restores, under the web API, the console session and the Telegram channel (the real
PTB client against the loopback Bot API). Each must answer "try again in a minute" in the
conversation's language (web: 503, never a 500), keep running, and continue the same
conversation at the same step once the database is back, without a restart.
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
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot import LANGUAGES
from bot.console import ConsoleSession
from bot.engine import Engine
from bot.model import Pick, Show, Start
from bot.pseudonym import pseudonym
from bot.service import TRY_LATER, Conversations
from bot.settings import Settings
from bot.store import InMemoryStore, StoreUnavailable, open_store
from bot.telegram_bot import TelegramChannel
from bot.web.app import create_app
from bot.web.strings import TRY_AGAIN
from tests.db_fixtures import TcpProxy
from tests.privacy_helpers import (
    MARKER,
    OUT_OF_DATE,
    Serve,
    TelegramChat,
    TelegramPerson,
    WebChat,
    first_choice,
    production_log_levels,
    record_text,
    sqlite_path,
    subprocess_env,
    t,
    table_rows,
)
from tests.telegram_standin import TOKEN, BotApiStandIn, serve

pytestmark = pytest.mark.timeout(120)

PSEUDONYM_SECRET = "fault-test-pseudonyms-0123456789abcdef-padding"


@pytest.fixture
async def proxied_postgres(postgres_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A fresh PostgreSQL database reached through a proxy the test can cut."""
    proxy = TcpProxy()
    await proxy.start()
    url = make_url(postgres_url).set(port=proxy.port).render_as_string(hide_password=False)
    try:
        yield proxy, url
    finally:
        if proxy._server is None:  # a test failed while the database was cut
            await proxy.start()
        await proxy.stop()


def settings_for(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", pseudonym_secret=PSEUDONYM_SECRET, **extra)


def web_client(app: Any) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def assert_try_again(response: httpx.Response, lang: str) -> None:
    """A 503 in the one error shape, saying "try again in a minute" in `lang`."""
    assert response.status_code == 503, response.text
    assert response.json()["error"] == {"code": "unavailable", "message": t(lang, TRY_AGAIN)}
    assert int(response.headers["Retry-After"]) > 0


# ---------------------------------------------------------------------------- database outage


@pytest.mark.postgres
async def test_web_answers_503_in_the_persons_language_while_postgres_is_cut_then_continues(
    engine: Engine, proxied_postgres: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, url = proxied_postgres
    store = await open_store(url)
    service = Conversations(engine, store)
    app = create_app(settings_for(tmp_path), service=service)
    try:
        async with app.router.lifespan_context(app), web_client(app) as http:
            chat = await WebChat(http).start("uk")
            await chat.say(choice="menu.main.job")
            question = chat.last
            answer = first_choice(question, "job_offer.")
            assert (await http.get("/readyz")).status_code == 200

            await proxy.stop()
            assert_try_again(await chat.post(choice=answer), "uk")
            assert_try_again(await chat.pending(), "uk")
            assert_try_again(await chat.erase(), "uk")
            newcomer = await http.post(
                "/api/v1/conversations", json={"lang": "uk"}, headers={"Accept-Language": "uk"}
            )
            assert_try_again(newcomer, "uk")
            assert (await http.get("/readyz")).status_code == 503
            assert (await http.get("/healthz")).status_code == 200  # the process is fine

            await proxy.start()  # the database is back; nothing restarts
            assert (await http.get("/readyz")).status_code == 200
            pending = await chat.pending()
            assert pending.status_code == 200
            assert pending.json()["messages"][-1] == question[-1]  # the same question
            replies = await chat.say(choice=answer)
            assert t("uk", OUT_OF_DATE) not in [m["text"] for m in replies]
            assert any(c.startswith("job_offer.") and c != answer for c in _ids(replies))
            step = answer.split(".")[1]
            stored = await store.get(pseudonym(PSEUDONYM_SECRET.encode(), "web", chat.id))
            assert stored is not None
            assert stored.state["answers"] == {step: answer.split(".")[2]}
    finally:
        await store.close()


def _ids(messages: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for m in messages for c in m["choices"]]


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_web_outage_message_is_in_each_language(
    engine: Engine, tmp_path: Path, lang: str
) -> None:
    store = InMemoryStore()
    app = create_app(settings_for(tmp_path), service=Conversations(engine, store))
    async with app.router.lifespan_context(app), web_client(app) as http:
        chat = await WebChat(http).start(lang)
        await chat.say(choice="menu.main.romance")
        store.down = True
        assert_try_again(await chat.post(choice=first_choice(chat.last, "romance.")), lang)
        store.down = False
        await chat.say(choice=first_choice(chat.last, "romance."))


@pytest.mark.postgres
async def test_console_session_raises_store_unavailable_then_resumes_at_the_same_step(
    engine: Engine, proxied_postgres: tuple[TcpProxy, str]
) -> None:
    proxy, url = proxied_postgres
    store = await open_store(url)
    service = Conversations(engine, store)
    key = pseudonym(PSEUDONYM_SECRET.encode(), "console", secrets.token_hex(16))
    session = ConsoleSession(service, key, "lt", None)
    try:
        await session.start()
        menu = await session.send(str(session.choices.index("menu.main.job") + 1))
        choices = list(session.choices)
        await proxy.stop()
        assert await session.send("1") == t("lt", TRY_LATER)  # said, not raised
        for call in (
            service.handle(key, Pick(choices[0]), channel="console"),
            service.pending(key),
            service.erase(key, channel="console"),
        ):
            with pytest.raises(StoreUnavailable):
                await call
        await proxy.start()
        assert session.choices == choices  # the numbers on screen still mean the same
        answer = await session.send("1")
        assert t("lt", OUT_OF_DATE) not in answer and answer not in menu
        stored = await store.get(key)
        assert stored is not None and stored.state["answers"] == {
            choices[0].split(".")[1]: choices[0].split(".")[2]
        }
    finally:
        await session.close()
        await store.close()


def test_console_chat_with_the_database_unreachable_says_so_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--lang", "en"],
        input="1\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:9/nothing"),
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "database" in result.stderr.lower()


@pytest.mark.postgres
async def test_console_chat_says_try_again_when_the_database_goes_away_and_carries_on(
    proxied_postgres: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, url = proxied_postgres
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "chat",
        "--lang",
        "ru",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(DATABASE_URL=url, DATA_DIR=str(tmp_path / "data")),
        cwd=tmp_path,
    )
    assert process.stdin is not None and process.stdout is not None
    try:

        async def say(line: str, expect: str) -> str:
            process.stdin.write(f"{line}\n".encode())
            await process.stdin.drain()
            return await _wait_for(process.stdout, expect)

        await _wait_for(process.stdout, "[1]")
        await proxy.stop()
        assert t("ru", TRY_LATER) in await say("1", t("ru", TRY_LATER))
        await proxy.start()
        assert "[1]" in await say("1", "[1]")
        process.stdin.close()
        assert await asyncio.wait_for(process.wait(), 30) == 0
        stderr = (await process.stderr.read()).decode()  # type: ignore[union-attr]
        assert "Traceback" not in stderr
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _wait_for(stream: asyncio.StreamReader, text: str, within: float = 30.0) -> str:
    """Read the console's output until `text` appears (or the program ends)."""
    seen = b""
    async with asyncio.timeout(within):
        while text.encode() not in seen:
            chunk = await stream.read(4096)
            if not chunk:
                break
            seen += chunk
    return seen.decode()


@pytest.mark.postgres
async def test_telegram_says_try_later_while_postgres_is_cut_then_continues(
    engine: Engine, proxied_postgres: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, url = proxied_postgres
    standin = BotApiStandIn()
    person = TelegramPerson(id=4401234567, language_code="ru")
    store = await open_store(url)
    async with serve(standin.app) as api_url:
        settings = settings_for(
            tmp_path, telegram_bot_token=TOKEN, telegram_api_base_url=f"{api_url}/bot"
        )
        channel = TelegramChannel(settings, Conversations(engine, store), retry_backoff=0.01)
        await channel.start()
        try:
            chat = TelegramChat(standin, person)
            await chat.type("/start")
            await chat.press("lang:ru")
            await chat.press("menu.main.job")
            _, buttons = chat.last_keyboard()
            answer = next(b for b in buttons if b.startswith("job_offer."))
            try_later = t("ru", TRY_LATER)

            await proxy.stop()
            texts = await chat.press(
                answer, done=lambda sent: any(c.params["text"] == try_later for c in sent)
            )
            assert texts == [try_later]
            assert channel.application is not None and channel.application.running

            await proxy.start()
            texts = await chat.press(answer)  # the same button, pressed again
            assert t("ru", OUT_OF_DATE) not in texts
            assert try_later not in texts
            stored = await store.get(pseudonym(PSEUDONYM_SECRET.encode(), "telegram", person.id))
            assert stored is not None
            assert stored.state["answers"] == {answer.split(".")[1]: answer.split(".")[2]}
        finally:
            await channel.stop()
            await store.close()


# ---------------------------------------------------------------------------- restart


@pytest.mark.slow
async def test_a_killed_server_resumes_the_web_conversation_at_the_same_step(
    tmp_path: Path,
) -> None:
    """SIGKILL `serve` on SQLite mid-flow; a new process on the same DATA_DIR carries on."""
    data = tmp_path / "data"
    # No PSEUDONYM_SECRET: the one generated on the first run must be kept and reused.
    env = subprocess_env(DATA_DIR=str(data), PSEUDONYM_SECRET=None, LOG_LEVEL="WARNING")
    first = Serve(env, cwd=tmp_path)
    second = Serve(env, cwd=tmp_path)
    try:
        first.start()
        await first.ready()
        async with httpx.AsyncClient(base_url=first.url, timeout=10) as http:
            chat = await WebChat(http).start("ru")
            await chat.say(choice="menu.main.romance")
            answered = []
            for _ in range(2):
                answered.append(first_choice(chat.last, "romance."))
                await chat.say(choice=answered[-1])
            before = await chat.pending()
            assert before.status_code == 200
            following = first_choice(chat.last, "romance.")
        await first.stop(signal.SIGKILL)

        second.start()
        await second.ready()
        async with httpx.AsyncClient(base_url=second.url, timeout=10) as http:
            chat.http = http
            after = await chat.pending()
            assert after.status_code == 200
            assert after.json() == before.json()  # the same prompt, word for word
            replies = await chat.say(choice=following)
            assert t("ru", OUT_OF_DATE) not in [m["text"] for m in replies]
        assert await second.stop() in (0, -signal.SIGTERM)
    finally:
        first.kill_quietly()
        second.kill_quietly()
    (row,) = table_rows(sqlite_path(f"sqlite:///{data / 'safe_abroad.db'}"))["conversations"]
    state = json.loads(row["state"])
    assert state["flow"] == "romance"
    assert [f"romance.{s}.{a}" for s, a in state["answers"].items()] == [*answered, following]


# ---------------------------------------------------------------------------- one person's bug


class Exploding(Engine):
    """The real engine, with a bug that hits only conversations of one campaign."""

    campaign = "ua_centres"
    armed = True
    #: What the exception says; a log line must never repeat an exception's message.
    message = MARKER

    def turn(self, state: Any, event: Any) -> Any:
        hit = isinstance(state, dict) and state.get("campaign") == self.campaign
        if self.armed and hit and not isinstance(event, Start | Show):
            raise RuntimeError(self.message)
        return super().turn(state, event)


def exploding(engine: Engine) -> Exploding:
    return Exploding(
        engine.flows,
        engine.translator,
        engine.detector,
        engine.scanner,
        engine.faq,
        engine.directory,
    )


async def test_a_bug_for_one_person_leaves_everyone_else_answered(
    engine: Engine, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    buggy = exploding(engine)
    store = await open_store(sqlite_url)
    service = Conversations(buggy, store)
    app = create_app(settings_for(tmp_path), service=service)
    caplog.set_level(logging.DEBUG)
    # Log levels as `serve` sets them (which also quiets the test client's own httpx lines).
    with production_log_levels():
        try:
            async with app.router.lifespan_context(app), web_client(app) as http:
                await one_persons_bug(buggy, service, http, caplog)
        finally:
            await store.close()


async def one_persons_bug(
    buggy: Exploding, service: Conversations, http: httpx.AsyncClient, caplog: Any
) -> None:
    store = service.store
    victim = await WebChat(http).start("lt", campaign=Exploding.campaign)
    others = [await WebChat(http).start(lang) for lang in ("en", "ru", "uk")]
    victim_key = pseudonym(PSEUDONYM_SECRET.encode(), "web", victim.id)
    version = (await store.get(victim_key)).version
    for other in others:
        await other.say(choice="menu.main.job")
    for _ in range(4):  # the victim and everyone else at the same moment
        results = await asyncio.gather(
            victim.post(choice="menu.main.job"),
            *(o.post(choice=first_choice(o.last, "job_offer.")) for o in others),
        )
        assert results[0].status_code == 500
        assert results[0].json()["error"]["code"] == "internal"
        assert [r.status_code for r in results[1:]] == [200, 200, 200]
    for other in others:
        key = pseudonym(PSEUDONYM_SECRET.encode(), "web", other.id)
        assert len((await store.get(key)).state["answers"]) == 4
    assert (await store.get(victim_key)).version == version  # nothing half-written
    logged = "\n".join(record_text(r) for r in caplog.records)
    assert "unhandled RuntimeError" in logged
    assert MARKER not in logged and victim.id not in logged

    # Service level too: one call fails, the other, at the same time, succeeds.
    outcomes = await asyncio.gather(
        service.handle(victim_key, Pick("menu.main.job"), channel="web"),
        service.handle(
            pseudonym(PSEUDONYM_SECRET.encode(), "web", others[0].id),
            Pick(first_choice(others[0].last, "job_offer.")),
            channel="web",
        ),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], RuntimeError)
    assert not isinstance(outcomes[1], BaseException) and outcomes[1].replies

    buggy.armed = False  # the fix is deployed: the victim carries on from the menu
    replies = await victim.say(choice="menu.main.job")
    assert any(c.startswith("job_offer.") for c in _ids(replies))
