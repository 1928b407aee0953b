"""The `repairbot` command as an operator runs it: exit codes and one-line errors."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import DEPARTMENTS_CSV

ROOT = Path(__file__).resolve().parents[1]


def repairbot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    clean["PYTHONPATH"] = str(ROOT)
    clean.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_run_without_token_says_so_in_one_line(tmp_path: Path) -> None:
    done = repairbot(tmp_path, "run")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: BOT_TOKEN is not set: put the token from @BotFather in it"
    ]


def test_malformed_setting_is_named(tmp_path: Path) -> None:
    done = repairbot(tmp_path, "migrate", DATABASE_URL="mysql://root@localhost/x")
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "error: DATABASE_URL is invalid: only sqlite and postgresql URLs are supported"
    )
    done = repairbot(tmp_path, "run", BOT_TOKEN="nonsense")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: BOT_TOKEN is invalid: must look like")


def test_migrate_and_import(tmp_path: Path) -> None:
    assert repairbot(tmp_path, "migrate").returncode == 0
    tables = {
        r[0]
        for r in sqlite3.connect(tmp_path / "cli.db").execute(
            "select name from sqlite_master where type='table'"
        )
    }
    assert {"tickets", "ticket_events", "staff", "departments", "assets", "outbox"} <= tables
    csv = tmp_path / "departments.csv"
    csv.write_text(DEPARTMENTS_CSV, encoding="utf-8")
    done = repairbot(tmp_path, "import", "departments", str(csv))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported departments: 5 rows (5 new, 0 updated)"
    done = repairbot(tmp_path, "import", "departments", str(csv))
    assert done.stdout.strip() == "imported departments: 5 rows (0 new, 5 updated)"


def test_bad_import_aborts_with_line_number(tmp_path: Path) -> None:
    bad = tmp_path / "staff.csv"
    bad.write_text("telegram_id,name,role,department,zones,language\n1,A,engineer,,,ko\n")
    done = repairbot(tmp_path, "import", "staff", str(bad))
    assert done.returncode == 1
    assert (
        f"error: {bad}: line 2: an engineer needs at least one zone (nothing was imported)"
        in done.stderr
    )
    missing = repairbot(tmp_path, "import", "assets", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1
    assert "no such file" in missing.stderr
