"""The engine's plain-data vocabulary: events in, replies out, shared by every channel.

Nothing here knows Telegram, HTTP or SQL; channels map their input to an Event and render
Replies (buttons where they have them, numbered text where they do not).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

ReplyKind = Literal["info", "question", "result", "handoff"]


@dataclass(frozen=True)
class Choice:
    """A button: a stable id the channel sends back, and a translated label."""

    id: str
    label: str


@dataclass(frozen=True)
class Contact:
    """A hotline or emergency number as shown to a person (DESIGN.md `Contact`)."""

    name: str
    country: str
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    hours: str | None = None
    languages: tuple[str, ...] = ()
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the API shape, leaving out empty fields."""
        data = {k: v for k, v in asdict(self).items() if v not in (None, (), [])}
        if "languages" in data:
            data["languages"] = list(self.languages)
        return data


@dataclass(frozen=True)
class Reply:
    """One bot message: text, and optionally choices and contact cards."""

    kind: ReplyKind
    text: str
    choices: tuple[Choice, ...] = ()
    contacts: tuple[Contact, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the API `Message` shape."""
        return {
            "kind": self.kind,
            "text": self.text,
            "choices": [{"id": c.id, "label": c.label} for c in self.choices],
            "contacts": [c.to_json() for c in self.contacts],
        }


# Events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """First contact or /start: `lang` is an explicit choice, `hint` a channel's guess."""

    lang: str | None = None
    hint: str | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class Pick:
    """A pressed button (or a typed number in the console)."""

    choice: str


@dataclass(frozen=True)
class Text:
    """Free text typed by the person; read by the danger detector before anything else."""

    text: str


@dataclass(frozen=True)
class Back:
    """Go one question back."""


@dataclass(frozen=True)
class Restart:
    """Leave the current flow and show the main menu."""


@dataclass(frozen=True)
class SetLanguage:
    """Switch language; the current step is shown again in the new language."""

    lang: str


@dataclass(frozen=True)
class Help:
    """Go straight to the hotline handoff (/help, a menu entry, a panic button)."""


@dataclass(frozen=True)
class Show:
    """Repeat the pending prompt (a reload, a stale button)."""


@dataclass(frozen=True)
class Media:
    """Something the bot cannot read yet: a voice message, video note, photo or sticker."""

    kind: str = "other"


# Relay events: said by the relay (bot.relay), never typed by the person --------------


@dataclass(frozen=True)
class RelayOpened:
    """The counsellors' side has a topic for this conversation now."""

    topic: int


@dataclass(frozen=True)
class RelayFailed:
    """The counsellors' side could not be reached: end the relay, give the numbers."""


@dataclass(frozen=True)
class Counsel:
    """A counsellor's answer, to be shown to the person (never stored)."""

    text: str


@dataclass(frozen=True)
class RelayClosed:
    """The counsellor ended the chat (/end in the topic)."""


@dataclass(frozen=True)
class NoPickup:
    """No counsellor has answered within COUNSELLOR_WAIT_MINUTES."""


Event = (
    Start
    | Pick
    | Text
    | Back
    | Restart
    | SetLanguage
    | Help
    | Show
    | Media
    | RelayOpened
    | RelayFailed
    | Counsel
    | RelayClosed
    | NoPickup
)


# Relay actions: what the service must do on the counsellors' side after a turn ---------


@dataclass(frozen=True)
class OpenRelay:
    """Open a topic for this conversation."""


@dataclass(frozen=True)
class Forward:
    """Pass the person's message to the counsellor's topic (urgent: mark it so)."""

    topic: int
    text: str
    urgent: bool = False


@dataclass(frozen=True)
class CloseRelay:
    """Close the topic: the person left (or the counsellor ended it: tell nobody)."""

    topic: int | None
    by: str = "person"


Action = OpenRelay | Forward | CloseRelay


@dataclass(frozen=True)
class Note:
    """An anonymous fact for aggregate statistics (no user key, no free text)."""

    name: str
    value: str = ""
