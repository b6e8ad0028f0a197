"""Helpers for the privacy, fault and worker tests: leak scans, `serve` subprocesses, drivers.

A leak scan looks for exact strings (names, ids, typed text, tokens, addresses) in
everything the bot wrote: every table of the SQLite database, its raw file bytes (the
`-wal` and `-shm` files too) and the log lines. Drivers hold one whole conversation in a
channel, the way a person would, so the scans have something to find.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot import ROOT
from bot.i18n import default_translator

# ---------------------------------------------------------------------------- what must not leak

#: A unique sentence a person types (a name, and what happened to them).
MARKER = "Marytė Zabrauskienė took my passport"
#: A phone number the person types, in two spellings.
PHONE = "+37061234567"
PHONE_SPACED = "+370 612 34567"
#: A job ad a person pastes into the scanner; it names someone and gives a number.
AD = (
    "Darbas Vokietijoje, 3000 EUR per mėnesį, patirties nereikia. Skambinkite Ramunei "
    f"Kvedaravičiūtei {PHONE}. Pasą paimsime registracijai."
)
AD_NAME = "Kvedaravičiūtei"
OUT_OF_DATE = "This menu is out of date. Here is where we are now:"


@dataclass(frozen=True)
class TelegramPerson:
    """A Telegram user with every personal field Telegram sends (chat id == user id)."""

    id: int = 7319554026
    first_name: str = "Ąžuolas"
    last_name: str = "Kvietkauskas"
    username: str = "azuolas_kv_1987"
    language_code: str = "lt"

    def user(self) -> dict[str, Any]:
        """Return the `User` object."""
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }

    def chat(self) -> dict[str, Any]:
        """Return the private `Chat` object, which repeats the names."""
        return {
            "id": self.id,
            "type": "private",
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
        }

    def secrets(self) -> dict[str, str]:
        """Return what identifies this person, by label."""
        return {
            "telegram first name": self.first_name,
            "telegram last name": self.last_name,
            "telegram username": self.username,
            "telegram user id": str(self.id),
        }


_message_ids = itertools.count(5_000_000)
_query_ids = itertools.count(9_000)


def tg_message(person: TelegramPerson, text: str) -> dict[str, Any]:
    """Return an update with a message (or a command) the person typed."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": person.chat(),
        "from": person.user(),
        "text": text,
    }
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": body}


def tg_press(person: TelegramPerson, bot_message: dict[str, Any], data: str) -> dict[str, Any]:
    """Return an update for pressing a button under a message the bot sent."""
    return {
        "callback_query": {
            "id": str(next(_query_ids)),
            "from": person.user(),
            "chat_instance": f"ci-{person.id}",
            "data": data,
            "message": bot_message,
        }
    }


# ---------------------------------------------------------------------------- scanning


def leaks(haystack: str | bytes, secrets: dict[str, str]) -> list[str]:
    """Return the labels of the secrets found in `haystack` (text, or raw bytes)."""
    found = []
    for label, secret in secrets.items():
        if isinstance(haystack, bytes):
            needles = {secret.encode("utf-8"), secret.encode("utf-16-le")}
            if any(n in haystack for n in needles):
                found.append(label)
        elif secret in haystack:
            found.append(label)
    return found


def sqlite_path(url: str) -> Path:
    """Return the file of a `sqlite+aiosqlite:///…` URL."""
    return Path(url.split(":///", 1)[1])


def raw_files(db: Path) -> dict[str, bytes]:
    """Return the bytes of the database file and its companions (read before opening it)."""
    files = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(f"{db}{suffix}")
        if path.exists():
            files[path.name] = path.read_bytes()
    return files


def table_rows(db: Path) -> dict[str, list[dict[str, Any]]]:
    """Return every row of every table, read-only (so no checkpoint touches the WAL)."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        result: dict[str, list[dict[str, Any]]] = {}
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [c[0] for c in cursor.description]
            result[table] = [dict(zip(columns, row, strict=True)) for row in cursor]
        return result
    finally:
        connection.close()


def dump_tables(db: Path) -> str:
    """Return every table as text, one row per line, for a leak scan."""
    return "\n".join(f"{table}: {row!r}" for table, rows in table_rows(db).items() for row in rows)


def database_leaks(db: Path, secrets: dict[str, str]) -> dict[str, list[str]]:
    """Scan the raw files first (WAL included), then every table; return where each leak is."""
    found: dict[str, list[str]] = {}
    for name, data in raw_files(db).items():
        if hit := leaks(data, secrets):
            found[name] = hit
    if hit := leaks(dump_tables(db), secrets):
        found["tables"] = hit
    return found


def key_fragments(haystack: str, key: str, size: int = 8) -> list[str]:
    """Return every `size`-character piece of a pseudonym `key` that occurs in `haystack`.

    A log line with a prefix (or any other piece) of a pseudonym can be matched to the
    conversation by anyone who has the database: none may appear.
    """
    pieces = {key[i : i + size] for i in range(len(key) - size + 1)}
    return sorted(piece for piece in pieces if piece in haystack)


def record_text(record: logging.LogRecord) -> str:
    """Return a log record as a handler would print it, with any traceback."""
    return logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record)


@contextmanager
def production_log_levels() -> Iterator[None]:
    """Apply the log levels `setup_logging` sets in production, keeping pytest's handlers."""
    from bot.logs import setup_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    named = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    setup_logging("text", "DEBUG")
    root.handlers[:] = handlers  # setup_logging replaced them; pytest's capture needs them
    try:
        yield
    finally:
        root.setLevel(level)
        for name in list(logging.root.manager.loggerDict):
            logger = logging.getLogger(name)
            logger.setLevel(named.get(name, logging.NOTSET))


# ---------------------------------------------------------------------------- subprocesses


def free_port() -> int:
    """Return a loopback port that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_env(**values: str | None) -> dict[str, str]:
    """Return the environment for a `python -m bot` child: ours, with `values` (None removes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "LOG_"))}
    env.pop("DATABASE_URL", None)
    # Children start in a temporary folder: make them import this tree's `bot`, not an
    # installed copy from another checkout.
    env["PYTHONPATH"] = str(ROOT)
    for key, value in values.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@dataclass
class Serve:
    """A `python -m bot serve` child process with its stderr in a file."""

    env: dict[str, str]
    cwd: Path
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    #: Extra command-line options, e.g. ("--workers", "2").
    args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Serve:
        """Start the server (without waiting for it)."""
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.log_path = self.cwd / f"serve-{self.port}.log"
        env = {**self.env, "HOST": self.host, "PORT": str(self.port)}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", *self.args],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    async def ready(self, within: float = 60.0) -> None:
        """Wait until /readyz answers 200 (the database is open and migrated)."""
        assert self.process is not None
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"serve exited early:\n{self.output()}")
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"serve did not become ready:\n{self.output()}")
                await asyncio.sleep(0.1)

    async def stop(self, sig: int = signal.SIGTERM, within: float = 20.0) -> int:
        """Send `sig` and wait for the process to end; return its exit code."""
        process = self.process
        assert process is not None
        if process.poll() is None:
            process.send_signal(sig)
        deadline = time.monotonic() + within
        while process.poll() is None:
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise AssertionError(f"serve did not stop on {sig}:\n{self.output()}")
            await asyncio.sleep(0.05)
        return process.returncode

    def output(self) -> str:
        """Return everything the process wrote to stdout and stderr so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill_quietly(self) -> None:
        """End the process if a test failed before stopping it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# ---------------------------------------------------------------------------- web driver


def t(lang: str, msgid: str) -> str:
    """Translate a source string as the bot would."""
    return default_translator().gettext(lang, msgid)


def choice_ids(messages: list[dict[str, Any]]) -> list[str]:
    """Return the ids of every choice offered in a list of messages."""
    return [c["id"] for m in messages for c in m["choices"]]


def first_choice(messages: list[dict[str, Any]], prefix: str) -> str:
    """Return the first offered choice id starting with `prefix`."""
    for choice in choice_ids(messages):
        if choice.startswith(prefix):
            return choice
    raise AssertionError(f"no choice starting with {prefix!r} in {choice_ids(messages)}")


@dataclass
class WebChat:
    """One web conversation through the JSON API, as the chat page holds it."""

    http: httpx.AsyncClient
    id: str = ""
    token: str = ""
    lang: str = "en"
    last: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def auth(self) -> dict[str, str]:
        """Return the headers the chat page sends with every call."""
        return {
            **self.headers,
            "Accept": "application/json",
            "Accept-Language": self.lang,
            "Authorization": f"Bearer {self.token}",
        }

    @property
    def path(self) -> str:
        """Return the conversation's API path."""
        return f"/api/v1/conversations/{self.id}"

    async def start(self, lang: str = "en", campaign: str | None = None) -> WebChat:
        """Open the conversation."""
        body: dict[str, Any] = {"lang": lang}
        if campaign:
            body["campaign"] = campaign
        response = await self.http.post("/api/v1/conversations", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        data = response.json()
        self.id, self.token, self.lang, self.last = (
            data["id"],
            data["token"],
            data["lang"],
            data["messages"],
        )
        return self

    async def post(self, **body: Any) -> httpx.Response:
        """Send `text=` or `choice=`; keep the reply when it is 200."""
        response = await self.http.post(f"{self.path}/messages", json=body, headers=self.auth())
        if response.status_code == 200:
            self.last = response.json()["messages"]
        return response

    async def say(self, **body: Any) -> list[dict[str, Any]]:
        """Send and require a 200; return the messages."""
        response = await self.post(**body)
        assert response.status_code == 200, response.text
        return self.last

    async def pending(self) -> httpx.Response:
        """GET the pending prompt, as after a reload."""
        return await self.http.get(self.path, headers=self.auth())

    async def erase(self) -> httpx.Response:
        """DELETE the conversation, as the erase button does."""
        return await self.http.delete(self.path, headers=self.auth())


async def whole_web_conversation(chat: WebChat, lang: str = "lt") -> None:
    """Hold a whole conversation: checklist answers, danger text, a phone number, the scanner."""
    await chat.start(lang, campaign="privacy-test")
    await chat.say(choice="menu.main.job")
    for _ in range(3):
        await chat.say(choice=first_choice(chat.last, "job_offer."))
    await chat.say(text=f"{MARKER}, call me on {PHONE_SPACED}")
    await chat.say(choice="country")
    await chat.say(choice="help.where.LT")
    await chat.say(text=PHONE)
    await chat.say(choice="menu")
    await chat.say(choice="menu.main.scan")
    await chat.say(text=AD)
    response = await chat.pending()
    assert response.status_code == 200, response.text


def wait_until(predicate: Callable[[], bool], within: float = 10.0) -> Any:
    """Return an awaitable that waits for `predicate()` or fails after `within` seconds."""

    async def waiting() -> None:
        async with asyncio.timeout(within):
            while not predicate():  # noqa: ASYNC110 - a condition read from the stand-in
                await asyncio.sleep(0.01)

    return waiting()


# ---------------------------------------------------------------------------- Telegram driver


@dataclass
class TelegramChat:
    """One person's private chat with the bot, driven through the Bot API stand-in."""

    standin: Any  # tests.telegram_standin.BotApiStandIn
    person: TelegramPerson = field(default_factory=TelegramPerson)
    #: Webhook mode: post each update here (Telegram's side); None: getUpdates (polling).
    webhook: Callable[[dict[str, Any]], Awaitable[Any]] | None = None

    def sent_since(self, index: int) -> list[Any]:
        """Return the successful sendMessage calls to this chat since call `index`."""
        return [
            c
            for c in self.standin.calls[index:]
            if c.method == "sendMessage"
            and c.status == 200
            and int(c.params["chat_id"]) == self.person.id
        ]

    def last_keyboard(self) -> tuple[dict[str, Any], list[str]]:
        """Return the last bot message with buttons (as the stand-in holds it) and its data."""
        for call in reversed(self.sent_since(0)):
            markup = call.params.get("reply_markup") or {}
            buttons = [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]
            if buttons:
                message = self.standin.message(self.person.id, call.result["message_id"])
                return message, buttons
        raise AssertionError("the bot has not shown any buttons")

    async def deliver(
        self, update: dict[str, Any], done: Callable[[list[Any]], bool] | None = None
    ) -> list[str]:
        """Feed one update; wait until the bot has answered (by default: shown buttons)."""
        before = len(self.standin.calls)
        if self.webhook is None:
            self.standin.feed(update)
        else:
            await self.webhook({"update_id": self.standin.new_update_id(), **update})

        def finished() -> bool:
            sent = self.sent_since(before)
            if done is not None:
                return done(sent)
            return any((c.params.get("reply_markup") or {}).get("inline_keyboard") for c in sent)

        await wait_until(finished, within=15)
        return [c.params["text"] for c in self.sent_since(before)]

    async def type(self, text: str, **kwargs: Any) -> list[str]:
        """Type a message or a command."""
        return await self.deliver(tg_message(self.person, text), **kwargs)

    async def press(self, prefix: str, **kwargs: Any) -> list[str]:
        """Press the first button of the last keyboard whose data starts with `prefix`."""
        message, buttons = self.last_keyboard()
        data = next((b for b in buttons if b.startswith(prefix)), None)
        assert data is not None, f"no button {prefix!r} among {buttons}"
        return await self.deliver(tg_press(self.person, message, data), **kwargs)


async def whole_telegram_conversation(chat: TelegramChat) -> None:
    """Hold a whole Telegram conversation with names, typed danger text and a phone number."""
    await chat.type("/start")
    await chat.press("lang:lt")
    await chat.press("menu.main.job")
    for _ in range(3):
        await chat.press("job_offer.")
    await chat.type(f"{MARKER}, call me on {PHONE_SPACED}")
    await chat.press("country")
    await chat.press("help.where.LT")
    await chat.type(PHONE)
    await chat.type("/privacy")
    await chat.type("/menu")
    await chat.press("menu.main.scan")
    await chat.type(AD)
