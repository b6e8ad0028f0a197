"""Measure the danger detector on the labelled development set: `python -m bot devset`.

The set (tests/data/danger_devset.yaml) holds texts a person might type, each labelled with
the categories a counsellor would read in it ([] = harmless) and whether it is urgent. The
report gives recall (dangerous texts caught), precision (alarms that were right), urgent
recall and recall per category and per language; the command fails below the aims.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot import LANGUAGES, corpus
from bot.classifier import Classifier, default_classifier
from bot.corpus import DEVSET, Example
from bot.detector import CATEGORIES, Detection, Detector

#: The aims from the issue: miss almost nothing, raise few false alarms, never miss urgency.
AIMS = {"recall": 0.97, "precision": 0.92, "urgent_recall": 1.0, "category_recall": 0.80}


@dataclass
class Report:
    """Counts and rates of one run over the development set."""

    size: int = 0
    benign: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    urgent_total: int = 0
    urgent_hit: int = 0
    urgent_false: int = 0  # urgent raised on a text that is not urgent
    per_category: dict[str, list[int]] = field(default_factory=dict)  # [hit, total]
    per_language: dict[str, list[int]] = field(default_factory=dict)  # [tp, fn, fp]
    misses: list[tuple[str, Example, Detection]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Return the share of dangerous texts that raised an alarm."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        """Return the share of alarms raised on texts that were dangerous."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def urgent_recall(self) -> float:
        """Return the share of urgent texts the detector marked urgent."""
        return self.urgent_hit / self.urgent_total if self.urgent_total else 1.0

    @property
    def category_recall(self) -> float:
        """Return the share of labelled categories that the detector named (all together)."""
        hit = sum(h for h, _ in self.per_category.values())
        total = sum(t for _, t in self.per_category.values())
        return hit / total if total else 1.0

    def failures(self) -> list[str]:
        """Return the aims that this run did not reach, as sentences."""
        rates = {
            "recall": self.recall,
            "precision": self.precision,
            "urgent_recall": self.urgent_recall,
            "category_recall": self.category_recall,
        }
        return [
            f"{name} {rates[name]:.3f} is below the aim {aim:.2f}"
            for name, aim in AIMS.items()
            if rates[name] < aim
        ]


def load_devset(path: Path = DEVSET) -> list[Example]:
    """Read and check the development set file."""
    return corpus.read_file(path, "devset")


def evaluate(detector: Detector, items: Sequence[Example]) -> Report:
    """Run the detector on every item and count what it got right and wrong."""
    report = Report(size=len(items))
    for c in CATEGORIES:
        report.per_category[c] = [0, 0]
    for lang in LANGUAGES:
        report.per_language[lang] = [0, 0, 0]
    for item in items:
        got = detector.detect(item.text)
        per_lang = report.per_language[item.lang]
        if not item.danger:
            report.benign += 1
        if item.danger and got.danger:
            report.tp += 1
            per_lang[0] += 1
        elif item.danger:
            report.fn += 1
            per_lang[1] += 1
            report.misses.append(("missed", item, got))
        elif got.danger:
            report.fp += 1
            per_lang[2] += 1
            report.misses.append(("false alarm", item, got))
        if item.urgent:
            report.urgent_total += 1
            if got.urgent:
                report.urgent_hit += 1
            elif got.danger:
                report.misses.append(("not urgent", item, got))
        elif got.urgent:
            report.urgent_false += 1
        found = set(got.categories)
        for c in item.cats:
            report.per_category[c][1] += 1
            if c in found:
                report.per_category[c][0] += 1
            elif got.danger:
                report.misses.append((f"category {c}", item, got))
    return report


def format_report(report: Report, show_misses: bool = False, title: str = "development set") -> str:
    """Return the report as text for the terminal."""
    lines = [
        f"{title}: {report.size} texts, {report.benign} benign "
        f"({report.benign / max(report.size, 1):.0%})",
        f"recall         {report.recall:.3f}  (aim {AIMS['recall']:.2f})  "
        f"missed {report.fn} of {report.tp + report.fn}",
        f"precision      {report.precision:.3f}  (aim {AIMS['precision']:.2f})  "
        f"false alarms {report.fp} of {report.benign} benign",
        f"urgent recall  {report.urgent_recall:.3f}  (aim {AIMS['urgent_recall']:.2f})  "
        f"{report.urgent_hit} of {report.urgent_total}; "
        f"urgent raised on {report.urgent_false} non-urgent texts",
        f"category recall {report.category_recall:.3f}  (aim {AIMS['category_recall']:.2f})",
        "",
        "per language    recall  precision",
    ]
    for lang, (tp, fn, fp) in report.per_language.items():
        rec = tp / (tp + fn) if tp + fn else 1.0
        prec = tp / (tp + fp) if tp + fp else 1.0
        lines.append(f"  {lang}            {rec:.3f}   {prec:.3f}")
    lines += ["", "per category            recall"]
    for c, (hit, total) in report.per_category.items():
        rate = hit / total if total else 1.0
        lines.append(f"  {c:<22} {rate:.3f}  ({hit}/{total})")
    if show_misses and report.misses:
        lines += ["", "misses:"]
        for kind, item, got in report.misses:
            found = ",".join(got.categories) or "-"
            lines.append(f"  [{kind}] ({item.lang}) {item.text!r} -> {found}")
    failures = report.failures()
    lines += [""] + ([f"BELOW AIM: {f}" for f in failures] if failures else ["all aims reached"])
    return "\n".join(lines)


def devset_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `devset` command's options."""
    parser.add_argument("--file", type=Path, default=DEVSET, help="development set (YAML)")
    parser.add_argument(
        "--signals", type=Path, default=None, help="signals directory (default: dialogs/signals/)"
    )
    parser.add_argument(
        "--show-misses", action="store_true", help="list every miss and false alarm"
    )
    parser.add_argument(
        "--corpus",
        choices=corpus.SPLITS,
        default=None,
        help="measure a split of dialogs/signals/corpus/ instead (misses of 'test' stay hidden)",
    )
    parser.add_argument("--batches", nargs="*", default=None, help="only these corpus batches")
    parser.add_argument("--model", type=Path, default=None, help="a trained model file")
    parser.add_argument(
        "--rules-only", action="store_true", help="measure the rules without the model"
    )


def devset_command(args: argparse.Namespace) -> int:
    """Print the report; return 1 if an aim is not reached."""
    signals = getattr(args, "signals", None)
    model = getattr(args, "model", None)
    classifier = None
    if not getattr(args, "rules_only", False):
        classifier = Classifier.load(model) if model else default_classifier()
    detector = Detector.load(signals, classifier)
    split = getattr(args, "corpus", None)
    show = bool(getattr(args, "show_misses", False))
    if split:
        items = corpus.load(split, devset=False, batches=getattr(args, "batches", None))
        title = f"corpus ({split} split)"
        if show and split != "train":
            print("(misses of the test split are not shown: it must never be tuned on)")
            show = False
    else:
        items = load_devset(getattr(args, "file", None) or DEVSET)
        title = "development set"
    report = evaluate(detector, items)
    print(format_report(report, show_misses=show, title=title))
    return 1 if report.failures() else 0
