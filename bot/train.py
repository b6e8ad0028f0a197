"""Train the detector's statistical layer: `python -m bot train` (needs the `train` extra).

Reproducible from the repository alone: the corpus (`bot/corpus.py`, train split only),
the features (`bot/classifier.py`) and fixed seeds give the same `dialogs/signals/model.npz`
on every machine. The steps:

1. Fit one L2 logistic regression per output (danger, eleven categories, urgent) on the
   features that occur in at least two training messages, counted, weighted by inverse
   document frequency and divided by the square root of the text's number of features.
2. Choose each output's threshold on out-of-fold predictions (5 folds), combined with what
   the rules already find, so that the thresholds are not fitted to messages the model saw:
   danger and urgent for recall at a precision floor, categories for F2 (recall first).
3. Choose the veto (below which a non-urgent rule alarm is withdrawn) the same way.
4. Drop features whose weights are all tiny, store weights as float16.

The test split is never read here. `python -m bot devset --corpus test` measures it.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
from scipy import sparse

from bot import corpus
from bot.classifier import MODEL_PATH, OUTPUTS, Classifier, text_features, words
from bot.detector import EXPLAINED_MARGIN

#: Inverse regularisation strength of every logistic regression.
C = 8.0
FOLDS = 5
SEED = 13
#: Precision floors on out-of-fold predictions (the aims are 0.92 on unseen messages).
DANGER_PRECISION = 0.93
URGENT_PRECISION = 0.55
#: Weights smaller than this for every output are dropped from the stored model.
PRUNE = 0.02


def labels(examples: list[corpus.Example]) -> np.ndarray:
    """Return the 0/1 matrix of outputs for the examples (rows) and OUTPUTS (columns)."""
    y = np.zeros((len(examples), len(OUTPUTS)), dtype=np.int8)
    for row, ex in enumerate(examples):
        y[row, 0] = ex.danger
        for k, name in enumerate(OUTPUTS[1:-1], 1):
            y[row, k] = name in ex.cats
        y[row, -1] = ex.urgent
    return y


def fit(x, y: np.ndarray):
    """Fit one logistic regression per output; return (weights, bias)."""
    from sklearn.linear_model import LogisticRegression

    weights = np.zeros((x.shape[1], y.shape[1]), dtype=np.float64)
    bias = np.zeros(y.shape[1], dtype=np.float64)
    for k in range(y.shape[1]):
        if y[:, k].min() == y[:, k].max():  # no positives (or no negatives) to learn from
            bias[k] = -10.0 if y[0, k] == 0 else 10.0
            continue
        model = LogisticRegression(
            C=C, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=SEED
        )
        model.fit(x, y[:, k])
        weights[:, k] = model.coef_[0]
        bias[k] = model.intercept_[0]
    return weights, bias


def out_of_fold(x, y: np.ndarray) -> np.ndarray:
    """Return probabilities for every training message from models that did not see it."""
    from sklearn.model_selection import StratifiedKFold

    probs = np.zeros(y.shape, dtype=np.float64)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for train, held in folds.split(np.zeros(len(y)), y[:, 0] * 2 + y[:, -1]):
        weights, bias = fit(x[train], y[train])
        z = x[held] @ weights + bias
        probs[held] = 1 / (1 + np.exp(-z))
    return probs


def _recall_at_floor(truth: np.ndarray, rule: np.ndarray, prob: np.ndarray, floor: float):
    """Return the lowest threshold whose combined alarm keeps precision >= floor."""
    best = (0.5, -1.0)
    for t in np.arange(0.05, 0.96, 0.01):
        said = rule | (prob >= t)
        tp = int((said & truth).sum())
        precision = tp / max(int(said.sum()), 1)
        recall = tp / max(int(truth.sum()), 1)
        if precision >= floor and recall > best[1]:
            best = (float(t), recall)
    return best[0]


def _f_beta_threshold(truth: np.ndarray, rule: np.ndarray, prob: np.ndarray, beta: float):
    best = (0.5, -1.0)
    for t in np.arange(0.05, 0.96, 0.01):
        said = rule | (prob >= t)
        tp = (said & truth).sum()
        precision = tp / max(said.sum(), 1)
        recall = tp / max(truth.sum(), 1)
        if precision + recall == 0:
            continue
        f = (1 + beta**2) * precision * recall / (beta**2 * precision + recall)
        if f > best[1]:
            best = (float(t), f)
    return best[0]


def choose(
    y: np.ndarray, probs: np.ndarray, rules: np.ndarray, explained: np.ndarray
) -> tuple[np.ndarray, float]:
    """Pick the thresholds and the veto from out-of-fold probabilities and rule outputs."""
    truth = y.astype(bool)
    # The veto first: the highest one that withdraws (almost) only harmless alarms.
    rule_danger = rules[:, 0] & ~rules[:, -1]
    veto = 0.0
    for v in (0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15):
        dropped = rule_danger & (probs[:, 0] < v)
        if dropped.sum() and (dropped & truth[:, 0]).sum() / dropped.sum() <= 0.2:
            veto = v
    kept = rules.copy()
    kept[rule_danger & (probs[:, 0] < veto)] = False
    # where a rule explained the words away, the model needs a higher score
    boost = np.where(explained & ~kept[:, 0], EXPLAINED_MARGIN, 0.0)
    logits = np.log(np.clip(probs, 1e-9, 1 - 1e-9) / np.clip(1 - probs, 1e-9, 1))
    shifted = 1 / (1 + np.exp(-(logits - boost[:, None])))
    thresholds = np.full(len(OUTPUTS), 0.5)
    thresholds[0] = _recall_at_floor(truth[:, 0], kept[:, 0], shifted[:, 0], DANGER_PRECISION)
    danger = kept[:, 0] | (shifted[:, 0] >= thresholds[0])
    for k in range(1, len(OUTPUTS) - 1):
        thresholds[k] = _f_beta_threshold(truth[:, k], kept[:, k] & danger, shifted[:, k], 2.0)
    thresholds[-1] = _recall_at_floor(
        truth[:, -1], kept[:, -1], np.where(danger, shifted[:, -1], 0), URGENT_PRECISION
    )
    return thresholds, veto


def rule_outputs(examples: list[corpus.Example]) -> tuple[list, np.ndarray, np.ndarray]:
    """Return the rules' detections, as an outputs matrix, and where they explained words away."""
    from bot.detector import Detector

    detector = Detector.load()
    found = []
    out = np.zeros((len(examples), len(OUTPUTS)), dtype=bool)
    explained = np.zeros(len(examples), dtype=bool)
    for row, ex in enumerate(examples):
        detection, explained[row] = detector.rules_and_reasons(ex.text)
        found.append(detection)
        out[row, 0] = detection.danger
        for k, name in enumerate(OUTPUTS[1:-1], 1):
            out[row, k] = name in detection.categories
        out[row, -1] = detection.urgent
    return found, out, explained


class _Replay:
    """A detector that answers with detections computed beforehand (for the report)."""

    def __init__(self, answers: dict[str, object]):
        self.answers = answers

    def detect(self, text: str) -> object:
        return self.answers[text]


def oof_report(examples, found, explained, probs, thresholds, veto) -> str:
    """Measure the combined detector on out-of-fold scores: the honest training figure."""
    from bot.detector import combine
    from bot.devset import evaluate, format_report

    judge = Classifier([], np.zeros((0, len(OUTPUTS))), np.zeros(len(OUTPUTS)), thresholds)
    judge.veto_logit = float(np.log(max(veto, 1e-9) / (1 - max(veto, 1e-9))))
    logits = np.log(np.clip(probs, 1e-9, 1 - 1e-9) / np.clip(1 - probs, 1e-9, 1))
    answers = {
        ex.text: combine(found[i], bool(explained[i]), logits[i], judge)
        for i, ex in enumerate(examples)
    }
    report = evaluate(_Replay(answers), examples)  # type: ignore[arg-type]
    return format_report(report, title="out-of-fold, train split")


def train(examples: list[corpus.Example], log=print) -> Classifier:
    """Train a classifier on `examples` (never the test split)."""
    from sklearn.feature_extraction.text import CountVectorizer

    if any(ex.split == "test" for ex in examples):
        raise ValueError("the test split must not be trained on")
    started = time.monotonic()
    vectorizer = CountVectorizer(analyzer=lambda feats: feats, min_df=2, dtype=np.float64)
    feats = [text_features(words(ex.text)) for ex in examples]
    counts = vectorizer.fit_transform(feats).tocsr()
    idf = np.log((1 + len(feats)) / (1 + np.bincount(counts.indices, minlength=counts.shape[1])))
    idf += 1
    # counts x idf / sqrt(all features of the text): what `Classifier.logits` computes
    scale = sparse.diags(1 / np.sqrt([max(len(f), 1) for f in feats]))
    x = (scale @ counts.multiply(idf[None, :])).tocsr()
    y = labels(examples)
    log(f"{len(examples)} messages, {x.shape[1]} features")
    probs = out_of_fold(x, y)
    found, rules, explained = rule_outputs(examples)
    thresholds, veto = choose(y, probs, rules, explained)
    log(oof_report(examples, found, explained, probs, thresholds, veto))
    weights, bias = fit(x, y)
    weights *= idf[:, None]  # stored with the idf, so serving needs no idf table
    keep = np.abs(weights).max(axis=1) >= PRUNE
    features = vectorizer.get_feature_names_out()[keep].tolist()
    meta = {
        "trained": date.today().isoformat(),
        "messages": len(examples),
        "batches": sorted({ex.batch for ex in examples}),
        "C": C,
        "veto": veto,
        "fill_margin": -1.0,
        "features": len(features),
    }
    log(
        f"kept {len(features)} features; veto {veto:.2f}; thresholds "
        + ", ".join(f"{o} {t:.2f}" for o, t in zip(OUTPUTS, thresholds, strict=True))
        + f" ({time.monotonic() - started:.0f} s)"
    )
    return Classifier(features, weights[keep], bias, thresholds, meta)


def train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `train` command's options."""
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    parser.add_argument(
        "--batches",
        nargs="*",
        default=None,
        help="train on these corpus batches only (and 'devset'); default: all",
    )


def train_command(args: argparse.Namespace) -> int:
    """Train on the corpus' train split and write the model."""
    examples = corpus.load("train", batches=args.batches)
    classifier = train(examples, log=lambda line: print(line, file=sys.stderr))
    classifier.save(args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
