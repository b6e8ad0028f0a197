"""Logging without personal data: plain text or one JSON object per line (LOG_FORMAT=json).

Nothing here ever receives free text or ids: callers log categories and counts. As a last
line of defence, `NoIdentifiers` blanks anything shaped like a pseudonym or a prefix of one
(eight or more hex digits), so a log line cannot be matched to a conversation.
"""

from __future__ import annotations

import json
import logging
import os
import re
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


#: A pseudonym (64 hex digits) or a prefix of one, as a whole word or before "…".
_HEX_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{8,64}(?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Replace pseudonym-shaped hex strings in `text` with "(someone)"."""
    return _HEX_ID.sub("(someone)", text)


class NoIdentifiers(logging.Filter):
    """Blank pseudonyms and their prefixes in every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(fmt: str | None = None, level: str | None = None) -> None:
    """Configure the root logger once, from LOG_FORMAT and LOG_LEVEL."""
    fmt = (fmt or os.environ.get("LOG_FORMAT", "text")).lower()
    level = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(NoIdentifiers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries log request URLs, which for Telegram contain the bot token.
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
