"""The counsellor relay: a person's messages to a forum topic, a counsellor's answers back.

Topic per person (the known pattern of e.g. MasterGroosha/telegram-feedback-bot-topics,
written afresh): when a person agrees, the bot creates a topic in the NGO's forum group
(COUNSELLOR_CHAT_ID) named with a random code, the language and the channel; what the
person writes is posted there; what a counsellor writes in the topic goes back to the
person; `/end` in the topic closes it.

Nothing relayed is stored or logged: texts pass through memory only. The database holds a
route per open chat (bot.relay_store) and the engine's state holds only when the relay
opened and the topic id.

Across workers: a counsellor's answer arrives at whichever worker Telegram posts the update
to, while a web person's live connection (server-sent events) is held by some worker.
Answers for web people therefore go through PostgreSQL LISTEN/NOTIFY: the worker that got
the answer numbers it and NOTIFYs in one transaction (bot.relay_store.SqlRoutes.stamp),
every worker LISTENs, and the one holding the connection passes it on. PostgreSQL is
already the production store, so this adds no service to run or secure; NOTIFY is
delivered only at commit, in commit order, to every listener exactly once, and the
per-chat number lets a receiver drop repeats and a reconnecting page ask for what it
missed (Last-Event-ID). Redis pub/sub would also do, but it would be a second place that
sees the texts and a second service to keep up, for no gain at this volume. On SQLite (one
process) the same hub is fed directly.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.counsellor import Desk, utcnow
from bot.model import Counsel, NoPickup, Note, RelayClosed, Reply
from bot.relay_store import NOTIFY_CHANNEL, Route, Routes

if TYPE_CHECKING:
    from bot.service import Conversations

log = logging.getLogger(__name__)

#: PostgreSQL refuses NOTIFY payloads of 8000 bytes or more: longer ones go in parts.
NOTIFY_PART = 7000
#: What a worker keeps for a page that reconnects: recent pushes per chat, this long.
REPLAY_SECONDS = 600
REPLAY_PER_CHAT = 50
REPLAY_CHATS = 10_000
SWEEP_EVERY = 30.0

# Texts for the counsellors (one language: the desk's working language is English here,
# as the group's members are staff; the person's language is in the topic name).
TOPIC_INTRO = (
    "New chat {code} · language: {lang} · via {channel}. Reply in this topic; the person "
    "sees your messages as from a counsellor. /end closes the chat."
)
PERSON_LEFT = "The person left the chat. This topic is closed."
URGENT_MARK = (
    "🚨 URGENT: the bot read this as a risk to life or liberty right now. The person was "
    "shown the emergency number."
)
NUDGED = (
    "No one answered within {minutes} minutes: the person was shown the hotline numbers and "
    "can still wait here."
)
ENDED_HERE = "Chat ended. The person was told."
GONE = "This chat has ended; nothing was passed on."


# -------------------------------------------------------------------- sealed chat ids


def _stream(key: bytes, nonce: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hmac.new(key, b"stream" + nonce + counter.to_bytes(4, "big"), "sha256").digest()
        counter += 1
    return out[:length]


def seal(key: bytes, value: int) -> str:
    """Encrypt and authenticate a Telegram chat id (HMAC-SHA256 stream; no raw id at rest)."""
    nonce = secrets.token_bytes(12)
    plain = str(value).encode()
    body = bytes(a ^ b for a, b in zip(plain, _stream(key, nonce, len(plain)), strict=True))
    tag = hmac.new(key, b"tag" + nonce + body, "sha256").digest()[:16]
    return base64.urlsafe_b64encode(nonce + body + tag).decode()


def unseal(key: bytes, sealed: str) -> int:
    """Return the chat id `seal` hid; raise ValueError if it was not sealed with `key`."""
    raw = base64.urlsafe_b64decode(sealed.encode())
    nonce, body, tag = raw[:12], raw[12:-16], raw[-16:]
    expected = hmac.new(key, b"tag" + nonce + body, "sha256").digest()[:16]
    if not hmac.compare_digest(tag, expected):
        raise ValueError("not sealed with this key")
    return int(bytes(a ^ b for a, b in zip(body, _stream(key, nonce, len(body)), strict=True)))


def seal_key(pseudonym_key: bytes) -> bytes:
    """A key for sealing, derived from (and never equal to) the pseudonym key."""
    return hashlib.sha256(b"safe-abroad relay seal v1|" + pseudonym_key).digest()


# -------------------------------------------------------------------- the local hub


@dataclass
class Push:
    """Messages for a web person, numbered per chat."""

    seq: int
    messages: list[dict[str, Any]]
    at: float


class Hub:
    """Live web connections in this worker, and a short replay memory for reconnects."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[asyncio.Queue[Push | None]]] = {}
        self._recent: OrderedDict[str, deque[Push]] = OrderedDict()
        self._parts: dict[tuple[str, int], list[str | None]] = {}

    def deliver(self, key: str, seq: int, messages: list[dict[str, Any]]) -> None:
        """Pass numbered messages to this chat's connections; repeats are dropped."""
        recent = self._recent.pop(key, None) or deque(maxlen=REPLAY_PER_CHAT)
        self._recent[key] = recent
        while len(self._recent) > REPLAY_CHATS:
            self._recent.popitem(last=False)
        if recent and seq <= recent[-1].seq:
            return  # already delivered (a repeat), or older than what was passed on
        push = Push(seq, messages, time.monotonic())
        recent.append(push)
        for queue in self._listeners.get(key, ()):
            queue.put_nowait(push)

    def close(self, key: str) -> None:
        """End this chat's live connections (erased) and forget what was kept for it."""
        self._recent.pop(key, None)
        for queue in self._listeners.get(key, ()):
            queue.put_nowait(None)

    def receive(self, payload: str) -> None:
        """Take one NOTIFY payload: "key seq part total chunk"."""
        try:
            key, seq_s, part_s, total_s, chunk = payload.split(" ", 4)
            seq, part, total = int(seq_s), int(part_s), int(total_s)
        except ValueError:
            log.warning("relay: a malformed notification was dropped")
            return
        if total == 1:
            return self._complete(key, seq, chunk)
        parts = self._parts.setdefault((key, seq), [None] * total)
        parts[part] = chunk
        if all(p is not None for p in parts):
            del self._parts[(key, seq)]
            self._complete(key, seq, "".join(p or "" for p in parts))
        return None

    def _complete(self, key: str, seq: int, body: str) -> None:
        if body == "close":
            self.close(key)
            return
        self.deliver(key, seq, json.loads(body))

    @contextlib.asynccontextmanager
    async def listen(self, key: str, after: int = 0) -> AsyncIterator[asyncio.Queue[Push | None]]:
        """Subscribe to a chat; what arrived after `after` in the last minutes comes first."""
        queue: asyncio.Queue[Push | None] = asyncio.Queue()
        now = time.monotonic()
        for push in self._recent.get(key, ()):
            if push.seq > after and now - push.at < REPLAY_SECONDS:
                queue.put_nowait(push)
        self._listeners.setdefault(key, set()).add(queue)
        try:
            yield queue
        finally:
            listeners = self._listeners.get(key)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    del self._listeners[key]


def payloads(key: str, seq: int, body: str) -> list[str]:
    """Split one push into NOTIFY payloads under PostgreSQL's limit (whole characters)."""
    chunks: list[str] = []
    current = ""
    for char in body:
        if len((current + char).encode()) > NOTIFY_PART:
            chunks.append(current)
            current = ""
        current += char
    chunks.append(current)
    return [f"{key} {seq} {i} {len(chunks)} {chunk}" for i, chunk in enumerate(chunks)]


class PgListener:
    """LISTEN on the relay channel with its own asyncpg connection; reconnect on loss."""

    def __init__(self, dsn: str, hub: Hub):
        self.dsn = dsn
        self.hub = hub
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        import asyncpg

        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self.dsn, timeout=10)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(
                    NOTIFY_CHANNEL, lambda _c, _pid, _ch, payload: self.hub.receive(payload)
                )
                self.ready.set()
                await lost.wait()
                log.warning("relay: the LISTEN connection was lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("relay: cannot LISTEN (%s); retrying", type(error).__name__)
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            await asyncio.sleep(1)


def pg_dsn(url: Any) -> str:
    """Return a libpq DSN for asyncpg from a SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    parsed = make_url(str(url) if not hasattr(url, "set") else url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


# -------------------------------------------------------------------- the relay


#: Sends replies to a Telegram person: (pseudonym, chat id, replies).
TelegramPush = Callable[[str, int, list[Reply]], Awaitable[None]]


class Relay:
    """Open, feed and close counsellor topics; push answers to people."""

    def __init__(
        self,
        desk: Desk,
        routes: Routes,
        hub: Hub,
        pseudonym_key: bytes,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.desk = desk
        self.routes = routes
        self.hub = hub
        self._seal = seal_key(pseudonym_key)
        self.clock = clock
        #: Set by the Telegram channel when it starts: the Bot, and how to reach a person.
        self.bot: Any = None
        self.telegram_push: TelegramPush | None = None
        #: Set by Conversations: the service that renders relay events through the engine.
        self.service: Conversations | None = None
        #: Web pushes go by NOTIFY (PostgreSQL, several workers) or straight to this hub.
        self.notify = bool(getattr(routes, "postgres", False))
        self._locks: dict[int, asyncio.Lock] = {}
        self._sweeper: asyncio.Task[None] | None = None

    # -- the person's side --------------------------------------------------------------

    async def open(self, key: str, channel: str, lang: str, address: int | None) -> int:
        """Create the person's topic and its route; return the topic id."""
        if self.bot is None:
            raise RuntimeError("the Telegram channel is not running")
        code = secrets.token_hex(3).upper()
        name = f"{code} · {lang.upper()} · {channel}"
        topic = await self.bot.create_forum_topic(self.desk.chat_id, name)
        topic_id = topic.message_thread_id
        sealed = seal(self._seal, address) if address is not None else None
        route = Route(topic_id, key, channel, lang, code, sealed, self.clock())
        await self.routes.add(route)
        intro = TOPIC_INTRO.format(code=code, lang=lang.upper(), channel=channel)
        await self._to_topic(topic_id, intro)
        return topic_id

    async def forward(self, topic: int, text: str, urgent: bool) -> None:
        """Post the person's message in their topic (urgent: say so, and mark the topic)."""
        if urgent and await self.routes.mark_urgent(topic):
            route = await self.routes.get(topic)
            await self._to_topic(topic, URGENT_MARK)
            if route is not None:
                name = f"🚨 {route.code} · {route.lang.upper()} · {route.channel}"
                with contextlib.suppress(Exception):
                    await self.bot.edit_forum_topic(self.desk.chat_id, topic, name=name)
        await self._to_topic(topic, text)

    async def close(self, topic: int | None, by: str) -> None:
        """End a chat: drop the route, tell the counsellors if the person left, close the topic."""
        if topic is None:
            return
        route = await self.routes.drop(topic)
        if route is not None and route.channel == "web":
            await self._publish_close(route)
        if self.bot is None:
            return
        if by == "person":
            with contextlib.suppress(Exception):
                await self._to_topic(topic, PERSON_LEFT)
        with contextlib.suppress(Exception):
            await self.bot.close_forum_topic(self.desk.chat_id, topic)

    async def close_key(self, key: str) -> None:
        """End every chat of a conversation that is being erased."""
        for route in await self.routes.of_key(key):
            await self.close(route.topic, "person")
        self.hub.close(key)

    # -- the counsellor's side ----------------------------------------------------------

    async def answer(self, topic: int, text: str) -> bool:
        """Pass a counsellor's message to the person; False if the chat is gone."""
        async with self._lock(topic):
            route = await self.routes.get(topic)
            if route is None or self.service is None:
                await self._to_topic(topic, GONE)
                return False
            outcome = await self.service.relay_event(route.key, Counsel(text), route.channel)
            if outcome is None or not outcome.replies:
                await self.close(topic, "gone")
                await self._to_topic(topic, GONE)
                return False
            stamp = await self._push(route, outcome.replies, answer=True)
            if stamp is not None and stamp.first_answer is not None:
                notes = [
                    Note("relay", "answered"),
                    Note("relay_wait", wait_bucket(stamp.first_answer)),
                ]
                await self.service.count(notes, route.lang, route.channel)
            return stamp is not None

    async def end(self, topic: int) -> None:
        """/end in a topic: tell the person and close."""
        async with self._lock(topic):
            route = await self.routes.get(topic)
            if route is not None and self.service is not None:
                outcome = await self.service.relay_event(route.key, RelayClosed(), route.channel)
                if outcome is not None and outcome.replies:
                    await self._push(route, outcome.replies, answer=False)
            with contextlib.suppress(Exception):
                await self._to_topic(topic, ENDED_HERE)
            await self.close(topic, "counsellor")

    async def sweep(self) -> int:
        """Tell people nobody has answered within COUNSELLOR_WAIT_MINUTES (once each)."""
        cutoff = self.clock() - timedelta(minutes=self.desk.wait_minutes)
        told = 0
        for route in await self.routes.overdue(cutoff):
            if self.service is None:
                break
            outcome = await self.service.relay_event(route.key, NoPickup(), route.channel)
            if outcome is not None and outcome.replies:
                await self._push(route, outcome.replies, answer=False)
                told += 1
                with contextlib.suppress(Exception):
                    await self._to_topic(route.topic, NUDGED.format(minutes=self.desk.wait_minutes))
        return told

    def start_sweeping(self, every: float = SWEEP_EVERY) -> None:
        async def loop() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.sweep()
                except Exception as error:
                    log.warning("relay sweep failed: %s", type(error).__name__)

        self._sweeper = asyncio.create_task(loop())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    # -- delivery -----------------------------------------------------------------------

    async def _push(self, route: Route, replies: list[Reply], *, answer: bool) -> Any:
        """Send replies to the person: Telegram directly, web through the hub (and NOTIFY)."""
        if route.channel == "telegram":
            stamp = await self.routes.stamp(route.topic, answer=answer)
            if stamp is None or route.address is None or self.telegram_push is None:
                return None
            await self.telegram_push(route.key, unseal(self._seal, route.address), replies)
            return stamp
        body = json.dumps([r.to_json() for r in replies], ensure_ascii=False)
        stamp = await self.routes.stamp(
            route.topic,
            answer=answer,
            payloads=(lambda seq: payloads(route.key, seq, body)) if self.notify else None,
        )
        if stamp is not None and not self.notify:
            self.hub.deliver(route.key, stamp.seq, json.loads(body))
        return stamp

    async def _publish_close(self, route: Route) -> None:
        if not self.notify:
            self.hub.close(route.key)
            return
        from sqlalchemy import text

        store = getattr(self.routes, "store", None)
        if store is None:
            return
        async with store._session() as session:
            await session.execute(
                text("SELECT pg_notify(:c, :p)"),
                {"c": NOTIFY_CHANNEL, "p": f"{route.key} 0 0 1 close"},
            )

    async def _to_topic(self, topic: int, text: str) -> None:
        if self.bot is None:
            return
        await self.bot.send_message(self.desk.chat_id, text, message_thread_id=topic)

    def _lock(self, topic: int) -> asyncio.Lock:
        lock = self._locks.get(topic)
        if lock is None:
            if len(self._locks) > 10_000:
                self._locks = {t: v for t, v in self._locks.items() if v.locked()}
            lock = self._locks[topic] = asyncio.Lock()
        return lock


def wait_bucket(wait: timedelta) -> str:
    """Time to first answer, coarse enough for statistics."""
    minutes = wait.total_seconds() / 60
    for limit, label in ((5, "<5m"), (15, "5-15m"), (60, "15-60m")):
        if minutes < limit:
            return label
    return "60m+"
