"""The hotline directory: sourced entries, and the right line for each person."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from bot import DIALOGS_DIR, LOCALES_DIR, ROOT
from bot.contacts import COUNTRIES, Directory, Handoff, default_directory, phone_for
from bot.flows import load_yaml
from bot.i18n import Translator

LT_NATIONAL, LT_ABROAD = "8 800 91119", "+370 616 91119"


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.load()


def ids(handoff: Handoff) -> list[str]:
    return [e.id for e in handoff.contacts]


# The data ---------------------------------------------------------------------------


def test_every_entry_has_a_source_url_and_a_past_verification_date(directory):
    assert len(directory.entries) >= 15
    for entry in directory.entries:
        assert re.match(r"https?://\S+\.\S+", entry.source), entry.id
        assert date(2020, 1, 1) <= entry.verified <= date.today(), entry.id
        assert entry.phones and entry.helps_with, entry.id


def test_the_unverified_number_8_800_26161_is_never_shipped():
    shipped = [*DIALOGS_DIR.rglob("*.yaml"), *LOCALES_DIR.rglob("*.po"), *ROOT.glob("bot/*.py")]
    for path in shipped:
        digits = re.sub(r"[\s\-()]", "", path.read_text(encoding="utf-8"))
        assert "880026161" not in digits, path
        assert "37080026161" not in digits, path


def test_lithuanian_helpline_is_listed_as_the_facts_say(directory):
    line = directory.get("lt_helpline")
    numbers = {(p.number, p.scope) for p in line.phones}
    assert numbers == {(LT_NATIONAL, "national"), (LT_ABROAD, "abroad")}
    assert line.hours == "24/7"
    assert set(line.languages) == {"lt", "en", "ru"}


def test_every_country_the_handoff_asks_about_has_a_line_and_an_emergency_number(directory):
    help_flow = load_yaml(DIALOGS_DIR / "help.yaml")
    where = next(s for s in help_flow["steps"] if s["id"] == "where")
    asked = {c["id"] for c in where["choices"]} - {"OTHER"}
    assert asked == set(COUNTRIES)
    for country in COUNTRIES:
        assert directory.for_person(country, "en").contacts, country
        assert directory.emergency(country).phones, country


def test_hours_and_what_a_line_helps_with_are_translated(directory):
    translator = Translator.load()
    for entry in directory.entries:
        for lang in ("lt", "ru", "uk"):
            assert translator.gettext(lang, entry.helps_with) != entry.helps_with, (entry.id, lang)
            if entry.hours and entry.hours[0].isalpha():
                assert translator.gettext(lang, entry.hours) != entry.hours, (entry.id, lang)


# Lookups ----------------------------------------------------------------------------


def test_russian_speaker_in_lithuania_gets_the_national_line_in_russian(directory):
    handoff = directory.for_person("LT", "ru")
    first = handoff.contacts[0]
    assert first.id == "lt_helpline"
    assert handoff.phone_for(first, "LT") == LT_NATIONAL
    assert handoff.language_gap is False


def test_ukrainian_speaker_in_germany_gets_a_ukrainian_speaking_line_first(directory):
    handoff = directory.for_person("DE", "uk")
    assert handoff.language_gap is False
    assert handoff.contacts[0].id == "de_hilfetelefon"
    assert "uk" in handoff.contacts[0].languages
    # Then Germany's other lines, then Ukraine's line for citizens abroad.
    assert ids(handoff).index("de_weisser_ring") < ids(handoff).index("ua_government")
    assert phone_for(directory.get("ua_government"), "DE") == "+38 044 284 19 15"
    # Lines that can only be dialled inside Ukraine are useless in Germany.
    assert "ua_527" not in ids(handoff) and "ua_la_strada" not in ids(handoff)


def test_lithuanian_speaker_abroad_is_told_of_the_gap_and_offered_the_lithuanian_line(directory):
    handoff = directory.for_person("DE", "lt")
    assert handoff.language_gap is True
    assert ids(handoff)[:2] == ["de_hilfetelefon", "de_weisser_ring"]
    assert ids(handoff)[-1] == "lt_helpline"
    assert handoff.phone_for(handoff.contacts[-1], "DE") == LT_ABROAD


def test_language_gap_in_a_country_whose_lines_do_not_list_english(directory):
    handoff = directory.for_person("NO", "en")
    assert handoff.language_gap is True
    assert ids(handoff)[0] == "no_rosa"
    assert all(e.speaks("en") for e in handoff.contacts[1:])


def test_a_line_with_interpreters_closes_the_language_gap(directory):
    handoff = directory.for_person("GB", "lt")
    assert handoff.language_gap is False
    assert ids(handoff)[0] == "gb_modern_slavery_helpline"
    assert "lt_helpline" in ids(handoff)


@pytest.mark.parametrize("country", [None, "OTHER", "ES"])
def test_unknown_country_gets_lines_reachable_from_abroad_and_112(directory, country):
    for lang, expected in (("lt", "lt_helpline"), ("ru", "lt_helpline"), ("uk", "ua_government")):
        handoff = directory.for_person(country, lang)
        assert ids(handoff)[0] == expected
        assert ids(handoff)[-1] == "emergency_112"
        assert all(e.reachable_from_abroad() for e in handoff.contacts)
        numbers = [handoff.phone_for(e, country) for e in handoff.contacts]
        assert LT_NATIONAL not in numbers and "1547" not in numbers
        assert handoff.language_gap is False


def test_no_emergency_number_among_the_hotlines_of_a_known_country(directory):
    for country in COUNTRIES:
        assert not any(e.emergency for e in directory.for_person(country, "en").contacts)


# Emergency numbers ------------------------------------------------------------------


@pytest.mark.parametrize("country", ["GB", "IE"])
def test_999_comes_first_in_the_uk_and_ireland(directory, country):
    entry = directory.emergency(country)
    assert [p.number for p in entry.phones] == ["999", "112"]
    assert phone_for(entry, country) == "999"


@pytest.mark.parametrize("country", ["LT", "DE", "NO", "PL", "FI", None, "OTHER"])
def test_112_everywhere_else_in_europe(directory, country):
    entry = directory.emergency(country)
    assert entry.emergency
    assert [p.number for p in entry.phones] == ["112"]


def test_ukraine_gets_its_police_number(directory):
    assert directory.emergency("UA").phones[0].number == "102"


# Freshness and validation -----------------------------------------------------------


def test_stale_warns_only_for_entries_older_than_the_limit(directory):
    newest = max(e.verified for e in directory.entries)
    oldest = min(e.verified for e in directory.entries)
    assert directory.stale(oldest + timedelta(days=365)) == []
    later = newest + timedelta(days=366)
    assert directory.stale(later) == list(directory.entries)
    assert directory.stale(later, max_age_days=10_000) == []


ENTRY = """\
    kind: contacts
    schema: 1
    contacts:
      - id: test_line
        name: Test line
        country: {country}
        phones:
          - {{number: "+370 600 00000", scope: any}}
        languages: [lt]
        helps_with: Testing.
        source: {source}
        verified: {verified}
"""


def write(tmp_path: Path, **fields: str) -> Path:
    values = {"country": "LT", "source": "https://example.org/page", "verified": "2025-01-31"}
    values.update(fields)
    (tmp_path / "contacts.yaml").write_text(dedent(ENTRY).format(**values), encoding="utf-8")
    return tmp_path


def test_an_old_entry_is_reported_stale(tmp_path):
    old = Directory.load(write(tmp_path, verified="2019-05-01"))
    assert [e.id for e in old.stale(date(2021, 1, 1))] == ["test_line"]
    assert old.stale(date(2019, 6, 1)) == []


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        ({"source": '""'}, 11, "missing `source`"),
        ({"source": "see facts.md"}, 11, "must be a URL"),
        ({"verified": '""'}, 12, "missing `verified`"),
        ({"verified": "2025-13-01"}, 12, "bad date"),
        ({"verified": "last spring"}, 12, "bad date"),
        ({"country": "XX"}, 6, "bad country"),
    ],
)
def test_load_names_the_line_of_a_bad_entry(tmp_path, fields, line, message):
    with pytest.raises(ValueError, match=rf"^contacts\.yaml:{line}: .*{re.escape(message)}"):
        Directory.load(write(tmp_path, **fields))


def test_load_refuses_a_bad_phone_scope(tmp_path):
    path = write(tmp_path)
    text = (path / "contacts.yaml").read_text(encoding="utf-8").replace("scope: any", "scope: eu")
    (path / "contacts.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"^contacts\.yaml:8: bad scope"):
        Directory.load(path)


def test_default_directory_is_loaded_once():
    assert default_directory() is default_directory()
    assert default_directory().get("lt_helpline").phones[0].number == LT_NATIONAL
