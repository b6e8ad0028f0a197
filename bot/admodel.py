"""The job-ad scanner's statistical layer: how much an ad reads like the risky ads we know.

The scanner's rules (`dialogs/scanner.yaml`) name a red flag only in the wordings someone
wrote into them; a new writer's fee, debt or confinement in other words slips through.
This layer reads an ad as the danger detector's model reads a message (`bot/classifier.py`:
character n-grams of spelling-proof word skeletons, whole words and word pairs, weighted by
inverse document frequency and divided by the square root of their number) and gives one
score: the probability that the ad is risky. It is a logistic regression trained on the
dev part of the written ads only, by `python -m bot train --ads` (`bot/train.py`), which
also chooses its threshold on out-of-fold scores (each fold holds out whole batches, each
batch one writer): at or above `raise` an ad whose rules found no heavier sign than a weak
one (weight 2: no employer named, a messenger as the only contact, haste) "reads like the
risky ads we know" (flag `reads_risky`), quoting the words that weigh most and that no
rule matched.

Only numpy is needed here; scikit-learn is needed only to train.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from bot import DIALOGS_DIR
from bot.classifier import NORM_FLOOR, analyse, word_features
from bot.text import token_spans

AD_MODEL_PATH = DIALOGS_DIR / "scanner_model.npz"
#: The evidence of `reads_risky`: at most this many runs of words, each of at most
#: `PHRASE_WORDS` words.
PHRASES = 3
PHRASE_WORDS = 4
#: Distinct words whose share of the score is kept (about 2 MB at most).
WORD_CACHE = 20_000
_STOP = re.compile(r"[.!?;:\n]")


@dataclass(frozen=True)
class AdScore:
    """The model's view of one ad: its probability of being risky and the phrases behind it.

    `phrases` are the (start, end) spans, in text order, of the runs of words that raised
    the score most, leaving out what the `exclude` spans (the rules' evidence) cover."""

    prob: float
    phrases: tuple[tuple[int, int], ...]


def feature_key(name: str) -> int:
    """Return the stored key of a feature: a stable 32-bit hash of its name.

    The served model holds keys and weights in two small arrays instead of a dictionary of
    17,000 strings (a few MB less in `serve`); of two trained features with one key the
    heavier is kept (`AdModel.of_features`), and `AdModel` refuses a file that holds both.
    """
    return zlib.crc32(name.encode("utf-8"))


class AdModel:
    """Score job ads with the trained linear model (one output: risky)."""

    def __init__(
        self,
        keys: np.ndarray,
        weights: np.ndarray,
        bias: float,
        thresholds: dict[str, float],
        meta: dict[str, Any] | None = None,
        names: list[str] | None = None,
    ):
        if weights.shape != keys.shape or keys.ndim != 1:
            raise ValueError(f"weights must have {len(keys)} values")
        order = np.argsort(keys, kind="stable")
        self.keys = keys.astype(np.uint32)[order]
        if len(self.keys) and (np.diff(self.keys) == 0).any():
            raise ValueError("two features share a key")
        self.values = weights.astype(np.float32)[order]
        self.names = None if names is None else [names[i] for i in order.tolist()]
        self.bias = float(bias)
        self.raise_at = float(thresholds["raise"])
        # 0 (off) for a model trained before the `quiet` threshold existed
        self.quiet_at = float(thresholds.get("quiet", 0.0))
        self.meta = meta or {}
        self._words: dict[str, tuple[float, int]] = {}

    @classmethod
    def of_features(
        cls,
        features: list[str],
        weights: np.ndarray,
        bias: float,
        thresholds: dict[str, float],
        meta: dict[str, Any] | None = None,
    ) -> AdModel:
        """Return a model of named features (as trained).

        Keys are 32-bit hashes, so among tens of thousands of features two may share one
        (about one chance in four at 47,000 features): the feature that weighs more keeps the key.
        """
        keys = np.array([feature_key(f) for f in features], dtype=np.uint32)
        weights = np.asarray(weights)
        best: dict[int, int] = {}
        for i, key in enumerate(keys.tolist()):
            if key not in best or abs(weights[i]) > abs(weights[best[key]]):
                best[key] = i
        kept = sorted(best.values())
        names = [features[i] for i in kept]
        return cls(keys[kept], weights[kept], bias, thresholds, meta, names=names)

    @classmethod
    def load(cls, path: Path = AD_MODEL_PATH) -> AdModel:
        """Read a model written by `save` (its keys and weights; the names stay on disk)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["keys"],
                data["weights"],
                float(data["bias"]),
                json.loads(str(data["thresholds"])),
                json.loads(str(data["meta"])),
            )

    def save(self, path: Path) -> None:
        """Write the model as a compressed numpy archive (no pickled objects), with the
        features' names for people reading it (needs a model made by `of_features`)."""
        if self.names is None:
            raise ValueError("only a model with its feature names can be saved")
        np.savez_compressed(
            path,
            keys=self.keys,
            features=np.array(self.names),
            weights=self.values.astype(np.float16),
            bias=np.array(self.bias),
            thresholds=np.array(
                json.dumps({"raise": self.raise_at, "quiet": self.quiet_at}, sort_keys=True)
            ),
            meta=np.array(json.dumps(self.meta, sort_keys=True)),
        )

    def _lookup(self, names: list[str]) -> np.ndarray:
        """Return the weight of each feature named (0 for one the model does not have)."""
        keys = np.fromiter(map(feature_key, names), dtype=np.uint32, count=len(names))
        if not len(self.keys) or not len(keys):
            return np.zeros(len(keys), dtype=np.float32)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.values[at], np.float32(0))

    def _learn_words(self, read: list[str]) -> None:
        """Compute, in one lookup, each new word's share of the score and feature count."""
        if len(self._words) > WORD_CACHE:  # full: start again (words repeat)
            self._words.clear()
        new = [w for w in dict.fromkeys(read) if w not in self._words]
        if not new:
            return
        feats = [word_features(w) for w in new]
        owner = np.repeat(np.arange(len(new)), [len(f) for f in feats])
        values = self._lookup([f for fs in feats for f in fs])
        sums = np.bincount(owner, weights=values, minlength=len(new)).tolist()
        for word, fs, share in zip(new, feats, sums, strict=True):
            self._words[word] = (share, len(fs))

    def score(self, text: str, exclude: list[tuple[int, int]] = ()) -> AdScore:
        """Score `text` and find the words that raised the score most outside `exclude`."""
        spans = token_spans(text)
        _typed, read = analyse(text, spans)
        self._learn_words(read)
        known = self._words
        shares = [known[w][0] for w in read]
        count = max(len(read) - 1, 0) + sum(known[w][1] for w in read)
        pairs = self._lookup([f"b:{a} {b}" for a, b in pairwise(read)]).tolist()
        for i, pair in enumerate(pairs):
            shares[i] += pair / 2
            shares[i + 1] += pair / 2
        scale = 1 / math.sqrt(max(count, NORM_FLOOR))
        z = self.bias + scale * sum(shares)
        prob = 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))
        return AdScore(prob, _phrases(text, spans, shares[: len(spans)], exclude))


def _phrases(
    text: str,
    spans: list[tuple[str, int, int]],
    shares: list[float],
    exclude: list[tuple[int, int]],
) -> tuple[tuple[int, int], ...]:
    """Return the heaviest runs of words (at most `PHRASES` runs of `PHRASE_WORDS` words,
    each within one sentence, none overlapping `exclude` or another), in text order."""
    free = [not any(s < end and start < e for s, e in exclude) for _, start, end in spans]
    edge = [len(token) >= 3 for token, _, _ in spans]  # a run neither starts nor ends "in"
    runs = []
    for first in range(len(spans)):
        total = 0.0
        for last in range(first, min(first + PHRASE_WORDS, len(spans))):
            if not free[last] or (
                last > first and _STOP.search(text, spans[last - 1][2], spans[last][1])
            ):
                break
            total += shares[last]
            if shares[first] > 0 and shares[last] > 0 and edge[first] and edge[last]:
                runs.append((total, first, last))
    chosen: list[tuple[int, int]] = []
    for total, first, last in sorted(runs, reverse=True):
        if total <= 0 or len(chosen) == PHRASES:
            break
        if all(last < a or b < first for a, b in chosen):
            chosen.append((first, last))
    return tuple((spans[a][1], spans[b][2]) for a, b in sorted(chosen))


class LazyAdModel:
    """The ad model read on first use (so `serve` starts without it), or None if absent."""

    def __init__(self, path: Path):
        self.path = path

    @cached_property
    def model(self) -> AdModel | None:
        """Return the model, or None where none has been trained."""
        return AdModel.load(self.path) if self.path.exists() else None
