"""One error shape for every failure: `{"error": {"code": str, "message": str}}`.

FastAPI's own 404/405/422 bodies are replaced too, so a client only ever parses one shape.
Messages never echo what the person sent.
"""

from __future__ import annotations

import logging
import math
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from bot.i18n import negotiate
from bot.store import StoreUnavailable
from bot.web.strings import TRY_AGAIN

log = logging.getLogger(__name__)

#: HTTP status -> error code for statuses raised by the framework itself.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "timeout",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


class ErrorDetailOut(BaseModel):
    """What went wrong: a stable code for programs and a sentence for people."""

    code: str
    message: str


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: ErrorDetailOut


class ApiError(Exception):
    """An expected failure with its status, code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        retry_after: float | None = None,
    ):
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def error_response(
    status: int, code: str, message: str, retry_after: float | None = None
) -> JSONResponse:
    """Build an error response in the one documented shape."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def unauthorized() -> ApiError:
    """Return the one answer for a wrong token, a missing token and an unknown id alike."""
    return ApiError(
        401, "unauthorized", "Missing or wrong token, or the conversation no longer exists."
    )


UNKNOWN_FIELDS = "The body has fields this API does not know."


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return "invalid_json", "The body is not valid JSON."
    parts = []
    for error in errors[:3]:
        if error.get("type") == "extra_forbidden":
            # An unknown field's name is the client's own text (it may be a name or a phone
            # number): say that there are unknown fields, never which.
            if UNKNOWN_FIELDS not in parts:
                parts.append(UNKNOWN_FIELDS)
            continue
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        # `msg` is pydantic's description; `input` (what was sent) is deliberately left out.
        text = str(error.get("msg", "")).removeprefix("Value error, ")
        if error.get("type") in ("model_attributes_type", "dict_type", "missing") and not where:
            text = "The body must be a JSON object."
        parts.append(f"{where}: {text}" if where else text)
    return "invalid_request", "; ".join(parts) or "The request is not valid."


def unavailable_message(request: Request) -> str:
    """Say "try again in a minute" in the conversation's language, if we know it."""
    lang = getattr(request.state, "lang", None) or negotiate(request.headers.get("accept-language"))
    translator = getattr(request.app.state, "translator", None)
    return translator.gettext(lang, TRY_AGAIN) if translator else TRY_AGAIN


def allowed_methods(request: Request) -> list[str]:
    """Return the methods some route accepts for this request's path (routers included)."""

    def collect(routes: list[Any]) -> set[str]:
        methods: set[str] = set()
        for route in routes:
            if route.matches(request.scope)[0] == Match.NONE:
                continue
            methods |= set(getattr(route, "methods", None) or ())
            inner = getattr(route, "original_router", None) or getattr(route, "app", None)
            if getattr(inner, "routes", None) and not isinstance(route, Mount):
                methods |= collect(inner.routes)
        return methods

    return sorted(collect(request.app.router.routes))


def install_error_handlers(app: FastAPI) -> None:
    """Route every framework and application error to the one error shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        response = error_response(exc.status, exc.code, exc.message, exc.retry_after)
        if exc.status == 401:  # RFC 6750: say which scheme is expected
            response.headers["WWW-Authenticate"] = 'Bearer realm="Safe Abroad"'
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's "error parsing the body" (e.g. not UTF-8)
            return error_response(422, "invalid_json", "The body is not valid JSON.")
        code = CODES.get(exc.status_code, "error")
        message = {
            404: "There is nothing here.",
            405: "This method is not allowed here.",
        }.get(exc.status_code, str(exc.detail))
        response = error_response(exc.status_code, code, message)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:  # every method of the path, not just one route's
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = _validation_message(exc)
        return error_response(422, code, message)

    @app.exception_handler(StoreUnavailable)
    async def _store_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("store unavailable (%s)", type(exc).__name__)
        return error_response(503, "unavailable", unavailable_message(request), 30)


def log_unhandled(exc: BaseException, route: str) -> None:
    """Log a crash with its stack but without the exception's message, which may hold data."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unhandled %s in %s\n%s", type(exc).__name__, route, stack.rstrip())
