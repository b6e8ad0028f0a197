"""Property tests over the web app: whatever arrives, the answer is never a 500.

Hypothesis sends random JSON bodies, raw bytes (invalid UTF-8 among them), oversized and
chunked bodies, random headers, random ids and paths, random query strings, and random
sequences of a real conversation's actions, to the real app in-process (httpx's ASGI
transport, the real engine, an in-memory store, rate limits off so every example reaches
the handlers). Every error must come in the one documented JSON shape.
"""

from __future__ import annotations

import asyncio
import json
import string
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.service import Conversations
from bot.settings import Settings
from bot.store import InMemoryStore
from bot.web.app import create_app
from bot.web.limits import Rate, TokenBuckets

pytestmark = pytest.mark.timeout(240)

API = "/api/v1/conversations"
ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef-padding"
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ---------------------------------------------------------------------------- the app


@pytest.fixture(scope="module")
def app(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real app over an in-memory store, with admin on and rate limits off."""
    settings_ = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz") / "data",
        pseudonym_secret="fuzz-pseudonyms-0123456789abcdef-padding",
        admin_token=ADMIN_TOKEN,
    )
    built = create_app(settings_, service=Conversations(engine, InMemoryStore()))
    unlimited = Rate(per_minute=0, burst=0)
    built.state.address_limits = TokenBuckets(unlimited)
    built.state.conversation_limits = TokenBuckets(unlimited)
    return built


def run(app: Any, steps: Any) -> Any:
    """Run `steps(http)` against the app in a fresh event loop (one per example)."""

    async def main() -> Any:
        transport = httpx.ASGITransport(app=app, client=("192.0.2.44", 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await steps(http)

    return asyncio.run(main())


def check(response: httpx.Response) -> None:
    """Never a 500; every API error in the one JSON shape."""
    assert response.status_code < 500 or response.status_code == 503, (
        response.status_code,
        response.text[:500],
    )
    assert response.status_code != 503, response.text  # the store never goes down here
    is_api = response.request.url.path.startswith("/api/")
    if response.status_code >= 400 and is_api and response.request.method != "HEAD":
        body = response.json()
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["code"]
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]


async def started(http: httpx.AsyncClient, lang: str = "en") -> tuple[str, dict[str, str]]:
    response = await http.post(API, json={"lang": lang})
    assert response.status_code == 201, response.text
    data = response.json()
    return data["id"], {"Authorization": f"Bearer {data['token']}"}


# ---------------------------------------------------------------------------- strategies

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
#: Bodies shaped like ours (the known keys with any values), or anything at all.
shaped = st.fixed_dictionaries(
    {},
    optional={
        "text": json_values,
        "choice": json_values,
        "lang": json_values | st.sampled_from(["lt", "ru", "uk", "en", "LT-lt", "de", ""]),
        "campaign": json_values | st.sampled_from(["", "a" * 64, "a" * 65, "x.y", "spring"]),
    },
)
bodies = shaped | json_values
header_names = st.text(
    alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=20
)
#: Any Latin-1 text, as raw bytes (what a real client may put on the wire).
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=200,
).map(lambda value: value.encode("latin-1"))
headers = st.dictionaries(
    st.sampled_from(
        ["Accept-Language", "Content-Type", "Authorization", "Accept", "X-Forwarded-For", "Cookie"]
    )
    | header_names,
    header_values,
    max_size=6,
)
ids = st.text(max_size=120) | st.sampled_from(["", ".", "..", "a/b", "%00", "x" * 65, "x" * 64])
methods = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"])


# ---------------------------------------------------------------------------- properties


@FUZZ
@given(body=bodies, extra=headers)
def test_starting_a_conversation_with_any_body_and_headers(
    app: Any, body: Any, extra: dict[str, bytes]
) -> None:
    async def steps(http: httpx.AsyncClient) -> None:
        content = json.dumps(body).encode()
        response = await http.post(
            API, content=content, headers={"Content-Type": "application/json", **extra}
        )
        check(response)
        if response.status_code == 201:
            assert set(response.json()) >= {"id", "token", "lang", "messages"}

    run(app, steps)


@FUZZ
@given(body=bodies, extra=headers)
def test_any_message_body_to_a_real_conversation(
    app: Any, body: Any, extra: dict[str, bytes]
) -> None:
    async def steps(http: httpx.AsyncClient) -> None:
        conversation, auth = await started(http)
        response = await http.post(
            f"{API}/{conversation}/messages",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **extra, **auth},
        )
        check(response)
        # a fuzzed Content-Length header that is not a number is the client's error: 400
        bad_length = any(name.lower() == "content-length" for name in extra)
        allowed = (200, 422, 400) if bad_length else (200, 422)
        assert response.status_code in allowed, response.text
        if response.status_code == 200:
            assert response.json()["messages"]  # always at least one reply

    run(app, steps)


@FUZZ
@given(text=st.text(max_size=9000), choice=st.text(min_size=1, max_size=200))
def test_any_typed_text_or_choice_gets_an_answer(app: Any, text: str, choice: str) -> None:
    """The engine (detector, FAQ, scanner) answers any text; any choice id is handled."""

    async def steps(http: httpx.AsyncClient) -> None:
        conversation, auth = await started(http, "lt")
        for body in ({"text": text}, {"choice": choice}):
            response = await http.post(f"{API}/{conversation}/messages", json=body, headers=auth)
            check(response)
            if len(body.get("text", "")) <= 8000 and len(body.get("choice", "")) <= 128:
                assert response.status_code == 200, response.text
                assert response.json()["messages"]

    run(app, steps)


@FUZZ
@given(
    raw=st.binary(max_size=2000),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/json; charset=latin-1",
            "text/plain",
            "",
            "multipart/form-data",
        ]
    ),
)
def test_raw_bytes_and_invalid_utf8_bodies(app: Any, raw: bytes, content_type: str) -> None:
    async def steps(http: httpx.AsyncClient) -> None:
        conversation, auth = await started(http)
        header = {"Content-Type": content_type} if content_type else {}
        for path in (API, f"{API}/{conversation}/messages"):
            check(await http.post(path, content=raw, headers={**header, **auth}))

    run(app, steps)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(min_value=16 * 1024 - 64, max_value=200 * 1024),
    chunked=st.booleans(),
    declared=st.sampled_from([None, "0", "-1", "abc", "99999999999999999999", "16384"]),
)
def test_oversized_bodies_are_refused_without_a_crash(
    app: Any, size: int, chunked: bool, declared: str | None
) -> None:
    async def steps(http: httpx.AsyncClient) -> None:
        conversation, auth = await started(http)
        body = json.dumps({"text": "ą" * (size // 2)}).encode()[:size]

        async def pieces() -> Any:
            for start in range(0, len(body), 4096):
                yield body[start : start + 4096]

        content: Any = pieces() if chunked else body
        extra = {"Content-Length": declared} if declared is not None and not chunked else {}
        response = await http.post(
            f"{API}/{conversation}/messages",
            content=content,
            headers={"Content-Type": "application/json", **auth, **extra},
        )
        check(response)
        if len(body) > 16 * 1024 and declared is None:
            assert response.status_code == 413, response.text

    run(app, steps)


@FUZZ
@given(
    method=methods,
    conversation=ids,
    tail=st.sampled_from(["", "/messages", "/messages/x", "/", "/../.."]),
    token=st.sampled_from(["valid", "none", "random"]),
    random_token=header_values,
    extra=headers,
)
def test_any_method_id_and_token_on_conversation_paths(
    app: Any,
    method: str,
    conversation: str,
    tail: str,
    token: str,
    random_token: bytes,
    extra: dict[str, bytes],
) -> None:
    async def steps(http: httpx.AsyncClient) -> None:
        real, auth = await started(http)
        chosen = {"valid": auth, "none": {}, "random": {"Authorization": random_token}}[token]
        for target in (quote(conversation, safe=""), real):
            response = await http.request(
                method,
                f"{API}/{target}{tail}",
                json={"text": "hi"} if method in ("POST", "PUT", "PATCH") else None,
                headers={**extra, **chosen},
            )
            check(response)

    run(app, steps)


PAGES = [
    "/chat",
    "/widget.js",
    "/privacy",
    "/healthz",
    "/readyz",
    "/docs",
    "/openapi.json",
    "/admin",
    "/admin/stats.json",
    "/admin/stats.csv",
    "/admin/campaigns",
    "/admin/campaigns/spring/qr.svg",
    "/admin/campaigns/spring/flyer",
    "/telegram/webhook",
    "/static/chat.js",
    "/nowhere",
]


@FUZZ
@given(
    page=st.sampled_from(PAGES),
    suffix=st.text(max_size=30),
    query=st.dictionaries(
        st.sampled_from(["lang", "c", "since", "days", "campaign", "format", "x"])
        | st.text(max_size=8),
        st.text(max_size=80),
        max_size=4,
    ),
    admin=st.booleans(),
    method=methods,
)
def test_pages_admin_and_unknown_paths_with_any_query(
    app: Any, page: str, suffix: str, query: dict[str, str], admin: bool, method: str
) -> None:
    async def steps(http: httpx.AsyncClient) -> None:
        path = page + (quote(suffix) if suffix and page == "/nowhere" else "")
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if admin else {}
        response = await http.request(method, path, params=query, headers=auth)
        check(response)

    run(app, steps)


@FUZZ
@given(
    actions=st.lists(
        st.one_of(
            st.tuples(st.just("pick"), st.integers(min_value=0, max_value=30)),
            st.tuples(st.just("text"), st.text(max_size=300)),
            st.tuples(
                st.just("choice"),
                st.sampled_from(
                    [
                        "back",
                        "menu",
                        "help",
                        "show",
                        "lang",
                        "resume",
                        "country",
                        "lang:uk",
                        "lang:xx",
                        "go:risk",
                        "go:nothing",
                        "job_offer.country.LT",
                        "a.b.c.d",
                    ]
                ),
            ),
            st.tuples(st.just("get"), st.none()),
            st.tuples(st.just("delete"), st.none()),
        ),
        max_size=25,
    ),
    lang=st.sampled_from(["lt", "ru", "uk", "en"]),
)
def test_any_sequence_of_actions_keeps_the_conversation_answering(
    app: Any, actions: list[tuple[str, Any]], lang: str
) -> None:
    """Random walks through the real flows: every step answers until the person erases."""

    async def steps(http: httpx.AsyncClient) -> None:
        conversation, auth = await started(http, lang)
        path = f"{API}/{conversation}"
        offered: list[str] = ["menu.main.job"]
        erased = False
        for kind, value in actions:
            if kind == "get":
                response = await http.get(path, headers=auth)
            elif kind == "delete":
                response = await http.delete(path, headers=auth)
            else:
                body = (
                    {"text": value}
                    if kind == "text"
                    else {"choice": offered[value % len(offered)] if kind == "pick" else value}
                )
                response = await http.post(f"{path}/messages", json=body, headers=auth)
            check(response)
            if erased:
                assert response.status_code == 401, response.text
                continue
            if kind == "delete":
                assert response.status_code == 204
                erased = True
                continue
            assert response.status_code == 200, response.text
            messages = response.json()["messages"]
            assert messages
            offered = [c["id"] for m in messages for c in m["choices"]] or offered

    run(app, steps)


def test_the_fuzz_app_really_answers(app: Any, tmp_path: Path) -> None:
    """A guard for the properties above: the app under them works and refuses what it must."""

    async def steps(http: httpx.AsyncClient) -> None:
        conversation, auth = await started(http, "ru")
        ok = await http.post(
            f"{API}/{conversation}/messages", json={"choice": "menu.main.job"}, headers=auth
        )
        assert ok.status_code == 200
        bad = await http.post(
            f"{API}/{conversation}/messages",
            content=b"\xff\xfe{",
            headers={**auth, "Content-Type": "application/json"},
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_json"

    run(app, steps)
