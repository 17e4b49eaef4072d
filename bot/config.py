"""Typed, immutable configuration loaded from a TOML file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A configuration problem, with a message naming the key and what is allowed."""


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    batch_size: int = 500
    per_target_batch: int = 20
    max_attempts: int = 5
    concurrency: int = 6


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """How long finished jobs, audit rows and a departed server's data are kept (days)."""

    jobs_days: int = 90
    audit_days: int = 730
    departed_guild_days: int = 30


@dataclass(frozen=True, slots=True)
class WebConfig:
    """`[web]`: the HTTP endpoint of the live calendar feeds (off unless configured)."""

    host: str
    port: int  # 0: any free port (tests)
    public_url: str  # how members' calendar apps reach it, e.g. "https://attache.example.org"


@dataclass(frozen=True, slots=True)
class Config:
    database_path: Path
    sync_commands: str = "global"
    log_level: str = "INFO"
    default_timezone: str = "UTC"
    # None: one gateway connection (no sharding); "auto": as many shards as Discord recommends; a number:
    # that many shards. Either of the last two runs the bot as discord.py's AutoShardedBot.
    shards: int | str | None = None
    token: str | None = field(default=None, repr=False)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    config_path: Path | None = None
    web: WebConfig | None = None

    @property
    def sharded(self) -> bool:
        return self.shards is not None

    @property
    def shard_count(self) -> int | None:
        """The configured shard count; None for "auto" (Discord's recommendation) or no sharding."""
        return self.shards if isinstance(self.shards, int) else None

    @property
    def sync_guild_id(self) -> int | None:
        """The guild id when `sync_commands` names one (development sync)."""
        return (
            int(self.sync_commands) if self.sync_commands.isascii() and self.sync_commands.isdigit() else None
        )

    def resolve_token(self) -> str | None:
        """The bot token: DISCORD_TOKEN from the environment wins over the `token` key."""
        env = os.environ.get("DISCORD_TOKEN", "").strip()
        return env or (self.token or None)


_TOP_KEYS = {
    "database_path",
    "sync_commands",
    "log_level",
    "default_timezone",
    "shards",
    "token",
    "scheduler",
    "retention",
    "web",
}
_SCHED_KEYS = {"batch_size", "per_target_batch", "max_attempts", "concurrency"}
_RETENTION_KEYS = {"jobs_days", "audit_days", "departed_guild_days"}
_WEB_KEYS = {"listen", "public_url"}


def _check_int(section: str, key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{section}{key}: must be a whole number from {lo} to {hi} (got {value!r}).")
    return value


def parse_config(raw: dict[str, Any], *, base_dir: Path, config_path: Path | None = None) -> Config:
    """Validate a parsed TOML mapping into a Config; relative paths resolve against base_dir."""
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{unknown[0]}: unknown key. Allowed top-level keys: {', '.join(sorted(_TOP_KEYS))}."
        )
    db = raw.get("database_path", "attache.db")
    if not isinstance(db, str) or not db.strip():
        raise ConfigError("database_path: must be a non-empty string (a file path, relative to the config).")
    db_path = Path(db).expanduser()
    if not db_path.is_absolute():
        db_path = (base_dir / db_path).resolve()

    sync = raw.get("sync_commands", "global")
    if isinstance(sync, int) and not isinstance(sync, bool):
        sync = str(sync)
    if not isinstance(sync, str) or not (
        sync in ("global", "off") or (sync.isascii() and sync.isdigit() and len(sync) >= 15)
    ):
        raise ConfigError(
            f"sync_commands: must be \"global\", \"off\" or a guild id (a 17–20 digit number); got {sync!r}."
        )

    level = raw.get("log_level", "INFO")
    if not isinstance(level, str) or level.upper() not in LOG_LEVELS:
        raise ConfigError(f"log_level: must be one of {', '.join(LOG_LEVELS)}; got {level!r}.")

    tz = raw.get("default_timezone", "UTC")
    try:
        if not isinstance(tz, str) or not tz or len(tz) > 64:
            raise ZoneInfoNotFoundError(tz)
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"default_timezone: must be an IANA time zone such as \"Europe/Paris\" or \"UTC\"; got {tz!r}."
        ) from exc

    shards = _parse_shards(raw.get("shards"))

    token = raw.get("token")
    if token is not None and not isinstance(token, str):
        raise ConfigError("token: must be a string (better: leave it out and set DISCORD_TOKEN).")

    sched_raw = raw.get("scheduler", {})
    if not isinstance(sched_raw, dict):
        raise ConfigError("scheduler: must be a table ([scheduler]).")
    unknown = sorted(set(sched_raw) - _SCHED_KEYS)
    if unknown:
        raise ConfigError(
            f"scheduler.{unknown[0]}: unknown key. Allowed: {', '.join(sorted(_SCHED_KEYS))}."
        )
    defaults = SchedulerConfig()
    sched = SchedulerConfig(
        batch_size=_check_int(
            "scheduler.", "batch_size", sched_raw.get("batch_size", defaults.batch_size), 1, 10_000
        ),
        per_target_batch=_check_int(
            "scheduler.",
            "per_target_batch",
            sched_raw.get("per_target_batch", defaults.per_target_batch),
            1,
            1_000,
        ),
        max_attempts=_check_int(
            "scheduler.", "max_attempts", sched_raw.get("max_attempts", defaults.max_attempts), 1, 100
        ),
        concurrency=_check_int(
            "scheduler.", "concurrency", sched_raw.get("concurrency", defaults.concurrency), 1, 500
        ),
    )
    retention = _parse_retention(raw.get("retention", {}))
    web = _parse_web(raw["web"]) if "web" in raw else None
    return Config(
        database_path=db_path,
        sync_commands=sync,
        log_level=level.upper(),
        default_timezone=tz,
        shards=shards,
        token=token or None,
        scheduler=sched,
        retention=retention,
        config_path=config_path,
        web=web,
    )


def token_file_warning(config: Config) -> str | None:
    """A warning when the config file holds a `token` and other users of the machine can read it
    (group or others have any permission on it): with the token, anyone controls the bot."""
    if not config.token or config.config_path is None:
        return None
    try:
        mode = config.config_path.stat().st_mode
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"{config.config_path} holds the bot token and other users on this machine can read or change it "
        f"(mode {mode & 0o777:03o}). Run `chmod 600 {config.config_path}`, or remove `token` from it "
        "and set DISCORD_TOKEN instead."
    )


def _parse_web(raw: Any) -> WebConfig:
    if not isinstance(raw, dict):
        raise ConfigError("web: must be a table ([web]).")
    unknown = sorted(set(raw) - _WEB_KEYS)
    if unknown:
        raise ConfigError(f"web.{unknown[0]}: unknown key. Allowed: {', '.join(sorted(_WEB_KEYS))}.")
    listen = raw.get("listen")
    host, _, port_text = listen.rpartition(":") if isinstance(listen, str) else ("", "", "")
    host = host.strip("[]")
    if not host or not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65_535:
        raise ConfigError(
            f"web.listen: must be \"host:port\", such as \"127.0.0.1:8080\" (behind a reverse proxy); "
            f"got {listen!r}."
        )
    public = raw.get("public_url")
    if (not isinstance(public, str) or not public.startswith(("https://", "http://")) or len(public) > 200
            or any(c.isspace() for c in public) or "?" in public or "#" in public):
        raise ConfigError(
            "web.public_url: must be the address members' calendar apps reach the feeds at, such as "
            f"\"https://attache.example.org\" (no query or fragment); got {public!r}."
        )
    return WebConfig(host=host, port=int(port_text), public_url=public.rstrip("/"))


MAX_SHARDS = 1024


def _parse_shards(value: Any) -> int | str | None:
    """`shards`: absent for one unsharded connection, "auto", or a whole number of shards."""
    if value is None:
        return None
    if value == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SHARDS:
        raise ConfigError(
            f"shards: must be \"auto\" (as many shards as Discord recommends) or a whole number from 1 to "
            f"{MAX_SHARDS}; leave it out to run without sharding. Got {value!r}."
        )
    return value


def _parse_retention(raw: Any) -> RetentionConfig:
    if not isinstance(raw, dict):
        raise ConfigError("retention: must be a table ([retention]).")
    unknown = sorted(set(raw) - _RETENTION_KEYS)
    if unknown:
        raise ConfigError(
            f"retention.{unknown[0]}: unknown key. Allowed: {', '.join(sorted(_RETENTION_KEYS))}."
        )
    d = RetentionConfig()
    return RetentionConfig(
        jobs_days=_check_int("retention.", "jobs_days", raw.get("jobs_days", d.jobs_days), 1, 36_500),
        audit_days=_check_int("retention.", "audit_days", raw.get("audit_days", d.audit_days), 1, 36_500),
        departed_guild_days=_check_int(
            "retention.",
            "departed_guild_days",
            raw.get("departed_guild_days", d.departed_guild_days),
            0,
            3_650,
        ),
    )


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a TOML config file."""
    p = Path(path).expanduser()
    try:
        with p.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{p}: config file not found. Copy config.example.toml to {p.name} and edit it."
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read the config file ({exc}).") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc}).") from exc
    return parse_config(raw, base_dir=p.resolve().parent, config_path=p.resolve())
