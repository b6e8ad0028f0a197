"""`python -m bot validate`: catch a broken flow or an incomplete translation before users do.

Besides complete catalogs with intact placeholders, it checks what a person sees on a
phone: every translated keyboard keeps two buttons to a Telegram row wherever the English
does, no label runs far past what a phone shows, and each language keeps the words of its
glossary (`locales/<lang>/glossary.yaml`). It prints warnings only for something a person
can do now (re-read a source); `--launch` lists what must happen before a campaign.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot import DIALOGS_DIR, LANGUAGES, LOCALES_DIR
from bot.flows import FlowError, load_flows
from bot.i18n import format_number, placeholders, po_path

GLOSSARY = "glossary.yaml"
#: A label longer than this is cut short on a phone, unless the English is as long.
LONG_LABEL = 40
#: The risk-level names, the same in every flow (each glossary gives its language's).
RISK_LEVELS = ("LOW", "MEDIUM", "HIGH", "VERY HIGH", "CRITICAL")


def _catalog(lang: str, locales: Path) -> Catalog:
    with po_path(lang, locales).open("rb") as fh:
        return read_po(fh, locale=lang)


def _where(path: Path, locales: Path) -> Path:
    return path.relative_to(locales.parent) if locales.parent in path.parents else path


def check_catalogs(locales: Path = LOCALES_DIR) -> list[str]:
    """Return problems: messages missing, empty, fuzzy or with other placeholders."""
    from bot.babel_extract import BrokenYaml
    from bot.i18n_tool import build_template

    try:
        template = build_template()
    except BrokenYaml as exc:  # a file the messages are read from is broken: say which
        return [str(exc)]
    problems: list[str] = []
    for lang in LANGUAGES:
        path = po_path(lang, locales)
        if not path.exists():
            problems.append(f"{path}: catalog missing (run `make locales`)")
            continue
        catalog = _catalog(lang, locales)
        where = _where(path, locales)
        for message in template:
            if not message.id:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            found = catalog.get(msgid)
            origin = message.auto_comments[0] if message.auto_comments else msgid[:50]
            if found is None:
                problems.append(f"{where}: missing ({origin}): {msgid[:70]!r}")
                continue
            if found.fuzzy:
                problems.append(f"{where}:{found.lineno}: fuzzy: {msgid[:70]!r}")
            strings = found.string if isinstance(found.string, tuple) else (found.string,)
            if not all(s and s.strip() for s in strings):
                problems.append(f"{where}:{found.lineno}: not translated: {msgid[:70]!r}")
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            wanted = set().union(*(placeholders(i) for i in ids))
            for s in strings:
                if placeholders(s) != wanted:
                    problems.append(
                        f"{where}:{found.lineno}: placeholders {sorted(placeholders(s))} "
                        f"differ from {sorted(wanted)} in {msgid[:50]!r}"
                    )
    return problems


# Glossary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Glossary:
    """One language's fixed words: what an English term becomes, and what never to write."""

    lang: str
    terms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    avoid: tuple[tuple[re.Pattern[str], str], ...] = ()
    hotlines: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, lang: str, locales: Path = LOCALES_DIR) -> Glossary:
        """Read `locales/<lang>/glossary.yaml`; a language without one has no rules."""
        path = locales / lang / GLOSSARY
        if not path.exists():
            return cls(lang)
        doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        terms = tuple((str(t["en"]), tuple(str(u) for u in t["use"])) for t in doc.get("terms", []))
        avoid = tuple(
            (re.compile(str(a["pattern"]), re.IGNORECASE), str(a.get("note", "")))
            for a in doc.get("avoid", [])
        )
        hotlines = {str(k): str(v) for k, v in (doc.get("hotlines") or {}).items()}
        return cls(lang, terms, avoid, hotlines)

    def problems(self, english: str, translation: str) -> list[str]:
        """Return how one translation breaks this glossary (empty when it keeps it)."""
        found = []
        folded = translation.casefold()
        for term, uses in self.terms:
            if term in english and not any(u.casefold() in folded for u in uses):
                found.append(f"“{term}” must be “{' / '.join(uses)}”")
        for pattern, note in self.avoid:
            if match := pattern.search(translation):
                found.append(
                    f"“{match.group(0)}” is not in the glossary" + (f": {note}" if note else "")
                )
        return found


def check_glossaries(locales: Path = LOCALES_DIR, dialogs: Path = DIALOGS_DIR) -> list[str]:
    """Return every translation that breaks its language's glossary, and wrong hotline names."""
    from bot.contacts import Directory

    try:
        names = {e.id: e.name for e in Directory.load(dialogs).entries}
    except ValueError:
        names = {}  # check_data reports a broken contacts.yaml
    problems: list[str] = []
    for lang in LANGUAGES:
        path = po_path(lang, locales)
        glossary = Glossary.load(lang, locales)
        if not path.exists() or not (glossary.terms or glossary.avoid or glossary.hotlines):
            continue
        catalog = _catalog(lang, locales)
        where = _where(path, locales)
        for message in catalog:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                for problem in glossary.problems(" ".join(ids), text or ""):
                    problems.append(f"{where}:{message.lineno}: {problem} ({ids[0][:40]!r})")
        for entry_id, name in glossary.hotlines.items():
            if entry_id not in names:
                problems.append(f"{lang}/{GLOSSARY}: hotline `{entry_id}` is not in contacts.yaml")
                continue
            shown = catalog.get(names[entry_id])
            if shown is not None and shown.string and shown.string != name:
                problems.append(
                    f"{where}:{shown.lineno}: the name of `{entry_id}` is “{shown.string}”, "
                    f"the glossary says “{name}”"
                )
    return problems


# Numbers ----------------------------------------------------------------------------------

#: English numbers whose writing differs by language: grouped thousands and decimals.
_NUMBER = re.compile(r"(?<![\w.,/])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+)(?![\w]|[.,]\d)")
_URL = re.compile(r"\S+\.\S+/\S*|https?://\S+")
_SPACES = re.compile(r"[\s\u00a0\u202f]")


def check_numbers(locales: Path = LOCALES_DIR) -> list[str]:
    """Return translations that write a number the English way ("4,000" where Babel says "4 000").

    Spaces inside a number are the translator's choice (Russian often writes "1153"), so
    they are ignored; the decimal mark and the thousands mark are not.
    """
    problems: list[str] = []
    for lang in LANGUAGES:
        path = po_path(lang, locales)
        if lang == "en" or not path.exists():
            continue
        where = _where(path, locales)
        for message in _catalog(lang, locales):
            if not message.id or not isinstance(message.id, str) or not message.string:
                continue
            english = _URL.sub(" ", message.id)
            translation = _SPACES.sub("", _URL.sub(" ", str(message.string)))
            for token in _NUMBER.findall(english):
                value = token.replace(",", "")
                decimals = len(value.partition(".")[2])
                wanted = _SPACES.sub("", format_number(float(value), lang, decimals))
                if wanted not in translation:
                    problems.append(
                        f"{where}:{message.lineno}: {token} is written {wanted!r} in {lang} "
                        f"(Babel), not found in the translation of {message.id[:40]!r}"
                    )
    return problems


# Buttons ----------------------------------------------------------------------------------


def _screens(engine: Any) -> list[tuple[str, dict[str, Any]]]:
    """Return a state for every screen with buttons, as deep in its flow as Back can show."""
    screens = []
    for flow in engine.flows.values():
        for step in flow.steps.values():
            if step.type not in ("question", "input", "result", "contacts"):
                continue
            state = engine.new_state("en")
            state.update(chosen=True, flow=flow.id, step=step.id, trail=[[flow.id, step.id]])
            screens.append((f"{flow.id}.{step.id}", state))
    return screens


def check_buttons(dialogs: Path = DIALOGS_DIR, locales: Path = LOCALES_DIR) -> list[str]:
    """Return screens whose translated buttons lay out worse on a phone than the English."""
    from bot.runtime import build_engine
    from bot.telegram_render import SHORT_LABEL

    engine = build_engine(dialogs, locales)
    problems: list[str] = []
    for name, state in _screens(engine):
        english = [c for r in engine.pending(dict(state)) for c in r.choices]
        two_per_row = bool(english) and all(len(c.label) <= SHORT_LABEL for c in english)
        for lang in LANGUAGES:
            if lang == "en":
                continue
            local = [c for r in engine.pending({**state, "lang": lang}) for c in r.choices]
            if two_per_row:
                long = [c.label for c in local if len(c.label) > SHORT_LABEL]
                if long:
                    labels = ", ".join(f"“{label}” ({len(label)})" for label in long)
                    problems.append(
                        f"{lang}: screen {name}: English keeps two buttons to a row, but "
                        f"{labels} go over {SHORT_LABEL} characters"
                    )
            for en, translated in zip(english, local, strict=False):
                if len(translated.label) > max(LONG_LABEL, len(en.label)):
                    problems.append(
                        f"{lang}: screen {name}: “{translated.label}” has "
                        f"{len(translated.label)} characters; a phone shows about {LONG_LABEL}"
                    )
    return sorted(set(problems))


def check_risk_levels(dialogs: Path = DIALOGS_DIR) -> list[str]:
    """Return result levels whose text does not start with one of the shared level names."""
    problems = []
    try:
        flows = load_flows(dialogs)
    except FlowError:
        return []
    allowed = tuple(f"Risk: {name}." for name in RISK_LEVELS)
    for flow in flows.values():
        for step in flow.steps.values():
            for level in getattr(step, "levels", None) or ():
                if level.text.startswith("Risk:") and not level.text.startswith(allowed):
                    problems.append(
                        f"{flow.id}.{step.id}: level `{level.id}` must start with one of "
                        f"{', '.join(allowed)}"
                    )
    return problems


# Data files -------------------------------------------------------------------------------


def check_data(dialogs: Path = DIALOGS_DIR) -> tuple[list[str], list[str]]:
    """Load the detector, scanner, FAQ and contacts; return (problems, warnings)."""
    from bot.campaigns import load_campaigns
    from bot.contacts import Directory
    from bot.detector import Detector
    from bot.faq import Faq
    from bot.scanner import Scanner

    problems: list[str] = []
    warnings: list[str] = []
    for name, loader in (
        ("signals", lambda: Detector.load(dialogs / "signals")),
        ("scanner.yaml", lambda: Scanner.load(dialogs)),
        ("faq.yaml", lambda: Faq.load(dialogs)),
        ("campaigns.yaml", lambda: load_campaigns(dialogs)),
    ):
        try:
            loader()
        except Exception as exc:  # any load error is a content problem to report
            problems.append(f"{name}: {exc}")
    try:
        directory = Directory.load(dialogs)
        for entry in directory.to_reread(date.today()):
            warnings.append(
                f"contacts.yaml: {entry.id}: its number was last read on {entry.read}, over a "
                f"year ago: read {entry.source} again, then update `read`"
            )
    except Exception as exc:
        problems.append(f"contacts.yaml: {exc}")
    return problems, warnings


def launch_checklist(dialogs: Path = DIALOGS_DIR) -> list[str]:
    """Return what must happen before a campaign: every number called by a person."""
    from bot.contacts import Directory

    directory = Directory.load(dialogs)
    return [
        f"contacts.yaml: {e.id}: nobody has called {', '.join(p.number for p in e.phones)} yet: "
        "call it, then write the day in `called`"
        for e in directory.never_called()
    ]


def check_settings() -> tuple[list[str], list[str]]:
    """Check the configuration that content cannot: the counsellor relay's settings.

    Returns (problems, warnings); a half-configured relay that is simply off is a warning.
    """
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        settings = Settings()
    except ValidationError as error:
        problems = [
            f"settings: {'.'.join(str(p) for p in e['loc']).upper()} {e['msg']}"
            for e in error.errors()
        ]
        return problems, []
    return (
        [f"settings: {problem}" for problem in settings.counsellor_problems()],
        [f"settings: {warning}" for warning in settings.counsellor_warnings()],
    )


def validate_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `validate` options."""
    parser.add_argument("--dialogs", type=Path, default=DIALOGS_DIR, help="content folder")
    parser.add_argument("--locales", type=Path, default=LOCALES_DIR, help="catalogs folder")
    parser.add_argument(
        "--launch",
        action="store_true",
        help="also fail until every hotline number has been called by a person",
    )


def validate_command(args: argparse.Namespace) -> int:
    """Check flows, data files and catalogs; print a readable list; exit 1 on problems."""
    problems: list[str] = []
    try:
        flows = load_flows(args.dialogs)
    except FlowError as exc:
        problems += exc.problems
        flows = {}
    data_problems, warnings = check_data(args.dialogs)
    problems += data_problems
    problems += check_risk_levels(args.dialogs)
    catalog_problems = check_catalogs(args.locales)
    problems += catalog_problems
    problems += check_glossaries(args.locales, args.dialogs)
    problems += check_numbers(args.locales)
    if flows and not data_problems and not catalog_problems:
        problems += check_buttons(args.dialogs, args.locales)
    settings_problems, settings_warnings = check_settings()
    problems += settings_problems
    warnings += settings_warnings
    if getattr(args, "launch", False):
        problems += launch_checklist(args.dialogs)
    for warning in warnings:
        print(f"warning: {warning}")
    if problems:
        print(f"{len(problems)} problem(s) found:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    steps = sum(len(f.steps) for f in flows.values())
    print(f"ok: {len(flows)} flows, {steps} steps, {len(LANGUAGES)} complete catalogs")
    return 0
