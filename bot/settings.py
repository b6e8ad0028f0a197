"""Typed settings from the environment (and `.env`), named as in DESIGN.md.

Secrets that are not given are generated once and kept under the data folder, so a
restart keeps pseudonyms stable and a newcomer needs no configuration at all.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import ROOT


def _kept_secret(path: Path) -> str:
    """Return the secret stored at `path`, creating it (mode 600) on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(value, encoding="utf-8")
    return value


class Settings(BaseSettings):
    """All configuration of the bot; every key is documented in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = ROOT / "data"
    database_url: str = ""
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    public_base_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    pseudonym_secret: SecretStr | None = None
    admin_token: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    retention_days: int = 30
    log_format: str = "text"
    log_level: str = "INFO"
    frame_ancestors: str = "*"
    telegram_bot_username: str = ""
    #: Web API requests per minute per client address / per conversation (None: built-in
    #: defaults; 0 turns the limit off). Each worker process counts on its own.
    rate_limit_per_address: float | None = None
    rate_limit_per_conversation: float | None = None

    @field_validator("telegram_bot_token", "admin_token", "pseudonym_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    def resolved_database_url(self) -> str:
        """Return DATABASE_URL, or a SQLite file under the data folder."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.data_dir / 'safe_abroad.db'}"

    def pseudonym_key(self) -> bytes:
        """Return the HMAC key for pseudonyms, generated and kept on first run."""
        if self.pseudonym_secret:
            return self.pseudonym_secret.get_secret_value().encode()
        return _kept_secret(self.data_dir / "pseudonym.secret").encode()

    def webhook_secret(self) -> str:
        """Return the Telegram webhook secret, generated and kept on first run."""
        if self.telegram_webhook_secret:
            return self.telegram_webhook_secret.get_secret_value()
        return _kept_secret(self.data_dir / "webhook.secret")
