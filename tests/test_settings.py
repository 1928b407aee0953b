"""Settings: defaults, URL normalisation, and one clear line per bad value."""

from datetime import timedelta

import pytest

from bot.config import ConfigError, load_settings
from bot.durations import parse_duration


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("BOT_TOKEN", "DATABASE_URL", "TELEGRAM_API_URL", "AUTO_CLOSE_AFTER", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///repairbot.db"
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.auto_close_after == timedelta(hours=72)


def test_plain_urls_get_async_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/rb")
    assert load_settings().database_url == "postgresql+asyncpg://u:p@db:5432/rb"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    assert load_settings().database_url == "sqlite+aiosqlite:///x.db"


def test_a_database_password_is_quoted_into_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://repairbot@db/rb")
    monkeypatch.setenv("DATABASE_PASSWORD", "a@b/c")
    assert load_settings().database_url == "postgresql+asyncpg://repairbot:a%40b%2Fc@db/rb"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    with pytest.raises(ConfigError, match="DATABASE_PASSWORD is for PostgreSQL"):
        load_settings()


def test_dotenv_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("BOT_TOKEN=123:abc\nAUTO_CLOSE_AFTER=90s\n")
    settings = load_settings()
    assert settings.token() == "123:abc"
    assert settings.auto_close_after == timedelta(seconds=90)


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET", "PUBLIC_URL", "DATABASE_URL"):
        monkeypatch.setenv(name, "")
    settings = load_settings()
    assert (settings.webhook_url, settings.webhook_secret, settings.public_url) == (None,) * 3
    assert settings.database_url == "sqlite+aiosqlite:///repairbot.db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("DATABASE_URL", "postgresql+psycopg2://x/y"),
        ("BOT_TOKEN", "not a token"),
        ("TELEGRAM_API_URL", "ftp://example"),
        ("AUTO_CLOSE_AFTER", "soon"),
        ("TIMEZONE", "Mars/Olympus"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{name} is invalid:")
    assert "\n" not in message


def test_missing_token_is_named_when_needed() -> None:
    with pytest.raises(ConfigError, match=r"^BOT_TOKEN is not set"):
        load_settings().token()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(minutes=90)),
        ("3d", timedelta(days=3)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "10", "5x", "0s", "h", "-5m"])
def test_bad_durations_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)
