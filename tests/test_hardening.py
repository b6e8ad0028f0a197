"""Security review findings that a person or an operator would notice, one test each.

Headers and API answers (L-6), slow and unauthenticated bodies (L-7), idle web chats
(L-2), secrets and the data folder at rest (M-2, L-4, L-5), logs (M-2), the shared
webhook secret (M-7), `serve` refusing unsafe or impossible starts, the compose file
(M-7, L-9) and the lock file (L-8).
"""

from __future__ import annotations

import logging
import re
import socket
import stat
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from bot import ROOT
from bot.logs import NoIdentifiers
from bot.pseudonym import pseudonym
from bot.settings import SecretFileError, Settings, _kept_secret
from bot.web import middleware
from bot.web.app import create_app
from tests.privacy_helpers import (
    Serve,
    free_port,
    key_fragments,
    production_log_levels,
    record_text,
    subprocess_env,
)
from tests.web_helpers import *  # noqa: F403
from tests.web_helpers import LiveServer, Web, auth, settings_for

API = "/api/v1/conversations"
LONG = "a-long-enough-secret-0123456789abcdef"


# ---------------------------------------------------------------------------- headers (L-6)


async def test_pages_deny_powerful_features_and_openers(api: Web) -> None:
    for path in ("/chat", "/privacy", "/healthz", API):
        response = await api.http.get(path)
        assert "camera=()" in response.headers["Permissions-Policy"], path
        assert "geolocation=()" in response.headers["Permissions-Policy"], path
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin", path


async def test_api_401_names_the_bearer_scheme(api: Web) -> None:
    response = await api.http.get(f"{API}/nope")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_missing_token_is_401_even_with_a_bad_body(api: Web) -> None:
    """Credentials first: a stranger learns nothing about what the body should be."""
    response = await api.http.post(f"{API}/some-id/messages", json={"both": 1})
    assert response.status_code == 401


async def test_a_422_does_not_echo_a_field_name_the_client_chose(api: Web) -> None:
    """I-2: an unknown field's name is the client's text (here a name and a number)."""
    chosen = "Olena Kovalenko +380501234567"
    response = await api.http.post(API, json={chosen: 1, "lang": "en"})
    assert response.status_code == 422
    assert "Kovalenko" not in response.text and "380501234567" not in response.text
    assert response.json()["error"]["code"] == "invalid_request"


async def test_a_413_has_the_same_compact_shape_as_every_other_error(api: Web) -> None:
    """I-2: the body limit's answer is written like the app's other errors."""
    large = await api.http.post(
        API, content=b"x" * 20000, headers={"Content-Type": "application/json"}
    )
    small = await api.http.post(API, json={"lang": ""})
    assert (large.status_code, small.status_code) == (413, 422)
    assert large.text.startswith('{"error":{"code":"too_large","message":')
    assert small.text.startswith('{"error":{"code":')


async def test_options_lists_every_method_of_a_path(api: Web) -> None:
    response = await api.http.request("OPTIONS", f"{API}/some-id")
    assert response.status_code == 405
    assert {"GET", "DELETE"} <= set(response.headers["Allow"].replace(" ", "").split(","))


async def test_widget_frame_is_sandboxed_without_top_navigation(api: Web) -> None:
    script = (await api.http.get("/widget.js")).text
    assert '"sandbox"' in script and "allow-scripts" in script
    assert "allow-top-navigation" not in script
    assert 'frame.allow = ""' in script


# ---------------------------------------------------------------------------- bodies (L-7)


def _raw_request(port: int, head: bytes, body: bytes = b"", wait: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(head + body)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            return b""
        return data


def test_an_unfinished_body_is_answered_408(
    web_service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(middleware, "BODY_TIMEOUT", 1.0)
    app = create_app(settings_for(tmp_path), service=web_service)
    with LiveServer(app) as live:
        started = time.monotonic()
        head = (
            b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        answer = _raw_request(live.port, head, b"{")
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - started < 4


def test_the_webhook_refuses_a_stranger_before_reading_the_body(
    web_service: Any, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path, telegram_bot_token="123:abc", public_base_url="https://bot.example.org"
    )
    app = create_app(settings, service=web_service)
    app.state.telegram = SimpleNamespace()  # the channel is running (its routes are not hit)
    with LiveServer(app) as live:
        head = (
            b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
        )
        started = time.monotonic()
        answer = _raw_request(live.port, head)  # not one byte of the 1 MB is sent
        assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
        assert time.monotonic() - started < 2


# ---------------------------------------------------------------------------- idle chats (L-2)


async def test_an_idle_web_conversation_is_closed_and_erased(api: Web) -> None:
    conversation = await api.start("en")
    key = pseudonym(api.app.state.pseudonym_key, "web", conversation["id"])
    auth = {"Authorization": f"Bearer {conversation['token']}"}
    assert (await api.http.get(f"{API}/{conversation['id']}", headers=auth)).status_code == 200

    stored = await api.store.get(key)
    assert stored is not None and stored.updated_at is not None
    # Three hours untouched (WEB_IDLE_MINUTES is 120 by default).
    old = datetime.now(UTC) - timedelta(hours=3)
    from sqlalchemy import update

    from bot.store import conversations

    async with api.store.engine.begin() as connection:
        await connection.execute(
            update(conversations).where(conversations.c.key == key).values(updated_at=old)
        )
    response = await api.http.get(f"{API}/{conversation['id']}", headers=auth)
    assert response.status_code == 401
    assert await api.store.get(key) is None


# ---------------------------------------------------------------------------- secrets (L-4, M-7)


def test_an_empty_secret_file_is_refused_not_used(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "pseudonym.secret").write_text("")
    with pytest.raises(SecretFileError, match="no usable secret"):
        Settings(data_dir=data, pseudonym_secret=None).pseudonym_key()


def _make_secret(path: str) -> str:
    return _kept_secret(Path(path))


def test_processes_creating_the_secret_at_once_agree(tmp_path: Path) -> None:
    path = tmp_path / "data" / "pseudonym.secret"
    with ProcessPoolExecutor(6) as pool:
        values = list(pool.map(_make_secret, [str(path)] * 12))
    assert len(set(values)) == 1 and len(values[0]) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["pseudonym.secret"]


@pytest.mark.parametrize("field", ["pseudonym_secret", "telegram_webhook_secret", "admin_token"])
def test_short_secrets_are_refused(tmp_path: Path, field: str) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        Settings(data_dir=tmp_path, **{field: "short-secret"})


def test_replicas_sharing_the_pseudonym_secret_share_the_webhook_secret(tmp_path: Path) -> None:
    """M-7: two replicas with their own data folders register and accept the same secret."""
    one = Settings(data_dir=tmp_path / "a", pseudonym_secret=LONG, telegram_webhook_secret=None)
    two = Settings(data_dir=tmp_path / "b", pseudonym_secret=LONG, telegram_webhook_secret=None)
    assert one.webhook_secret() == two.webhook_secret()
    assert one.webhook_secret() != LONG and len(one.webhook_secret()) >= 32
    assert not (tmp_path / "a" / "webhook.secret").exists()


# ---------------------------------------------------------------------------- at rest (L-5)


async def test_database_and_data_folder_are_private(tmp_path: Path) -> None:
    from bot.store import open_store

    settings = Settings(data_dir=tmp_path / "fresh" / "data", pseudonym_secret=LONG)
    store = await open_store(settings.resolved_database_url())
    try:
        await store.create("k" * 64, {"lang": "en"})
    finally:
        await store.close()
    data = tmp_path / "fresh" / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for path in data.iterdir():
        if path.name.startswith("safe_abroad.db"):
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


# ---------------------------------------------------------------------------- logs (M-2)


def test_log_lines_carry_no_pseudonym_fragments() -> None:
    """The handler's filter, a last line of defence, blanks a prefix should a caller log one."""
    key = pseudonym(LONG.encode(), "telegram", 424242002)
    record = logging.LogRecord(
        "bot.telegram_bot",
        logging.ERROR,
        __file__,
        1,
        "update failed for %s…: %s",
        (key[:8], "X"),
        None,
    )
    NoIdentifiers().filter(record)
    line = record.getMessage()
    assert key[:8] not in line and "update failed for" in line and "X" in line


async def test_web_steps_log_no_pseudonym_fragment(
    api: Web, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """M-2: a web conversation's log lines, a crashed step's too, name no piece of its key."""
    caplog.set_level(logging.DEBUG)
    with production_log_levels():
        conversation = await api.start("en")
        key = pseudonym(api.app.state.pseudonym_key, "web", conversation["id"])
        first = await api.http.get(f"{API}/{conversation['id']}", headers=auth(conversation))
        choice = first.json()["messages"][-1]["choices"][0]["id"]
        assert (await api.send(conversation, choice=choice)).status_code == 200
        assert (await api.send(conversation, text="they took my passport")).status_code == 200

        async def crash(key: str, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"step failed for {key} ({key[:8]}…)")

        monkeypatch.setattr(api.service, "handle", crash)
        assert (await api.send(conversation, choice=choice)).status_code == 500
    logged = "\n".join(record_text(r) for r in caplog.records)
    assert "/messages 200" in logged and "unhandled RuntimeError" in logged
    for private in (conversation["id"], conversation["token"], "passport"):
        assert private not in logged
    assert key_fragments(logged, key) == []


# ---------------------------------------------------------------- serve (M-2, rough edges)


def _serve(tmp_path: Path, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", *args],
        env=subprocess_env(DATA_DIR=str(tmp_path / "data"), **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ((), {"DATABASE_URL": "postgresql+asyncpg://u:p@127.0.0.1:1/x"}),
        (("--workers", "2"), {}),
        ((), {"TELEGRAM_BOT_TOKEN": "1:x", "PUBLIC_BASE_URL": "https://bot.example.org"}),
    ],
)
def test_production_like_serve_needs_its_own_pseudonym_secret(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    done = _serve(tmp_path, *args, PSEUDONYM_SECRET=None, PORT=str(free_port()), **env)
    assert done.returncode == 2, done.stderr
    assert "PSEUDONYM_SECRET must be set" in done.stderr
    assert not (tmp_path / "data" / "pseudonym.secret").exists()


def test_a_taken_port_is_named_with_a_way_out(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve(tmp_path, PORT=str(port))
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert f"PORT={port + 1}" in done.stderr
    assert "serving on" not in done.stderr and "Traceback" not in done.stderr


async def test_a_normal_stop_ends_with_status_0(tmp_path: Path) -> None:
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        server = Serve(
            subprocess_env(DATA_DIR=str(tmp_path / "data"), LOG_LEVEL="WARNING"), tmp_path
        )
        server.start()
        try:
            await server.ready()
            assert await server.stop(sig) == 0, server.output()
        finally:
            server.kill_quietly()
        assert "Traceback" not in server.output()


def readme_commands() -> list[str]:
    """Return every command README.md shows in backticks that runs a module of the project."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    module = re.compile(r"\bpython3? -m (?:bot|bench)\b")
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", readme, flags=re.M | re.S)
    found = [
        line.split("#")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if module.search(line.split("#")[0])
    ]
    prose = re.sub(r"^```.*?^```", "", readme, flags=re.M | re.S)
    found += [c for c in re.findall(r"`([^`]+)`", prose) if module.search(c)]
    # Leave out the generic forms (`python -m bot …`, `… -m bot <command>`).
    return [" ".join(c.split()) for c in found if "…" not in c and "<command>" not in c]


def test_readme_commands_work_as_written_after_the_quick_start() -> None:
    """Rough edge: each is run from the project's .venv, and names options that exist."""
    commands = readme_commands()
    assert len(commands) >= 8, commands
    helps: dict[str, str] = {}
    for command in commands:
        assert command.startswith(".venv/bin/python -m "), command
        assert "|" not in command, f"a shell would read '|' as a pipe: {command}"
        words = command.split()
        if words[2] != "bot":
            continue
        sub = words[3]
        if sub not in helps:
            done = subprocess.run(
                [sys.executable, "-m", "bot", sub, "--help"],
                cwd=ROOT, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert done.returncode == 0, (command, done.stderr)
            helps[sub] = done.stdout
        for option in (w for w in words[4:] if w.startswith("--")):
            assert option in helps[sub], f"{command}: `{sub}` has no {option}"


# ---------------------------------------------------------------------------- compose (M-7, L-9)


def test_compose_has_no_default_passwords_and_keeps_addresses_out() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    compose = yaml.safe_load(text)
    assert "change-me" not in text
    assert "${POSTGRES_PASSWORD:?" in text
    app = compose["services"]["app"]["environment"]
    assert app["TRUSTED_PROXIES"], "the app must believe the proxy's X-Forwarded-For"
    proxy = compose["services"]["proxy"]
    assert any(str(p).endswith(":443") for p in proxy["ports"])
    assert "app" not in {
        name for name, service in compose["services"].items() if service.get("ports")
    }


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==[A-Za-z0-9.+!-]+(\s*;[^-]*)?(?=\s|$)")
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}(?=\s|$)")


def lock_entries(text: str) -> list[str]:
    """Return the requirement entries of a lock file, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    lines = (line.strip() for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def unhashed(text: str) -> list[str]:
    """Return every entry that is not an exact pin carrying at least one sha256 hash."""
    return [e for e in lock_entries(text) if not (_PIN.match(e) and _HASH.search(e))]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_check_sees_one_entry_without_a_hash() -> None:
    hashed = "a==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n"
    assert unhashed("# comment\n" + hashed) == []
    assert unhashed(hashed + "b==2.0\n") == ["b==2.0"]
    assert unhashed(hashed + "c>=1 \\\n    --hash=sha256:" + "1" * 64 + "\n") != []
    assert unhashed(hashed + "d==1 \\\n    --hash=sha256:abc\n") != []


def test_lock_file_pins_every_dependency_with_hashes() -> None:
    """L-8: the image and CI install exactly what was reviewed, each entry with its hash."""
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    entries = lock_entries(lock)
    assert len(entries) >= 30
    assert unhashed(lock) == []
    pinned = {_canonical(_PIN.match(e).group(1)) for e in entries}  # type: ignore[union-attr]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    for requirement in wanted:
        name = _canonical(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))  # type: ignore[union-attr]
        assert name in pinned, f"{name} is a dependency but not in requirements.lock"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --require-hashes" in dockerfile and "requirements.lock" in dockerfile
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in ci
