"""`attache db seed`, `attache import networks|memberships PATH`, `attache export networks|memberships PATH
[--force]`.

Seed and import write: they hold the bot's single-instance lock and refuse while it runs. Export reads
(beside a running bot), writes a new owner-only file, never the database's files."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from bot.config import Config
from bot.db import PRIVATE_FILE_MODE, Database, exclusive_cli_lock, latest_version
from bot.errors import UserFacingError
from cogs.directory.service import SEED_DIR, DirectoryService, ImportRejected

T = TypeVar("T")


def _say(text: str, file: Any = None) -> None:
    """Command-line output (stdout unless told otherwise)."""
    (file or sys.stdout).write(text + "\n")


async def _with_service(config: Config, fn: Callable[[DirectoryService], Awaitable[T]]) -> T:
    db = Database(config.database_path)
    await db.connect()
    try:
        await db.migrate()
        return await fn(DirectoryService(db))
    finally:
        await db.close()


def _writing(config: Config, action: str, fn: Callable[[DirectoryService], Awaitable[T]]) -> T:
    """A command that writes holds the single-instance lock: refused while the bot runs on the database."""
    with exclusive_cli_lock(config, action):
        return asyncio.run(_with_service(config, fn))


def _reading(config: Config, action: str, fn: Callable[[DirectoryService], Awaitable[T]]) -> T:
    """A read-only command runs beside the bot; only a database whose schema is behind (it must be
    migrated first, a write) takes the lock."""

    async def attempt() -> tuple[bool, T | None]:
        db = Database(config.database_path)
        await db.connect()
        try:
            if await db.user_version() < latest_version():
                return False, None
            return True, await fn(DirectoryService(db))
        finally:
            await db.close()

    done, result = asyncio.run(attempt())
    if done:
        return cast(T, result)
    return _writing(config, action, fn)


def cmd_seed(args: argparse.Namespace, config: Config) -> int:
    report = _writing(config, "db seed", lambda s: s.seed())
    _say(f"{config.database_path}: gazetteer {report.cities:,} cities ({report.names:,} spellings); "
          f"{report.networks} networks, {report.memberships} memberships, {report.agreements} agreements, "
          f"{report.sdgs} SDGs from {SEED_DIR}.")
    for u in report.unresolved:
        _say(f"warning: unresolved {u}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    path = Path(args.path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _say(f"Cannot read {path}: {exc}", file=sys.stderr)
        return 2

    async def run(s: DirectoryService) -> Any:
        if args.kind == "networks":
            return await s.import_networks(data, guild_id=args.guild, actor_id=None)
        return await s.import_memberships(data, guild_id=args.guild, actor_id=None)

    try:
        res = _writing(config, f"import {args.kind}", run)
    except ImportRejected as exc:
        _say(f"Nothing was imported: {len(exc.errors)} bad rows in {path}:", file=sys.stderr)
        for e in exc.errors:
            _say(f"  {path}:{e.line}: {e.message}", file=sys.stderr)
        return 1
    except UserFacingError as exc:
        _say(f"{path}: {exc.message}", file=sys.stderr)
        return 1
    scope = f"guild {args.guild}" if args.guild else "shared (all servers)"
    _say(f"{args.kind}: {res.created} added, {res.updated} updated ({scope}).")
    return 0


class ExportRefused(Exception):
    """The export target is not a file the export may write."""


def _protected_files(config: Config) -> list[Path]:
    """The database and the files beside it that SQLite and the bot use, under the configured name and
    the name it resolves to through symlinks; and the config file."""
    out: list[Path] = []
    for base in dict.fromkeys((config.database_path.absolute(), config.database_path.resolve())):
        out += [Path(f"{base}{suffix}") for suffix in ("", "-wal", "-shm", "-journal", ".lock")]
    if config.config_path is not None:
        out.append(config.config_path)
    return out


def export_target(path: str, config: Config, *, force: bool) -> Path:
    """Where an export may write `path`, resolved through symlinks: never the database (nor its
    -wal/-shm/-journal/lock files, nor the config), and an existing file only with --force."""
    target = Path(path).expanduser().resolve()
    for protected in _protected_files(config):
        same = target == protected.resolve()
        if not same and target.exists() and protected.exists():
            same = os.path.samefile(target, protected)  # a hard link
        if same:
            raise ExportRefused(
                f"{path} is {protected} (the bot's database or one of its files); choose another file. "
                "Nothing was written."
            )
    if target.exists() and not force:
        raise ExportRefused(f"{path} already exists; pass --force to overwrite it. Nothing was written.")
    return target


def _write_export(target: Path, text: str, *, force: bool) -> None:
    """Create the file owner-only (exports hold the server's data); O_EXCL unless --force, so a file
    appearing meanwhile is not overwritten either; O_NOFOLLOW: `target` is already resolved."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(target, flags, PRIVATE_FILE_MODE)
    except FileExistsError:
        raise ExportRefused(
            f"{target} already exists; pass --force to overwrite it. Nothing was written."
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    async def run(s: DirectoryService) -> str:
        if args.kind == "networks":
            return await s.export_networks(args.guild)
        return await s.export_memberships(args.guild)

    try:
        target = None if args.path == "-" else export_target(args.path, config, force=args.force)
        text = _reading(config, f"export {args.kind}", run)
        if target is None:
            sys.stdout.write(text)
            return 0
        try:
            _write_export(target, text, force=args.force)
        except OSError as exc:
            _say(f"Cannot write {args.path}: {exc}", file=sys.stderr)
            return 2
    except ExportRefused as exc:
        _say(str(exc), file=sys.stderr)
        return 2
    _say(f"Wrote {max(0, text.count(chr(10)) - 1)} {args.kind} to {args.path}.")
    return 0


def register_cli(sub: Any, db_sub: Any) -> None:
    db_sub.add_parser(
        "seed",
        help="load the offline gazetteer and the reference networks/memberships/agreements (idempotent)",
    ).set_defaults(handler=cmd_seed)
    for name, handler, helptext in (
        ("import", cmd_import, "import networks or memberships from a CSV file (all rows or none)"),
        ("export", cmd_export, "export networks or memberships as CSV (the import format)"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("kind", choices=("networks", "memberships"))
        p.add_argument("path", help="CSV file" + (" ('-' for standard output)" if name == "export" else ""))
        p.add_argument(
            "--guild",
            type=int,
            default=None,
            help="a server id: import into / export for that server only (default: the shared data)",
        )
        if name == "export":
            p.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
        p.set_defaults(handler=handler)
