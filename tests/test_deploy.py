"""The deployment files agree with the code: the compose file's bot service and the systemd
unit start the app with settings it accepts, name no variable it would ignore, and give a stop
the time the app asks for."""

import asyncio
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import make_url

from bot.app import App
from bot.config import Settings, load_settings
from bot.durations import parse_duration

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SETTINGS = {name.upper() for name in Settings.model_fields}
UNIT_EXEC = "/opt/repairbot/bin/repairbot"
REQUIRED = {"BOT_TOKEN": "123456:deploy-test", "POSTGRES_PASSWORD": "s3cret"}
"""What the compose file insists on (`${NAME:?...}`)."""


def _services() -> dict[str, Any]:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
    return dict(compose["services"])


def _interpolate(value: str, env: dict[str, str]) -> str:
    """As docker compose does: ${NAME}, ${NAME:-default}, ${NAME:?error}."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        got = env.get(name, "")
        if op == ":?" and not got:
            raise LookupError(f"compose refuses to start: {name}: {arg}")
        return got or (arg if op == ":-" else "")

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


def _bot_environment(env: dict[str, str]) -> dict[str, str]:
    environment = _services()["bot"]["environment"]
    assert isinstance(environment, dict)
    return {key: _interpolate(str(value), env) for key, value in environment.items()}


def _settings_from(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]) -> Settings:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return load_settings(_env_file=None)


def _unit() -> dict[str, str]:
    lines = (DEPLOY / "repairbot.service").read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_the_compose_bot_polls_with_only_the_required_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings_from(monkeypatch, _bot_environment(REQUIRED))
    assert settings.webhook_url is None and settings.webhook_secret is None
    assert settings.database_url == "postgresql+asyncpg://repairbot:s3cret@db:5432/repairbot"
    assert settings.redis_url == "redis://redis:6379/0"
    assert (settings.web_host, settings.web_port) == ("0.0.0.0", 8080)
    assert _interpolate(str(_services()["bot"]["deploy"]["replicas"]), REQUIRED) == "1"
    with pytest.raises(LookupError, match="BOT_TOKEN"):
        _bot_environment({"POSTGRES_PASSWORD": "s3cret"})


def test_any_postgres_password_reaches_the_database_url_intact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A password with the characters a URL gives meaning to (it used to be pasted into the
    URL, so that `p@ss` named host `ss`)."""
    password = "p@ss:w/rd?#%+ 한글"
    env = _bot_environment({**REQUIRED, "POSTGRES_PASSWORD": password})
    url = make_url(_settings_from(monkeypatch, env).database_url)
    assert (url.username, url.password, url.host, url.port) == ("repairbot", password, "db", 5432)
    assert url.database == "repairbot"


def test_the_compose_replicas_serve_the_webhook_when_given_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        **REQUIRED,
        "WEBHOOK_URL": "https://it.hospital.example/telegram/hook",
        "WEBHOOK_SECRET": "another-long-random-string",
        "PUBLIC_URL": "https://it.hospital.example",
    }
    settings = _settings_from(monkeypatch, _bot_environment(env))
    assert settings.webhook_url == env["WEBHOOK_URL"]
    assert settings.webhook_secret_value() == env["WEBHOOK_SECRET"]
    assert settings.public_url == env["PUBLIC_URL"]


async def test_the_compose_health_check_passes_a_serving_replica_only(desk: App) -> None:
    """The container's check, run as docker would, against a running app's port."""
    [kind, *command] = _services()["bot"]["healthcheck"]["test"]
    assert kind == "CMD" and command[0] == "python"
    port = urlsplit(desk.web_url).port
    for target, passes in ((f"127.0.0.1:{port}", True), ("127.0.0.1:1", False)):
        argv = [sys.executable, *(part.replace("127.0.0.1:8080", target) for part in command[1:])]
        checked = await asyncio.create_subprocess_exec(*argv, stderr=asyncio.subprocess.DEVNULL)
        assert (await checked.wait() == 0) is passes, target


def test_every_variable_the_deployment_names_is_a_setting() -> None:
    named = set(_bot_environment(REQUIRED))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    named |= set(re.findall(r"^#?\s*([A-Z][A-Z_]+)=", example, flags=re.MULTILINE))
    assert named - SETTINGS == set()
    assert {"BOT_TOKEN", "DATABASE_URL", "WEBHOOK_URL", "REDIS_URL"} <= named


def test_a_stop_gets_the_time_the_app_asks_for() -> None:
    """The README: keep twice SHUTDOWN_GRACE (updates in hand, then the sender's batch) under
    the service manager's stop timeout."""
    needed = 2 * Settings.model_fields["shutdown_grace"].default
    assert parse_duration(str(_services()["bot"]["stop_grace_period"])) >= needed
    assert parse_duration(_unit()["TimeoutStopSec"] + "s") >= needed
    assert _unit()["KillSignal"] == "SIGTERM"


def test_the_image_and_the_unit_run_the_installed_command() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["repairbot"] == "bot.cli:main"
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert 'CMD ["repairbot", "run"]' in dockerfile
    for copied in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE):
        for source in copied.split():
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is not here"
    assert _unit()["ExecStart"] == f"{UNIT_EXEC} run"
    help_text = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert help_text.startswith("usage: repairbot run")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """systemd's own check, with ExecStart pointed at the command this checkout installed."""
    command = Path(sys.executable).with_name("repairbot")
    assert command.exists()
    unit = (DEPLOY / "repairbot.service").read_text(encoding="utf-8")
    (tmp_path / "repairbot.service").write_text(unit.replace(UNIT_EXEC, str(command)))
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "repairbot.service")],
        check=False,
        capture_output=True,
        text=True,
    )
    assert (verified.returncode, verified.stderr) == (0, "")
