"""How to score a long text: the out-of-fold A/B that chose `detector.LONG_PIECE_SHARE`.

The model learns from whole texts (`bot/train.py`), but a text of more than `LONG_TEXT`
words is served by pieces of whole sentences (`detector._longest`). This script trains the
model as `python -m bot train` does, with folds that hold out whole batches, and scores
every held-out long text in several ways:

- `share S`: the whole text's scores moved the share S of the way towards those of its
  sentence that reads most like danger (S = 1.0 is that sentence alone, 0.0 the whole);
- `pack60 S`: the same with pieces of consecutive sentences up to 60 words.

For each way it picks the thresholds as training does (most recall at the precision floor,
with the rules' judgements, `detector.combine`) and prints the figures on the natural mix
(no devset, no sampled batches), on the well-formed batches and on the long texts alone.
Not a test and not a benchmark of speed: a record of how a setting was chosen.

    .venv/bin/python -m bench.oof_long_texts        # ~4 min (needs the `train` extra)
"""

from __future__ import annotations

import argparse
import math
import time
import unicodedata

import numpy as np
from scipy import sparse

from bot import corpus
from bot import train as T
from bot.classifier import NORM_FLOOR, OUTPUTS, RULE_FEATURES, Classifier, analyse, text_features
from bot.detector import LONG_TEXT, combine, sentence_pieces
from bot.text import split_tokens

SHARES = (1.0, 0.5, 0.3, 0.2, 0.0)


def sentences(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Return the words as the model reads them and the sentence pieces, as served."""
    text = unicodedata.normalize("NFC", text)
    return analyse(text)[1], sentence_pieces(split_tokens(text)[0::2])


def packed(bounds: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Join consecutive sentence pieces while they stay within `limit` words."""
    out: list[list[int]] = []
    for a, b in bounds:
        if out and b - out[-1][0] <= limit:
            out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    started = time.monotonic()
    examples = corpus.load("train")
    x, names, scales, found = T.features(examples)
    y = T.labels(examples)
    column = {name: k for k, name in enumerate(names)}
    rules = len(RULE_FEATURES)
    x_rules = x[:, -rules:].toarray()

    # one row per piece of every long text, built as serving reads a piece
    owner, kind, rows, cols, vals = [], [], [], [], []
    long_texts = []
    for i, ex in enumerate(examples):
        read, bounds = sentences(ex.text)
        if len(read) <= LONG_TEXT:
            continue
        long_texts.append(i)
        for name, pieces in (("sentence", bounds), ("pack60", packed(bounds, 60))):
            for a, b in pieces:
                feats = text_features(read[a:b])
                scale = 1 / math.sqrt(max(len(feats), NORM_FLOOR))
                counts: dict[int, int] = {}
                for feat in feats:
                    k = column.get(feat, -1)
                    if 0 <= k < len(names) - rules:
                        counts[k] = counts.get(k, 0) + 1
                row = len(owner)
                owner.append(i)
                kind.append(name)
                for k, c in counts.items():
                    rows.append(row)
                    cols.append(k)
                    vals.append(c * scales[k] * scale)
                for r in range(rules):
                    rows.append(row)
                    cols.append(len(names) - rules + r)
                    vals.append(x_rules[i, r])
    pieces = sparse.csr_matrix((vals, (rows, cols)), shape=(len(owner), x.shape[1]))
    owner_a, kind_a = np.array(owner), np.array(kind)

    from sklearn.model_selection import GroupKFold

    groups = np.array([ex.batch for ex in examples])
    always, rest = np.flatnonzero(groups == "devset"), np.flatnonzero(groups != "devset")
    z_whole, z_piece = np.zeros(y.shape), np.zeros((len(owner), y.shape[1]))
    for train, held in GroupKFold(n_splits=T.FOLDS).split(rest, groups=groups[rest]):
        train, held = np.concatenate([rest[train], always]), rest[held]
        weights, bias = T.fit(x[train], y[train], rules)
        z_whole[held] = x[held] @ weights + bias
        mine = np.flatnonzero(np.isin(owner_a, held))
        z_piece[mine] = pieces[mine] @ weights + bias

    fresh = np.array([ex.batch != "devset" and not ex.sampled for ex in examples])
    fresh_rows = np.flatnonzero(fresh)
    found_fresh = [found[i] for i in fresh_rows]
    well_formed = [
        i for i in fresh_rows if examples[i].batch.startswith(("clean", "neg-6", "neg-7"))
    ]
    print(f"{len(fresh_rows)} messages of the natural mix, {len(long_texts)} long texts")
    for name in ("sentence", "pack60"):
        for share in SHARES:
            z = z_whole.copy()
            for i in long_texts:
                mine = (owner_a == i) & (kind_a == name)
                best = z_piece[mine][np.argmax(z_piece[mine][:, 0])]
                z[i] = z_whole[i] + share * (best - z_whole[i])
            probs = 1 / (1 + np.exp(-z[fresh]))
            th = T.choose(y[fresh], probs)
            args = (found_fresh, probs, th)
            grid = np.arange(0.2, 0.9, 0.02)
            th[0] = T.choose_combined(*args, y[fresh, 0] == 1, 0, T.DANGER_PRECISION, grid)
            th[-1] = T.choose_combined(
                *args, y[fresh, -1] == 1, -1, T.URGENT_PRECISION, T.URGENT_GRID
            )
            judge = Classifier([], np.zeros((0, len(OUTPUTS))), np.zeros(len(OUTPUTS)), th)
            said = {i: combine(found[i], z[i], judge) for i in fresh_rows}

            def figures(which, said=said) -> str:
                tp = fp = fn = urgent = urgent_hit = 0
                for i in which:
                    ex, got = examples[i], said[i]
                    truth = bool(ex.cats) or ex.danger
                    tp += got.danger and truth
                    fp += got.danger and not truth
                    fn += truth and not got.danger
                    urgent += ex.urgent
                    urgent_hit += ex.urgent and got.urgent
                recall, precision = tp / max(tp + fn, 1), tp / max(tp + fp, 1)
                return (
                    f"{recall:.4f}/{precision:.4f} ({fp} false, {fn} missed, "
                    f"urgent {urgent_hit}/{urgent})"
                )

            print(
                f"{name} {share:.1f}: all {figures(fresh_rows)}; well-formed "
                f"{figures(well_formed)}; long {figures([i for i in long_texts if fresh[i]])}"
            )
    print(f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
