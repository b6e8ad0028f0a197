"""`python -m bot validate`: catch a broken flow or an incomplete translation before users do."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from babel.messages.pofile import read_po

from bot import DIALOGS_DIR, LANGUAGES, LOCALES_DIR
from bot.flows import FlowError, load_flows
from bot.i18n import placeholders, po_path


def check_catalogs(locales: Path = LOCALES_DIR) -> list[str]:
    """Return problems: messages missing, empty, fuzzy or with other placeholders."""
    from bot.i18n_tool import build_template

    template = build_template()
    problems: list[str] = []
    for lang in LANGUAGES:
        path = po_path(lang, locales)
        if not path.exists():
            problems.append(f"{path}: catalog missing (run `make locales`)")
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        where = path.relative_to(locales.parent) if locales.parent in path.parents else path
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
        for entry in directory.stale(date.today()):
            warnings.append(
                f"contacts.yaml: {entry.id} was last verified on {entry.verified}, "
                "over a year ago: call it or check its website, then update `verified`"
            )
    except Exception as exc:
        problems.append(f"contacts.yaml: {exc}")
    return problems, warnings


def check_settings() -> list[str]:
    """Check the configuration that content cannot: the counsellor relay's settings."""
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        settings = Settings()
    except ValidationError as error:
        return [
            f"settings: {'.'.join(str(p) for p in e['loc']).upper()} {e['msg']}"
            for e in error.errors()
        ]
    return [f"settings: {problem}" for problem in settings.counsellor_problems()]


def validate_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `validate` options."""
    parser.add_argument("--dialogs", type=Path, default=DIALOGS_DIR, help="content folder")
    parser.add_argument("--locales", type=Path, default=LOCALES_DIR, help="catalogs folder")


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
    problems += check_catalogs(args.locales)
    problems += check_settings()
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
