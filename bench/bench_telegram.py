"""Telegram webhook benchmark: updates per second through `/telegram/webhook`, vs a bare PTB bot.

Our side is the real `python -m bot serve` in webhook mode (PUBLIC_BASE_URL set): each update
goes through the secret check, the redelivery guard, python-telegram-bot, the conversation
service (detector, engine, i18n, store) and out as Bot API calls to a loopback stand-in
(`tests/telegram_standin.py`, served by this process). The baseline is
`bench/baseline_telegram.py`: PTB with one handler that does the same read-update-commit and
sends one reply. Simulated people send /start, then press the buttons they are shown (a
fifth of the time they type instead) until the flow ends, then start again.

    python -m bench.bench_telegram            # SQLite, 1, 8 and 32 people at once
    python -m bench.bench_telegram --quick
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import secrets
import time
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from bench.baseline_app import prepare
from bench.bench_web import HEADERS as WEB_HEADERS
from bench.bench_web import Level, bounded
from bench.common import (
    PYTHON,
    Connection,
    Samples,
    Server,
    bench_env,
    emit,
    free_port,
    loopback_addresses,
    machine_table,
    serve_command,
    sqlite_url,
    table,
    temp_dir,
)
from bench.web_flow import FLOWS, NAVIGATION, TEXTS
from tests.telegram_builders import TgUser, command, message, press
from tests.telegram_standin import BOT_USER, TOKEN, BotApiStandIn, serve

LEVELS = (1, 8, 32)
STEPS_PER_CYCLE = 18
TEXT_SHARE = 0.2
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
USER_BASE = 700_000_000


@dataclass
class Person:
    """One Telegram user talking to the bot in a private chat."""

    user: TgUser
    rng: random.Random
    flow_choice: str = "job"
    steps: int = STEPS_PER_CYCLE
    connection: Connection | None = None

    def next_update(self, keyboard: dict[str, Any] | None, real: bool) -> dict[str, Any]:
        """Return the next update: /start, a typed text or a press of a shown button."""
        if self.steps >= STEPS_PER_CYCLE:
            self.steps = 0
            self.flow_choice = self.rng.choice(list(FLOWS))
            return command(self.user, "start")
        self.steps += 1
        if self.rng.random() < TEXT_SHARE:
            return message(self.user, self.rng.choice(TEXTS))
        if not real:  # the baseline shows no buttons: press one as if it did
            shown = {"message_id": 1, "date": int(time.time()), "chat": self.user.chat()}
            return press(self.user, {**shown, "from": BOT_USER, "text": "?"}, "job_offer.fee.no")
        data = self._choice(keyboard)
        if data is None or keyboard is None:
            self.steps = STEPS_PER_CYCLE
            return self.next_update(None, real)
        return press(self.user, keyboard, data)

    def _choice(self, keyboard: dict[str, Any] | None) -> str | None:
        if keyboard is None:
            return None
        ids = [
            b["callback_data"] for row in keyboard["reply_markup"]["inline_keyboard"] for b in row
        ]
        entry = f"menu.main.{self.flow_choice}"
        if entry in ids:
            return entry
        flow = FLOWS[self.flow_choice]
        mine = [i for i in ids if i.startswith(f"{flow}.")]
        pool = mine or [i for i in ids if i not in NAVIGATION and not i.startswith("lang")]
        if not pool:
            # A new person is asked for their language first. Without an answer they would
            # send /start again and again, and a level with many new people (8 and 32) would
            # be mostly /start instead of presses.
            pool = [i for i in ids if i.startswith("lang:")]
        return self.rng.choice(pool) if pool else None


@dataclass
class Harness:
    """The stand-in, the last keyboard each chat was shown, and fresh update ids."""

    standin: BotApiStandIn
    secret: str
    keyboards: dict[int, dict[str, Any]] = field(default_factory=dict)
    update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        send = self.standin._api_sendMessage

        def recorded(params: dict[str, Any]) -> dict[str, Any]:
            sent = send(params)
            if sent.get("reply_markup"):
                self.keyboards[sent["chat"]["id"]] = sent
            return sent

        self.standin._api_sendMessage = recorded  # type: ignore[method-assign]

    def forget(self) -> None:
        """Drop what the stand-in recorded, so memory stays flat across runs."""
        self.standin.calls.clear()
        self.standin.messages.clear()


async def run_level(
    harness: Harness,
    server: Server,
    real: bool,
    clients: int,
    duration: float,
    max_requests: int,
    seed: int,
) -> Samples:
    """Post updates from `clients` people at once; time each webhook answer."""
    rng = random.Random(seed)
    addresses = loopback_addresses(seed * 1000)
    people = [
        Person(TgUser(USER_BASE + seed * 1000 + i), random.Random(rng.random()))
        for i in range(clients)
    ]
    headers = {SECRET_HEADER: harness.secret}

    async def one(client: int) -> float:
        person = people[client]
        if person.connection is None:
            person.connection = Connection(server.port, next(addresses))
        update = person.next_update(harness.keyboards.get(person.user.id), real)
        update = {"update_id": next(harness.update_ids), **update}
        began = time.perf_counter()
        status, body = await person.connection.request("POST", "/telegram/webhook", update, headers)
        latency = time.perf_counter() - began
        if status != 200:
            raise RuntimeError(f"webhook HTTP {status}")
        if body:  # a method in the response (ours answers a press there): Telegram runs it
            harness.standin.run_reply(body)
        return latency

    harness.forget()  # count only this run's Bot API calls
    load_cpu = time.process_time()
    try:
        samples = await bounded(clients, duration, max_requests, one, server)
        # This process's CPU per update: the clients, and the stand-in serving the calls.
        samples.load_cpu_ms = (  # type: ignore[attr-defined]
            (time.process_time() - load_cpu) * 1000 / max(samples.count, 1)
        )
        # Bot API calls per answered update: made over HTTP, and given in webhook responses.
        calls = harness.standin.calls
        replied = sum(1 for call in calls if call.in_reply)
        samples.calls = (len(calls) - replied) / max(samples.count, 1)  # type: ignore[attr-defined]
        samples.in_reply = replied / max(samples.count, 1)  # type: ignore[attr-defined]
        return samples
    finally:
        for person in people:
            if person.connection is not None:
                await person.connection.close()
        harness.forget()


async def measure(args: argparse.Namespace) -> list[Level]:
    """Start the stand-in, both bots, and run every level interleaved."""
    standin = BotApiStandIn()
    secret = secrets.token_urlsafe(32)
    harness = Harness(standin, secret)
    levels: list[Level] = []
    with temp_dir() as folder:
        url = sqlite_url(folder)
        await prepare(url, 10_000)
        async with serve(standin.app) as api:
            ours_port, base_port = free_port(), free_port()
            telegram = {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": f"{api}/bot",
                "TELEGRAM_WEBHOOK_SECRET": secret,
            }
            env = bench_env(folder, url, **telegram)
            ours = Server(
                serve_command(ours_port),
                {**env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{ours_port}"},
                ours_port,
                folder / "serve.log",
            )
            base = Server(
                [
                    *(PYTHON, "-m", "uvicorn", "bench.baseline_telegram:app"),
                    *("--port", str(base_port), "--no-access-log", "--log-level", "warning"),
                    *("--ws", "none"),
                ],
                env,
                base_port,
                folder / "base.log",
            )
            # Starting blocks while polling; the stand-in must keep answering meanwhile.
            await asyncio.to_thread(ours.start)
            try:
                await asyncio.to_thread(base.start)
                try:
                    seeds = itertools.count(1)
                    for clients in args.levels:
                        level = Level(clients)
                        for real, server in ((True, ours), (False, base)):
                            await run_level(
                                harness, server, real, clients, args.warmup, args.max, next(seeds)
                            )
                        for run in range(args.runs):
                            order = [("base", False, base), ("ours", True, ours)]
                            for name, real, server in order if run % 2 == 0 else order[::-1]:
                                samples = await run_level(
                                    harness,
                                    server,
                                    real,
                                    clients,
                                    args.duration,
                                    args.max,
                                    next(seeds),
                                )
                                getattr(level, name).append(samples)
                        levels.append(level)
                finally:
                    await asyncio.to_thread(base.stop)
            finally:
                await asyncio.to_thread(ours.stop)
    return levels


def main(argv: list[str] | None = None) -> int:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds per level")
    parser.add_argument("--max", type=int, default=4000, help="updates per run at most")
    parser.add_argument("--json", help="also write raw numbers here")
    parser.add_argument(
        "--levels",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=LEVELS,
        help="people at once per level, comma-separated (default 1,8,32)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.duration, args.warmup, args.max = 1, 0.5, 0.2, 40
    levels = asyncio.run(measure(args))
    headers = [
        h.replace("steps/s", "updates/s")
        .replace("req/s", "updates/s")
        .replace("/step", "/update")
        .replace("/req", "/update")
        for h in WEB_HEADERS
    ]
    text = table(headers, [level.row("sqlite (1 worker)") for level in levels])
    text += (
        "\n\nBot API calls per update (medians; over HTTP + in the webhook response), and the"
        " load process's CPU ms per update (the clients and the Bot API stand-in):"
    )
    keys = ("calls", "in_reply", "load_cpu_ms")
    for level in levels:
        ours = [median([getattr(s, k) for s in level.ours]) for k in keys]
        base = [median([getattr(s, k) for s in level.base]) for k in keys]
        text += (
            f"\n- {level.clients} client(s): ours {ours[0]:.2f} + {ours[1]:.2f} calls, "
            f"{ours[2]:.2f} ms; baseline {base[0]:.2f} + {base[1]:.2f} calls, {base[2]:.2f} ms"
        )
    text += (
        f"\n\nMedians over {args.runs} run(s) of {args.duration:g} s (at most {args.max} "
        f"updates) per level; {int(TEXT_SHARE * 100)}% of updates are typed text, the rest "
        "/start and button presses. Ours answers a press in the webhook's response, takes "
        "its keyboard away and sends a turn's replies as one message when they fit; the "
        "baseline answers the press by a call and sends one message. The Bot API stand-in "
        "runs in the load process and also runs a method given in a webhook response.\n\n"
        + machine_table()
    )
    data = [
        {
            "clients": lv.clients,
            "ours": [vars(s) for s in lv.ours],
            "base": [vars(s) for s in lv.base],
        }
        for lv in levels
    ]
    for entry in data:
        for samples in entry["ours"] + entry["base"]:
            samples.pop("latencies")
    emit("Telegram webhook step vs a bare PTB handler", text, data, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
