"""The JSON API (`/api/v1`): parse, check the token, call the conversation service, render.

A conversation id is random and public to its holder; the bearer token, shown once, is
kept only as a hash. A wrong token, a missing token and an unknown id get the same 401,
so ids cannot be probed. Nothing typed, no token, id or address is ever logged.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.model import Event, Pick, Reply, SetLanguage, Start, Text
from bot.pseudonym import pseudonym, token_hash
from bot.service import ConversationGone, Conversations
from bot.store import Stored
from bot.web.errors import ApiError, ErrorOut, unauthorized
from bot.web.schemas import ConversationIn, ConversationOut, MessageIn, MessagesOut

CHANNEL = "web"

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in {
        401: "Missing or wrong token, or no such conversation",
        413: "Body larger than 16 kB",
        422: "Broken JSON or wrong fields",
        429: "Too many requests (see Retry-After)",
        503: "Database unreachable: try again in a minute",
    }.items()
}

router = APIRouter(prefix="/api/v1", tags=["conversations"], responses=_ERRORS)
bearer = HTTPBearer(auto_error=False, description="The token returned when the conversation began")


# Both dependencies are `async` on purpose: a plain `def` would run in a thread pool.
async def service_of(request: Request) -> Conversations:
    """Return the running conversation service (503 while the app starts or stops)."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise ApiError(503, "unavailable", "The service is starting. Please try again.", 5)
    return service


async def limit_address(request: Request) -> None:
    """Spend one request from the client address's budget (429 when it is used up)."""
    address = request.client.host if request.client else "unknown"
    wait = request.app.state.address_limits.take(address)
    if wait:
        raise ApiError(429, "rate_limited", "Too many requests. Please slow down.", wait)


Service = Annotated[Conversations, Depends(service_of)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def conversation_key(request: Request, conversation_id: str) -> str:
    """Return the pseudonym a web conversation is stored under."""
    return pseudonym(request.app.state.pseudonym_key, CHANNEL, conversation_id)


async def authorized(
    request: Request, service: Conversations, conversation_id: str, credentials: Credentials
) -> tuple[str, Stored]:
    """Return the conversation's key and row if the token matches, else raise 401."""
    if credentials is None or len(conversation_id) > 64 or len(credentials.credentials) > 128:
        raise unauthorized()
    key = conversation_key(request, conversation_id)
    stored = await service.store.get(key)
    expected = (stored.secret_hash or "") if stored else ""
    given = token_hash(credentials.credentials)
    # Compare even when there is no row, so an unknown id takes as long as a wrong token.
    matches = hmac.compare_digest(expected.encode() or b"-", given.encode())
    if stored is None or not matches:
        raise unauthorized()
    if _idle_too_long(request, stored):
        # Left open and forgotten: whoever finds the token later finds nothing.
        await service.store.delete(key)
        raise unauthorized()
    request.state.lang = stored.state.get("lang") if isinstance(stored.state, dict) else None
    return key, stored


def _idle_too_long(request: Request, stored: Stored) -> bool:
    minutes = getattr(request.app.state.settings, "web_idle_minutes", 0) or 0
    if minutes <= 0 or stored.updated_at is None:
        return False
    return datetime.now(UTC) - stored.updated_at > timedelta(minutes=minutes)


async def conversation_of(
    request: Request, conversation_id: str, service: Service, credentials: Credentials
) -> tuple[str, Stored]:
    """The dependency form of `authorized`: credentials are checked before the body is."""
    return await authorized(request, service, conversation_id, credentials)


Authorized = Annotated[tuple[str, Stored], Depends(conversation_of)]


def limit_conversation(request: Request, key: str) -> None:
    """Spend one request from the conversation's budget (429 when it is used up)."""
    wait = request.app.state.conversation_limits.take(key)
    if wait:
        raise ApiError(429, "rate_limited", "Too many messages. Please wait a moment.", wait)


def render(replies: list[Reply]) -> list[dict[str, Any]]:
    """Turn engine replies into API messages."""
    return [reply.to_json() for reply in replies]


def event_of(body: MessageIn) -> Event:
    """Map a message body to an engine event."""
    if body.choice is not None:
        if body.choice.startswith("lang:"):
            return SetLanguage(body.choice[5:])
        return Pick(body.choice)
    return Text(body.text or "")


@router.post(
    "/conversations",
    status_code=201,
    response_model=ConversationOut,
    response_model_exclude_none=True,
    dependencies=[Depends(limit_address)],
    summary="Start a conversation",
)
async def create_conversation(
    request: Request,
    service: Service,
    body: Annotated[ConversationIn | None, Body()] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> dict[str, Any]:
    """Start a conversation; the token in the answer is shown once and never again."""
    body = body or ConversationIn()
    request.state.lang = body.lang
    conversation_id = secrets.token_urlsafe(16)
    token = secrets.token_urlsafe(32)
    key = conversation_key(request, conversation_id)
    event = Start(lang=body.lang, hint=accept_language, campaign=body.campaign)
    outcome = await service.handle(key, event, channel=CHANNEL, secret_hash=token_hash(token))
    return {
        "id": conversation_id,
        "token": token,
        "lang": outcome.lang,
        "messages": render(outcome.replies),
    }


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=MessagesOut,
    response_model_exclude_none=True,
    dependencies=[Depends(limit_address)],
    summary="Send typed text or a pressed choice",
)
async def send_message(
    request: Request,
    conversation_id: str,
    conversation: Authorized,
    body: MessageIn,
    service: Service,
) -> dict[str, Any]:
    """Apply the person's text or choice and return the bot's answer."""
    key, stored = conversation
    limit_conversation(request, key)
    try:
        outcome = await service.handle(
            key, event_of(body), channel=CHANNEL, create=False, known=stored
        )
    except ConversationGone:  # erased while this message was on its way
        raise unauthorized() from None
    return {"messages": render(outcome.replies), "lang": outcome.lang}


@router.get(
    "/conversations/{conversation_id}",
    response_model=MessagesOut,
    response_model_exclude_none=True,
    dependencies=[Depends(limit_address)],
    summary="Show the pending prompt again (after a reload)",
)
async def get_conversation(
    request: Request, conversation_id: str, service: Service, conversation: Authorized
) -> dict[str, Any]:
    """Return the prompt waiting for an answer."""
    key, _stored = conversation
    limit_conversation(request, key)
    outcome = await service.pending(key)
    if outcome is None:
        raise unauthorized()
    return {"messages": render(outcome.replies), "lang": outcome.lang}


@router.delete(
    "/conversations/{conversation_id}",
    status_code=204,
    response_class=Response,
    dependencies=[Depends(limit_address)],
    summary="Erase the conversation",
)
async def delete_conversation(
    request: Request, conversation_id: str, service: Service, conversation: Authorized
) -> Response:
    """Erase every trace of the conversation; later calls with its token get 401."""
    key, stored = conversation
    # No per-conversation limit here: erasing must always work, even after a burst.
    lang = stored.state.get("lang", "") if isinstance(stored.state, dict) else ""
    await service.erase(key, channel=CHANNEL, lang=lang)
    return Response(status_code=204)


#: A comment line this often keeps proxies from closing a quiet live connection.
KEEP_ALIVE_SECONDS = 15.0


@router.get(
    "/conversations/{conversation_id}/events",
    response_class=StreamingResponse,
    dependencies=[Depends(limit_address)],
    summary="Live messages while a counsellor chat is open (server-sent events)",
    responses={200: {"content": {"text/event-stream": {}}}, 404: {"model": ErrorOut}},
)
async def conversation_events(
    request: Request,
    conversation_id: str,
    conversation: Authorized,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Stream `{"messages": [Message]}` events as a counsellor answers, numbered by `id:`.

    Send the last `id` seen as `Last-Event-ID` when reconnecting: what this worker passed
    on since then comes first. `event: end` says the conversation was erased.
    """
    hub = getattr(request.app.state, "hub", None)
    if hub is None:
        raise ApiError(404, "not_found", "There is no counsellor chat on this server.")
    key, _stored = conversation
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0

    async def stream() -> AsyncIterator[str]:
        async with hub.listen(key, after) as queue:
            yield "retry: 2000\n: connected\n\n"
            while True:
                try:
                    push = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if push is None:
                    yield "event: end\ndata: {}\n\n"
                    return
                data = json.dumps({"messages": push.messages}, ensure_ascii=False)
                yield f"id: {push.seq}\ndata: {data}\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
