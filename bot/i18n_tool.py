"""Maintain the gettext catalogs: extract, update, and merge translations safely.

`python -m bot.i18n_tool extract` runs Babel's extract and update for every language.
`python -m bot.i18n_tool merge FILE.yaml` writes translations from a YAML file of
`{english msgid: {lt: ..., ru: ..., uk: ...}}` into the catalogs (for a plural message,
the key is the singular msgid and each value a list of forms). Run `extract` first.
Both hold a file lock, so several people (or scripts) can work on the catalogs at once.
"""

from __future__ import annotations

import argparse
import fcntl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot import LANGUAGES, LOCALES_DIR, ROOT
from bot.i18n import po_path

POT = LOCALES_DIR / "messages.pot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (2, 3)}


@contextmanager
def locked() -> Iterator[None]:
    """Hold an exclusive lock on the catalogs."""
    LOCALES_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALES_DIR / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=False, omit_header=False)


def build_template() -> Catalog:
    """Extract every message from the code and the dialogs into a template catalog."""
    template = Catalog(project="safe-abroad", msgid_bugs_address="", charset="utf-8")
    method_map = [("bot/**.py", "python"), ("dialogs/**.yaml", "bot.babel_extract:extract_yaml")]
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT,
        method_map=method_map,
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        if filename.startswith((".venv", "tests", "bench")):
            continue
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def extract() -> None:
    """Regenerate messages.pot and update each language's catalog from it."""
    with locked():
        template = build_template()
        _write(POT, template)
        for lang in LANGUAGES:
            path = po_path(lang)
            if path.exists():
                catalog = _read(path, lang)
            else:
                catalog = Catalog(locale=lang, project="safe-abroad", charset="utf-8")
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            if lang == "en":  # the source language translates to itself
                for message in catalog:
                    untranslated = not message.string or not all(message.string)
                    if message.id and untranslated:
                        message.string = message.id
            _write(path, catalog)


def merge(source: Path) -> int:
    """Write translations from a YAML file into the catalogs; return how many were set."""
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    count = 0
    with locked():
        for lang in LANGUAGES:
            path = po_path(lang)
            catalog = _read(path, lang) if path.exists() else Catalog(locale=lang)
            for msgid, by_lang in data.items():
                text = (by_lang or {}).get(lang)
                message = catalog.get(msgid)
                if text is None or message is None:
                    continue  # unknown ids wait for `extract` (run it first)
                message.string = tuple(text) if isinstance(text, list) else text
                message.flags.discard("fuzzy")
                count += 1
            _write(path, catalog)
    return count


def main(argv: list[str] | None = None) -> int:
    """Run the catalog maintenance command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.i18n_tool")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("extract", help="update messages.pot and the .po files")
    merge_parser = sub.add_parser("merge", help="write translations from a YAML file")
    merge_parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "extract":
        extract()
        print(f"updated {POT.relative_to(ROOT)} and {len(LANGUAGES)} catalogs")
    else:
        print(f"set {merge(args.file)} translations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
