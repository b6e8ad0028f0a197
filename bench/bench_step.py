"""What the detector costs a conversation step: engine turns with and without its model.

In process, no HTTP and no database: the engine as `serve` builds it (`build_engine()`),
fed the typed messages of the web bench and the detector bench's realistic mix (80 % short
texts, 20 % several sentences, a quarter of the words with typos), mid-flow. For each it
times whole engine turns (`Engine.turn`, which runs the detector first, then the FAQ, the
scanner, translation) three ways, interleaved, several runs, medians of CPU time:

- typed, rules + model: the detector as served (rules, then the statistical layer);
- typed, rules only: the same engine with the detector's model switched off for the run;
- button: a press of one of the shown choices (no detector at all).

The difference between the first two is what the statistical layer costs a typed step; the
web bench gives what a whole step costs (HTTP, token, store), so the share is plain to see.

    python -m bench.bench_step            # ~30 s
    python -m bench.bench_step --quick
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from bench.bench_detector import rate, workloads
from bench.common import emit, fmt, machine_table, table
from bench.web_flow import TEXTS
from bot.model import Pick, Start, Text
from bot.runtime import build_engine


def mid_flow_states(engine: Any, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Return states a few buttons into the job-offer, romance or risk flow."""
    states = []
    for index in range(count):
        state, replies = engine.advance(None, Start(lang=("en", "lt", "ru", "uk")[index % 4]))
        for _ in range(rng.randrange(1, 5)):
            ids = [c.id for r in replies for c in r.choices]
            wanted = [i for i in ids if i.startswith(("menu.main.", "job_offer.", "romance."))]
            if not wanted:
                break
            state, replies = engine.advance(state, Pick(rng.choice(wanted)))
        states.append(state)
    return states


def time_turns(engine: Any, states: list[dict], events: list[Any], seconds: float) -> float:
    """Return CPU microseconds per turn, turning the states with the events for `seconds`."""
    done = 0
    started = time.process_time()
    while True:
        for state, event in zip(states, events, strict=True):
            engine.turn(state, event)
        done += len(events)
        elapsed = time.process_time() - started
        if elapsed >= seconds:
            return elapsed / done * 1e6


def time_detect(detector: Any, texts: list[str], seconds: float) -> float:
    """Return CPU microseconds per `detector.detect` call alone."""
    return 1e6 / rate(detector, texts, seconds)


def buttons(engine: Any, states: list[dict]) -> list[Any]:
    """Return one press of a shown choice for each state."""
    events = []
    for state in states:
        _, replies = engine.advance(state, Pick("show"))
        ids = [c.id for r in replies for c in r.choices if not c.id.startswith("lang")]
        events.append(Pick(ids[0] if ids else "menu"))
    return events


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure; print the table; return the raw numbers."""
    rng = random.Random(11)
    engine = build_engine()
    detector = engine.detector
    model = detector.classifier
    mix = workloads()["mixed"]
    typed = {
        "web bench texts": list(TEXTS),
        "realistic mix": rng.sample(mix, min(len(mix), args.texts)),
    }
    results: dict[str, Any] = {}
    rows = []
    for name, texts in typed.items():
        states = mid_flow_states(engine, len(texts), rng)
        events = [Text(t) for t in texts]
        presses = buttons(engine, states)
        runs: dict[str, list[float]] = {
            "model": [],
            "rules": [],
            "button": [],
            "detect model": [],
            "detect rules": [],
        }
        for _ in range(args.runs):
            for label in ("model", "rules", "button"):
                detector.classifier = None if label == "rules" else model
                chosen = presses if label == "button" else events
                time_turns(engine, states, chosen, args.seconds / 5)  # warm caches
                runs[label].append(time_turns(engine, states, chosen, args.seconds))
            for label in ("detect model", "detect rules"):
                detector.classifier = None if label == "detect rules" else model
                runs[label].append(time_detect(detector, texts, args.seconds / 2))
        detector.classifier = model
        med = {label: statistics.median(values) for label, values in runs.items()}
        words = sum(len(t.split()) for t in texts) / len(texts)
        rows.append(
            [
                name,
                str(len(texts)),
                fmt(words),
                fmt(med["model"], 0),
                fmt(med["rules"], 0),
                fmt(med["model"] - med["rules"], 0),
                fmt(med["detect model"], 0),
                fmt(med["detect rules"], 0),
                fmt(med["button"], 0),
                fmt(1e6 / med["model"], 0),
            ]
        )
        results[name] = {"runs_us": runs, "median_us": med, "texts": len(texts), "words": words}
    headers = [
        "typed texts",
        "texts",
        "words avg",
        "typed turn, rules + model µs",
        "typed turn, rules only µs",
        "model's share µs",
        "detect() alone, rules + model µs",
        "detect() alone, rules only µs",
        "button turn µs",
        "typed turns/s per core",
    ]
    text = table(headers, rows)
    text += (
        f"\n\nCPU time per engine turn (`Engine.turn`, detector first), medians of {args.runs} "
        f"run(s) of {args.seconds:g} s each, interleaved. The model's share is what the "
        "detector's statistical layer adds to a typed step; compare it with the web bench's "
        "server CPU per step.\n\n" + machine_table()
    )
    emit("Detector in the step", text, results, args.json)
    return results


def main(argv: list[str] | None = None) -> int:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per run")
    parser.add_argument("--texts", type=int, default=400, help="texts from the mix")
    parser.add_argument("--json", help="also write raw numbers here")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.seconds, args.texts = 1, 0.1, 40
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
