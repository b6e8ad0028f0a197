"""A Bot API stand-in: a small Starlette app that answers like api.telegram.org, on loopback.

The real python-telegram-bot HTTP client talks to it, so tests exercise the same requests
production makes. It records every call, serves getUpdates as a long poll from a queue the
test feeds, keeps the messages it "sent" so edits and deletions behave, and can answer the
next calls with a 429 (`retry_after`) or a 5xx.

Usage::

    standin = BotApiStandIn()
    async with serve(standin.app) as url:
        settings = Settings(telegram_api_base_url=f"{url}/bot", ...)
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456:TEST-standin-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Safe Abroad",
    "username": "safe_abroad_bot",
}
#: Parameters that are plain strings even when they look like JSON ("123", "true").
TEXT_PARAMS = {
    "text",
    "callback_query_id",
    "url",
    "secret_token",
    "language_code",
    "caption",
    "name",
}
#: How long a bot may still delete a message, as Telegram enforces it.
DELETE_WINDOW = 48 * 3600


@dataclass
class Call:
    """One request the bot made: method, decoded parameters, status answered, time."""

    method: str
    params: dict[str, Any]
    status: int
    at: float
    result: Any = None
    #: Made in the bot's HTTP response to a webhook update, not as a call of its own.
    in_reply: bool = False


@dataclass
class Fault:
    """Answer the next `times` calls to `method` with an error instead of the result."""

    method: str | None
    times: int
    status: int
    retry_after: int | None = None


@dataclass
class BotApiStandIn:
    """The Bot API as far as the Telegram channel uses it, with fault injection."""

    token: str = TOKEN
    #: A long poll returns after this long at most, so stopping the bot is quick.
    poll_wait: float = 0.1
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    deleted: set[tuple[int, int]] = field(default_factory=set)
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    #: Forum topics by (chat id, thread id): {"name", "closed"}; only forum chats have them.
    topics: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    forums: set[int] = field(default_factory=set)
    #: The highest update id the bot has confirmed (by asking getUpdates for a later one).
    confirmed: int = 0
    _next_update: int = 1000
    _next_message: int = 1
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    # -- what tests call ----------------------------------------------------------------

    def feed(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (numbering it if it has no update_id)."""
        if "update_id" not in update:
            update = {"update_id": self.new_update_id(), **update}
        self.updates.append(update)
        self._arrived.set()
        return update

    def new_update_id(self) -> int:
        """Return a fresh update id."""
        self._next_update += 1
        return self._next_update

    def fail(
        self, method: str | None, times: int = 1, status: int = 500, retry_after: int | None = None
    ) -> None:
        """Answer the next `times` calls to `method` (None: any but getUpdates) with an error."""
        self.faults.append(Fault(method, times, status, retry_after))

    def calls_to(self, method: str, ok: bool | None = True) -> list[Call]:
        """Return the calls to one method, by default only those that succeeded."""
        return [
            c for c in self.calls if c.method == method and (ok is None or (c.status == 200) == ok)
        ]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Return the parameters of every message sent successfully (to one chat)."""
        return [
            c.params
            for c in self.calls_to("sendMessage")
            if chat_id is None or c.params["chat_id"] == chat_id
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """Return the texts sent (to one chat), in order."""
        return [p["text"] for p in self.sent(chat_id)]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """Return a message as the stand-in holds it now (edits applied)."""
        return self.messages[(chat_id, message_id)]

    def run_reply(self, body: bytes | str | dict[str, Any]) -> Call | None:
        """Run the method a response to a webhook update carries, as Telegram does.

        Telegram reads `method` and its parameters from the bot's response to a webhook
        update (JSON) and runs it; the bot never learns the result. Returns the call
        recorded, or None when the response carries no method (an empty 200).
        """
        if isinstance(body, (bytes, str)):
            if not body:
                return None
            body = json.loads(body)
        if not isinstance(body, dict) or "method" not in body:
            return None
        params = {k: v for k, v in body.items() if k != "method"}
        method = body["method"]
        handler = getattr(self, f"_api_{method}", None)
        status, result = 404, None
        if handler is not None:
            try:
                status, result = 200, handler(params)
            except ApiError as error:
                status = error.status
        call = Call(method, params, status, time.monotonic(), result, in_reply=True)
        self.calls.append(call)
        return call

    def add_user_message(self, message: dict[str, Any]) -> None:
        """Know about a message the user sent, so deleting it behaves like Telegram."""
        self.messages[(message["chat"]["id"], message["message_id"])] = message

    # -- the API ------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = await self._params(request)
        if request.path_params["token"] != self.token:
            return self._record(method, params, 401, _error(401, "Unauthorized"))
        if method == "getUpdates" and params.get("offset"):
            self.confirmed = max(self.confirmed, int(params["offset"]) - 1)
        fault = self._fault(method)
        if fault is not None:
            parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
            description = (
                f"Too Many Requests: retry after {fault.retry_after}"
                if fault.status == 429
                else "Internal Server Error"
            )
            return self._record(
                method, params, fault.status, _error(fault.status, description, parameters)
            )
        if method == "getUpdates":
            result: Any = await self._get_updates(params)
            return self._record(method, params, 200, {"ok": True, "result": result})
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._record(method, params, 404, _error(404, "Not Found: method not found"))
        try:
            result = handler(params)
        except ApiError as error:
            return self._record(method, params, error.status, _error(error.status, str(error)))
        return self._record(method, params, 200, {"ok": True, "result": result})

    async def _params(self, request: Request) -> dict[str, Any]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            return await request.json()
        # PTB posts url-encoded fields (multipart only for file uploads, which we never send).
        fields = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        return {name: value if name in TEXT_PARAMS else _decode(value) for name, value in fields}

    def _record(self, method: str, params: dict, status: int, body: dict) -> JSONResponse:
        self.calls.append(Call(method, params, status, time.monotonic(), body.get("result")))
        return JSONResponse(body, status_code=status)

    def _fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            matches = fault.method == method or (fault.method is None and method != "getUpdates")
            if matches and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.poll_wait)
        deadline = time.monotonic() + wait
        while True:
            if offset > 0:  # Telegram forgets updates below the offset: they are confirmed
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if self.updates:
                return self.updates[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._arrived.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def _api_getMe(self, params: dict) -> dict:
        return BOT_USER

    def _api_sendMessage(self, params: dict) -> dict:
        chat_id = int(params["chat_id"])
        text = params.get("text", "")
        if not text or len(text.encode("utf-16-le")) // 2 > 4096:
            raise ApiError(400, "Bad Request: message text is empty or too long")
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        thread = params.get("message_thread_id")
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": "Test"}
        if chat_id < 0:
            chat = {"id": chat_id, "type": "supergroup", "title": "Desk", "is_forum": True}
            if thread is not None:
                topic = self.topics.get((chat_id, int(thread)))
                if topic is None:
                    raise ApiError(400, "Bad Request: message thread not found")
                if topic["closed"]:
                    raise ApiError(400, "Bad Request: TOPIC_CLOSED")
        self._next_message += 1
        message = {
            "message_id": self._next_message,
            "date": int(time.time()),
            "chat": chat,
            "from": BOT_USER,
            "text": text,
        }
        if thread is not None:
            message["message_thread_id"] = int(thread)
            message["is_topic_message"] = True
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _existing(self, params: dict) -> dict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages or key in self.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _api_editMessageText(self, params: dict) -> dict:
        message = self._existing(params)
        message["text"] = params["text"]
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    def _api_editMessageReplyMarkup(self, params: dict) -> dict:
        message = self._existing(params)
        markup = params.get("reply_markup") or None
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    def _delete_one(self, chat_id: int, message_id: int) -> bool:
        message = self.messages.get((chat_id, message_id))
        if message is None or (chat_id, message_id) in self.deleted:
            return False
        if time.time() - message["date"] > DELETE_WINDOW:
            return False
        self.deleted.add((chat_id, message_id))
        return True

    def _api_deleteMessage(self, params: dict) -> bool:
        if not self._delete_one(int(params["chat_id"]), int(params["message_id"])):
            raise ApiError(400, "Bad Request: message can't be deleted")
        return True

    def _api_deleteMessages(self, params: dict) -> bool:
        ids = params["message_ids"]
        if not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: too many messages to delete")
        for message_id in ids:  # like Telegram: what cannot be deleted is skipped
            self._delete_one(int(params["chat_id"]), int(message_id))
        return True

    def _forum(self, params: dict) -> int:
        chat_id = int(params["chat_id"])
        if chat_id not in self.forums:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        return chat_id

    def _api_createForumTopic(self, params: dict) -> dict:
        chat_id = self._forum(params)
        name = params.get("name", "")
        if not 1 <= len(name) <= 128:
            raise ApiError(400, "Bad Request: topic name is invalid")
        self._next_message += 1
        thread = self._next_message
        self.topics[(chat_id, thread)] = {"name": name, "closed": False}
        return {"message_thread_id": thread, "name": name, "icon_color": 7322096}

    def _topic(self, params: dict) -> dict[str, Any]:
        key = (self._forum(params), int(params["message_thread_id"]))
        if key not in self.topics:
            raise ApiError(400, "Bad Request: message thread not found")
        return self.topics[key]

    def _api_editForumTopic(self, params: dict) -> bool:
        topic = self._topic(params)
        if "name" in params:
            topic["name"] = params["name"]
        return True

    def _api_closeForumTopic(self, params: dict) -> bool:
        topic = self._topic(params)
        if topic["closed"]:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = True
        return True

    def _api_answerCallbackQuery(self, params: dict) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        return True

    def _api_setMyCommands(self, params: dict) -> bool:
        self.commands[_scope_key(params)] = params["commands"]
        return True

    def _api_deleteMyCommands(self, params: dict) -> bool:
        self.commands.pop(_scope_key(params), None)
        return True

    def _api_setWebhook(self, params: dict) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    def _api_deleteWebhook(self, params: dict) -> bool:
        self.webhook = {}
        return True

    def _api_getWebhookInfo(self, params: dict) -> dict:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0 if self.webhook else len(self.updates),
        }


class ApiError(Exception):
    """A Bot API error answer."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status


def _error(status: int, description: str, parameters: dict | None = None) -> dict:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _decode(value: str) -> Any:
    """Decode one form field as PTB encodes it: JSON for anything but plain strings."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _scope_key(params: dict) -> str:
    scope = params.get("scope") or {"type": "default"}
    chat = f":{scope['chat_id']}" if "chat_id" in scope else ""
    return f"{scope['type']}{chat}/{params.get('language_code') or ''}"


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app on a free loopback port for the duration; yield its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        ws="none",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why the server could not start
        await asyncio.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
