"""May the model withdraw an urgent rule's alarm in a story that goes on after it?

An urgent rule match always stands (`detector.combine`): "they locked me in" must never be
talked away by a model that has read many jokes. But in a story the sentence after the
match often settles it ("I was locked in at the factory last night. It turned out the
electronic lock had failed"), and no `resolved` cue can list every way of saying so. This
script trains the model as `python -m bot train` does, with folds that hold out whole
batches, and asks, on the held-out texts of the natural mix: if the model may withdraw an
urgent rule alarm when (a) at least one sentence follows the last urgent match and (b) the
model's danger logit is below V, how many false alarms go and how many dangers (and urgent
ones) are lost, for several V. A single sentence is never touched, nor a cry for help, a
sale or a wish to die (`immediate_danger`): with those, the ordinary veto's level withdrew
"хочу умереть. сил нет. всем будет лучше". The detector took the margin of 2
(`detector.STORY_VETO_LOGIT`).

Only texts of at most `LONG_TEXT` words are candidates (a long text is scored mostly as a
whole, where many other words can drown a cry), so the scores here are the served ones.
Not a test and not a benchmark of speed: a record of how a setting was chosen.

    .venv/bin/python -m bench.oof_story_veto        # ~4 min (needs the `train` extra)
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from bot import corpus
from bot import train as T
from bot.classifier import OUTPUTS, RULE_FEATURES, Classifier
from bot.detector import VETO_LOGIT, combine

#: Logit margins below the ordinary veto at which the model may withdraw an urgent alarm.
MARGINS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    started = time.monotonic()
    examples = corpus.load("train")
    x, _names, _scales, found = T.features(examples)
    y = T.labels(examples)
    story = np.array([reading.story_goes_on for reading in found])
    # the rules' readings without the story veto: the served decision before it
    found = [dataclasses.replace(reading, story=None) for reading in found]

    # the folds `python -m bot train` chooses its thresholds on, whole batches held out
    every = T.out_of_fold(x, y, [ex.batch for ex in examples], rule_columns=len(RULE_FEATURES))
    z = np.log(np.clip(every, 1e-9, 1 - 1e-9) / np.clip(1 - every, 1e-9, 1))

    fresh = np.array([ex.batch != "devset" and not ex.sampled for ex in examples])
    rows = np.flatnonzero(fresh)
    found_fresh = [found[i] for i in rows]
    probs = every[fresh]
    th = T.choose(y[fresh], probs)
    args = (found_fresh, probs, th)
    grid = np.arange(0.2, 0.9, 0.02)
    th[0] = T.choose_combined(*args, y[fresh, 0] == 1, 0, T.DANGER_PRECISION, grid)
    th[-1] = T.choose_combined(*args, y[fresh, -1] == 1, -1, T.URGENT_PRECISION, T.URGENT_GRID)
    judge = Classifier([], np.zeros((0, len(OUTPUTS))), np.zeros(len(OUTPUTS)), th)
    said = {i: combine(found[i], z[i], judge) for i in rows}
    well_formed = [i for i in rows if examples[i].batch.startswith(("clean", "neg-6", "neg-7"))]
    candidates = [i for i in rows if found[i].found.urgent and story[i]]
    print(
        f"{len(rows)} messages of the natural mix; {len(candidates)} with an urgent rule "
        f"match and a sentence after it"
    )

    def figures(which, veto: float | None) -> str:
        tp = fp = fn = urgent = urgent_hit = 0
        for i in which:
            ex, got = examples[i], said[i]
            if veto is not None and found[i].found.urgent and story[i] and z[i][0] < veto:
                got = None
            danger = got is not None and got.danger
            truth = ex.danger
            tp += danger and truth
            fp += danger and not truth
            fn += truth and not danger
            urgent += ex.urgent
            urgent_hit += ex.urgent and danger and got.urgent
        recall, precision = tp / max(tp + fn, 1), tp / max(tp + fp, 1)
        return (
            f"{recall:.4f}/{precision:.4f} ({fp} false, {fn} missed, urgent {urgent_hit}/{urgent})"
        )

    print(
        f"without the story veto: all {figures(rows, None)}; "
        f"well-formed {figures(well_formed, None)}"
    )
    for margin in MARGINS:
        veto = VETO_LOGIT - margin
        lost = [
            examples[i]
            for i in candidates
            if z[i][0] < veto and examples[i].danger and said[i].danger
        ]
        print(
            f"veto below {veto:+.2f}: all {figures(rows, veto)}; well-formed "
            f"{figures(well_formed, veto)}; dangers withdrawn {len(lost)}"
        )
        for ex in lost[:8]:
            print(f"    lost{' URGENT' if ex.urgent else ''}: {ex.text[:140]}")
    print(f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
