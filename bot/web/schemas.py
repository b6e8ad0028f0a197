"""The web API's request and response bodies (named …In / …Out, as in the OpenAPI docs)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot import LANGUAGES
from bot.i18n import normalize_language

# The same rule as Telegram deep links (bot.campaigns), so a code works in every channel.
# Empty means no campaign. `fullmatch`: `$` alone would also let a final newline through.
CAMPAIGN_PATTERN = r"^[A-Za-z0-9_-]{0,64}$"
CAMPAIGN = re.compile(CAMPAIGN_PATTERN)
#: What `normalize_language` understands: our four languages, their other codes, a region.
LANG_PATTERN = (
    r"^([lL][tT]|[lL][iI][tT]|[rR][uU]|[rR][uU][sS]|[uU][kK]|[uU][aA]|[uU][kK][rR]|"
    r"[eE][nN]|[eE][nN][gG])([-_][A-Za-z0-9]{1,8}){0,3}$"
)
MAX_TEXT_FIELD = 8000


class ConversationIn(BaseModel):
    """Start a conversation, optionally in a chosen language and for a campaign."""

    model_config = ConfigDict(extra="forbid")

    lang: str | None = Field(
        default=None,
        max_length=16,
        json_schema_extra={"pattern": LANG_PATTERN},
        description="lt, ru, uk or en (a region such as uk-UA is fine); else Accept-Language",
    )
    campaign: str | None = Field(
        default=None,
        max_length=64,
        json_schema_extra={"pattern": CAMPAIGN_PATTERN},
        description="campaign code from the link (?c=), if any: letters, digits, _ and -",
    )

    @field_validator("lang")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        lang = normalize_language(value) if re.fullmatch(LANG_PATTERN, value) else None
        if lang is None:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return lang

    @field_validator("campaign")
    @classmethod
    def _campaign_code(cls, value: str | None) -> str | None:
        if value is not None and not CAMPAIGN.fullmatch(value):
            raise ValueError("use letters, digits, '_' or '-' (up to 64)")
        return value or None


class MessageIn(BaseModel):
    """What the person did: typed `text`, or pressed the button with id `choice` (one of them)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["text"]}, {"required": ["choice"]}]},
    )

    # Typed `str` with a None default: the schema says "a string", and an explicit null is
    # refused like any other wrong type (it would make both or neither ambiguous).
    text: str = Field(default=None, max_length=MAX_TEXT_FIELD)  # type: ignore[assignment]
    choice: str = Field(default=None, min_length=1, max_length=128)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _exactly_one(self) -> MessageIn:
        if (self.text is None) == (self.choice is None):
            raise ValueError("send either 'text' or 'choice', not both and not neither")
        return self


class ChoiceOut(BaseModel):
    """A button: send its `id` back as `choice`."""

    id: str
    label: str


class ContactOut(BaseModel):
    """A hotline card; `phone` is meant for a `tel:` link."""

    name: str
    country: str
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    hours: str | None = None
    languages: list[str] = []
    note: str | None = None


class MessageOut(BaseModel):
    """One bot message."""

    kind: Literal["info", "question", "result", "handoff"]
    text: str
    choices: list[ChoiceOut] = []
    contacts: list[ContactOut] = []


class ConversationOut(BaseModel):
    """A new conversation. The token is shown only here: keep it for every later call."""

    id: str
    token: str
    lang: str
    messages: list[MessageOut]


class MessagesOut(BaseModel):
    """The bot's answer, and the conversation's language after it (it may have switched)."""

    messages: list[MessageOut]
    lang: str
