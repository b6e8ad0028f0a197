"""Shared fixtures: the real content, a fresh engine, and an in-memory conversation service."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import DIALOGS_DIR, LOCALES_DIR

# Child processes (`python -m bot ...` from a temporary folder) import this checkout's code,
# not whichever copy of the package the virtual environment has installed.
_CHECKOUT = str(Path(__file__).resolve().parent.parent)
if _CHECKOUT not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (_CHECKOUT, os.environ.get("PYTHONPATH", "")) if p
    )

# Tests never read a developer's .env or write into the repository's ./data.
os.environ.setdefault("PSEUDONYM_SECRET", "test-pseudonym-secret-0123456789abcdef-padding")


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def engine():
    """The engine with the repository's real flows, catalogs, detector and contacts."""
    from bot.runtime import build_engine

    return build_engine(DIALOGS_DIR, LOCALES_DIR)


@pytest.fixture
def service(engine):
    """A conversation service over an in-memory store."""
    from bot.service import Conversations
    from bot.store import InMemoryStore

    return Conversations(engine, InMemoryStore())


# The store's database fixtures (SQLite per test, PostgreSQL where it runs).
from tests.db_fixtures import *  # noqa: E402, F403
