"""Admin pages: campaigns with links, QR codes and printable flyers, and the statistics dashboard.

Everything here is off unless ADMIN_TOKEN is set: then every admin address answers 404, as if
it did not exist. With a token, a request passes with `Authorization: Bearer <token>` or with
a session cookie from the login form: short-lived, HttpOnly, SameSite=Strict, signed with a
key derived from the token (so changing ADMIN_TOKEN ends every session) and holding nothing
else. Tokens are compared in constant time. Pages are plain HTML with inline SVG drawn on the
server: no script at all, one stylesheet of our own (`AdminHeaders` sets that CSP).

Add to an app with `admin.include(app)`, after its other middleware.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import io
import logging
import secrets
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import LANGUAGES
from bot.campaigns import (
    CHANNELS,
    NONE,
    OTHER,
    Campaign,
    campaign_link,
    is_valid_code,
    load_campaigns,
    qr_code,
    qr_svg,
    unprintable,
)
from bot.contacts import default_directory
from bot.i18n import LANGUAGE_NAMES, N_, format_day, language_names
from bot.stats import (
    LEGEND,
    MASKED,
    SMALL,
    WITHHELD_NOTE,
    Report,
    Table,
    load_report,
    render_csv,
    report_json,
)
from bot.web.charts import RED, Bar, bar_chart, day_chart, funnel_chart
from bot.web.limits import Rate, TokenBuckets

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "admin_static"
SESSION_COOKIE = "safe_abroad_admin"
SESSION_SECONDS = 30 * 60
LOGIN_FORM_LIMIT = 4096
#: Wrong admin tokens per client address and in all: the one that spends the bucket (the
#: 10th, the 30th) blocks further tries, with 429, until the bucket refills a little.
FAILURES_PER_ADDRESS = Rate(per_minute=10, burst=9)
FAILURES_IN_ALL = Rate(per_minute=30, burst=29)
SIZES = ("a6", "a4")

#: The directory entry whose numbers a flyer prints: the Lithuanian national helpline.
FLYER_LINE = "lt_helpline"

# TRANSLATORS: the one line on a printed flyer or poster, next to the QR code.
FLYER_HEADLINE = N_("Job abroad? Check the offer first. Free and anonymous.")
# TRANSLATORS: on a printed flyer, above the phone numbers of the Lithuanian helpline.
FLYER_HELPLINE = N_("Human trafficking helpline, day and night")
# TRANSLATORS: on a flyer, after the number 8 800 91119.
FLYER_FREE_IN_LT = N_("free in Lithuania")
# TRANSLATORS: on a flyer, after the number +370 616 91119.
FLYER_FROM_ABROAD = N_("from abroad")
# TRANSLATORS: small print at the foot of a flyer; {date} is a day written out in words.
FLYER_CHECKED = N_("Numbers checked on {date}")
# TRANSLATORS: on a flyer, under the helpline's numbers; {languages} is a list of names.
FLYER_LANGUAGES = N_("Languages: {languages}")


def flyer_numbers() -> tuple[str, str]:
    """Return the helpline's number inside Lithuania and from abroad, from contacts.yaml."""
    entry = default_directory().get(FLYER_LINE)
    by_scope = {phone.scope: phone.number for phone in entry.phones}
    return by_scope["national"], by_scope["abroad"]


router = APIRouter(prefix="/admin", include_in_schema=False)


# Access -------------------------------------------------------------------------------


def _admin_token(request: Request) -> bytes:
    """Return ADMIN_TOKEN, or answer 404 so a bot without one shows no admin at all."""
    token = getattr(request.app.state.settings, "admin_token", None)
    if token is None or not token.get_secret_value():
        raise HTTPException(404)
    return token.get_secret_value().encode()


def _same(given: bytes, expected: bytes) -> bool:
    """Compare secrets in constant time, whatever their lengths."""
    return hmac.compare_digest(hashlib.sha256(given).digest(), hashlib.sha256(expected).digest())


def _session_key(token: bytes) -> bytes:
    return hmac.new(token, b"safe-abroad admin session v1", hashlib.sha256).digest()


def new_session(token: bytes, now: float | None = None) -> str:
    """Return a session value: its expiry, a nonce and a signature; nothing about anyone."""
    expires = int((time.time() if now is None else now) + SESSION_SECONDS)
    body = f"{expires}.{secrets.token_urlsafe(9)}"
    signature = hmac.new(_session_key(token), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{signature}"


def session_valid(token: bytes, value: str, now: float | None = None) -> bool:
    """Tell whether a session cookie was signed with this token and has not expired."""
    body, _, signature = value.rpartition(".")
    expires, _, _nonce = body.partition(".")
    if not expires.isdigit():
        return False
    wanted = hmac.new(_session_key(token), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(wanted.encode(), signature.encode()):
        return False
    moment = time.time() if now is None else now
    return moment < int(expires) <= moment + SESSION_SECONDS


class AdminGuard:
    """Per-process memory of failed admin logins and of sessions ended by logging out.

    Failures are counted per client address (a keyed hash, in memory, as the API's rate
    limits do) and in all, so guessing the token is slow from one address and from many.
    """

    def __init__(self) -> None:
        self.per_address = TokenBuckets(FAILURES_PER_ADDRESS)
        self.in_all = TokenBuckets(FAILURES_IN_ALL)
        self.blocked: dict[str, float] = {}
        self.revoked: dict[str, float] = {}  # session nonce -> its expiry
        self.failures = 0

    def wait(self, address: str) -> float:
        """Seconds this address must wait before trying a token again (0: it may try)."""
        now = time.monotonic()
        return max(0.0, self.blocked.get(address, 0.0) - now, self.blocked.get("", 0.0) - now)

    def failed(self, address: str) -> None:
        """Count one wrong token; block the address (or everyone) once a budget is spent."""
        now = time.monotonic()
        self.failures += 1
        for key, buckets in ((address, self.per_address), ("", self.in_all)):
            if wait := buckets.take(key or "*"):
                self.blocked[key] = now + wait
        if self.failures % 10 == 1:
            log.warning("admin: %d wrong tokens since start (no addresses kept)", self.failures)

    def revoke(self, cookie: str) -> None:
        """Remember that this session ended; it stays refused until it would have expired."""
        body, _, _ = cookie.rpartition(".")
        expires, _, nonce = body.partition(".")
        if nonce and expires.isdigit():
            now = time.time()
            self.revoked = {n: e for n, e in self.revoked.items() if e > now}
            self.revoked[nonce] = float(expires)

    def is_revoked(self, cookie: str) -> bool:
        body, _, _ = cookie.rpartition(".")
        return body.partition(".")[2] in self.revoked


def _admin_guard(request: Request) -> AdminGuard:
    state = request.app.state
    if getattr(state, "admin_guard", None) is None:
        state.admin_guard = AdminGuard()
    return state.admin_guard


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _authorized(request: Request, token: bytes) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        if _same(given.strip().encode(), token):
            return True
        _admin_guard(request).failed(_address(request))
        return False
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or _admin_guard(request).is_revoked(cookie):
        return False
    return session_valid(token, cookie)


def _too_many(request: Request, *, page: bool) -> Response | None:
    """Answer 429 while this address (or everyone) has spent its wrong-token budget."""
    wait = _admin_guard(request).wait(_address(request))
    if not wait:
        return None
    headers = {"Retry-After": str(max(1, int(wait + 0.999)))}
    text = "Too many wrong tokens. Please wait a minute and try again."
    if not page:
        return JSONResponse(
            {"error": {"code": "rate_limited", "message": text}}, status_code=429, headers=headers
        )
    return _login_page("/admin", status=429, headers=headers, error=text)


def _guard(request: Request, *, page: bool = True) -> Response | None:
    """Return the 401 answer (a login page, or JSON for data) unless the request may pass."""
    token = _admin_token(request)
    if (blocked := _too_many(request, page=page)) is not None:
        return blocked
    if _authorized(request, token):
        return None
    headers = {"WWW-Authenticate": 'Bearer realm="Safe Abroad admin"'}
    if not page:
        return JSONResponse(
            {"error": {"code": "unauthorized", "message": "Missing or wrong admin token."}},
            status_code=401,
            headers=headers,
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _login_page(target, status=401, headers=headers)


def _safe_next(target: str) -> str:
    """Return where to go after login: only an admin page of this site."""
    if target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def _secure(request: Request) -> bool:
    """Mark the cookie `Secure` always, except for plain HTTP on this machine itself.

    Behind a proxy that is not in TRUSTED_PROXIES the app cannot tell that the browser
    used HTTPS, so it does not try to: a session must never travel in clear text.
    """
    base = request.app.state.settings.public_base_url or ""
    if request.url.scheme == "https" or base.startswith("https://"):
        return True
    return (request.url.hostname or "") not in LOOPBACK_NAMES


# Page frame ---------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(
    title: str,
    body: str,
    *,
    nav: bool = True,
    status: int = 200,
    headers: dict[str, str] | None = None,
    body_class: str = "admin",
) -> HTMLResponse:
    menu = ""
    if nav:
        menu = (
            '<header class="top no-print"><nav><a href="/admin/dashboard">Dashboard</a> '
            '<a href="/admin/campaigns">Campaigns</a></nav>'
            '<form method="post" action="/admin/logout"><button type="submit">Log out</button>'
            "</form></header>"
        )
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{_e(title)} · Safe Abroad admin</title>"
        '<link rel="stylesheet" href="/admin/static/admin.css"></head>'
        f'<body class="{_e(body_class)}">{menu}{body}</body></html>'
    )
    response = HTMLResponse(document, status_code=status, headers=headers)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _login_page(
    target: str, *, status: int, headers: dict[str, str] | None = None, error: str = ""
) -> HTMLResponse:
    problem = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
    body = (
        '<main class="login"><h1>Safe Abroad admin</h1>'
        "<p>Enter the admin token (ADMIN_TOKEN) to see statistics and campaign material.</p>"
        f"{problem}"
        '<form method="post" action="/admin/login">'
        f'<input type="hidden" name="next" value="{_e(_safe_next(target))}">'
        '<label for="token">Admin token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" '
        "required autofocus>"
        '<button type="submit">Log in</button></form></main>'
    )
    return _page("Log in", body, nav=False, status=status, headers=headers)


# Login and static ---------------------------------------------------------------------


@router.get("/static/admin.css")
async def stylesheet(request: Request) -> Response:
    """Serve the admin stylesheet (also to the login page, so no token is needed)."""
    _admin_token(request)
    css = (STATIC / "admin.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css; charset=utf-8")


@router.get("/login")
async def login_form(request: Request) -> Response:
    """Show the login form."""
    _admin_token(request)
    return _login_page(request.query_params.get("next", "/admin"), status=200)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the token from the form; on success set a short-lived session cookie."""
    token = _admin_token(request)
    if (blocked := _too_many(request, page=True)) is not None:
        return blocked
    raw = await request.body()
    fields = parse_qs(raw[:LOGIN_FORM_LIMIT].decode("utf-8", "replace"), max_num_fields=4)
    given = (fields.get("token") or [""])[0]
    target = _safe_next((fields.get("next") or ["/admin"])[0])
    if not given or not _same(given.encode(), token):
        _admin_guard(request).failed(_address(request))
        return _login_page(target, status=401, error="That token is not right.")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new_session(token),
        max_age=SESSION_SECONDS,
        path="/admin",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session: refused from now on, and forgotten by this browser."""
    _admin_token(request)
    if cookie := request.cookies.get(SESSION_COOKIE):
        _admin_guard(request).revoke(cookie)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/admin", secure=_secure(request), httponly=True, samesite="strict"
    )
    return response


# Campaigns ----------------------------------------------------------------------------


def _link_settings(request: Request) -> tuple[str, str]:
    """Return the bot username and the public base address for links."""
    settings = request.app.state.settings
    base = settings.public_base_url or str(request.base_url)
    return settings.telegram_bot_username or "", base.rstrip("/")


def _channels(request: Request) -> list[str]:
    username, _ = _link_settings(request)
    return [c for c in CHANNELS if c != "telegram" or username]


def _link(request: Request, channel: str, code: str, lang: str | None) -> str:
    username, base = _link_settings(request)
    return campaign_link(channel, code, lang, bot_username=username, base_url=base)


def _known(problems: list[str] | None = None) -> dict[str, Campaign]:
    """Read campaigns.yaml on each request, so an edit shows without a restart."""
    try:
        return load_campaigns()
    except ValueError as error:  # a broken file must not take the admin pages down
        if problems is not None:
            problems.append(
                f"dialogs/campaigns.yaml has problems; every code counts as other: {error}"
            )
        return {}


def _checked_code(code: str) -> str:
    if not is_valid_code(code):
        raise HTTPException(404)
    return code


def _campaign_card(request: Request, campaign: Campaign, known: bool) -> str:
    code = campaign.code
    channels = _channels(request)
    default_channel = channels[0]
    preview = qr_svg(_link(request, default_channel, code, None), title=f"QR code for {code}")
    preview += f'<p class="caption">{_e(default_channel.title())}, any language</p>'
    rows = []
    for lang in (None, *campaign.languages):
        name = LANGUAGE_NAMES[lang] if lang else "any (the bot asks)"
        cells = [f"<td>{_e(name)}</td>"]
        for channel in ("telegram", "web"):
            if channel not in channels:
                cells.append('<td class="muted">set TELEGRAM_BOT_USERNAME</td>')
                continue
            link = _link(request, channel, code, lang)
            query = urlencode({"channel": channel, **({"lang": lang} if lang else {})})
            cells.append(
                f'<td><a class="link" href="{_e(link)}">{_e(link)}</a><br>'
                f'QR: <a href="/admin/campaigns/{quote(code)}/qr.svg?{_e(query)}">SVG</a> · '
                f'<a href="/admin/campaigns/{quote(code)}/qr.png?{_e(query)}">PNG</a></td>'
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    langs = "&".join(f"lang={lang}" for lang in campaign.languages)
    flyers = " · ".join(
        f'<a href="/admin/campaigns/{quote(code)}/flyer?size={size}&amp;{_e(langs)}">'
        f"{size.upper()}</a>"
        for size in SIZES
    )
    one_language = " · ".join(
        f'<a href="/admin/campaigns/{quote(code)}/flyer?size=a6&amp;lang={lang}">'
        f"{_e(LANGUAGE_NAMES[lang])}</a>"
        for lang in campaign.languages
    )
    note = (
        ""
        if known
        else f'<p class="warning">This code is not in dialogs/campaigns.yaml, so statistics '
        f"count it as “{OTHER}”. Add it there to see it by name.</p>"
    )
    return (
        f'<section class="card campaign" id="c-{_e(code)}"><div class="qr-preview">{preview}'
        f'</div><div class="campaign-text"><h2>{_e(code)}</h2>'
        f"<p>{_e(campaign.description)}</p>{note}"
        f"<p>Flyer in all its languages: {flyers}. One language (A6): {one_language}.</p>"
        '<table class="links"><thead><tr><th>Language</th><th>Telegram</th><th>Web chat</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


@router.get("/campaigns")
async def campaigns_page(request: Request) -> Response:
    """List the campaigns with their links, QR codes and flyers; make one for any code."""
    if (denied := _guard(request)) is not None:
        return denied
    problems: list[str] = []
    known = _known(problems)
    extra = request.query_params.get("code", "").strip()
    cards = []
    problem = "".join(f'<p class="error">{_e(p)}</p>' for p in problems)
    if extra:
        if is_valid_code(extra) and extra not in known:
            adhoc = Campaign(extra, "A code that is not listed in campaigns.yaml.", LANGUAGES)
            cards.append(_campaign_card(request, adhoc, known=False))
        elif not is_valid_code(extra):
            problem += '<p class="error">A code uses only A-Z, a-z, 0-9, _ and -, up to 60.</p>'
    cards += [_campaign_card(request, c, known=True) for c in known.values()]
    settings = request.app.state.settings
    hints = []
    if not settings.public_base_url:
        hints.append(
            "PUBLIC_BASE_URL is not set, so web links use the address you opened this page with."
        )
    if not settings.telegram_bot_username:
        hints.append("TELEGRAM_BOT_USERNAME is not set, so there are no Telegram links.")
    _, base = _link_settings(request)
    dead = unprintable(base)
    alarm = (
        f'<p class="warning danger" role="alert"><strong>Do not print these web links or QR '
        f"codes:</strong> {_e(dead)}. Set PUBLIC_BASE_URL to the bot's public https address.</p>"
        if dead
        else ""
    )
    body = (
        "<main><h1>Campaigns</h1>"
        "<p>Each code says where people found the bot (a poster run, a job fair, a website), "
        "never who they are. Edit the list in <code>dialogs/campaigns.yaml</code>.</p>"
        + alarm
        + "".join(f'<p class="hint">{_e(h)}</p>' for h in hints)
        + '<form class="inline" method="get" action="/admin/campaigns">'
        '<label for="code">Links for another code</label>'
        '<input id="code" name="code" pattern="[A-Za-z0-9_\\-]{1,60}" maxlength="60">'
        f'<button type="submit">Show</button></form>{problem}{"".join(cards)}</main>'
    )
    return _page("Campaigns", body)


def _qr_request(request: Request, code: str) -> tuple[str, str]:
    """Return the link and a file name stem for a QR download."""
    lang = request.query_params.get("lang") or None
    if lang is not None and lang not in LANGUAGES:
        raise HTTPException(404)
    channels = _channels(request)
    channel = request.query_params.get("channel") or channels[0]
    if channel not in channels:
        raise HTTPException(404)
    stem = "-".join(p for p in ("safe-abroad", code, lang or "", channel) if p)
    return _link(request, channel, code, lang), stem


@router.get("/campaigns/{code}/qr.svg")
async def qr_svg_file(request: Request, code: str) -> Response:
    """Download a campaign's QR code as SVG (sharp at any print size)."""
    if (denied := _guard(request, page=False)) is not None:
        return denied
    link, stem = _qr_request(request, _checked_code(code))
    svg = qr_code(link).svg_inline(scale=10, border=4, title=link)
    document = '<?xml version="1.0" encoding="utf-8"?>\n' + svg.replace(
        "<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1
    )
    return Response(
        document,
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="{stem}.svg"'},
    )


@router.get("/campaigns/{code}/qr.png")
async def qr_png_file(request: Request, code: str) -> Response:
    """Download a campaign's QR code as PNG."""
    if (denied := _guard(request, page=False)) is not None:
        return denied
    link, stem = _qr_request(request, _checked_code(code))
    buffer = io.BytesIO()
    qr_code(link).save(buffer, kind="png", scale=12, border=4)
    return Response(
        buffer.getvalue(),
        media_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="{stem}.png"'},
    )


@router.get("/campaigns/{code}/flyer")
async def flyer_page(request: Request, code: str) -> Response:
    """Show a printable flyer: the QR code, one line per chosen language, the helpline."""
    if (denied := _guard(request)) is not None:
        return denied
    code = _checked_code(code)
    known = _known()
    campaign = known.get(code)
    chosen = [lang for lang in request.query_params.getlist("lang") if lang in LANGUAGES]
    langs = list(dict.fromkeys(chosen)) or list(campaign.languages if campaign else LANGUAGES)
    size = request.query_params.get("size", "a6")
    size = size if size in SIZES else "a6"
    channels = _channels(request)
    channel = request.query_params.get("channel") or channels[0]
    channel = channel if channel in channels else channels[0]
    # One language: the link opens the bot in it. Several: the bot asks the person.
    link = _link(request, channel, code, langs[0] if len(langs) == 1 else None)
    translate = request.app.state.translator.gettext
    headlines = "".join(
        f'<p class="headline" lang="{lang}">{_e(translate(lang, FLYER_HEADLINE))}</p>'
        for lang in langs
    )

    def words(message: str, sep: str = " · ") -> str:
        return sep.join(
            f'<span lang="{lang}">{_e(translate(lang, message))}</span>' for lang in langs
        )

    national, abroad = flyer_numbers()
    directory = default_directory()
    checked_on = directory.checked_on([FLYER_LINE])
    checked = " · ".join(
        f'<span lang="{lang}">'
        f"{_e(translate(lang, FLYER_CHECKED).format(date=format_day(checked_on, lang)))}</span>"
        for lang in langs
    )
    spoken = directory.get(FLYER_LINE).languages
    speaks = " · ".join(
        f'<span lang="{lang}">'
        f"{_e(translate(lang, FLYER_LANGUAGES).format(languages=language_names(spoken, lang)))}"
        "</span>"
        for lang in langs
    )
    dead = unprintable(link)
    stamp = (
        f'<p class="stamp" role="alert">TEST PRINT – DO NOT HAND OUT: {_e(dead)}</p>'
        if dead
        else ""
    )
    sheet = (
        f'<article class="sheet {size} langs-{len(langs)}" aria-label="Flyer {size.upper()}">'
        f'{stamp}<div class="headlines">{headlines}</div>'
        f'<div class="qr-box">{qr_svg(link, title=link)}</div>'
        f'<p class="qr-link">{_e(link.removeprefix("https://"))}</p>'
        f'<div class="helpline"><p class="helpline-label">{words(FLYER_HELPLINE, "")}</p>'
        f'<p class="number"><strong>{_e(national)}</strong> <span class="where">'
        f"{words(FLYER_FREE_IN_LT)}</span></p>"
        f'<p class="number"><strong>{_e(abroad)}</strong> <span class="where">'
        f'{words(FLYER_FROM_ABROAD)}</span></p><p class="speaks">{speaks}</p></div>'
        f'<p class="checked">{checked}</p></article>'
    )
    boxes = "".join(
        f'<label><input type="checkbox" name="lang" value="{lang}"'
        f"{' checked' if lang in langs else ''}> {_e(LANGUAGE_NAMES[lang])}</label>"
        for lang in LANGUAGES
    )
    sizes = "".join(
        f'<label><input type="radio" name="size" value="{s}"{" checked" if s == size else ""}>'
        f" {s.upper()}</label>"
        for s in SIZES
    )
    channel_choice = "".join(
        f'<label><input type="radio" name="channel" value="{c}"'
        f"{' checked' if c == channel else ''}> {c.title()}</label>"
        for c in channels
    )
    note = (
        ""
        if campaign
        else f'<p class="warning">“{_e(code)}” is not in campaigns.yaml: counted as “{OTHER}”.</p>'
    )
    never_called = [e for e in directory.never_called() if e.id == FLYER_LINE]
    if dead:
        note += (
            f'<p class="warning danger" role="alert"><strong>This flyer would be dead on '
            f"paper:</strong> the QR code opens {_e(link)}, and {_e(dead)}. Set PUBLIC_BASE_URL "
            "to the bot's public https address (or pick the Telegram link) before printing.</p>"
        )
    if never_called:
        note += (
            '<p class="warning">Nobody has called these numbers yet (contacts.yaml: '
            f"<code>called: never</code>; read from their source on {checked_on.isoformat()}). "
            "Call them before you print many.</p>"
        )
    controls = (
        f'<div class="controls no-print"><h1>Flyer: {_e(code)}</h1>{note}'
        f'<form method="get" action="/admin/campaigns/{quote(code)}/flyer">'
        f"<fieldset><legend>Languages</legend>{boxes}</fieldset>"
        f"<fieldset><legend>Size</legend>{sizes}</fieldset>"
        f"<fieldset><legend>Link</legend>{channel_choice}</fieldset>"
        '<button type="submit">Update</button></form>'
        "<p>Print with your browser (Ctrl+P or ⌘P). The page size is set for you; choose "
        "“no margins” or “actual size” if your printer asks. Check the QR code with a phone "
        "before printing many.</p></div>"
    )
    return _page(f"Flyer {code}", controls + sheet, body_class=f"flyer-page {size}")


# Statistics ---------------------------------------------------------------------------


def _filters(request: Request) -> tuple[date | None, str | None, list[str]]:
    """Read `since` and `campaign` from the query; ignore (and report) bad values."""
    problems = []
    since = None
    raw_since = request.query_params.get("since", "").strip()
    if raw_since:
        try:
            since = date.fromisoformat(raw_since)
        except ValueError:
            problems.append("The start day must look like 2025-03-01; showing all time.")
    campaign = request.query_params.get("campaign", "").strip() or None
    if campaign is not None and not is_valid_code(campaign):
        problems.append("That is not a campaign code; showing all campaigns.")
        campaign = None
    return since, campaign, problems


async def _report(
    request: Request, since: date | None, campaign: str | None, known: dict[str, Campaign]
) -> Report:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "The database is not open yet.")
    return await load_report(service.store, since=since, campaign=campaign, known=set(known))


@router.get("/stats.json")
async def stats_json(request: Request) -> Response:
    """Return the published statistics as JSON (same as `python -m bot stats --format json`)."""
    if (denied := _guard(request, page=False)) is not None:
        return denied
    since, campaign, _ = _filters(request)
    return JSONResponse(report_json(await _report(request, since, campaign, _known())))


@router.get("/stats.csv")
async def stats_csv(request: Request) -> Response:
    """Return the published statistics as CSV (same as `python -m bot stats --format csv`)."""
    if (denied := _guard(request, page=False)) is not None:
        return denied
    since, campaign, _ = _filters(request)
    text = render_csv(await _report(request, since, campaign, _known()))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="safe-abroad-stats.csv"'},
    )


#: How statistics' bucket names read on the dashboard.
LABELS = {NONE: "(no campaign)", OTHER: "(other codes)", "unknown": "(unknown)"}


def _bars(table: Table) -> list[Bar]:
    return [Bar(LABELS.get(row.key, row.key), row) for row in table.rows]


def _chart(table: Table, title: str, **options: Any) -> str:
    """Draw a table's bars, or say why there are none; then its total."""
    chart = "" if table.withheld else bar_chart(_bars(table), title, **options)
    return chart + _withheld(table) + _total(table)


def _withheld(table: Table) -> str:
    if table.withheld:
        return f'<p class="note">{_e(WITHHELD_NOTE)}.</p>'
    return ""


def _total(table: Table) -> str:
    return f'<p class="total">Total: <strong>{_e(table.total_shown)}</strong></p>'


def _panel(title: str, content: str, *, wide: bool = False) -> str:
    return f'<section class="card{" wide" if wide else ""}"><h2>{_e(title)}</h2>{content}</section>'


def _tile(label: str, shown: str) -> str:
    return f'<div class="tile"><span class="big">{_e(shown)}</span><span>{_e(label)}</span></div>'


def _small_table(table: Table) -> str:
    rows = "".join(
        f'<tr><td>{_e(LABELS.get(row.key, row.key))}</td><td class="num">{_e(row.shown)}</td></tr>'
        for row in table.rows
    )
    total = (
        f'<tr class="sum"><td>total</td><td class="num">{_e(table.total_shown)}</td></tr>'
        if table.total_shown is not None
        else ""
    )
    return f'<table class="counts"><tbody>{rows}{total}</tbody></table>{_withheld(table)}'


def _filter_form(since: date | None, campaign: str | None, known: dict[str, Campaign]) -> str:
    today = datetime.now(UTC).date()
    options = [("", "All campaigns")] + [(c, c) for c in known]
    options += [(OTHER, "other (codes not listed)"), (NONE, "none (no campaign)")]
    if campaign and campaign not in {value for value, _ in options}:
        options.append((campaign, campaign))
    select = "".join(
        f'<option value="{_e(value)}"{" selected" if value == (campaign or "") else ""}>'
        f"{_e(label)}</option>"
        for value, label in options
    )
    keep = {"campaign": campaign} if campaign else {}
    quick = " · ".join(
        f'<a href="/admin/dashboard?{_e(urlencode({**keep, **start}))}">{label}</a>'
        for label, start in (
            ("last 7 days", {"since": (today - timedelta(days=6)).isoformat()}),
            ("last 30 days", {"since": (today - timedelta(days=29)).isoformat()}),
            ("last 90 days", {"since": (today - timedelta(days=89)).isoformat()}),
            ("all time", {}),
        )
    )
    return (
        '<form class="filters no-print" method="get" action="/admin/dashboard">'
        '<label for="since">From</label>'
        f'<input id="since" name="since" type="date" value="{since.isoformat() if since else ""}">'
        f'<label for="campaign">Campaign</label><select id="campaign" name="campaign">{select}'
        f'</select><button type="submit">Show</button><span class="quick">{quick}</span></form>'
    )


def _relay_panel(report: Report) -> list[str]:
    """ "Write to a counsellor" as published (bot.stats.relay_tables); none while unused."""
    chats, outside = report.table("relay_chats"), report.table("relay_outside_hours")
    if chats.total_shown == "0" and all(row.shown == "0" for row in outside.rows):
        return []
    title = "Counsellor chats requested, by time to first answer"
    return [_panel("Write to a counsellor", _chart(chats, title) + _small_table(outside))]


def _dashboard_body(report: Report, known: dict[str, Campaign], problems: list[str]) -> str:
    conversations = report.table("conversations_by_week")
    started, completed = report.table("flows_started"), report.table("flows_completed")
    danger = report.table("danger_categories")
    handoffs = report.table("handoffs_by_urgency")
    tiles = (
        '<div class="tiles">'
        + _tile("conversations", conversations.total_shown or "0")
        + _tile("checks finished", completed.total_shown or "0")
        + _tile("help contacts shown", handoffs.total_shown or "0")
        + _tile("danger signals", danger.total_shown or "0")
        + "</div>"
    )
    flows = [row.key for row in started.rows]
    flows += [row.key for row in completed.rows if row.key not in flows]
    funnel = funnel_chart(
        [(flow, started.get(flow), completed.get(flow)) for flow in flows],
        "Checks started and finished, by flow",
    )
    panels = [
        _panel(
            "Conversations per week",
            day_chart(conversations.rows, "Conversations per week", since=report.since, step=7)
            + _withheld(conversations)
            + _total(conversations),
            wide=True,
        ),
        _panel(
            "Checks: started and finished",
            funnel + _withheld(started) + _withheld(completed),
        ),
    ]
    for table in report.tables_starting("results_"):
        flow = table.name.removeprefix("results_")
        panels.append(_panel(f"Result levels: {flow}", _chart(table, f"Result levels of {flow}")))
    panels.append(
        _panel("Danger signals detected", _chart(danger, "Danger signals by category", colour=RED))
    )
    for name, title in (
        ("conversations_by_campaign", "Conversations by campaign"),
        ("conversations_by_language", "Conversations by language"),
    ):
        panels.append(_panel(title, _chart(report.table(name), title)))
    for name in ("conversations_by_channel", "handoffs_by_country", "handoffs_by_urgency"):
        table = report.table(name)
        panels.append(_panel(table.title, _small_table(table)))
    panels += _relay_panel(report)
    panels.append(_panel("Other use", _small_table(report.table("activity"))))
    scope = report.campaign or "all campaigns"
    period = f"since {report.since.isoformat()}" if report.since else "all time"
    query = urlencode(
        {
            k: v
            for k, v in (
                ("since", report.since.isoformat() if report.since else ""),
                ("campaign", report.campaign or ""),
            )
            if v
        }
    )
    downloads = (
        f'<p class="downloads no-print">Download: <a href="/admin/stats.csv?{_e(query)}">CSV</a>'
        f' · <a href="/admin/stats.json?{_e(query)}">JSON</a></p>'
    )
    notes = "".join(f'<p class="error">{_e(p)}</p>' for p in problems)
    return (
        f"<main><h1>Dashboard</h1>{_filter_form(report.since, report.campaign, known)}{notes}"
        f'<p class="scope">{_e(scope)}, {_e(period)}. <span class="legend">{_e(LEGEND)} '
        f"Hatched bars are hidden counts ({SMALL} or {MASKED}).</span></p>"
        f'{tiles}<div class="grid">{"".join(panels)}</div>{downloads}</main>'
    )


@router.get("")
@router.get("/dashboard")
async def dashboard(request: Request) -> Response:
    """Show the charts: conversations per day, the check funnel, results, danger signals."""
    if (denied := _guard(request)) is not None:
        return denied
    since, campaign, problems = _filters(request)
    known = _known(problems)
    report = await _report(request, since, campaign, known)
    return _page("Dashboard", _dashboard_body(report, known, problems))


#: Admin pages load our stylesheet and post forms to us; nothing else, and no script at all.
ADMIN_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class AdminHeaders:
    """Give admin pages their own CSP: the app's default for other paths forbids forms and CSS."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != "/admin" and not path.startswith("/admin/"):
            return await self.app(scope, receive, send)

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Content-Security-Policy"] = ADMIN_CSP
            await send(message)

        await self.app(scope, receive, send_with_policy)


def include(app: FastAPI) -> None:
    """Add the admin pages to the app; call it last, so their CSP wraps the app's headers."""
    app.include_router(router)
    app.add_middleware(AdminHeaders)
