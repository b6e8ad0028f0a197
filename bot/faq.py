"""Free-text questions: match what a person typed against a small FAQ kept as data.

The entries live in `dialogs/faq.yaml`. Matching compares word stems in four languages, so
"Can they keep my passport?", "Ar darbdavys gali laikyti mano pasą?" and "zabrali pasport"
find the same answer. A one-word keyword scores one point, a phrase one point per word
when all its words occur; the best entry answers only from `THRESHOLD` points, so a
stray common word never picks an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import DIALOGS_DIR, LANGUAGES
from bot.flows import fast_load
from bot.text import stem, strip_diacritics_lt, tokens, translit_to_cyrillic

SCHEMA_VERSION = 1
THRESHOLD = 2
OFFERS = ("job_offer", "romance", "risk", "scan", "help")
#: Stems at least this long also match longer words that start with them.
PREFIX_MIN = 4
#: Stems at least this long also match a stem that differs only in its last letter.
NEAR_MIN = 6
#: Only the start of a long text is read: questions are short.
MAX_CHARS = 1000


class FaqError(ValueError):
    """A problem in faq.yaml, with where it is."""


@dataclass(frozen=True)
class FaqEntry:
    """One answer: its id, the English question and answer, and the flow to offer next."""

    id: str
    question: str
    answer: str
    offer: str


Phrase = tuple[str, ...]


def _stems(text: str, lang: str) -> list[str]:
    """Return the stems of the words in `text`, read as `lang`."""
    out = []
    for token in tokens(text):
        if lang == "lt":
            token = strip_diacritics_lt(token)
        elif lang in ("ru", "uk") and token.isascii() and token.isalpha():
            token = translit_to_cyrillic(token, lang)  # "zabrali pasport"
        out.append(stem(token, lang))
    return out


def same_stem(keyword: str, word: str) -> bool:
    """Tell whether a text stem counts as the keyword stem (equal, longer, last letter)."""
    if word == keyword:
        return True
    if len(keyword) >= PREFIX_MIN and word.startswith(keyword):
        return True
    if len(keyword) >= NEAR_MIN and len(word) >= NEAR_MIN:
        shorter = min(len(keyword), len(word))
        return keyword[: shorter - 1] == word[: shorter - 1]
    return False


class _StemIndex:
    """The keyword stems of one language, indexed so `same_stem` needs no loop over them."""

    def __init__(self, stems: set[str]):
        self.stems = stems
        self.by_cut: dict[str, set[str]] = {}  # keyword minus its last letter
        self.by_head: dict[str, set[str]] = {}  # every head of a long keyword
        for k in stems:
            if len(k) >= NEAR_MIN:
                self.by_cut.setdefault(k[:-1], set()).add(k)
                for n in range(NEAR_MIN - 1, len(k)):
                    self.by_head.setdefault(k[:n], set()).add(k)

    def found(self, words: set[str]) -> set[str]:
        """Return the keyword stems that some word counts as (same result as `same_stem`)."""
        hits = self.stems & words
        for w in words:
            for n in range(PREFIX_MIN, len(w)):  # the keyword is a head of the word
                if w[:n] in self.stems:
                    hits.add(w[:n])
            if len(w) >= NEAR_MIN:
                for n in range(NEAR_MIN - 1, len(w)):  # the keyword differs in its last letter
                    hits |= self.by_cut.get(w[:n], set())
                # a longer keyword that agrees with the word except the word's last letter
                hits |= {k for k in self.by_head.get(w[:-1], ()) if len(k) > len(w)}
        return hits


@dataclass
class Faq:
    """Answer typed questions from faq.yaml by stem matching in lt, ru, uk and en."""

    entries: tuple[FaqEntry, ...]
    keywords: tuple[dict[str, tuple[Phrase, ...]], ...]
    index: dict[str, _StemIndex] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {
            lang: _StemIndex(
                {k for by_lang in self.keywords for phrase in by_lang[lang] for k in phrase}
            )
            for lang in LANGUAGES
        }

    @classmethod
    def load(cls, dialogs_dir: Path | None = None) -> Faq:
        """Read and check faq.yaml; each entry's `offer` must be a flow in the folder."""
        directory = Path(dialogs_dir) if dialogs_dir else DIALOGS_DIR
        path = directory / "faq.yaml"
        try:
            data = fast_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise FaqError(f"faq.yaml: {exc}") from None
        if not isinstance(data, dict) or data.get("kind") != "faq":
            raise FaqError("faq.yaml: expected `kind: faq`")
        if data.get("schema") != SCHEMA_VERSION:
            raise FaqError(f"faq.yaml: expected `schema: {SCHEMA_VERSION}`")
        raw_entries = data.get("entries")
        if not isinstance(raw_entries, list) or not raw_entries:
            raise FaqError("faq.yaml: `entries` must be a non-empty list")
        entries, keywords = [], []
        for i, raw in enumerate(raw_entries):
            entry, phrases = _entry(raw, i, directory)
            if any(e.id == entry.id for e in entries):
                raise FaqError(f"faq.yaml: entry id {entry.id!r} is used twice")
            entries.append(entry)
            keywords.append(phrases)
        return cls(tuple(entries), tuple(keywords))

    def scores(self, text: str, lang: str | None = None) -> list[tuple[str, int]]:
        """Return (entry id, points) for every entry that scored, best first."""
        text = (text or "")[:MAX_CHARS]
        if not text.strip():
            return []
        # every language is tried: people type in their own whatever the menu says; on a
        # tie between entries, the one found in the chosen language comes first
        hint = lang if lang in LANGUAGES else None
        best: dict[int, tuple[int, bool]] = {}
        for language in LANGUAGES:
            words = set(_stems(text, language))
            if not words:
                continue
            found = self.index[language].found(words)
            for index, by_lang in enumerate(self.keywords):
                points = sum(
                    len(phrase) for phrase in by_lang[language] if found.issuperset(phrase)
                )
                if points and (points, language == hint) > best.get(index, (0, False)):
                    best[index] = (points, language == hint)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], not item[1][1], item[0]))
        return [(self.entries[i].id, points) for i, (points, _) in ranked]

    def match(self, text: str, lang: str | None = None) -> FaqEntry | None:
        """Return the entry that answers `text`, or None when nothing scores enough."""
        ranked = self.scores(text, lang)
        if not ranked or ranked[0][1] < THRESHOLD:
            return None
        return self.entry(ranked[0][0])

    def entry(self, entry_id: str) -> FaqEntry:
        """Return the entry with this id."""
        return next(e for e in self.entries if e.id == entry_id)


def _entry(raw: Any, index: int, directory: Path) -> tuple[FaqEntry, dict[str, tuple[Phrase, ...]]]:
    where = f"faq.yaml: entries[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise FaqError(f"{where}: each entry needs an `id`")
    where = f"faq.yaml: entry {raw['id']}"
    unknown = set(raw) - {"id", "question", "answer", "offer", "keywords"}
    if unknown:
        raise FaqError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("question", "answer"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise FaqError(f"{where}: `{key}` is missing")
    offer = raw.get("offer")
    if offer not in OFFERS:
        raise FaqError(f"{where}: `offer` must be one of {', '.join(OFFERS)}")
    if not (directory / f"{offer}.yaml").exists():
        raise FaqError(f"{where}: `offer` names flow {offer!r}, but {offer}.yaml is missing")
    raw_keywords = raw.get("keywords")
    if not isinstance(raw_keywords, dict) or set(raw_keywords) != set(LANGUAGES):
        raise FaqError(f"{where}: `keywords` needs lists for {', '.join(LANGUAGES)}")
    phrases: dict[str, tuple[Phrase, ...]] = {}
    for lang, words in raw_keywords.items():
        if not isinstance(words, list) or not words:
            raise FaqError(f"{where}: keywords.{lang} must be a non-empty list")
        stemmed = []
        for word in words:
            phrase = tuple(_stems(str(word), lang))
            if not phrase:
                raise FaqError(f"{where}: keywords.{lang}: {word!r} has no words")
            if phrase not in stemmed:  # two spellings with one stem count once
                stemmed.append(phrase)
        phrases[lang] = tuple(stemmed)
    entry = FaqEntry(
        id=raw["id"],
        # exactly as written: the texts are the gettext message ids
        question=raw["question"],
        answer=raw["answer"],
        offer=offer,
    )
    return entry, phrases


@lru_cache(maxsize=1)
def default_faq() -> Faq:
    """Return the FAQ for the repository's dialogs (loaded once)."""
    return Faq.load()
