"""The web API over HTTP against the real app: the DESIGN.md contract and every error code."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.pseudonym import pseudonym, token_hash
from bot.service import Conversations
from bot.store import InMemoryStore
from bot.web.app import create_app, purge_forever
from bot.web.limits import Rate, TokenBuckets
from tests.web_helpers import *  # noqa: F403
from tests.web_helpers import LANGS, Web, auth, choices_of, find_choice, settings_for

CONVERSATIONS = "/api/v1/conversations"

DANGER = {
    "en": "they took my passport and locked me in",
    "lt": "jie atėmė mano pasą ir užrakino mane kambaryje",
    "ru": "у меня забрали паспорт и заперли меня",
    "uk": "у мене забрали паспорт і замкнули мене",
}


def key_of(web: Web, conversation: dict[str, Any]) -> str:
    """Return the pseudonym the conversation is stored under."""
    return pseudonym(web.app.state.pseudonym_key, "web", conversation["id"])


def error_of(response: httpx.Response) -> dict[str, str]:
    """Return the error object, checking the one documented shape."""
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    return body["error"]


def server_log(caplog: pytest.LogCaptureFixture) -> str:
    """Return what the server logged (the test's own httpx client logs its URLs)."""
    return "\n".join(
        f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records if r.name != "httpx"
    )


# ----------------------------------------------------------------------------- create


async def test_create_returns_id_token_language_and_greeting(api: Web) -> None:
    response = await api.http.post(CONVERSATIONS, json={"lang": "en"})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "token", "lang", "messages"}
    assert body["lang"] == "en"
    assert len(body["id"]) >= 16 and len(body["token"]) >= 32
    assert body["messages"][0]["text"].startswith("Hello")
    assert "menu.main.job" in [c["id"] for c in choices_of(body["messages"])]
    for message in body["messages"]:
        assert set(message) == {"kind", "text", "choices", "contacts"}


async def test_token_is_kept_only_as_a_hash(api: Web) -> None:
    conversation = await api.start()

    stored = await api.store.get(key_of(api, conversation))

    assert stored is not None
    assert stored.secret_hash == token_hash(conversation["token"])
    assert conversation["token"] not in json.dumps(stored.state)
    assert await api.store.get(conversation["id"]) is None  # not keyed by the raw id


async def test_each_conversation_gets_its_own_id_and_token(api: Web) -> None:
    first, second = await api.start(), await api.start()

    assert first["id"] != second["id"] and first["token"] != second["token"]
    response = await api.http.get(f"{CONVERSATIONS}/{first['id']}", headers=auth(second))
    assert response.status_code == 401


@pytest.mark.parametrize("lang", LANGS)
async def test_chosen_language_greets_in_that_language(api: Web, lang: str) -> None:
    conversation = await api.start(lang)
    english = await api.start("en")

    assert conversation["lang"] == lang
    if lang != "en":
        assert conversation["messages"][0]["text"] != english["messages"][0]["text"]
    # A language from the link counts as chosen: straight to the menu, no language question.
    assert not any(c["id"].startswith("lang:") for c in choices_of(conversation["messages"]))


async def test_accept_language_sets_the_language_and_asks_to_confirm(api: Web) -> None:
    response = await api.http.post(
        CONVERSATIONS, headers={"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["lang"] == "uk"
    ids = [c["id"] for c in choices_of(body["messages"])]
    assert ids[0] == "lang:uk" and set(ids) == {"lang:uk", "lang:lt", "lang:ru", "lang:en"}


async def test_campaign_is_remembered_with_the_conversation(api: Web) -> None:
    conversation = await api.start("lt", campaign="posters")

    stored = await api.store.get(key_of(api, conversation))

    assert stored is not None and stored.state["campaign"] == "posters"


async def test_an_unlisted_campaign_code_is_kept_only_as_other(api: Web) -> None:
    """L-1: a per-person link (a name, a phone number) never reaches the database."""
    conversation = await api.start("en", campaign="Olena_Kovalenko_380501234567")

    stored = await api.store.get(key_of(api, conversation))

    assert stored is not None and stored.state["campaign"] == "other"
    rows = repr(await api.store.events())
    assert "Olena" not in rows and "380501234567" not in rows


@pytest.mark.parametrize("campaign", ["abc\n", "a.b", "x" * 65, "a b"])
async def test_a_campaign_code_is_matched_whole(api: Web, campaign: str) -> None:
    """L-1: `$` alone lets a final newline through; the whole code must match."""
    response = await api.http.post("/api/v1/conversations", json={"campaign": campaign})
    assert response.status_code == 422
    assert "'.'" not in response.json()["error"]["message"]


# ----------------------------------------------------------------------------- messages


async def test_a_checklist_runs_to_its_result_by_choices(api: Web) -> None:
    conversation = await api.start("en")
    messages = conversation["messages"]
    response = await api.send(conversation, choice=find_choice(messages, "job offer"))
    for _ in range(40):
        assert response.status_code == 200, response.text
        messages = response.json()["messages"]
        if any(m["kind"] == "result" for m in messages):
            break
        question = [c for c in choices_of(messages) if c["id"].startswith("job_offer.")]
        response = await api.send(conversation, choice=question[0]["id"])
    else:
        pytest.fail("the job-offer checklist never reached its result")
    result = next(m for m in messages if m["kind"] == "result")
    assert result["text"]
    assert "help" in [c["id"] for c in result["choices"]]


async def test_language_choice_switches_the_conversation(api: Web) -> None:
    conversation = await api.start("en")

    response = await api.send(conversation, choice="lang:ru")

    assert response.status_code == 200
    body = response.json()
    assert body["lang"] == "ru"
    assert body["messages"][-1]["text"] != conversation["messages"][-1]["text"]
    pending = await api.http.get(
        f"{CONVERSATIONS}/{conversation['id']}", headers=auth(conversation)
    )
    assert pending.json()["lang"] == "ru"


async def test_text_that_matches_nothing_gets_a_gentle_answer(api: Web) -> None:
    conversation = await api.start("en")

    response = await api.send(conversation, text="qwertyuiop zxcvb")

    assert response.status_code == 200
    messages = response.json()["messages"]
    assert messages and choices_of(messages)


async def test_get_shows_the_pending_prompt_again(api: Web) -> None:
    conversation = await api.start("en")
    answer = await api.send(conversation, choice=find_choice(conversation["messages"], "job offer"))
    question = answer.json()["messages"][-1]

    response = await api.http.get(
        f"{CONVERSATIONS}/{conversation['id']}", headers=auth(conversation)
    )

    assert response.status_code == 200
    assert response.json()["messages"][-1]["text"] == question["text"]
    assert response.json()["messages"][-1]["choices"] == question["choices"]


@pytest.mark.parametrize("lang", LANGS)
async def test_danger_text_hands_off_to_hotlines_with_phones(
    api: Web, web_engine: Any, lang: str
) -> None:
    conversation = await api.start(lang)

    response = await api.send(conversation, text=DANGER[lang])

    assert response.status_code == 200
    messages = response.json()["messages"]
    if not any(m["contacts"] for m in messages):  # first time: where are you?
        countries = [c for c in choices_of(messages) if c["id"].startswith("help.where.")]
        assert countries, messages
        lithuania = next(c for c in countries if c["id"].endswith(".LT"))
        response = await api.send(conversation, choice=lithuania["id"])
        messages = response.json()["messages"]
    handoffs = [m for m in messages if m["kind"] == "handoff"]
    assert handoffs
    contacts = [c for m in handoffs for c in m["contacts"]]
    assert any(c.get("phone") for c in contacts)
    if web_engine.detector.detect(DANGER[lang]).urgent:  # then it leads with the emergency number
        assert "112" in handoffs[0]["text"]
        assert handoffs[0]["contacts"][0]["phone"] == "112"


# ----------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
    ],
    ids=["missing", "wrong", "basic", "empty"],
)
async def test_wrong_or_missing_token_is_401(api: Web, headers: dict[str, str]) -> None:
    conversation = await api.start()
    path = f"{CONVERSATIONS}/{conversation['id']}"

    for response in (
        await api.http.get(path, headers=headers),
        await api.http.post(f"{path}/messages", json={"text": "hi"}, headers=headers),
        await api.http.delete(path, headers=headers),
    ):
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthorized"
    assert await api.store.get(key_of(api, conversation)) is not None


async def test_unknown_id_looks_exactly_like_a_wrong_token(api: Web) -> None:
    conversation = await api.start()
    wrong_token = await api.http.get(
        f"{CONVERSATIONS}/{conversation['id']}", headers={"Authorization": "Bearer nope"}
    )
    unknown_id = await api.http.get(f"{CONVERSATIONS}/does-not-exist", headers=auth(conversation))

    assert wrong_token.status_code == unknown_id.status_code == 401
    assert wrong_token.json() == unknown_id.json()


# ----------------------------------------------------------------------------- erase


async def test_delete_erases_every_trace(api: Web) -> None:
    conversation = await api.start("lt")
    path = f"{CONVERSATIONS}/{conversation['id']}"

    response = await api.http.delete(path, headers=auth(conversation))

    assert response.status_code == 204 and response.content == b""
    assert await api.store.get(key_of(api, conversation)) is None
    assert (await api.http.get(path, headers=auth(conversation))).status_code == 401
    again = await api.send(conversation, text="hello?")
    assert again.status_code == 401
    assert await api.store.get(key_of(api, conversation)) is None  # not re-created
    assert (await api.http.delete(path, headers=auth(conversation))).status_code == 401


async def test_a_message_racing_an_erase_leaves_no_row(api: Web) -> None:
    conversation = await api.start("en")
    key = key_of(api, conversation)
    real_handle = api.service.handle

    async def erase_first(*args: Any, **kwargs: Any) -> Any:
        await api.store.delete(key)  # the quick exit lands between token check and update
        return await real_handle(*args, **kwargs)

    api.service.handle = erase_first  # type: ignore[method-assign]
    response = await api.send(conversation, choice="menu")

    assert response.status_code == 401
    assert await api.store.get(key) is None


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        (b"{not json", {"Content-Type": "application/json"}, "invalid_json"),
        (b'{"text": "a", "choice": "b"}', {"Content-Type": "application/json"}, "invalid_request"),
        (b"{}", {"Content-Type": "application/json"}, "invalid_request"),
        (b'{"text": 5}', {"Content-Type": "application/json"}, "invalid_request"),
        (b'{"txt": "hello"}', {"Content-Type": "application/json"}, "invalid_request"),
        (b'["text"]', {"Content-Type": "application/json"}, "invalid_request"),
        (b"", {"Content-Type": "application/json"}, "invalid_request"),
    ],
    ids=["broken", "both", "neither", "wrong-type", "unknown-field", "array", "empty"],
)
async def test_bad_message_bodies_are_422_with_a_message(
    api: Web, body: bytes, headers: dict[str, str], code: str
) -> None:
    conversation = await api.start()

    response = await api.http.post(
        f"{CONVERSATIONS}/{conversation['id']}/messages",
        content=body,
        headers={**headers, **auth(conversation)},
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == code


async def test_messages_name_the_field_but_never_echo_the_input(api: Web) -> None:
    conversation = await api.start()

    response = await api.send(conversation, text="my secret words", choice="x")
    unknown = await api.http.post(CONVERSATIONS, json={"lang": "xx-secret"})

    assert "either" in error_of(response)["message"]
    assert "secret" not in response.text
    assert unknown.status_code == 422
    assert error_of(unknown)["message"].startswith("lang:")
    assert "xx-secret" not in unknown.text


@pytest.mark.parametrize("body", [{"campaign": "<script>"}, {"lang": 5}, {"extra": 1}])
async def test_bad_create_bodies_are_422(api: Web, body: dict[str, Any]) -> None:
    response = await api.http.post(CONVERSATIONS, json=body)

    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_request"


async def test_bodies_over_16_kb_are_413(api: Web) -> None:
    conversation = await api.start()
    path = f"{CONVERSATIONS}/{conversation['id']}/messages"
    big = json.dumps({"text": "a" * 17_000}).encode()

    declared = await api.http.post(path, content=big, headers=auth(conversation))

    async def chunks() -> Any:  # no Content-Length: the limit must still hold
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    streamed = await api.http.post(path, content=chunks(), headers=auth(conversation))

    for response in (declared, streamed):
        assert response.status_code == 413
        assert error_of(response)["code"] == "too_large"
    fits = await api.send(conversation, text="a" * 3000)
    assert fits.status_code == 200


async def test_unknown_path_is_404_and_wrong_method_405_in_the_error_shape(api: Web) -> None:
    missing = await api.http.get("/api/v1/nothing")
    wrong = await api.http.put(CONVERSATIONS, json={})

    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"


async def test_a_crash_is_a_json_500_and_the_log_holds_no_message(
    api: Web, caplog: pytest.LogCaptureFixture
) -> None:
    conversation = await api.start()

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError(" ".join(["secret", "words", "typed"]))

    api.service.handle = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO):
        response = await api.send(conversation, text="hello")

    assert response.status_code == 500
    assert error_of(response)["code"] == "internal"
    assert "ValueError" in server_log(caplog)
    assert "secret words" not in server_log(caplog)


async def test_too_many_messages_are_429_with_retry_after(api: Web) -> None:
    api.app.state.conversation_limits = TokenBuckets(Rate(per_minute=6, burst=3))
    conversation = await api.start()

    statuses = [(await api.send(conversation, choice="menu")).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    limited = await api.send(conversation, choice="menu")
    assert error_of(limited)["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    other = await api.start()  # another conversation from the same address is not affected
    assert (await api.send(other, choice="menu")).status_code == 200
    erase = await api.http.delete(
        f"{CONVERSATIONS}/{conversation['id']}", headers=auth(conversation)
    )
    assert erase.status_code == 204  # erasing always works


async def test_too_many_requests_from_one_address_are_429(api: Web) -> None:
    api.app.state.address_limits = TokenBuckets(Rate(per_minute=60, burst=2))

    statuses = [(await api.http.post(CONVERSATIONS, json={})).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]


def test_buckets_of_keys_seen_once_are_forgotten_once_refilled_but_a_drained_one_is_kept():
    # a worker serving many short visits must not keep a bucket per visitor for its whole
    # life (RSS), and forgetting must not hand a fresh burst to someone who spent theirs
    now = [0.0]
    limits = TokenBuckets(Rate(per_minute=6, burst=3), clock=lambda: now[0])
    assert [limits.take("busy") for _ in range(3)] == [0.0, 0.0, 0.0]
    for i in range(1_100):  # each takes 1 of 3 tokens: full again 10 s later
        assert limits.take(f"early {i}") == 0.0
    now[0] = 15.0  # the early ones have refilled; "busy" has 1.5 tokens of 3
    for i in range(1_100):
        assert limits.take(f"late {i}") == 0.0
    assert len(limits._buckets) < 1_200  # the early 1,100 were forgotten
    assert limits.take("busy") == 0.0 and limits.take("busy") > 0  # 1.5 tokens, not 3


async def test_store_down_is_503_in_the_person_language_and_recovers(
    web_engine: Any, web_settings: Any
) -> None:
    store = InMemoryStore()
    app = create_app(web_settings, service=Conversations(web_engine, store))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        created = (await http.post(CONVERSATIONS, json={"lang": "ru"})).json()
        path = f"{CONVERSATIONS}/{created['id']}/messages"
        store.down = True

        down = await http.post(
            path, json={"choice": "menu"}, headers={**auth(created), "Accept-Language": "ru"}
        )
        english = await http.post(CONVERSATIONS, json={"lang": "en"})
        ready = await http.get("/readyz")
        alive = await http.get("/healthz")
        store.down = False
        back = await http.post(path, json={"choice": "menu"}, headers=auth(created))

    assert down.status_code == 503 and error_of(down)["code"] == "unavailable"
    assert down.headers["Retry-After"]
    translated = web_engine.translator.gettext("ru", "Please try again in a minute.")
    assert error_of(down)["message"] == translated
    assert error_of(english)["message"] == "Please try again in a minute."
    assert ready.status_code == 503 and alive.status_code == 200
    assert back.status_code == 200


async def test_readyz_is_200_when_the_database_answers(api: Web) -> None:
    response = await api.http.get("/readyz")

    assert response.status_code == 200 and response.json() == {"status": "ready"}


async def test_telegram_webhook_is_404_when_telegram_is_off(api: Web) -> None:
    response = await api.http.post("/telegram/webhook", json={"update_id": 1})

    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


# ----------------------------------------------------------------------------- headers, docs


@pytest.mark.parametrize("path", ["/chat", "/privacy", "/widget.js", "/healthz", CONVERSATIONS])
async def test_security_headers_on_every_response(api: Web, path: str) -> None:
    response = await api.http.get(path)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


async def test_api_responses_are_never_cached_or_framed(api: Web) -> None:
    response = await api.http.post(CONVERSATIONS, json={})

    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "set-cookie" not in response.headers


async def test_openapi_names_schemas_by_role_and_docs_are_served_locally(api: Web) -> None:
    schema = (await api.http.get("/openapi.json")).json()
    docs = await api.http.get("/docs")
    asset = await api.http.get("/docs/assets/swagger-ui-bundle.js")

    names = set(schema["components"]["schemas"])
    assert {"ConversationIn", "ConversationOut", "MessageIn", "MessagesOut", "ErrorOut"} <= names
    assert "/api/v1/conversations/{conversation_id}/messages" in schema["paths"]
    assert docs.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "https://" not in docs.text  # no CDN
    assert asset.status_code == 200


# ----------------------------------------------------------------------------- privacy


async def test_logs_hold_no_text_token_id_or_address(
    api: Web, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        conversation = await api.start("en")
        await api.send(conversation, text="my name is Jonas Jonaitis, call +37060000000")
        await api.http.get(f"{CONVERSATIONS}/{conversation['id']}", headers=auth(conversation))
        await api.http.delete(f"{CONVERSATIONS}/{conversation['id']}", headers=auth(conversation))

    logged = server_log(caplog)
    assert "POST /api/v1/conversations/{conversation_id}/messages 200" in logged
    for secret in (
        "Jonas",
        "37060000000",
        conversation["id"],
        conversation["token"],
        "203.0.113.7",
    ):
        assert secret not in logged


async def test_retention_purge_removes_stale_conversations(web_engine: Any) -> None:
    now = datetime.now(UTC)
    clock = {"now": now - timedelta(days=40)}
    store = InMemoryStore(clock=lambda: clock["now"])
    await store.create("old", {"lang": "en"})
    clock["now"] = now
    await store.create("new", {"lang": "en"})

    task = asyncio.create_task(purge_forever(store, retention_days=30))
    for _ in range(50):
        await asyncio.sleep(0)
        if await store.get("old") is None:
            break
    task.cancel()

    assert await store.get("old") is None
    assert await store.get("new") is not None


# ----------------------------------------------------------------------------- fuzzing

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["text", "choice", "lang", "campaign", "x"]), children, max_size=3
        )
    ),
    max_leaves=8,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.one_of(_json.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)),
    target=st.sampled_from(["create", "message"]),
)
def test_random_bodies_never_produce_a_500(
    tmp_path: Any, web_engine: Any, payload: bytes, target: str
) -> None:
    app = create_app(settings_for(tmp_path), service=Conversations(web_engine, InMemoryStore()))
    app.state.address_limits = TokenBuckets(Rate(per_minute=0, burst=0))

    async def post_random() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            created = (await http.post(CONVERSATIONS, json={"lang": "en"})).json()
            path = (
                CONVERSATIONS if target == "create" else f"{CONVERSATIONS}/{created['id']}/messages"
            )
            headers = {"Content-Type": "application/json", **auth(created)}
            return await http.post(path, content=payload, headers=headers)

    response = asyncio.run(post_random())

    assert response.status_code in (200, 201, 413, 422), response.text
    if response.status_code >= 400:
        error_of(response)
