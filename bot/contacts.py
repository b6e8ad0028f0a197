"""The hotline directory: who to call, from where, in which language.

The data lives in `dialogs/contacts.yaml` so NGO staff can keep it current; this module
loads it, refuses entries whose provenance is incomplete (source page, the page's own
date, the day it was read, whether anyone has called), and picks the lines that fit a
person's country and language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

import bot

FILENAME = "contacts.yaml"

#: Countries the handoff asks about (ISO 3166 alpha-2, as the menus use them).
COUNTRIES = ("LT", "UA", "DE", "GB", "NO", "NL", "PL", "IE", "SE", "DK", "FI")
#: A directory entry valid anywhere in the EU/EEA (the 112 emergency number).
ANYWHERE_EU = "EU"
#: What the handoff calls "somewhere else"; lookups treat it like an unknown country.
OTHER = "OTHER"
SCOPES = ("national", "abroad", "any")
SCHEMA = 2
#: A source read longer ago than this should be read again (`validate` says so).
REREAD_DAYS = 365

_SOURCE_DATE = re.compile(r"^(undated|\d{4}(-\d{2}(-\d{2})?)?)$")

_LANG = re.compile(r"^[a-z]{2}$")
_URL = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class Phone:
    """A number and where it can be dialled from."""

    number: str
    scope: str  # national: only inside the entry's country; abroad: from outside; any: both

    def tel(self) -> str:
        """Return the number as a `tel:` target (digits and a leading +)."""
        return re.sub(r"[^\d+]", "", self.number)


@dataclass(frozen=True)
class Entry:
    """One hotline or emergency number, with where the facts came from."""

    id: str
    name: str
    country: str
    phones: tuple[Phone, ...]
    email: str | None
    url: str | None
    hours: str | None
    languages: tuple[str, ...]
    helps_with: str
    emergency: bool
    source: str
    #: The source page's own date (`2021-02-08`, `2024`) or `undated`.
    source_date: str
    #: The day someone last read the number on the source page.
    read: date
    #: The day a person last called the number and reached the line; None: never.
    called: date | None = None
    #: The words of the source that give the number.
    quote: str | None = None
    confidence: str | None = None
    #: The line brings in an interpreter, so it can take a call in any language.
    interpreters: bool = False
    #: A general line (not a trafficking or victim line): it never closes a language gap.
    general: bool = False

    def speaks(self, lang: str) -> bool:
        """Say whether a person can talk to this line in `lang`."""
        return self.interpreters or lang in self.languages

    def reachable_from_abroad(self) -> bool:
        """Say whether someone outside the entry's country can call it."""
        return any(p.scope in ("abroad", "any") for p in self.phones)

    def reachable_inside(self) -> bool:
        """Say whether someone inside the entry's country can call it."""
        return any(p.scope in ("national", "any") for p in self.phones)

    def is_in(self, country: str | None) -> bool:
        """Say whether a person in `country` counts as being in this entry's country."""
        return country is not None and self.country == country


def phone_for(entry: Entry, country: str | None) -> str:
    """Return the number a person in `country` should dial for `entry`."""
    inside = entry.is_in(country) or entry.country == ANYWHERE_EU
    preference = ("national", "any", "abroad") if inside else ("abroad", "any")
    for scope in preference:
        for phone in entry.phones:
            if phone.scope == scope:
                return phone.number
    # A national-only line shown to someone abroad: still better than nothing.
    return entry.phones[0].number


@dataclass(frozen=True)
class Handoff:
    """The lines to offer one person, best first, and whether their language is missing."""

    contacts: tuple[Entry, ...]
    #: No line in the person's country speaks their language (say so, offer one that does).
    language_gap: bool

    phone_for = staticmethod(phone_for)


@dataclass(frozen=True)
class Directory:
    """Every entry of `contacts.yaml`, in the file's order (its curated order of preference)."""

    entries: tuple[Entry, ...]

    @classmethod
    def load(cls, dialogs_dir: Path | None = None) -> Directory:
        """Read and validate `contacts.yaml`; raise ValueError naming the file and line."""
        path = (dialogs_dir or bot.DIALOGS_DIR) / FILENAME
        return cls(tuple(_parse(path.read_text(encoding="utf-8"), path.name)))

    def get(self, entry_id: str) -> Entry:
        """Return the entry with this id."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def hotlines(self) -> tuple[Entry, ...]:
        """Return every entry that is not an emergency number."""
        return tuple(e for e in self.entries if not e.emergency)

    def emergency(self, country: str | None) -> Entry:
        """Return the emergency number for `country`: its own if listed, else 112."""
        for entry in self.entries:
            if entry.emergency and entry.is_in(country):
                return entry
        for entry in self.entries:
            if entry.emergency and entry.country == ANYWHERE_EU:
                return entry
        raise LookupError("contacts.yaml has no emergency entry for the EU (112)")

    def for_person(self, country: str | None, lang: str) -> Handoff:
        """Return the hotlines for someone in `country` who speaks `lang`, best first.

        Lines in that country that speak the language come first, then the country's other
        lines, then lines elsewhere that take calls from abroad in that language. For an
        unknown country (None, OTHER) only the last group is possible, so 112 is added.
        """
        known = country in COUNTRIES
        local = [e for e in self.hotlines() if known and e.is_in(country) and e.reachable_inside()]
        first = [e for e in local if e.speaks(lang)]
        second = [e for e in local if not e.speaks(lang)]
        remote = [
            e
            for e in self.hotlines()
            if not e.is_in(country) and e.reachable_from_abroad() and e.speaks(lang)
        ]
        contacts = first + second + remote
        if not known:
            contacts.append(self.emergency(None))
            gap = not any(e.speaks(lang) for e in contacts if not e.emergency and not e.general)
        else:
            gap = not any(not e.general for e in first)
        return Handoff(tuple(contacts), gap)

    def to_reread(self, today: date, max_age_days: int = REREAD_DAYS) -> list[Entry]:
        """Return the entries whose source was last read more than `max_age_days` ago."""
        return [e for e in self.entries if (today - e.read).days > max_age_days]

    def never_called(self) -> list[Entry]:
        """Return the entries nobody has called yet (a launch needs none)."""
        return [e for e in self.entries if e.called is None]

    def checked_on(self, entry_ids: Iterable[str]) -> date:
        """Return the oldest day on which these entries' numbers were read or called."""
        entries = [self.get(i) for i in entry_ids]
        return min(max(e.read, e.called or e.read) for e in entries)


@lru_cache(maxsize=1)
def default_directory() -> Directory:
    """Return the repository's directory (loaded once)."""
    return Directory.load()


# Loading ------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """A YAML loader that remembers line numbers and leaves dates as text.

    Dates stay strings so a bad one is reported with its line rather than as a bare
    `ValueError: month must be in 1..12` from deep inside PyYAML.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value}
        return mapping


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Fields:
    """Read one entry's fields, failing with `file:line: message`."""

    def __init__(self, raw: dict[str, Any], filename: str) -> None:
        self.raw = raw
        self.filename = filename

    def fail(self, key: str | None, message: str) -> ValueError:
        line = self.raw["__lines__"].get(key, self.raw["__line__"]) if key else None
        ident = self.raw.get("id")
        where = f" (entry {ident})" if ident else ""
        return ValueError(f"{self.filename}:{line or self.raw['__line__']}: {message}{where}")

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(key, f"missing `{key}`")
            return None
        if not isinstance(value, str | int):
            raise self.fail(key, f"`{key}` must be text")
        return str(value).strip()

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"`{key}` must be a list of codes")
        return tuple(value)


def _parse(source: str, filename: str) -> Iterable[Entry]:
    """Turn the YAML text into entries, checking every field a person relies on."""
    try:
        doc = yaml.load(source, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ValueError(f"{filename}:{line}: not valid YAML ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("kind") != "contacts" or doc.get("schema") != SCHEMA:
        raise ValueError(f"{filename}:1: expected `kind: contacts` and `schema: {SCHEMA}`")
    raw_entries = doc.get("contacts")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise ValueError(f"{filename}:{doc['__line__']}: `contacts` must be a non-empty list")

    seen: set[str] = set()
    entries = []
    for raw in raw_entries:
        if not isinstance(raw, dict):
            raise ValueError(f"{filename}:{doc['__lines__'].get('contacts', 1)}: bad entry")
        entry = _entry(_Fields(raw, filename))
        if entry.id in seen:
            raise _Fields(raw, filename).fail("id", f"duplicate id `{entry.id}`")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def _entry(f: _Fields) -> Entry:
    ident = f.text("id")
    assert ident is not None
    country = f.text("country")
    if country not in (*COUNTRIES, ANYWHERE_EU):
        raise f.fail("country", f"bad country `{country}` (one of {', '.join(COUNTRIES)}, EU)")

    phones = []
    raw_phones = f.raw.get("phones")
    if not isinstance(raw_phones, list) or not raw_phones:
        raise f.fail("phones", "`phones` must list at least one number")
    for raw_phone in raw_phones:
        pf = _Fields(raw_phone, f.filename) if isinstance(raw_phone, dict) else None
        if pf is None:
            raise f.fail("phones", "each phone needs `number` and `scope`")
        number, scope = pf.text("number"), pf.text("scope")
        if scope not in SCOPES:
            raise pf.fail("scope", f"bad scope `{scope}` (one of {', '.join(SCOPES)})")
        if not re.fullmatch(r"\+?[\d ()-]{3,}", number or ""):
            raise pf.fail("number", f"bad phone number `{number}`")
        phones.append(Phone(str(number), str(scope)))

    languages = f.strings("languages")
    for code in languages:
        if not _LANG.match(code):
            raise f.fail("languages", f"bad language code `{code}`")

    source = f.text("source")
    if not _URL.match(source or ""):
        raise f.fail("source", f"`source` must be a URL, not `{source}`")
    if "verified" in f.raw:
        raise f.fail("verified", "`verified` is gone: say `source_date`, `read` and `called`")
    source_date = f.text("source_date")
    if not _SOURCE_DATE.match(source_date or ""):
        raise f.fail("source_date", f"bad source date `{source_date}` (YYYY[-MM[-DD]] or undated)")
    read = _day(f, "read")
    called_text = f.text("called")
    called = None if called_text == "never" else _day(f, "called")

    emergency = f.raw.get("emergency", False)
    interpreters = f.raw.get("interpreters", False)
    general = f.raw.get("general", False)
    for key, flag in (
        ("emergency", emergency),
        ("interpreters", interpreters),
        ("general", general),
    ):
        if not isinstance(flag, bool):
            raise f.fail(key, f"`{key}` must be true or false")

    return Entry(
        id=ident,
        name=str(f.text("name")),
        country=str(country),
        phones=tuple(phones),
        email=f.text("email", required=False),
        url=f.text("url", required=False),
        hours=f.text("hours", required=False),
        languages=languages,
        helps_with=str(f.text("helps_with")),
        emergency=emergency,
        source=str(source),
        source_date=str(source_date),
        read=read,
        called=called,
        quote=f.text("quote", required=False),
        confidence=f.text("confidence", required=False),
        interpreters=interpreters,
        general=general,
    )


def _day(f: _Fields, key: str) -> date:
    """Read a YYYY-MM-DD field that must not lie in the future."""
    text = f.text(key)
    try:
        day = date.fromisoformat(str(text))
    except ValueError:
        raise f.fail(key, f"bad date `{text}` (use YYYY-MM-DD)") from None
    if day > date.today():
        raise f.fail(key, f"`{key}` is in the future ({day}): write the day it happened")
    return day
