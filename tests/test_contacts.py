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


def test_every_entry_says_where_its_number_was_read_and_whether_anyone_called(directory):
    assert len(directory.entries) >= 15
    for entry in directory.entries:
        assert re.match(r"https?://\S+\.\S+", entry.source), entry.id
        assert re.fullmatch(r"undated|\d{4}(-\d\d){0,2}", entry.source_date), entry.id
        assert date(2026, 12, 3) <= entry.read <= date.today(), entry.id
        # Nobody has called any line yet: the data must not claim otherwise.
        assert entry.called is None, entry.id
        assert entry.phones and entry.helps_with, entry.id


def test_the_abroad_number_of_line_1545_is_not_labelled_as_line_1547(directory):
    line_1547 = directory.get("ua_government")
    assert [(p.number, p.scope) for p in line_1547.phones] == [("1547", "national")]
    abroad = directory.get("ua_government_abroad")
    assert [p.number for p in abroad.phones] == ["+38 044 284 19 15"]
    assert "1545" in abroad.name and "1547" not in abroad.name
    assert "1545" in (abroad.quote or "") and abroad.source.startswith("https://med.kyivcity")
    assert abroad.general and "not a trafficking line" in abroad.helps_with


def test_ukrainian_lines_inside_ukraine_are_never_offered_abroad(directory):
    for entry_id in ("ua_527", "ua_la_strada", "ua_government"):
        assert not directory.get(entry_id).reachable_from_abroad(), entry_id


def test_the_glaa_is_offered_with_its_report_form_and_no_number_claimed_from_abroad(directory):
    glaa = directory.get("gb_glaa")
    assert [p.scope for p in glaa.phones] == ["national"]
    assert glaa.url == "https://www.gla.gov.uk/" and "Report Issues" in glaa.helps_with


def test_the_consular_line_the_faq_gives_is_in_the_directory_with_its_source(directory):
    faq = (DIALOGS_DIR / "faq.yaml").read_text(encoding="utf-8")
    consular = directory.get("lt_mfa_consular")
    assert consular.phones[0].number in faq
    assert consular.source_date == "2021-02-08" and "+37070652444" in (consular.quote or "")


def test_every_number_the_faq_and_flows_print_is_in_the_directory_or_the_sources(directory):
    numbers = {p.number for e in directory.entries for p in e.phones}
    sources = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    shown = ("faq", "job_offer", "romance", "risk", "help", "about", "menu", "scan", "scanner")
    for path in (DIALOGS_DIR / f"{name}.yaml" for name in shown):
        text = re.sub(r"https?://\S+", "", path.read_text(encoding="utf-8"))
        text = re.sub(r"\s+", " ", text)
        for number in re.findall(r"(?<![\d,])\+?\d{1,4}(?: \d{2,6}){1,4}(?!\d)", text):
            assert number in numbers or number in sources, f"{path.name}: {number}"


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
    # Then Germany's other lines, then the Ukrainian government's number for citizens abroad.
    assert ids(handoff).index("de_weisser_ring") < ids(handoff).index("ua_government_abroad")
    assert phone_for(directory.get("ua_government_abroad"), "DE") == "+38 044 284 19 15"
    # Lines that can only be dialled inside Ukraine are useless in Germany.
    assert "ua_527" not in ids(handoff) and "ua_la_strada" not in ids(handoff)


def test_lithuanian_speaker_abroad_is_told_of_the_gap_and_offered_the_lithuanian_line(directory):
    handoff = directory.for_person("DE", "lt")
    assert handoff.language_gap is True
    assert ids(handoff)[:2] == ["de_hilfetelefon", "de_weisser_ring"]
    assert ids(handoff)[2:] == ["lt_helpline", "lt_mfa_consular"]
    assert handoff.phone_for(handoff.contacts[2], "DE") == LT_ABROAD


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
    for lang, expected in (
        ("lt", "lt_helpline"),
        ("ru", "lt_helpline"),
        ("uk", "ua_government_abroad"),
    ):
        handoff = directory.for_person(country, lang)
        assert ids(handoff)[0] == expected
        assert ids(handoff)[-1] == "emergency_112"
        assert all(e.reachable_from_abroad() for e in handoff.contacts)
        numbers = [handoff.phone_for(e, country) for e in handoff.contacts]
        assert LT_NATIONAL not in numbers and "1547" not in numbers
        # No trafficking line that speaks Ukrainian takes calls from abroad: say so.
        assert handoff.language_gap is (lang == "uk")


def test_a_line_only_for_callers_abroad_is_not_offered_inside_its_country(directory):
    assert "lt_mfa_consular" not in ids(directory.for_person("LT", "lt"))
    assert "ua_government_abroad" not in ids(directory.for_person("UA", "uk"))
    assert "lt_mfa_consular" in ids(directory.for_person("DE", "lt"))


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


def test_a_source_is_due_for_rereading_only_after_a_year(directory):
    newest = max(e.read for e in directory.entries)
    oldest = min(e.read for e in directory.entries)
    assert directory.to_reread(oldest + timedelta(days=365)) == []
    later = newest + timedelta(days=366)
    assert directory.to_reread(later) == list(directory.entries)
    assert directory.to_reread(later, max_age_days=10_000) == []


def test_every_uncalled_number_is_on_the_launch_list(directory):
    assert directory.never_called() == list(directory.entries)


ENTRY = """\
    kind: contacts
    schema: 2
    contacts:
      - id: test_line
        name: Test line
        country: {country}
        phones:
          - {{number: "+370 600 00000", scope: any}}
        languages: [lt]
        helps_with: Testing.
        source: {source}
        source_date: {source_date}
        read: {read}
        called: {called}
"""


def write(tmp_path: Path, **fields: str) -> Path:
    values = {
        "country": "LT",
        "source": "https://example.org/page",
        "source_date": "2024-05",
        "read": "2025-01-31",
        "called": "never",
    }
    values.update(fields)
    (tmp_path / "contacts.yaml").write_text(dedent(ENTRY).format(**values), encoding="utf-8")
    return tmp_path


def test_an_entry_read_long_ago_is_due_for_rereading(tmp_path):
    old = Directory.load(write(tmp_path, read="2019-05-01"))
    assert [e.id for e in old.to_reread(date(2021, 1, 1))] == ["test_line"]
    assert old.to_reread(date(2019, 6, 1)) == []


def test_a_called_entry_leaves_the_launch_list(tmp_path):
    called = Directory.load(write(tmp_path, called="2025-02-01"))
    assert called.entries[0].called == date(2025, 2, 1)
    assert called.never_called() == []


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        ({"source": '""'}, 11, "missing `source`"),
        ({"source": "see facts.md"}, 11, "must be a URL"),
        ({"source_date": "last year"}, 12, "bad source date"),
        ({"read": '""'}, 13, "missing `read`"),
        ({"read": "2025-13-01"}, 13, "bad date"),
        ({"read": "2999-01-01"}, 13, "in the future"),
        ({"called": "yes"}, 14, "bad date"),
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
