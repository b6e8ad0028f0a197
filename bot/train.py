"""Train the detector's statistical layer: `python -m bot train` (needs the `train` extra);
`python -m bot train --ads` trains the job-ad scanner's (`bot/admodel.py`, see `train_ads`).

Reproducible from the repository alone: the corpus (`bot/corpus.py`, train split only),
the features (`bot/classifier.py`), the rules (`dialogs/signals/`) and fixed seeds give the
same `dialogs/signals/model.npz` on every machine. The steps:

1. Read each message's features: character n-grams, words and word pairs of the folded
   text, counted, weighted by inverse document frequency and divided by the square root
   of their number; and what the rules found in it (each category, urgency, and whether a
   rule explained a match away), so the model learns how far to trust each rule.
2. Fit one L2 logistic regression per output: danger on every message, the eleven
   categories and urgency on the dangerous ones (they are read only once there is danger).
   A message the rules found something in is also learnt as if they had not, at half
   weight (`RULE_DROPOUT`), so that the words alone carry danger the rules do not know.
3. Choose each output's threshold on out-of-fold predictions (5 folds, each holding out
   whole batches), so that the thresholds are fitted to writers the model has not read:
   danger and urgent for the most recall at a precision floor of the whole detector
   (`detector.combine`, with the rules' judgements), urgent with a lower floor (a false
   "urgent" only puts 112 first),
   categories for F2 (recall first).
4. Drop features whose weights are all tiny; store weights as float16.

The test split is never read here: `python -m bot devset --corpus test` measures it. The
development set (`tests/data/danger_devset.yaml`) teaches text only: the rules were written
against it and are right on all of it, so its rule features are left out (else the model
would trust the rules more than they deserve on new messages), and the thresholds and the
out-of-fold report come from the corpus messages alone.
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
from bot.classifier import (
    MODEL_PATH,
    NORM_FLOOR,
    OUTPUTS,
    RULE_FEATURES,
    Classifier,
    rule_features,
    text_features,
    words,
)

#: Inverse regularisation strength of every logistic regression.
C = 8.0
FOLDS = 5
SEED = 13
#: Precision floors on out-of-fold predictions. The aims are 0.92 on phone-typed and 0.95
#: on well-formed messages from writers the model has never read; new writers read about
#: 0.015-0.04 below the out-of-fold figure (batch 9: 0.907 at 0.925; batches 20-23 at 0.94:
#: 0.895-0.934 phone-typed, 0.899-0.955 well-formed), while their recall stayed at
#: 0.967-1.000 against aims of 0.95 and 0.97, so the floor is 0.95: some recall for precision.
DANGER_PRECISION = 0.95
URGENT_PRECISION = 0.5
URGENT_GRID = (0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
#: Each message with a rule feature on is learnt a second time, with this weight, as if the
#: rules had found nothing: the text features must then carry the danger on their own, as
#: they must for a writer whose wording no rule knows (0 turns it off). Out of fold (batches
#: held out whole, 30,300 messages) 0.5 read recall 0.977 against 0.974 at the same precision
#: floor and urgent recall 0.982 against 0.978 with fewer false urgent; on batch 26 and
#: clean-22, never trained on by either, 0.972/0.954 and 1.000/0.905 against 0.969/0.961
#: and 0.994/0.913 (recall / precision).
RULE_DROPOUT = 0.5
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


def fit(x, y: np.ndarray, rule_columns: int = 0):
    """Fit one logistic regression per output; return (weights, bias).

    `rule_columns`: how many last columns are the rules' features (see `RULE_DROPOUT`).
    """
    from sklearn.linear_model import LogisticRegression

    weight = np.ones(x.shape[0])
    if rule_columns and RULE_DROPOUT:
        ruled = np.flatnonzero(x[:, -rule_columns:].getnnz(axis=1))
        words_only = np.ones(x.shape[1])
        words_only[-rule_columns:] = 0
        bare = x[ruled] @ sparse.diags(words_only)
        bare.eliminate_zeros()
        x = sparse.vstack([x, bare]).tocsr()
        y = np.concatenate([y, y[ruled]])
        weight = np.concatenate([weight, np.full(len(ruled), RULE_DROPOUT)])

    weights = np.zeros((x.shape[1], y.shape[1]), dtype=np.float64)
    bias = np.zeros(y.shape[1], dtype=np.float64)
    danger = y[:, 0] == 1
    for k in range(y.shape[1]):
        # Danger is learnt from every message; the categories and urgency only from the
        # dangerous ones, since they are only read once there is danger: what they must
        # tell apart is one kind of danger from another, not danger from harmless words.
        rows = slice(None) if k == 0 else danger
        target = y[rows, k]
        if target.min() == target.max():  # no positives (or no negatives) to learn from
            bias[k] = -10.0 if target[0] == 0 else 10.0
            continue
        model = LogisticRegression(
            C=C, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=SEED
        )
        model.fit(x[rows], target, sample_weight=weight[rows])
        weights[:, k] = model.coef_[0]
        bias[k] = model.intercept_[0]
    return weights, bias


def out_of_fold(
    x, y: np.ndarray, groups: list[str], folds: int = FOLDS, rule_columns: int = 0
) -> np.ndarray:
    """Return probabilities for every training message from models that did not see it.

    The folds hold out whole batches (`groups`): a batch is one writer's way of writing,
    and what the thresholds must be chosen for is a writer the model has never read. The
    development set (group "devset") is always trained on. With a single batch, the folds
    are random rows of it. At most `folds` folds (one per batch when there are fewer).
    """
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    probs = np.zeros(y.shape, dtype=np.float64)
    names = np.array(groups)
    always = np.flatnonzero(names == "devset")
    rest = np.flatnonzero(names != "devset")
    batches = len(set(names[rest]))
    if batches >= 2:
        split = GroupKFold(n_splits=min(folds, batches)).split(rest, groups=names[rest])
    else:
        rows = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
        split = rows.split(rest, y[rest, 0] * 2 + y[rest, -1])
    for train, held in split:
        train, held = np.concatenate([rest[train], always]), rest[held]
        weights, bias = fit(x[train], y[train], rule_columns)
        z = x[held] @ weights + bias
        probs[held] = 1 / (1 + np.exp(-z))
    return probs


def _recall_at_floor(truth: np.ndarray, prob: np.ndarray, floor: float) -> float:
    """Return the lowest threshold whose alarms keep precision >= floor."""
    best = (0.5, -1.0)
    for t in np.arange(0.02, 0.98, 0.01):
        said = prob >= t
        tp = int((said & truth).sum())
        precision = tp / max(int(said.sum()), 1)
        recall = tp / max(int(truth.sum()), 1)
        if precision >= floor and recall > best[1]:
            best = (float(t), recall)
    return best[0]


def _f_beta_threshold(truth: np.ndarray, prob: np.ndarray, beta: float) -> float:
    best = (0.5, -1.0)
    for t in np.arange(0.02, 0.98, 0.01):
        said = prob >= t
        tp = (said & truth).sum()
        precision = tp / max(said.sum(), 1)
        recall = tp / max(truth.sum(), 1)
        if precision + recall == 0:
            continue
        f = (1 + beta**2) * precision * recall / (beta**2 * precision + recall)
        if f > best[1]:
            best = (float(t), f)
    return best[0]


def choose(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Pick every output's threshold from out-of-fold probabilities."""
    truth = y.astype(bool)
    thresholds = np.full(len(OUTPUTS), 0.5)
    thresholds[0] = _recall_at_floor(truth[:, 0], probs[:, 0], DANGER_PRECISION)
    danger = probs[:, 0] >= thresholds[0]
    for k in range(1, len(OUTPUTS) - 1):
        thresholds[k] = _f_beta_threshold(truth[:, k], np.where(danger, probs[:, k], 0), 2.0)
    thresholds[-1] = _recall_at_floor(
        truth[:, -1], np.where(danger, probs[:, -1], 0), URGENT_PRECISION
    )
    return thresholds


def rule_outputs(examples: list[corpus.Example]) -> tuple[list, np.ndarray]:
    """Return the rules' readings and their features (`classifier.rule_features`)."""
    from bot.detector import Detector

    detector = Detector.load()
    found = []
    rows = np.zeros((len(examples), len(RULE_FEATURES)))
    for row, ex in enumerate(examples):
        reading = detector.read_rules(ex.text)
        found.append(reading)
        rows[row] = rule_features(reading.found, reading.explained)
    return found, rows


def choose_combined(found, probs, thresholds, truth, output, floor, grid) -> float:
    """Pick one output's threshold (0: danger, -1: urgent) on out-of-fold scores as the
    detector uses them, with the rules' judgements (`detector.combine`): the most recall at
    precision >= `floor`."""
    from bot.detector import combine

    logits = np.log(np.clip(probs, 1e-9, 1 - 1e-9) / np.clip(1 - probs, 1e-9, 1))
    best = (thresholds[output], -1.0)
    for t in grid:
        trial = thresholds.copy()
        trial[output] = t
        judge = Classifier([], np.zeros((0, len(OUTPUTS))), np.zeros(len(OUTPUTS)), trial)
        found_by = [combine(f, z, judge) for f, z in zip(found, logits, strict=True)]
        said = np.array([d.danger if output == 0 else d.urgent for d in found_by])
        tp = int((said & truth).sum())
        precision, recall = tp / max(int(said.sum()), 1), tp / max(int(truth.sum()), 1)
        if precision >= floor and recall > best[1]:
            best = (float(t), recall)
    return float(best[0])


class _Replay:
    """A detector that answers with detections computed beforehand (for the report)."""

    def __init__(self, answers: dict[str, object]):
        self.answers = answers

    def detect(self, text: str) -> object:
        return self.answers[text]


def oof_report(examples, found, probs, thresholds) -> str:
    """Measure the combined detector on out-of-fold scores: the honest training figure."""
    from bot.detector import combine
    from bot.devset import evaluate, format_report

    judge = Classifier([], np.zeros((0, len(OUTPUTS))), np.zeros(len(OUTPUTS)), thresholds)
    logits = np.log(np.clip(probs, 1e-9, 1 - 1e-9) / np.clip(1 - probs, 1e-9, 1))
    answers = {ex.text: combine(found[i], logits[i], judge) for i, ex in enumerate(examples)}
    report = evaluate(_Replay(answers), examples)  # type: ignore[arg-type]
    return format_report(report, title="out-of-fold, train split")


def text_matrix(texts: list[str]):
    """Return the texts' feature rows, the feature names and their idf weights.

    A row is counts x idf / sqrt(all features of the text), what `Classifier.logits` and
    `AdModel.score` compute; features seen in fewer than two texts are left out.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=lambda feats: feats, min_df=2, dtype=np.float64)
    feats = [text_features(words(text)) for text in texts]
    counts = vectorizer.fit_transform(feats).tocsr()
    idf = np.log((1 + len(feats)) / (1 + np.bincount(counts.indices, minlength=counts.shape[1])))
    idf += 1
    scale = sparse.diags(1 / np.sqrt([max(len(f), NORM_FLOOR) for f in feats]))
    x_text = (scale @ counts.multiply(idf[None, :])).tocsr()
    return x_text, vectorizer.get_feature_names_out().tolist(), idf


def features(examples: list[corpus.Example]):
    """Return the text feature counts and the rules' detections and feature rows."""
    x_text, text_names, idf = text_matrix([ex.text for ex in examples])
    found, x_rules = rule_outputs(examples)
    # The rules were written against the development set and are right on all of it: its
    # messages teach the text features only, or the model would trust the rules too much.
    x_rules[[ex.batch == "devset" for ex in examples]] = 0
    x = sparse.hstack([x_text, sparse.csr_matrix(x_rules)]).tocsr()
    names = [*text_names, *RULE_FEATURES]
    scales = np.concatenate([idf, np.ones(len(RULE_FEATURES))])
    return x, names, scales, found


def train(examples: list[corpus.Example], log=print) -> Classifier:
    """Train a classifier on `examples` (never the test split)."""
    if any(ex.split == "test" for ex in examples):
        raise ValueError("the test split must not be trained on")
    started = time.monotonic()
    x, names, scales, found = features(examples)
    y = labels(examples)
    log(f"{len(examples)} messages, {x.shape[1]} features")
    probs = out_of_fold(x, y, [ex.batch for ex in examples], rule_columns=len(RULE_FEATURES))
    # thresholds and the report from the corpus messages alone (see `features`), on the
    # natural mix: a batch that over-samples one kind (`sampled: true`) only teaches
    fresh = np.array([ex.batch != "devset" and not ex.sampled for ex in examples])
    if not fresh.any():
        fresh[:] = True
    kept = [ex for ex, f in zip(examples, fresh, strict=True) if f]
    found_kept = [r for r, f in zip(found, fresh, strict=True) if f]
    thresholds = choose(y[fresh], probs[fresh])
    args = (found_kept, probs[fresh], thresholds)
    danger_grid = np.arange(0.2, 0.9, 0.02)
    thresholds[0] = choose_combined(*args, y[fresh, 0] == 1, 0, DANGER_PRECISION, danger_grid)
    thresholds[-1] = choose_combined(*args, y[fresh, -1] == 1, -1, URGENT_PRECISION, URGENT_GRID)
    log(oof_report(kept, found_kept, probs[fresh], thresholds))
    weights, bias = fit(x, y, len(RULE_FEATURES))
    weights *= scales[:, None]  # stored with the idf, so serving needs no idf table
    keep = np.abs(weights).max(axis=1) >= PRUNE
    keep[-len(RULE_FEATURES) :] = True
    kept_names = [name for name, k in zip(names, keep, strict=True) if k]
    meta = {
        "trained": date.today().isoformat(),
        "messages": len(examples),
        "batches": sorted({ex.batch for ex in examples}),
        "C": C,
        "features": len(kept_names),
    }
    log(
        f"kept {len(kept_names)} features; thresholds "
        + ", ".join(f"{o} {t:.2f}" for o, t in zip(OUTPUTS, thresholds, strict=True))
        + f" ({time.monotonic() - started:.0f} s)"
    )
    return Classifier(kept_names, weights[keep], bias, thresholds, meta)


def train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `train` command's options."""
    parser.add_argument("--out", type=Path, default=None, help="where to write the model")
    parser.add_argument(
        "--ads",
        action="store_true",
        help="train the job-ad scanner's model from the written ads' dev part instead",
    )
    parser.add_argument(
        "--language-words",
        action="store_true",
        help="write bot/language_words.py (words that tell the languages apart) instead",
    )
    parser.add_argument(
        "--batches",
        nargs="*",
        default=None,
        help="train on these corpus batches only (and 'devset'); default: all",
    )


def train_command(args: argparse.Namespace) -> int:
    """Train on the corpus' train split (or the ads' dev part) and write the model."""
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    if getattr(args, "language_words", False):
        out = args.out or Path(__file__).with_name("language_words.py")
        out.write_text(language_words_source(corpus.load("train")), encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
        return 0
    if args.ads:
        from bot.admodel import AD_MODEL_PATH

        model, out = train_ads(corpus.load_ads("dev"), log=log), args.out or AD_MODEL_PATH
    else:
        examples = corpus.load("train", batches=args.batches)
        model, out = train(examples, log=log), args.out or MODEL_PATH
    model.save(out)
    print(f"wrote {out}", file=sys.stderr)
    return 0


# --- the words that tell the languages apart (`bot/language_words.py`) --------------------

#: For each language, this many words: those found in the most messages of the language (at
#: least `LANGUAGE_WORDS_MIN`), of which at least `LANGUAGE_WORDS_PURITY` of the messages
#: that hold them are in that language.
LANGUAGE_WORDS = 300
LANGUAGE_WORDS_MIN = 8
LANGUAGE_WORDS_PURITY = 0.93
_LANGUAGE_NAMES = {"en": "EN", "lt": "LT", "ru": "RU_TRANSLIT", "uk": "UK_TRANSLIT"}


def language_words_source(examples: list[corpus.Example]) -> str:
    """Return the source of `bot/language_words.py`, chosen from the examples' Latin-script
    words (Lithuanian without its diacritics): the train split only, never the test split."""
    import textwrap
    from collections import Counter

    from bot.text import strip_diacritics_lt, tokens

    if any(ex.split == "test" for ex in examples):
        raise ValueError("the test split must not be read")
    counts: dict[str, Counter[str]] = {lang: Counter() for lang in _LANGUAGE_NAMES}
    for ex in examples:
        seen = {strip_diacritics_lt(w) for w in tokens(ex.text)}
        counts[ex.lang].update(w for w in seen if w.isascii() and w.isalpha() and len(w) > 1)
    lines = [
        '"""Latin-script words that tell English, Lithuanian (typed without diacritics) and '
        "Russian and",
        "Ukrainian in Latin letters apart, for `text.detect_language`.",
        "",
        "Written by `python -m bot train --language-words` from the danger corpus's train "
        "split (never",
        f"its test split): for each language, the {LANGUAGE_WORDS} words found in the most "
        "messages of that",
        f"language (at least {LANGUAGE_WORDS_MIN}) of which at least "
        f"{LANGUAGE_WORDS_PURITY:.0%} of the messages holding them are",
        'in that language. Frequent words of every kind, not only function words: "zaperli" '
        'and "norvegijoj"',
        'are as much Russian and Lithuanian as "chto" and "ir".',
        '"""',
        "",
    ]
    for lang, name in _LANGUAGE_NAMES.items():
        picked = []
        for word, n in counts[lang].most_common():
            if n < LANGUAGE_WORDS_MIN or len(picked) == LANGUAGE_WORDS:
                break
            if n >= LANGUAGE_WORDS_PURITY * sum(c[word] for c in counts.values()):
                picked.append(word)
        indent = "    "
        body = textwrap.fill(
            " ".join(sorted(picked)), width=92, initial_indent=indent, subsequent_indent=indent
        )
        lines.append(f'{name} = """\n{body}\n"""\n')
    return "\n".join(lines)


# --- the job-ad scanner's statistical layer (`bot/admodel.py`) ---------------------------

#: The date whose wage tables the rules read the ads with while thresholds are chosen
#: (fixed, so training gives the same model on any day).
ADS_TODAY = date(2026, 6, 1)
#: `raise`: at most this share of sound dev ads may be newly flagged, out of fold. 0.005
#: put `raise` at 0.98 once batch 11 was read (the model then added one risky dev ad out of
#: fold); at 0.01 it is 0.95 (two more risky, three more sound flagged out of fold).
ADS_RAISE_FALSE_ALARMS = 0.01
ADS_GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)
#: `quiet`: the highest threshold under which the model may leave one money flag as a
#: thing to check (`Scanner._read_model`) without losing any risky dev ad out of fold.
ADS_QUIET_GRID = (0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2)


def combine_ads(
    rule_ids: list[list[str]],
    probs: np.ndarray,
    thresholds: dict[str, float],
    weight: dict,
    quietable: frozenset[str] = frozenset(),
):
    """Return whether each ad ends flagged, reading the rules' flag ids (of the weights in
    `weight`, weak signs included) with the model's probabilities as the scanner does
    (`Scanner._read_model`): a heavier flag or two weak signs, unless the one heavy flag is
    `quietable` and the model is under `quiet`; one weak sign or none only with the model."""
    from bot.scanner import model_may_quiet, rules_warn

    quiet = thresholds.get("quiet", 0.0)

    def flagged(ids: list[str], p: float) -> bool:
        if rules_warn(ids, weight):
            return not (p < quiet and model_may_quiet(ids, weight, quietable))
        return bool(p >= thresholds["raise"])

    return np.array([flagged(ids, p) for ids, p in zip(rule_ids, probs, strict=True)])


def _rules_alone(rule_ids: list[list[str]], weight: dict) -> np.ndarray:
    """Return whether each ad is flagged by its rules without the model."""
    from bot.scanner import rules_warn

    return np.array([rules_warn(ids, weight) for ids in rule_ids])


def choose_ads(
    risky: np.ndarray, rule_ids: list[list[str]], probs: np.ndarray, weight, quietable
) -> dict:
    """Pick the `raise` and `quiet` thresholds on out-of-fold probabilities (see above)."""
    sound = ~risky
    rules = _rules_alone(rule_ids, weight)
    raise_at = 1.0
    for t in ADS_GRID[::-1]:  # from the top: the lowest that keeps the false alarms
        trial = combine_ads(rule_ids, probs, {"raise": t}, weight)
        new = int((trial & ~rules & sound).sum())
        if new > ADS_RAISE_FALSE_ALARMS * int(sound.sum()):
            break
        raise_at = float(t)
    quiet = 0.0
    for t in ADS_QUIET_GRID:  # the highest that quiets no risky ad
        trial = combine_ads(rule_ids, probs, {"raise": raise_at, "quiet": t}, weight, quietable)
        if (risky & rules & ~trial).any():
            break
        quiet = float(t)
    return {"raise": raise_at, "quiet": quiet}


def ads_report(ads, rule_ids, probs, thresholds, weight, quietable=frozenset()) -> str:
    """Per batch, out of fold: risky flagged and sound quiet by the rules alone, by the
    model alone (at `raise`) and by both as the scanner reads them."""
    both = combine_ads(rule_ids, probs, thresholds, weight, quietable)
    rules = _rules_alone(rule_ids, weight)
    model = probs >= thresholds["raise"]
    risky = np.array([ad.risky for ad in ads])
    batches = np.array([ad.batch for ad in ads])
    lines = ["batch  risky flagged: rules / model / both   sound quiet: rules / model / both"]
    for batch in [*sorted(set(batches)), "all"]:
        rows = batches == batch if batch != "all" else np.ones(len(ads), bool)
        r, s = rows & risky, rows & ~risky
        cells = [f"{int(v[r].sum())}/{int(r.sum())}" for v in (rules, model, both)]
        cells += [f"{int((~v[s]).sum())}/{int(s.sum())}" for v in (rules, model, both)]
        lines.append(f"{batch:5}  {' / '.join(cells[:3]):30}  {' / '.join(cells[3:])}")
    return "\n".join(lines)


def train_ads(ads: list[corpus.Ad], log=print):
    """Train the scanner's ad model on `ads` (the dev part only, never the test part)."""
    from bot.admodel import AdModel
    from bot.scanner import Scanner

    if any(ad.split != "dev" for ad in ads):
        raise ValueError("the test part of the written ads must not be trained on")
    started = time.monotonic()
    x, names, idf = text_matrix([ad.text for ad in ads])
    y = np.array([[ad.risky] for ad in ads], dtype=np.int8)
    groups = [ad.batch for ad in ads]
    log(f"{len(ads)} dev ads in {len(set(groups))} batches, {x.shape[1]} features")
    # one fold per batch: each batch is one writer, and the thresholds are for new writers
    probs = out_of_fold(x, y, groups, folds=len(set(groups)))[:, 0]
    rules = Scanner.load(today=ADS_TODAY, model=False)
    rule_ids = [[*r.ids, *(c.id for c in r.checks)] for r in map(rules.scan, (a.text for a in ads))]
    risky = y[:, 0] == 1
    weight = {f.id: f.weight for f in rules.flags}
    thresholds = choose_ads(risky, rule_ids, probs, weight, rules.quietable)
    log(f"out of fold (leave one batch out), thresholds {thresholds}:")
    log(ads_report(ads, rule_ids, probs, thresholds, weight, rules.quietable))
    weights, bias = fit(x, y)
    weights = weights[:, 0] * idf  # stored with the idf, so serving needs no idf table
    keep = np.abs(weights) >= PRUNE
    meta = {
        "trained": date.today().isoformat(),
        "ads": len(ads),
        "batches": sorted(set(groups)),
        "C": C,
        "features": int(keep.sum()),
    }
    log(f"kept {int(keep.sum())} features ({time.monotonic() - started:.0f} s)")
    kept = [name for name, k in zip(names, keep, strict=True) if k]
    return AdModel.of_features(kept, weights[keep], float(bias[0]), thresholds, meta)
