"""Shared fixtures: the real content, a fresh engine, and an in-memory conversation service."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import DIALOGS_DIR, LOCALES_DIR

# Tests never read a developer's .env or write into the repository's ./data.
os.environ.setdefault("PSEUDONYM_SECRET", "test-pseudonym-secret")


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
