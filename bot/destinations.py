"""What the bot can tell about a destination: minimum wage, agency checks, who helps there.

The texts live in `dialogs/destinations.yaml` (each with its source); the minimum wages in
`dialogs/wages.yaml`, the same figures the job-ad scanner uses, so a wage is written once.
A wage line names the rate in force on the day, its start date and its source's site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import bot
from bot.flows import fast_load

FILENAME = "destinations.yaml"
SYMBOLS = {"EUR": "€", "GBP": "£", "PLN": "zł", "NOK": "kr"}
TOPICS = ("wage", "agency", "inspectorate", "consulate", "passport")


@dataclass(frozen=True)
class Line:
    """One sentence to show (English msgid), with the wage it may name."""

    text: str
    amount: float | None = None
    symbol: str = ""
    since: date | None = None
    source: str | None = None


@dataclass(frozen=True)
class Rate:
    amount: float
    unit: str
    since: date
    source: str
    adult: bool


class Destinations:
    """Destination facts by country code (LT, GB, ...; OTHER for somewhere else)."""

    def __init__(self, countries: dict[str, dict[str, Any]], everywhere: dict[str, Any], wages):
        self.countries = countries
        self.everywhere = everywhere
        self.wages: dict[str, tuple[str, list[Rate]]] = wages

    @classmethod
    def load(cls, dialogs_dir: Path | None = None) -> Destinations:
        """Read destinations.yaml and wages.yaml; raise ValueError on a malformed entry."""
        directory = dialogs_dir or bot.DIALOGS_DIR
        data = fast_load((directory / FILENAME).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("kind") != "destinations":
            raise ValueError(f"{FILENAME}: not a `kind: destinations` file")
        countries = {str(k): v or {} for k, v in (data.get("countries") or {}).items()}
        everywhere = data.get("everywhere") or {}
        for code, topics in [*countries.items(), ("everywhere", everywhere)]:
            for topic, entries in topics.items():
                if topic not in TOPICS:
                    raise ValueError(f"{FILENAME}: {code}: unknown topic {topic!r}")
                for entry in entries:
                    if not isinstance(entry, dict) or not entry.get("text"):
                        raise ValueError(f"{FILENAME}: {code}.{topic}: an entry needs `text`")
        return cls(countries, everywhere, _wages(directory / "wages.yaml"))

    def lines(
        self, country: str | None, topics: tuple[str, ...], today: date, lang: str | None = None
    ) -> list[Line]:
        """Return the lines on these topics for `country`, in the order of `topics`.

        An entry with `langs` is for readers of those languages only (the Lithuanian
        consular line is not offered to someone who reads Ukrainian, and the other way).
        """
        found: list[Line] = []
        here = self.countries.get(country or "OTHER", {})
        for topic in topics:
            for entry in [*here.get(topic, ()), *self.everywhere.get(topic, ())]:
                if lang and entry.get("langs") and lang not in entry["langs"]:
                    continue
                line = self._line(country, entry, today)
                if line is not None:
                    found.append(line)
        return found

    def _line(self, country: str | None, entry: dict[str, Any], today: date) -> Line | None:
        unit = entry.get("unit")
        if not unit:
            return Line(str(entry["text"]))
        currency, rates = self.wages.get(country or "", ("", []))
        current = [r for r in rates if r.unit == unit and r.adult and r.since <= today]
        if not current:
            return None  # no rate in force: say nothing rather than something old
        rate = max(current, key=lambda r: r.since)
        host = urlparse(rate.source).netloc.removeprefix("www.") or rate.source
        return Line(
            str(entry["text"]), rate.amount, SYMBOLS.get(currency, currency), rate.since, host
        )


def _wages(path: Path) -> dict[str, tuple[str, list[Rate]]]:
    """Read the statutory minimum wages: country -> (currency, rates)."""
    data = fast_load(path.read_text(encoding="utf-8")) or {}
    found = {}
    for country in data.get("countries") or []:
        if not country.get("statutory") or country.get("check") is False:
            continue
        rates = []
        for raw in country.get("rates") or []:
            age = str(raw.get("age") or "")
            since = raw["valid_from"]
            since = since if isinstance(since, date) else date.fromisoformat(str(since))
            adult = not age or age.endswith("+")
            rates.append(Rate(float(raw["amount"]), raw["unit"], since, raw["source"], adult))
        found[str(country["country"])] = (str(country.get("currency", "")), rates)
    return found
