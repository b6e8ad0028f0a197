"""The console channel: `python -m bot chat`, for a terminal or a pipe.

Bot messages go to stdout with choices numbered `[1] Label`; each input line is a number
(a choice) or free text. A few slash commands mirror Telegram's: /menu, /back, /help,
/language, /forget. The session ends cleanly at EOF.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.i18n import language_names
from bot.model import Back, Contact, Event, Help, Pick, Reply, Restart, Start, Text
from bot.pseudonym import pseudonym
from bot.service import TRY_LATER, Conversations
from bot.store import StoreUnavailable

CHANNEL = "console"
COMMANDS: dict[str, Event] = {"/menu": Restart(), "/back": Back(), "/help": Help()}


def render_contact(contact: Contact, lang: str | None = None) -> str:
    """Render a contact card as one or two plain lines (languages named in `lang`)."""
    details = [d for d in (contact.hours, language_names(contact.languages, lang)) if d]
    line = f"  ☎ {contact.name}"
    if contact.phone:
        line += f": {contact.phone}"
    if details:
        line += f" ({'; '.join(details)})"
    extra = [x for x in (contact.note, contact.email, contact.url) if x]
    return line + ("\n    " + " · ".join(extra) if extra else "")


def render(replies: Sequence[Reply], lang: str | None = None) -> tuple[str, list[str]]:
    """Render replies as text with numbered choices; return the text and the choice ids."""
    blocks: list[str] = []
    ids: list[str] = []
    for reply in replies:
        lines = [reply.text]
        lines += [render_contact(c, lang) for c in reply.contacts]
        for choice in reply.choices:
            ids.append(choice.id)
            lines.append(f"[{len(ids)}] {choice.label}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks), ids


class ConsoleSession:
    """One console conversation; `send` returns what the bot prints for a typed line."""

    def __init__(self, service: Conversations, key: str, lang: str | None, campaign: str | None):
        self.service = service
        self.key = key
        self.lang = lang
        self.campaign = campaign
        self.choices: list[str] = []

    async def start(self) -> str:
        """Open the conversation and return the greeting."""
        return await self._run(Start(lang=self.lang, campaign=self.campaign))

    async def send(self, line: str) -> str:
        """Handle one typed line and return the bot's answer."""
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return await self._run(Pick(self.choices[int(text) - 1]))
        if text.lower() == "/forget":
            await self.service.erase(self.key, channel=CHANNEL)
            self.choices = []
            return "Erased. / Ištrinta. / Удалено. / Видалено."
        if text.lower() == "/language":
            return await self._run(Pick("lang"))
        if text.lower() == "/start":
            return await self._run(Start(lang=None, campaign=self.campaign))
        if text.lower() in COMMANDS:
            return await self._run(COMMANDS[text.lower()])
        return await self._run(Text(line))

    async def _run(self, event: Event) -> str:
        try:
            outcome = await self.service.handle(self.key, event, channel=CHANNEL)
        except StoreUnavailable:  # keep the session; the next line may work again
            return self.service.engine.translator.gettext(self.lang or "en", TRY_LATER)
        self.lang = outcome.lang
        text, self.choices = render(outcome.replies, outcome.lang)
        return text

    async def close(self) -> None:
        """Leave no trace: a console conversation cannot be resumed anyway."""
        with contextlib.suppress(StoreUnavailable):
            await self.service.store.delete(self.key)


async def run_console(
    service: Conversations,
    lang: str | None,
    campaign: str | None,
    stdin: TextIO,
    stdout: TextIO,
) -> None:
    """Hold a conversation on stdin/stdout until EOF."""
    from bot.settings import Settings

    key = pseudonym(Settings().pseudonym_key(), CHANNEL, secrets.token_hex(16))
    session = ConsoleSession(service, key, lang, campaign)
    echo = not stdin.isatty()
    stdout.write(await session.start() + "\n")
    stdout.flush()
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            if echo:
                stdout.write(f"\n> {line.rstrip()}\n")
            stdout.write("\n" + await session.send(line.rstrip("\n")) + "\n")
            stdout.flush()
    finally:
        await session.close()


def chat_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `chat` options."""
    parser.add_argument("--lang", choices=["lt", "ru", "uk", "en"], help="conversation language")
    parser.add_argument("--campaign", help="campaign code, as from a link")


def chat_command(args: argparse.Namespace) -> int:
    """Run the console channel."""
    from bot.runtime import build_engine
    from bot.settings import Settings
    from bot.store import open_store

    async def main() -> int:
        settings = Settings()
        try:
            store = await open_store(settings.resolved_database_url())
        except StoreUnavailable as error:
            print(f"The database is not reachable: {error}", file=sys.stderr)
            return 1
        try:
            service = Conversations(build_engine(), store)
            await run_console(service, args.lang, args.campaign, sys.stdin, sys.stdout)
        finally:
            await store.close()
        return 0

    return asyncio.run(main())
