"""A simulated person on the web API: starts a conversation and walks a flow by its buttons.

Used by the web, scale and load benches. Choices are picked at random (seeded) among the
current flow's answers, never navigation, so each walk ends at the flow's result.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from bench.common import Connection

API = "/api/v1/conversations"
LANGUAGES = ("en", "lt", "ru", "uk")
#: Menu entries that lead into a whole checklist or the questionnaire.
FLOWS = {"job": "job_offer", "romance": "romance", "risk": "risk"}
#: Buttons that move around instead of answering.
NAVIGATION = {"back", "menu", "lang", "help", "show"}

#: Typed messages a person might send mid-flow (no danger words): they reach the detector
#: and the FAQ, then the question is shown again.
TEXTS = (
    "How much does the visa cost and who pays for it?",
    "Is it normal that they want an answer by Friday?",
    "Сколько стоит разрешение на работу в Польше?",
    "Чи потрібен мені договір, якщо робота лише на літо?",
    "Ar darbdavys turi sumokėti už kelionę?",
    "The agency says accommodation is included, is that usual for seasonal work in "
    "the Netherlands? They also mention a training week before the contract starts.",
    "Мне предлагают работу на складе в Германии, зарплата 2500 евро, жильё включено, "
    "но договор пришлют только после приезда. Это нормально?",
    "ok",
)


class ApiFailure(Exception):
    """The API answered with an unexpected status."""

    def __init__(self, status: int, where: str):
        super().__init__(f"{where}: HTTP {status}")
        self.status = status
        self.where = where


@dataclass
class WebPerson:
    """One conversation through the API, on its own connection and loopback address."""

    port: int
    address: str
    rng: random.Random
    flow_choice: str = "job"
    lang: str = "en"
    id: str = ""
    token: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    connection: Connection | None = None

    @property
    def flow(self) -> str:
        """Return the id of the flow this person walks."""
        return FLOWS[self.flow_choice]

    @property
    def done(self) -> bool:
        """Tell whether the last answer was the flow's result."""
        return any(m["kind"] == "result" for m in self.messages)

    async def start(self) -> float:
        """Start the conversation; return the latency in seconds."""
        self.connection = Connection(self.port, self.address)
        began = time.perf_counter()
        status, body = await self.connection.request("POST", API, {"lang": self.lang})
        latency = time.perf_counter() - began
        if status != 201:
            raise ApiFailure(status, "create")
        data = json.loads(body)
        self.id, self.token, self.messages = data["id"], data["token"], data["messages"]
        return latency

    def next_choice(self) -> str | None:
        """Return the button to press next, or None when the flow has ended."""
        if self.done:
            return None
        offered = [m for m in self.messages if m["choices"]]
        if not offered:
            return None
        ids = [c["id"] for c in offered[-1]["choices"]]
        entry = f"menu.main.{self.flow_choice}"
        if entry in ids:
            return entry
        mine = [i for i in ids if i.startswith(f"{self.flow}.")]
        others = [i for i in ids if i not in NAVIGATION and not i.startswith("lang")]
        pool = mine or others
        return self.rng.choice(pool) if pool else None

    async def send(self, body: dict[str, str]) -> float:
        """Send one message (a choice or text); return the latency in seconds."""
        assert self.connection is not None
        headers = {"Authorization": f"Bearer {self.token}"}
        began = time.perf_counter()
        status, raw = await self.connection.request(
            "POST", f"{API}/{self.id}/messages", body, headers
        )
        latency = time.perf_counter() - began
        if status != 200:
            raise ApiFailure(status, "step")
        self.messages = json.loads(raw)["messages"]
        self.steps += 1
        return latency

    async def pick(self, choice: str) -> float:
        """Press a button and remember the answer it gives."""
        latency = await self.send({"choice": choice})
        flow, _, rest = choice.partition(".")
        step, _, value = rest.partition(".")
        if flow == self.flow and value:
            self.answers[step] = value
        return latency

    async def type(self) -> float:
        """Type one of the sample texts."""
        return await self.send({"text": self.rng.choice(TEXTS)})

    async def pending(self) -> list[dict[str, Any]]:
        """Read back the pending prompt (as after a page reload)."""
        assert self.connection is not None
        headers = {"Authorization": f"Bearer {self.token}"}
        status, raw = await self.connection.request("GET", f"{API}/{self.id}", None, headers)
        if status != 200:
            raise ApiFailure(status, "pending")
        return json.loads(raw)["messages"]

    async def close(self) -> None:
        """Close the connection."""
        if self.connection is not None:
            await self.connection.close()
