"""Broken and foreign files: imports, config, database files, a read-only database, a full disk.

Each case must end in a clear message (ephemeral in Discord; one line and a non-zero exit on the
command line, never a traceback), with nothing partly written (whole-database checksums before and
after, see tests/test_permission_matrix.db_snapshot), and reads keep working where they can.

How the storage faults are simulated (the tests run as root in CI containers, where chmod does not
stop writes):
* read-only database: `PRAGMA query_only=ON` on the bot's own connection. SQLite then refuses
  every write with SQLITE_READONLY ("attempt to write a readonly database"), the same error a
  read-only file gives, through the same code path (transaction → ROLLBACK → error funnel).
* full disk: `PRAGMA max_page_count` set to the current page count on the bot's connection, so a
  write that needs a new page fails with SQLITE_FULL ("database or disk is full").
* the scheduler's result flush on a full disk: the jobs UPDATE raises that same
  sqlite3.OperationalError (injected; an in-place UPDATE may not need a new page).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main as cli_main
from bot.app import create_bot
from bot.db import Database, DatabaseError
from bot.sandbox.emulation import FakeDiscord, FakeDiscordTimeout, run_bot
from bot.scheduler import Job, Scheduler
from tests.e2e import World, make_config, populate
from tests.test_permission_matrix import add_mou, db_path, db_snapshot, share_practice, snapshot_diff

ROOT = Path(__file__).resolve().parent.parent
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    + bytes(200)
)
GOOD_HEADER = "city,country_iso2,network_slug,since_year,source\n"
BROKEN_IMPORTS: dict[str, tuple[str, bytes, re.Pattern[str]]] = {
    "png": ("logo.png", PNG, re.compile(r"not UTF-8 text")),
    "utf16": (
        "members.csv",
        (GOOD_HEADER + "Lima,PE,c40,2020,x\n").encode("utf-16"),
        re.compile(r"not UTF-8 text"),
    ),
    "utf16-no-bom": (
        "members.csv",
        (GOOD_HEADER + "Lima,PE,c40,2020,x\n").encode("utf-16-le"),
        re.compile(r"NUL byte"),
    ),
    "nul": (
        "members.csv",
        (GOOD_HEADER + "Lima,PE,c40,2020,C40 site\x00s\n").encode(),
        re.compile(r"NUL byte \(line 2\)"),
    ),
    "nul-networks": ("networks.csv", b"slug,name\nnulnet,Nul\x00Net\n", re.compile(r"NUL byte \(line 2\)")),
    "wrong-columns": ("members.csv", b"name,colour,weight\nLima,blue,3\n", re.compile(r"column")),
    "empty": ("members.csv", b"", re.compile(r"column")),
}
TEN_MB = b"city,country_iso2,network_slug,since_year\n" + b"Lima,PE,c40,2020\n" * (10 * 1024 * 1024 // 17)


def cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "ATTACHE_CONFIG")}
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=full_env,
                          capture_output=True, text=True, timeout=60)


def write_config(tmp_path: Path, db: str = "bot.db") -> Path:
    p = tmp_path / "config.toml"
    p.write_text(f'database_path = "{db}"\nlog_level = "WARNING"\n', encoding="utf-8")
    return p


# -- imports ---------------------------------------------------------------------------------
async def test_network_import_rejects_broken_files_and_writes_nothing(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    path = db_path(w)
    start = db_snapshot(path)
    before = db_snapshot(path, full=False)
    cases = dict(BROKEN_IMPORTS)
    cases["10mb"] = ("big.csv", TEN_MB, re.compile(r"limit|too (big|large)|bytes", re.I))
    for label, (filename, blob, expected) in cases.items():
        res = await fake.invoke(w.guild, w.mod, "network import", {}, attachments={"file": (filename, blob)})
        assert res.ephemeral, (label, res.text)
        assert expected.search(res.text), (label, res.text)
        assert "went wrong" not in res.text, (label, res.text)  # not the unexpected-error reply
        after = db_snapshot(path, full=False)
        assert snapshot_diff(before, after) == [], label
        before = after
    assert snapshot_diff(start, db_snapshot(path)) == []
    # reads still work, and a good file still imports
    res = await fake.invoke(w.guild, w.mod, "network add", {"name": "Broken Files Network", "acronym": "BFN"})
    assert "Added" in res.text
    good = (GOOD_HEADER + "Lima,PE,bfn,2020,charter\n").encode()
    res = await fake.invoke(w.guild, w.mod, "network import", {}, attachments={"file": ("ok.csv", good)})
    assert "1 added" in res.text, res.text
    assert fake.violations == [] and fake.unhandled == []


def test_cli_import_rejects_broken_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    assert cli_main(["--config", str(cfg), "db", "migrate"]) == 0
    capsys.readouterr()
    start = db_snapshot(tmp_path / "bot.db")
    cases = dict(BROKEN_IMPORTS)
    cases["10mb"] = ("big.csv", TEN_MB, re.compile(r"\w"))  # the CLI has no size cap: every row is checked
    for label, (filename, blob, expected) in cases.items():
        f = tmp_path / f"{label}-{filename}"
        f.write_bytes(blob)
        code = cli_main(["--config", str(cfg), "import", "memberships", str(f)])
        out = capsys.readouterr()
        assert code != 0, (label, out.out)
        assert expected.search(out.err), (label, out.err[:500])
        assert "Traceback" not in out.err
    for bad_path in (tmp_path / "missing.csv", tmp_path):  # a file that does not exist; a directory
        code = cli_main(["--config", str(cfg), "import", "networks", str(bad_path)])
        out = capsys.readouterr()
        assert code != 0 and "Cannot read" in out.err, out.err
    end = db_snapshot(tmp_path / "bot.db")
    for stats in ("sqlite_stat1", "sqlite_stat4"):  # SQLite's planner statistics (PRAGMA optimize on close)
        start.pop(stats, None)
        end.pop(stats, None)
    assert snapshot_diff(start, end) == []
    # one real process for the "no traceback on stderr" promise
    (tmp_path / "x.png").write_bytes(PNG)
    r = cli(tmp_path, "--config", str(cfg), "import", "memberships", "x.png")
    assert r.returncode != 0 and "Traceback" not in r.stderr and "UTF-8" in r.stderr, r.stderr


# -- config ----------------------------------------------------------------------------------
def test_unreadable_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    cfg.chmod(0)
    try:
        if os.access(cfg, os.R_OK):  # root reads anything: use a directory in place of the file instead
            unreadable = tmp_path / "config-dir.toml"
            unreadable.mkdir()
        else:
            unreadable = cfg
        code = cli_main(["--config", str(unreadable), "db", "check"])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "cannot read the config file" in err and str(unreadable.name) in err
        assert len(err.strip().splitlines()) == 1
    finally:
        cfg.chmod(0o644)
    (tmp_path / "bin.toml").write_bytes(PNG)  # a foreign file as config
    assert cli_main(["--config", str(tmp_path / "bin.toml"), "db", "check"]) == 2
    assert "config" in capsys.readouterr().err


# -- database files that are not SQLite ------------------------------------------------------
FOREIGN_DBS = {
    "text": b"not a database\n" * 20,
    "png": PNG,
    "corrupt-sqlite": b"SQLite format 3\x00" + bytes(range(256)) * 40,
}


@pytest.mark.parametrize("kind", sorted(FOREIGN_DBS))
def test_db_check_on_foreign_database(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    (tmp_path / "bot.db").write_bytes(FOREIGN_DBS[kind])
    for argv in (["db", "check"], ["db", "migrate"], ["db", "backup", str(tmp_path / "b.db")]):
        code = cli_main(["--config", str(cfg), *argv])
        err = capsys.readouterr().err
        assert code == 3, (argv, err)
        assert re.search(r"not (an|a usable) SQLite database", err), (argv, err)
    assert (tmp_path / "bot.db").read_bytes() == FOREIGN_DBS[kind]  # left as it was


async def test_attache_run_on_foreign_database(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    populate(fake_discord)
    cfg = write_config(tmp_path)
    (tmp_path / "bot.db").write_bytes(FOREIGN_DBS["text"])
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "ATTACHE_CONFIG")}
    env.update(DISCORD_TOKEN="fake-token", ATTACHE_DISCORD_API_BASE=fake_discord.api_base,
               ATTACHE_DISCORD_GATEWAY=fake_discord.gateway_url, PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(cfg), "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode(errors="replace") + err.decode(errors="replace")
    assert proc.returncode == 3, text[-2000:]
    assert "not an SQLite database" in text and "Traceback" not in text, text[-2000:]
    assert (tmp_path / "bot.db").read_bytes() == FOREIGN_DBS["text"]


@pytest.mark.parametrize("kind", ["text", "corrupt-sqlite"])
async def test_create_bot_start_on_foreign_database(
    fake_discord: FakeDiscord, tmp_path: Path, kind: str
) -> None:
    populate(fake_discord)
    cfg = make_config(tmp_path)
    dbfile = tmp_path / "attache.db"
    assert dbfile == cfg.database_path
    dbfile.write_bytes(FOREIGN_DBS[kind])
    bot = create_bot(cfg)
    with pytest.raises((FakeDiscordTimeout, DatabaseError)) as info:
        async with run_bot(fake_discord, bot):
            pass
    err: BaseException | None = info.value
    while err is not None and not isinstance(err, DatabaseError):  # the harness wraps start-up failures
        err = err.__cause__
    assert isinstance(err, DatabaseError), repr(info.value)
    assert re.search(r"not (an|a usable) SQLite database", str(err))
    assert not bot.db.is_open
    assert dbfile.read_bytes() == FOREIGN_DBS[kind]


# -- read-only database, full disk -----------------------------------------------------------
async def _writes_refused(w: World, pattern: re.Pattern[str], *, small_writes: bool = True) -> None:
    """Every kind of write is refused with a clear ephemeral message; nothing changes; reads work.
    small_writes=False (full disk) tries only writes that need new pages: a small row that still
    fits in a half-empty page is written on a full disk too, as it would be on a real one."""
    fake, g = w.fake, w.guild
    path = db_path(w)
    before = db_snapshot(path, full=False)
    attempts: list[tuple[str, Any]] = []
    # a modal write (practice share), a modal write (mou add), plain command writes
    res = await fake.invoke(g, w.alice, "practice share", {"city": "Lyon, FR", "topic": "water"})
    assert res.modal is not None, res.text
    done = await fake.submit_modal(g, w.alice, res, {
        "title": "Storage trouble with a long title", "summary": "S" * 900, "approach": "A" * 1500,
        "results": "R" * 900, "lessons": "L" * 900})
    await done.wait_for_message()
    attempts.append(("practice share", done))
    res = await fake.invoke(g, w.bob, "mou add", {"kind": "mou", "title": "Storage trouble MOU",
                                                  "city_a": "Seoul, KR", "city_b": "Paris, FR"})
    assert res.modal is not None, res.text
    attempts.append(
        (
            "mou add",
            await fake.submit_modal(
                g,
                w.bob,
                res,
                {
                    "mou_add_summary": "Z" * 2000,
                    "mou_add_focus": "F" * 300,
                    "mou_add_links": "\n".join(
                        f"https://example.org/agreements/{i:02d}/" + "d" * 150 for i in range(10)
                    ),
                },
            ),
        )
    )
    if small_writes:
        await _small_writes(w, attempts)
    await _check_refusals(w, attempts, pattern, before)


async def _small_writes(w: World, attempts: list[tuple[str, Any]]) -> None:
    fake, g = w.fake, w.guild
    attempts.append(("profile set", await fake.invoke(g, w.carol, "profile set", {
        "city": "Lima", "title": "T" * 90, "expertise": "E" * 200})))
    attempts.append(("roundtable rsvp", await fake.invoke(g, w.carol, "roundtable rsvp", {
        "id": w.extra["rt"], "response": "going"})))
    attempts.append(
        ("mou log", await fake.invoke(g, w.alice, "mou log", {"id": w.extra["mou"], "text": "V" * 900}))
    )


async def _check_refusals(w: World, attempts: list[tuple[str, Any]], pattern: re.Pattern[str],
                          before: dict[str, tuple[int, str]]) -> None:
    fake, g = w.fake, w.guild
    path = db_path(w)
    for name, r in attempts:
        assert r.ephemeral, (name, r.text)
        assert pattern.search(r.text), (name, r.text)
        assert "nothing was changed" in r.text.lower(), (name, r.text)
    assert snapshot_diff(before, db_snapshot(path, full=False)) == []
    # reads keep working
    res = await fake.invoke(g, w.alice, "practice search", {"query": "gardens"})
    assert "Rain gardens kept" in res.text, res.text
    res = await fake.invoke(g, w.alice, "mou show", {"id": w.extra["mou"]})
    assert "Storage agreement" in res.text, res.text
    res = await fake.invoke(g, w.alice, "roundtable show", {"id": w.extra["rt"]})
    assert "Storage roundtable" in res.text, res.text
    res = await fake.invoke(g, w.alice, "profile show", {"member": w.bob})
    assert res.ephemeral and "Lima" in res.text, res.text


async def _seed_world(w: World) -> None:
    from tests.test_permission_matrix import schedule_rt

    pid = await share_practice(w, w.bob, "Rain gardens kept the streets dry")
    res = await w.fake.invoke(w.guild, w.mod, "practice approve", {"id": pid})
    assert "approved" in res.text.lower(), res.text
    w.extra["mou"] = await add_mou(w, w.alice, "Storage agreement")
    w.extra["rt"] = await schedule_rt(w, w.alice, "Storage roundtable")
    await w.fake.invoke(w.guild, w.bob, "profile set", {"city": "Lima"})


async def test_read_only_database_refuses_writes_and_keeps_reading(started_bot: World) -> None:
    w = started_bot
    await _seed_world(w)
    await w.bot.db.execute("PRAGMA query_only = ON")
    try:
        await _writes_refused(w, re.compile(r"read-only", re.I))
    finally:
        await w.bot.db.execute("PRAGMA query_only = OFF")
    res = await w.fake.invoke(w.guild, w.carol, "roundtable rsvp", {"id": w.extra["rt"], "response": "going"})
    assert "read-only" not in res.text  # writable again: works
    assert w.fake.violations == [] and w.fake.unhandled == []


async def test_full_disk_refuses_writes_and_keeps_reading(started_bot: World) -> None:
    w = started_bot
    await _seed_world(w)
    db = w.bot.db
    pages = int(await db.fetchval("PRAGMA page_count"))
    await db.fetchval(f"PRAGMA max_page_count = {pages + 1}")  # just above the current size
    # then use up that page and the free list, like a disk that is full to the last block
    await db.execute("CREATE TABLE IF NOT EXISTS test_disk_filler (b BLOB)")
    for size in (3000, 500, 50):
        for _ in range(10_000):
            try:
                await db.execute("INSERT INTO test_disk_filler VALUES (zeroblob(?))", (size,))
            except sqlite3.OperationalError as exc:
                assert "full" in str(exc)
                break
    try:
        await _writes_refused(w, re.compile(r"storage is full", re.I), small_writes=False)
    finally:
        await db.fetchval("PRAGMA max_page_count = 4294967294")
    res = await w.fake.invoke(w.guild, w.alice, "mou log", {"id": w.extra["mou"], "text": "Room again"})
    assert "full" not in res.text, res.text
    assert w.fake.violations == [] and w.fake.unhandled == []


async def test_scheduler_flush_on_full_disk_keeps_job_state(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    now = [t0]
    sched = Scheduler(db, clock=lambda: now[0])
    sent: list[str] = []

    async def handler(job: Job) -> None:
        sent.append(job.dedupe_key)

    sched.register("t", handler)
    await sched.schedule("t", t0 + timedelta(minutes=1), guild_id=1, dedupe_key="a", target=5)
    now[0] = t0 + timedelta(minutes=2)

    real_execute = db.execute
    full = [True]

    async def execute(sql: str, params: Any = ()) -> int:
        if full[0] and sql.lstrip().startswith("UPDATE jobs SET status"):
            raise sqlite3.OperationalError("database or disk is full")
        return await real_execute(sql, params)

    monkeypatch.setattr(db, "execute", execute)
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"), pytest.raises(sqlite3.OperationalError):
        await sched.run_due()
    assert sent == ["a"]
    assert "could not record 1 job result(s)" in caplog.text and "disk is full" in caplog.text
    # the state is not lost: still 'running' (so never claimed twice), the result still in memory
    assert await db.fetchval("SELECT status FROM jobs WHERE dedupe_key = 'a'") == "running"
    with pytest.raises(sqlite3.OperationalError):
        await sched.run_due()  # still full: nothing claimed, nothing sent again
    assert sent == ["a"]
    full[0] = False  # room again: the next round records it
    await sched.run_due()
    assert await db.fetchval("SELECT status FROM jobs WHERE dedupe_key = 'a'") == "done"
    assert sent == ["a"]
    # and a stop() on a full disk does not raise (the job stays 'running' for the next start)
    await sched.schedule("t", now[0], guild_id=1, dedupe_key="b", target=5)
    full[0] = True
    with pytest.raises(sqlite3.OperationalError):
        await sched.run_due()
    await sched.stop()
    assert await db.fetchval("SELECT status FROM jobs WHERE dedupe_key = 'b'") == "running"
    assert sent == ["a", "b"]
