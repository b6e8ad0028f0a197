"""How many ads the weak flags alone raise, on ads the scanner had never seen (dev ads only).

Usage: `.venv/bin/python -m bench.bench_scanner_weak`

The weak flags are those of weight 2 or less in `dialogs/scanner.yaml` (`no_company`,
`messenger_only`, `urgency`). Each fresh batch's dev part is read by the scanner **as it was
before it was tuned on that batch**: its rules and the ad model it shipped then (which had
not read the batch), from the commit below, run as `bench/bench_scanner_unseen.py` runs an
old tree. For each batch it counts the sound ads flagged, and those flagged only by weak
flags (they would be left quiet if weak flags alone raised nothing), and the same for the
risky ads (they would be missed), and which weak flags they were. Only dev ads are read; the
test part is never touched. These sets chose the scanner's rule (`WEAK_TOGETHER`): one weak
sign alone raises no warning (sound 26 times, risky 28 over b4-b26), two or more do (sound
twice, risky 29 times).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_scanner_unseen import BEFORE_TUNING  # noqa: E402
from bench.bench_scanner_unseen import old_rules as unseen_rules  # noqa: E402
from bot import corpus  # noqa: E402
from bot.scanner import Scanner  # noqa: E402

#: The scanner each batch was first read with, before any tuning on it: b4-b8 as in
#: bench_scanner_unseen.py; from b9 on the parent of the commit that added the batch (the
#: batch's own commit may hold the rules learnt from it).
BEFORE = {
    **{batch: commit for batch, commit in BEFORE_TUNING.items() if batch != "b26"},
    "b9": "29ebbcd",
    "b10": "36acd47",
    "b11": "ac3bb4a",  # b11 was added after b12's round
    "b12": "27498a5",
    "b13": "67aa5a1",
    "b14": "d17a434",
    "b15": "d2a345f",
    "b16": "b4e526a",
    "b17": "c909177",
    "b18": "d55c467",
    "b19": "2265074",
    "b20": "2265074",
    "b21": "318de3a",
    "b22": "318de3a",
    "b23": "2fce694",
    "b24": "5e46752",
    "b25": "cd5f67d",
    "b26": BEFORE_TUNING["b26"],
}
#: b18's scanner stalled for minutes on its crewing agencies' wage tables; the fix that came
#: with the batch (863f0f1, `compile_pattern` only: "every other ad's findings unchanged")
#: is laid over the old tree, nothing else of that commit.
OVERLAY = {"b18": ("863f0f1", "bot/scanner.py")}
WEAK_WEIGHT = 2


def old_rules(batch: str, texts: list[str]) -> list[list[str]]:
    """Return the flag ids the scanner before tuning on `batch` raises on each text."""
    return unseen_rules(BEFORE[batch], texts, OVERLAY.get(batch))


def main(argv: list[str] | None = None) -> int:
    """Print, per batch, sound and risky dev ads flagged, and those flagged by weak flags only."""
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    weights = {f.id: f.weight for f in Scanner.load(model=False, compile=False).flags}
    weak = {fid for fid, w in weights.items() if w <= WEAK_WEIGHT}
    ads = corpus.load_ads("dev")
    print(f"weak flags (weight <= {WEAK_WEIGHT}): {', '.join(sorted(weak))}")
    print(
        f"{'batch':5}  {'commit':7}  {'sound: flagged / weak only':27}  risky: flagged / weak only"
    )
    total = Counter()
    sets = Counter()
    rows = []
    chosen_of = {b: [ad for ad in ads if ad.batch == b] for b in BEFORE}
    with ThreadPoolExecutor(max_workers=2) as pool:  # each old tree runs in its own process
        read = pool.map(lambda b: old_rules(b, [ad.text for ad in chosen_of[b]]), BEFORE)
        found_of = dict(zip(BEFORE, read, strict=True))
    for batch, commit in BEFORE.items():
        chosen = chosen_of[batch]
        ids = found_of[batch]
        c = Counter()
        for ad, found in zip(chosen, ids, strict=True):
            kind = "risky" if ad.risky else "sound"
            c[kind] += 1
            c[f"{kind}_flagged"] += bool(found)
            if found and set(found) <= weak:
                c[f"{kind}_weak"] += 1
                sets[(kind, tuple(sorted(found)))] += 1
        total.update(c)
        rows.append((batch, commit, c))
        print(f"{batch:5}  {commit}  {_line(c)}")
    print(f"{'all':5}  {'':7}  {_line(total)}")
    later = Counter()
    for batch, _commit, c in rows:
        if int(batch[1:]) >= 9:
            later.update(c)
    print(f"{'b9+':5}  {'':7}  {_line(later)}")
    print("\nweak-only flag sets:")
    for (kind, found), n in sorted(sets.items(), key=lambda kv: (kv[0][0], -kv[1])):
        print(f"  {kind}  {n:3}  {' + '.join(found)}")
    return 0


def _line(c: Counter) -> str:
    sound = f"{c['sound_flagged']}/{c['sound']} / {c['sound_weak']}"
    return f"{sound:27}  {c['risky_flagged']}/{c['risky']} / {c['risky_weak']}"


if __name__ == "__main__":
    raise SystemExit(main())
