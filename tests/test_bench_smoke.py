"""The benchmarks keep working: each runs in its quick mode and prints its table.

Benchmarks are not tests, so nothing here looks at a timing; a bench that crashes, hangs or
stops printing its table fails this smoke test. The load test must still lose no answer.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def test_every_bench_runs_in_quick_mode_and_prints_its_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "bench/run_all.py", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1100,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    report = (tmp_path / "quick.md").read_text(encoding="utf-8")
    for heading in (
        "## Web step vs baseline",
        "## Telegram webhook step vs a bare PTB handler",
        "## Scale, memory and start-up",
        "## Load: 20 concurrent conversations",
    ):
        assert heading in report, f"{heading!r} missing from the quick run"
    assert "| ratio (throughput) |" in report
    # The load table's last column is the count of lost answers.
    load_row = next(line for line in report.splitlines() if line.startswith("| SQLite, 1 worker"))
    assert load_row.strip(" |").split("|")[-1].strip() == "0", load_row
    for name in ("web", "telegram", "scale", "load"):
        assert (tmp_path / f"{name}.json").exists(), f"{name} wrote no raw numbers"
