from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.db import Database, ProcessLock, latest_version

ROOT = Path(__file__).resolve().parent.parent


def cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
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


# -- issue 11, the command line: any file name, no overwrite, the lock, owner-only files, loopback only --
NETWORKS_CSV = (
    "slug,name,acronym,founded_year,focus,scope,website,source\n"
    "pacific-ports,Pacific Port Cities,PPC,2020,trade;water,regional,https://ppc.example,Founding charter\n"
)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _migrated_with_rows(tmp_path: Path) -> Path:
    """config.toml + bot.db at the latest schema with a few known rows in `meta`."""
    write_config(tmp_path)
    r = cli(tmp_path, "db", "migrate")
    assert r.returncode == 0, r.stderr
    conn = sqlite3.connect(tmp_path / "bot.db")
    with conn:
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)", [(f"k{i}", "v" * 500) for i in range(200)]
        )
    conn.close()
    return tmp_path / "bot.db"


def _assert_complete_backup(path: Path) -> None:
    assert path.is_file(), path
    conn = sqlite3.connect(str(path.absolute()))  # an absolute plain path: never parsed as a URI
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()
        assert conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'k%'").fetchone()[0] == 200
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["backups #1?/x.db", "sauvegarde été%20.db", "100%25 sûr #2?mode=memory.db",
                                  "new folder/deeper #3/x.db"])
def test_backup_and_check_work_with_any_file_name(tmp_path: Path, name: str) -> None:
    _migrated_with_rows(tmp_path)
    if name.startswith("backups #1?"):
        (tmp_path / "backups #1?").mkdir()
    before = _files(tmp_path)
    r = cli(tmp_path, "db", "backup", name)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"schema version {latest_version()}" in r.stdout and "integrity ok" in r.stdout, r.stdout
    _assert_complete_backup(tmp_path / name)
    r = cli(tmp_path, "db", "check", name)
    assert r.returncode == 0 and "integrity: ok" in r.stdout, r.stdout + r.stderr
    assert f"database: {name}" in r.stdout
    # nothing but the backup (and its new folders) appeared; no `backups ` or `100` stray file
    new = _files(tmp_path) - before - {"bot.db-wal", "bot.db-shm"}
    parents = {str(p) for p in Path(name).parents if str(p) != "."} - before
    assert new == {name} | parents, new
    r = cli(tmp_path, "db", "backup", name)
    assert r.returncode == 3 and "already exists" in r.stderr and "Traceback" not in r.stderr
    _assert_complete_backup(tmp_path / name)


def test_database_path_with_any_file_name(tmp_path: Path) -> None:
    """database_path itself (e.g. a restored backup used as the database) may hold `#`, `?`, `%`, spaces."""
    (tmp_path / "config.toml").write_text('database_path = "data #1?/été%20 #.db"\nlog_level = "WARNING"\n',
                                          encoding="utf-8")
    r = cli(tmp_path, "db", "migrate")
    assert r.returncode == 0, r.stderr
    db_file = tmp_path / "data #1?" / "été%20 #.db"
    assert db_file.is_file()
    conn = sqlite3.connect(str(db_file))
    with conn:
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [(f"k{i}", "v") for i in range(200)])
    conn.close()
    r = cli(tmp_path, "db", "check")
    assert r.returncode == 0 and "integrity: ok" in r.stdout, r.stdout + r.stderr
    r = cli(tmp_path, "db", "backup", "copy.db")
    assert r.returncode == 0, r.stdout + r.stderr
    _assert_complete_backup(tmp_path / "copy.db")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["config.toml", "copy.db"]


def test_export_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert cli(tmp_path, "db", "migrate").returncode == 0
    (tmp_path / "net.csv").write_text(NETWORKS_CSV, encoding="utf-8")
    assert cli(tmp_path, "import", "networks", "net.csv").returncode == 0
    target = tmp_path / "out.csv"
    target.write_text("precious\n", encoding="utf-8")
    r = cli(tmp_path, "export", "networks", "out.csv")
    assert r.returncode == 2 and "already exists" in r.stderr and "--force" in r.stderr, r.stderr
    assert target.read_text(encoding="utf-8") == "precious\n"
    r = cli(tmp_path, "export", "networks", "out.csv", "--force")
    assert r.returncode == 0, r.stderr
    assert "pacific-ports" in target.read_text(encoding="utf-8")
    r = cli(tmp_path, "export", "networks", "new #1?.csv")
    assert r.returncode == 0 and "pacific-ports" in (tmp_path / "new #1?.csv").read_text(encoding="utf-8")


def test_export_never_writes_the_database_files(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert cli(tmp_path, "db", "migrate").returncode == 0
    db_file = tmp_path / "bot.db"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "link.db").symlink_to(db_file)
    (tmp_path / "wal-link.csv").symlink_to(tmp_path / "bot.db-wal")  # dangling while the bot is stopped
    os.link(db_file, tmp_path / "hard.csv")
    snapshot = db_file.read_bytes()
    for target in ("bot.db", str(db_file), "sub/../bot.db", "sub/link.db", "bot.db-wal", "bot.db-shm",
                   "bot.db.lock", "wal-link.csv", "hard.csv", "config.toml"):
        for extra in ((), ("--force",)):
            r = cli(tmp_path, "export", "networks", target, *extra)
            assert r.returncode == 2, (target, extra, r.stdout, r.stderr)
            assert "Nothing was written" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert db_file.read_bytes() == snapshot
    r = cli(tmp_path, "db", "check")
    assert r.returncode == 0 and "integrity: ok" in r.stdout


def test_writing_commands_refuse_while_the_bot_holds_the_lock(tmp_path: Path) -> None:
    write_config(tmp_path)
    assert cli(tmp_path, "db", "migrate").returncode == 0
    (tmp_path / "net.csv").write_text(NETWORKS_CSV, encoding="utf-8")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    write_config(fresh)
    held = [ProcessLock(tmp_path / "bot.db"), ProcessLock(fresh / "bot.db")]  # as a running bot holds it
    for lock in held:
        lock.acquire()
    try:
        before = (tmp_path / "bot.db").read_bytes()
        for cwd, args in (
            (fresh, ("db", "migrate")),
            (tmp_path, ("db", "seed")),
            (tmp_path, ("import", "networks", "net.csv")),
            (fresh, ("export", "networks", "x.csv")),
        ):
            r = cli(cwd, *args)
            assert r.returncode == 3, (args, r.stdout, r.stderr)
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and "stop the bot" in lines[0] and "bot.db.lock" in lines[0], r.stderr
            assert f"attache {' '.join(args[:2])}" in lines[0]
        assert (tmp_path / "bot.db").read_bytes() == before
        assert not (fresh / "bot.db").exists() or sqlite3.connect(fresh / "bot.db").execute(
            "PRAGMA user_version").fetchone()[0] == 0
        assert not (fresh / "x.csv").exists()
        # reading beside a running bot is fine
        r = cli(tmp_path, "export", "networks", "out.csv")
        assert r.returncode == 0, r.stderr
        assert cli(tmp_path, "db", "check").returncode == 0
        assert cli(tmp_path, "db", "backup", "b.db").returncode == 0
    finally:
        for lock in held:
            lock.release()
    r = cli(tmp_path, "import", "networks", "net.csv")
    assert r.returncode == 0 and "1 added" in r.stdout, r.stdout + r.stderr


def test_created_files_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_config(tmp_path)
        assert cli(tmp_path, "db", "migrate").returncode == 0
        assert cli(tmp_path, "db", "backup", "backups/today/b.db").returncode == 0
        (tmp_path / "net.csv").write_text(NETWORKS_CSV, encoding="utf-8")
        assert cli(tmp_path, "import", "networks", "net.csv").returncode == 0
        assert cli(tmp_path, "export", "networks", "out.csv").returncode == 0
        for name in ("bot.db", "bot.db.lock", "backups/today/b.db", "out.csv"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        for name in ("backups", "backups/today"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o700, name

        async def live() -> None:  # the -wal and -shm of an open database
            db = Database(tmp_path / "live" / "x.db")
            await db.connect()
            try:
                await db.migrate()
                await db.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")
                for suffix in ("", "-wal", "-shm"):
                    f = tmp_path / "live" / f"x.db{suffix}"
                    assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
                await db.backup_to(tmp_path / "live" / "online.db")
                assert stat.S_IMODE((tmp_path / "live" / "online.db").stat().st_mode) == 0o600
            finally:
                await db.close()

        asyncio.run(live())
    finally:
        os.umask(old)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_warns_when_the_config_holding_the_token_is_readable_by_others(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        'database_path = "bot.db"\nlog_level = "WARNING"\ntoken = "secret-token-xyz"\n', encoding="utf-8"
    )
    env = {"ATTACHE_DISCORD_API_BASE": f"http://127.0.0.1:{_closed_port()}/api/v10"}  # login fails at once
    for mode, warned in ((0o644, True), (0o640, True), (0o600, False)):
        cfg.chmod(mode)
        r = cli(tmp_path, "run", env=env)
        assert r.returncode == 4, r.stderr  # cannot reach the (closed) Discord
        assert ("chmod 600" in r.stderr and "config.toml" in r.stderr) is warned, (oct(mode), r.stderr)
        assert "secret-token-xyz" not in r.stderr
    # a token only in the environment: nothing to warn about
    cfg.write_text('database_path = "bot.db"\nlog_level = "WARNING"\n', encoding="utf-8")
    cfg.chmod(0o644)
    r = cli(tmp_path, "run", env={**env, "DISCORD_TOKEN": "secret-token-xyz"})
    assert r.returncode == 4 and "chmod 600" not in r.stderr, r.stderr


@pytest.mark.parametrize("var,value", [
    ("ATTACHE_DISCORD_API_BASE", "http://192.0.2.10/api/v10"),
    ("ATTACHE_DISCORD_API_BASE", "http://127.0.0.1@192.0.2.10/api/v10"),
    ("ATTACHE_DISCORD_API_BASE", "http://127.0.0.1.attache-test.invalid/api/v10"),
    ("ATTACHE_DISCORD_GATEWAY", "wss://192.0.2.10/gateway"),
])
def test_non_loopback_discord_override_is_refused(tmp_path: Path, var: str, value: str) -> None:
    write_config(tmp_path)
    t0 = time.monotonic()
    r = cli(tmp_path, "run", env={"DISCORD_TOKEN": "secret-token-xyz", var: value})
    assert r.returncode == 2, r.stderr
    assert var in r.stderr and "loopback" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert "secret-token-xyz" not in r.stderr
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / "bot.db").exists()  # refused before anything else


def test_loopback_url_rule() -> None:
    from bot.__main__ import is_loopback_url

    http = ("http", "https")
    for ok in ("http://127.0.0.1:5000/api/v10", "http://127.8.9.10/api", "http://[::1]:80/api", "https://localhost/",
               "http://LOCALHOST:1"):
        assert is_loopback_url(ok, http), ok
    for bad in ("http://10.0.0.1/api", "http://localhost.attache-test.invalid/", "http://127.0.0.1@192.0.2.1/",
                "http://user@localhost/", "file:///etc/passwd", "ws://127.0.0.1/", "http://127.0.0.1:99999/",
                "http://[::ffff:192.0.2.1]/", "http:///api", "", "127.0.0.1"):
        assert not is_loopback_url(bad, http), bad
    assert is_loopback_url("ws://127.0.0.1:1/gateway", ("ws", "wss"))
