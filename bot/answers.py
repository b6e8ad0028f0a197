"""Typed answers, typed requests for help and country names in what people type.

Many people type instead of pressing a button. A question accepts the number of a choice,
its label, or an everyday yes/no/not-sure word in any of the four languages
(`dialogs/answers.yaml`); a short "I need help" opens the help screen; "I'm in Norway"
tells the handoff which numbers to show (`dialogs/countries.yaml`). Everything is compared
in the detector's folded spelling (`bot.classifier.fold`), so case, diacritics, Latin
transliteration and doubled letters do not matter, and words of five letters or more may
carry one typo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import OSA

from bot import DIALOGS_DIR, LANGUAGES
from bot.classifier import fold
from bot.flows import fast_load
from bot.text import tokens

#: Longest typed text still read as a request for help rather than a story.
HELP_MAX_WORDS = 12
#: Typos are forgiven only in words at least this long ("ne" must not become "no").
TYPO_MIN = 5


def phrase_key(text: str) -> tuple[str, ...]:
    """Return a text's folded words without emoji or punctuation ("Taip!" -> ("taip",))."""
    folded = ("".join(c for c in fold(t) if c.isalnum()) for t in tokens(text))
    return tuple(w for w in folded if w)


def _close(typed: tuple[str, ...], known: tuple[str, ...]) -> bool:
    if typed == known:
        return True
    if len(typed) != len(known):
        return False
    for a, b in zip(typed, known, strict=True):
        if a != b and not (min(len(a), len(b)) >= TYPO_MIN and OSA.distance(a, b) <= 1):
            return False
    return True


@dataclass(frozen=True)
class Answers:
    """The typed-answer vocabulary of `dialogs/answers.yaml`, folded once at load."""

    choices: dict[str, tuple[tuple[str, ...], ...]]
    help: tuple[tuple[str, ...], ...]

    @classmethod
    def load(cls, path: Path | None = None) -> Answers:
        """Read and check the answers file."""
        path = path or DIALOGS_DIR / "answers.yaml"
        data = fast_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("kind") != "answers":
            raise ValueError(f"{path.name}: must start with `kind: answers`")

        def phrases(section: object, where: str) -> tuple[tuple[str, ...], ...]:
            if not isinstance(section, dict) or set(section) - set(LANGUAGES):
                raise ValueError(f"{path.name}: {where}: map lt/ru/uk/en to lists of phrases")
            found = []
            for lang, items in section.items():
                if not isinstance(items, list):
                    raise ValueError(f"{path.name}: {where}: {lang}: must be a list")
                for item in items:
                    key = phrase_key(str(item))
                    if not key:
                        raise ValueError(f"{path.name}: {where}: {lang}: empty phrase {item!r}")
                    found.append(key)
            return tuple(dict.fromkeys(found))

        raw = data.get("choices") or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path.name}: `choices` maps choice ids to phrases")
        choices = {str(k): phrases(v, f"choices: {k}") for k, v in raw.items()}
        return cls(choices, phrases(data.get("help"), "help"))

    def choice(self, text: str, options: Sequence[tuple[str, str]]) -> str | None:
        """Return the id of the option that typed `text` means, or None.

        `options` are (id, translated label) pairs in the order shown; a number picks by
        position, then a label, then a yes/no/not-sure word for an option with that id.
        """
        if text.strip().isdecimal() and text.strip().isascii():
            number = int(text.strip())
            return options[number - 1][0] if 1 <= number <= len(options) else None
        typed = phrase_key(text)
        if not typed:
            return None
        for option_id, label in options:
            key = phrase_key(label)
            if key and _close(typed, key):
                return option_id
        for option_id, _ in options:
            if any(_close(typed, known) for known in self.choices.get(option_id, ())):
                return option_id
        return None

    def asks_for_help(self, text: str) -> bool:
        """Say whether a short text is a plain request for help ("I need help", "padėkit")."""
        typed = phrase_key(text)
        if not typed or len(typed) > HELP_MAX_WORDS:
            return False
        return any(
            _close(typed[i : i + len(known)], known)
            for known in self.help
            for i in range(len(typed) - len(known) + 1)
        )


@dataclass(frozen=True)
class Places:
    """Country names as people write them (`dialogs/countries.yaml`), folded once."""

    prefixes: tuple[tuple[tuple[str, ...], str, bool], ...]  # (folded words, code, exact)

    @classmethod
    def load(cls, path: Path | None = None) -> Places:
        """Read and check the countries file."""
        path = path or DIALOGS_DIR / "countries.yaml"
        data = fast_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("kind") != "countries":
            raise ValueError(f"{path.name}: must start with `kind: countries`")
        found = []
        for code, names in (data.get("countries") or {}).items():
            if not isinstance(names, list):
                raise ValueError(f"{path.name}: {code}: must list name beginnings")
            for name in names:
                name = str(name)
                key = tuple(fold(t) for t in tokens(name.lstrip("=")))
                if not key:
                    raise ValueError(f"{path.name}: {code}: empty name {name!r}")
                found.append((key, str(code), name.startswith("=")))
        # longer names first, so "united kingdom" wins over a one-word beginning
        found.sort(key=lambda item: (-len(item[0]), -len(item[0][-1])))
        return cls(tuple(found))

    def country_in(self, text: str) -> str | None:
        """Return the code of the country where the person is, as named in `text`, or None.

        Of several countries the first wins, except one that follows "from" ("from Ukraine,
        now in Poland" is Poland).
        """
        words = [fold(t) for t in tokens(text)]
        found: list[tuple[bool, int, str]] = []
        for key, code, exact in self.prefixes:
            n = len(key)
            for i in range(len(words) - n + 1):
                window = words[i : i + n]
                last = window[-1] == key[-1] if exact else window[-1].startswith(key[-1])
                if last and window[:-1] == list(key[:-1]):
                    origin = i > 0 and words[i - 1] in _FROM
                    found.append((origin, i, code))
                    break
        return min(found)[2] if found else None


#: "from" in the four languages (folded): a country after it is where someone comes from.
_FROM = frozenset(("from", "iz", "is", "z", "zi", "iz-za", "rodom"))


@lru_cache(maxsize=1)
def default_answers() -> Answers:
    """Return the repository's typed-answer vocabulary (loaded once)."""
    return Answers.load()


@lru_cache(maxsize=1)
def default_places() -> Places:
    """Return the repository's country names (loaded once)."""
    return Places.load()
