"""Translations: gettext catalogs under `locales/`, compiled in memory on load.

The `.po` files are the only translation source; nobody runs a compile step by hand. A
missing or empty translation falls back to the English source string.
"""

from __future__ import annotations

import gettext
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot import DEFAULT_LANGUAGE, LANGUAGES, LOCALES_DIR

DOMAIN = "messages"

#: Language names as their speakers write them (never translated).
LANGUAGE_NAMES = {"lt": "Lietuvių", "ru": "Русский", "uk": "Українська", "en": "English"}

#: Other languages a hotline may speak, as their speakers write them.
ENDONYMS = {
    **LANGUAGE_NAMES,
    "de": "Deutsch",
    "pl": "Polski",
    "nl": "Nederlands",
    "no": "Norsk",
    "sv": "Svenska",
    "da": "Dansk",
    "fi": "Suomi",
    "fr": "Français",
    "vi": "Tiếng Việt",
}


#: The Babel locale for each of our languages (British English: "3 December 2026").
BABEL_LOCALES = {"lt": "lt_LT", "ru": "ru_RU", "uk": "uk_UA", "en": "en_GB"}
#: Where a money symbol goes: after the number in our three other languages ("1 153 €").
_SYMBOL_FIRST = {"en"}


def _locale(lang: str) -> str:
    return BABEL_LOCALES.get(lang, BABEL_LOCALES[DEFAULT_LANGUAGE])


def language_names(codes: tuple[str, ...] | list[str], lang: str | None = None) -> str:
    """Return language codes as names: in `lang` when given ("vokiečių"), else endonyms."""
    if lang is None:
        return ", ".join(ENDONYMS.get(code, code) for code in codes)
    return ", ".join(language_name(code, lang) for code in codes)


def language_name(code: str, lang: str) -> str:
    """Return one language's name in `lang`, as Babel's CLDR data writes it ("немецкий")."""
    name = Locale.parse(_locale(lang)).languages.get(code)
    return name or ENDONYMS.get(code, code)


def format_number(value: int | float | Decimal, lang: str, decimals: int | None = None) -> str:
    """Format a number for `lang` with Babel: "4 000" in Lithuanian, "4,000" in English."""
    pattern = None if decimals is None else "#,##0." + "0" * decimals if decimals else "#,##0"
    return format_decimal(value, format=pattern, locale=_locale(lang))


def format_money(amount: int | float | Decimal, symbol: str, lang: str) -> str:
    """Format an amount of money for `lang`: "1 153 €", "13,90 €", "€13.90"."""
    decimals = 0 if Decimal(str(amount)) == int(amount) else 2
    number = format_number(amount, lang, decimals)
    return f"{symbol}{number}" if lang in _SYMBOL_FIRST else f"{number}\u00a0{symbol}"


def format_day(day: date, lang: str) -> str:
    """Format a date for `lang` in words: "2026 m. gruodžio 3 d.", "3 грудня 2026 р."."""
    return _babel_date(day, format="long", locale=_locale(lang))


_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")


def placeholders(text: str) -> set[str]:
    """Return the `{name}` placeholders a text uses."""
    return set(_PLACEHOLDER.findall(text))


def po_path(lang: str, locales: Path = LOCALES_DIR) -> Path:
    """Return the path of a language's catalog."""
    return locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(po_file: Path) -> gettext.GNUTranslations:
    with po_file.open("rb") as fh:
        catalog = read_po(fh)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass
class Translator:
    """Translate English source strings into one of the bot's languages."""

    catalogs: dict[str, gettext.NullTranslations] = field(default_factory=dict)

    @classmethod
    def load(cls, locales: Path = LOCALES_DIR) -> Translator:
        """Compile every language's catalog found under `locales`."""
        catalogs: dict[str, gettext.NullTranslations] = {}
        for lang in LANGUAGES:
            path = po_path(lang, locales)
            catalogs[lang] = _compile(path) if path.exists() else gettext.NullTranslations()
        return cls(catalogs)

    def gettext(self, lang: str, message: str) -> str:
        """Translate `message`; fall back to the English source."""
        if not message:
            return message
        catalog = self.catalogs.get(lang)
        return catalog.gettext(message) if catalog else message

    def ngettext(self, lang: str, singular: str, plural: str, n: int) -> str:
        """Translate a message with plural forms right for `lang`."""
        catalog = self.catalogs.get(lang) or gettext.NullTranslations()
        return catalog.ngettext(singular, plural, n)


@lru_cache(maxsize=1)
def default_translator() -> Translator:
    """Return the translator for the repository's catalogs (loaded once)."""
    return Translator.load()


def normalize_language(value: str | None) -> str | None:
    """Map a tag like `uk-UA`, `UK` or `ua` to one of our languages, or None."""
    if not value:
        return None
    base = value.strip().lower().replace("_", "-").split("-")[0]
    base = {"ua": "uk", "lit": "lt", "rus": "ru", "ukr": "uk", "eng": "en"}.get(base, base)
    return base if base in LANGUAGES else None


def negotiate(hint: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Pick our language from a channel hint: a Telegram code or an Accept-Language header."""
    if not hint:
        return default
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(hint.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = normalize_language(tag)
        if lang and quality > 0:
            weighted.append((-quality, index, lang))
    return min(weighted)[2] if weighted else default


# Marks strings in Python code for extraction without translating them at import time.
def N_(message: str) -> str:
    """Mark a message for extraction; translate later with a Translator."""
    return message
