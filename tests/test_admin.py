"""Admin pages: off without ADMIN_TOKEN, 401 without the right one; campaigns, flyers, dashboard.

The browser tests render the dashboard and a flyer in headless Chromium (skipped, with the
reason, without /usr/bin/chromium) and save screenshots to test-artifacts/ to look at.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from bot import ROOT
from bot.i18n import Translator
from bot.service import Conversations
from bot.settings import Settings
from bot.stats import SMALL
from bot.store import InMemoryStore, open_store
from bot.web import admin
from bot.web.app import create_app
from tests.test_campaigns import decode_png
from tests.web_helpers import ClosesStore, LiveServer, settings_for

TOKEN = "correct-horse-battery-staple-4821"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
TODAY = datetime.now(UTC).date()
#: Statistics publish whole weeks up to last Sunday: the sample use happened by then.
LAST_SUNDAY = TODAY - timedelta(days=TODAY.weekday() + 1)

PAGES = [
    "/admin",
    "/admin/dashboard",
    "/admin/campaigns",
    "/admin/campaigns/posters/flyer",
    "/admin/login",
    "/admin/static/admin.css",
]
DATA = ["/admin/stats.json", "/admin/stats.csv", "/admin/campaigns/posters/qr.png"]
PROTECTED_PAGES = [p for p in PAGES if p not in ("/admin/login", "/admin/static/admin.css")]


def build_app(tmp_path: Path, store: Any, **overrides: Any) -> Any:
    """The real app with the admin pages, over `store`, with settings for this test."""
    overrides.setdefault("telegram_bot_username", "SafeAbroadBot")
    settings = settings_for(tmp_path, **overrides)
    engine = SimpleNamespace(translator=Translator.load(), flows={})
    return create_app(settings, service=Conversations(engine, store))  # type: ignore[arg-type]


async def fill(store: Any) -> None:
    """Count what a few days of use would count: one small cell in most tables."""
    add = store.count_event
    for days_ago, n in enumerate([12, 3, 9, 14, 7, 2, 11, 8, 6, 10]):
        day = LAST_SUNDAY - timedelta(days=days_ago)
        await add(
            "conversation_started", day=day, channel="web", lang="lt", campaign="posters", n=n
        )
    await add(
        "conversation_started",
        day=LAST_SUNDAY,
        channel="telegram",
        lang="uk",
        campaign="ua_centres",
        n=9,
    )
    await add(
        "conversation_started",
        day=LAST_SUNDAY,
        channel="telegram",
        lang="ru",
        campaign="Jonas",
        n=6,
    )
    await add("conversation_started", day=LAST_SUNDAY, channel="web", lang="en", campaign="", n=6)
    for value, n in (("job_offer", 40), ("romance", 17), ("risk", 25), ("scan", 3)):
        await add("flow_started", day=LAST_SUNDAY, value=value, n=n)
    for value, n in (("job_offer", 31), ("romance", 11), ("risk", 19)):
        await add("flow_completed", day=LAST_SUNDAY, value=value, n=n)
    for value, n in (("risk:low", 9), ("risk:medium", 6), ("risk:high", 4)):
        await add("result_level", day=LAST_SUNDAY, value=value, n=n)
    for value, n in (
        ("documents_taken", 9),
        ("threats", 7),
        ("wages_withheld", 12),
        ("violence", 1),
    ):
        await add("danger", day=LAST_SUNDAY, value=value, n=n)
    await add("handoff", day=LAST_SUNDAY, value="LT", n=14)
    await add("handoff", day=LAST_SUNDAY, value="LT:urgent", n=3)
    await add("handoff", day=LAST_SUNDAY, value="GB", n=5)
    await add("erase", day=LAST_SUNDAY, n=4)


@pytest.fixture
async def store() -> InMemoryStore:
    store = InMemoryStore()
    await fill(store)
    return store


@pytest.fixture
async def client(tmp_path: Path, store: InMemoryStore) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(tmp_path, store, admin_token=TOKEN)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver"
    ) as http:
        yield http


BEARER = {"Authorization": f"Bearer {TOKEN}"}


# Access --------------------------------------------------------------------------------


async def test_admin_does_not_exist_without_a_token(tmp_path: Path, store: InMemoryStore):
    app = build_app(tmp_path, store, admin_token=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        nothing = await http.get("/no-such-page")
        for path in PAGES + DATA:
            response = await http.get(path, headers=BEARER)
            assert response.status_code == 404, path
            assert response.json() == nothing.json()
        for path in ("/admin/login", "/admin/logout"):
            response = await http.post(path, data={"token": TOKEN})
            assert response.status_code in (404, 405), path


async def test_an_empty_token_also_keeps_admin_off(tmp_path: Path, store: InMemoryStore):
    app = build_app(tmp_path, store, admin_token="")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (
            await http.get("/admin/dashboard", headers={"Authorization": "Bearer "})
        ).status_code == 404


@pytest.mark.parametrize("path", PROTECTED_PAGES)
async def test_pages_without_a_token_answer_401_with_a_login_form(client, path):
    response = await client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert '<form method="post" action="/admin/login">' in response.text
    assert "Conversations" not in response.text


@pytest.mark.parametrize("path", DATA)
async def test_data_without_a_token_answers_401_json(client, path):
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("path", PROTECTED_PAGES + DATA)
@pytest.mark.parametrize(
    "header",
    [f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", "Bearer", f"Basic {TOKEN}", TOKEN, "Bearer  "],
)
async def test_a_wrong_token_answers_401(client, path, header):
    response = await client.get(path, headers={"Authorization": header})
    assert response.status_code == 401


@pytest.mark.parametrize("path", PROTECTED_PAGES + DATA)
async def test_the_right_bearer_token_opens_every_page(client, path):
    response = await client.get(path, headers=BEARER)
    assert response.status_code == 200, response.text


async def test_login_form_sets_a_short_strict_httponly_session(client):
    wrong = await client.post("/admin/login", data={"token": "guess", "next": "/admin/campaigns"})
    assert wrong.status_code == 401
    assert "not right" in wrong.text
    assert "set-cookie" not in wrong.headers

    response = await client.post("/admin/login", data={"token": TOKEN, "next": "/admin/campaigns"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/campaigns"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    assert "Secure" in cookie
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))
    assert 0 < max_age <= 3600
    assert "expires" not in cookie.lower() or max_age
    assert TOKEN not in cookie

    assert (await client.get("/admin/campaigns")).status_code == 200
    session = client.cookies.get("safe_abroad_admin")
    out = await client.post("/admin/logout")
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    client.cookies.clear()
    assert (await client.get("/admin/campaigns")).status_code == 401
    # L-3: a copy of the cookie taken before logout no longer opens anything either.
    stolen = {"Cookie": f"safe_abroad_admin={session}"}
    assert (await client.get("/admin/campaigns", headers=stolen)).status_code == 401


async def test_session_cookie_is_secure_unless_on_this_machine_over_http(tmp_path):
    """L-3: behind a proxy the app may not know the browser used HTTPS; Secure anyway."""
    app = build_app(tmp_path, InMemoryStore(), admin_token=TOKEN)
    for base, secure in (("http://chat.example.org", True), ("http://127.0.0.1:8000", False)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            response = await http.post("/admin/login", data={"token": TOKEN})
        assert response.status_code == 303
        assert ("Secure" in response.headers["set-cookie"]) is secure, base


async def test_guessing_the_admin_token_is_throttled(client):
    """M-6: ten wrong tokens a minute from one address, then 429, even for the right one."""
    statuses = [
        (await client.post("/admin/login", data={"token": f"guess-{n}"})).status_code
        for n in range(12)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    blocked = await client.post("/admin/login", data={"token": TOKEN})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    bearer = await client.get("/admin/stats.json", headers=BEARER)
    assert bearer.status_code == 429


def test_a_weak_admin_token_is_refused(tmp_path):
    """M-6: ADMIN_TOKEN=a (or any short token) does not switch admin on."""
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(data_dir=tmp_path, admin_token="a")


async def test_a_forged_expired_or_old_token_session_is_refused(client):
    token = TOKEN.encode()
    forged = admin.new_session(token)
    expires, nonce, signature = forged.split(".")
    later = f"{int(expires) + 3600}.{nonce}.{signature}"
    expired = admin.new_session(
        token, now=datetime.now(UTC).timestamp() - 2 * admin.SESSION_SECONDS
    )
    other = admin.new_session(b"the token before it was changed")
    for value in (
        later,
        expired,
        other,
        "garbage",
        forged[:-1] + ("0" if forged[-1] != "0" else "1"),
    ):
        client.cookies.set(admin.SESSION_COOKIE, value, path="/admin")
        assert (await client.get("/admin/dashboard")).status_code == 401, value
    client.cookies.set(admin.SESSION_COOKIE, forged, path="/admin")
    assert (await client.get("/admin/dashboard")).status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/admin", "/chat", "/admin\\@evil"]
)
async def test_login_only_returns_to_admin_pages(client, target):
    response = await client.post("/admin/login", data={"token": TOKEN, "next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"


async def test_admin_pages_run_no_script_and_allow_only_our_own_stylesheet(client):
    for path in PROTECTED_PAGES:
        response = await client.get(path, headers=BEARER)
        policy = response.headers["content-security-policy"]
        assert "script-src" not in policy and "default-src 'none'" in policy
        assert "style-src 'self'" in policy and "form-action 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "<script" not in response.text and " style=" not in response.text
        assert response.headers["cache-control"] == "no-store"


# Campaigns and flyers -----------------------------------------------------------------


async def test_campaigns_page_lists_links_qr_codes_and_flyers(client):
    page = (await client.get("/admin/campaigns", headers=BEARER)).text
    for code in ("posters", "job_fairs", "partner_sites", "ua_centres"):
        assert f"https://t.me/SafeAbroadBot?start={code}" in page
        assert f"/admin/campaigns/{code}/flyer?size=a6" in page
    assert "https://t.me/SafeAbroadBot?start=ua_centres__uk" in page
    assert html.escape("https://testserver/chat?c=posters&lang=lt") in page
    assert page.count('<svg viewBox="0 0') >= 4  # a QR code per campaign


async def test_a_code_not_in_the_list_gets_links_and_a_warning(client):
    page = (await client.get("/admin/campaigns?code=market_day", headers=BEARER)).text
    assert "https://t.me/SafeAbroadBot?start=market_day__lt" in page
    assert "count it as “other”" in page


@pytest.mark.parametrize(
    ("query", "link"),
    [
        ("lang=uk&channel=telegram", "https://t.me/SafeAbroadBot?start=posters__uk"),
        ("channel=web", "https://testserver/chat?c=posters"),
    ],
)
async def test_qr_download_scans_back_to_the_link(client, tmp_path: Path, query, link):
    response = await client.get(f"/admin/campaigns/posters/qr.png?{query}", headers=BEARER)
    assert response.headers["content-type"] == "image/png"
    image = tmp_path / "qr.png"
    image.write_bytes(response.content)
    assert decode_png(image) == [link]


@pytest.mark.parametrize("lang", ["lt", "ru", "uk", "en"])
async def test_a_flyer_in_one_language(client, lang):
    page = (await client.get(f"/admin/campaigns/posters/flyer?lang={lang}", headers=BEARER)).text
    translator = Translator.load()
    headline = translator.gettext(lang, admin.FLYER_HEADLINE)
    if lang != "en":
        assert headline != admin.FLYER_HEADLINE, f"the flyer line is not translated to {lang}"
    assert html.escape(headline) in page
    assert html.escape(translator.gettext(lang, admin.FLYER_HELPLINE)) in page
    assert "8 800 91119" in page and "+370 616 91119" in page
    assert f"t.me/SafeAbroadBot?start=posters__{lang}" in page


async def test_a_flyer_in_several_languages_lets_the_bot_ask(client):
    page = (await client.get("/admin/campaigns/ua_centres/flyer?size=a4", headers=BEARER)).text
    assert 'class="sheet a4 langs-2"' in page
    assert page.count('class="headline"') == 2  # the campaign's own languages: uk, ru
    assert "t.me/SafeAbroadBot?start=ua_centres<" in page


async def test_every_flyer_language_says_when_its_numbers_were_checked(client):
    query = "lang=lt&lang=ru&lang=uk&lang=en"
    page = (await client.get(f"/admin/campaigns/posters/flyer?{query}", headers=BEARER)).text
    page = page.replace("\u202f", " ").replace("\xa0", " ")  # Babel's non-breaking spaces
    for words in (
        "Numeriai patikrinti 2026 m. gruodžio 3 d.",
        "Номера проверены 3 декабря 2026 г.",
        "Номери перевірено 3 грудня 2026 р.",
        "Numbers checked on 3 December 2026",
    ):
        assert words in page
    # The line does not speak Ukrainian: each language says which it speaks, in its own words.
    for words in (
        "Kalbos: lietuvių, anglų, rusų",
        "Языки: литовский, английский, русский",
        "Мови: литовська, англійська, російська",
        "Languages: Lithuanian, English, Russian",
    ):
        assert words in page
    # The page (not the sheet) says plainly that nobody has called them.
    assert "Nobody has called these numbers yet" in page


async def test_a_telegram_flyer_is_printable_but_a_web_flyer_for_a_local_address_is_not(client):
    telegram = (await client.get("/admin/campaigns/posters/flyer", headers=BEARER)).text
    assert "TEST PRINT" not in telegram and "dead on paper" not in telegram
    web = (
        await client.get("/admin/campaigns/posters/flyer?channel=web", headers=BEARER)
    ).text  # the test client's address is http://testserver
    assert "This flyer would be dead on paper" in web
    assert 'class="stamp"' in web and "TEST PRINT – DO NOT HAND OUT" in web
    campaigns = (await client.get("/admin/campaigns", headers=BEARER)).text
    assert "Do not print these web links or QR codes" in campaigns


async def test_a_web_flyer_for_the_public_https_address_has_no_warning(tmp_path, store):
    app = build_app(tmp_path, store, admin_token=TOKEN, public_base_url="https://safe.example.org")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        page = (await http.get("/admin/campaigns/posters/flyer?channel=web", headers=BEARER)).text
        campaigns = (await http.get("/admin/campaigns", headers=BEARER)).text
    assert "https://safe.example.org/chat?c=posters" in page
    assert "TEST PRINT" not in page and "dead on paper" not in page
    assert "Do not print" not in campaigns


# Statistics ----------------------------------------------------------------------------


async def test_dashboard_shows_charts_and_hides_small_counts(client):
    page = (await client.get("/admin/dashboard", headers=BEARER)).text
    assert page.count('<svg class="chart"') >= 6
    for title in (
        "Conversations per week",
        "Checks: started and finished",
        "Result levels: risk",
        "Danger signals detected",
        "Conversations by campaign",
        "Conversations by language",
    ):
        assert title in page
    assert html.escape(SMALL) in page
    assert ">Jonas<" not in page and "(other codes)" in page
    # Numbers drawn in the charts: never 1 to 4.
    for number in re.findall(r"<text[^>]*>(\d+)(?: started| finished)?</text>", page):
        assert int(number) == 0 or int(number) >= 5, number


async def test_stats_json_matches_the_cli_format_and_filters(client):
    data = (await client.get("/admin/stats.json?campaign=posters", headers=BEARER)).json()
    assert data["campaign"] == "posters" and data["threshold"] == 5
    tables = {t["name"]: t for t in data["tables"]}
    assert tables["conversations_by_campaign"]["rows"] == [{"key": "posters", "count": 82}]
    csv_text = (await client.get("/admin/stats.csv", headers=BEARER)).text
    assert csv_text.startswith("table,key,count\n")
    assert "conversations_by_campaign,Jonas" not in csv_text


# In Chromium --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module, or skip with the reason."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def live_admin(tmp_path: Path) -> Iterator[LiveServer]:
    """The app with admin pages over a filled SQLite file, served by uvicorn."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'admin.db'}"

    async def prepare() -> None:
        store = await open_store(url)
        try:
            await fill(store)
        finally:
            await store.close()

    # Playwright's sync API keeps an event loop running in this thread: fill from another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, prepare()).result()
    from bot.store import SqlAlchemyStore

    store = SqlAlchemyStore(url)
    app = build_app(tmp_path, store, admin_token=TOKEN, database_url=url)
    # the store's threads must be closed in the server's own loop, before it ends
    with LiveServer(ClosesStore(app, store)) as server:
        yield server


def watch(page: Any) -> list[str]:
    """Collect CSP violations, script errors and failed loads (bar the login page's 401)."""
    problems: list[str] = []

    def console(message: Any) -> None:
        url = (message.location or {}).get("url", "")
        if message.type not in ("error", "warning") or url.endswith("/favicon.ico"):
            return
        if "status of 401" in message.text and "/admin/login" not in url:
            return  # the login form itself is served with 401 until the token is given
        problems.append(f"{message.text} ({url})")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


@pytest.mark.browser
def test_dashboard_in_chromium(browser, live_admin):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = watch(page)
    page.goto(f"{live_admin.url}/admin/dashboard")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/dashboard")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("svg.chart").count() >= 6
    # Our stylesheet applied (the CSP lets it in): cards sit on the grey page.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(243, 244, 246)"
    assert page.locator(".tile .big").first.inner_text() == "103"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)
    page.select_option("#campaign", "posters")
    page.click("form.filters button")
    page.wait_for_url("**campaign=posters**")
    assert page.locator(".tile .big").first.inner_text() == "82"
    assert problems == []
    page.close()


@pytest.mark.browser
def test_flyer_prints_on_a6_and_its_qr_code_scans(browser, live_admin, tmp_path: Path):
    context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {TOKEN}"})
    page = context.new_page()
    problems = watch(page)
    page.goto(
        f"{live_admin.url}/admin/campaigns/posters/flyer?size=a6&lang=lt&lang=ru&lang=uk&lang=en"
    )
    sheet = page.locator("article.sheet")
    box = sheet.bounding_box()
    assert abs(box["width"] / box["height"] - 105 / 148) < 0.01  # drawn at A6 proportions
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "admin-flyer-a6.png"
    sheet.screenshot(path=str(shot))
    assert decode_png(shot) == ["https://t.me/SafeAbroadBot?start=posters"]
    pdf = page.pdf(prefer_css_page_size=True)
    width, height = map(float, re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (105, 148)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1  # one sheet, one page
    page.goto(f"{live_admin.url}/admin/campaigns/posters/flyer?size=a4&lang=uk")
    pdf = page.pdf(prefer_css_page_size=True)
    width, height = map(float, re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)
    page.locator("article.sheet").screenshot(path=str(ARTIFACTS / "admin-flyer-a4-uk.png"))
    assert problems == []
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "shot"),
    [
        ("/admin/dashboard", "admin-phone-dashboard.png"),
        ("/admin/campaigns", "admin-phone-campaigns.png"),
        (
            "/admin/campaigns/posters/flyer?size=a6&lang=lt&lang=ru&lang=uk&lang=en",
            "admin-phone-flyer-a6.png",
        ),
        ("/admin/campaigns/posters/flyer?size=a4&lang=uk", "admin-phone-flyer-a4.png"),
        ("/admin/login", "admin-phone-login.png"),
    ],
)
def test_admin_pages_fit_a_phone(browser, live_admin, path, shot):
    # An outreach worker at a fair has only a phone: 390×844 CSS pixels, no sideways scrolling.
    page = browser.new_page(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        extra_http_headers={"Authorization": f"Bearer {TOKEN}"},
    )
    problems = watch(page)
    page.goto(f"{live_admin.url}{path}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} is {width}px wide on a 390px phone"
    for selector in ("button", "a"):
        for box in page.eval_on_selector_all(
            selector, "els => els.map(e => e.getBoundingClientRect().right)"
        ):
            assert box <= 391, f"{path}: a {selector} sticks out to {box}px"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    assert problems == [] or path == "/admin/login"
    page.close()
