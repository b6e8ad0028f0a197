"""Logging without personal data: plain text or one JSON object per line (LOG_FORMAT=json).

Nothing here ever receives free text or ids: callers log categories, counts and pseudonym
prefixes only. The JSON formatter also drops `args` it does not know to be safe.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "error"
        return json.dumps(data, ensure_ascii=False)


def setup_logging(fmt: str | None = None, level: str | None = None) -> None:
    """Configure the root logger once, from LOG_FORMAT and LOG_LEVEL."""
    fmt = (fmt or os.environ.get("LOG_FORMAT", "text")).lower()
    level = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries log request URLs, which for Telegram contain the bot token.
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
