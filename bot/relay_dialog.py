"""The person's side of "Write to a counsellor", inside the engine (pure: no I/O).

The state holds only `relay = {"since": ISO time, "topic": topic id or None}`. What the
person types while connected leaves the engine as a `Forward` action, never in the state;
the service carries the actions out (bot.relay) after the state is saved. The danger
detector still reads every message: urgent text shows the emergency number here and marks
the chat urgent for the counsellor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.counsellor import COUNTRY_ZONES
from bot.flows import MENU
from bot.i18n import LANGUAGE_NAMES, N_
from bot.model import (
    Choice,
    CloseRelay,
    Counsel,
    Event,
    Forward,
    NoPickup,
    Note,
    OpenRelay,
    RelayClosed,
    RelayFailed,
    RelayOpened,
    Reply,
)

if TYPE_CHECKING:
    from bot.engine import Engine, Turn

WRITE = N_("Write to a counsellor")
CONSENT = N_(
    "A counsellor from {organisation} will read what you write here and answer in this chat."
)
HOURS_YOURS = N_("When: {hours} (your time, {zone})")
HOURS_THEIRS = N_("When: {hours} ({zone})")
LANGUAGES = N_("Languages: {languages}")
KEPT = N_(
    "This bot keeps no copy of your messages. They are kept only in the private Telegram "
    "group of {organisation}, where its counsellors read them. You do not have to give "
    "your name."
)
AGREE = N_("Agree and start")
BACK = N_("Back")
CLOSED_NOW = N_(
    "Counsellors answer in writing at these times: {hours} ({zone}). No one can answer now, "
    "so please use one of the numbers below: they can help you now."
)
CONNECTED = N_(
    "You are connected. Write your message here: a counsellor from {organisation} will "
    "answer in this chat."
)
END = N_("End chat")
ENDED = N_("Chat ended. The counsellor has been told that you left.")
COUNSELLOR = N_("Counsellor")
COUNSELLOR_ENDED = N_("The counsellor has ended the chat. You can write again at any time.")
NO_PICKUP = N_(
    "No counsellor has answered yet. You can keep waiting here, or call one of these numbers now:"
)
FAILED = N_("Sorry, I cannot reach the counsellors right now. Please use one of these numbers:")
URGENT_PASSED = N_("Your message was passed on to the counsellor, marked urgent.")
TOO_LONG = N_("That message is too long. Please send up to {limit} characters at a time.")

#: Longest message passed on (Telegram allows 4096 characters; the topic adds a marker).
MAX_RELAYED = 4000


class RelayDialog:
    """The relay's screens and rules; one per engine."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- helpers ------------------------------------------------------------------------

    def _(self, state: dict[str, Any], message: str, **values: Any) -> str:
        return self.engine._(state, message, **values)

    @staticmethod
    def open_topic(state: dict[str, Any]) -> int | None:
        relay = state.get("relay")
        return relay.get("topic") if isinstance(relay, dict) else None

    @staticmethod
    def active(state: dict[str, Any]) -> bool:
        return isinstance(state.get("relay"), dict)

    def choices(self, state: dict[str, Any]) -> tuple[Choice, ...]:
        """The help screen's relay button: write to a counsellor, or end the chat."""
        if self.engine.desk is None:
            return ()
        if self.active(state):
            return (Choice("relay:end", "✖ " + self._(state, END)),)
        return (Choice("relay", "💬 " + self._(state, WRITE)),)

    def _hours(self, state: dict[str, Any]) -> tuple[str, str, bool]:
        """The desk's hours in the person's time when their country is known."""
        desk = self.engine.desk
        assert desk is not None
        country = state.get("country")
        hours, zone = desk.hours_for(state["lang"], country, self.engine.clock())
        return hours, zone, country in COUNTRY_ZONES

    def _connected(self, state: dict[str, Any]) -> Reply:
        desk = self.engine.desk
        organisation = desk.organisation if desk else ""
        text = "💬 " + self._(state, CONNECTED, organisation=organisation)
        return Reply("info", text, (Choice("relay:end", "✖ " + self._(state, END)),))

    # -- events -------------------------------------------------------------------------

    def pick(self, turn: Turn, choice: str) -> None:
        """Handle "relay" (the consent screen), "relay:yes" and "relay:end"."""
        state, desk = turn.state, self.engine.desk
        if choice == "relay:end":
            if self.active(state):
                self.end(turn, by_person=True, say=True)
            return self.engine._go(turn, MENU)
        if desk is None:  # an old button after the relay was turned off
            return self.engine._help(turn, urgent=False, keep_resume=True)
        if self.active(state):
            turn.replies.append(self._connected(state))
            return None
        if not desk.is_open(self.engine.clock()):
            hours, zone, _yours = self._hours(state)
            turn.notes.append(Note("relay", "outside_hours"))
            turn.lead = "🕒 " + self._(state, CLOSED_NOW, hours=hours, zone=zone)
            return self.engine._help(turn, urgent=False, keep_resume=True)
        if choice == "relay":
            hours, zone, yours = self._hours(state)
            names = ", ".join(LANGUAGE_NAMES[lang] for lang in desk.languages)
            parts = [
                self._(state, CONSENT, organisation=desk.organisation),
                "🕒 "
                + self._(state, HOURS_YOURS if yours else HOURS_THEIRS, hours=hours, zone=zone),
                "🌐 " + self._(state, LANGUAGES, languages=names),
                "🔒 " + self._(state, KEPT, organisation=desk.organisation),
            ]
            choices = (
                Choice("relay:yes", "✅ " + self._(state, AGREE)),
                Choice("help", "⬅ " + self._(state, BACK)),
            )
            turn.replies.append(Reply("question", "\n\n".join(parts), choices))
            return None
        # relay:yes - agreed: the service opens a topic and answers with RelayOpened/Failed.
        since = self.engine.clock().isoformat(timespec="seconds")
        state["relay"] = {"since": since, "topic": None}
        turn.notes.append(Note("relay", "requested"))
        turn.actions.append(OpenRelay())
        return None

    def text(self, turn: Turn, raw: str) -> bool:
        """Pass typed text to the counsellor while connected; False: not connected."""
        from bot.engine import MAX_TEXT, clean_text

        state = turn.state
        topic = self.open_topic(state)
        if topic is None:
            return False
        text = clean_text(raw)
        if not text:
            return True
        if len(text) > MAX_RELAYED:
            limit = f"{MAX_RELAYED:,}"
            turn.replies.append(Reply("info", self._(state, TOO_LONG, limit=limit)))
            return True
        detector = self.engine.detector
        detection = detector.detect(text[:MAX_TEXT]) if detector is not None else None
        urgent = bool(detection is not None and detection.urgent)
        if detection is not None and detection.danger:
            for category in detection.categories:
                turn.notes.append(Note("danger", category))
        turn.actions.append(Forward(topic, text, urgent))
        if urgent:
            state["urgent"] = True
            turn.replies += self._emergency(state)
            turn.replies.append(Reply("info", "✅ " + self._(state, URGENT_PASSED)))
        return True

    def _emergency(self, state: dict[str, Any]) -> list[Reply]:
        """The emergency number first, as the help screen shows it when urgent."""
        engine = self.engine
        if engine.directory is None:
            return []
        country = state.get("country")
        emergency = engine.directory.emergency(country)
        number = emergency.phones[0].number if emergency.phones else "112"
        step = engine.flows["help"].steps["contacts"]
        text = "🚨 " + self._(state, step.urgent_text, emergency=number)
        return [Reply("handoff", text, contacts=(engine._contact(state, emergency, country),))]

    def status(self, turn: Turn) -> bool:
        """On a reload while connected, show the connection (with End chat)."""
        if self.open_topic(turn.state) is None:
            return False
        turn.replies.append(self._connected(turn.state))
        return True

    def end(self, turn: Turn, *, by_person: bool, say: bool) -> None:
        """Close the relay if open (the person left: the counsellor is told)."""
        state = turn.state
        if not self.active(state):
            return
        topic = self.open_topic(state)
        state["relay"] = None
        turn.notes.append(Note("relay", "ended_by_person" if by_person else "ended_by_counsellor"))
        turn.actions.append(CloseRelay(topic, "person" if by_person else "counsellor"))
        if say:
            turn.replies.append(Reply("info", "✖ " + self._(state, ENDED)))

    def event(self, turn: Turn, event: Event) -> None:
        """Apply what the relay reports: opened, failed, an answer, ended, no pickup."""
        state = turn.state
        match event:
            case RelayOpened(topic=topic):
                if not self.active(state) or self.open_topic(state) is not None:
                    # Left (or reopened) while the topic was being made: close the orphan.
                    turn.actions.append(CloseRelay(topic, "person"))
                    return
                state["relay"] = {**state["relay"], "topic": topic}
                turn.replies.append(self._connected(state))
            case RelayFailed():
                state["relay"] = None
                turn.notes.append(Note("relay", "failed"))
                turn.lead = self._(state, FAILED)
                self.engine._help(turn, urgent=False, keep_resume=True)
            case Counsel(text=text):
                if self.open_topic(state) is not None:
                    label = self._(state, COUNSELLOR)
                    turn.replies.append(Reply("info", f"💬 {label}:\n{text}"))
            case RelayClosed():
                if self.active(state):
                    state["relay"] = None
                    turn.notes.append(Note("relay", "ended_by_counsellor"))
                    choices = (
                        self.engine._help_choice(state),
                        Choice("menu", "☰ " + self._(state, N_("Main menu"))),
                    )
                    text = "✖ " + self._(state, COUNSELLOR_ENDED)
                    turn.replies.append(Reply("info", text, choices))
            case NoPickup():
                if self.active(state):
                    turn.notes.append(Note("relay", "no_pickup"))
                    turn.lead = "🕒 " + self._(state, NO_PICKUP)
                    self.engine._help(turn, urgent=False, keep_resume=True)
