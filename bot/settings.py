"""Typed settings from the environment (and `.env`), named as in DESIGN.md.

Secrets that are not given are generated once and kept under the data folder, so a
restart keeps pseudonyms stable and a newcomer needs no configuration at all. That is a
convenience for one process on one machine: `production_problems` lists what a
production-like set-up (PostgreSQL, a Telegram webhook, several workers) must set itself.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import os
import secrets
import time
from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import ROOT

#: Shortest secret accepted (PSEUDONYM_SECRET, TELEGRAM_WEBHOOK_SECRET, ADMIN_TOKEN, files).
MIN_SECRET_LENGTH = 32


class SecretFileError(RuntimeError):
    """A kept secret file exists but is empty, short or unreadable: refuse to guess."""


def private_folder(path: Path) -> None:
    """Create `path` (and parents) readable by this user only (0700 for the last part)."""
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not ours to change (a mounted volume): keep going
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)


def _read_secret(path: Path) -> str:
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretFileError(
            f"{path} holds no usable secret ({len(value)} characters, at least "
            f"{MIN_SECRET_LENGTH} needed). If it was just created by a crash, delete it; if "
            "conversations were keyed with it, restore it from a backup."
        )
    return value


def _kept_secret(path: Path, *, wait: float = 5.0) -> str:
    """Return the secret stored at `path`, creating it (mode 600) on first use.

    The file appears all at once (written to a temporary name, fsynced, then linked in
    place), so another process never reads it half-written, and two processes starting
    together agree on one value: the first link wins, the other reads it.
    """
    if path.exists():
        return _read_secret(path)
    private_folder(path.parent)
    value = secrets.token_urlsafe(32)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(value)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # fails if another process was first
        except FileExistsError:
            deadline = time.monotonic() + wait
            while True:
                try:
                    return _read_secret(path)
                except SecretFileError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    return value


def _derived_secret(key: bytes, label: str) -> str:
    """Return a URL-safe secret derived from `key` (the same on every replica)."""
    digest = hmac.new(key, f"safe-abroad {label} v1".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


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
    #: Sites that may frame /chat (the widget's host sites). Unset or blank: this site only
    #: ('self'); a list replaces that default (add 'self' to it to keep this site).
    frame_ancestors: str = "'self'"
    telegram_bot_username: str = ""
    #: Web API requests per minute per client address / per conversation (None: built-in
    #: defaults; 0 turns the limit off). Each worker process counts on its own.
    rate_limit_per_address: float | None = None
    rate_limit_per_conversation: float | None = None
    #: Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses or
    #: networks, comma-separated ("127.0.0.1", "172.16.0.0/12"). Empty: no one's.
    trusted_proxies: str = ""
    #: A web conversation untouched this long is closed: its token stops working.
    web_idle_minutes: int = 120
    #: "Write to a counsellor" (off unless COUNSELLOR_CHAT_ID is set): the NGO's Telegram
    #: forum group, who they are, when and in which languages they answer (bot.counsellor).
    counsellor_chat_id: int | None = None
    counsellor_organisation: str = ""
    counsellor_hours: str = ""
    counsellor_timezone: str = "Europe/Vilnius"
    counsellor_languages: str = ""
    counsellor_wait_minutes: int = 10
    #: How workers hand a counsellor's answer to the one holding the person's web
    #: connection: "postgres" (LISTEN/NOTIFY; the default on PostgreSQL) or "local" (one process).
    relay_bus: str = ""

    @field_validator("counsellor_chat_id", mode="before")
    @classmethod
    def _empty_chat(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator(
        "telegram_bot_token",
        "admin_token",
        "pseudonym_secret",
        "telegram_webhook_secret",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("pseudonym_secret", "telegram_webhook_secret", "admin_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters "
                '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.replace(",", " ").split():
            if part == "*":
                continue
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an address or network") from None
        return value

    def trusted_proxy_list(self) -> list[str]:
        """Return TRUSTED_PROXIES as a list (empty: trust no forwarding headers)."""
        return self.trusted_proxies.replace(",", " ").split()

    def resolved_database_url(self) -> str:
        """Return DATABASE_URL, or a SQLite file under the data folder."""
        if self.database_url:
            return self.database_url
        private_folder(self.data_dir)
        return f"sqlite+aiosqlite:///{self.data_dir / 'safe_abroad.db'}"

    def pseudonym_key(self) -> bytes:
        """Return the HMAC key for pseudonyms, generated and kept on first run."""
        if self.pseudonym_secret:
            return self.pseudonym_secret.get_secret_value().encode()
        return _kept_secret(self.data_dir / "pseudonym.secret").encode()

    def webhook_secret(self) -> str:
        """Return the Telegram webhook secret.

        Unset, it is derived from an explicit PSEUDONYM_SECRET, so every replica that shares
        that secret registers and checks the same value; else generated and kept.
        """
        if self.telegram_webhook_secret:
            return self.telegram_webhook_secret.get_secret_value()
        if self.pseudonym_secret:
            return _derived_secret(self.pseudonym_key(), "telegram webhook")
        return _kept_secret(self.data_dir / "webhook.secret")

    def counsellor_problems(self) -> list[str]:
        """Say what is wrong with the counsellor relay's configuration (empty: fine or off)."""
        from bot.counsellor import DeskError, desk_from_settings

        if self.counsellor_chat_id is None:
            return []
        problems = []
        try:
            desk_from_settings(self)
        except DeskError as error:
            problems += str(error).split("; ")
        if not self.telegram_bot_token:
            problems.append(
                "COUNSELLOR_CHAT_ID needs TELEGRAM_BOT_TOKEN (counsellors answer in Telegram)"
            )
        if self.relay_bus not in ("", "local", "postgres"):
            problems.append("RELAY_BUS must be postgres or local")
        on_postgres = self.resolved_database_url().startswith("postgresql")
        if self.relay_bus == "postgres" and not on_postgres:
            problems.append("RELAY_BUS=postgres needs a PostgreSQL DATABASE_URL")
        return problems

    def counsellor_warnings(self) -> list[str]:
        """Say when the relay is half configured and therefore off without a word.

        A warning, not a problem: clearing COUNSELLOR_CHAT_ID is how an NGO pauses the
        relay, and `serve` must still start then.
        """
        if self.counsellor_chat_id is not None:
            return []
        named = [
            name
            for name, value in (
                ("COUNSELLOR_ORGANISATION", self.counsellor_organisation),
                ("COUNSELLOR_HOURS", self.counsellor_hours),
                ("COUNSELLOR_LANGUAGES", self.counsellor_languages),
            )
            if value.strip()
        ]
        if not named:
            return []
        return [
            f"{', '.join(named)} set but COUNSELLOR_CHAT_ID is not: "
            '"Write to a counsellor" is off until it is'
        ]

    def production_problems(self, workers: int = 1) -> list[str]:
        """Say what a production-like set-up must configure instead of generating it.

        A generated key kept next to the database lets anyone with a copy of the data
        folder recompute pseudonyms; and several processes or replicas each generate
        their own unless they share one folder.
        """
        reasons = []
        if self.database_url.startswith("postgresql"):
            reasons.append("DATABASE_URL is PostgreSQL")
        if self.telegram_bot_token and self.public_base_url:
            reasons.append("Telegram runs by webhook (PUBLIC_BASE_URL)")
        if workers > 1:
            reasons.append(f"--workers {workers}")
        if reasons and not self.pseudonym_secret:
            return [
                "PSEUDONYM_SECRET must be set (at least "
                f"{MIN_SECRET_LENGTH} characters, kept away from the database) because "
                + " and ".join(reasons)
            ]
        return []
