"""What the scanner's ad model adds to rules that have not seen a writer (dev ads only).

Usage: `.venv/bin/python -m bench.bench_scanner_unseen`

The rules in `dialogs/scanner.yaml` were tuned on every dev ad, so on the dev part they are
always right and rules + model can only read 1.00 there. For an honest view, each of the
batches below is read by the scanner **as it was before it was tuned on that batch** (the
commit named in bench/README.md, taken with `git archive` into a temporary folder and run
in a child process), and the model's score for each ad comes from a model that never read
its batch (out of fold, one fold per batch, as `python -m bot train --ads` chooses its
thresholds). The thresholds are the shipped model's. Only dev ads are read; the test part
is never touched.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import corpus  # noqa: E402
from bot.admodel import AdModel  # noqa: E402
from bot.scanner import Scanner  # noqa: E402
from bot.train import ADS_TODAY, combine_ads, out_of_fold, text_matrix  # noqa: E402

#: The scanner each batch was first measured with, before any tuning on it.
BEFORE_TUNING = {
    "b4": "96654c1",
    "b5": "58482c6",
    "b6": "691f6e0",
    "b7": "d546a85",
    "b8": "0246cbd",
    # batch 26: `main` when it was added (the scanner and ad model of batch 25)
    "b26": "34aaa8f",
}
_READ = """
import json, sys
from datetime import date
sys.path.insert(0, sys.argv[1])
from bot.scanner import Scanner
scanner = Scanner.load(today=date.fromisoformat(sys.argv[2]))
print(json.dumps([scanner.scan(text).ids for text in json.load(sys.stdin)]))
"""


def old_rules(
    commit: str, texts: list[str], overlay: tuple[str, str] | None = None
) -> list[list[str]]:
    """Return the flag ids the scanner of `commit` raises on each text; `overlay` (commit,
    path) lays one file of another commit over the old tree."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "archive", commit, "bot", "dialogs"], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        if overlay is not None:
            source, path = overlay
            shown = subprocess.run(
                ["git", "show", f"{source}:{path}"], cwd=ROOT, capture_output=True, check=True
            )
            (Path(folder) / path).write_bytes(shown.stdout)
        done = subprocess.run(
            [sys.executable, "-c", _READ, folder, ADS_TODAY.isoformat()],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
            cwd=folder,
        )
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    """Print risky flagged and sound quiet per batch: rules before tuning, with the model."""
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    ads = corpus.load_ads("dev")
    x, _names, _idf = text_matrix([ad.text for ad in ads])
    y = np.array([[ad.risky] for ad in ads], dtype=np.int8)
    groups = [ad.batch for ad in ads]
    probs = out_of_fold(x, y, groups, folds=len(set(groups)))[:, 0]
    model = AdModel.load()
    thresholds = {"raise": model.raise_at}
    weight = {f.id: f.weight for f in Scanner.load(model=False, compile=False).flags}
    print(f"thresholds {thresholds}; rules before tuning on each batch, model out of fold")
    print(
        f"{'batch':5}  {'commit':7}  {'risky flagged: rules / both':30}  sound quiet: rules / both"
    )
    total = np.zeros(6, dtype=int)
    for batch, commit in BEFORE_TUNING.items():
        rows = [i for i, ad in enumerate(ads) if ad.batch == batch]
        ids = old_rules(commit, [ads[i].text for i in rows])
        rules = np.array([bool(found) for found in ids])
        both = combine_ads(ids, probs[rows], thresholds, weight)
        risky = y[rows, 0] == 1
        counts = np.array(
            [
                rules[risky].sum(),
                both[risky].sum(),
                risky.sum(),
                (~rules[~risky]).sum(),
                (~both[~risky]).sum(),
                (~risky).sum(),
            ]
        )
        total += counts
        print(f"{batch:5}  {commit}  {_line(counts)}")
    print(f"{'all':5}  {'':7}  {_line(total)}")
    return 0


def _line(c: np.ndarray) -> str:
    return f"{f'{c[0]}/{c[2]} / {c[1]}/{c[2]}':30}  {c[3]}/{c[5]} / {c[4]}/{c[5]}"


if __name__ == "__main__":
    raise SystemExit(main())
