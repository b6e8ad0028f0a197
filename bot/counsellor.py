"""The counsellor desk: who answers in writing, when, in which languages (configuration only).

An NGO turns "Write to a counsellor" on with COUNSELLOR_CHAT_ID (its Telegram forum group),
COUNSELLOR_ORGANISATION, COUNSELLOR_HOURS, COUNSELLOR_TIMEZONE and COUNSELLOR_LANGUAGES.
`Desk` holds that and answers the two questions the engine asks: is someone answering
now, and how to say the hours to a person in their own time zone. No I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_day_names

from bot import LANGUAGES

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = 7 * 24 * 60
_RANGE = re.compile(
    r"^(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+(?P<h1>\d{1,2}):(?P<m1>\d\d)-(?P<h2>\d{1,2}):(?P<m2>\d\d)$"
)

#: Where a person most likely is, by the country they named (for showing hours in their time).
COUNTRY_ZONES = {
    "LT": "Europe/Vilnius",
    "UA": "Europe/Kyiv",
    "DE": "Europe/Berlin",
    "GB": "Europe/London",
    "NO": "Europe/Oslo",
    "NL": "Europe/Amsterdam",
    "PL": "Europe/Warsaw",
    "IE": "Europe/Dublin",
    "SE": "Europe/Stockholm",
    "DK": "Europe/Copenhagen",
    "FI": "Europe/Helsinki",
    "LV": "Europe/Riga",
    "EE": "Europe/Tallinn",
}


class DeskError(ValueError):
    """The counsellor configuration cannot be used (said in words an NGO can act on)."""


def parse_hours(spec: str) -> list[tuple[int, int]]:
    """Parse "mon-fri 09:00-18:00, sat 10:00-14:00" into weekly minute ranges [start, end)."""
    ranges: list[tuple[int, int]] = []
    for part in filter(None, (p.strip().lower() for p in re.split(r"[,;]", spec))):
        if part in ("always", "24/7"):
            return [(0, WEEK)]
        match = _RANGE.match(re.sub(r"\s*[–—]\s*", "-", part))
        if match is None or match["d1"] not in DAYS or (match["d2"] or "mon") not in DAYS:
            raise DeskError(
                f"COUNSELLOR_HOURS: cannot read {part!r} (write e.g. mon-fri 09:00-18:00)"
            )
        first = DAYS.index(match["d1"])
        last = DAYS.index(match["d2"]) if match["d2"] else first
        start = int(match["h1"]) * 60 + int(match["m1"])
        end = int(match["h2"]) * 60 + int(match["m2"])
        if not (0 <= start < end <= 24 * 60) or int(match["m1"]) > 59 or int(match["m2"]) > 59:
            raise DeskError(f"COUNSELLOR_HOURS: {part!r} does not end after it starts")
        day = first
        while True:
            ranges.append((day * 1440 + start, day * 1440 + end))
            if day == last:
                break
            day = (day + 1) % 7
    if not ranges:
        raise DeskError("COUNSELLOR_HOURS is empty (write e.g. mon-fri 09:00-18:00, or always)")
    return sorted(ranges)


def _week_minute(moment: datetime) -> int:
    return moment.weekday() * 1440 + moment.hour * 60 + moment.minute


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DeskError(f"COUNSELLOR_TIMEZONE: unknown time zone {name!r}") from None


@dataclass(frozen=True)
class Desk:
    """A configured counsellor desk."""

    chat_id: int
    organisation: str
    hours: str
    timezone: str
    languages: tuple[str, ...]
    #: Minutes after which a person still unanswered is told so and given the numbers.
    wait_minutes: int = 10

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise DeskError("; ".join(problems))

    def problems(self) -> list[str]:
        """Say what is wrong with the configuration (empty: fine)."""
        found = []
        if self.chat_id >= 0:
            found.append(
                "COUNSELLOR_CHAT_ID must be a group's id (a negative number, e.g. -1001234567890)"
            )
        if not self.organisation.strip():
            found.append("COUNSELLOR_ORGANISATION is empty: people must know who will read them")
        try:
            parse_hours(self.hours)
        except DeskError as error:
            found.append(str(error))
        try:
            _zone(self.timezone)
        except DeskError as error:
            found.append(str(error))
        unknown = [lang for lang in self.languages if lang not in LANGUAGES]
        if not self.languages or unknown:
            found.append(
                f"COUNSELLOR_LANGUAGES must list some of {', '.join(LANGUAGES)}"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        if self.wait_minutes < 1:
            found.append("COUNSELLOR_WAIT_MINUTES must be at least 1")
        return found

    def is_open(self, now: datetime) -> bool:
        """True when counsellors answer at `now` (an aware datetime)."""
        minute = _week_minute(now.astimezone(_zone(self.timezone)))
        return any(start <= minute < end for start, end in parse_hours(self.hours))

    def hours_for(self, lang: str, country: str | None, now: datetime) -> tuple[str, str]:
        """Return (the hours as lines like "Mon–Fri 09:00–18:00", the zone they are in).

        Shown in the person's time when their country is known, else in the desk's own
        zone; the zone is named by its current UTC offset (and "your time" is said by the
        caller when it is the person's).
        """
        own = _zone(self.timezone)
        zone = ZoneInfo(COUNTRY_ZONES[country]) if country in COUNTRY_ZONES else own
        shift = _offset(zone, now) - _offset(own, now)
        moved = []
        for start, end in parse_hours(self.hours):
            start, end = start + shift, end + shift
            moved += _wrap(start, end)
        names = get_day_names("abbreviated", locale=lang)
        return _describe(moved, [names[i] for i in range(7)]), _utc_label(zone, now)


def _offset(zone: ZoneInfo, now: datetime) -> int:
    delta = now.astimezone(zone).utcoffset() or timedelta(0)
    return int(delta.total_seconds() // 60)


def _utc_label(zone: ZoneInfo, now: datetime) -> str:
    minutes = _offset(zone, now)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _wrap(start: int, end: int) -> list[tuple[int, int]]:
    """Split a shifted weekly range at the week's edges and at midnights."""
    start, end = start % WEEK, start % WEEK + (end - start)
    pieces = []
    while start < end:
        day_end = (start // 1440 + 1) * 1440
        stop = min(end, day_end)
        pieces.append((start % WEEK, (start % WEEK) + (stop - start)))
        start = stop
    return pieces


def _describe(ranges: list[tuple[int, int]], day_names: list[str]) -> str:
    """Group days with the same hours: "Mon–Fri 09:00–18:00"."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    for start, end in sorted(ranges):
        by_day.setdefault(start // 1440, []).append((start % 1440, end - start // 1440 * 1440))
    if sum(e - s for s, e in ranges) >= WEEK:
        return "24/7"
    lines: list[str] = []
    days = sorted(by_day)
    i = 0
    while i < len(days):
        j = i
        while (
            j + 1 < len(days)
            and days[j + 1] == days[j] + 1
            and by_day[days[j + 1]] == by_day[days[i]]
        ):
            j += 1
        span = day_names[days[i]] if i == j else f"{day_names[days[i]]}–{day_names[days[j]]}"
        times = ", ".join(f"{_clock(s)}–{_clock(e)}" for s, e in by_day[days[i]])
        lines.append(f"{span} {times}")
        i = j + 1
    return "; ".join(lines)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}" if minute < 1440 else "24:00"


def desk_from_settings(settings: object) -> Desk | None:
    """Return the configured desk, None when the relay is off; raise DeskError if broken."""
    chat_id = getattr(settings, "counsellor_chat_id", None)
    if chat_id is None:
        return None
    langs = tuple(
        p.strip().lower()
        for p in str(getattr(settings, "counsellor_languages", "")).replace(",", " ").split()
    )
    return Desk(
        chat_id=int(chat_id),
        organisation=str(getattr(settings, "counsellor_organisation", "")),
        hours=str(getattr(settings, "counsellor_hours", "")),
        timezone=str(getattr(settings, "counsellor_timezone", "Europe/Vilnius")),
        languages=langs,
        wait_minutes=int(getattr(settings, "counsellor_wait_minutes", 10)),
    )


def utcnow() -> datetime:
    """The current time, aware (the engine's default clock)."""
    return datetime.now(UTC)
