"""One Settings object, read from the environment and `.env`."""

import hashlib
import re
from datetime import time, timedelta
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.durations import parse_duration

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}
Language = Literal["ko", "en", "zh"]
"""A language the bot speaks: Korean (the default), English, Simplified Chinese."""
SUPPORTED_LANGUAGES: tuple[Language, ...] = get_args(Language)


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    # An empty variable counts as unset: docker compose passes `${WEBHOOK_URL:-}` as "".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///repairbot.db"
    database_password: SecretStr | None = None
    """Put into `database_url` with the quoting a URL needs, so that any password works (the
    compose file passes POSTGRES_PASSWORD here rather than pasting it into the URL)."""
    telegram_api_url: str = "https://api.telegram.org"
    bot_username: str | None = None
    default_language: str = "ko"
    timezone: str = "Asia/Seoul"
    auto_close_after: timedelta = timedelta(hours=72)
    auto_close_check_every: timedelta = timedelta(minutes=1)
    outbox_poll_every: timedelta = timedelta(seconds=2)
    outbox_per_chat_rate: float = Field(default=1.0, gt=0)
    outbox_overall_rate: float = Field(default=30.0, gt=0)
    voice_max_seconds: int = 120
    sla_policy: Path | None = None
    sla_scan_every: timedelta = timedelta(seconds=30)
    summary_time: time | None = time(8, 0)
    inspection_check_every: timedelta = timedelta(hours=1)
    inspections_per_day: int = Field(default=20, ge=0)
    vosk_model_path: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    redis_url: str | None = None
    leader_retry: timedelta = timedelta(seconds=5)
    shutdown_grace: timedelta = timedelta(seconds=10)
    flood_limit: int = Field(default=20, ge=1)
    flood_window: timedelta = timedelta(seconds=10)
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None
    dashboard_secret: SecretStr | None = None
    dashboard_link_ttl: timedelta = timedelta(hours=12)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        left, sep, right = raw.partition(":")
        if not (sep and left.isdigit() and right and " " not in raw):
            raise ValueError("must look like 123456:ABC-DEF... (from @BotFather)")
        return SecretStr(raw)

    @field_validator("database_url")
    @classmethod
    def _async_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"cannot parse {value!r}") from exc
        backend = url.get_backend_name()
        if backend not in _ASYNC_DRIVERS:
            raise ValueError("only sqlite and postgresql URLs are supported")
        if "+" not in url.drivername:
            url = url.set(drivername=_ASYNC_DRIVERS[backend])
        if url.drivername not in _ASYNC_DRIVERS.values():
            raise ValueError(f"use {_ASYNC_DRIVERS[backend]}://... (async driver)")
        return url.render_as_string(hide_password=False)

    @model_validator(mode="after")
    def _password_into_url(self) -> "Settings":
        if self.database_password is not None:
            url = make_url(self.database_url)
            if url.get_backend_name() == "sqlite":
                raise ValueError("DATABASE_PASSWORD is for PostgreSQL; SQLite has none")
            url = url.set(password=self.database_password.get_secret_value())
            self.database_url = url.render_as_string(hide_password=False)
        return self

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("Telegram only posts to https:// URLs")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must look like redis://host:6379/0")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("telegram_api_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", name):
            raise ValueError("must be the bot's @username, e.g. hospital_it_bot")
        return name

    @field_validator("vosk_model_path")
    @classmethod
    def _model_dir(cls, value: str | None) -> str | None:
        if value is not None and not (Path(value) / "am").is_dir():
            raise ValueError(f"{value!r} is not a Vosk model directory (no am/ inside)")
        return value

    @field_validator("summary_time", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        """`SUMMARY_TIME=off` (or empty) turns the daily summary off."""
        return None if isinstance(value, str) and value.strip().lower() in {"", "off"} else value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator(
        "auto_close_after",
        "auto_close_check_every",
        "outbox_poll_every",
        "sla_scan_every",
        "inspection_check_every",
        "dashboard_link_ttl",
        "flood_window",
        "leader_retry",
        "shutdown_grace",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def webhook_path(self) -> str:
        """Where the web server takes Telegram's posts: the path of WEBHOOK_URL."""
        return urlsplit(self.webhook_url or "").path or "/webhook"

    def webhook_secret_value(self) -> str | None:
        return self.webhook_secret.get_secret_value() if self.webhook_secret else None

    def link_secret(self) -> bytes:
        """The key that signs dashboard links: DASHBOARD_SECRET, else one derived from the
        bot token (so every replica agrees without another setting)."""
        if self.dashboard_secret is not None:
            return self.dashboard_secret.get_secret_value().encode()
        return hashlib.sha256(b"repairbot-dashboard:" + self.token().encode()).digest()

    def token(self) -> str:
        if self.bot_token is None:
            raise ConfigError("BOT_TOKEN is not set: put the token from @BotFather in it")
        return self.bot_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's report into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name} is invalid: {message}") from None
