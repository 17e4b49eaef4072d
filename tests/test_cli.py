from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=60
    )


def write_config(tmp_path: Path) -> Path:
    p = tmp_path / "config.toml"
    p.write_text('database_path = "bot.db"\nlog_level = "WARNING"\n', encoding="utf-8")
    return p


def test_help_lists_subcommands(tmp_path: Path) -> None:
    r = cli(tmp_path, "--help")
    assert r.returncode == 0
    for word in ("run", "db"):
        assert word in r.stdout
    r = cli(tmp_path, "db", "--help")
    for word in ("migrate", "backup", "check"):
        assert word in r.stdout


def test_run_without_token_explains(tmp_path: Path) -> None:
    write_config(tmp_path)
    r = cli(tmp_path, "run")
    assert r.returncode != 0
    assert "DISCORD_TOKEN" in r.stderr and "discord.com/developers" in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_config_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('log_level = "LOUD"\n', encoding="utf-8")
    r = cli(tmp_path, "db", "check")
    assert r.returncode == 2
    assert "log_level" in r.stderr and "Traceback" not in r.stderr


def test_db_migrate_check_backup(tmp_path: Path) -> None:
    write_config(tmp_path)
    r = cli(tmp_path, "db", "migrate")
    assert r.returncode == 0, r.stderr
    assert "migrated" in r.stdout
    r = cli(tmp_path, "db", "migrate")
    assert "already at schema version" in r.stdout
    r = cli(tmp_path, "db", "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "integrity: ok" in r.stdout
    r = cli(tmp_path, "db", "backup", "copy.db")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "copy.db").exists()
    r = cli(tmp_path, "db", "backup", "copy.db")
    assert r.returncode != 0 and "already exists" in r.stderr


def test_db_check_on_foreign_file(tmp_path: Path) -> None:
    write_config(tmp_path)
    (tmp_path / "bot.db").write_text("not a database\n" * 20)
    r = cli(tmp_path, "db", "check")
    assert r.returncode == 3
    assert "not an SQLite database" in r.stderr
