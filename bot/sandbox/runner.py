"""`attache sandbox`: the whole product offline, in a browser. Starts the Discord emulation with the demo
server, the real bot (the same `create_bot` and discord.py code as `attache run`, no token, no network) and
the page at http://127.0.0.1:8765."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import webbrowser
from pathlib import Path
from typing import TextIO

from aiohttp import web

from bot.config import Config
from bot.sandbox.guard import SandboxRefused, check_database, delete_database
from bot.sandbox.session import Sandbox
from bot.sandbox.web import make_app

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
DEFAULT_DB = "sandbox.db"


def _say(text: str, stream: TextIO | None = None) -> None:
    """Command-line output (stdout unless told otherwise), flushed at once."""
    out = stream or sys.stdout
    out.write(text + "\n")
    out.flush()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sandbox", help="try Attaché offline in a browser: no token, sample data, a movable clock"
    )
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port of the page (default {DEFAULT_PORT})"
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address of the page (default {DEFAULT_HOST})")
    p.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"the sandbox's own database (default ./{DEFAULT_DB}; never the bot's real one)",
    )
    p.add_argument("--fresh", action="store_true", help="start again from the sample data")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(handler=cmd_sandbox)


def cmd_sandbox(args: argparse.Namespace, config: Config) -> int:
    db = Path(args.db)
    try:
        existed = check_database(db, Path(config.database_path))
        if args.fresh and existed:
            delete_database(db)
    except SandboxRefused as exc:
        _say(f"attache sandbox: {exc}", sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        _say("attache sandbox: --port must be between 1 and 65535.", sys.stderr)
        return 2
    try:
        asyncio.run(serve(db, host=args.host, port=args.port, open_browser=not args.no_browser))
    except OSError as exc:
        _say(
            f"attache sandbox: cannot serve the page on {args.host}:{args.port} ({exc}). "
            "Is another sandbox running? Try --port.",
            sys.stderr,
        )
        return 4
    except KeyboardInterrupt:
        return 0
    return 0


async def serve(
    db: Path, *, host: str, port: int, open_browser: bool, stop: asyncio.Event | None = None
) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    sandbox = Sandbox(db_path=db)
    runner = web.AppRunner(make_app(sandbox), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()  # fail fast (port taken) before starting the bot
        _say(f"Attaché sandbox: starting the bot on {db} …")
        await sandbox.start()
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/"
        if sandbox.seed_report:
            _say("Sample data: " + "; ".join(sandbox.seed_report))
        _say(f"Attaché sandbox ready at {url}  (Ctrl+C to stop)")
        from bot.__main__ import is_loopback_url  # here: `python -m bot` runs that module as __main__

        shown = f"[{host}]" if ":" in host else host
        if not is_loopback_url(f"http://{shown}/", ("http",)):
            _say(f"Note: the page is served on {host}, so anyone who can reach this machine can use it "
                 "(it has no login). Use the default --host 127.0.0.1 to keep it to yourself.", sys.stderr)
        if open_browser:
            await asyncio.to_thread(webbrowser.open, url)
        await stop.wait()
    finally:
        await sandbox.stop()
        await runner.cleanup()
