"""The web API's request and response bodies (named …In / …Out, as in the OpenAPI docs)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot import LANGUAGES
from bot.i18n import normalize_language

# The same rule as Telegram deep links (bot.campaigns), so a code works in every channel.
CAMPAIGN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT_FIELD = 8000


class ConversationIn(BaseModel):
    """Start a conversation, optionally in a chosen language and for a campaign."""

    model_config = ConfigDict(extra="forbid")

    lang: str | None = Field(
        default=None, max_length=16, description="lt, ru, uk or en; else from Accept-Language"
    )
    campaign: str | None = Field(
        default=None, max_length=64, description="campaign code from the link (?c=), if any"
    )

    @field_validator("lang")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        lang = normalize_language(value)
        if lang is None:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return lang

    @field_validator("campaign")
    @classmethod
    def _campaign_code(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not CAMPAIGN.match(value):
            raise ValueError("use letters, digits, '.', '_' or '-' (up to 64)")
        return value


class MessageIn(BaseModel):
    """What the person did: typed `text`, or pressed the button with id `choice`."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=MAX_TEXT_FIELD)
    choice: str | None = Field(default=None, min_length=1, max_length=128)

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
