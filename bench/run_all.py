"""Run every benchmark, one after another, and collect their tables into one Markdown file.

    python bench/run_all.py                  # everything, full size (about 20 minutes)
    python bench/run_all.py --quick          # CI smoke: each bench tiny; never judges timings
    python bench/run_all.py --only web load  # some of them

Each bench runs in its own process with a time limit; a bench that fails or times out is
reported and the others still run. The exit code is non-zero only if a bench crashed or
did not print its table (in full mode also if the load test lost an answer); numbers are
never judged here: benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

#: name -> (full command, quick command, marker its output must contain, time limit in s)
BENCHES: dict[str, tuple[list[str], list[str], str, int]] = {
    "detector": (
        ["bench/bench_detector.py"],
        ["bench/bench_detector.py", "--runs", "1", "--seconds", "0.2"],
        "texts",
        300,
    ),
    "scanner": (
        ["bench/bench_scanner.py"],
        ["bench/bench_scanner.py", "--runs", "1", "--seconds", "0.2"],
        "ads",
        300,
    ),
    "step": (
        ["-m", "bench.bench_step"],
        ["-m", "bench.bench_step", "--quick"],
        "model's share",
        300,
    ),
    "web": (["-m", "bench.bench_web"], ["-m", "bench.bench_web", "--quick"], "| ratio", 900),
    "telegram": (
        ["-m", "bench.bench_telegram"],
        ["-m", "bench.bench_telegram", "--quick"],
        "| ratio",
        600,
    ),
    "scale": (
        ["-m", "bench.bench_scale"],
        ["-m", "bench.bench_scale", "--quick"],
        "start to /readyz",
        1500,
    ),
    "load": (["-m", "bench.load"], ["-m", "bench.load", "--quick"], "lost answers", 600),
}


def run_one(name: str, quick: bool, out_dir: Path) -> tuple[bool, str, float]:
    """Run one bench; return whether it completed with its table, its output, and seconds."""
    full, short, marker, limit = BENCHES[name]
    command = [PYTHON, *(short if quick else full)]
    if name not in ("detector", "scanner"):
        command += ["--json", str(out_dir / f"{name}.json")]
    began = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=limit if not quick else min(limit, 300),
        )
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"").decode() if isinstance(error.stdout, bytes) else ""
        return (
            False,
            f"{output}\n(timed out after {error.timeout:g} s)",
            time.perf_counter() - began,
        )
    output = done.stdout + (f"\n{done.stderr[-3000:]}" if done.returncode else "")
    # The load test exits 1 when it lost an answer: that is a finding, not a crash.
    crashed = done.returncode not in ((0, 1) if name == "load" else (0,))
    ok = not crashed and marker in done.stdout
    if name == "load" and done.returncode == 1 and not quick:
        ok = False
    return ok, output, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benches and write their tables to one file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run for CI")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), help="run only these")
    parser.add_argument(
        "--out", help="results folder (bench/results; with --quick a temporary one)"
    )
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = tempfile.mkdtemp(prefix="bench-") if args.quick else str(ROOT / "bench/results")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = []
    failed = []
    for name in args.only or list(BENCHES):
        print(f"== {name} ...", flush=True)
        ok, output, seconds = run_one(name, args.quick, out_dir)
        print(output, flush=True)
        print(f"== {name}: {'ok' if ok else 'FAILED'} in {seconds:.0f} s", flush=True)
        sections.append(f"<!-- {name}: {'ok' if ok else 'FAILED'}, {seconds:.0f} s -->\n{output}")
        if not ok:
            failed.append(name)
    report = out_dir / ("quick.md" if args.quick else "latest.md")
    report.write_text("\n\n".join(sections), encoding="utf-8")
    print(f"Wrote {report}")
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
