"""The statistical layer of the danger detector: a linear model over spelling-proof features.

The rules in `dialogs/signals/` explain what they found, but they only know the words someone
wrote into them. People type with typos, without Lithuanian diacritics, in Latin letters for
Russian and Ukrainian, in Surzhyk, in run-ons. This layer reads every word through `fold`, a
skeleton that is the same for "паспорт", "pasport", "passport" and "pasą" (one alphabet, no
diacritics, no doubled letters, one spelling of each sound that transliteration writes in
several ways), and scores character n-grams of the skeletons, whole words and word pairs
with one logistic regression per output, trained from the labelled corpus in
`dialogs/signals/corpus/` by `python -m bot train` (see `bot/train.py`).

The model is linear, so a word's share of every score is the sum of its own features'
weights: it is computed once per distinct word and cached, and scoring a message is a few
vector additions. Only numpy is needed here; scikit-learn is needed only to train.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, pairwise
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from bot import DIALOGS_DIR
from bot.text import language_of_tokens, token_spans

MODEL_PATH = DIALOGS_DIR / "signals" / "model.npz"
#: What the model scores, in this order. `urgent` is a risk to life or liberty right now
#: (the detector reports `immediate_danger` exactly when it is urgent).
OUTPUTS = (
    "danger",
    "documents_taken",
    "confinement",
    "violence",
    "threats",
    "debt_bondage",
    "wages_withheld",
    "sexual_exploitation",
    "forced_crime",
    "deception",
    "abusive_conditions",
    "isolation",
    "urgent",
)
#: What the rules found, as features: the model learns how far to trust each of them.
RULE_FEATURES = (*(f"r:{name}" for name in OUTPUTS), "r:explained")
#: The value of a rule feature that is on (text features are scaled to a similar size).
RULE_VALUE = 0.5


_RULE_INDEX = {name[2:]: k for k, name in enumerate(RULE_FEATURES)}


def rule_active(found: Any, explained: bool) -> list[int]:
    """Return which rule features are on for what the rules found (`Detector.read_rules`)."""
    active = {_RULE_INDEX.get(s.category, -1) for s in found.signals}
    active.discard(-1)
    if found.danger:
        active.add(0)
    if found.urgent:
        active.add(len(OUTPUTS) - 1)
    if explained:
        active.add(len(RULE_FEATURES) - 1)
    return sorted(active)


def rule_features(found: Any, explained: bool) -> np.ndarray:
    """Return the rule features as a row of values (for training)."""
    row = np.zeros(len(RULE_FEATURES))
    row[rule_active(found, explained)] = RULE_VALUE
    return row


#: Character n-gram lengths read from each word's skeleton (with < and > at its edges).
NGRAMS = (3, 4, 5)
#: Texts are divided by the square root of their number of features, but of at least this
#: many (about four words): two or three words must not weigh like a whole story.
NORM_FLOOR = 60
#: Distinct words whose score vectors are kept; words repeat, so most lookups hit.
WORD_CACHE = 50_000
_BIAS_ROW = 1
_RULE_ROW = 2
_FIRST_FREE = _RULE_ROW + len(RULE_FEATURES)
#: `Classifier.most_dangerous` scores in full the pieces whose danger sum in plain Python
#: is this close to the best: the float32 sums of `logits` differ from the plain ones by
#: rounding (about 1e-7 of the sum of the magnitudes), many orders of magnitude less.
_NEAR_BEST = 0.5
_second, _third = itemgetter(1), itemgetter(2)

# --- the skeleton of a word ------------------------------------------------------------

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e",
    "є": "ie", "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k",
    "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "",
    "ы": "i", "ь": "", "э": "e", "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
}  # fmt: skip
_LATIN_EXTRA = {"ł": "l", "ø": "o", "æ": "ae", "ß": "ss", "œ": "oe", "đ": "d", "ı": "i"}
_CHAR_TABLE = str.maketrans(_CYRILLIC | _LATIN_EXTRA)
# Spellings of one sound in chat transliteration, longest first: щ is shch/sch, х is kh/h,
# ц is ts/tz/c, я is ya/ja/ia; g and h are one letter because Ukrainian writes г as h.
_DIGRAPHS = (
    ("shch", "s"), ("sch", "s"), ("sh", "s"), ("ch", "c"), ("zh", "z"), ("kh", "h"),
    ("ts", "c"), ("tz", "c"), ("w", "v"), ("j", "i"), ("y", "i"), ("q", "k"), ("h", "g"),
)  # fmt: skip
_DOUBLE = re.compile(r"(.)\1+")
_CHAT_DIGIT = re.compile(r"(?<=[a-z])4|4(?=[a-z])")  # "4to" is что


@lru_cache(maxsize=131072)
def fold(token: str) -> str:
    """Return a word's skeleton: Latin letters, no diacritics, one spelling per sound.

    "забрали", "zabraly", "забрали" -> "zabrali"; "паспорт", "pasport", "passport" ->
    "pasport"; "paėmė" -> "paeme"; numbers become "#". Lossy on purpose: it only needs to
    give the same result for the ways people write the same word.
    """
    if token.isdigit():
        return "#"
    word = token.lower().translate(_CHAR_TABLE)
    if not word.isascii():
        word = "".join(
            c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn"
        )
    word = _CHAT_DIGIT.sub("ch", word)
    for seq, one in _DIGRAPHS:
        if seq in word:
            word = word.replace(seq, one)
    return _DOUBLE.sub(r"\1", word)


#: Words that negate what follows ("did NOT take my passport"), folded.
NEGATORS = frozenset(
    fold(w)
    for w in [
        "not",
        "no",
        "never",
        "dont",
        "didnt",
        "doesnt",
        "wont",
        "cant",
        "cannot",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "havent",
        "hasnt",
        "nobody",
        "nothing",
        "не",
        "нет",
        "ни",
        "никто",
        "ничего",
        "никогда",
        "ні",
        "ніхто",
        "нічого",
        "ніколи",
        "ne",
        "nera",
        "niekas",
        "nieko",
        "niekada",
        "nie",
    ]
)
#: How the model reads a negation word: as a marker with no features of its own.
NEGATION = "¬"
#: How many words after a negation are read as negated (within the clause).
NEG_SCOPE = 3
_CLAUSE_END = re.compile(r"[.,;:!?\n()«»\"—–]")


def analyse(
    text: str, spans: list[tuple[str, int, int]] | None = None, lang: str | None = None
) -> tuple[list[str], list[str]]:
    """Return a text's words as typed (normalised) and as the model reads them.

    The model's words are skeletons (`fold`); a negation word becomes a bare marker and a
    word up to three words after it in the same clause is marked with "~", so "did not take
    my passport" does not read like "took my passport". A question mark adds the
    pseudo-word "?". In Lithuanian, where "not" is part of the verb, a long word that starts
    with "ne" is read as the negated rest ("nepaėmė" -> "~paeme"). `spans` and `lang` are the
    text's `token_spans` and language when the caller has them already.
    """
    if spans is None:
        text = unicodedata.normalize("NFC", text)
        spans = token_spans(text)
    if lang is None:
        lang = language_of_tokens([t for t, _, _ in spans])
    typed: list[str] = []
    gaps: list[str] = []
    prev = 0
    for _, start, end in spans:
        gaps.append(text[prev:start])
        typed.append(text[start:end])
        prev = end
    read = read_words([fold(token) for token, _, _ in spans], gaps, lang == "lt")
    if "?" in text:
        typed.append("?")
        read.append("?")
    return typed, read


def read_words(folded: list[str], gaps: list[str], lithuanian: bool) -> list[str]:
    """Return how the model reads words (`analyse`) from their skeletons (`fold`) and what
    stands before each of them in the text (`bot.text.split_tokens`'s gaps)."""
    read: list[str] = []
    scope = 0
    for word, gap in zip(folded, gaps, strict=False):  # a last gap follows the last word
        if scope and len(gap) != 1 and _CLAUSE_END.search(gap):
            scope = 0
        if lithuanian and len(word) >= 6 and word.startswith("ne") and word != "nera":
            # Lithuanian writes "not" into the verb: "nepaėmė" is "did not take"
            word = "~" + word[2:]
        elif word in NEGATORS:
            scope = NEG_SCOPE
            word = NEGATION
        elif scope:
            word = "~" + word
            scope -= 1
        read.append(word)
    return read


def words(text: str) -> list[str]:
    """Return the words of a text as the model reads them (see `analyse`)."""
    return analyse(text)[1]


def word_features(word: str) -> list[str]:
    """Return the features of one folded word: itself and its character n-grams.

    A negated word ("~pasport") has n-grams of its own ("~<pas"...), so "not paid" and
    "paid" are told apart however either is spelt; a negation word itself has none (it
    only marks what follows).
    """
    if word == NEGATION:
        return []
    feats = ["w:" + word]
    negated = word.startswith("~")
    base = word[1:] if negated else word
    if base.isalpha():
        padded = f"<{base}>"
        mark = "~" if negated else ""
        for n in NGRAMS:
            feats.extend(mark + padded[i : i + n] for i in range(len(padded) - n + 1))
    return feats


def text_features(folded: list[str]) -> list[str]:
    """Return every feature of a text: its words' features and its adjacent word pairs."""
    feats = [f for w in folded for f in word_features(w)]
    feats.extend(f"b:{a} {b}" for a, b in pairwise(folded))
    return feats


# --- the model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """The model's view of one text: a probability per output and the words behind it."""

    probs: dict[str, float]
    positive: dict[str, bool]
    #: For each output, the words that raised its score most (for explanations).
    evidence: dict[str, tuple[str, ...]]


def _extra_rows(rules: list[int]) -> list[int]:
    """Return the `_table` rows every text adds to its words: the bias and its rules'."""
    return [_BIAS_ROW] + [_RULE_ROW + r for r in rules] if rules else [_BIAS_ROW]


class FeatureIndex:
    """Feature name -> row, kept as sorted 64-bit hashes instead of a dict of ~120,000
    strings: ~1.5 MB instead of ~14 MB in every serving process.

    The hashes are Python's own (`hash`), computed when the model is read, in the process
    that looks them up: a feature not in the model has one chance in ~10^14 to be taken
    for one that is.
    """

    def __init__(self, features: list[str]):
        hashes = np.fromiter(map(hash, features), dtype=np.int64, count=len(features))
        order = np.argsort(hashes, kind="stable")
        self._keys = hashes[order]
        self._rows = order.astype(np.int32)
        self._size = len(features)

    def __len__(self) -> int:
        return self._size

    def get(self, feature: str) -> int | None:
        """Return the row of one feature, or None."""
        if not self._size:
            return None
        key = hash(feature)
        at = int(self._keys.searchsorted(key))
        if at < self._size and self._keys[at] == key:
            return int(self._rows[at])
        return None

    def rows(self, features: list[str]) -> list[int]:
        """Return the rows of those of `features` the model has."""
        if not self._size or not features:
            return []
        keys = np.fromiter(map(hash, features), dtype=np.int64, count=len(features))
        at = self._keys.searchsorted(keys)
        np.minimum(at, self._size - 1, out=at)
        hit = self._keys[at] == keys
        return self._rows[at[hit]].tolist()


class Classifier:
    """Score texts with the trained linear model (see `bot/train.py`)."""

    def __init__(
        self,
        features: list[str],
        weights: np.ndarray,
        bias: np.ndarray,
        thresholds: np.ndarray,
        meta: dict[str, Any] | None = None,
        *,
        names_from: Path | None = None,
    ):
        if weights.shape != (len(features), len(OUTPUTS)):
            raise ValueError(f"weights must be {len(features)} x {len(OUTPUTS)}")
        self.index = FeatureIndex(features)
        # the names only to `save`: a model just trained keeps them, a model read from a
        # file reads them again from it when saved (serving needs only the hashes)
        self._names = None if names_from is not None else list(features)
        self._names_from = names_from
        # float16 as stored: half the memory; sums are taken in float32 (`_word`)
        self.weights = weights.astype(np.float16)
        self.bias = bias.astype(np.float32)
        # compared in logit space: p >= t  <=>  z >= log(t / (1 - t))
        t = np.clip(thresholds.astype(np.float64), 1e-6, 1 - 1e-6)
        self.thresholds = thresholds.astype(np.float32)
        self.logit_thresholds = np.log(t / (1 - t)).astype(np.float32)
        self.meta = meta or {}
        # Each distinct word's share of every score, computed once: a row of `_table`, and
        # its number of features. Row 0 is the zero row of words the model does not know.
        # Row 1 is the bias and the rows after it the rule features; words and word pairs
        # get the next free rows as they are first seen.
        self._rows: dict[str, tuple[int, int, float]] = {}
        # keyed by the two words: their hashes are cached, a "b:a b" string's is not
        self._pair_rows: dict[tuple[str, str], tuple[int, float]] = {}
        self._coef: dict[tuple[int, int, int], np.ndarray] = {}
        self._table = np.zeros((_FIRST_FREE + WORD_CACHE, len(OUTPUTS)), dtype=np.float32)
        self._free = _FIRST_FREE
        rows = [self.index.get(name) for name in RULE_FEATURES]
        self._table[_BIAS_ROW] = self.bias
        for k, i in enumerate(rows):
            if i is not None:
                self._table[_RULE_ROW + k] = RULE_VALUE * self.weights[i]
        # the danger column as plain floats: most messages need no other score
        self._danger_extra = self._table[:_FIRST_FREE, 0].tolist()
        self._danger_threshold = float(self.logit_thresholds[0])

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Classifier:
        """Read a model written by `save`."""
        with np.load(path, allow_pickle=False) as data:
            outputs = [str(o) for o in data["outputs"]]
            if tuple(outputs) != OUTPUTS:
                raise ValueError(f"{path.name}: trained for {outputs}, expected {OUTPUTS}")
            return cls(
                [str(f) for f in data["features"]],
                data["weights"],
                data["bias"],
                data["thresholds"],
                json.loads(str(data["meta"])),
                names_from=path,
            )

    def save(self, path: Path) -> None:
        """Write the model as a compressed numpy archive (no pickled objects)."""
        if self._names is not None:
            features = self._names
        else:
            with np.load(self._names_from, allow_pickle=False) as data:
                features = [str(f) for f in data["features"]]
        np.savez_compressed(
            path,
            outputs=np.array(OUTPUTS),
            features=np.array(features),
            weights=self.weights.astype(np.float16),
            bias=self.bias,
            thresholds=self.thresholds,
            meta=np.array(json.dumps(self.meta, sort_keys=True)),
        )

    def _word(self, word: str) -> tuple[int, int, float]:
        """Return the `_table` row of one word's share of every score, its feature count
        and its share of the danger score (the first column, as a plain float)."""
        found = self._rows.get(word)
        if found is not None:
            return found
        feats = word_features(word)
        rows = self.index.rows(feats)
        if not rows:
            found = (0, len(feats), 0.0)
        else:
            row = self._new_row(self.weights[rows].sum(axis=0, dtype=np.float32))
            found = (row, len(feats), float(self._table[row, 0]))
        self._rows[word] = found
        return found

    def _pair(self, pair: tuple[str, str]) -> tuple[int, float]:
        """Return the `_table` row of a word pair's weights (0: not a feature) and its share
        of the danger score."""
        i = self.index.get(f"b:{pair[0]} {pair[1]}")
        found = (
            (0, 0.0) if i is None else (self._new_row(self.weights[i]), float(self.weights[i, 0]))
        )
        self._pair_rows[pair] = found
        return found

    def _make_room(self, rows: int) -> None:
        """Empty the word and pair caches now if a text of `rows` new words and pairs might
        fill `_table`: emptied in the middle of a text, the rows of its first words would be
        given to its later ones."""
        if self._free + rows > len(self._table):
            self._rows.clear()
            self._pair_rows.clear()
            self._free = _FIRST_FREE

    def _new_row(self, vector: np.ndarray) -> int:
        """Store a word's or pair's vector in the next free row of `_table`."""
        if self._free >= len(self._table):  # full: start again (words repeat)
            self._rows.clear()
            self._pair_rows.clear()
            self._free = _FIRST_FREE
        row, self._free = self._free, self._free + 1
        self._table[row] = vector
        return row

    def word_vector(self, word: str) -> np.ndarray:
        """Return one folded word's share of every score (zeros for an unknown word)."""
        return self._table[self._word(word)[0]]

    def logits(
        self, folded: list[str], rules: list[int] | None = None, *, only_if_danger: bool = False
    ) -> np.ndarray | None:
        """Return the raw score of every output for a text's words (as `words` reads them)
        and the rule features that are on (`rule_active`).

        The features are counted, weighted (the stored weights include each feature's
        inverse document frequency) and divided by the square root of their number, so a
        long story is not alarming for being long (and a very short text counts as
        `NORM_FLOOR` features, so "hello there" is not read as loudly as a story). With
        `only_if_danger`, return None when the danger score is below its threshold: it is
        summed first in plain Python, and most messages end there without the other scores.
        """
        rows, count, danger = self._read(folded)
        extra = _extra_rows(rules)
        if only_if_danger:
            danger = danger * (1 / math.sqrt(count)) + self._danger_of(extra)
            if danger < self._danger_threshold:
                return None
        coef = self._coefficients(len(rows), len(extra), count)
        # `take` copies the same rows as indexing with a list, in half the time
        return coef @ self._table.take(rows + extra, axis=0)

    def most_dangerous(
        self,
        folded: list[str],
        pieces: list[tuple[int, int]],
        rules: list[int],
        whole_share: float = 0.0,
    ) -> np.ndarray:
        """Return the `logits` of the piece `folded[a:b]` whose danger score is highest (the
        first such), for the pieces (a, b) of a long text; with `whole_share`, that share of
        the way towards `logits(folded, rules)`, the whole text's scores, computed from the
        same lookups (a piece never reaches a word after the last piece, such as "?").

        Each word and word pair is looked up once for the whole text (in C, `map`), and the
        pieces' danger scores and feature counts are differences of running sums, so the
        work per word is done once rather than per piece in Python. The whole scores are
        computed only for the pieces within `_NEAR_BEST` of the best danger score, from the
        same rows in the same order as `logits` reads them: the running sums differ from
        `logits`'s float32 sums by rounding only, far less than the margin, so the answer is
        the one of scoring every piece in full.
        """
        self._make_room(2 * len(folded))
        known = self._rows.get
        words = list(map(known, folded))
        if None in words:
            words = [found or self._word(w) for found, w in zip(words, folded, strict=True)]
        known_pair = self._pair_rows.get
        pairs = list(map(known_pair, pairwise(folded)))
        if None in pairs:
            pairs = [
                found or self._pair(pair)
                for found, pair in zip(pairs, pairwise(folded), strict=True)
            ]
        # running sums: word i's are at [i + 1], pair i's (words i, i + 1) at [i + 1]
        word_danger = list(accumulate(map(_third, words), initial=0.0))
        word_count = list(accumulate(map(_second, words), initial=0))
        pair_danger = list(accumulate(map(_second, pairs), initial=0.0))
        extra = _extra_rows(rules)
        fixed = self._danger_of(extra)
        dangers = []
        for a, b in pieces:
            # the piece's pairs are a .. b - 2: the one to the next piece is not its own
            danger = word_danger[b] - word_danger[a] + pair_danger[b - 1] - pair_danger[a]
            count = max(b - a - 1 + word_count[b] - word_count[a], NORM_FLOOR)
            dangers.append((danger * (1 / math.sqrt(count)) + fixed, count, a, b))
        near = max(dangers)[0] - _NEAR_BEST
        table = self._table
        scores = []
        for danger, count, a, b in dangers:
            if danger >= near:
                rows = [found[0] for found in words[a:b] if found[0]]
                rows += [found[0] for found in pairs[a : b - 1] if found[0]]
                coef = self._coefficients(len(rows), len(extra), count)
                scores.append(coef @ table.take(rows + extra, axis=0))
        best = max(scores, key=lambda z: z[0])
        if not whole_share:
            return best
        rows = [found[0] for found in words if found[0]]
        rows += [found[0] for found in pairs if found[0]]
        count = max(len(folded) - 1 + word_count[-1], NORM_FLOOR)
        whole = self._coefficients(len(rows), len(extra), count) @ table.take(rows + extra, axis=0)
        return best + whole_share * (whole - best)

    def _danger_of(self, extra: list[int]) -> float:
        """Return the bias's and the rule features' share of the danger score."""
        danger_extra = self._danger_extra
        return sum([danger_extra[r] for r in extra])

    def _read(self, folded: list[str]) -> tuple[list[int], int, float]:
        """Return the `_table` rows of a text's known words and word pairs, its number of
        features (at least `NORM_FLOOR`) and its danger score before normalising."""
        self._make_room(2 * len(folded))
        rows = []
        count = max(len(folded) - 1, 0)  # word pairs
        danger = 0.0
        # the caches are read here directly (`_word` and `_pair` on a miss): a method call
        # per word costs more than the lookup
        known = self._rows.get
        for w in folded:
            row, n, d = known(w) or self._word(w)
            if row:
                rows.append(row)
                danger += d
            count += n
        known_pair = self._pair_rows.get
        for pair in pairwise(folded):
            row, d = known_pair(pair) or self._pair(pair)
            if row:
                rows.append(row)
                danger += d
        return rows, max(count, NORM_FLOOR), danger

    def _coefficients(self, words: int, extra: int, count: int) -> np.ndarray:
        """Return the weights of a text's rows in `logits`: 1/sqrt(count) for each of its
        `words` rows (words and pairs), 1.0 for the `extra` rows (bias and rules).

        Kept per shape: short texts share a few (read only: `@` does not write them)."""
        key = (words, extra, count)
        coef = self._coef.get(key)
        if coef is None:
            if len(self._coef) >= 4096:
                self._coef.clear()
            coef = np.full(words + extra, 1 / math.sqrt(count), dtype=np.float32)
            coef[words:] = 1.0
            coef.flags.writeable = False
            self._coef[key] = coef
        return coef

    def positive(self, folded: list[str]) -> np.ndarray:
        """Return, per output, whether the text's score passes the output's threshold."""
        return self.logits(folded) >= self.logit_thresholds

    def evidence(self, typed: list[str], read: list[str], outputs: list[int]) -> list[str]:
        """Return, per output, the typed word that raised its score most (a signal's quote)."""
        if not read:
            return [""] * len(outputs)
        self._make_room(len(read))
        known = self._rows.get
        shares = self._table[[(known(w) or self._word(w))[0] for w in read]][:, outputs]
        best = shares.argmax(axis=0).tolist()
        quotes = [typed[i] if shares[i, k] > 0 else "" for k, i in enumerate(best)]
        if "" in quotes:
            # a word that raised the score, else the longest word (a quote is never empty)
            fallback = max((t for t in typed if t != "?"), key=len, default=typed[0])
            quotes = [quote or fallback for quote in quotes]
        return quotes

    def scores(self, text: str) -> Scores:
        """Score a text and say which words pushed each output up (slower; for reports)."""
        folded = words(text)
        z = self.logits(folded)
        probs = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
        evidence: dict[str, tuple[str, ...]] = {}
        shares = [(w, self.word_vector(w)) for w in dict.fromkeys(folded)]
        for k, name in enumerate(OUTPUTS):
            top = sorted(shares, key=lambda wv, k=k: -wv[1][k])[:3]
            evidence[name] = tuple(w for w, v in top if v[k] > 0)
        return Scores(
            probs={name: float(probs[k]) for k, name in enumerate(OUTPUTS)},
            positive={
                name: bool(z[k] >= self.logit_thresholds[k]) for k, name in enumerate(OUTPUTS)
            },
            evidence=evidence,
        )


@lru_cache(maxsize=1)
def default_classifier() -> Classifier | None:
    """Return the repository's trained model, or None where none has been trained."""
    return Classifier.load() if MODEL_PATH.exists() else None
