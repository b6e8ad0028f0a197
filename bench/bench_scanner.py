"""Measure the job-ad scanner: how often it is right on the written ads, and how fast it is.

Usage: `.venv/bin/python -m bench.bench_scanner [--runs 5] [--seconds 1.0]`
       `.venv/bin/python -m bench.bench_scanner --quality [--show dev]`

`--quality` scores the written ads (tests/data/job_ads*.yaml): the share of risky ads
flagged and of sound ads left quiet, per batch and per part. Each ad belongs to the dev or
the frozen test part by a hash of its text (`split_of`), fixed before any tuning, so the
test part is never tuned on; `--show dev` lists the dev ads it gets wrong (never the test
ones).

The speed run scans the ads over and over for about `--seconds` and counts them; the
median of the runs is reported with the machine it ran on, because the machine is shared
and single numbers are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_table  # noqa: E402
from bot.corpus import ADS_TEST_EVERY, Ad, ad_split_of, load_ads  # noqa: E402
from bot.faq import Faq  # noqa: E402
from bot.scanner import Scanner  # noqa: E402

#: One ad in this many is in the frozen test part (the ads and their parts: `bot/corpus.py`).
TEST_EVERY = ADS_TEST_EVERY
split_of = ad_split_of


@dataclass
class Score:
    """Risky ads flagged and sound ads left quiet, with the ads each got wrong."""

    risky: int = 0
    flagged: int = 0
    sound: int = 0
    quiet: int = 0
    written_for: int = 0
    raised: int = 0
    wrong: list[tuple[Ad, list[str]]] = field(default_factory=list)

    def add(self, ad: Ad, ids: list[str]) -> None:
        """Count one scanned ad."""
        if ad.risky:
            self.risky += 1
            self.flagged += bool(ids)
        else:
            self.sound += 1
            self.quiet += not ids
        if ad.must:
            self.written_for += 1
            self.raised += set(ad.must) <= set(ids)
        if bool(ids) != ad.risky:
            self.wrong.append((ad, ids))

    @property
    def recall(self) -> float:
        """Return the share of risky ads flagged."""
        return self.flagged / self.risky if self.risky else 1.0

    @property
    def quiet_rate(self) -> float:
        """Return the share of sound ads left quiet."""
        return self.quiet / self.sound if self.sound else 1.0

    def line(self) -> str:
        """Return the two figures with their counts."""
        return (
            f"risky flagged {self.flagged}/{self.risky} = {self.recall:.2f}; "
            f"sound quiet {self.quiet}/{self.sound} = {self.quiet_rate:.2f}; "
            f"flag written for raised {self.raised}/{self.written_for}"
        )


def score(scanner: Scanner, ads: list[Ad]) -> Score:
    """Scan `ads` and count what the scanner got right."""
    result = Score()
    for ad in ads:
        result.add(ad, scanner.scan(ad.text).ids)
    return result


def quality(scanner: Scanner, show_dev: bool = False) -> None:
    """Print the scores per batch and part, and optionally the dev ads it gets wrong."""
    ads = load_ads()
    for batch in sorted({a.batch for a in ads}):
        for part in ("dev", "test"):
            chosen = [a for a in ads if a.batch == batch and a.split == part]
            print(f"{batch:4} {part:4} ({len(chosen):3} ads): {score(scanner, chosen).line()}")
    for part in ("dev", "test"):
        chosen = [a for a in ads if a.split == part]
        print(f"all  {part:4} ({len(chosen):3} ads): {score(scanner, chosen).line()}")
    print(f"all  both ({len(ads):3} ads): {score(scanner, ads).line()}")
    if show_dev:
        for ad, ids in score(scanner, [a for a in ads if a.split == "dev"]).wrong:
            kind = "MISSED" if ad.risky else "FALSE ALARM"
            print(f"\n{kind} {ad.id} {ids}\n{ad.text.strip()}")


def rate(work: Callable[[str], object], texts: list[str], seconds: float) -> float:
    """Return texts handled per second, cycling through `texts` for about `seconds`."""
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for text in texts:
            work(text)
        done += len(texts)
    return done / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--quality", action="store_true", help="score the written ads")
    parser.add_argument("--show", choices=["dev"], help="with --quality: list dev mistakes")
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    if args.quality:
        quality(Scanner.load(today=args.today), show_dev=args.show == "dev")
        return 0

    ads = [ad.text for ad in load_ads()]
    questions = [
        "Can my employer keep my passport?",
        "Ar agentūra gali imti mokestį?",
        "Что делать если не платят зарплату?",
        "Чи можна працювати по туристичній візі?",
        "Hello, how are you?",
    ]
    started = time.perf_counter()
    scanner = Scanner.load()
    faq = Faq.load()
    load_ms = (time.perf_counter() - started) * 1000
    scanner.scan(ads[0])  # warm the caches once
    faq.match(questions[0])

    scan_rates = [rate(scanner.scan, ads, args.seconds) for _ in range(args.runs)]
    faq_rates = [rate(faq.match, questions, args.seconds) for _ in range(args.runs)]
    chars = statistics.mean(len(a) for a in ads)

    print(machine_table())
    print(f"loading scanner.yaml, wages.yaml and faq.yaml: {load_ms:.0f} ms")
    print(
        f"scanner: median {statistics.median(scan_rates):,.0f} ads/s over {args.runs} runs "
        f"(min {min(scan_rates):,.0f}, max {max(scan_rates):,.0f}; "
        f"{len(ads)} ads, {chars:.0f} characters on average)"
    )
    print(
        f"faq: median {statistics.median(faq_rates):,.0f} questions/s "
        f"(min {min(faq_rates):,.0f}, max {max(faq_rates):,.0f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
