"""The job-ad scanner's statistical layer: how much an ad reads like the risky ads we know.

The scanner's rules (`dialogs/scanner.yaml`) name a red flag only in the wordings someone
wrote into them; a new writer's fee, debt or confinement in other words slips through.
This layer reads an ad as the danger detector's model reads a message (`bot/classifier.py`:
character n-grams of spelling-proof word skeletons, whole words and word pairs, weighted by
inverse document frequency and divided by the square root of their number) and gives one
score: the probability that the ad is risky. It is a logistic regression trained on the
dev part of the written ads only, by `python -m bot train --ads` (`bot/train.py`), which
also chooses its two thresholds on out-of-fold scores (each fold holds out whole batches,
each batch one writer):

- `raise`: at or above it an ad "reads like the risky ads we know" (flag `reads_risky`),
  quoting the words that weigh most and that no rule matched;
- `quiet`: below it an ad flagged only by weak signs (weight 2: no employer named, a
  messenger as the only contact, haste) is left quiet.

Only numpy is needed here; scikit-learn is needed only to train.
"""

from __future__ import annotations

import json
import math
import re
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
_STOP = re.compile(r"[.!?;:\n]")


@dataclass(frozen=True)
class AdScore:
    """The model's view of one ad: its probability of being risky and the phrases behind it.

    `phrases` are the (start, end) spans, in text order, of the runs of words that raised
    the score most, leaving out what the `exclude` spans (the rules' evidence) cover."""

    prob: float
    phrases: tuple[tuple[int, int], ...]


class AdModel:
    """Score job ads with the trained linear model (one output: risky)."""

    def __init__(
        self,
        features: list[str],
        weights: np.ndarray,
        bias: float,
        thresholds: dict[str, float],
        meta: dict[str, Any] | None = None,
    ):
        if weights.shape != (len(features),):
            raise ValueError(f"weights must have {len(features)} values")
        self.features = features
        self.weights = weights.astype(np.float32)
        self.index = dict(zip(features, self.weights.tolist(), strict=True))
        self.bias = float(bias)
        self.raise_at = float(thresholds["raise"])
        self.quiet_below = float(thresholds["quiet"])
        self.meta = meta or {}
        self._words: dict[str, tuple[float, int]] = {}

    @classmethod
    def load(cls, path: Path = AD_MODEL_PATH) -> AdModel:
        """Read a model written by `save`."""
        with np.load(path, allow_pickle=False) as data:
            return cls(
                [str(f) for f in data["features"]],
                data["weights"],
                float(data["bias"]),
                json.loads(str(data["thresholds"])),
                json.loads(str(data["meta"])),
            )

    def save(self, path: Path) -> None:
        """Write the model as a compressed numpy archive (no pickled objects)."""
        np.savez_compressed(
            path,
            features=np.array(self.features),
            weights=self.weights.astype(np.float16),
            bias=np.array(self.bias),
            thresholds=np.array(
                json.dumps({"raise": self.raise_at, "quiet": self.quiet_below}, sort_keys=True)
            ),
            meta=np.array(json.dumps(self.meta, sort_keys=True)),
        )

    def _word(self, word: str) -> tuple[float, int]:
        """Return one folded word's share of the score and its number of features."""
        found = self._words.get(word)
        if found is None:
            feats = word_features(word)
            found = (sum(self.index.get(f, 0.0) for f in feats), len(feats))
            if len(self._words) < 100_000:
                self._words[word] = found
        return found

    def score(self, text: str, exclude: list[tuple[int, int]] = ()) -> AdScore:
        """Score `text` and find the words that raised the score most outside `exclude`."""
        spans = token_spans(text)
        _typed, read = analyse(text, spans)
        shares = [0.0] * len(read)
        count = max(len(read) - 1, 0)
        for i, word in enumerate(read):
            share, n = self._word(word)
            shares[i] += share
            count += n
        for i, (a, b) in enumerate(pairwise(read)):
            pair = self.index.get(f"b:{a} {b}", 0.0)
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
