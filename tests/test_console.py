"""The console channel from a real pipe: `python -m bot chat --lang xx`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot import ROOT
from bot.i18n import default_translator


def chat(lines: list[str], *args: str, tmp_path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: the child imports this tree's `bot`, not an installed copy.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("lang", ["lt", "ru", "uk", "en"])
def test_chat_holds_a_conversation_in_each_language_from_a_pipe(lang, tmp_path):
    result = chat(["1", "3", "/menu"], "--lang", lang, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    tr = default_translator()
    assert tr.gettext(lang, "What would you like to do?") in result.stdout
    assert tr.gettext(lang, "Check a job offer")[:10] in result.stdout or "[1]" in result.stdout
    assert "[1]" in result.stdout and "> 1" in result.stdout
    assert "Traceback" not in result.stderr


def test_chat_ends_cleanly_at_eof_and_without_input(tmp_path):
    result = chat([], "--lang", "en", tmp_path=tmp_path)
    assert result.returncode == 0
    assert "What would you like to do?" in result.stdout


def test_chat_without_language_asks_for_one(tmp_path):
    result = chat(["3"], tmp_path=tmp_path)
    assert result.returncode == 0
    assert "Choose your language" in result.stdout
    assert default_translator().gettext("ru", "What would you like to do?") in result.stdout


def test_chat_leaves_no_conversation_behind(tmp_path):
    result = chat(["1", "1"], "--lang", "en", tmp_path=tmp_path)
    assert result.returncode == 0
    import sqlite3

    db = sqlite3.connect(tmp_path / "data" / "safe_abroad.db")
    assert db.execute("select count(*) from conversations").fetchone()[0] == 0
