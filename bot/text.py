"""Text normalisation shared by the detector and the flows: one idea of what a word is.

Users type on phones, in four languages, often without Lithuanian diacritics, sometimes in
Latin transliteration of Russian or Ukrainian. Everything that compares user text with
vocabulary goes through these functions so that both sides are normalised the same way.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

from bot import language_words

__all__ = [
    "LANGUAGE_MASK",
    "clear_language",
    "detect_language",
    "drop_invisible",
    "language_bits",
    "language_of_bits",
    "language_of_tokens",
    "normalize",
    "normalize_token",
    "soft_signs",
    "split_tokens",
    "stem",
    "strip_diacritics_lt",
    "token_spans",
    "tokens",
    "translit_to_cyrillic",
]


def _words(text: str) -> list[str]:
    return text.split()


# --- normalisation ---------------------------------------------------------------------

# Apostrophe look-alikes people type (Ukrainian uses the apostrophe inside words: б'ють).
_APOSTROPHES = "’‘ʼ`´ʹ′"
_APOSTROPHE_TABLE = str.maketrans(dict.fromkeys(_APOSTROPHES, "'") | {"ё": "е"})

_SPACE_RE = re.compile(r"\s+")


def _drop_control(text: str) -> str:
    """Turn control characters into spaces and drop invisible format characters."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cc":
            out.append(" ")
        elif cat == "Cf" and ch != "\u200d":  # keep ZWJ: it glues emoji sequences
            continue
        else:
            out.append(ch)
    return "".join(out)


_INVISIBLE = re.compile(
    r"[\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)


def drop_invisible(text: str) -> str:
    """Remove invisible characters that split or disguise words (soft hyphen, zero-width
    space, direction marks, BOM); keep line breaks and the emoji joiner (ZWJ)."""
    return _INVISIBLE.sub("", text) if not text.isascii() else text


def normalize(text: str) -> str:
    """Return a comparable form: NFC, casefolded, one apostrophe, е for ё, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _drop_control(text).casefold()
    # casefold can decompose (e.g. İ -> i̇); recompose so é-style letters stay one char
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHE_TABLE)
    return _SPACE_RE.sub(" ", text).strip()


_LT_TABLE = str.maketrans("ąčęėįšųūžĄČĘĖĮŠŲŪŽ", "aceeisuuzACEEISUUZ")


def strip_diacritics_lt(text: str) -> str:
    """Drop Lithuanian diacritics (ą→a, č→c, ė/ę→e, į→i, š→s, ų/ū→u, ž→z), as phones often do."""
    return text.translate(_LT_TABLE)


# --- tokens ----------------------------------------------------------------------------

# A word is letters/digits with inner apostrophes or hyphens (б'ють, didn't, e-mail);
# a few emoji and symbols count as words of their own because people use them as words.
# Possessive (`++`, `*+`): letters and the marks between them never overlap, so there is
# nothing to backtrack into, and the engine is told so (split ~10 % faster).
_EMOJI_CLASS = r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2B55\u203C\u2049]"
_TOKEN_RE = re.compile(r"[^\W_]++(?:['’ʼ`´\-][^\W_]++)*+|" + _EMOJI_CLASS)
#: One of the emoji or symbols that are tokens of their own.
EMOJI = re.compile(_EMOJI_CLASS)


@lru_cache(maxsize=65536)
def normalize_token(token: str) -> str:
    """Normalise one token already cut out of the text (cheaper than `normalize`)."""
    token = token.casefold()
    if not token.isascii():
        token = unicodedata.normalize("NFC", token).translate(_APOSTROPHE_TABLE)
    return token


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Return (normalised token, start, end) for each word, offsets into `text` itself.

    `text` should be NFC (user input almost always is); offsets then point at the
    original characters so that evidence can be quoted exactly as the user typed it.
    """
    return [(normalize_token(m.group()), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


# The same words, cut with `re.split`: no match objects, and the gaps come for free.
_TOKEN_SPLIT_RE = re.compile(f"({_TOKEN_RE.pattern})")


def split_tokens(text: str) -> list[str]:
    """Return `text` cut at its words: gap, word, gap, ..., word, gap (2n + 1 pieces).

    The words (`[1::2]`) are `token_spans`'s as typed (not normalised); the gaps (`[0::2]`)
    are what stands before each word and, last, after the final one. Joined, the pieces
    are `text` again, so offsets are sums of lengths.
    """
    return _TOKEN_SPLIT_RE.split(text)


def tokens(text: str) -> list[str]:
    """Split text into normalised word tokens."""
    return [normalize_token(m.group()) for m in _TOKEN_RE.finditer(_nfc(text))]


def _nfc(text: str) -> str:
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


# --- transliteration -------------------------------------------------------------------

# Longest sequences first. Russian and Ukrainian chat transliteration differ mainly in
# y (ы vs и), i (и vs і) and h (х vs г), so each language gets its own table.
_TRANSLIT_COMMON = {
    "shch": "щ",
    "sch": "щ",
    "zh": "ж",
    "kh": "х",
    "ts": "ц",
    "tz": "ц",
    "ch": "ч",
    "sh": "ш",
    "yu": "ю",
    "ju": "ю",
    "iu": "ю",
    "ya": "я",
    "ja": "я",
    "ia": "я",
    "a": "а",
    "b": "б",
    "v": "в",
    "w": "в",
    "g": "г",
    "d": "д",
    "e": "е",
    "z": "з",
    "j": "й",
    "k": "к",
    "q": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "f": "ф",
    "c": "ц",
    "x": "кс",
}
_TRANSLIT = {
    "ru": _TRANSLIT_COMMON
    | {"yo": "е", "jo": "е", "ye": "е", "je": "е", "h": "х", "i": "и", "y": "ы", "'": "ь"},
    "uk": _TRANSLIT_COMMON
    | {"ye": "є", "je": "є", "ie": "є", "yi": "ї", "ji": "ї", "h": "г", "i": "і", "y": "и"},
}
_TRANSLIT_RE = {
    lang: re.compile("|".join(sorted(map(re.escape, table), key=len, reverse=True)))
    for lang, table in _TRANSLIT.items()
}
_VOWELS_LAT = set("aeiouy")


@lru_cache(maxsize=65536)
def translit_to_cyrillic(text: str, lang: str = "ru") -> str:
    """Read Latin chat transliteration as Cyrillic ("zabrali pasport" -> "забрали паспорт").

    `lang` is "ru" (default) or "uk"; the result is lower case. Non-Latin text passes
    through unchanged.
    """
    table = _TRANSLIT["uk" if lang == "uk" else "ru"]
    text = text.lower()
    out: list[str] = []
    pos = 0
    for m in _TRANSLIT_RE["uk" if lang == "uk" else "ru"].finditer(text):
        out.append(text[pos : m.start()])
        seq = m.group()
        if seq == "y" and lang != "uk":
            prev = text[m.start() - 1] if m.start() else " "
            # "moy" -> мой, "vypusk" -> выпуск: after a vowel y is й, else ы
            out.append("й" if prev in _VOWELS_LAT else "ы")
        else:
            out.append(table[seq])
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


_HARD_CONSONANT_VOWEL_RE = re.compile("([бвдзлмнпрстф])([юя])")
_FINAL_T_RE = re.compile("([аеиоуыюяії])т$")


def soft_signs(word: str, lang: str) -> tuple[str, ...]:
    """Return readings of a transliterated word with the soft signs chat transliteration
    leaves out, or nothing when there is none to add.

    "umeret" reads as "умерет", "ubyut" as "убют": the words meant are "умереть" and
    "убьют". A final "т" after a vowel may take "ь" (infinitives, Ukrainian "-ють"); in
    Russian a consonant before "ю" or "я" may too (not before "е": Lithuanian "bet"
    would read as "бьет"). Each reading is only tried next to the plain one.
    """
    inner = _HARD_CONSONANT_VOWEL_RE.sub(r"\1ь\2", word) if lang == "ru" else word
    readings = {inner, _FINAL_T_RE.sub(r"\1ть", inner)}
    readings.discard(word)
    return tuple(readings)


# --- stemming --------------------------------------------------------------------------

_STEMMERS = {
    "lt": Stemmer.Stemmer("lithuanian"),
    "ru": Stemmer.Stemmer("russian"),
    "en": Stemmer.Stemmer("english"),
}

# Ukrainian has no Snowball stemmer. This is a small light stemmer: drop a reflexive
# ending (-ся/-сь), then the longest inflectional ending from the list, then one final
# vowel or soft sign, always keeping at least three letters. It over-stems a little;
# that is fine for matching because vocabulary and user text go through the same function.
_UK_ENDINGS = tuple(
    sorted(
        {
            # verbs
            # (no bare -ти/-ть: "документи" is a noun; infinitives end in a vowel + ти)
            *_words("ати яти ити іти ути оти ла ло ли ав ив ів ув юв еш єш иш іш емо ємо имо імо"),
            *_words("ете єте ите іте уть ють ать ять ить іть йте іть ймо"),
            # transliteration drops the soft sign: "vidpuskaiut" -> відпускают
            *_words("ют ят"),
            # nouns
            *_words("ами ями ові еві єві ам ям ах ях ом ем єм ою ею єю ів їв ей а я о и і ї у ю"),
            # adjectives and participles
            *_words("ий ій ого ього ому ьому ими іми их іх им ім ої ої ую юю ая яя ее є"),
        },
        key=len,
        reverse=True,
    )
)
_UK_FINAL = set("аеєиіїоуюяйь")


def _stem_uk(word: str) -> str:
    if len(word) <= 3:
        return word
    if word.endswith(("ся", "сь")) and len(word) > 5:
        word = word[:-2]
    for ending in _UK_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            break
    if len(word) > 3 and word[-1] in _UK_FINAL:
        word = word[:-1]
    return word


@lru_cache(maxsize=131072)
def stem(token: str, lang: str) -> str:
    """Reduce one normalised token to its stem for `lang` (lt, ru, uk, en).

    Lithuanian is stemmed after dropping diacritics, so "paėmė" and "paeme" agree.
    """
    if lang == "uk":
        return _stem_uk(token)
    if lang == "lt":
        token = strip_diacritics_lt(token)
    stemmer = _STEMMERS.get(lang)
    return stemmer.stemWord(token) if stemmer else token


# --- language --------------------------------------------------------------------------

_UK_LETTERS = set("іїєґ")
_UK_APOSTROPHE_RE = re.compile(r"[\u0400-\u04ff]'[\u0400-\u04ff]")
_RU_LETTERS = set("ыэъё")
_LT_LETTERS = set("ąčęėįšųūž")
# Short, very frequent words that tell the languages apart (no diacritics on purpose,
# so that Lithuanian typed without them is still recognised), and the frequent words of
# each language's Latin-script messages in the corpus (`bot/language_words.py`).
_LT_WORDS = frozenset(
    _words(
        "mane mano ir yra kad uz nera negaliu darba darbas darbe darbo darbdavys "
        "jie jis mus mums mes cia kur kaip labai noriu reikia dirbu dirbti pasa paso "
        "padekit padekite sveiki laba aciu gerai buvo savo tik pas "
        "nezinau ka daryti man jus jusu jos neduoda nemoka atleido uzrakino paeme sake "
        "dabar kodel prasau pagalbos pinigu pinigus alga algos atlyginimo niekas nieko "
        "viskas tada nes bet dar jau esu gyvenu isvaziavau sesuo brolis dukra sunus draugas"
    )
    + _words(language_words.LT)
)
_EN_WORDS = frozenset(
    _words(
        "i me my the a an and is are was were to of in it they he she we you have has "
        "not don't can't can how what my do does this that with for on at"
    )
    + _words(language_words.EN)
)
_RU_WORDS = frozenset(
    _words(
        "что как меня мне это и он она они мы вы был была были есть нет где когда "
        "только тоже работа работу работе если чтобы с из от уже мой моя мои но еще моего моей где"
    )
)
_UK_WORDS = frozenset(
    _words(
        "що як мене мені це та він вона вони ми ви був була були є немає де коли "
        "тільки також робота роботу роботі якщо щоб з зі із від мій моя мої але вже бо мого моєї "
        # question words and modals that Russian spells differently (ли, может, можно)
        "чи може можуть можна має мають треба"
    )
)
_RU_TRANSLIT_WORDS = frozenset(
    _words(
        "menya mne eto chto kak ya my oni on ona net gde rabota rabotu rabote "
        "zabrali pasport pomogite uzhe tolko"
    )
    + _words(language_words.RU_TRANSLIT)
)
_UK_TRANSLIT_WORDS = frozenset(
    _words(
        "mene meni tse shcho scho yak vony vin vona nemaie nemaye robota robotu roboti "
        "zabraly dopomozhit dopomozhite chy mozhe yakshcho robotodavets"
    )
    + _words(language_words.UK_TRANSLIT)
)


def detect_language(text: str) -> str:
    """Guess lt, ru, uk or en from the script, tell-tale letters and common words."""
    return language_of_tokens(tokens(text))


def clear_language(text: str, current: str) -> str | None:
    """Return the language `text` is clearly written in, or None when it could be several.

    Used to answer in the language people type in: Cyrillic is Russian or Ukrainian (by
    their own letters and words; when both fit, the current language if it is one of them,
    else Russian), Lithuanian letters are Lithuanian, and Latin text needs at least two
    words of one language and more than of any other.
    """
    words = [w for w in tokens(text) if any(ch.isalpha() for ch in w)]
    if not words:
        return None
    totals = [sum(column) for column in zip(*map(_language_features, words), strict=True)]
    cyr, lat, uk_letter, ru_letter, lt_letter, uk_mark, uk, ru, en, lt, ru_tr, uk_tr = totals
    if cyr > lat:
        if (uk_letter or uk_mark or uk > ru) and not ru_letter:
            return "uk"
        if (ru_letter or ru > uk) and not uk_letter:
            return "ru"
        return current if current in ("ru", "uk") else "ru"
    if lt_letter and lt_letter + lt > max(en, ru_tr, uk_tr):
        return "lt"
    scores = sorted(((en, "en"), (lt, "lt"), (ru_tr, "ru"), (uk_tr, "uk")), reverse=True)
    (best, lang), (second, _) = scores[0], scores[1]
    return lang if best >= 2 and best > second else None


def language_of_tokens(words: list[str]) -> str:
    """Guess the language of already normalised tokens (see `detect_language`)."""
    if not words:
        return "en"
    # column sums in C (zip/sum) rather than a Python loop per feature: this runs on
    # every message
    totals = [sum(column) for column in zip(*map(_language_features, words), strict=True)]
    return _language_of_totals(*totals)


#: `language_bits` packs each of a token's language counts into a field this wide: the
#: sum over a text's tokens cannot carry from one field into the next below 2**32 letters.
LANGUAGE_FIELD = 32
LANGUAGE_MASK = (1 << LANGUAGE_FIELD) - 1
#: Fields 0-11 hold the language counts; callers may pack counts of their own above them.
LANGUAGE_COUNTS = 12


def language_bits(word: str) -> int:
    """Return one normalised token's `_language_features` packed into one integer.

    The sum of a text's packed tokens is their column sums at once, which
    `language_of_bits` reads: one `sum` instead of a column sum per feature.
    """
    return sum(v << (LANGUAGE_FIELD * k) for k, v in enumerate(_language_features(word)))


def language_of_bits(total: int) -> str:
    """Return `language_of_tokens`'s answer from the sum of the tokens' `language_bits`
    (for at least one token; higher fields than the language counts are ignored)."""
    m = LANGUAGE_MASK
    # written out: a loop over the twelve fields costs twice as much, on every message
    return _language_of_totals(
        total & m,
        (total >> 32) & m,
        (total >> 64) & m,
        (total >> 96) & m,
        (total >> 128) & m,
        (total >> 160) & m,
        (total >> 192) & m,
        (total >> 224) & m,
        (total >> 256) & m,
        (total >> 288) & m,
        (total >> 320) & m,
        (total >> 352) & m,
    )


def _language_of_totals(
    cyr: int,
    lat: int,
    uk_letter: int,
    ru_letter: int,
    lt_letter: int,
    uk_mark: int,
    uk: int,
    ru: int,
    en: int,
    lt: int,
    ru_tr: int,
    uk_tr: int,
) -> str:
    if cyr > lat:
        if uk_letter or uk_mark:
            return "uk"
        if ru_letter:
            return "ru"
        return "uk" if uk > ru else "ru"
    if lt_letter:  # Lithuanian letters, unless more words of another language ("muž menja pobil")
        lt += lt_letter
        if lt >= max(en, ru_tr, uk_tr):
            return "lt"
    # the most words of one language; ties go to the one listed first, English first: it
    # is the safest default for the replies
    lang, best = "en", en
    for other, count in (("lt", lt), ("ru", ru_tr), ("uk", uk_tr)):
        if count > best:
            lang, best = other, count
    return lang


@lru_cache(maxsize=65536)
def _language_features(w: str) -> tuple[int, ...]:
    """Count what one token says about its language (cached: words repeat)."""
    cyr = sum(1 for ch in w if "\u0400" <= ch <= "\u04ff")
    lat = sum(1 for ch in w if ch.isascii() and ch.isalpha())
    letters = set(w)
    stripped = strip_diacritics_lt(w)
    return (
        cyr,
        lat,
        int(bool(letters & _UK_LETTERS)),
        int(bool(letters & _RU_LETTERS)),
        int(bool(letters & _LT_LETTERS)),
        # Ukrainian writes an apostrophe inside words (б'ють); Russian uses ъ
        int(bool(_UK_APOSTROPHE_RE.search(w))),
        # the Ukrainian third person plural ends in -ють (Russian: -ют)
        int(w in _UK_WORDS or w.endswith("ють")),
        int(w in _RU_WORDS),
        int(stripped in _EN_WORDS),
        int(stripped in _LT_WORDS),
        int(stripped in _RU_TRANSLIT_WORDS),
        int(stripped in _UK_TRANSLIT_WORDS),
    )
