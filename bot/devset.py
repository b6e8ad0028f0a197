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
from typing import Any

import yaml

from bot import LANGUAGES, ROOT
from bot.detector import CATEGORIES, Detection, Detector, default_detector

DEVSET = ROOT / "tests" / "data" / "danger_devset.yaml"
#: The aims from the issue: miss almost nothing, raise few false alarms, never miss urgency.
AIMS = {"recall": 0.97, "precision": 0.92, "urgent_recall": 1.0}


@dataclass(frozen=True)
class Item:
    """One labelled text of the development set."""

    text: str
    lang: str
    cats: tuple[str, ...]
    urgent: bool

    @property
    def danger(self) -> bool:
        """Say whether a counsellor would read danger in this text."""
        return bool(self.cats)


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
    misses: list[tuple[str, Item, Detection]] = field(default_factory=list)

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

    def failures(self) -> list[str]:
        """Return the aims that this run did not reach, as sentences."""
        rates = {
            "recall": self.recall,
            "precision": self.precision,
            "urgent_recall": self.urgent_recall,
        }
        return [
            f"{name} {rates[name]:.3f} is below the aim {aim:.2f}"
            for name, aim in AIMS.items()
            if rates[name] < aim
        ]


def load_devset(path: Path = DEVSET) -> list[Item]:
    """Read and check the development set file."""
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("kind") != "devset" or data.get("schema") != 1:
        raise ValueError(f"{path}: must start with `kind: devset` and `schema: 1`")
    items = []
    for number, raw in enumerate(data.get("items") or [], 1):
        cats = tuple(raw.get("cats") or ())
        unknown = [c for c in cats if c not in CATEGORIES]
        if unknown or raw.get("lang") not in LANGUAGES or not isinstance(raw.get("text"), str):
            raise ValueError(f"{path}: item {number} is malformed: {raw!r}")
        items.append(Item(raw["text"], raw["lang"], cats, bool(raw.get("urgent", False))))
    return items


def evaluate(detector: Detector, items: Sequence[Item]) -> Report:
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


def format_report(report: Report, show_misses: bool = False) -> str:
    """Return the report as text for the terminal."""
    lines = [
        f"development set: {report.size} texts, {report.benign} benign "
        f"({report.benign / max(report.size, 1):.0%})",
        f"recall         {report.recall:.3f}  (aim {AIMS['recall']:.2f})  "
        f"missed {report.fn} of {report.tp + report.fn}",
        f"precision      {report.precision:.3f}  (aim {AIMS['precision']:.2f})  "
        f"false alarms {report.fp} of {report.benign} benign",
        f"urgent recall  {report.urgent_recall:.3f}  (aim {AIMS['urgent_recall']:.2f})  "
        f"{report.urgent_hit} of {report.urgent_total}; "
        f"urgent raised on {report.urgent_false} non-urgent texts",
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


def devset_command(args: argparse.Namespace) -> int:
    """Print the development-set report; return 1 if an aim is not reached."""
    signals = getattr(args, "signals", None)
    detector = Detector.load(signals) if signals else default_detector()
    report = evaluate(detector, load_devset(getattr(args, "file", None) or DEVSET))
    print(format_report(report, show_misses=bool(getattr(args, "show_misses", False))))
    return 1 if report.failures() else 0
