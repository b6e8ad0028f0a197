"""Conversation transcripts (typed line → expected output) replayed through the console channel.

Each `tests/transcripts/*.yaml` file is one conversation in one language; see
`dialogs/README.md` for how content authors write them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import LANGUAGES
from bot.console import ConsoleSession

FILES = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))


def test_transcripts_cover_all_four_languages():
    langs = {yaml.safe_load(f.read_text(encoding="utf-8"))["lang"] for f in FILES}
    assert langs == set(LANGUAGES)


SCRIPTS = {f.stem: yaml.safe_load(f.read_text(encoding="utf-8")) for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
async def test_transcript(path: Path, service):
    script = SCRIPTS[path.stem]
    session = ConsoleSession(service, f"transcript-{path.stem}", script["lang"], None)
    output = await session.start()
    for number, turn in enumerate(script["turns"], 1):
        if "send" in turn:
            output = await session.send(str(turn["send"]))
        where = f"{path.name} turn {number} (sent {turn.get('send')!r})"
        for expected in turn.get("expect", []):
            assert str(expected).lower() in output.lower(), (
                f"{where}: missing {expected!r}\n{output}"
            )
        for unwanted in turn.get("absent", []):
            assert str(unwanted).lower() not in output.lower(), f"{where}: unexpected {unwanted!r}"
