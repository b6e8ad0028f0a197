"""The chat page and the widget in headless Chromium, against real uvicorn servers.

Screenshots of the chat in each language go to test-artifacts/ (look at them).
Skipped, with the reason, where Debian's chromium is not installed.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import ROOT
from tests.web_helpers import *  # noqa: F403
from tests.web_helpers import LANGS, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
NEUTRAL = "https://www.google.com/"
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"
    ),
]

DANGER = "they took my passport and locked me in"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def server(live_server: Any) -> LiveServer:
    """The app on a free loopback port; the widget's test host sites may frame it."""
    return live_server(frame_ancestors="http://localhost:*")


class Watched:
    """A page with its console problems (CSP violations, script errors) collected."""

    def __init__(self, page: Any):
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        # The neutral site is not on the loopback; answer for it, as the network is off.
        page.route(
            re.compile(r"^https://www\.google\.com/.*"),
            lambda route: route.fulfill(
                body="<title>Google</title>neutral", content_type="text/html"
            ),
        )

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"{message.type}: {message.text}")


@pytest.fixture
def page(browser: Any) -> Iterator[Watched]:
    """A fresh phone-sized page (its own context: nothing shared between tests)."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    watched = Watched(context.new_page())
    yield watched
    context.close()


def open_chat(page: Watched, server: LiveServer, query: str = "lang=en") -> Any:
    """Open /chat and wait for the bot's first message."""
    page.page.goto(f"{server.url}/chat?{query}")
    page.page.get_by_test_id("message").first.wait_for()
    return page.page


def stored_conversation(page: Any) -> dict[str, str]:
    """Return what the chat kept in sessionStorage."""
    return json.loads(page.evaluate("sessionStorage.getItem('safe-abroad')") or "null")


def conversation_status(server: LiveServer, saved: dict[str, str]) -> int:
    """Ask the server whether the conversation still exists (200) or not (401)."""
    response = httpx.get(
        f"{server.url}/api/v1/conversations/{saved['id']}",
        headers={"Authorization": f"Bearer {saved['token']}"},
    )
    return response.status_code


def click_choice(page: Any, label: str) -> None:
    """Click the choice button whose label contains `label`; wait for the answer."""
    count = page.get_by_test_id("message").count()
    page.get_by_test_id("choice").filter(has_text=label).first.click()
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=message]').length > n", arg=count
    )


def translated(server: LiveServer, lang: str, key: str) -> str:
    """Return one of the page's own words as the server translates it."""
    return server.app.state.page_strings[lang][key]


# ----------------------------------------------------------------------------- pages


@pytest.mark.parametrize("lang", LANGS)
def test_chat_page_speaks_each_language(page: Watched, server: LiveServer, lang: str) -> None:
    chat = open_chat(page, server, f"lang={lang}&c=poster1")

    assert chat.evaluate("document.documentElement.lang") == lang
    assert chat.get_by_test_id("language").input_value() == lang
    exit_button = chat.get_by_test_id("quick-exit")
    assert exit_button.inner_text() == translated(server, lang, "quick_exit")
    assert chat.get_by_test_id("erase").inner_text() == translated(server, lang, "erase")
    assert chat.get_by_test_id("chat-send").inner_text() == translated(server, lang, "send")
    assert chat.get_by_test_id("chat-input").get_attribute("placeholder") == translated(
        server, lang, "placeholder"
    )
    assert chat.get_by_test_id("choice").count() >= 5
    assert chat.get_by_test_id("chat-log").get_attribute("aria-live") == "polite"
    # Only sessionStorage: no cookie and nothing in localStorage.
    assert chat.context.cookies() == []
    assert chat.evaluate("localStorage.length") == 0
    assert stored_conversation(chat)["lang"] == lang
    ARTIFACTS.mkdir(exist_ok=True)
    chat.screenshot(path=str(ARTIFACTS / f"chat-{lang}.png"))
    assert page.problems == []


def test_language_picker_switches_page_and_conversation(page: Watched, server: LiveServer) -> None:
    chat = open_chat(page, server, "lang=en")
    english = chat.get_by_test_id("message").last.inner_text()

    count = chat.get_by_test_id("message").count()
    chat.get_by_test_id("language").select_option("uk")
    chat.wait_for_function(
        "n => document.querySelectorAll('[data-testid=message]').length > n", arg=count
    )

    assert chat.evaluate("document.documentElement.lang") == "uk"
    assert chat.get_by_test_id("message").last.inner_text() != english
    assert chat.get_by_test_id("chat-send").inner_text() == translated(server, "uk", "send")


def test_a_checklist_by_clicks_and_a_reload_keeps_the_place(
    page: Watched, server: LiveServer
) -> None:
    chat = open_chat(page, server, "lang=en")

    click_choice(chat, "job offer")
    for _ in range(40):
        if chat.locator(".kind-result").count():
            break
        click_choice(chat, chat.get_by_test_id("choice").first.inner_text())
    else:
        pytest.fail("the checklist never reached its result")
    result = chat.locator(".kind-result").last.inner_text()
    assert result
    click_choice(chat, "Main menu")
    question = chat.get_by_test_id("message").last.inner_text()

    chat.reload()
    chat.get_by_test_id("message").first.wait_for()

    assert chat.get_by_test_id("message").last.inner_text() == question
    assert page.problems == []


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_a_checklist_result_fits_one_phone_screen_and_show_all_opens_the_rest(
    page: Watched, server: LiveServer, lang: str
) -> None:
    """The short result of a long checklist (many red flags) fits the phone's screen."""
    chat = open_chat(page, server, f"lang={lang}")
    # the job-offer checklist; click_choice waits until its first question has replaced the menu
    click_choice(chat, chat.get_by_test_id("choice").first.inner_text())
    for _ in range(40):
        if chat.locator(".kind-result").count():
            break
        click_choice(chat, chat.get_by_test_id("choice").first.inner_text())  # mostly "Yes"
    else:
        pytest.fail("the checklist never reached its result")
    result = chat.locator(".kind-result").last
    height = result.evaluate("e => e.getBoundingClientRect().height")
    assert height <= PHONE["height"], f"the short result is {height:.0f} px tall"
    before = result.inner_text()
    click_choice(chat, "📋")  # Show all
    after = "\n".join(chat.get_by_test_id("message").all_inner_texts())
    assert len(after.split()) > len(before.split()) + 100  # every explanation, one tap away
    assert page.problems == []


def test_contact_cards_name_languages_in_the_readers_language(
    page: Watched, server: LiveServer
) -> None:
    chat = open_chat(page, server, "lang=lt")
    chat.get_by_test_id("choice").filter(has_text="Gauti pagalbos").first.wait_for()
    click_choice(chat, "Gauti pagalbos")
    chat.get_by_test_id("contact").first.wait_for()  # numbers at once, then the country
    click_choice(chat, "Pasirinkite šalį")
    chat.get_by_test_id("choice").filter(has_text="Vokietija").first.wait_for()
    click_choice(chat, "Vokietija")
    chat.get_by_test_id("contact").first.wait_for()

    cards = chat.get_by_test_id("contact").all_inner_texts()
    hilfetelefon = next(c for c in cards if "116 016" in c)
    assert "vokiečių, anglų, rusų, lenkų, ukrainiečių" in hilfetelefon
    assert not re.search(r"\b(DE|EN|RU|PL|UK|LT)\b", " ".join(cards))
    assert page.problems == []


def test_free_text_in_danger_shows_contact_cards_with_phone_links(
    page: Watched, server: LiveServer, web_engine: Any
) -> None:
    chat = open_chat(page, server, "lang=en")

    chat.get_by_test_id("chat-input").fill(DANGER)
    chat.get_by_test_id("chat-send").click()
    # zero taps: the answer to the message itself has cards with numbers to call
    chat.get_by_test_id("contact").first.wait_for()
    links = chat.locator("[data-testid=contact] a[href^='tel:']")
    assert links.count() >= 1
    assert re.fullmatch(r"tel:\+?\d+", links.first.get_attribute("href") or "")
    if web_engine.detector.detect(DANGER).urgent:
        assert "112" in chat.locator(".kind-handoff").first.inner_text()
        assert links.first.get_attribute("href") == "tel:112"
    # then the country makes the list exact
    before = chat.get_by_test_id("contact").count()
    click_choice(chat, "Choose your country")
    chat.get_by_test_id("choice").filter(has_text="Lithuania").first.wait_for()
    click_choice(chat, "Lithuania")
    chat.wait_for_function(
        "n => document.querySelectorAll('[data-testid=contact]').length > n", arg=before
    )
    assert "8 800 91119" in chat.get_by_test_id("chat-log").inner_text()
    # The help flow's own note says calls show in the call history (in every channel).
    assert "call history" in chat.get_by_test_id("chat-log").inner_text()
    assert DANGER in chat.locator(".user").first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    chat.screenshot(path=str(ARTIFACTS / "chat-handoff-en.png"), full_page=True)


# ----------------------------------------------------------------------------- leaving


def test_quick_exit_leaves_and_the_conversation_is_gone(page: Watched, server: LiveServer) -> None:
    chat = open_chat(page, server, "lang=lt")
    click_choice(chat, chat.get_by_test_id("choice").first.inner_text())
    saved = stored_conversation(chat)
    assert conversation_status(server, saved) == 200

    chat.get_by_test_id("quick-exit").click()
    chat.wait_for_url(NEUTRAL)

    _wait_until_gone(server, saved)
    chat.go_back()
    assert "/chat" not in chat.url  # Back does not return to the chat
    chat.goto(f"{server.url}/healthz")
    assert chat.evaluate("sessionStorage.length") == 0


def test_shift_three_times_is_a_quick_exit(page: Watched, server: LiveServer) -> None:
    chat = open_chat(page, server, "lang=ru")
    saved = stored_conversation(chat)

    chat.get_by_test_id("chat-log").focus()
    for _ in range(3):
        chat.keyboard.press("Shift")
    chat.wait_for_url(NEUTRAL)

    _wait_until_gone(server, saved)


def test_shift_in_normal_typing_does_not_leave(page: Watched, server: LiveServer) -> None:
    chat = open_chat(page, server, "lang=en")

    chat.get_by_test_id("chat-input").focus()
    chat.keyboard.type("I Am In Oslo")

    assert chat.url.startswith(server.url)


def _wait_until_gone(server: LiveServer, saved: dict[str, str]) -> None:
    import time

    for _ in range(100):
        if conversation_status(server, saved) == 401:
            return
        time.sleep(0.05)
    pytest.fail("the conversation is still on the server after quick exit")


def test_erase_removes_the_conversation_and_starts_over(page: Watched, server: LiveServer) -> None:
    chat = open_chat(page, server, "lang=uk")
    saved = stored_conversation(chat)

    chat.get_by_test_id("erase").click()
    chat.locator(".status").wait_for()

    assert conversation_status(server, saved) == 401
    assert chat.get_by_test_id("message").count() == 0
    assert chat.evaluate("sessionStorage.length") == 0
    assert translated(server, "uk", "erased") in chat.locator(".status").inner_text()
    chat.locator(".status button").click()
    chat.get_by_test_id("message").first.wait_for()
    fresh = stored_conversation(chat)
    assert fresh["id"] != saved["id"]
    assert page.problems == []


# ----------------------------------------------------------------------------- keyboard


def test_keyboard_only_use(page: Watched, server: LiveServer) -> None:
    chat = open_chat(page, server, "lang=en")

    chat.keyboard.press("Tab")
    assert chat.evaluate("document.activeElement.dataset.testid") == "quick-exit"
    outline = chat.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    for _ in range(10):
        chat.keyboard.press("Tab")
        if chat.evaluate("document.activeElement.dataset.testid") == "choice":
            break
    label = chat.evaluate("document.activeElement.textContent")
    assert "job offer" in label
    count = chat.get_by_test_id("message").count()
    chat.keyboard.press("Enter")
    chat.wait_for_function(
        "n => document.querySelectorAll('[data-testid=message]').length > n", arg=count
    )
    # Focus moves to the new answer's first choice, not back to the top of the page.
    assert chat.evaluate("document.activeElement.dataset.testid") == "choice"

    chat.get_by_test_id("chat-input").focus()
    chat.keyboard.type("hello")
    count = chat.get_by_test_id("message").count()
    chat.keyboard.press("Enter")
    chat.wait_for_function(
        "n => document.querySelectorAll('[data-testid=message]').length > n", arg=count
    )
    assert chat.evaluate("document.activeElement.dataset.testid") == "chat-input"
    assert chat.locator(".user").last.inner_text().endswith("hello")


def test_text_scales_with_the_browser_font_size(browser: Any, server: LiveServer) -> None:
    context = browser.new_context(viewport=PHONE)
    try:
        chat = context.new_page()
        chat.goto(f"{server.url}/chat?lang=en")
        chat.get_by_test_id("message").first.wait_for()
        normal = chat.evaluate("getComputedStyle(document.querySelector('.msg .text')).fontSize")
        chat.evaluate("document.documentElement.style.fontSize = '200%'")
        large = chat.evaluate("getComputedStyle(document.querySelector('.msg .text')).fontSize")
    finally:
        context.close()

    assert float(large.removesuffix("px")) == 2 * float(normal.removesuffix("px"))


# ----------------------------------------------------------------------------- injection


def test_bot_text_is_shown_as_text_never_as_html(page: Watched, server: LiveServer) -> None:
    evil = {
        "id": "x",
        "token": "y",
        "lang": "en",
        "messages": [
            {
                "kind": "handoff",
                "text": '<img src=x onerror="window.pwned=1"><b>bold</b>',
                "choices": [{"id": "a", "label": "<i>choice</i>"}],
                "contacts": [
                    {
                        "name": "<script>window.pwned=2</script>",
                        "country": "LT",
                        "phone": '+370 8 800 00000"><script>',
                        "url": "javascript:window.pwned=3",
                    }
                ],
            }
        ],
    }
    page.page.route(
        f"{server.url}/api/v1/conversations",
        lambda route: route.fulfill(status=201, json=evil),
    )
    chat = open_chat(page, server, "lang=en")

    assert chat.get_by_test_id("message").first.inner_text().startswith("<img src=x")
    assert chat.get_by_test_id("choice").first.inner_text() == "<i>choice</i>"
    assert chat.locator("[data-testid=chat-log] img, [data-testid=chat-log] script").count() == 0
    assert chat.locator("[data-testid=contact] a[href^='javascript']").count() == 0
    assert chat.locator("[data-testid=contact] a[href^='tel:']").get_attribute("href") == (
        "tel:+370880000000"
    )
    assert chat.evaluate("window.pwned") is None


# ----------------------------------------------------------------------------- widget


class HostSite:
    """A plain web site on another origin that embeds the widget with one tag."""

    def __init__(self, page_html: str):
        html = page_html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(html)))
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # "localhost" vs the chat's "127.0.0.1": another origin and another site.
        self.url = f"http://localhost:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


HOST_PAGE = """<!doctype html>
<html lang="{html_lang}"><head><meta charset="utf-8"><title>NGO</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  button {{ background: rgb(255, 0, 0) !important; font-size: 40px !important; }}
  * {{ font-family: serif; }}
  iframe {{ display: none; }}
</style></head>
<body><h1>Partner NGO</h1><button id="own">Donate</button>
<script src="{chat}/widget.js" {attrs} async></script>
</body></html>"""


@pytest.fixture
def host_site(server: LiveServer) -> Iterator[Any]:
    """Start host sites for the widget; close them afterwards."""
    sites: list[HostSite] = []

    def start(
        attrs: str = 'data-lang="lt" data-campaign="partner1"', html_lang: str = "en"
    ) -> HostSite:
        site = HostSite(HOST_PAGE.format(chat=server.url, attrs=attrs, html_lang=html_lang))
        sites.append(site)
        return site

    yield start
    for site in sites:
        site.close()


def test_widget_on_another_origin_opens_the_chat_and_leaves_the_host_alone(
    page: Watched, server: LiveServer, host_site: Any
) -> None:
    site = host_site()
    host = page.page
    host.add_init_script("window.__before = Object.getOwnPropertyNames(window)")
    host.goto(site.url)
    launcher = host.get_by_test_id("launcher")
    launcher.wait_for()

    assert launcher.inner_text().endswith(server.app.state.widget_strings["lt"]["open"])
    new_globals = host.evaluate(
        "Object.getOwnPropertyNames(window)"
        ".filter(k => !window.__before.includes(k) && k !== '__before')"
    )
    assert new_globals == []
    assert host.evaluate("getComputedStyle(document.getElementById('own')).fontSize") == "40px"
    launcher_font = launcher.evaluate("b => getComputedStyle(b).fontSize")
    assert launcher_font == "16px"  # the host's `button` rule does not reach into the widget
    family = launcher.evaluate("b => getComputedStyle(b).fontFamily")
    assert not family.startswith("serif")  # nor does its `*` rule, through inheritance

    with host.expect_response(
        lambda r: r.url == f"{server.url}/api/v1/conversations" and r.request.method == "POST"
    ) as created:
        launcher.click()
    # Browsers may deny storage to a third-party frame; the chat keeps its token in memory then.
    saved = created.value.json()
    frame_element = host.locator("safe-abroad-widget iframe")
    frame_element.wait_for()
    src = frame_element.get_attribute("src") or ""
    assert src.startswith(f"{server.url}/chat?") and "lang=lt" in src and "c=partner1" in src
    frame = host.frame_locator("safe-abroad-widget iframe")
    frame.get_by_test_id("message").first.wait_for()
    assert frame.locator("html").get_attribute("lang") == "lt"
    # zero taps in the widget too: a danger message is answered with numbers to call
    frame.get_by_test_id("chat-input").fill("mane uzrakino kambaryje, padekit")
    frame.get_by_test_id("chat-send").click()
    frame.get_by_test_id("contact").first.wait_for()
    tel = frame.locator("[data-testid=contact] a[href^='tel:']").first.get_attribute("href")
    assert tel == "tel:112"
    ARTIFACTS.mkdir(exist_ok=True)
    host.screenshot(path=str(ARTIFACTS / "widget-lt.png"))

    # A message from the host page itself is not the chat: the widget ignores it.
    host.evaluate("window.postMessage({source: 'safe-abroad', type: 'exit'}, '*')")
    host.wait_for_timeout(200)
    assert frame_element.count() == 1

    frame.get_by_test_id("quick-exit").click()
    frame_element.wait_for(state="detached")
    launcher.wait_for()
    assert host.url == site.url  # the widget closed; the host page stays unless told otherwise
    _wait_until_gone(server, saved)
    assert page.problems == []


def test_a_site_not_listed_cannot_frame_the_chat(
    page: Watched, live_server: Any, host_site: Any
) -> None:
    """M-3: by default only the bot's own site may frame /chat (FRAME_ANCESTORS='self')."""
    own = live_server()  # the default settings
    site = HostSite(HOST_PAGE.format(chat=own.url, attrs='data-lang="en"', html_lang="en"))
    try:
        host = page.page
        host.goto(site.url)
        host.get_by_test_id("launcher").click()
        host.locator("safe-abroad-widget iframe").wait_for()
        host.wait_for_timeout(1500)
        frame = host.frame_locator("safe-abroad-widget iframe")
        assert frame.get_by_test_id("message").count() == 0
    finally:
        site.close()


def test_an_old_chat_is_not_resumed_after_back_or_a_restored_tab(
    page: Watched, server: LiveServer
) -> None:
    """L-2: after 30 minutes the page starts afresh and erases the old conversation."""
    chat = open_chat(page, server, "lang=en")
    click_choice(chat, "job offer")
    old = stored_conversation(chat)
    assert conversation_status(server, old) == 200
    chat.evaluate(
        "() => { const s = JSON.parse(sessionStorage.getItem('safe-abroad'));"
        " s.savedAt = Date.now() - 31 * 60 * 1000;"
        " sessionStorage.setItem('safe-abroad', JSON.stringify(s)); }"
    )
    chat.reload()
    chat.get_by_test_id("message").first.wait_for()
    new = stored_conversation(chat)
    assert new["id"] != old["id"]
    _wait_until_gone(server, old)
    assert page.problems == []


def test_widget_follows_the_host_page_language(
    page: Watched, server: LiveServer, host_site: Any
) -> None:
    site = host_site(attrs="", html_lang="uk-UA")
    page.page.goto(site.url)
    launcher = page.page.get_by_test_id("launcher")
    launcher.wait_for()

    assert launcher.inner_text().endswith(server.app.state.widget_strings["uk"]["open"])
    launcher.click()
    frame = page.page.frame_locator("safe-abroad-widget iframe")
    frame.get_by_test_id("message").first.wait_for()
    assert frame.locator("html").get_attribute("lang") == "uk"
    page.page.keyboard.press("Escape")


def test_api_docs_render_from_our_own_origin(page: Watched, server: LiveServer) -> None:
    requested: list[str] = []
    page.page.on("request", lambda request: requested.append(request.url))

    page.page.goto(f"{server.url}/docs")
    page.page.get_by_text("/api/v1/conversations/{conversation_id}/messages").first.wait_for()

    assert all(url.startswith(server.url) for url in requested)
    assert [p for p in page.problems if "Content Security Policy" in p] == []


def test_privacy_page_reads_well_on_a_phone(page: Watched, server: LiveServer) -> None:
    page.page.goto(f"{server.url}/privacy?lang=lt")
    heading = page.page.locator("h1")

    assert heading.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=str(ARTIFACTS / "privacy-lt.png"))
    assert page.problems == []
