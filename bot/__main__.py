"""Command line: `attache run | sandbox | db migrate | db backup PATH | db check | ...`
(also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import ipaddress
import logging
import os
import pkgutil
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cogs
from bot.config import Config, ConfigError, load_config, parse_config, token_file_warning
from bot.db import Database, DatabaseError, ProcessLock, backup_file, check_file, exclusive_cli_lock

log = logging.getLogger("attache")

NO_TOKEN_MESSAGE = """\
No Discord bot token found. Create an application at https://discord.com/developers/applications, \
open its Bot page, press "Reset Token" and copy the token; then either export it as DISCORD_TOKEN \
(for example `export DISCORD_TOKEN=...` before `attache run`) or put `token = "..."` in your config \
file (config.toml; see config.example.toml). Keep it secret: anyone with the token controls the bot."""

DEFAULT_CONFIG = "config.toml"

CliHandler = Callable[[argparse.Namespace, Config], int]


def _feature_cli_modules() -> list[Any]:
    """Feature packages may ship `cli.py` with `register_cli(subparsers)`."""
    mods = []
    for m in pkgutil.iter_modules(cogs.__path__):
        if m.ispkg:
            try:
                mods.append(importlib.import_module(f"cogs.{m.name}.cli"))
            except ModuleNotFoundError as exc:
                if exc.name != f"cogs.{m.name}.cli":
                    raise
    return mods


def resolve_config(path: str | None) -> Config:
    if path is None:
        path = os.environ.get("ATTACHE_CONFIG")
    if path is None:
        if not Path(DEFAULT_CONFIG).exists():
            return parse_config({}, base_dir=Path.cwd())
        path = DEFAULT_CONFIG
    return load_config(path)


def setup_logging(level: str) -> None:
    import discord

    discord.utils.setup_logging(level=getattr(logging, level.upper(), logging.INFO), root=True)


# -- run ------------------------------------------------------------------------------------
TEST_DISCORD_ENV = {"ATTACHE_DISCORD_API_BASE": ("http", "https"), "ATTACHE_DISCORD_GATEWAY": ("ws", "wss")}


def is_loopback_url(url: str, schemes: Sequence[str]) -> bool:
    """True when `url` uses one of `schemes` and its host is this machine: 127.0.0.0/8, ::1 or localhost
    (no user info, which could hide the real host: `http://127.0.0.1@elsewhere/`)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    if parts.scheme.lower() not in schemes or not host or "@" in parts.netloc:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_discord_overrides() -> dict[str, str]:
    """The test-only ATTACHE_DISCORD_API_BASE / ATTACHE_DISCORD_GATEWAY that are set; ConfigError if one
    points anywhere but loopback: the bot sends its token there, so a stray variable must not leak it."""
    found = {}
    for name, schemes in TEST_DISCORD_ENV.items():
        value = os.environ.get(name, "")
        if not value:
            continue
        if not is_loopback_url(value, schemes):
            try:
                where = urlsplit(value.strip()).hostname or "no host"
            except ValueError:
                where = "an unreadable URL"
            raise ConfigError(
                f"{name} (pointing at {where}) is refused: this test-only "
                f"override must be a {'/'.join(schemes)} URL on "
                "loopback (127.0.0.1, ::1 or localhost), because the bot would send its token there. "
                "Unset it to use Discord."
            )
        found[name] = value
    return found


def _point_at_test_discord() -> None:
    """For end-to-end tests of the real process: ATTACHE_DISCORD_API_BASE / ATTACHE_DISCORD_GATEWAY
    point discord.py at a fake Discord on loopback (see bot/sandbox/emulation); nothing else is accepted."""
    overrides = loopback_discord_overrides()
    api = overrides.get("ATTACHE_DISCORD_API_BASE")
    gateway = overrides.get("ATTACHE_DISCORD_GATEWAY")
    if api:
        import discord.http

        discord.http.Route.BASE = api
        log.warning("using a non-default Discord API at %s (testing only)", api)
    if gateway:
        import yarl
        from discord.gateway import DiscordWebSocket

        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


async def _run_bot(config: Config, token: str, force_sync: bool) -> None:
    from bot.app import create_bot

    _point_at_test_discord()

    bot = create_bot(config)
    bot.force_sync = force_sync
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    async with bot:
        runner = asyncio.create_task(bot.start(token), name="attache-bot")
        stopper = asyncio.create_task(stop.wait(), name="attache-stop")
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("shutting down")
            await bot.close()
        stopper.cancel()
        await runner  # re-raise start-up errors


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    token = config.resolve_token()
    if not token:
        print(NO_TOKEN_MESSAGE, file=sys.stderr)
        return 2
    loopback_discord_overrides()  # ConfigError before anything is sent
    lock = ProcessLock(config.database_path)
    try:
        lock.acquire()  # fail fast, before logging in
    except DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return 3
    lock.release()
    setup_logging(config.log_level)
    warning = token_file_warning(config)
    if warning:
        log.warning("%s", warning)  # the log goes to stderr: the operator's terminal or the service journal
    import aiohttp
    import discord

    try:
        asyncio.run(_run_bot(config, token, args.sync))
    except discord.LoginFailure:
        print(
            "Discord rejected the token. Check DISCORD_TOKEN (reset it on the Bot page if needed).",
            file=sys.stderr,
        )
        return 2
    except discord.PrivilegedIntentsRequired:
        print("Discord refused a privileged intent; Attaché needs none. Please report this.", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return 3
    except (OSError, aiohttp.ClientError, discord.GatewayNotFound, discord.ConnectionClosed) as exc:
        print(f"Cannot reach Discord ({type(exc).__name__}: {exc}). Check the network and try again; "
              "the bot retries on its own once connected.", file=sys.stderr)
        return 4
    except KeyboardInterrupt:
        return 0
    return 0


# -- invite ---------------------------------------------------------------------------------
def cmd_invite(args: argparse.Namespace, config: Config) -> int:
    """Print the OAuth2 URL that adds the bot to a server with exactly the permissions it needs."""
    from bot.invite import PERMISSIONS, client_id_from_token, invite_url

    client_id: int | None
    if args.client_id is not None:
        raw = str(args.client_id).strip()
        client_id = int(raw) if raw.isdigit() and 0 < int(raw) < 2**64 else None
        if client_id is None:
            print(f"{raw!r} is not an application id: copy the Application ID from the developer portal's "
                  "General Information page.", file=sys.stderr)
            return 2
    else:
        token = config.resolve_token()
        if not token:
            print("No client id: pass --client-id (the Application ID on the developer portal's General "
                  "Information page), or set DISCORD_TOKEN so it can be read from the token.",
                  file=sys.stderr)
            return 2
        client_id = client_id_from_token(token)
        if client_id is None:
            print("The token does not start with an application id (is it a bot token?). Pass --client-id "
                  "(the Application ID on the developer portal's General Information page).", file=sys.stderr)
            return 2
    guild_id: int | None = None
    if args.guild is not None:
        raw = str(args.guild).strip()
        if not raw.isdigit() or not 0 < int(raw) < 2**64:
            print(f"{raw!r} is not a server id (right-click the server, Copy Server ID).", file=sys.stderr)
            return 2
        guild_id = int(raw)
    print(invite_url(client_id, guild_id=guild_id))
    if args.explain:
        print("\nPermissions asked for, and why:", file=sys.stderr)
        for flag, why in PERMISSIONS:
            print(f"  {flag.replace('_', ' ')}: {why}", file=sys.stderr)
    return 0


# -- db -------------------------------------------------------------------------------------
async def _migrate(config: Config) -> tuple[int, int]:
    db = Database(config.database_path)
    await db.connect()
    try:
        return await db.migrate()
    finally:
        await db.close()


def cmd_db_migrate(args: argparse.Namespace, config: Config) -> int:
    with exclusive_cli_lock(config, "db migrate"):
        before, after = asyncio.run(_migrate(config))
    if before == after:
        print(f"{config.database_path}: already at schema version {after}.")
    else:
        print(f"{config.database_path}: migrated from schema version {before} to {after}.")
    return 0


def cmd_db_backup(args: argparse.Namespace, config: Config) -> int:
    pages = backup_file(config.database_path, args.path)
    result = check_file(args.path)
    print(
        f"Backed up {config.database_path} to {args.path} ({pages} pages); "
        f"integrity {'ok' if result['integrity'] == ['ok'] else 'FAILED'}, "
        f"schema version {result['version']}."
    )
    return 0 if result["ok"] else 1


def cmd_db_check(args: argparse.Namespace, config: Config) -> int:
    path = Path(args.path) if args.path else config.database_path
    result = check_file(path)
    print(f"database: {path}")
    print(f"integrity: {'ok' if result['integrity'] == ['ok'] else '; '.join(result['integrity'][:10])}")
    print(f"foreign key violations: {result['foreign_key_violations']}")
    state = "current" if result["version"] == result["latest"] else (
        "needs `attache db migrate`" if result["version"] < result["latest"] else "NEWER than this code")
    print(f"schema version: {result['version']} of {result['latest']} ({state})")
    return 0 if result["ok"] else 1


async def _purge_guild(config: Config, guild_id: int) -> Any:
    from bot import retention

    db = Database(config.database_path)
    await db.connect()
    try:
        await db.migrate()
        return await retention.purge_guild(db, guild_id)
    finally:
        await db.close()


def cmd_db_purge_guild(args: argparse.Namespace, config: Config) -> int:
    """Delete every row of one server (all tables with a guild_id), with the bot stopped."""
    raw = str(args.guild_id).strip()
    if not raw.isdigit() or not 1 <= int(raw) < 2**63:
        print(f"{raw!r} is not a server id: give the numeric id (right-click the server, Copy Server ID).",
              file=sys.stderr)
        return 2
    if not Path(config.database_path).exists():
        print(f"No database at {config.database_path}.", file=sys.stderr)
        return 3
    with exclusive_cli_lock(config, f"db purge-guild {raw}"):  # refuses while the bot runs on it
        result = asyncio.run(_purge_guild(config, int(raw)))
    if not result.rows:
        print(f"{config.database_path}: no rows of server {raw}; nothing to delete.")
        return 0
    detail = ", ".join(f"{table} {n}" for table, n in sorted(result.rows.items()))
    print(f"{config.database_path}: deleted {result.total} row(s) of server {raw} ({detail}).")
    return 0


def build_parser(feature_modules: Sequence[Any] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attache", description="Attaché: a Discord bot for city-diplomacy practitioner networks."
    )
    parser.add_argument(
        "--config", "-c", help=f"config file (default: $ATTACHE_CONFIG or ./{DEFAULT_CONFIG})"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p_run = sub.add_parser("run", help="start the bot (token from DISCORD_TOKEN)")
    p_run.add_argument("--sync", action="store_true", help="sync slash commands now even if unchanged")
    p_run.set_defaults(handler=cmd_run)

    p_invite = sub.add_parser("invite", help="print the link that adds the bot to a server")
    p_invite.add_argument("--client-id", help="the application id (default: read from the token)")
    p_invite.add_argument("--guild", metavar="ID", help="preselect this server in Discord's dialog")
    p_invite.add_argument("--explain", action="store_true",
                          help="also list each permission and why it is needed (on stderr)")
    p_invite.set_defaults(handler=cmd_invite)

    p_db = sub.add_parser("db", help="database maintenance (works offline)")
    db_sub = p_db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("migrate", help="apply pending schema migrations").set_defaults(handler=cmd_db_migrate)
    p_backup = db_sub.add_parser("backup", help="online backup to a new file (safe while the bot runs)")
    p_backup.add_argument(
        "path", help="where to write the backup (a new file, owner-only; missing folders are created)"
    )
    p_backup.set_defaults(handler=cmd_db_backup)
    p_check = db_sub.add_parser("check", help="integrity check and schema version")
    p_check.add_argument("path", nargs="?", default=None,
                         help="a database file, e.g. a backup (default: database_path from the config)")
    p_check.set_defaults(handler=cmd_db_check)
    p_purge = db_sub.add_parser("purge-guild", help="delete every row of one server (stop the bot first)")
    p_purge.add_argument("guild_id", metavar="ID", help="the server (guild) id")
    p_purge.set_defaults(handler=cmd_db_purge_guild)

    from bot.sandbox.runner import register as register_sandbox

    register_sandbox(sub)
    for mod in feature_modules:
        mod.register_cli(sub, db_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_feature_cli_modules())
    args = parser.parse_args(argv)
    try:
        config = resolve_config(args.config)
        if args.handler is not cmd_run:
            logging.basicConfig(
                level=getattr(logging, config.log_level), format="%(levelname)s %(name)s: %(message)s"
            )
        return int(args.handler(args, config))
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
