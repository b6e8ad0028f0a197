"""The job-ad scanner: list the red flags in a pasted job ad, each with the phrase behind it.

The flags, their patterns and the pay-check vocabulary are data (`dialogs/scanner.yaml`);
the minimum wages (`dialogs/wages.yaml`) and the typical pay by country
(`dialogs/typical_wages.yaml`) are data too. Everything is deterministic: a flag is raised
by a pattern that matched (its evidence is the phrase as the person typed it), by an
absence (no employer named, no address), or by the pay check, which reads each amount with
its currency and period and compares it with the minimum wage of the country named (too
low) and with what work typically pays there (too good to be true).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import re._constants as sre_c
import re._parser as sre_parse
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import DIALOGS_DIR
from bot.admodel import LazyAdModel
from bot.flows import fast_load
from bot.text import detect_language

SCHEMA_VERSION = 1
PATTERN_LANGUAGES = ("en", "lt", "ru", "uk", "mixed")
CHECKS = ("pay_above", "pay_below", "pay_old_minimum", "model")
#: Flags this light (no employer named, a messenger as the only contact, haste) are weak
#: signs: one alone raises no warning, it is shown as a thing to check (`_read_model`).
QUIET_WEIGHT = 2
#: Weak signs that raise a warning together. Read by the scanners that had not yet seen each
#: batch (`bench/bench_scanner_weak.py`, dev ads b4-b26), ads flagged by weak signs only
#: were sound 26 times and risky 28 times with one sign, sound twice and risky 29 times with
#: two or more (mostly no employer named and a messenger as the only contact).
WEAK_TOGETHER = 2


def rules_warn(ids: Iterable[str], weights: dict[str, int]) -> bool:
    """Tell whether these flags raise a warning without the ad model: one heavier than
    QUIET_WEIGHT, or WEAK_TOGETHER weak signs (`Scanner._read_model`, `train.combine_ads`)."""
    ids = list(ids)
    return len(ids) >= WEAK_TOGETHER or any(weights[i] > QUIET_WEIGHT for i in ids)


def model_may_quiet(ids: Iterable[str], weights: dict[str, int], quietable: frozenset[str]) -> bool:
    """Tell whether the ad model may turn these flags into things to check: one heavy flag
    of the kind that honest ads word alarmingly (`model_may_quiet` in scanner.yaml: a fee,
    a deduction, cash, pay) and at most one weak sign beside it."""
    ids = list(ids)
    heavy = [i for i in ids if weights[i] > QUIET_WEIGHT]
    return len(heavy) == 1 and heavy[0] in quietable and len(ids) - 1 < WEAK_TOGETHER


PERIODS = ("hour", "day", "week", "month", "year")
TYPICAL_SCOPES = ("all", "unskilled")
#: Longer texts are cut here (the engine accepts up to 4,000 characters).
MAX_CHARS = 8000
#: Evidence longer than this is shortened with an ellipsis.
MAX_EVIDENCE = 160

# Folding keeps every character in place (one in, one out), so a match in the folded text
# points at the same characters of the original: evidence is quoted as the person typed it.
_FOLD = str.maketrans(
    "ąčęėįšųūžĄČĘĖĮŠŲŪŽёЁ’‘ʼ`´ʹ′",
    "aceeisuuzACEEISUUZеЕ'''''''",
)
_LETTER_BEFORE = r"(?<![^\W\d_])"
_LETTER_AFTER = r"(?![^\W\d_])"
_GAP = r"\W+(?:[\w']+\W+){0,4}?"
# Every pattern starts at a word (or a currency sign): trying only those positions, not
# every character, makes scanning several times faster with the same results.
_STARTS = re.compile(r"(?<![^\W\d_])[^\W_]|[€£$₴]")


def _starts(folded: str) -> list[int]:
    return [m.start() for m in _STARTS.finditer(folded)]


def _first(rx: _Matcher | re.Pattern[str], text: str, starts: list[int]) -> re.Match[str] | None:
    """Return the leftmost match of `rx` that begins at one of `starts`."""
    for pos in starts:
        m = rx.match(text, pos)
        if m:
            return m
    return None


def _all(rx: _Matcher | re.Pattern[str], text: str, starts: list[int]) -> list[re.Match[str]]:
    """Return every match of `rx` that begins at one of `starts`."""
    return [m for m in map(lambda pos: rx.match(text, pos), starts) if m]


class ScannerError(ValueError):
    """A problem in scanner.yaml or wages.yaml, with where it is."""


def fold(text: str) -> str:
    """Drop Lithuanian accents, ё and apostrophe variants without moving any character."""
    return text.translate(_FOLD)


def compile_pattern(pattern: str, where: str) -> str:
    """Turn one readable pattern into regex source: folded, spaces loose, whole words."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ScannerError(f"{where}: a pattern must be a non-empty string")
    source = fold(pattern.strip()).replace(" ... ", _GAP).replace(" ?", r"\W*")
    source = source.replace(" ", r"\W+")
    # a free token (`\S+`) starts with a letter or digit and takes all it can: `\W+\S+`
    # repeated could otherwise split a run of punctuation in every possible way, and a
    # pasted table ("|------|------|") then kept the matcher busy for minutes
    source = source.replace(r"\S+", r"\w\S*+")
    return f"{_LETTER_BEFORE}(?:{source}){_LETTER_AFTER}"


def _first_chars(source: str) -> set[str] | None:
    """Return the lower-case characters a match of `source` can start with (None: any)."""
    try:
        parsed = sre_parse.parse(source, re.IGNORECASE)
    except Exception:  # an internal API: without it we only lose speed
        return None
    chars = _firsts(list(parsed))
    return {c.lower() for c in chars} if chars else None


def _firsts(items: list[Any]) -> set[str] | None:
    for i, (op, av) in enumerate(items):
        if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
            continue  # zero-width: look at what follows
        if op is sre_c.LITERAL:
            return {chr(av)}
        if op is sre_c.IN:
            chars: set[str] = set()
            for kind, value in av:
                if kind is sre_c.LITERAL:
                    chars.add(chr(value))
                elif kind is sre_c.RANGE and value[1] - value[0] < 100:
                    chars.update(chr(c) for c in range(value[0], value[1] + 1))
                else:
                    return None
            return chars
        if op is sre_c.SUBPATTERN:
            return _firsts(list(av[-1]))
        if op is sre_c.BRANCH:
            union: set[str] = set()
            for branch in av[1]:
                first = _firsts(list(branch))
                if first is None:
                    return None
                union |= first
            return union
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            low, _high, sub = av
            first = _firsts(list(sub))
            if first is None:
                return None
            if low == 0:
                rest = _firsts(items[i + 1 :])
                return None if rest is None else first | rest
            return first
        return None
    return None


class _Matcher:
    """Patterns joined into one regex, plus one smaller regex per possible first letter."""

    def __init__(self, sources: list[str], names: list[tuple[str, str]] | None = None):
        self.sources = sources
        self.pattern = "|".join(sources)
        self._names = names  # (written pattern, where) per source, to name a broken one
        self._whole: re.Pattern[str] | None = None
        self._compiled: dict[tuple[int, ...], re.Pattern[str] | None] = {}

    @cached_property
    def _buckets(self) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
        """Which patterns can start with each character, and those that can start with any.

        Worked out on first use (parsing every pattern is most of the scanner's load time),
        so the server is ready sooner; `Scanner.compile_all` does it in the background.
        """
        firsts = [_first_chars(src) for src in self.sources]
        letters = set().union(*(chars for chars in firsts if chars))
        # keep the written order inside each bucket: the first pattern that fits wins
        picks = {
            ch: tuple(i for i, chars in enumerate(firsts) if chars is None or ch in chars)
            for ch in letters
        }
        return picks, tuple(i for i, chars in enumerate(firsts) if chars is None)

    @property
    def whole(self) -> re.Pattern[str]:
        """All patterns in one regex, compiled on first use (see `Scanner.compile_all`)."""
        if self._whole is None:
            self._whole = self._compile(self.pattern)
        return self._whole

    def _compile(self, pattern: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern, re.I)
        except re.error:
            for source, (written, where) in zip(self.sources, self._names or [], strict=False):
                try:
                    re.compile(source)
                except re.error as exc:
                    raise ScannerError(f"{where}: bad pattern {written!r}: {exc}") from None
            raise

    def _bucket(self, ch: str) -> re.Pattern[str] | None:
        picks, other = self._buckets
        picked = picks.get(ch, other)
        if picked not in self._compiled:  # compiled on first use: loading stays fast
            joined = "|".join(self.sources[i] for i in picked)
            self._compiled[picked] = self._compile(joined) if picked else None
        return self._compiled[picked]

    def match(self, text: str, pos: int) -> re.Match[str] | None:
        """Match at `pos`, trying only the patterns that can start with that character."""
        rx = self._bucket(text[pos].lower())
        return rx.match(text, pos) if rx is not None else None

    def search(self, text: str) -> re.Match[str] | None:
        """Find the first match anywhere (for short windows)."""
        return self.whole.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """Find every match anywhere (for short windows)."""
        return self.whole.finditer(text)


def _matchers(value: Any, seen: set[int]) -> Iterator[_Matcher]:
    """Yield every _Matcher inside `value` (dataclasses, tuples, lists, dicts)."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, _Matcher):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _matchers(getattr(value, f.name), seen)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _matchers(item, seen)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _matchers(item, seen)


def _join(sources: Iterable[tuple[str, str, str]]) -> _Matcher | None:
    """Compile (regex, written pattern, where) triples; name the pattern that is broken."""
    items = list(sources)
    if not items:
        return None
    return _Matcher([source for source, _, _ in items], [(p, w) for _, p, w in items])


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One red flag: which, the phrase that raised it, why it matters, how much."""

    id: str
    evidence: str
    why: str
    weight: int


@dataclass(frozen=True)
class ScanResult:
    """The red flags found in one text, heaviest first, and the text's language.

    `checks` is the one weak sign found in an ad with no red flag (no employer named, a
    messenger as the only contact, haste): sound ads show one as often as risky ads do, so it
    is advice, not a warning; or a money flag the ad model is sure is honest wording.
    """

    findings: tuple[Finding, ...]
    lang: str
    checks: tuple[Finding, ...] = ()

    @property
    def ids(self) -> list[str]:
        """Return the ids of the flags found, heaviest first."""
        return [f.id for f in self.findings]

    def to_json(self) -> dict[str, Any]:
        """Return the command-line form: flags with their evidence, and the language."""
        return {
            "flags": [{"id": f.id, "evidence": f.evidence} for f in self.findings],
            "checks": [{"id": f.id, "evidence": f.evidence} for f in self.checks],
            "lang": self.lang,
        }


# --- rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Flag:
    id: str
    weight: int
    why: str
    patterns: _Matcher | None = None
    exceptions: _Matcher | None = None
    except_named: _Matcher | None = None
    except_anywhere: _Matcher | None = None
    requires_flags: tuple[str, ...] = ()
    requires: _Matcher | None = None
    missing: _Matcher | None = None
    check: str | None = None
    unless_agreed: _Matcher | None = None
    model_may_quiet: bool = False


@dataclass(frozen=True)
class _Rate:
    amount: float
    unit: str
    valid_from: date
    adult: bool


@dataclass(frozen=True)
class _Country:
    code: str
    currency: str
    statutory: bool
    check: bool
    names: _Matcher | None
    rates: tuple[_Rate, ...]

    def minimum(self, unit: str, today: date) -> float | None:
        """Return the adult minimum per `unit` in force on `today`, if the table has one."""
        rates = self._adult_rates(unit, today)
        return rates[-1].amount if rates else None

    def previous_minimum(self, unit: str, today: date) -> float | None:
        """Return the adult minimum per `unit` before the one in force on `today`, if any."""
        rates = self._adult_rates(unit, today)
        earlier = [r for r in rates if r.valid_from < rates[-1].valid_from] if rates else []
        return earlier[-1].amount if earlier else None

    def _adult_rates(self, unit: str, today: date) -> list[_Rate]:
        """Return the adult rates per `unit` that had come into force by `today`, oldest first."""
        rates = [r for r in self.rates if r.unit == unit and r.adult and r.valid_from <= today]
        return sorted(rates, key=lambda r: r.valid_from)


@dataclass(frozen=True)
class _Typical:
    """What work pays in one country, per month: every job, and low-skill work if sourced."""

    code: str
    currency: str
    all: float | None
    unskilled: float | None


@dataclass(frozen=True)
class _PayRules:
    typical_unskilled: float
    typical_unskilled_sector: float
    typical_skilled: float
    weekly_cap_eur: float
    converted_below_ratio: float
    old_minimum: tuple[float, float]
    price_ratio: float
    hours: dict[str, float]
    amount: re.Pattern[str]
    currencies: dict[str, re.Pattern[str]]
    currency_country: dict[str, str]
    periods: dict[str, re.Pattern[str]]
    pay_words: re.Pattern[str]
    not_pay: re.Pattern[str]
    not_pay_after: re.Pattern[str]
    net: re.Pattern[str]
    skilled: re.Pattern[str]
    experience: re.Pattern[str] | None
    no_experience: _Matcher | None
    part_time: _Matcher | None


@dataclass(frozen=True)
class _Amount:
    start: int
    end: int
    low: float
    high: float
    currency: str
    period: str | None
    net: bool


# --- loading ---------------------------------------------------------------------------


def _read_yaml(path: Path, kind: str) -> dict[str, Any]:
    try:
        data = fast_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScannerError(f"{path.name}: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise ScannerError(f"{path.name}: expected `kind: {kind}`")
    if data.get("schema") != SCHEMA_VERSION:
        raise ScannerError(f"{path.name}: expected `schema: {SCHEMA_VERSION}`")
    return data


def _by_language(value: Any, sets: dict[str, Any], where: str) -> Iterator[tuple[str, str, str]]:
    """Yield (regex, pattern, where) from patterns by language, a set name or set names."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        for name in value:
            if name not in sets:
                raise ScannerError(f"{where}: unknown set {name!r}")
            yield from _by_language(sets[name], sets, f"{where} ({name})")
        return
    if not isinstance(value, dict):
        raise ScannerError(f"{where}: expected patterns by language, or a set name")
    for lang, patterns in value.items():
        if lang not in PATTERN_LANGUAGES:
            raise ScannerError(f"{where}: unknown language {lang!r}")
        if not isinstance(patterns, list):
            raise ScannerError(f"{where}.{lang}: expected a list of patterns")
        for i, pattern in enumerate(patterns):
            here = f"{where}.{lang}[{i}]"
            yield compile_pattern(pattern, here), pattern, here


def _patterns(value: Any, sets: dict[str, Any], where: str) -> _Matcher | None:
    return None if value is None else _join(_by_language(value, sets, where))


_FLAG_KEYS = {
    "id",
    "weight",
    "why",
    "patterns",
    "except",
    "except_named",
    "except_anywhere",
    "requires",
    "missing",
    "check",
    "unless_agreed",
    "model_may_quiet",
}


def _flag(raw: Any, sets: dict[str, Any], index: int) -> _Flag:
    where = f"scanner.yaml: flags[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ScannerError(f"{where}: each flag needs an `id`")
    where = f"scanner.yaml: flag {raw['id']}"
    unknown = set(raw) - _FLAG_KEYS
    if unknown:
        raise ScannerError(f"{where}: unknown keys {sorted(unknown)}")
    weight = raw.get("weight")
    if not isinstance(weight, int) or not 1 <= weight <= 5:
        raise ScannerError(f"{where}: `weight` must be a whole number from 1 to 5")
    why = raw.get("why")
    if not isinstance(why, str) or not why.strip():
        raise ScannerError(f"{where}: `why` is missing")
    check = raw.get("check")
    if check is not None and check not in CHECKS:
        raise ScannerError(f"{where}: `check` must be one of {', '.join(CHECKS)}")
    kinds = [k for k in ("patterns", "missing", "check") if raw.get(k) is not None]
    if len(kinds) != 1:
        raise ScannerError(f"{where}: give exactly one of `patterns`, `missing`, `check`")
    requires = raw.get("requires") or {}
    if not isinstance(requires, dict) or set(requires) - {"flags", "patterns"}:
        raise ScannerError(f"{where}: `requires` takes `flags` and `patterns`")
    return _Flag(
        id=raw["id"],
        weight=weight,
        why=why,  # exactly as written: it is the gettext message id
        patterns=_patterns(raw.get("patterns"), sets, f"{where}.patterns"),
        exceptions=_patterns(raw.get("except"), sets, f"{where}.except"),
        except_named=_patterns(raw.get("except_named"), sets, f"{where}.except_named"),
        except_anywhere=_patterns(raw.get("except_anywhere"), sets, f"{where}.except_anywhere"),
        requires_flags=tuple(requires.get("flags") or ()),
        requires=_patterns(requires.get("patterns"), sets, f"{where}.requires"),
        missing=_patterns(raw.get("missing"), sets, f"{where}.missing"),
        check=check,
        unless_agreed=_patterns(raw.get("unless_agreed"), sets, f"{where}.unless_agreed"),
        model_may_quiet=bool(raw.get("model_may_quiet", False)),
    )


_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f.,']\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d)"
_THOUSANDS = r"(?:\s?(?:k|тыс\.?|тис\.?|tukst\.?)(?![^\W\d_]))"
# millions or billions after a number ("a system that moves ~€40m a day", "оборот 5 млн €"):
# a turnover or a budget, never a wage
_MILLIONS = re.compile(
    r"\s?(?:m|mn|mln|million\w*|bn|billion\w*|млн|млрд|mlrd|milijon\w*|milijard\w*|мільйон\w*|"
    r"миллион\w*|мільярд\w*|миллиард\w*)(?![^\W\d_])",
    re.IGNORECASE,
)
_RANGE = r"(?:-|–|—|до|iki|to|till)"


def _amount_regex(currency: str) -> re.Pattern[str]:
    cur = f"(?:{currency})"
    sp = r"[ \u00a0\u202f]{0,2}"
    return re.compile(
        rf"(?=[^\d\n]{{0,12}}\d)(?<![\d+])(?P<c1>{cur})?{sp}(?P<a>{_NUMBER})(?P<ka>{_THOUSANDS})?{sp}(?P<c2>{cur})?"
        rf"(?:{sp}{_RANGE}{sp}(?P<c3>{cur})?{sp}(?P<b>{_NUMBER})(?P<kb>{_THOUSANDS})?"
        rf"{sp}(?P<c4>{cur})?)?",
        re.IGNORECASE,
    )


def _pay_rules(raw: Any, sets: dict[str, Any], wages: dict[str, Any]) -> _PayRules:
    where = "scanner.yaml: pay"
    if not isinstance(raw, dict):
        raise ScannerError(f"{where}: missing")
    hours = raw.get("hours") or {}
    if set(hours) != set(PERIODS) or not all(
        isinstance(v, int | float) and v > 0 for v in hours.values()
    ):
        raise ScannerError(f"{where}.hours: give positive hours for {', '.join(PERIODS)}")
    currencies: dict[str, re.Pattern[str]] = {}
    currency_country: dict[str, str] = {}
    sources: list[str] = []
    for code, spec in (raw.get("currencies") or {}).items():
        if not isinstance(spec, dict) or not isinstance(spec.get("patterns"), list):
            raise ScannerError(f"{where}.currencies.{code}: expected `patterns`")
        here = f"{where}.currencies.{code}"
        parts = [(compile_pattern(p, here), p, here) for p in spec["patterns"]]
        matcher = _join(parts)
        assert matcher is not None
        currencies[code] = matcher.whole
        parts = [src for src, _, _ in parts]
        sources += parts
        if spec.get("country"):
            currency_country[code] = spec["country"]
    if not currencies:
        raise ScannerError(f"{where}.currencies: missing")
    periods = {}
    for period in PERIODS:
        compiled = _patterns((raw.get("periods") or {}).get(period), sets, f"{where}.periods")
        if compiled is None and period != "year":
            raise ScannerError(f"{where}.periods.{period}: missing")
        periods[period] = compiled or re.compile(r"(?!x)x")
    not_pay = "|".join(src for src, _, _ in _by_language(raw.get("not_pay"), sets, where))
    # a rate per piece of work ("за м²", "per kg") right after an amount: no wage to judge
    if raw.get("per_piece") is not None:
        pieces = _by_language(raw["per_piece"], sets, f"{where}.per_piece")
        not_pay = "|".join([not_pay, *(src for src, _, _ in pieces)])
    # a total for the season ("3 500 € per sezoną"): its length is not known, nothing to judge
    if raw.get("per_season") is not None:
        seasons = _by_language(raw["per_season"], sets, f"{where}.per_season")
        not_pay = "|".join([not_pay, *(src for src, _, _ in seasons)])
    numbers = {}
    typical = raw.get("typical") or {}
    for key in ("unskilled", "unskilled_sector", "skilled"):
        value = typical.get(key)
        if not isinstance(value, int | float) or value <= 0:
            raise ScannerError(f"{where}.typical.{key}: expected a positive number")
        numbers[f"typical_{key}"] = float(value)
    for key in ("weekly_cap_eur", "converted_below_ratio", "price_ratio"):
        value = raw.get(key)
        if not isinstance(value, int | float) or value <= 0:
            raise ScannerError(f"{where}.{key}: expected a positive number")
        numbers[key] = float(value)
    old = raw.get("old_minimum")
    if (
        not isinstance(old, list)
        or len(old) != 2
        or not all(isinstance(v, int | float) and v > 0 for v in old)
        or old[0] > old[1]
    ):
        raise ScannerError(f"{where}.old_minimum: expected [low, high], two positive numbers")
    return _PayRules(
        **numbers,
        old_minimum=(float(old[0]), float(old[1])),
        hours={k: float(v) for k, v in hours.items()},
        amount=_amount_regex("|".join(sources)),
        currencies=currencies,
        currency_country=currency_country,
        periods=periods,
        pay_words=_required(raw.get("pay_words"), sets, f"{where}.pay_words"),
        not_pay=_required(raw.get("not_pay"), sets, f"{where}.not_pay"),
        not_pay_after=re.compile(
            rf"^[\s:–—-]*(?:(?:for|za|за|на|uz)\s+)?(?:the\s+)?(?:{not_pay})", re.IGNORECASE
        ),
        net=_required(raw.get("net"), sets, f"{where}.net"),
        skilled=_required(raw.get("skilled"), sets, f"{where}.skilled"),
        experience=_patterns(raw.get("experience"), sets, f"{where}.experience"),
        no_experience=_patterns(sets.get("no_experience") and "no_experience", sets, where),
        part_time=_patterns(sets.get("part_time") and "part_time", sets, where),
    )


def _required(value: Any, sets: dict[str, Any], where: str) -> _Matcher:
    compiled = _patterns(value, sets, where)
    if compiled is None:
        raise ScannerError(f"{where}: missing")
    return compiled


def _countries(data: dict[str, Any], sets: dict[str, Any]) -> tuple[_Country, ...]:
    countries = []
    for i, raw in enumerate(data.get("countries") or []):
        code = raw.get("country") if isinstance(raw, dict) else None
        where = f"wages.yaml: countries[{i}]" + (f" ({code})" if code else "")
        if not isinstance(code, str) or not isinstance(raw.get("currency"), str):
            raise ScannerError(f"{where}: each country needs `country` and `currency`")
        statutory = raw.get("statutory")
        if not isinstance(statutory, bool):
            raise ScannerError(f"{where}: `statutory` must be true or false")
        rates = []
        for j, rate in enumerate(raw.get("rates") or []):
            here = f"{where}.rates[{j}]"
            if not isinstance(rate, dict):
                raise ScannerError(f"{here}: expected a mapping")
            amount, unit, since = rate.get("amount"), rate.get("unit"), rate.get("valid_from")
            if not isinstance(amount, int | float) or amount <= 0:
                raise ScannerError(f"{here}: `amount` must be a positive number")
            if unit not in ("hour", "month"):
                raise ScannerError(f"{here}: `unit` must be hour or month")
            if not isinstance(since, date):
                raise ScannerError(f"{here}: `valid_from` must be a date (YYYY-MM-DD)")
            if not str(rate.get("source", "")).startswith("http"):
                raise ScannerError(f"{here}: `source` must be a URL")
            age = str(rate.get("age") or "")
            rates.append(_Rate(float(amount), unit, since, adult=not age or age.endswith("+")))
        if statutory and not rates:
            raise ScannerError(f"{where}: a statutory minimum needs `rates`")
        if not statutory and rates:
            raise ScannerError(f"{where}: no statutory minimum, so no `rates`")
        countries.append(
            _Country(
                code=code,
                currency=raw["currency"],
                statutory=statutory,
                check=bool(raw.get("check", True)),
                names=_patterns(raw.get("names"), sets, f"{where}.names"),
                rates=tuple(rates),
            )
        )
    if not countries:
        raise ScannerError("wages.yaml: no countries")
    return tuple(countries)


def _typical(data: dict[str, Any], hours: dict[str, float], known: set[str]) -> dict[str, _Typical]:
    """Read typical_wages.yaml: one monthly figure per country and scope, each sourced."""
    result = {}
    countries = data.get("countries")
    if not isinstance(countries, dict) or not countries:
        raise ScannerError("typical_wages.yaml: `countries` must be a mapping")
    for code, raw in countries.items():
        where = f"typical_wages.yaml: {code}"
        if code not in known:
            raise ScannerError(f"{where}: not a country of wages.yaml")
        if not isinstance(raw, dict) or not isinstance(raw.get("currency"), str):
            raise ScannerError(f"{where}: needs `currency` and `figures`")
        monthly: dict[str, float] = {}
        for i, fig in enumerate(raw.get("figures") or []):
            here = f"{where}.figures[{i}]"
            if not isinstance(fig, dict):
                raise ScannerError(f"{here}: expected a mapping")
            amount, unit, scope = fig.get("amount"), fig.get("unit"), fig.get("scope")
            if not isinstance(amount, int | float) or amount <= 0:
                raise ScannerError(f"{here}: `amount` must be a positive number")
            if unit not in PERIODS:
                raise ScannerError(f"{here}: `unit` must be one of {', '.join(PERIODS)}")
            if scope not in TYPICAL_SCOPES:
                raise ScannerError(f"{here}: `scope` must be one of {', '.join(TYPICAL_SCOPES)}")
            if not str(fig.get("source", "")).startswith("http"):
                raise ScannerError(f"{here}: `source` must be a URL")
            if not fig.get("period") or not fig.get("what"):
                raise ScannerError(f"{here}: say which `period` and `what` the figure is")
            monthly[scope] = float(amount) * hours["month"] / hours[unit]
        if not monthly:
            raise ScannerError(f"{where}: no figures")
        result[code] = _Typical(code, raw["currency"], monthly.get("all"), monthly.get("unskilled"))
    return result


# --- the scanner -----------------------------------------------------------------------


@dataclass
class Scanner:
    """Find job-ad red flags by the rules in scanner.yaml and the wages in wages.yaml."""

    flags: tuple[_Flag, ...]
    pay: _PayRules
    countries: tuple[_Country, ...]
    typical: dict[str, _Typical] = field(default_factory=dict)
    today: date = field(default_factory=date.today)
    #: the statistical layer (`bot/admodel.py`), read on first use; None: rules only
    ad_model: LazyAdModel | None = None
    country_names: _Matcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # one pass finds every country named; the group name says which
        self.country_names = _Matcher(
            [f"(?P<{c.code}>{c.names.pattern})" for c in self.countries if c.names]
        )

    @classmethod
    def load(
        cls,
        dialogs_dir: Path | None = None,
        today: date | None = None,
        *,
        compile: bool = True,
        model: bool = True,
    ) -> Scanner:
        """Read and check scanner.yaml and the wage tables; `today` picks the wages in force.

        With `compile=False` the patterns are compiled on first use or by `compile_all`
        (`serve` answers a third of a second sooner and compiles them in the background),
        and the ad model is read when an ad first needs it (reading it beside the
        compiling delayed `serve`'s readiness by half a second). With `model=False` only
        the rules are read (the ad model's training does so); the model is
        `scanner_model.npz` in the same folder, if there is one.
        """
        directory = Path(dialogs_dir) if dialogs_dir else DIALOGS_DIR
        data = _read_yaml(directory / "scanner.yaml", "scanner")
        wages = _read_yaml(directory / "wages.yaml", "wages")
        sets = data.get("sets") or {}
        if not isinstance(sets, dict):
            raise ScannerError("scanner.yaml: `sets` must be a mapping")
        raw_flags = data.get("flags")
        if not isinstance(raw_flags, list) or not raw_flags:
            raise ScannerError("scanner.yaml: `flags` must be a non-empty list")
        flags = [_flag(raw, sets, i) for i, raw in enumerate(raw_flags)]
        ids = [f.id for f in flags]
        for flag in flags:
            if ids.count(flag.id) > 1:
                raise ScannerError(f"scanner.yaml: flag id {flag.id!r} is used twice")
            for needed in flag.requires_flags:
                other = next((f for f in flags if f.id == needed), None)
                if other is None:
                    raise ScannerError(f"scanner.yaml: flag {flag.id}: unknown flag {needed!r}")
                if other.requires_flags:
                    raise ScannerError(
                        f"scanner.yaml: flag {flag.id}: {needed!r} may not itself require flags"
                    )
        # flags that depend on other flags are decided last
        flags.sort(key=lambda f: bool(f.requires_flags))
        hours = wages.get("hours_per_month")
        pay = _pay_rules(data.get("pay"), sets, wages)
        if hours is not None and hours != pay.hours["month"]:
            raise ScannerError("wages.yaml: hours_per_month differs from scanner.yaml pay.hours")
        countries = _countries(wages, sets)
        typical = _typical(
            _read_yaml(directory / "typical_wages.yaml", "typical_wages"),
            pay.hours,
            {c.code for c in countries},
        )
        lazy = LazyAdModel(directory / "scanner_model.npz") if model else None
        scanner = cls(tuple(flags), pay, countries, typical, today or date.today(), lazy)
        if compile:
            scanner.compile_all()
            if lazy is not None:
                lazy.model  # noqa: B018 - read now, so a broken model file is reported now
        return scanner

    def compile_all(self) -> None:
        """Compile every pattern now; a broken one raises ScannerError naming it."""
        for matcher in _matchers(self, set()):
            matcher.whole  # noqa: B018 - compiling is the point
            matcher._buckets  # noqa: B018

    @property
    def flag_ids(self) -> list[str]:
        """Return every flag id the scanner can raise."""
        return [f.id for f in self.flags]

    def scan(self, text: str) -> ScanResult:
        """Return the red flags in `text`, heaviest first, each with its evidence."""
        original = unicodedata.normalize("NFC", text or "")[:MAX_CHARS]
        folded = fold(original)
        starts = _starts(folded)
        spans: dict[str, tuple[int, int]] = {}
        pay_found = self._pay_flags(folded, starts)
        for flag in self.flags:
            span = self._decide(flag, folded, starts, spans, pay_found)
            if span is not None:
                spans[flag.id] = span
        spans, quoted, weak = self._read_model(original, spans)
        lang = detect_language(original) if original.strip() else "en"
        return ScanResult(
            self._findings(original, spans, quoted), lang, self._findings(original, weak, "")
        )

    def _findings(
        self, original: str, spans: dict[str, tuple[int, int]], quoted: str
    ) -> tuple[Finding, ...]:
        """Return the flags of `spans` with their evidence, heaviest and earliest first."""
        by_id = {f.id: f for f in self.flags}
        order = {f.id: i for i, f in enumerate(self.flags)}
        findings = [
            Finding(
                fid,
                quoted if by_id[fid].check == "model" else _evidence(original, *span),
                by_id[fid].why,
                by_id[fid].weight,
            )
            for fid, span in spans.items()
        ]
        findings.sort(
            key=lambda f: (-f.weight, spans[f.id][0] if spans[f.id] else 10**9, order[f.id])
        )
        return tuple(findings)

    def _read_model(
        self, original: str, spans: dict[str, tuple[int, int]]
    ) -> tuple[dict[str, tuple[int, int]], str, dict[str, tuple[int, int]]]:
        """Return the flags raised, the model's quote, and the weak signs left as checks.

        A flag heavier than QUIET_WEIGHT raises a warning whatever the model says, and so do
        WEAK_TOGETHER weak signs. One weak sign alone (no employer named, a messenger, haste)
        raises none: sound ads show one about as often as risky ones, so it is returned as a
        thing to check. Where the rules found one weak sign or none, the ad model may still
        raise the ad: at or above its `raise` threshold (chosen out of fold on the dev ads,
        `bot/train.py: choose_ads`) it "reads like the risky ads we know" (the flag with
        `check: model`), quoting the heaviest words no rule matched, and the weak sign
        counts with it. The other way, one heavy flag that honest ads often word alarmingly
        (`model_may_quiet`) is left as a thing to check where the model is surer than its
        `quiet` threshold (chosen out of fold so that no risky dev ad is lost) that the ad
        is sound.
        """
        flag = self._model_flag
        model = self.ad_model.model if flag and self.ad_model and original.strip() else None
        if rules_warn(spans, self._weights):
            # one money flag on an ad the model is sure is sound: a thing to check
            if (
                model is not None
                and model.quiet_at > 0
                and model_may_quiet(spans, self._weights, self.quietable)
                and model.score(original).prob < model.quiet_at
            ):
                return {}, "", spans
            return spans, "", {}
        if model is not None:
            scored = model.score(original, [s for s in spans.values() if s[0] != s[1]])
            if scored.prob >= model.raise_at and scored.phrases:
                quoted = " … ".join(_evidence(original, *span) for span in scored.phrases)
                return {**spans, flag.id: scored.phrases[0]}, quoted, {}
        return {}, "", spans

    @cached_property
    def quietable(self) -> frozenset[str]:
        """Return the ids of the flags the ad model may leave as things to check."""
        return frozenset(f.id for f in self.flags if f.model_may_quiet)

    @cached_property
    def _model_flag(self) -> _Flag | None:
        return next((f for f in self.flags if f.check == "model"), None)

    @cached_property
    def _weights(self) -> dict[str, int]:
        return {f.id: f.weight for f in self.flags}

    # -- pattern flags ------------------------------------------------------------------

    def _decide(
        self,
        flag: _Flag,
        folded: str,
        starts: list[int],
        found: dict[str, tuple[int, int]],
        pay_found: dict[str, tuple[int, int]],
    ) -> tuple[int, int] | None:
        if flag.check:
            return pay_found.get(flag.check)
        if flag.requires_flags or flag.requires:
            ok = any(f in found or f in pay_found for f in flag.requires_flags)
            if not ok and flag.requires is not None:
                ok = _first(flag.requires, folded, starts) is not None
            if not ok:
                return None
        if flag.missing is not None:
            return None if _first(flag.missing, folded, starts) else (0, 0)
        if flag.except_anywhere is not None and _first(flag.except_anywhere, folded, starts):
            return None
        assert flag.patterns is not None
        cancels: list[tuple[int, int]] | None = None
        # `except_named` counts only when the ad names its employer (`no_company`, listed
        # before such a flag, was not raised)
        named = flag.except_named if "no_company" not in found else None
        for match in _all(flag.patterns, folded, starts):
            if flag.exceptions is not None or named is not None:
                if cancels is None:
                    cancels = [
                        m.span()
                        for rx in (flag.exceptions, named)
                        if rx is not None
                        for m in _all(rx, folded, starts)
                    ]
                if any(s < match.end() and match.start() < e for s, e in cancels):
                    continue
            if flag.unless_agreed is not None and self._agreed(flag.unless_agreed, folded, match):
                continue
            return match.span()
        return None

    def _agreed(self, agreed: _Matcher, folded: str, match: re.Match[str]) -> bool:
        """Tell whether the sentence of `match` states an amount and a written agreement."""
        start = max(0, match.start() - 200)
        before = list(_SENTENCE_BREAK.finditer(folded, start, match.start()))
        start = before[-1].end() if before else start
        after = _SENTENCE_BREAK.search(folded, match.end(), match.end() + 200)
        sentence = folded[start : after.start() if after else match.end() + 200]
        if agreed.search(sentence) is None:
            return False
        for m in self.pay.amount.finditer(sentence):
            if any(m.group(g) for g in ("c1", "c2", "c3", "c4")):
                return True
        return False

    # -- the pay check ------------------------------------------------------------------

    def _pay_flags(self, folded: str, starts: list[int]) -> dict[str, tuple[int, int]]:
        """Return the spans of the first amount far above, and the first below, the minimum."""
        amounts = list(self._amounts(folded, starts))
        if not amounts:
            return {}
        pay = self.pay
        codes = {m.lastgroup for m in _all(self.country_names, folded, starts)}
        mentioned = [c for c in self.countries if c.check and c.code in codes]
        # experience asked for in so many words outweighs "no Dutch needed" (a data analyst
        # with "2+ years of experience" is skilled work whatever the language)
        asked = pay.experience is not None and _first(pay.experience, folded, starts) is not None
        unskilled = (
            not asked
            and pay.no_experience is not None
            and _first(pay.no_experience, folded, starts) is not None
        )
        skilled = not unskilled and (asked or _first(pay.skilled, folded, starts) is not None)
        # the minimum per month or week is for full time: a part-time post's monthly pay
        # is not compared with it (pay per hour still is)
        part_time = pay.part_time is not None and _first(pay.part_time, folded, starts)
        # an ad that states its pay per year may give a second figure without the period
        # ("£31,049 – £37,796 per annum … as a Band 4 (£27,485 – £30,162)")
        annual = any(a.period == "year" for a in amounts)
        result: dict[str, tuple[int, int]] = {}
        for amount in amounts:
            span = (amount.start, amount.end)
            verdict = self._judge(amount, mentioned, skilled, annual)
            below = verdict in ("pay_below", "pay_old_minimum")
            if below and part_time and amount.period != "hour":
                verdict = None
            if verdict and verdict not in result:
                result[verdict] = span
        return result

    def _judge(
        self, amount: _Amount, mentioned: list[_Country], skilled: bool, annual: bool = False
    ) -> str | None:
        pay = self.pay
        # the countries named that pay in this currency ("bus from Vilnius" does not make
        # an hourly rate in zł Lithuanian); else the currency's own country (£: the UK)
        candidates = [c for c in mentioned if c.currency == amount.currency]
        if not candidates and amount.currency in pay.currency_country:
            code = pay.currency_country[amount.currency]
            candidates = [c for c in self.countries if c.code == code and c.check]
        candidates = candidates or mentioned
        comparable = bool(candidates) and all(
            c.statutory and c.currency == amount.currency for c in candidates
        )
        period = amount.period
        inferred = False
        if period is None and comparable:
            period, inferred = self._infer_period(amount, candidates[0], annual), True
            # a professional salary written without its period ("Salary £135,000–£160,000 +
            # share options") is a year's pay where a month of it would be far above even
            # skilled work there and a year of it is not
            if (
                skilled
                and period == "month"
                and self._too_good(amount, "month", candidates, skilled)
                and not self._too_good(amount, "year", candidates, skilled)
            ):
                period = "year"
        if period is None:
            return None
        if amount.currency == "EUR" and not skilled:
            weekly = amount.high * pay.hours["week"] / pay.hours[period]
            if weekly > pay.weekly_cap_eur:
                return "pay_above"
        if self._too_good(amount, period, candidates, skilled):
            return "pay_above"
        if not comparable:
            return None
        below = True
        # pay of about the minimum before its last rise: most often an ad not updated since
        # (a weak sign to ask about, not a red flag; `pay_old_minimum`)
        stale = True
        for country in candidates:
            exact = country.minimum(period, self.today)
            if exact is not None:
                minimum, low = exact, amount.low
                # a guessed period is not evidence enough to call the pay illegal
                margin = pay.converted_below_ratio if inferred else 1.0
                previous = country.previous_minimum(period, self.today)
                low_end, high_end = pay.old_minimum
                stale = (
                    stale
                    and previous is not None
                    and low_end * previous <= low <= high_end * previous
                )
            else:
                stale = False
                hourly = country.minimum("hour", self.today)
                if hourly is None:
                    monthly = country.minimum("month", self.today)
                    if monthly is None:
                        return None
                    hourly = monthly / pay.hours["month"]
                minimum = hourly
                low = amount.low / pay.hours[period]
                margin = pay.converted_below_ratio
            # far below any wage it is the price of something else (insurance, a meal)
            wage = low >= pay.price_ratio * minimum
            below = below and not amount.net and wage and low < margin * minimum
        if not below:
            return None
        return "pay_old_minimum" if stale and not inferred else "pay_below"

    def _too_good(
        self, amount: _Amount, period: str, candidates: list[_Country], skilled: bool
    ) -> bool:
        """Tell whether the pay is far above what such work typically pays in the country.

        A job that needs a skill is judged against every job's typical pay (times
        `typical.skilled`); one that needs none against low-skill work where that is sourced
        (times `typical.unskilled_sector`), else against every job (`typical.unskilled`).
        Every country the text names must agree; one without a figure leaves it unjudged.
        A skilled job's range is judged by its lower end ("24 000–29 000 zł" for a senior
        developer), an unskilled one's by its upper end (the bait is the top of the range).
        """
        pay = self.pay
        if not candidates:
            return False
        # a skilled job's range is judged by where it starts: professionals' ranges are wide
        offered = amount.low if skilled else amount.high
        monthly = offered * pay.hours["month"] / pay.hours[period]
        for country in candidates:
            typical = self.typical.get(country.code)
            if typical is None or typical.currency != amount.currency:
                return False
            if skilled or typical.unskilled is None:
                if typical.all is None:
                    return False
                ratio = pay.typical_skilled if skilled else pay.typical_unskilled
                limit = ratio * typical.all
            else:
                limit = pay.typical_unskilled_sector * typical.unskilled
            if monthly <= limit:
                return False
        return True

    def _infer_period(self, amount: _Amount, country: _Country, annual: bool = False) -> str | None:
        """Guess hour or month for an amount with no period: whichever is nearer the minimum
        (or a year, nearest the minimum for a year, when the ad states other pay per year)."""
        hourly = country.minimum("hour", self.today)
        monthly = country.minimum("month", self.today)
        if hourly is None and monthly is None:
            return None
        hourly = hourly or monthly / self.pay.hours["month"]  # type: ignore[operator]
        monthly = monthly or hourly * self.pay.hours["month"]
        value = amount.high
        as_hour = abs(math.log(value / hourly))
        as_month = abs(math.log(value / monthly))
        if annual:
            yearly = monthly * self.pay.hours["year"] / self.pay.hours["month"]
            if abs(math.log(value / yearly)) < min(as_hour, as_month):
                return "year"
        return "hour" if as_hour < as_month else "month"

    def _amounts(self, folded: str, starts: list[int]) -> Iterator[_Amount]:
        """Yield the wage amounts in the text, each with currency, period and net/gross."""
        pay = self.pay
        previous_end = 0
        for pos in starts:
            if pos < previous_end:
                continue
            m = pay.amount.match(folded, pos)
            if m is None:
                continue
            currency_text = m.group("c1") or m.group("c2") or m.group("c3") or m.group("c4")
            if not currency_text:
                continue
            currency = next(
                (code for code, rx in pay.currencies.items() if rx.fullmatch(currency_text)),
                None,
            )
            a = _number(m.group("a"), bool(m.group("ka")))
            b = _number(m.group("b"), bool(m.group("kb"))) if m.group("b") else None
            if currency is None or a is None or a <= 0:
                continue
            if any(m.group(g) and _MILLIONS.match(folded, m.end(g)) for g in ("a", "b")):
                continue
            low, high = (a, b) if b is not None and b >= a else (a, a)
            start, end = m.span()
            while start < end and folded[start].isspace():
                start += 1
            while end > start and folded[end - 1].isspace():
                end -= 1
            sentence = _sentence_before(folded, max(previous_end, start - 80), start)
            before = _clause_before(sentence)
            after = _window_after(folded, end)
            period, period_end = self._period(after, before)
            rest = after[period_end:].split("\n", 1)[0]
            net = bool(pay.net.search(before[-25:]) or pay.net.search(after))
            end += period_end
            previous_end = end
            cost = _is_cost(before, pay)
            if cost is None:  # nothing in the clause says what the amount is for
                cost = _is_cost(sentence, pay)
            if cost or pay.not_pay_after.search(rest):
                continue
            yield _Amount(start, end, low, high, currency, period, net)

    def _period(self, after: str, before: str) -> tuple[str | None, int]:
        """Return the period written after the amount (and where it ends), else just before."""
        best: tuple[int, str, int] | None = None
        for period, rx in self.pay.periods.items():
            m = rx.search(after)
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), period, m.end())
        if best is not None:
            return best[1], best[2]
        last: tuple[int, str] | None = None
        for period, rx in self.pay.periods.items():
            for m in rx.finditer(before):
                if last is None or m.start() > last[0]:
                    last = (m.start(), period)
        return (last[1] if last else None), 0


def _number(raw: str | None, thousands: bool) -> float | None:
    if not raw:
        return None
    decimals = re.search(r"[.,](\d{1,2})$", raw)
    whole = raw[: decimals.start()] if decimals else raw
    digits = re.sub(r"\D", "", whole)
    if not digits:
        return None
    value = float(digits) + (float(f"0.{decimals.group(1)}") if decimals else 0.0)
    return value * 1000 if thousands else value


# "Annual salary from approx. €32,800": the period of "approx." ends no sentence (b34)
_NOT_AN_END = ("approx", "appr", "ca", "прибл", "ок", "apytiksl", "apyt")
_SENTENCE_END = re.compile(
    r"[!?]|" + "".join(rf"(?<!\b{a})" for a in _NOT_AN_END) + r"\.\s|\n\s*\n", re.IGNORECASE
)
# a wider sentence: a line break inside a pasted sentence does not end it, nor does the
# period of a unit written as a word of its own ("350 €/мес. за комнату, вычитается по
# договору" is one sentence; "women. " and "врач. " still end one)
_UNIT_ABBREVIATIONS = (
    "мес",
    "міс",
    "нед",
    "тиж",
    "год",
    "ч",
    "mėn",
    "men",
    "sav",
    "val",
    "wk",
    "mo",
    "hr",
    "hrs",
    "mth",
)
_SENTENCE_BREAK = re.compile(
    "".join(rf"(?<!\b{re.escape(a)})" for a in _UNIT_ABBREVIATIONS) + r"\.\s|[!?]|\n\s*\n"
)
_CLAUSE_END = re.compile(r"[,;]")


def _sentence_before(text: str, start: int, end: int) -> str:
    window = text[start:end]
    cuts = list(_SENTENCE_END.finditer(window))
    return window[cuts[-1].end() :] if cuts else window


def _clause_before(sentence: str) -> str:
    cuts = list(_CLAUSE_END.finditer(sentence))
    return sentence[cuts[-1].end() :] if cuts else sentence


def _window_after(text: str, end: int) -> str:
    window = text[end : end + 30]
    cut = re.search(r"[\d,;]|\n\s*\n", window)
    return window[: cut.start()] if cut else window


def _is_cost(before: str, pay: _PayRules) -> bool | None:
    """Tell whether the words before an amount make it a cost (True) or a wage (False)."""
    costs = [m.end() for m in pay.not_pay.finditer(before)]
    wages = [m.end() for m in pay.pay_words.finditer(before)]
    if not costs and not wages:
        return None
    return bool(costs) and (not wages or costs[-1] > wages[-1])


def _evidence(original: str, start: int, end: int) -> str:
    """Quote the matched phrase as typed, widened to whole words, on one line."""
    if start == end:
        return ""
    while start > 0 and original[start - 1].isalnum():
        start -= 1
    while end < len(original) and original[end].isalnum():
        end += 1
    phrase = " ".join(original[start:end].split()).strip(" ,;:–—-(")
    if len(phrase) > MAX_EVIDENCE:
        phrase = phrase[: MAX_EVIDENCE - 1].rstrip() + "…"
    return phrase


@lru_cache(maxsize=1)
def default_scanner() -> Scanner:
    """Return the scanner for the repository's dialogs (loaded once)."""
    return Scanner.load()


# --- command line ------------------------------------------------------------------------


def scan_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `scan` options: the ad comes on stdin."""
    parser.add_argument(
        "--dialogs", type=Path, default=None, help="content folder (default: dialogs/)"
    )


def scan_command(args: argparse.Namespace) -> int:
    """Read one job ad on stdin and print its red flags as one JSON object."""
    dialogs = getattr(args, "dialogs", None)
    scanner = Scanner.load(dialogs) if dialogs else default_scanner()
    result = scanner.scan(sys.stdin.read())
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0
