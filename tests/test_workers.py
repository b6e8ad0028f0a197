"""Two workers, one PostgreSQL: interleaved and simultaneous answers are never lost.

Two separate `python -m bot serve` processes (as two uvicorn workers behind a balancer)
share one fresh PostgreSQL database and one PSEUDONYM_SECRET. Twenty conversations in four
languages go through the whole job-offer checklist at once; each answer goes to the other
worker than the last, and every second question is answered on BOTH workers at the same
moment (the same button twice, or two different buttons), with a reload (GET) alongside.

At the end every conversation is read straight from the database: each answer a worker
confirmed is there and nothing else is, exactly one of each simultaneous pair won, the
state is valid for the engine, and the version counts every accepted request (a lost
write would leave it short).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.engine import Engine
from bot.pseudonym import pseudonym
from bot.store import open_store
from tests.privacy_helpers import OUT_OF_DATE, Serve, subprocess_env, t

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

PSEUDONYM_SECRET = "two-workers-one-secret-0123456789abcdef-padding"
CONVERSATIONS = 20
#: Conversations in flight at once: up to three requests each, so at most ~30 database
#: connections in all; the local server is shared and allows 100.
IN_FLIGHT = 10
RETRIES = 50
LANGS = ("lt", "ru", "uk", "en")
API = "/api/v1/conversations"


@dataclass
class Ledger:
    """What the workers confirmed for one conversation."""

    id: str = ""
    lang: str = "en"
    #: step -> option, for every answer a worker said it applied.
    applied: dict[str, str] = field(default_factory=dict)
    #: Accepted POSTs to /messages: each is exactly one write.
    writes: int = 0
    races: int = 0
    requests: int = 0
    #: "Try again in a minute" answers (the database refused a connection); retried.
    busy: int = 0


@pytest.fixture
async def workers(postgres_url: str, tmp_path: Path) -> AsyncIterator[list[Serve]]:
    """Two `serve` processes on the same database, ready."""
    started = []
    for n in range(2):
        env = subprocess_env(
            DATABASE_URL=postgres_url,
            PSEUDONYM_SECRET=PSEUDONYM_SECRET,
            DATA_DIR=str(tmp_path / f"worker{n}" / "data"),
            LOG_LEVEL="WARNING",
            RATE_LIMIT_PER_CONVERSATION="600",
            # The test plays the balancer: its X-Forwarded-For is believed (TRUSTED_PROXIES).
            TRUSTED_PROXIES="127.0.0.1",
        )
        started.append(Serve(env, cwd=tmp_path / f"worker{n}").start())
    try:
        await asyncio.gather(*(w.ready() for w in started))
        yield started
    finally:
        for worker in started:
            worker.kill_quietly()


def job_choices(messages: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for m in messages for c in m["choices"] if c["id"].startswith("job_offer.")]


def out_of_date(messages: list[dict[str, Any]], lang: str) -> bool:
    return any(m["text"] == t(lang, OUT_OF_DATE) for m in messages)


async def hold(n: int, clients: list[httpx.AsyncClient]) -> Ledger:
    """Take one conversation through the checklist, switching and racing workers."""
    rng = random.Random(n)
    ledger = Ledger(lang=LANGS[n % len(LANGS)])
    # Behind a reverse proxy: each person has their own address (rate limits are per address).
    proxy = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
    created = await clients[n % 2].post(API, json={"lang": ledger.lang}, headers=proxy)
    assert created.status_code == 201, created.text
    ledger.id, token = created.json()["id"], created.json()["token"]
    headers = {**proxy, "Authorization": f"Bearer {token}"}
    path = f"{API}/{ledger.id}"

    async def call(worker: int, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request; on 503 (try again in a minute) do as the person would: retry."""
        for _ in range(RETRIES):
            response = await clients[worker].request(method, url, headers=headers, **kwargs)
            ledger.requests += 1
            if response.status_code != 503:
                assert response.status_code == 200, response.text
                return response
            ledger.busy += 1
            await asyncio.sleep(0.1)
        raise AssertionError(f"still 503 after {RETRIES} tries")

    async def post(worker: int, choice: str) -> httpx.Response:
        response = await call(worker, "POST", f"{path}/messages", json={"choice": choice})
        ledger.writes += 1
        return response

    messages = (await post((n + 1) % 2, "menu.main.job")).json()["messages"]
    step = 0
    while offered := job_choices(messages):
        step += 1
        if step % 2:  # one answer, to the other worker than last time
            choice = rng.choice(offered)
            messages = (await post((n + step) % 2, choice)).json()["messages"]
            assert not out_of_date(messages, ledger.lang)
            winners = [(choice, messages)]
        else:  # both workers at once (same button, or two different ones) and a reload
            first = rng.choice(offered)
            second = first if step % 4 == 0 else rng.choice(offered)
            one, two, _reload = await asyncio.gather(
                post(0, first), post(1, second), call(step % 2, "GET", path)
            )
            ledger.races += 1
            winners = [
                (choice, r.json()["messages"])
                for choice, r in ((first, one), (second, two))
                if not out_of_date(r.json()["messages"], ledger.lang)
            ]
            assert len(winners) == 1, f"{len(winners)} of two simultaneous answers applied"
            messages = winners[0][1]
        _flow, step_id, option = winners[0][0].split(".")
        ledger.applied[step_id] = option
    return ledger


@pytest.mark.postgres
async def test_two_workers_on_one_postgres_lose_no_answer(
    workers: list[Serve], postgres_url: str, engine: Engine
) -> None:
    started = time.monotonic()
    async with (
        httpx.AsyncClient(base_url=workers[0].url, timeout=60) as zero,
        httpx.AsyncClient(base_url=workers[1].url, timeout=60) as one,
    ):
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def gated(n: int) -> Ledger:
            async with gate:
                return await hold(n, [zero, one])

        ledgers = await asyncio.gather(*(gated(n) for n in range(CONVERSATIONS)))
    elapsed = time.monotonic() - started

    store = await open_store(postgres_url, migrate=False)
    try:
        for ledger in ledgers:
            key = pseudonym(PSEUDONYM_SECRET.encode(), "web", ledger.id)
            stored = await store.get(key)
            assert stored is not None
            state = stored.state
            assert state["answers"] == ledger.applied  # every confirmed answer, nothing else
            assert stored.version == 1 + ledger.writes  # no write was lost or doubled
            assert engine._checked(state) is not None  # a valid state for the engine
            assert state["flow"] == "job_offer" and state["lang"] == ledger.lang
            assert [s for _f, s in state["trail"]] == list(ledger.applied)
            assert engine.flows["job_offer"].step(state["step"]).type == "result"
    finally:
        await store.close()

    answers = sum(len(ledger.applied) for ledger in ledgers)
    requests = sum(ledger.requests for ledger in ledgers) + CONVERSATIONS
    races = sum(ledger.races for ledger in ledgers)
    busy = sum(ledger.busy for ledger in ledgers)
    assert answers >= CONVERSATIONS * 15
    print(
        f"\n2 workers, 1 PostgreSQL: {CONVERSATIONS} conversations, {requests} requests, "
        f"{answers} answers confirmed and found, 0 lost, {races} simultaneous pairs "
        f"(exactly one applied each), {busy} try-again answers retried, {elapsed:.1f} s"
    )
    for worker in workers:
        output = worker.output()
        assert "Traceback" not in output and " ERROR " not in output, output


async def test_serve_with_several_workers_keeps_structured_logs(tmp_path: Path) -> None:
    server = Serve(
        subprocess_env(DATA_DIR=str(tmp_path / "data"), LOG_FORMAT="json", LOG_LEVEL="INFO"),
        cwd=tmp_path,
        args=("--workers", "2"),
    )
    try:
        server.start()
        await server.ready()
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            assert (await http.post(API, json={"lang": "en"})).status_code == 201
        await server.stop()
    finally:
        server.kill_quietly()
    lines = [line for line in server.output().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), lines
    assert any("POST /api/v1/conversations 201" in line for line in lines), lines
