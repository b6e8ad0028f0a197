"""`python -m bot validate`: silent on the repository, loud on what a phone or reader suffers."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot import DIALOGS_DIR, LANGUAGES, LOCALES_DIR, ROOT
from bot.i18n import po_path
from bot.validate import (
    Glossary,
    check_buttons,
    check_catalogs,
    check_data,
    check_glossaries,
    check_risk_levels,
    check_settings,
    launch_checklist,
    validate_command,
)


def _copy_locales(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, target)
    return target


def _set(locales: Path, lang: str, msgid: str, text: str) -> None:
    path = po_path(lang, locales)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    catalog.get(msgid).string = text
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0)


def _run(locales: Path, *, launch: bool = False) -> int:
    args = argparse.Namespace(dialogs=DIALOGS_DIR, locales=locales, launch=launch)
    return validate_command(args)


def test_validate_is_silent_on_the_repository():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines() == [done.stdout.strip()]
    assert done.stdout.startswith("ok: ")


def test_no_contact_warning_while_every_source_was_read_this_year():
    problems, warnings = check_data(DIALOGS_DIR)
    assert problems == [] and warnings == []


def test_launch_lists_every_number_nobody_has_called(capsys):
    todo = launch_checklist(DIALOGS_DIR)
    assert len(todo) >= 20 and all("nobody has called" in line for line in todo)
    assert _run(LOCALES_DIR, launch=True) == 1
    assert "lt_helpline: nobody has called 8 800 91119, +370 616 91119" in capsys.readouterr().out


# Buttons ----------------------------------------------------------------------------------


def test_every_translation_keeps_the_english_button_rows():
    assert check_buttons(DIALOGS_DIR, LOCALES_DIR) == []


def test_a_long_navigation_label_breaks_almost_every_screen(tmp_path, capsys):
    locales = _copy_locales(tmp_path)
    _set(locales, "lt", "Main menu", "Pagrindinis meniu")
    found = check_buttons(DIALOGS_DIR, locales)
    broken = [p for p in found if "☰ Pagrindinis meniu" in p]
    # The reviewer counted 51 of 60 question screens falling to one button per row.
    assert len(broken) >= 45, len(broken)
    assert all(p.startswith("lt: screen ") for p in found)
    assert _run(locales) == 1
    assert "go over 18 characters" in capsys.readouterr().out


def test_a_country_label_too_long_for_two_per_row_is_caught(tmp_path):
    locales = _copy_locales(tmp_path)
    _set(locales, "lt", "🇬🇧 United Kingdom", "🇬🇧 Jungtinė Karalystė")
    found = check_buttons(DIALOGS_DIR, locales)
    assert any("help.where" in p and "Jungtinė Karalystė" in p for p in found), found


def test_a_label_a_phone_cuts_short_is_caught(tmp_path):
    locales = _copy_locales(tmp_path)
    _set(
        locales,
        "uk",
        "🔎 Paste a job ad to check",
        "🔎 Вставити оголошення про роботу для перевірки",
    )
    found = check_buttons(DIALOGS_DIR, locales)
    assert any("menu.main" in p and "has 46 characters" in p for p in found), found


# Glossary ---------------------------------------------------------------------------------


def test_every_language_but_english_has_a_glossary():
    for lang in LANGUAGES:
        glossary = Glossary.load(lang)
        assert bool(glossary.terms) is (lang != "en"), lang


def test_the_repository_keeps_its_glossaries():
    assert check_glossaries(LOCALES_DIR, DIALOGS_DIR) == []


@pytest.mark.parametrize(
    ("lang", "msgid_start", "text", "complaint"),
    [
        (
            "lt",
            "Safe Abroad is a free",
            "Safe Abroad – nemokamas pokalbių robotas.",
            "Saugiai užsienyje",
        ),
        ("ru", "Risk: CRITICAL.", "Риск: СРОЧНО. Возможно, вы в опасности.", "Риск: КРИТИЧЕСКИЙ"),
        ("ru", "A person with honest plans", "Не езжайте к нему.", "езжайте"),
        ("uk", "Very high pay for simple work", "Нижче за законний мінімум.", "законний мінімум"),
        ("lt", "Risk: HIGH. Your answers", "Rizika: AUKŠTA. Skambinkite.", "Rizika: DIDELĖ"),
    ],
)
def test_a_glossary_violation_fails(tmp_path, lang, msgid_start, text, complaint):
    locales = _copy_locales(tmp_path)
    with po_path(lang, locales).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    msgid = next(m.id for m in catalog if isinstance(m.id, str) and m.id.startswith(msgid_start))
    _set(locales, lang, msgid, text)
    found = check_glossaries(locales, DIALOGS_DIR)
    assert any(complaint in p and f"/{lang}/" in p for p in found), found
    assert _run(locales) == 1


def test_a_hotline_must_keep_its_glossary_name(tmp_path):
    locales = _copy_locales(tmp_path)
    msgid = "NAPPŽ pagalbos linija (Lithuanian anti-trafficking helpline)"
    _set(locales, "ru", msgid, "Линия помощи NAPPŽ (Литва, помощь при торговле людьми)")
    found = check_glossaries(locales, DIALOGS_DIR)
    assert any("lt_helpline" in p and "the glossary says" in p for p in found), found


def test_a_broken_placeholder_fails(tmp_path, capsys):
    locales = _copy_locales(tmp_path)
    msgid = "If you are in danger right now, call {emergency}. It is free and works without credit."
    _set(locales, "uk", msgid, "Якщо вам загрожує небезпека, телефонуйте 112.")
    assert _run(locales) == 1
    assert "placeholders [] differ from ['{emergency}']" in capsys.readouterr().out


# Risk levels ------------------------------------------------------------------------------


def test_every_risk_level_uses_the_shared_names():
    assert check_risk_levels(DIALOGS_DIR) == []
    text = (DIALOGS_DIR / "risk.yaml").read_text(encoding="utf-8")
    assert "Risk: URGENT" not in text and "Risk: SOME" not in text


def test_a_level_named_otherwise_fails(tmp_path):
    dialogs = tmp_path / "dialogs"
    shutil.copytree(DIALOGS_DIR, dialogs)
    risk = dialogs / "risk.yaml"
    risk.write_text(risk.read_text(encoding="utf-8").replace("Risk: CRITICAL.", "Risk: URGENT."))
    assert any("must start with one of" in p for p in check_risk_levels(dialogs))


# ------------------------------------------------------------------ counsellor settings

DESK = {
    "COUNSELLOR_CHAT_ID": "-1001234567890",
    "COUNSELLOR_ORGANISATION": "Caritas Lietuva",
    "COUNSELLOR_HOURS": "mon-fri 09:00-18:00, sat 10:00-14:00",
    "COUNSELLOR_TIMEZONE": "Europe/Vilnius",
    "COUNSELLOR_LANGUAGES": "lt, ru, en",
    "TELEGRAM_BOT_TOKEN": "123456:test-token",
}


@pytest.fixture
def settings_env(monkeypatch, tmp_path):
    """Set the environment as an NGO would (no .env file is read from tmp_path)."""
    monkeypatch.chdir(tmp_path)
    for name in (*DESK, "COUNSELLOR_WAIT_MINUTES", "RELAY_BUS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return apply


def test_a_working_counsellor_desk_passes(settings_env):
    settings_env(**DESK)
    assert check_settings() == ([], [])


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"COUNSELLOR_HOURS": "weekdays 9 to 6"}, "COUNSELLOR_HOURS: cannot read"),
        ({"COUNSELLOR_HOURS": "mon-fri 18:00-09:00"}, "does not end after it starts"),
        ({"COUNSELLOR_HOURS": ""}, "COUNSELLOR_HOURS is empty"),
        ({"COUNSELLOR_LANGUAGES": "de, en"}, "COUNSELLOR_LANGUAGES must list some of lt, ru"),
        ({"COUNSELLOR_LANGUAGES": ""}, "COUNSELLOR_LANGUAGES must list"),
        ({"COUNSELLOR_ORGANISATION": " "}, "COUNSELLOR_ORGANISATION is empty"),
        ({"COUNSELLOR_CHAT_ID": "1234567"}, "COUNSELLOR_CHAT_ID must be a group's id"),
        ({"COUNSELLOR_CHAT_ID": "@caritas"}, "COUNSELLOR_CHAT_ID"),
        ({"COUNSELLOR_TIMEZONE": "Europe/Vilnus"}, "unknown time zone 'Europe/Vilnus'"),
        ({"COUNSELLOR_WAIT_MINUTES": "0"}, "COUNSELLOR_WAIT_MINUTES must be at least 1"),
        ({"TELEGRAM_BOT_TOKEN": ""}, "COUNSELLOR_CHAT_ID needs TELEGRAM_BOT_TOKEN"),
    ],
)
def test_a_broken_counsellor_desk_is_reported(settings_env, change, complaint):
    settings_env(**{**DESK, **change})
    problems, _warnings = check_settings()
    assert len(problems) == 1 and complaint in problems[0], problems


def test_a_desk_without_its_chat_id_is_a_warning_not_silence(settings_env, capsys):
    """Clearing the chat id pauses the relay (serve still starts); validate says it is off."""
    settings_env(**{**DESK, "COUNSELLOR_CHAT_ID": ""})
    assert _run(LOCALES_DIR) == 0
    out = capsys.readouterr().out
    assert (
        "warning: settings: COUNSELLOR_ORGANISATION, COUNSELLOR_HOURS, COUNSELLOR_LANGUAGES "
        'set but COUNSELLOR_CHAT_ID is not: "Write to a counsellor" is off until it is'
    ) in out


def test_validate_fails_on_a_broken_desk(settings_env, capsys):
    settings_env(**{**DESK, "COUNSELLOR_HOURS": "9-18", "COUNSELLOR_LANGUAGES": "lt,pl"})
    assert _run(LOCALES_DIR) == 1
    out = capsys.readouterr().out
    assert "settings: COUNSELLOR_HOURS: cannot read '9-18'" in out
    assert "settings: COUNSELLOR_LANGUAGES must list some of lt, ru, uk, en (unknown: pl)" in out


def test_a_content_file_that_is_not_yaml_is_named_not_a_crash(tmp_path, monkeypatch):
    """A signals file broken while editing (an item without its "- ") once stopped
    `validate` with a parser traceback; it must name the file and the line instead."""
    from bot import i18n_tool

    shutil.copytree(ROOT / "dialogs", tmp_path / "dialogs")
    path = tmp_path / "dialogs" / "signals" / "threats.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("    - {p:"))
    lines[at] = lines[at].replace("- {p:", "{p:", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(i18n_tool, "ROOT", tmp_path)
    found = check_catalogs(LOCALES_DIR)
    assert len(found) == 1 and found[0].startswith("threats.yaml:"), found
    assert "not valid YAML" in found[0]
