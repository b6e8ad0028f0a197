"""Measure the job-ad scanner (and the FAQ matcher): texts per second on this machine.

Usage: `.venv/bin/python -m bench.bench_scanner [--runs 5] [--seconds 1.0]`

Each run scans the test ads (tests/data/job_ads.yaml) over and over for about `--seconds`
and counts them; the median of the runs is reported with the machine it ran on, because
the machine is shared and single numbers are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import machine_table  # noqa: E402
from bot.faq import Faq  # noqa: E402
from bot.scanner import Scanner  # noqa: E402


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
    args = parser.parse_args(argv)

    ads = [ad["text"] for ad in yaml.safe_load((ROOT / "tests/data/job_ads.yaml").read_text())]
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
