"""The conversation service: load state, run the engine, save with optimistic retry.

Channels call this and nothing else: one place where an answer can never be lost when
two updates for the same conversation arrive at once (compare-and-set on a version,
re-applying the event on a conflict), and where anonymous statistics are counted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.engine import Engine
from bot.i18n import N_
from bot.model import (
    Action,
    CloseRelay,
    Event,
    Forward,
    Note,
    OpenRelay,
    RelayFailed,
    RelayOpened,
    Reply,
    Show,
    Start,
)
from bot.store import AlreadyExists, ConversationStore, SeenUpdate, Stored, event_row, save_in_steps

log = logging.getLogger(__name__)

#: What every channel says when the database is unreachable.
TRY_LATER = N_("Sorry, I cannot answer right now. Please try again in a minute.")

MAX_ATTEMPTS = 100
#: Longest pause between retries on a write conflict (seconds, jittered).
MAX_BACKOFF = 0.05


@dataclass
class Outcome:
    """Replies for the person and the conversation's language after the event."""

    replies: list[Reply]
    lang: str
    state: dict[str, Any]


class ConversationGone(LookupError):
    """The conversation does not exist (never started, erased or purged)."""


class Conversations:
    """Advance stored conversations; shared by the console, Telegram and the web."""

    def __init__(self, engine: Engine, store: ConversationStore, relay: Any = None):
        self.engine = engine
        self.store = store
        #: The counsellor relay (bot.relay.Relay), or None when it is off.
        self.relay = relay
        if relay is not None:
            relay.service = self

    async def handle(
        self,
        key: str,
        event: Event,
        *,
        channel: str,
        secret_hash: str | None = None,
        create: bool = True,
        known: Stored | None = None,
        address: int | None = None,
        seen: SeenUpdate | None = None,
    ) -> Outcome:
        """Apply one event to a conversation, creating it on first contact unless `create` is off.

        With `create=False` a missing conversation raises ConversationGone: an erase that
        races a message must not bring the conversation back. `known` is the row the caller
        has just read: the first attempt uses it instead of reading again (the version check
        still catches a concurrent writer, and a retry reads afresh).
        `address` is where the channel reaches the person (a Telegram chat id), used only
        if the turn opens a counsellor relay.

        The new state, the turn's statistics and (with `seen`) the Telegram update id are
        written in one transaction; an update id seen before raises `SeenBefore` and changes
        nothing.
        """
        if isinstance(event, Start) and event.campaign:
            # Keep only a known code (or "other"): a link's code may carry a name or a number.
            event = dataclasses.replace(event, campaign=counted_campaign(event.campaign))
        for attempt in range(MAX_ATTEMPTS):
            if attempt:  # someone else wrote first: back off a little, then re-apply
                await asyncio.sleep(random.uniform(0, min(MAX_BACKOFF, 0.002 * attempt)))
            stored = known if attempt == 0 and known is not None else await self.store.get(key)
            if stored is None and not create:
                raise ConversationGone()
            state = stored.state if stored else None
            if state is None and not isinstance(event, Start):
                turn = self.engine.turn(None, event)
            else:
                turn = self.engine.turn(state, event)
            events = self._rows(turn.notes, turn.state, channel)
            version = None if stored is None else stored.version
            try:
                saved = await self._save(
                    key, turn.state, version, secret_hash=secret_hash, events=events, seen=seen
                )
            except AlreadyExists:
                continue
            if saved is None:
                continue
            outcome = Outcome(turn.replies, turn.state["lang"], turn.state)
            if turn.actions:
                await self._act(key, turn.actions, outcome, channel, address)
            return outcome
        raise RuntimeError("conversation busy: too many concurrent updates")

    async def _act(
        self,
        key: str,
        actions: list[Action],
        outcome: Outcome,
        channel: str,
        address: int | None,
    ) -> None:
        """Carry out the relay actions of a saved turn; a failure ends the relay with numbers."""
        for action in actions:
            follow: Event | None = None
            try:
                match action:
                    case OpenRelay():
                        if self.relay is None:
                            raise RuntimeError("relay off")
                        topic = await self.relay.open(key, channel, outcome.lang, address)
                        follow = RelayOpened(topic)
                    case Forward(topic=topic, text=text, urgent=urgent):
                        if self.relay is None:
                            raise RuntimeError("relay off")
                        await self.relay.forward(topic, text, urgent)
                    case CloseRelay(topic=topic, by=by):
                        if self.relay is not None:
                            await self.relay.close(topic, by)
            except Exception as error:
                log.warning("relay: %s failed (%s)", type(action).__name__, type(error).__name__)
                if isinstance(action, CloseRelay):
                    continue
                follow = RelayFailed()
            if follow is not None:
                more = await self.handle(key, follow, channel=channel, create=False)
                outcome.replies = [*outcome.replies, *more.replies]
                outcome.state, outcome.lang = more.state, more.lang

    async def relay_event(self, key: str, event: Event, channel: str) -> Outcome | None:
        """Apply an event the relay reports (an answer, the end, no pickup); None if gone."""
        try:
            return await self.handle(key, event, channel=channel, create=False)
        except ConversationGone:
            return None

    async def count(self, notes: list[Note], lang: str, channel: str) -> None:
        """Count anonymous notes that happened outside a turn (the relay's first answer)."""
        await self._count(notes, {"lang": lang}, channel)

    async def pending(self, key: str) -> Outcome | None:
        """Return the prompt waiting for an answer, or None if there is no conversation."""
        stored = await self.store.get(key)
        if stored is None:
            return None
        state, replies = self.engine.advance(stored.state, Show())
        return Outcome(replies, state["lang"], state)

    async def language(self, key: str) -> str | None:
        """Return the conversation's language, if it exists."""
        stored = await self.store.get(key)
        return stored.state.get("lang") if stored else None

    async def erase(self, key: str, *, channel: str, lang: str = "") -> bool:
        """Delete every trace of a conversation; count that erase was used.

        An open counsellor chat ends first, and the counsellor sees that the person left.
        """
        if self.relay is not None:
            try:
                await self.relay.close_key(key)
            except Exception as error:
                log.warning("relay: could not close on erase (%s)", type(error).__name__)
        removed = await self.store.delete(key)
        await self._count([Note("erase")], {"lang": lang}, channel)
        return removed

    async def _save(self, key: str, state: dict, version: int | None, **options: Any) -> Any:
        save = getattr(self.store, "save", None)
        if save is None:  # a store without `save` (a test's own): the same, step by step
            return await save_in_steps(self.store, key, state, version, **options)
        return await save(key, state, version, **options)

    @staticmethod
    def _rows(notes: list[Note], state: dict[str, Any], channel: str) -> list[dict[str, Any]]:
        """Return the turn's counter rows, written with its state in one transaction."""
        if not notes:
            return []
        day = datetime.now(UTC).date()
        lang = state.get("lang") or ""
        campaign = counted_campaign(state.get("campaign"))
        rows = []
        for note in notes:
            try:
                rows.append(
                    event_row(
                        note.name,
                        day=day,
                        channel=channel,
                        lang=lang,
                        campaign=campaign,
                        value=note.value,
                    )
                )
            except ValueError:  # statistics must never cost a person their answer
                log.warning("could not count event %s", note.name, exc_info=True)
        return rows

    async def _count(self, notes: list[Note], state: dict[str, Any], channel: str) -> None:
        if not notes:
            return
        day = datetime.now(UTC).date()
        for note in notes:
            try:
                await self.store.count_event(
                    note.name,
                    day=day,
                    channel=channel,
                    lang=state.get("lang") or "",
                    campaign=counted_campaign(state.get("campaign")),
                    value=note.value,
                )
            except Exception:  # statistics must never cost a person their answer
                log.warning("could not count event %s", note.name, exc_info=True)


@functools.cache
def _known_campaigns() -> frozenset[str]:
    from bot.campaigns import load_campaigns  # imported late: it loads the QR library

    return frozenset(load_campaigns())


def counted_campaign(code: str | None) -> str:
    """Return the campaign a counter is kept under: a known code, else "other".

    A link's code can carry anything someone typed into it (a name, a phone number), and
    counters are kept for good, so only codes listed in campaigns.yaml are kept by name.
    """
    from bot.campaigns import OTHER

    if not code:
        return ""
    return code if code in _known_campaigns() else OTHER
