"""The labelled messages the detector learns from and is measured on.

Two sources, one format (`{lang, cats, urgent?, danger?, text}` items, see
`dialogs/signals/corpus/README.md`):

- `dialogs/signals/corpus/*.yaml`: batches of messages written as people type them on a
  phone. Each message belongs to the train or the test split by a hash of its text, fixed
  before any training (`split_of`), so the test split is never tuned on and a new batch
  splits the same way on every machine.
- `tests/data/danger_devset.yaml`: the development set the rules were written against; all
  of it is training data for the text features (see `bot/train.py`).

Labels are made consistent on load: urgent and `immediate_danger` mean the same thing (a
risk to life or liberty right now), so each implies the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot import LANGUAGES, ROOT
from bot.detector import CATEGORIES
from bot.flows import fast_load
from bot.text import normalize

CORPUS_DIR = ROOT / "dialogs" / "signals" / "corpus"
DEVSET = ROOT / "tests" / "data" / "danger_devset.yaml"
#: One message in this many is in the test split.
TEST_EVERY = 5
SPLITS = ("train", "test", "all")


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    lang: str
    cats: tuple[str, ...]
    urgent: bool
    danger: bool
    batch: str
    #: from a batch that over-samples one kind of message (`sampled: true`): it teaches the
    #: model, but thresholds and figures are chosen on the natural mix of the other batches
    sampled: bool = False

    @property
    def split(self) -> str:
        """Return "train" or "test" (see `split_of`)."""
        return "train" if self.batch == "devset" else split_of(self.text)


def split_of(text: str) -> str:
    """Return the fixed split of a corpus message: a hash of its normalised text decides."""
    return "test" if in_test_part(text, TEST_EVERY) else "train"


def in_test_part(text: str, every: int) -> bool:
    """Say whether a text falls in a frozen test part of one in `every`, by a hash of its
    normalised text alone (so the part is the same on every machine and before any tuning)."""
    digest = hashlib.sha256(normalize(text).encode("utf-8")).digest()
    return digest[0] % every == 0


class CorpusError(ValueError):
    """A corpus file is malformed; the message names the file and the item."""


def read_file(path: Path, batch: str | None = None) -> list[Example]:
    """Read one corpus or devset file into examples, checking every label."""
    data = fast_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("kind") not in ("corpus", "devset"):
        raise CorpusError(f"{path.name}: must start with `kind: corpus` (or devset)")
    batch = batch or str(data.get("batch") or path.stem)
    sampled = data.get("sampled") is True
    items = data.get("items")
    if not isinstance(items, list):
        raise CorpusError(f"{path.name}: `items` must be a list")
    examples = []
    for number, item in enumerate(items, 1):
        where = f"{path.name}: item {number}"
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise CorpusError(f"{where}: needs `text`")
        cats = item.get("cats")
        if not isinstance(cats, list) or any(c not in CATEGORIES for c in cats):
            raise CorpusError(f"{where}: `cats` must list categories from {CATEGORIES}")
        if item.get("lang") not in LANGUAGES:
            raise CorpusError(f"{where}: `lang` must be one of {LANGUAGES}")
        urgent = bool(item.get("urgent")) or "immediate_danger" in cats
        cats = [c for c in cats if c != "immediate_danger"]
        if urgent:
            cats.append("immediate_danger")
        danger = bool(cats) or bool(item.get("danger"))
        examples.append(
            Example(item["text"], item["lang"], tuple(cats), urgent, danger, batch, sampled)
        )
    return examples


def load(
    split: str = "all", *, devset: bool = True, batches: Iterable[str] | None = None
) -> list[Example]:
    """Return the examples of a split (devset items are all train), duplicates dropped."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}")
    wanted = set(batches) if batches is not None else None
    examples: list[Example] = []
    if devset and split != "test" and (wanted is None or "devset" in wanted):
        examples += read_file(DEVSET, "devset")
    for path in sorted(CORPUS_DIR.glob("*.yaml")):
        found = read_file(path)
        if wanted is None or (found and found[0].batch in wanted):
            examples += found
    seen: set[str] = set()
    unique = []
    for example in examples:
        key = normalize(example.text)
        if key in seen or (split != "all" and example.split != split):
            continue
        seen.add(key)
        unique.append(example)
    return unique


# --- the written job ads (the scanner's, issue 14) --------------------------------------

ADS_DIR = ROOT / "tests" / "data"
#: One written ad in this many is in the frozen test part.
ADS_TEST_EVERY = 3


@dataclass(frozen=True)
class Ad:
    """One written ad: is it risky (should be flagged), which batch, which part."""

    id: str
    text: str
    risky: bool
    batch: str
    must: tuple[str, ...] = ()

    @property
    def split(self) -> str:
        """Return "dev" or "test" (see `ad_split_of`)."""
        return ad_split_of(self.text)


def ad_split_of(text: str) -> str:
    """Return the fixed part of an ad: a hash of its normalised text decides."""
    return "test" if in_test_part(text, ADS_TEST_EVERY) else "dev"


def load_ads(part: str = "all") -> list[Ad]:
    """Read the written ads of a part ("dev", "test" or "all"): job_ads.yaml (exact flags,
    batch b1) and the batches job_ads_*.yaml. A batch is one writer's ads."""
    if part not in ("dev", "test", "all"):
        raise ValueError("part must be dev, test or all")
    ads = []
    for path in sorted(ADS_DIR.glob("job_ads*.yaml")):
        batch = path.stem.removeprefix("job_ads").lstrip("_") or "b1"
        for raw in fast_load(path.read_text("utf-8")):
            risky = bool(raw["flags"]) if "flags" in raw else bool(raw["risky"])
            must = tuple(raw.get("must") or ())
            ad = Ad(raw["id"], raw["text"], risky, batch, must)
            if part == "all" or ad.split == part:
                ads.append(ad)
    return ads
