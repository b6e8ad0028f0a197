"""Benchmark the danger detector: texts per second on one core (not a test).

Run: `python bench/bench_detector.py` (optionally `--runs 5 --seconds 2`). It prints the
machine, the rules alone on the short texts, then the whole detector (rules and the
statistical layer, as `serve` runs it) as the median of N runs for three workloads:

- short: the development-set texts (four languages, 3-20 words), with the per-word cache warm
- mixed: 80 % short texts, 20 % long ones (several sentences), a quarter of all words given a
  random typo or number so that many words are new to the cache, as in real traffic
- cold:  the short texts through a freshly loaded detector with every cache emptied (each
  word is stemmed, transliterated and looked up for the first time)

Rates are texts per CPU-second of this one process (`time.process_time`), pinned to one core,
so other work on a shared machine does not distort them. The target from the issue is at
least 20,000 short texts per second on one core.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine_table
from bot.classifier import Classifier
from bot.detector import Detector
from bot.devset import load_devset
from bot.text import (
    _language_features,
    normalize_token,
    stem,
    translit_to_cyrillic,
)

TARGET = 20_000


def mutate(text: str, rng: random.Random) -> str:
    """Give about a quarter of the words a typo or a number, as real messages have."""
    words = text.split()
    for i, word in enumerate(words):
        roll = rng.random()
        if roll < 0.15 and len(word) > 3:
            j = rng.randrange(1, len(word) - 1)
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        elif roll < 0.25:
            words[i] = f"{word}{rng.randrange(100)}"
    return " ".join(words)


def workloads(seed: int = 7) -> dict[str, list[str]]:
    """Build the short and mixed text lists."""
    rng = random.Random(seed)
    short = [item.text for item in load_devset()]
    mixed: list[str] = []
    for _ in range(4):
        for text in short:
            if rng.random() < 0.2:
                story = " ".join(rng.sample(short, 8))
                mixed.append(mutate(story, rng))
            else:
                mixed.append(mutate(text, rng))
    return {"short": short, "mixed": mixed}


def rate(detector: Detector, texts: list[str], seconds: float) -> float:
    """Return texts per second, detecting the list over and over for about `seconds`."""
    done = 0
    start = time.process_time()
    while True:
        for text in texts:
            detector.detect(text)
        done += len(texts)
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return done / elapsed


def cold_rate(texts: list[str]) -> float:
    """Return texts per second for a detector that has seen none of the words yet."""
    for cached in (stem, translit_to_cyrillic, normalize_token, _language_features):
        cached.cache_clear()
    detector = Detector.load(classifier=Classifier.load())
    start = time.process_time()
    for text in texts:
        detector.detect(text)
    return len(texts) / (time.process_time() - start)


def main() -> int:
    """Run the benchmark and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    print(machine_table())
    started = time.process_time()
    detector = Detector.load(classifier=Classifier.load())
    clf = detector.classifier
    print(
        f"load: {time.process_time() - started:.2f} s, {detector.rule_count} patterns, "
        f"model of {len(clf.index):,} features"
    )
    loads = workloads()
    rules = Detector.load()
    rate(rules, loads["short"], 0.5)
    rules_only = statistics.median([rate(rules, loads["short"], args.seconds) for _ in range(3)])
    print(f"rules only, short: median {rules_only:>9,.0f} texts/s (the layer before the model)")
    for name, texts in loads.items():
        words = sum(len(t.split()) for t in texts) / len(texts)
        rate(detector, texts, 0.5)  # warm the caches
        runs = [rate(detector, texts, args.seconds) for _ in range(args.runs)]
        print(
            f"{name:<6} {len(texts):>5} texts, {words:4.1f} words avg: "
            f"median {statistics.median(runs):>9,.0f} texts/s "
            f"(runs: {', '.join(f'{r:,.0f}' for r in runs)})"
        )
    colds = [cold_rate(loads["short"]) for _ in range(args.runs)]
    print(
        f"cold   {len(loads['short']):>5} texts: median {statistics.median(colds):>9,.0f} texts/s"
    )
    short = statistics.median([rate(detector, loads["short"], args.seconds) for _ in range(3)])
    verdict = "meets" if short >= TARGET else "BELOW"
    print(f"target {TARGET:,} short texts/s on one core: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
