"""Pages, assets, the app's lifespan and the `serve` command (no browser needed)."""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.responses import JSONResponse

from bot import LANGUAGES
from bot.web.app import create_app
from bot.web.pages import STATIC
from tests.web_helpers import *  # noqa: F403
from tests.web_helpers import LANGS, Web, settings_for

TESTIDS = ("chat-log", "chat-input", "chat-send", "quick-exit", "erase", "language")


def page_strings(page: str) -> dict[str, dict[str, str]]:
    """Return the words the page hands to its script."""
    found = re.search(r'data-strings="([^"]*)"', page)
    assert found
    return json.loads(html.unescape(found.group(1)))


async def test_chat_page_has_every_part_and_no_inline_script(api: Web) -> None:
    response = await api.http.get("/chat?lang=lt&c=poster-1")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for testid in TESTIDS:
        assert f'data-testid="{testid}"' in page
    assert '<html lang="lt">' in page
    assert 'data-campaign="poster-1"' in page
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all('src="/static/' in tag for tag in scripts)
    assert not re.search(r"<script[^>]*>\s*[^<\s]", page)  # nothing between script tags
    assert "http://" not in page and "https://" not in page  # no third-party anything
    assert not re.search(r"\s(style|on[a-z]+)=", page)  # no inline styles or handlers (CSP)


@pytest.mark.parametrize("lang", LANGS)
async def test_chat_page_words_are_translated_for_each_language(
    api: Web, web_engine: Any, lang: str
) -> None:
    page = (await api.http.get(f"/chat?lang={lang}")).text
    strings = page_strings(page)

    assert set(strings) == set(LANGUAGES)
    expected = web_engine.translator.gettext(lang, "Quick exit")
    assert strings[lang]["quick_exit"] == expected
    assert f">{html.escape(expected)}</button>" in page  # rendered before any script runs
    if lang != "en":
        assert strings[lang]["send"] != strings["en"]["send"]


async def test_without_lang_the_page_follows_accept_language(api: Web) -> None:
    page = (await api.http.get("/chat?lang=xx", headers={"Accept-Language": "ru,en;q=0.5"})).text

    assert '<html lang="ru">' in page
    assert 'data-explicit-lang=""' in page  # the conversation will still ask


async def test_a_bad_campaign_code_is_dropped(api: Web) -> None:
    page = (await api.http.get('/chat?c="><script>alert(1)</script>')).text

    assert 'data-campaign=""' in page
    assert "alert(1)" not in page


async def test_chat_may_be_framed_only_by_the_configured_sites(
    web_service: Any, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, frame_ancestors="https://ngo.example https://x.example")
    app = create_app(settings, service=web_service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        chat = await http.get("/chat")
        api_response = await http.get("/healthz")

    policy = chat.headers["Content-Security-Policy"]
    # Exactly the list (as README and docs/web.md say): it replaces the default 'self'.
    assert policy.endswith("frame-ancestors https://ngo.example https://x.example")
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in api_response.headers["Content-Security-Policy"]


async def test_frame_ancestors_setting_cannot_inject_a_directive(
    web_service: Any, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, frame_ancestors="https://a.example; script-src *")
    app = create_app(settings, service=web_service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        policy = (await http.get("/chat")).headers["Content-Security-Policy"]

    assert policy.count(";") == 7 and "*" not in policy
    assert policy.endswith("frame-ancestors https://a.example")


async def test_chat_may_be_framed_only_by_its_own_site_by_default(api: Web) -> None:
    """M-3: an unknown site cannot frame the chat (and cover the hotline card) by default."""
    policy = (await api.http.get("/chat")).headers["Content-Security-Policy"]

    assert policy.endswith("frame-ancestors 'self'")
    assert "*" not in policy


async def test_the_site_itself_stays_only_when_listed(web_service: Any, tmp_path: Path) -> None:
    """M-3 as documented: a FRAME_ANCESTORS list replaces 'self'; list it to keep it."""
    settings = settings_for(tmp_path, frame_ancestors="'self' https://ngo.example")
    app = create_app(settings, service=web_service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        policy = (await http.get("/chat")).headers["Content-Security-Policy"]

    assert policy.endswith("frame-ancestors 'self' https://ngo.example")


async def test_widget_script_carries_its_words_and_may_load_anywhere(api: Web) -> None:
    response = await api.http.get("/widget.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "/*STRINGS*/" not in response.text
    words = json.loads(re.search(r"const STRINGS = (\{.*?\});\n", response.text).group(1))
    assert set(words) == set(LANGUAGES)
    assert words["uk"]["open"] != words["en"]["open"]


@pytest.mark.parametrize("lang", LANGS)
async def test_privacy_page_in_each_language(api: Web, web_engine: Any, lang: str) -> None:
    response = await api.http.get(f"/privacy?lang={lang}")

    assert response.status_code == 200
    page = response.text
    about = web_engine.flows["about"]
    title = web_engine.translator.gettext(lang, about.title)
    assert f"<h1>{html.escape(title)}</h1>" in page
    first = next(s for s in about.steps.values() if s.text)
    assert html.escape(web_engine.translator.gettext(lang, first.text)) in page
    others = [code for code in LANGUAGES if code != lang]
    assert all(f'href="/privacy?lang={code}"' in page for code in others)
    assert "<script" not in page


@pytest.mark.parametrize("name", ["chat.js", "widget.js"])
def test_scripts_never_parse_text_as_html(name: str) -> None:
    source = (STATIC / name).read_text(encoding="utf-8")

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source


def test_chat_uses_session_storage_only() -> None:
    source = (STATIC / "chat.js").read_text(encoding="utf-8")

    assert "sessionStorage" in source
    assert "localStorage" not in source and "document.cookie" not in source


async def test_static_assets_are_served_with_their_types(api: Web) -> None:
    script = await api.http.get("/static/chat.js")
    style = await api.http.get("/static/chat.css")

    assert script.status_code == style.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.headers["content-type"].startswith("text/css")
    assert script.headers["Cache-Control"] == "no-store"


async def test_healthz_answers_while_the_process_is_up(api: Web) -> None:
    response = await api.http.get("/healthz")

    assert response.status_code == 200 and response.json() == {"status": "ok"}


# ----------------------------------------------------------------------------- lifespan


def test_served_by_uvicorn_with_the_app_own_lifespan(live_server: Any) -> None:
    server = live_server(full=True)

    with httpx.Client(base_url=server.url, timeout=10) as http:
        created = http.post("/api/v1/conversations", json={"lang": "uk"})
        conversation = created.json()
        auth = {"Authorization": f"Bearer {conversation['token']}"}
        answer = http.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"choice": "menu"},
            headers=auth,
        )
        ready = http.get("/readyz")
        telegram = http.post("/telegram/webhook", json={})
        erased = http.delete(f"/api/v1/conversations/{conversation['id']}", headers=auth)

    assert created.status_code == 201 and conversation["lang"] == "uk"
    assert answer.status_code == 200 and answer.json()["lang"] == "uk"
    assert ready.status_code == 200
    assert telegram.status_code == 404
    assert erased.status_code == 204
    database = server.settings.data_dir / "safe_abroad.db"
    assert database.exists()
    assert conversation["token"].encode() not in database.read_bytes()


class FakeTelegram:
    """Stands in for bot.telegram_bot.TelegramChannel; records what the app did with it."""

    instances: ClassVar[list[FakeTelegram]] = []

    def __init__(self, settings: Any, service: Any):
        self.settings, self.service = settings, service
        self.started = self.stopped = False
        self.updates: list[Any] = []
        FakeTelegram.instances.append(self)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def handle_webhook(self, request: Any) -> Any:
        self.updates.append(await request.json())
        return JSONResponse({"ok": True})


async def test_telegram_runs_inside_the_app_when_a_token_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_module = types.ModuleType("bot.telegram_bot")
    fake_module.TelegramChannel = FakeTelegram  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.telegram_bot", fake_module)
    FakeTelegram.instances.clear()
    app = create_app(settings_for(tmp_path, telegram_bot_token="123:abc"))

    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        channel = FakeTelegram.instances[0]
        assert channel.started and channel.service is app.state.service
        response = await http.post("/telegram/webhook", json={"update_id": 7})

    assert response.status_code == 200 and channel.updates == [{"update_id": 7}]
    assert channel.stopped


# ----------------------------------------------------------------------------- serve


def test_serve_runs_uvicorn_on_the_configured_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from bot.serve import serve_arguments, serve_command

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    monkeypatch.setenv("PORT", "8123")
    parser = argparse.ArgumentParser()
    serve_arguments(parser)

    assert serve_command(parser.parse_args([])) == 0

    app, options = calls[0]
    assert options["port"] == 8123 and options["host"] == "127.0.0.1"
    assert options["access_log"] is False  # its lines would hold addresses and ids
    assert app.title == "Safe Abroad web API"


def test_serve_refuses_several_workers_with_telegram_polling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    from bot.serve import serve_arguments, serve_command

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("must not start"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    parser = argparse.ArgumentParser()
    serve_arguments(parser)

    assert serve_command(parser.parse_args(["--workers", "2"])) == 2
