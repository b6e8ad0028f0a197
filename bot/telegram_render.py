"""Turn engine Replies into Telegram messages: plain text, inline keyboards, split long texts.

Pure functions, no Bot API calls: the adapter in `bot.telegram_bot` sends what this builds.
Text is sent without parse mode, so nothing a translator writes can break the markup, and
Telegram still turns phone numbers into tappable links.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import language_names
from bot.model import Choice, Contact, Reply

#: Telegram's limit for one message, counted in UTF-16 code units.
MAX_MESSAGE = 4096
#: Telegram's limit for `callback_data`, in bytes.
MAX_CALLBACK_DATA = 64
#: Buttons whose labels are all this short go two to a row (languages, countries).
SHORT_LABEL = 18

_SENTENCE_END = re.compile(r"[.!?…][»\"')\]]*(?=\s)")


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message to send: its text, its keyboard and whether to protect it."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    protect: bool = False


def utf16_length(text: str) -> int:
    """Return the length Telegram counts: UTF-16 code units (an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """Return how many characters of `text` fit into `limit` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def _cut_point(text: str, limit: int) -> int:
    """Return where to cut `text` so the head fits: a paragraph, sentence, line or word end."""
    end = _fitting_prefix(text, limit)
    head = text[:end]
    paragraph = head.rfind("\n\n")
    # Prefer the largest natural boundary, but not one that leaves a tiny first piece.
    if paragraph > end // 2:
        return paragraph
    sentences = [m.end() for m in _SENTENCE_END.finditer(head)]
    if sentences and sentences[-1] > end // 4:
        return sentences[-1]
    for separator in ("\n", " "):
        position = head.rfind(separator)
        if position > 0:
            return position
    return end


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split a text into messages under Telegram's limit, at sentence boundaries if possible."""
    pieces: list[str] = []
    rest = text.strip()
    while utf16_length(rest) > limit:
        cut = _cut_point(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def render_contact(contact: Contact, lang: str | None = None) -> str:
    """Render a contact card as short lines; the phone stays plain so Telegram links it.

    Languages are named in `lang` when the adapter passes it ("vokiečių"), else by their
    own names ("Deutsch"): never as bare codes.
    """
    lines = [f"☎ {contact.name}"]
    if contact.phone:
        lines.append(f"📞 {contact.phone}")
    if contact.hours:
        lines.append(f"🕒 {contact.hours}")
    if contact.languages:
        lines.append("🗣 " + language_names(contact.languages, lang))
    if contact.email:
        lines.append(f"✉ {contact.email}")
    if contact.url:
        lines.append(f"🌐 {contact.url}")
    if contact.note:
        lines.append(contact.note)
    return "\n".join(lines)


def callback_data(choice: Choice) -> str:
    """Return the id a button sends back; refuse ids Telegram would reject."""
    if not choice.id or len(choice.id.encode()) > MAX_CALLBACK_DATA:
        # Ids come from the dialog files; `validate` should have caught this already.
        raise ValueError(f"choice id is empty or longer than {MAX_CALLBACK_DATA} bytes")
    return choice.id


def keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    """Lay out choices as an inline keyboard: one per row, two when every label is short."""
    if not choices:
        return None
    return _keyboard(tuple(choices))


@functools.lru_cache(maxsize=4096)
def _keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup:
    # Built once per set of choices (flows and labels are fixed while serving); PTB's
    # keyboards are immutable, so one object can go out in any number of messages.
    buttons = [InlineKeyboardButton(c.label, callback_data=callback_data(c)) for c in choices]
    width = 2 if all(len(c.label) <= SHORT_LABEL for c in choices) else 1
    rows = [buttons[i : i + width] for i in range(0, len(buttons), width)]
    return InlineKeyboardMarkup(rows)


def render(
    replies: Sequence[Reply], sensitive: bool = False, lang: str | None = None
) -> list[Outgoing]:
    """Render one turn's replies as few messages as Telegram allows, in the engine's order.

    A reply without buttons (an info before a question, a warning before its numbers) is
    joined to the next one with a blank line, so a turn is usually one message: the text
    read is the same, and each message costs a Bot API call. A joined text stays within
    MAX_MESSAGE: a reply that would not fit starts a new message, and one longer than that
    alone is split (at paragraph or sentence ends) with what waits before it, so the first
    message still begins with the turn's first reply (the numbers to call, when there is
    danger). Buttons end their message, which is the last of their reply: nothing is ever
    joined below a keyboard. A sensitive turn or one with a handoff cannot be forwarded.
    """
    protect = sensitive or any(reply.kind == "handoff" for reply in replies)
    messages: list[Outgoing] = []
    waiting = ""  # keyboard-less text that goes out with the next message
    for reply in replies:
        cards = (render_contact(c, lang) for c in reply.contacts)
        text = "\n\n".join([reply.text, *cards]).strip()
        markup = keyboard(reply.choices)
        if not text and markup is None:
            continue
        if waiting and text:
            joined = f"{waiting}\n\n{text}"
            if utf16_length(joined) > MAX_MESSAGE and utf16_length(text) <= MAX_MESSAGE:
                # Together they would be cut: the reply starts a message of its own.
                messages.append(Outgoing(waiting, None, protect))
                joined = text
        else:
            joined = waiting or text
        pieces = split_text(joined) if joined else ["…"]
        if markup is None:
            # The last piece may still take the next reply's text.
            messages.extend(Outgoing(piece, None, protect) for piece in pieces[:-1])
            waiting = pieces[-1]
            continue
        messages.extend(Outgoing(piece, None, protect) for piece in pieces[:-1])
        messages.append(Outgoing(pieces[-1], markup, protect))
        waiting = ""
    if waiting:
        messages.append(Outgoing(waiting, None, protect))
    return messages
