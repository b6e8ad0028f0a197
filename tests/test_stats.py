"""Statistics: small counts never show, not even as a difference from a total; CLI output."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import ROOT
from bot.stats import (
    MASKED,
    SMALL,
    Row,
    Table,
    build_report,
    load_report,
    render_csv,
    render_json,
    render_table,
    show,
    split_table,
)
from bot.store import EventCount, InMemoryStore, open_store

DAY = date(2026, 3, 2)
#: A Thursday well after DAY: statistics stop at the Sunday before it.
TODAY_FOR_TEST = date(2026, 4, 2)
KNOWN = {"posters", "job_fairs"}


def event(name: str, n: int, *, value: str = "", day: date = DAY, **dims: str) -> EventCount:
    return EventCount(
        day=day,
        name=name,
        value=value,
        channel=dims.get("channel", "web"),
        lang=dims.get("lang", "lt"),
        campaign=dims.get("campaign", "posters"),
        count=n,
    )


def readable(cell: str) -> int | None:
    """Return the exact number a published cell states, or None for a hidden one."""
    return None if cell in (SMALL, MASKED) else int(cell)


def what_a_reader_can_work_out(table: Table) -> list[set[int]]:
    """For each "<5" cell: every value consistent with the published cells and total."""
    hidden = [row for row in table.rows if row.value is None]
    exact = [row.value for row in table.rows if row.value is not None]
    total = readable(table.total_shown)
    assert total is not None, "a hidden total needs no differencing"
    cap = min(exact, default=total)  # "≥5" cells were the smallest exact ones
    ranges = [range(1, 5) if r.shown == SMALL else range(5, cap + 1) for r in hidden]
    rest = total - sum(exact)

    def sums(parts: list[range]) -> set[int]:
        reachable = {0}
        for part in parts:
            reachable = {s + v for s in reachable for v in part if s + v <= rest}
        return reachable

    return [
        {v for v in ranges[i] if rest - v in sums(ranges[:i] + ranges[i + 1 :])}
        for i, row in enumerate(hidden)
        if row.shown == SMALL
    ]


# Single counts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0"), (1, SMALL), (4, SMALL), (5, "5"), (37, "37")]
)
def test_counts_under_five_show_as_less_than_five(count, shown):
    assert show(count) == shown


def test_one_small_cell_is_not_given_away_by_the_total():
    table = split_table("lang", "By language", {"lt": 30, "ru": 12, "uk": 2})
    cells = {row.key: row.shown for row in table.rows}
    assert cells == {"lt": "30", "ru": MASKED, "uk": SMALL}
    assert table.total_shown == "44"
    # 44 - 30 = 14 is uk + ru; with ru at least 5, uk could be anything from 1 to 4.
    assert what_a_reader_can_work_out(table) == [{1, 2, 3, 4}]


def test_two_small_cells_that_would_pin_each_other_down_are_protected():
    # Naively: total 10, lt 8, so ru + uk = 2, and each must be exactly 1.
    table = split_table("lang", "By language", {"lt": 8, "ru": 1, "uk": 1})
    assert "1" not in [row.shown for row in table.rows]
    if table.withheld:
        assert table.rows == ()
    else:
        assert all(seen == {1, 2, 3, 4} for seen in what_a_reader_can_work_out(table))


def test_a_split_that_cannot_be_protected_keeps_only_its_total():
    table = split_table("results", "Results", {"low": 5, "high": 3, "medium": 1})
    assert table.withheld and table.rows == ()
    assert table.total_shown == "9"


def test_tiny_totals_show_as_less_than_five_and_split_no_further():
    one = split_table("lang", "By language", {"uk": 3})
    assert [(row.key, row.shown) for row in one.rows] == [("uk", SMALL)]
    assert one.total_shown == SMALL
    several = split_table("lang", "By language", {"uk": 1, "ru": 1, "lt": 2})
    assert several.withheld and several.rows == () and several.total_shown == SMALL


def test_hidden_rows_are_ordered_by_name_not_by_size():
    table = split_table("c", "Danger", {"a": 50, "b": 40, "z": 4, "y": 1, "x": 3})
    hidden = [row.key for row in table.rows if row.value is None]
    assert hidden == sorted(hidden)


tables = st.dictionaries(
    st.sampled_from("abcdefgh"), st.integers(min_value=1, max_value=14), min_size=1, max_size=6
)


@settings(max_examples=400, deadline=None)
@given(counts=tables)
def test_no_small_cell_can_be_worked_out_from_any_table(counts):
    table = split_table("t", "T", counts)
    published = [row.shown for row in table.rows] + [table.total_shown]
    assert all(cell in (SMALL, MASKED) or int(cell) == 0 or int(cell) >= 5 for cell in published)
    for row in table.rows:
        if row.value is not None:
            assert row.value == counts[row.key] >= 5
    if table.total is not None and not table.withheld:
        assert table.total == sum(counts.values())
        for seen in what_a_reader_can_work_out(table):
            assert seen == {1, 2, 3, 4}


# The report --------------------------------------------------------------------------


def sample_events() -> list[EventCount]:
    return [
        event("conversation_started", 30, lang="lt", campaign="posters"),
        event("conversation_started", 12, lang="ru", campaign="job_fairs", channel="telegram"),
        event("conversation_started", 2, lang="uk", campaign="Jonas_Petraitis"),
        event("conversation_started", 9, lang="en", campaign="", day=DAY + timedelta(days=1)),
        event("flow_started", 20, value="job_offer"),
        event("flow_completed", 14, value="job_offer"),
        event("flow_started", 3, value="romance"),
        event("flow_started", 11, value="risk"),
        event("result_level", 6, value="risk:low"),
        event("result_level", 7, value="risk:high"),
        event("danger", 8, value="documents_taken"),
        event("danger", 1, value="violence"),
        event("danger", 6, value="threats"),
        event("handoff", 9, value="LT"),
        event("handoff", 2, value="LT:urgent"),
        event("erase", 3),
    ]


def test_report_groups_unknown_campaigns_as_other_and_never_names_them():
    report = build_report(sample_events(), KNOWN)
    campaigns = report.table("conversations_by_campaign")
    assert {row.key for row in campaigns.rows} == {"posters", "job_fairs", "other", "none"}
    for text in (render_table(report), render_csv(report), render_json(report)):
        assert "Jonas" not in text


def test_report_counts_what_the_engine_notes():
    report = build_report(sample_events(), KNOWN)
    assert report.table("conversations_by_day").total_shown == "53"
    started = report.table("flows_started")
    assert started.get("job_offer").shown == "20"
    # romance (3) would be 34 - 20 - 11: so risk is hidden too.
    assert (started.get("romance").shown, started.get("risk").shown) == (SMALL, MASKED)
    assert report.table("flows_completed").get("job_offer").shown == "14"
    assert {r.key: r.shown for r in report.table("results_risk").rows} == {"low": "6", "high": "7"}
    assert report.table("danger_categories").get("violence").shown == SMALL
    urgency = report.table("handoffs_by_urgency")
    assert urgency.total_shown == "11" and urgency.get("urgent").shown == SMALL
    assert report.table("activity").get("erase used").shown == SMALL


def relay_events(outside: int) -> list[EventCount]:
    """40 chats asked for: 20 first answered within 5 minutes, 9 and 8 later, 3 never."""
    return [
        event("relay", 40, value="requested"),
        event("relay", 37, value="answered"),
        event("relay_wait", 20, value="<5m"),
        event("relay_wait", 9, value="5-15m"),
        event("relay_wait", 8, value="15-60m"),
        event("relay", outside, value="outside_hours"),
    ]


async def test_counsellor_chats_are_published_with_small_counts_hidden():
    """What an NGO reads about "Write to a counsellor", in the report and on the dashboard:
    the 3 chats nobody answered are not 40 - 20 - 9 - 8 on any page."""
    from bot.web.admin import _dashboard_body

    store = await stored(relay_events(outside=7))
    report = await load_report(store, known=KNOWN, today=TODAY_FOR_TEST)
    chats = report.table("relay_chats")
    assert chats.total_shown == "40"
    assert {row.key: row.shown for row in chats.rows} == {
        "answered <5m": "20",
        "answered 5-15m": MASKED,
        "answered 15-60m": MASKED,
        "not answered": SMALL,
    }
    assert what_a_reader_can_work_out(chats) == [{1, 2, 3, 4}]
    assert report.table("relay_outside_hours").get("asked outside hours").shown == "7"
    assert {"relay_chats", "relay_outside_hours"} <= {
        table["name"] for table in json.loads(render_json(report))["tables"]
    }
    page = _dashboard_body(report, {}, [])
    panel = page[page.index("<h2>Write to a counsellor</h2>") :].split("</section>")[0]
    assert "answered &lt;5m" in panel and "asked outside hours" in panel
    assert re.findall(r">([1-4])<", panel) == []

    quiet = await load_report(
        await stored(relay_events(outside=3)), known=KNOWN, today=TODAY_FOR_TEST
    )
    assert quiet.table("relay_outside_hours").get("asked outside hours").shown == "0"
    # Only once counsellors were asked for is there a panel at all.
    assert "Write to a counsellor" not in _dashboard_body(
        build_report([], KNOWN, weekly=True), {}, []
    )


def published_cells(csv_text: str) -> list[str]:
    return [row["count"] for row in csv.DictReader(io.StringIO(csv_text)) if row["count"]]


def test_every_output_hides_small_counts():
    report = build_report(sample_events(), KNOWN)
    for cell in published_cells(render_csv(report)):
        assert cell in (SMALL, MASKED, "0") or int(cell) >= 5, cell
    data = json.loads(render_json(report))
    for table in data["tables"]:
        for count in [row["count"] for row in table["rows"]] + [table["total"]]:
            assert count in (SMALL, MASKED, "0", None) or count == 0 or count >= 5, count
    for line in render_table(report).splitlines():
        number = line.split()[-1] if line.startswith("  ") else ""
        assert not number.isdigit() or int(number) == 0 or int(number) >= 5, line


async def stored(events: list[EventCount]) -> InMemoryStore:
    store = InMemoryStore()
    for e in events:
        await store.count_event(
            e.name, day=e.day, channel=e.channel, lang=e.lang, campaign=e.campaign,
            value=e.value, n=e.count,
        )  # fmt: skip
    return store


async def test_report_for_other_and_none_campaigns():
    store = await stored(sample_events())
    # Jonas_Petraitis's 2 conversations are a cell under 5: left out everywhere.
    other = await load_report(store, campaign="other", known=KNOWN)
    assert other.table("conversations_by_week").total_shown == "0"
    none = await load_report(store, campaign="none", known=KNOWN)
    assert none.table("conversations_by_language").get("en").shown == "9"
    # `since` starts at its week's Monday: DAY + 1 is in DAY's week.
    later = await load_report(store, since=DAY + timedelta(days=1), known=KNOWN)
    assert later.since == DAY
    assert later.table("conversations_by_week").total_shown == "51"


async def test_no_two_reports_differ_by_a_small_count():
    """M-4: comparing a report with a narrower one (later start, one campaign) never shows
    a difference of 1 to 4: what the narrower one leaves out is whole cells of 5 or more."""
    week = timedelta(days=7)
    events = [
        # One person from the job fair reported violence; everyone else, other things.
        event("danger", 1, value="violence", campaign="job_fairs", day=DAY + week),
        event("danger", 6, value="violence", campaign="posters", day=DAY + week),
        event("danger", 9, value="documents_taken", campaign="posters", day=DAY),
        event("danger", 7, value="documents_taken", campaign="job_fairs", day=DAY + week),
        event("conversation_started", 2, campaign="job_fairs", day=DAY + 2 * week),
        event("conversation_started", 30, campaign="posters", day=DAY + 2 * week),
        # Today (and this running week): never published.
        event("danger", 3, value="violence", campaign="posters", day=TODAY_FOR_TEST),
    ]
    store = await stored(events)
    filters = [
        {"since": since, "campaign": campaign}
        for since in (None, DAY, DAY + week, DAY + week + timedelta(days=3), DAY + 2 * week)
        for campaign in (None, "posters", "job_fairs", "other", "none")
    ]

    def within(narrow: dict, wide: dict) -> bool:
        later = wide["since"] is None or (narrow["since"] or DAY) >= wide["since"]
        return later and wide["campaign"] in (None, narrow["campaign"])

    numbers = []
    for f in filters:
        report = await load_report(store, known=KNOWN, today=TODAY_FOR_TEST, **f)
        numbers.append(
            {
                (t.name, r.key): r.value or 0
                for t in report.tables
                for r in (*t.rows, Row("total", t.total, ""))
            }
        )
    keys = set().union(*numbers)
    for (f1, one), (f2, two) in itertools.product(zip(filters, numbers, strict=True), repeat=2):
        if within(f1, f2):
            for key in keys:
                difference = abs(one.get(key, 0) - two.get(key, 0))
                assert difference == 0 or difference >= 5, (key, one.get(key), two.get(key))
    everything = numbers[0]
    assert everything[("danger_categories", "violence")] == 6  # the job fair's 1 is left out
    assert everything[("danger_categories", "documents_taken")] == 16


# The command line --------------------------------------------------------------------


@pytest.fixture
async def filled_database(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stats.db'}"
    store = await open_store(url)
    try:
        for e in sample_events():
            await store.count_event(
                e.name, day=e.day, channel=e.channel, lang=e.lang, campaign=e.campaign,
                value=e.value, n=e.count,
            )  # fmt: skip
    finally:
        await store.close()
    return url


def stats(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "stats", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url},
    )


def test_stats_cli_prints_a_table(filled_database):
    result = stats(filled_database)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Conversations by campaign" in out and "Danger signals detected" in out
    lines = {tuple(line.split()) for line in out.splitlines()}
    assert ("posters", "30") in lines
    assert ("violence", SMALL) not in lines  # a single report: left out, not shown as <5
    assert ("total", "51") in lines
    assert "Jonas" not in out


def test_stats_cli_writes_csv(filled_database):
    result = stats(filled_database, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["table", "key", "count"]
    assert ["conversations_by_language", "lt", "30"] in rows
    assert not any(row[:2] == ["conversations_by_language", "uk"] for row in rows)
    assert ["conversations_by_language", "total", "51"] in rows
    for cell in published_cells(result.stdout):
        assert cell in (SMALL, MASKED, "0") or int(cell) >= 5


def test_stats_cli_writes_json_for_one_campaign_since_a_day(filled_database):
    result = stats(
        filled_database, "--format", "json", "--campaign", "posters", "--since", "2026-03-01"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # The report starts on the Monday of that day's week.
    assert data["campaign"] == "posters" and data["since"] == "2026-02-23"
    assert data["threshold"] == 5 and "Whole weeks" in data["note"]
    tables = {t["name"]: t for t in data["tables"]}
    assert tables["conversations_by_language"]["rows"] == [{"key": "lt", "count": 30}]
    assert tables["danger_categories"]["total"] == 14


def test_stats_cli_rejects_a_bad_campaign(filled_database):
    result = stats(filled_database, "--campaign", "no spaces")
    assert result.returncode == 2
    assert "campaign" in result.stderr
