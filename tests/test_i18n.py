"""Translations: negotiation, fallback, plural forms, extraction and catalog validation."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot import LANGUAGES, LOCALES_DIR
from bot.babel_extract import extract_yaml
from bot.i18n import Translator, negotiate, normalize_language, po_path
from bot.validate import check_catalogs


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("uk", "uk"),
        ("uk-UA", "uk"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"),
        ("de-DE,de;q=0.9,lt;q=0.8,en;q=0.5", "lt"),
        ("en;q=0.2, uk;q=0.9", "uk"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
        ("lt;q=0", "en"),
        ("garbage;;;q=x", "en"),
    ],
)
def test_negotiate_from_telegram_codes_and_accept_language(hint, expected):
    assert negotiate(hint) == expected


def test_normalize_language_accepts_common_variants():
    assert normalize_language("UA") == "uk"
    assert normalize_language("lt_LT") == "lt"
    assert normalize_language("xx") is None


def test_missing_translation_falls_back_to_english():
    tr = Translator.load(LOCALES_DIR)
    assert tr.gettext("lt", "A sentence nobody has translated yet.") == (
        "A sentence nobody has translated yet."
    )
    assert tr.gettext("xx", "Main menu") == "Main menu"


@pytest.mark.parametrize(
    ("lang", "counts"),
    [
        # n -> which plural form index the language's rule must pick
        ("lt", {1: 0, 2: 1, 9: 1, 10: 2, 11: 2, 21: 0, 22: 1}),
        ("ru", {1: 0, 2: 1, 4: 1, 5: 2, 11: 2, 21: 0, 22: 1, 25: 2}),
        ("uk", {1: 0, 2: 1, 5: 2, 11: 2, 21: 0, 24: 1}),
        ("en", {1: 0, 2: 1, 5: 1}),
    ],
)
def test_plural_forms_follow_each_languages_rule(lang, counts):
    with po_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    singular = "{count} warning sign in your answers, most serious first:"
    message = catalog.get(singular)
    assert message is not None and isinstance(message.string, tuple)
    forms = message.string
    assert len(forms) == catalog.num_plurals
    tr = Translator.load(LOCALES_DIR)
    plural = "{count} warning signs in your answers, most serious first:"
    for n, index in counts.items():
        assert tr.ngettext(lang, singular, plural, n) == forms[index], (lang, n)


def test_yaml_extractor_yields_texts_with_the_key_they_came_from():
    source = io.BytesIO(
        b"kind: flow\nid: demo\nsteps:\n  - id: ask\n    type: question\n"
        b"    text: Do you have a contract?\n    choices:\n      - {id: y, label: 'Yes'}\n"
    )
    found = list(extract_yaml(source, None, None, {}))
    assert (6, None, "Do you have a contract?", ["demo: steps[ask].text"]) in found
    assert any(message == "Yes" for _, _, message, _ in found)


def test_repository_catalogs_are_complete():
    assert check_catalogs(LOCALES_DIR) == []


def _copy_locales(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, target)
    return target


def _edit(locales: Path, lang: str, msgid: str, **changes) -> None:
    path = po_path(lang, locales)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    message = catalog.get(msgid)
    for key, value in changes.items():
        if key == "fuzzy":
            message.flags.add("fuzzy")
        else:
            setattr(message, key, value)
    with path.open("wb") as fh:
        write_po(fh, catalog)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"string": ""}, "not translated"),
        ({"fuzzy": True}, "fuzzy"),
    ],
)
def test_validate_catches_an_incomplete_translation(tmp_path, change, complaint):
    locales = _copy_locales(tmp_path)
    _edit(locales, "uk", "Main menu", **change)
    found = check_catalogs(locales)
    assert any(complaint in p and "Main menu" in p and "/uk/" in p for p in found), found


def test_validate_catches_a_changed_placeholder(tmp_path):
    locales = _copy_locales(tmp_path)
    msgid = "That message is too long for me. Please send up to {limit} characters."
    _edit(locales, "lt", msgid, string="Per ilga žinutė. Iki {limitas} simbolių.")
    assert any("placeholders" in p for p in check_catalogs(locales))


def test_validate_catches_a_missing_language(tmp_path):
    locales = _copy_locales(tmp_path)
    po_path("ru", locales).unlink()
    assert any("catalog missing" in p for p in check_catalogs(locales))


def test_every_language_has_a_catalog():
    for lang in LANGUAGES:
        assert po_path(lang).exists()
