"""The Telegram channel: python-telegram-bot in front of the conversation service.

`TelegramChannel(settings, service)` is started and stopped by `serve`. Without
PUBLIC_BASE_URL it polls; with it, Telegram posts to `/telegram/webhook`, whose route in the
web app calls `handle_webhook`. Each update becomes one engine Event (a command, a button
press or typed text) and the replies are sent back as messages with inline keyboards
(`bot.telegram_render`, which joins a turn's replies into as few messages as fit).

Bot API calls are most of a turn's cost, so a turn makes as few as Telegram allows: one
message for a turn's replies when they fit, and by webhook a button press is answered in the
HTTP response to Telegram (Telegram runs one method given there) instead of by a call.

What this adapter keeps, in memory only, per pseudonym: the conversation's language and the
ids and dates of recent messages (never their text), so that /forget can delete them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import importlib.util
import logging
import os
import sys
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from weakref import WeakValueDictionary

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import DEFAULT_LANGUAGE, LANGUAGES
from bot.campaigns import parse_start_parameter
from bot.engine import HELP_FLOW
from bot.i18n import N_, negotiate
from bot.model import Event, Help, Media, Pick, Reply, Restart, Start, Text
from bot.pseudonym import pseudonym
from bot.service import TRY_LATER, Conversations, Outcome
from bot.settings import Settings
from bot.store import SeenBefore, SeenUpdate, StoreUnavailable
from bot.telegram_http import bot_request
from bot.telegram_render import render

# Opt in to PTB's coming behaviour (time periods as timedelta); without it every 429 also
# raises a deprecation warning from inside the library.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger(__name__)


def _note_missing_sniffio() -> None:
    """Let httpcore learn once, not on every Bot API call, that sniffio is not installed.

    httpcore asks `import sniffio` several times per request; when it is missing, each ask is
    a failed import that searches every folder on sys.path (~5 % of a webhook update's CPU
    in the profiles). A None in sys.modules makes Python fail that import at once, with the
    same ImportError, so httpcore falls back to asyncio exactly as before.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_note_missing_sniffio()

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message", "callback_query"]
#: Telegram keeps an undelivered update for 24 hours; remember ids a little longer.
UPDATE_TTL = timedelta(hours=25)
#: Bots may delete messages in a private chat only while they are younger than this.
DELETE_WINDOW = timedelta(hours=48)
DELETE_MARGIN = timedelta(minutes=5)
DELETE_BATCH = 100
#: A webhook update that fails this often is acknowledged anyway, to end the retries.
MAX_DELIVERIES = 3
REMEMBERED_CHATS = 10_000
REMEMBERED_MESSAGES = 500
REMEMBERED_FAILURES = 1_000
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
#: A redelivery after our own failure runs again: its id is remembered afresh, whatever the age.
AGAIN = timedelta(0)
#: By webhook, a press is answered in the HTTP response, which leaves when the turn is done;
#: a turn slower than this (flood control, a slow database) answers it by a call instead, so
#: the button's spinner never turns for long.
ANSWER_WITHIN = 2.0

#: The webhook update being handled: its id is remembered in the same transaction as the
#: turn it causes (or by `_claim` for an update that writes no turn), so a redelivery is
#: recognised without a transaction of its own. Unset when polling (PTB keeps the offset).
_DELIVERY: contextvars.ContextVar[SeenUpdate | None] = contextvars.ContextVar(
    "telegram_delivery", default=None
)

COMMANDS = (
    ("start", N_("Start again")),
    ("menu", N_("Main menu")),
    ("help", N_("Get help now")),
    ("language", N_("Change language")),
    ("privacy", N_("Privacy: what I keep")),
    ("forget", N_("Erase this chat")),
)
SIMPLE_COMMANDS: dict[str, Event] = {
    "menu": Restart(),
    "help": Help(),
    "language": Pick("lang"),
    "privacy": Pick("go:about"),
}

#: Said in a counsellor topic when someone sends a photo or voice note (staff, in English).
ONLY_TEXT = "Only text is passed on to the person; photos, voice and files are not."

APOLOGY = N_("Sorry, something went wrong on my side. Please try again, or type /menu.")
ERASED = N_("Done. I have erased our conversation.")
DELETED = N_("Messages deleted: {count}.")
TOO_OLD = N_(
    "Older messages that cannot be deleted (Telegram allows it only within 48 hours): {count}."
)
NOT_DELETED = N_("Messages that could not be deleted: {count}.")
DELETE_CHAT = N_(
    "Some messages may still be in this chat. To be sure, delete the chat in Telegram as well."
)


#: Message parts the bot cannot read yet, in the order they are checked.
MEDIA = (
    "voice",
    "video_note",
    "audio",
    "video",
    "photo",
    "sticker",
    "animation",
    "document",
    "location",
    "contact",
)


def media_kind(message: Message) -> str | None:
    """Return what a message without text carries (voice, photo, ...), or None."""
    return next((kind for kind in MEDIA if getattr(message, kind, None)), None)


def parse_start_payload(args: Sequence[str] | None) -> tuple[str | None, str | None]:
    """Return (campaign, language) from `/start <code>` or `/start <code>__<lang>`."""
    if not args or len(args) != 1:
        return None, None  # not a deep link we made: start as if there were none
    return parse_start_parameter(args[0])


def file_url(base_url: str) -> str:
    """Return the file download base that goes with a Bot API base URL."""
    root = base_url.rstrip("/")
    root = root.removesuffix("/bot")
    return f"{root}/file/bot"


def _seconds(period: int | float | timedelta) -> float:
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


def _where(error: BaseException) -> str:
    """Return the file and line an error came from: enough to debug, no personal data."""
    frames = traceback.extract_tb(error.__traceback__)
    return f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""


class RetryingLimiter(BaseRateLimiter[None]):
    """Wait out 429 `retry_after` and retry Bot API server errors with backoff, on every call.

    PTB sends every Bot API call except getUpdates through the rate limiter, so this is the
    one place that makes replies survive flood control and a flaky API.
    """

    def __init__(self, attempts: int = 4, backoff: float = 0.5, max_wait: float = 120.0):
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Call the Bot API, retrying what may succeed later."""
        attempt = 1
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                delay = _seconds(error.retry_after)
                if attempt >= self.attempts or delay > self.max_wait:
                    raise
                log.warning("Bot API flood control on %s: waiting %.1f s", endpoint, delay)
            except NetworkError as error:
                # BadRequest never gets better and a timed-out send may have arrived (both
                # subclass NetworkError); plain NetworkError is a 5xx or a dropped connection.
                if type(error) is not NetworkError or attempt >= self.attempts:
                    raise
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning("Bot API error on %s; retry %d in %.2f s", endpoint, attempt, delay)
            attempt += 1
            await asyncio.sleep(delay)


@dataclass
class ChatMemory:
    """What the adapter remembers about one chat, in memory only: never any text."""

    lang: str | None = None
    #: The language of a command menu set for this chat alone (None: the global ones fit).
    chat_menu: str | None = None
    #: (message id, POSIX time) of recent messages in both directions, for /forget.
    messages: deque[tuple[int, float]] = field(
        default_factory=lambda: deque(maxlen=REMEMBERED_MESSAGES)
    )

    def remember(self, message: Message) -> None:
        """Keep a message's id and date so that /forget can delete it."""
        self.messages.append((message.message_id, _timestamp(message.date)))


def _timestamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment else time.time()


class TelegramChannel:
    """Run the bot on Telegram: polling, or a webhook inside the web app."""

    def __init__(
        self,
        settings: Settings,
        service: Conversations,
        *,
        retry_backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
    ):
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.settings = settings
        self.service = service
        self.translator = service.engine.translator
        self.webhook = bool(settings.public_base_url)
        self._key = settings.pseudonym_key()
        self._secret = settings.webhook_secret() if self.webhook else None
        self._limiter = RetryingLimiter(backoff=retry_backoff)
        self._clock = clock
        self._app: Application | None = None
        self._chats: OrderedDict[str, ChatMemory] = OrderedDict()
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._failures: OrderedDict[int, int] = OrderedDict()
        #: Late answers to presses (see ANSWER_WITHIN), kept until done.
        self._late: set[asyncio.Task[None]] = set()

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def application(self) -> Application | None:
        """Return the running PTB Application, if started."""
        return self._app

    async def start(self) -> None:
        """Connect to the Bot API, set the command menus, then poll or register the webhook."""
        assert self.settings.telegram_bot_token is not None
        base = self.settings.telegram_api_base_url.rstrip("/")
        builder = (
            Application.builder()
            .token(self.settings.telegram_bot_token.get_secret_value())
            .base_url(base)
            .base_file_url(file_url(base))
            .concurrent_updates(True)  # different people in parallel; one person in order
            .rate_limiter(self._limiter)
            .request(bot_request())  # each Bot API call in one write (bot.telegram_http)
        )
        if self.webhook:
            builder = builder.updater(None)
        app = builder.build()
        self._add_handlers(app)
        await app.initialize()
        try:
            await self._set_commands(app.bot)
            if self.webhook:
                await app.bot.set_webhook(
                    url=f"{str(self.settings.public_base_url).rstrip('/')}{WEBHOOK_PATH}",
                    secret_token=self._secret,
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                )
            await app.start()
            if app.updater is not None:
                await app.updater.start_polling(
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                    error_callback=self._polling_error,
                )
        except BaseException:
            if app.running:
                await app.stop()
            await app.shutdown()
            raise
        self._app = app
        if self.service.relay is not None:
            self.service.relay.bot = app.bot
            self.service.relay.telegram_push = self.push_to_person
        log.info("Telegram channel started (%s)", "webhook" if self.webhook else "polling")

    async def stop(self) -> None:
        """Stop polling and processing; the webhook stays registered for the next start."""
        app, self._app = self._app, None
        if app is None:
            return
        for task in list(self._late):
            task.cancel()
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    def _add_handlers(self, app: Application) -> None:
        private = filters.ChatType.PRIVATE
        app.add_handler(CommandHandler("start", self._on_start, filters=private))
        app.add_handler(CommandHandler("forget", self._on_forget, filters=private))
        app.add_handler(CommandHandler(list(SIMPLE_COMMANDS), self._on_command, filters=private))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(
            MessageHandler(
                private & filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, self._on_message
            )
        )
        relay = self.service.relay
        if relay is not None:
            # Counsellors answer only from the configured group; anything else is ignored.
            desk = filters.Chat(chat_id=relay.desk.chat_id)
            app.add_handler(CommandHandler("end", self._on_end, filters=desk))
            app.add_handler(
                MessageHandler(
                    desk
                    & filters.UpdateType.MESSAGE
                    & ~filters.StatusUpdate.ALL
                    & ~filters.COMMAND,
                    self._on_counsellor,
                )
            )
        app.add_error_handler(self._on_error)

    def _commands(self, lang: str) -> list[BotCommand]:
        return [BotCommand(name, self.translator.gettext(lang, text)) for name, text in COMMANDS]

    async def _set_commands(self, bot: Bot) -> None:
        """Set the command menu in each language, and English for everyone else."""
        try:
            for lang in LANGUAGES:
                await bot.set_my_commands(self._commands(lang), language_code=lang)
            await bot.set_my_commands(self._commands(DEFAULT_LANGUAGE))
        except TelegramError as error:  # a missing menu must not keep the bot from working
            log.warning("could not set the command menus: %s", type(error).__name__)

    def _polling_error(self, error: TelegramError) -> None:
        # PTB's default logs the exception text, which can include the request URL.
        log.warning("polling for updates failed: %s", type(error).__name__)

    # -- webhook ------------------------------------------------------------------------

    async def handle_webhook(self, request: Request) -> Response:
        """Check the secret, drop redeliveries, process the update now; 500 asks for a retry.

        A button press is answered in the response (`answerCallbackQuery`, which Telegram runs
        when it gets the response): its spinner stops as the turn's messages arrive, and the
        press costs one Bot API call fewer. A turn slower than ANSWER_WITHIN, or one that
        failed, answers it by a call instead.
        """
        app = self._app
        if self._secret is None:
            return Response(status_code=404)  # polling: there is no webhook
        if app is None:
            return Response(status_code=503)
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return Response(status_code=403)
        try:
            data = await request.json()
            update = Update.de_json(data, app.bot) if isinstance(data, dict) else None
        except (ValueError, TypeError, KeyError, AttributeError):
            update = None
        if update is None:
            return Response(status_code=400)
        update_id = update.update_id
        failed_before = self._failures.get(update_id, 0)
        # A redelivery after our own failure must run again; any other one is a duplicate,
        # found when the turn is written (one transaction with the state, not one more).
        seen = SeenUpdate(update_id, AGAIN if failed_before else UPDATE_TTL)
        # The press still to be answered (emptied if the turn is slow and a call answers it).
        unanswered = [update.callback_query] if update.callback_query is not None else []
        late = (
            asyncio.get_running_loop().call_later(ANSWER_WITHIN, self._answer_late, unanswered)
            if unanswered
            else None
        )
        delivery = _DELIVERY.set(seen)
        try:
            await app.process_update(update)
        finally:
            _DELIVERY.reset(delivery)
            if late is not None:
                late.cancel()
        failed = self._failures.get(update_id, 0)
        if failed_before < failed < MAX_DELIVERIES:
            # Let the redelivery run again, whichever worker Telegram sends it to. Telegram
            # runs no method from a failed response: stop the spinner now, by a call.
            if unanswered:
                await self._answer(unanswered.pop())
            with contextlib.suppress(StoreUnavailable):
                await self.service.store.forget_update(update_id)
            return Response(status_code=500)
        self._failures.pop(update_id, None)
        if unanswered:
            query = unanswered.pop()
            return JSONResponse({"method": "answerCallbackQuery", "callback_query_id": query.id})
        return Response(status_code=200)

    def _answer_late(self, unanswered: list[CallbackQuery]) -> None:
        """The turn is slow: answer its press by a call now, not in the webhook's response."""
        if unanswered:
            task = asyncio.ensure_future(self._answer(unanswered.pop()))
            self._late.add(task)
            task.add_done_callback(self._late.discard)

    @staticmethod
    def _take_delivery() -> SeenUpdate | None:
        """Return the webhook update id still to be remembered, once (None when polling)."""
        seen = _DELIVERY.get()
        _DELIVERY.set(None)
        return seen

    async def _claim(self) -> bool:
        """For an update that writes no turn: remember its id; False for a redelivery."""
        seen = self._take_delivery()
        if seen is None:
            return True
        try:
            first = await self.service.store.remember_update(seen.update_id, seen.ttl)
        except StoreUnavailable:
            return True  # cannot tell; the handler will meet the outage and ask for a retry
        return first or seen.ttl == AGAIN

    # -- handlers -----------------------------------------------------------------------

    async def _on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Open or reopen the conversation; a deep link may carry a campaign and a language."""
        campaign, lang = parse_start_payload(context.args)
        user = update.effective_user
        hint = user.language_code if user else None
        await self._converse(update, context, Start(lang=lang, hint=hint, campaign=campaign))

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Map /menu, /help, /language and /privacy to their engine events."""
        assert update.message is not None and update.message.text is not None
        name = update.message.text.split()[0][1:].split("@")[0].lower()
        await self._converse(update, context, SIMPLE_COMMANDS[name])

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass typed text (or a caption) to the engine; a voice message, photo or sticker
        without a caption is answered plainly: please type, and a number to call now."""
        assert update.message is not None
        message = update.message
        text = message.text or message.caption
        if text or not (kind := media_kind(message)):
            await self._converse(update, context, Text(text or ""))
        else:
            await self._converse(update, context, Media(kind))

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Turn a button press into a Pick of its choice id."""
        query = update.callback_query
        assert query is not None
        message = query.message
        if message is None or message.chat.type != ChatType.PRIVATE or not query.data:
            # By webhook, the response answers it (`handle_webhook`).
            if await self._claim() and not self.webhook:
                await self._answer(query)
            return
        await self._converse(update, context, Pick(query.data), query=query)

    async def _on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Erase the conversation, then delete this chat's recent messages; say what is left."""
        user, chat, message = update.effective_user, update.effective_chat, update.message
        assert user is not None and chat is not None and message is not None
        key = self._pseudonym(user.id)
        if not await self._claim():
            return  # a redelivery of a /forget already done
        async with self._lock(key):
            memory = self._memory(key)
            memory.remember(message)
            lang = memory.lang or await self.service.language(key) or negotiate(user.language_code)
            await self.service.erase(key, channel=CHANNEL, lang=lang)
            self._chats.pop(key, None)
            deleted, too_old, failed = await self._delete(context.bot, chat.id, memory)
            if memory.chat_menu is not None:
                await self._quietly(context.bot.delete_my_commands(BotCommandScopeChat(chat.id)))
            lines = [self._t(lang, ERASED)]
            if deleted:
                lines.append(self._t(lang, DELETED).format(count=deleted))
            if too_old:
                lines.append(self._t(lang, TOO_OLD).format(count=too_old))
            if failed:
                lines.append(self._t(lang, NOT_DELETED).format(count=failed))
            lines.append(self._t(lang, DELETE_CHAT))
            sent = await context.bot.send_message(chat.id, "\n\n".join(lines))
            self._memory(key).remember(sent)  # a second /forget removes this one too

    async def _on_counsellor(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A counsellor wrote in the desk group: pass a topic's text to its person."""
        message = update.message
        relay = self.service.relay
        if message is None or relay is None or message.from_user is None:
            return
        if message.from_user.is_bot or not message.is_topic_message:
            return  # the group's general chat, or another bot: not an answer to anyone
        topic = message.message_thread_id
        assert topic is not None
        if not message.text:
            await relay._to_topic(topic, ONLY_TEXT)
            return
        await relay.answer(topic, message.text)

    async def _on_end(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/end in a topic of the desk group closes that chat."""
        message = update.message
        relay = self.service.relay
        if message is None or relay is None or not message.is_topic_message:
            return
        assert message.message_thread_id is not None
        await relay.end(message.message_thread_id)

    async def push_to_person(self, key: str, chat_id: int, replies: list[Reply]) -> None:
        """Send relay replies (a counsellor's answer, the end, no pickup) to a person."""
        app = self._app
        if app is None:
            raise RuntimeError("the Telegram channel is not running")
        async with self._lock(key):
            memory = self._memory(key)
            for outgoing in render(replies, True):
                sent = await app.bot.send_message(
                    chat_id,
                    outgoing.text,
                    reply_markup=outgoing.keyboard,
                    protect_content=outgoing.protect,
                    link_preview_options=NO_PREVIEW,
                )
                memory.remember(sent)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log a failed update without personal data, apologise once, and carry on."""
        error = context.error
        name = type(error).__name__ if error else "error"
        where = _where(error) if error else ""
        if not isinstance(update, Update) or update.effective_user is None:
            log.error("Telegram error outside a conversation: %s%s", name, where)
            return
        key = self._pseudonym(update.effective_user.id)
        first = self._note_failure(update.update_id)
        log.error("update failed: %s%s", name, where)
        chat = update.effective_chat
        if not first or chat is None:
            return  # this person already has an apology for this update
        memory = self._chats.get(key)
        lang = (memory.lang if memory else None) or negotiate(update.effective_user.language_code)
        text = TRY_LATER if isinstance(error, StoreUnavailable) else APOLOGY
        try:
            sent = await context.bot.send_message(chat.id, self._t(lang, text))
        except TelegramError as failure:
            log.error("could not apologise: %s", type(failure).__name__)
            return
        if memory is not None:
            memory.remember(sent)

    # -- one turn -----------------------------------------------------------------------

    async def _converse(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        event: Event,
        query: CallbackQuery | None = None,
    ) -> None:
        """Run one event for one person, strictly after their previous one, and reply."""
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None
        key = self._pseudonym(user.id)
        seen = self._take_delivery()
        # Take the lock before any await, so updates queue in the order they arrived.
        async with self._lock(key):
            # Polling: stopping the button's spinner needs no answer from us, so it runs
            # meanwhile. By webhook, the HTTP response answers it (`handle_webhook`).
            answering = (
                asyncio.ensure_future(self._answer(query))
                if query is not None and not self.webhook
                else None
            )
            try:
                memory = self._memory(key)
                if update.message is not None:
                    memory.remember(update.message)
                try:
                    outcome = await self._handle(
                        key, event, user.language_code, memory, chat.id, seen
                    )
                except SeenBefore:
                    return  # a redelivery of an update already answered: nothing to say
                # The pressed keyboard is spent: take it away so it cannot be pressed again.
                # It is another message, so it goes out alongside the replies.
                editing = (
                    asyncio.ensure_future(
                        self._quietly(query.edit_message_reply_markup(reply_markup=None))
                    )
                    if query is not None
                    else None
                )
                try:
                    await self._follow_language(context.bot, chat.id, memory, user.language_code)
                    # Everything said while getting help is protected, not only the contacts.
                    sensitive = outcome.state.get("flow") == HELP_FLOW
                    for outgoing in render(outcome.replies, sensitive, outcome.lang):
                        sent = await context.bot.send_message(
                            chat.id,
                            outgoing.text,
                            reply_markup=outgoing.keyboard,
                            protect_content=outgoing.protect,
                            link_preview_options=NO_PREVIEW,
                        )
                        memory.remember(sent)
                finally:
                    if editing is not None:
                        await editing
            finally:
                if answering is not None:
                    await answering

    async def _handle(
        self,
        key: str,
        event: Event,
        hint: str | None,
        memory: ChatMemory,
        chat_id: int,
        seen: SeenUpdate | None = None,
    ) -> Outcome:
        """Apply the event; a first contact without /start begins with the person's language.

        `seen` (webhook) is remembered with the first write; SeenBefore means a redelivery.
        """
        known = None
        if memory.lang is None and not isinstance(event, Start):
            # One read, handed on to the service (which would otherwise read again).
            known = await self.service.store.get(key)
            if known is None:
                outcome = await self.service.handle(
                    key, Start(hint=hint), channel=CHANNEL, seen=seen
                )
                if isinstance(event, Text):  # typed text must still reach the detector
                    first = outcome.replies
                    outcome = await self.service.handle(
                        key, event, channel=CHANNEL, address=chat_id
                    )
                    outcome.replies = [*first, *outcome.replies]
                memory.lang = outcome.lang
                return outcome
        outcome = await self.service.handle(
            key, event, channel=CHANNEL, known=known, seen=seen, address=chat_id
        )
        memory.lang = outcome.lang
        return outcome

    async def _follow_language(
        self, bot: Bot, chat_id: int, memory: ChatMemory, client_code: str | None
    ) -> None:
        """Show this chat's command menu in the conversation's language, not the phone's."""
        wanted = None if memory.lang in (None, negotiate(client_code)) else memory.lang
        if wanted == memory.chat_menu:
            return
        scope = BotCommandScopeChat(chat_id)
        if wanted is None:
            done = await self._quietly(bot.delete_my_commands(scope=scope))
        else:
            done = await self._quietly(bot.set_my_commands(self._commands(wanted), scope=scope))
        if done:
            memory.chat_menu = wanted

    async def _delete(self, bot: Bot, chat_id: int, memory: ChatMemory) -> tuple[int, int, int]:
        """Delete the remembered messages Telegram still allows; return deleted, old, failed."""
        oldest = self._clock() - (DELETE_WINDOW - DELETE_MARGIN).total_seconds()
        recent = [message_id for message_id, at in memory.messages if at > oldest]
        too_old = len(memory.messages) - len(recent)
        deleted = failed = 0
        for start in range(0, len(recent), DELETE_BATCH):
            batch = recent[start : start + DELETE_BATCH]
            if await self._quietly(bot.delete_messages(chat_id, batch)):
                deleted += len(batch)
            else:
                failed += len(batch)
        memory.messages.clear()
        return deleted, too_old, failed

    # -- small helpers ------------------------------------------------------------------

    def _t(self, lang: str, message: str) -> str:
        return self.translator.gettext(lang, message)

    def _pseudonym(self, user_id: int) -> str:
        return pseudonym(self._key, CHANNEL, user_id)

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    def _memory(self, key: str) -> ChatMemory:
        memory = self._chats.pop(key, None)
        if memory is None:
            memory = ChatMemory()
        self._chats[key] = memory
        while len(self._chats) > REMEMBERED_CHATS:
            self._chats.popitem(last=False)
        return memory

    def _note_failure(self, update_id: int) -> bool:
        """Count a failed update; True the first time it fails."""
        count = self._failures.pop(update_id, 0) + 1
        self._failures[update_id] = count
        while len(self._failures) > REMEMBERED_FAILURES:
            self._failures.popitem(last=False)
        return count == 1

    async def _answer(self, query: CallbackQuery) -> None:
        """Stop the button's spinner; an old query that cannot be answered any more is fine."""
        await self._quietly(query.answer())

    @staticmethod
    async def _quietly(call: Coroutine[Any, Any, Any]) -> bool:
        """Await a Bot API call whose failure must not cost the person their answer."""
        try:
            result = await call
        except TelegramError as error:
            log.debug("optional Bot API call failed: %s", type(error).__name__)
            return False
        return result is not False
