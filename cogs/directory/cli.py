"""`attache db seed`, `attache import networks|memberships PATH`, `attache export networks|memberships PATH`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.config import Config
from bot.db import Database
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


def cmd_seed(args: argparse.Namespace, config: Config) -> int:
    report = asyncio.run(_with_service(config, lambda s: s.seed()))
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
        res = asyncio.run(_with_service(config, run))
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


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    async def run(s: DirectoryService) -> str:
        if args.kind == "networks":
            return await s.export_networks(args.guild)
        return await s.export_memberships(args.guild)

    text = asyncio.run(_with_service(config, run))
    if args.path == "-":
        sys.stdout.write(text)
    else:
        Path(args.path).write_text(text, encoding="utf-8")
        _say(f"Wrote {max(0, text.count(chr(10)) - 1)} {args.kind} to {args.path}.")
    return 0


def register_cli(sub: Any, db_sub: Any) -> None:
    db_sub.add_parser(
        "seed", help="load the offline gazetteer and the reference networks/memberships/agreements (idempotent)"
    ).set_defaults(handler=cmd_seed)
    for name, handler, helptext in (
        ("import", cmd_import, "import networks or memberships from a CSV file (all rows or none)"),
        ("export", cmd_export, "export networks or memberships as CSV (the import format)"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("kind", choices=("networks", "memberships"))
        p.add_argument("path", help="CSV file" + (" ('-' for standard output)" if name == "export" else ""))
        p.add_argument("--guild", type=int, default=None,
                       help="a server id: import into / export for that server only (default: the shared data)")
        p.set_defaults(handler=handler)
