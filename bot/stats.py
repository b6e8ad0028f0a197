"""Aggregate statistics with small counts suppressed, for reports, the CLI and the dashboard.

The store keeps daily counts of anonymous events (no user key, no text). Every number this
module publishes is either exact and at least 5, or hidden:

* a count of 1 to 4 is shown as "<5" (primary suppression);
* a table that splits one total (conversations by day, by language, ...) shows its total,
  and the same total can be read off any other split of it. So a table is published only if,
  knowing that total, every "<5" cell could still be any of 1, 2, 3 or 4. Where that fails
  (one hidden cell is simply the total minus the rest), the smallest exact cells are hidden
  too and shown as "≥5" (secondary suppression); if even that is not enough, the table
  keeps its total and withholds its rows.

Each table is a one-way split (no cross-tabulations), so protecting each table against its
own total protects it against the others as well.

Across filters (--since, --campaign) and across days, reports are cut from one fixed set
of cells (`publishable_cells`): whole weeks up to last Sunday (so never today, and no
number changes while a week is still running), and per week, campaign, language, channel
and event a group of fewer than 5 is left out of every figure. Every published number
is then a sum of whole cells of at least 5, so the difference between any two reports,
whatever their filters, is such a sum as well: it cannot reveal a count of 1 to 4.

`python -m bot stats [--since DATE] [--campaign CODE] [--format table|csv|json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from bot.campaigns import is_valid_code, load_campaigns, stats_bucket
from bot.store import EventCount

THRESHOLD = 5
SMALL = "<5"
MASKED = "≥5"
WITHHELD_NOTE = "rows withheld: too few to split without revealing a small count"
GRAIN_NOTE = (
    "Whole weeks (Monday to Sunday) up to last Sunday; in each week, a group (campaign, "
    f"language, channel) with fewer than {THRESHOLD} of something is left out of every figure."
)


class EventSource(Protocol):
    """Anything that can list daily counters: the store."""

    async def events(
        self, since: date | None = None, campaign: str | None = None
    ) -> list[EventCount]: ...


@dataclass(frozen=True)
class Row:
    """One published cell: `value` is the exact count, or None when it is hidden."""

    key: str
    value: int | None
    shown: str


@dataclass(frozen=True)
class Table:
    """A published table; `total` is None when the table is not one split of a total."""

    name: str
    title: str
    rows: tuple[Row, ...]
    total: int | None = None
    total_shown: str | None = None
    withheld: bool = False

    def get(self, key: str) -> Row | None:
        """Return the row for `key`, if it is published."""
        return next((row for row in self.rows if row.key == key), None)


@dataclass(frozen=True)
class Report:
    """All published tables for one period and campaign filter."""

    since: date | None
    campaign: str | None
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        """Return the table called `name`."""
        return next(t for t in self.tables if t.name == name)

    def tables_starting(self, prefix: str) -> list[Table]:
        """Return the tables whose name starts with `prefix` (e.g. result levels per flow)."""
        return [t for t in self.tables if t.name.startswith(prefix)]


# Suppression --------------------------------------------------------------------------


def show(count: int) -> str:
    """Return how a single count is published: "0", "<5" or the exact number."""
    if count == 0:
        return "0"
    return SMALL if count < THRESHOLD else str(count)


def is_protected(small: Collection[int], masked: Collection[int], cap: int | None) -> bool:
    """Tell whether, knowing the total, each hidden small cell could still be any of 1-4.

    `small` are the hidden cells under the threshold, `masked` the exact cells hidden as
    "≥5" to protect them, `cap` the smallest cell still shown (masked cells are the smallest,
    so a reader knows they are at most `cap`; None when no cell is shown).
    """
    if not small:
        return True
    hidden = sum(small) + sum(masked)
    others = len(small) - 1
    # The rest of the hidden cells can add up to anything in [low, high].
    low = others + THRESHOLD * len(masked)
    high: float = 4 * others
    if masked:
        high = float("inf") if cap is None else high + cap * len(masked)
    return hidden - 4 >= low and hidden - 1 <= high


def split_table(name: str, title: str, counts: Mapping[str, int], *, by_key: bool = False) -> Table:
    """Publish one split of a total: suppress small cells, then whatever would reveal them."""
    counts = {key: n for key, n in counts.items() if n > 0}
    total = sum(counts.values())
    total_shown = show(total)
    if total == 0:
        return Table(name, title, (), 0, total_shown)
    if total < THRESHOLD:
        if len(counts) == 1:  # the only row is the total itself
            (key,) = counts
            return Table(name, title, (Row(key, None, SMALL),), None, total_shown)
        # Several rows adding up to at most 4 narrow each other down: show none of them.
        return Table(name, title, (), None, total_shown, withheld=True)
    small = [key for key, n in counts.items() if n < THRESHOLD]
    shown = sorted(
        (key for key in counts if counts[key] >= THRESHOLD), key=lambda k: (counts[k], k)
    )
    masked: list[str] = []
    while not is_protected(
        [counts[k] for k in small], [counts[k] for k in masked], counts[shown[0]] if shown else None
    ):
        if not shown:
            return Table(name, title, (), total, total_shown, withheld=True)
        masked.append(shown.pop(0))
    rows = [Row(k, None, SMALL) for k in small] + [Row(k, None, MASKED) for k in masked]
    rows += [Row(k, counts[k], str(counts[k])) for k in shown]
    if by_key:
        rows.sort(key=lambda row: row.key)
    else:
        # Exact rows by size; hidden rows after them by name, so their order reveals nothing.
        rows.sort(key=lambda row: (row.value is None, -(row.value or 0), row.key))
    return Table(name, title, tuple(rows), total, total_shown)


def count_table(name: str, title: str, counts: Mapping[str, int]) -> Table:
    """Publish counts that are not parts of one total (each row stands alone)."""
    rows = tuple(
        Row(key, n if n >= THRESHOLD or n == 0 else None, show(n)) for key, n in counts.items()
    )
    return Table(name, title, rows)


# Building the report ------------------------------------------------------------------


def _sum(events: Iterable[EventCount], key) -> Counter[str]:
    totals: Counter[str] = Counter()
    for event in events:
        totals[key(event)] += event.count
    return totals


def week_of(day: date) -> date:
    """Return the Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def publishable_cells(
    events: Iterable[EventCount], known: Collection[str], *, today: date
) -> list[EventCount]:
    """Return the one set of cells every report is cut from (see the module's notes).

    Daily counters become weekly cells (`day` is the week's Monday) per campaign bucket,
    language, channel, event and value; the running week is left out, and so is every
    cell under the threshold.
    """
    running = week_of(today)
    cells: Counter[tuple[date, str, str, str, str, str]] = Counter()
    for e in events:
        if e.day < running:
            bucket = stats_bucket(e.campaign, known)
            cells[(week_of(e.day), e.name, e.value, e.channel, e.lang, bucket)] += e.count
    return [EventCount(*cell, count=n) for cell, n in sorted(cells.items()) if n >= THRESHOLD]


def build_report(
    events: Iterable[EventCount],
    known: Collection[str],
    *,
    since: date | None = None,
    campaign: str | None = None,
    weekly: bool = False,
) -> Report:
    """Turn counters into published tables; unknown campaign codes count as "other".

    `weekly`: the counters are `publishable_cells`, so conversations are shown per week.
    """
    by_name: dict[str, list[EventCount]] = {}
    for event in events:
        by_name.setdefault(event.name, []).append(event)
    started = by_name.get("conversation_started", [])
    tables = [
        split_table(
            "conversations_by_week" if weekly else "conversations_by_day",
            "Conversations per week (from Monday)" if weekly else "Conversations per day",
            _sum(started, lambda e: e.day.isoformat()),
            by_key=True,
        ),
        split_table(
            "conversations_by_campaign",
            "Conversations by campaign",
            # Weekly cells already hold the bucket (a known code, "other" or "none").
            _sum(started, lambda e: e.campaign if weekly else stats_bucket(e.campaign, known)),
        ),
        split_table(
            "conversations_by_language",
            "Conversations by language",
            _sum(started, lambda e: e.lang or "unknown"),
        ),
        split_table(
            "conversations_by_channel",
            "Conversations by channel",
            _sum(started, lambda e: e.channel or "unknown"),
        ),
        split_table(
            "flows_started", "Checks started", _sum(by_name.get("flow_started", []), _value)
        ),
        split_table(
            "flows_completed",
            "Checks completed",
            _sum(by_name.get("flow_completed", []), _value),
        ),
    ]
    levels: dict[str, Counter[str]] = {}
    for event in by_name.get("result_level", []):
        flow, _, level = event.value.partition(":")
        levels.setdefault(flow, Counter())[level or "unknown"] += event.count
    for flow in sorted(levels):
        tables.append(split_table(f"results_{flow}", f"Result levels: {flow}", levels[flow]))
    handoffs = by_name.get("handoff", [])
    tables += [
        split_table(
            "danger_categories",
            "Danger signals detected",
            _sum(by_name.get("danger", []), _value),
        ),
        split_table(
            "handoffs_by_country",
            "Help contacts shown, by country",
            _sum(handoffs, lambda e: e.value.removesuffix(":urgent") or "unknown"),
        ),
        split_table(
            "handoffs_by_urgency",
            "Help contacts shown, urgent or not",
            _sum(handoffs, lambda e: "urgent" if e.value.endswith(":urgent") else "not urgent"),
        ),
        *relay_tables(by_name),
        count_table(
            "activity",
            "Other use",
            {
                "erase used": _total(by_name.get("erase", [])),
                "job ads scanned": _total(by_name.get("scan", [])),
                "questions answered": _total(by_name.get("faq", [])),
            },
        ),
    ]
    return Report(since, campaign, tuple(tables))


def relay_tables(by_name: Mapping[str, list[EventCount]]) -> list[Table]:
    """Publish "Write to a counsellor": chats requested, how soon they were first answered,
    and how often someone asked outside hours.

    Requested and answered are one split of one total (not answered, answered within <5m,
    5-15m, 15-60m, 60m+), never two tables: answered printed next to requested would give
    away an unanswered count of 1 to 4, and a split is suppressed as a whole. Answered is
    counted by its time bucket (noted together with each first answer). A chat requested
    late one week and answered early the next can leave a week with more answered than
    requested; "not answered" is then 0 and the total is what was answered.
    """
    relay = _sum(by_name.get("relay", []), _value)
    waits = _sum(by_name.get("relay_wait", []), _value)
    chats = {f"answered {bucket}": n for bucket, n in waits.items()}
    chats["not answered"] = max(relay["requested"] - sum(waits.values()), 0)
    return [
        split_table("relay_chats", "Counsellor chats requested, by time to first answer", chats),
        count_table(
            "relay_outside_hours",
            "Counsellor chats asked for outside hours",
            {"asked outside hours": relay["outside_hours"]},
        ),
    ]


def _value(event: EventCount) -> str:
    return event.value or "unknown"


def _total(events: Iterable[EventCount]) -> int:
    return sum(event.count for event in events)


async def load_report(
    store: EventSource,
    *,
    since: date | None = None,
    campaign: str | None = None,
    known: Collection[str] | None = None,
    today: date | None = None,
) -> Report:
    """Publish the weeks from `since`'s week on (and one campaign, or "other" / "none").

    Every filter cuts the same `publishable_cells`, so two reports never differ by less
    than a whole cell of at least 5.
    """
    if known is None:
        known = set(load_campaigns())
    today = today or datetime.now(UTC).date()
    start = week_of(since) if since else None
    cells = [
        cell
        for cell in publishable_cells(await store.events(None, None), known, today=today)
        if (start is None or cell.day >= start) and (campaign is None or cell.campaign == campaign)
    ]
    return build_report(cells, known, since=start, campaign=campaign, weekly=True)


# Output -------------------------------------------------------------------------------


def _heading(report: Report) -> str:
    period = f"since {report.since.isoformat()}" if report.since else "all time"
    scope = f"campaign {report.campaign}" if report.campaign else "all campaigns"
    return f"Safe Abroad statistics, {period}, {scope}"


LEGEND = (
    f"Counts of 1-4 are shown as {SMALL}; {MASKED} hides a larger count that would let a "
    f"{SMALL} be worked out from the total. {GRAIN_NOTE}"
)


def render_table(report: Report) -> str:
    """Return the report as aligned plain-text tables."""
    lines = [_heading(report), LEGEND, ""]
    for table in report.tables:
        lines.append(table.title)
        keys = [row.key for row in table.rows] + ["total"]
        width = max(len(k) for k in keys) + 2
        for row in table.rows:
            lines.append(f"  {row.key:<{width}}{row.shown:>6}")
        if table.withheld:
            lines.append(f"  ({WITHHELD_NOTE})")
        elif not table.rows and table.total_shown is not None:
            lines.append("  (nothing yet)")
        if table.total_shown is not None:
            lines.append(f"  {'total':<{width}}{table.total_shown:>6}")
        lines.append("")
    return "\n".join(lines)


def render_csv(report: Report) -> str:
    """Return the report as CSV: one line per published cell, then the table's total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", "key", "count"])
    for table in report.tables:
        for row in table.rows:
            writer.writerow([table.name, row.key, row.shown])
        if table.withheld:
            writer.writerow([table.name, "(withheld)", ""])
        if table.total_shown is not None:
            writer.writerow([table.name, "total", table.total_shown])
    return out.getvalue()


def _json_count(value: int | None, shown: str) -> int | str:
    return value if value is not None else shown


def report_json(report: Report) -> dict[str, Any]:
    """Return the report as JSON-ready data: exact counts as numbers, hidden ones as text."""
    return {
        "since": report.since.isoformat() if report.since else None,
        "campaign": report.campaign,
        "threshold": THRESHOLD,
        "note": GRAIN_NOTE,
        "tables": [
            {
                "name": table.name,
                "title": table.title,
                "rows": [
                    {"key": r.key, "count": _json_count(r.value, r.shown)} for r in table.rows
                ],
                "total": None
                if table.total_shown is None
                else _json_count(table.total, table.total_shown),
                "withheld": table.withheld,
            }
            for table in report.tables
        ],
    }


def render_json(report: Report) -> str:
    """Return the report as a JSON document."""
    return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"


RENDERERS = {"table": render_table, "csv": render_csv, "json": render_json}


# Command line -------------------------------------------------------------------------


def stats_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `stats` options."""
    parser.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    parser.add_argument("--campaign", help='one campaign code, or "other" or "none"')
    parser.add_argument("--format", choices=tuple(RENDERERS), default="table")


async def _read(
    url: str, since: date | None, campaign: str | None, known: Collection[str]
) -> Report:
    from bot.store import open_store

    # Reading never changes the schema: an analyst may hold read-only credentials.
    store = await open_store(url, migrate=False)
    try:
        return await load_report(store, since=since, campaign=campaign, known=known)
    finally:
        await store.close()


def stats_command(args: argparse.Namespace) -> int:
    """Print aggregate statistics from DATABASE_URL with small counts suppressed."""
    from bot.settings import Settings

    if args.campaign is not None and not is_valid_code(args.campaign):
        print(f"error: not a valid campaign code: {args.campaign!r}", file=sys.stderr)
        return 2
    from bot.store import StoreUnavailable

    try:
        known = set(load_campaigns())
    except ValueError as error:
        print(f"error: dialogs/campaigns.yaml: {error}", file=sys.stderr)
        return 1
    url = Settings().resolved_database_url()
    try:
        report = asyncio.run(_read(url, args.since, args.campaign, known))
    except StoreUnavailable as error:
        print(
            f"error: cannot read the database ({error}); is DATABASE_URL right, "
            "and has `python -m bot migrate` run?",
            file=sys.stderr,
        )
        return 1
    sys.stdout.write(RENDERERS[args.format](report))
    return 0
