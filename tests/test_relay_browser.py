"""Write to a counsellor in headless Chromium: answers appear live, without a reload.

A real `serve` (relay on, Telegram by webhook to the loopback Bot API stand-in, whose chat
-100777 is the counsellors' forum group) serves the chat page and the widget. The person
agrees to the relay in the page; a counsellor posts in the topic (an update to the webhook,
as Telegram sends it); the answer shows in the open page, which was never reloaded.
Skipped, with the reason, where Debian's chromium is not installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.relay import PERSON_LEFT
from bot.relay_dialog import AGREE, WRITE
from bot.telegram_bot import SECRET_HEADER
from tests.privacy_helpers import Serve, subprocess_env, wait_until
from tests.telegram_builders import TgUser, topic_message
from tests.telegram_standin import TOKEN, BotApiStandIn, serve
from tests.test_browser import CHROMIUM, HOST_PAGE, PHONE, HostSite

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"
    ),
]

DESK_CHAT = -100777
PSEUDONYM_SECRET = "relay-browser-test-pseudonyms-0123456789abcdef-padding"
WEBHOOK_SECRET = "relay-browser-webhook-secret-0123456789abcdef-padding"
COUNSELLOR = TgUser(9201, first_name="Rasa")
DANGER = "they took my passport and locked me in"


@pytest.fixture
async def relay_server(tmp_path: Path) -> AsyncIterator[tuple[BotApiStandIn, Serve]]:
    standin = BotApiStandIn()
    standin.forums.add(DESK_CHAT)
    async with serve(standin.app) as api_url:
        server = Serve(
            subprocess_env(
                DATA_DIR=str(tmp_path / "data"),
                PSEUDONYM_SECRET=PSEUDONYM_SECRET,
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_BASE_URL=f"{api_url}/bot",
                PUBLIC_BASE_URL="https://bot.example.org",
                TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
                COUNSELLOR_CHAT_ID=str(DESK_CHAT),
                COUNSELLOR_ORGANISATION="Caritas Test",
                COUNSELLOR_HOURS="always",
                COUNSELLOR_TIMEZONE="Europe/Vilnius",
                COUNSELLOR_LANGUAGES="en,lt",
                # The widget's host site is on "localhost", the chat on 127.0.0.1.
                FRAME_ANCESTORS="http://localhost:*",
                LOG_LEVEL="WARNING",
            ),
            cwd=tmp_path,
        )
        try:
            server.start()
            await server.ready()
            yield standin, server
        finally:
            server.kill_quietly()


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    async_api = pytest.importorskip("playwright.async_api")
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Any) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on(
        "console",
        lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None,
    )
    return context, page, problems


async def click_choice(chat: Any, label: str) -> None:
    """Click the choice whose label contains `label` and wait for the answer."""
    before = await chat.get_by_test_id("message").count()
    await chat.get_by_test_id("choice").filter(has_text=label).first.click()
    await chat.locator(f"[data-testid=message] >> nth={before}").wait_for()


async def agree_to_relay(chat: Any, standin: BotApiStandIn) -> int:
    """Type danger text, take "Write to a counsellor", agree; return the new topic."""
    before = set(standin.topics)
    await chat.get_by_test_id("chat-input").fill(DANGER)
    await chat.get_by_test_id("chat-send").click()
    await chat.get_by_test_id("contact").first.wait_for()  # the numbers come first
    await click_choice(chat, WRITE)
    await click_choice(chat, AGREE)
    await chat.get_by_test_id("choice").filter(has_text="End chat").first.wait_for()
    await wait_until(lambda: len(set(standin.topics) - before) == 1)
    ((desk, thread),) = set(standin.topics) - before
    assert desk == DESK_CHAT
    return thread


async def counsellor_says(server: Serve, standin: BotApiStandIn, thread: int, text: str) -> None:
    update = {
        "update_id": standin.new_update_id(),
        **topic_message(COUNSELLOR, DESK_CHAT, thread, text),
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
        response = await http.post(
            "/telegram/webhook", json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
        )
    assert response.status_code == 200, response.text


async def shows_live(
    chat: Any, page: Any, server: Serve, standin: BotApiStandIn, thread: int
) -> None:
    """Two answers appear in order in the open page, which is never reloaded."""
    await page.evaluate("window.__notReloaded = true")
    await chat.get_by_test_id("chat-input").fill("is anyone there?")
    await chat.get_by_test_id("chat-send").click()
    await wait_until(lambda: "is anyone there?" in _topic(standin, thread))
    for text in ("I am here, you are safe to write.", "Where are you now?"):
        await counsellor_says(server, standin, thread, text)
        await chat.get_by_test_id("message").filter(has_text=text).first.wait_for(timeout=10_000)
    shown = await chat.get_by_test_id("message").all_inner_texts()
    answers = [m for m in shown if "Counsellor" in m]
    assert len(answers) == 2, shown
    assert "I am here" in answers[0] and "Where are you now?" in answers[1]
    assert await page.evaluate("window.__notReloaded === true")


def _topic(standin: BotApiStandIn, thread: int) -> list[str]:
    return [
        p["text"] for p in standin.sent(DESK_CHAT) if int(p.get("message_thread_id") or 0) == thread
    ]


async def test_the_chat_page_shows_a_counsellors_answer_live(
    relay_server: tuple[BotApiStandIn, Serve], chromium: Any
) -> None:
    standin, server = relay_server
    context, page, problems = await new_page(chromium)
    try:
        await page.goto(f"{server.url}/chat?lang=en")
        await page.get_by_test_id("message").first.wait_for()
        thread = await agree_to_relay(page, standin)
        await shows_live(page, page, server, standin, thread)
        assert problems == []
    finally:
        await context.close()


async def test_the_widget_shows_a_counsellors_answer_live(
    relay_server: tuple[BotApiStandIn, Serve], chromium: Any
) -> None:
    standin, server = relay_server
    site = HostSite(HOST_PAGE.format(chat=server.url, attrs='data-lang="en"', html_lang="en"))
    context, page, problems = await new_page(chromium)
    try:
        await page.goto(site.url)
        await page.get_by_test_id("launcher").click()
        await page.locator("safe-abroad-widget iframe").wait_for()
        frame = page.frame_locator("safe-abroad-widget iframe")
        await frame.get_by_test_id("message").first.wait_for()
        thread = await agree_to_relay(frame, standin)
        handle = await page.locator("safe-abroad-widget iframe").element_handle()
        inner = await handle.content_frame()  # the chat's own window, to see any reload
        await shows_live(frame, inner, server, standin, thread)
        assert problems == []
    finally:
        await context.close()
        await asyncio.to_thread(site.close)


async def end_chat_is_shown(chat: Any) -> bool:
    return await chat.get_by_test_id("choice").filter(has_text="End chat").count() == 1


async def test_end_chat_stays_while_connected_and_the_counsellor_sees_the_person_leave(
    relay_server: tuple[BotApiStandIn, Serve], chromium: Any
) -> None:
    """Neither the person's own messages nor an answer take the "End chat" button away."""
    standin, server = relay_server
    context, page, problems = await new_page(chromium)
    try:
        await page.goto(f"{server.url}/chat?lang=en")
        await page.get_by_test_id("message").first.wait_for()
        thread = await agree_to_relay(page, standin)
        await page.get_by_test_id("chat-input").fill("is anyone there?")
        await page.get_by_test_id("chat-send").click()
        await wait_until(lambda: "is anyone there?" in _topic(standin, thread))
        assert await end_chat_is_shown(page)
        await counsellor_says(server, standin, thread, "I am here.")
        await page.get_by_test_id("message").filter(has_text="I am here.").wait_for()
        assert await end_chat_is_shown(page)

        await page.get_by_test_id("choice").filter(has_text="End chat").click()
        await page.get_by_test_id("message").filter(has_text="Chat ended").wait_for()
        await wait_until(lambda: PERSON_LEFT in _topic(standin, thread))
        assert not await end_chat_is_shown(page)
        assert problems == []
    finally:
        await context.close()


async def test_a_second_chat_in_the_same_page_shows_answers_live(
    relay_server: tuple[BotApiStandIn, Serve], chromium: Any
) -> None:
    """End the first chat, start another: the new counsellor's first answer still shows."""
    standin, server = relay_server
    context, page, problems = await new_page(chromium)
    try:
        await page.goto(f"{server.url}/chat?lang=en")
        await page.get_by_test_id("message").first.wait_for()
        first = await agree_to_relay(page, standin)
        for text in ("First answer one.", "First answer two."):
            await counsellor_says(server, standin, first, text)
            await page.get_by_test_id("message").filter(has_text=text).wait_for()
        await click_choice(page, "End chat")

        second = await agree_to_relay(page, standin)
        assert second != first
        await page.evaluate("window.__notReloaded = true")
        await counsellor_says(server, standin, second, "Second chat, first answer.")
        answer = page.get_by_test_id("message").filter(has_text="Second chat, first answer.")
        await answer.wait_for(timeout=10_000)
        assert await page.evaluate("window.__notReloaded === true")
        assert problems == []
    finally:
        await context.close()


async def test_quick_exit_ends_an_open_chat_and_the_counsellor_is_told(
    relay_server: tuple[BotApiStandIn, Serve], chromium: Any
) -> None:
    standin, server = relay_server
    context, page, _problems = await new_page(chromium)
    # The neutral site is not on the loopback; answer for it, as the network is off.
    await context.route(
        "https://www.google.com/**",
        lambda route: route.fulfill(body="<title>Google</title>neutral", content_type="text/html"),
    )
    try:
        await page.goto(f"{server.url}/chat?lang=en")
        await page.get_by_test_id("message").first.wait_for()
        thread = await agree_to_relay(page, standin)
        await page.get_by_test_id("quick-exit").click()
        await page.wait_for_url("https://www.google.com/")
        await wait_until(lambda: PERSON_LEFT in _topic(standin, thread))
        await wait_until(lambda: standin.topics[(DESK_CHAT, thread)]["closed"])
    finally:
        await context.close()
