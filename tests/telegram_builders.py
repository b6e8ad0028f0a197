"""Small factories for real Telegram `Update` JSON: a typed message, a command, a button press.

Every test person is a `TgUser`; the JSON is what Telegram would post to a webhook or return
from getUpdates, so the bot parses it with PTB's own `Update.de_json`.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

_message_ids = itertools.count(1_000_000)
_query_ids = itertools.count(1)


@dataclass(frozen=True)
class TgUser:
    """A person talking to the bot in a private chat (their chat id is their user id)."""

    id: int
    language_code: str | None = "en"
    first_name: str = "Olena"
    username: str = "olena_k"

    def json(self) -> dict[str, Any]:
        """Return the `User` object."""
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": self.username,
        }
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat(self) -> dict[str, Any]:
        """Return the private `Chat` with this person."""
        return {"id": self.id, "type": "private", "first_name": self.first_name}


def message(user: TgUser, text: str, *, age: float = 0.0) -> dict[str, Any]:
    """Return an update with a text message typed `age` seconds ago."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time() - age),
        "chat": user.chat(),
        "from": user.json(),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"message": body}


def command(user: TgUser, name: str, payload: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """Return an update with `/name` (and a deep-link payload) as Telegram sends it."""
    return message(user, f"/{name}" + (f" {payload}" if payload else ""), **kwargs)


def photo(user: TgUser, caption: str | None = None) -> dict[str, Any]:
    """Return an update with a photo and no text."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": user.chat(),
        "from": user.json(),
        "photo": [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}],
    }
    if caption:
        body["caption"] = caption
    return {"message": body}


def media(user: TgUser, kind: str) -> dict[str, Any]:
    """Return an update carrying a voice message, video note or sticker, and no text."""
    parts = {
        "voice": {"file_id": "AwAD", "file_unique_id": "AgAD", "duration": 4},
        "video_note": {"file_id": "DQAD", "file_unique_id": "AgAE", "length": 240, "duration": 3},
        "sticker": {
            "file_id": "CAAD",
            "file_unique_id": "AgAF",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    }
    return {
        "message": {
            "message_id": next(_message_ids),
            "date": int(time.time()),
            "chat": user.chat(),
            "from": user.json(),
            kind: parts[kind],
        }
    }


def press(user: TgUser, bot_message: dict[str, Any], data: str) -> dict[str, Any]:
    """Return an update for pressing the button with callback `data` under `bot_message`."""
    return {
        "callback_query": {
            "id": str(next(_query_ids)),
            "from": user.json(),
            "chat_instance": f"ci{user.id}",
            "data": data,
            "message": bot_message,
        }
    }


def group_message(user: TgUser, text: str) -> dict[str, Any]:
    """Return an update with a message in a group the bot was added to."""
    update = message(user, text)
    update["message"]["chat"] = {"id": -100123, "type": "group", "title": "Friends"}
    return update


def topic_message(user: TgUser, chat_id: int, thread: int, text: str) -> dict[str, Any]:
    """Return an update with a message a member wrote in a forum topic of group `chat_id`."""
    update = message(user, text)
    update["message"]["chat"] = {
        "id": chat_id,
        "type": "supergroup",
        "title": "Counsellors",
        "is_forum": True,
    }
    update["message"]["message_thread_id"] = thread
    update["message"]["is_topic_message"] = True
    return update
