"""Pages and assets: the chat page, the widget script, privacy, health, and the API docs.

Templates are plain HTML files with `{{name}}` slots filled with escaped text; there is no
inline script anywhere, so the strict Content-Security-Policy holds.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot import LANGUAGES
from bot.contacts import default_directory
from bot.i18n import LANGUAGE_NAMES, language_name, negotiate, normalize_language
from bot.web.errors import error_response
from bot.web.schemas import CAMPAIGN
from bot.web.strings import PAGE, WIDGET, translated

STATIC = Path(__file__).parent / "static"
ABOUT_FLOW = "about"
_SLOT = re.compile(r"\{\{(\w+)\}\}")

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=16)
def _template(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def fill(name: str, values: dict[str, str]) -> str:
    """Fill a template's `{{slot}}`s with HTML-escaped values."""
    return _SLOT.sub(lambda m: html.escape(values[m.group(1)], quote=True), _template(name))


@lru_cache(maxsize=1)
def spoken_language_names() -> dict[str, dict[str, str]]:
    """Return, for each page language, the name of every language a hotline speaks in it."""
    codes = sorted({c for e in default_directory().entries for c in e.languages} | set(LANGUAGES))
    return {ui: {code: language_name(code, ui) for code in codes} for ui in LANGUAGES}


def page_language(request: Request) -> tuple[str, str | None]:
    """Return the language to show and the one the link chose explicitly, if any."""
    explicit = normalize_language(request.query_params.get("lang"))
    return explicit or negotiate(request.headers.get("accept-language")), explicit


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status)


@router.get("/chat")
async def chat_page(request: Request) -> HTMLResponse:
    """Serve the full-page chat (also the widget's inside)."""
    lang, explicit = page_language(request)
    campaign = request.query_params.get("c", "")
    strings = request.app.state.page_strings
    return _html(
        fill(
            "chat.html",
            {
                "lang": lang,
                "explicit_lang": explicit or "",
                "campaign": campaign if CAMPAIGN.fullmatch(campaign) else "",
                "strings": json.dumps(strings, ensure_ascii=False, separators=(",", ":")),
                "languages": json.dumps(spoken_language_names(), ensure_ascii=False),
                **strings[lang],
            },
        )
    )


@router.get("/widget.js")
async def widget_script(request: Request) -> Response:
    """Serve the one-tag widget with its words in every language built in."""
    strings = json.dumps(request.app.state.widget_strings, ensure_ascii=False)
    script = _template("widget.js").replace("/*STRINGS*/{}", strings, 1)
    return Response(script, media_type="text/javascript; charset=utf-8")


@router.get("/privacy")
async def privacy_page(request: Request) -> HTMLResponse:
    """Say in plain words what is kept and what is not (the `about` flow's texts)."""
    lang, _ = page_language(request)
    words = request.app.state.page_strings[lang]
    translate = request.app.state.translator.gettext
    engine = request.app.state.engine
    flow = engine.flows.get(ABOUT_FLOW) if engine is not None else None
    title, paragraphs = words["privacy"], []
    if flow is not None:
        title = translate(lang, flow.title)
        for step in _in_order(flow):
            paragraphs += [translate(lang, t) for t in (step.text, step.none, step.advice) if t]
    others = " · ".join(
        f'<a href="/privacy?lang={code}" hreflang="{code}" lang="{code}">'
        f"{html.escape(LANGUAGE_NAMES[code])}</a>"
        for code in LANGUAGES
        if code != lang
    )
    page = fill("privacy.html", {"lang": lang, "title": title, "back": words["back_to_chat"]})
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return _html(page.replace("<!--BODY-->", body).replace("<!--LANGUAGES-->", others))


def _in_order(flow: Any) -> list[Any]:
    """Return a flow's steps from the start along `next`, then any left over."""
    seen: list[str] = []
    step_id = flow.start
    while step_id in flow.steps and step_id not in seen:
        seen.append(step_id)
        step = flow.steps[step_id]
        step_id = step.next or (step.choices[0].next if step.choices else None)
    seen += [s for s in flow.steps if s not in seen]
    return [flow.steps[s] for s in seen]


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """Answer while the process is up (liveness)."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Answer 200 only when the database answers (readiness)."""
    service = getattr(request.app.state, "service", None)
    ok = False
    if service is not None:
        try:
            await service.store.ping()
            ok = True
        except Exception:  # any failure means "not ready"; the store logs its own cause
            ok = False
    if not ok:
        return error_response(503, "not_ready", "The database cannot be reached.", 10)
    return JSONResponse({"status": "ready"})


@router.post("/telegram/webhook")
async def telegram_webhook(request: Request) -> Response:
    """Pass a Telegram update to the Telegram channel (404 when Telegram is off)."""
    channel = getattr(request.app.state, "telegram", None)
    if channel is None:
        return error_response(404, "not_found", "There is nothing here.")
    return await channel.handle_webhook(request)


@router.get("/docs")
async def docs_page() -> HTMLResponse:
    """Serve Swagger UI from our own origin (no CDN, no inline script)."""
    return _html(_template("docs.html"))


def page_strings(translator: Any) -> dict[str, dict[str, str]]:
    """Return the chat page's words in every language."""
    return translated(translator, PAGE)


def widget_strings(translator: Any) -> dict[str, dict[str, str]]:
    """Return the widget's words in every language."""
    return translated(translator, WIDGET)
