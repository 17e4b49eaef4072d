"""Keeping the sandbox away from real data (no discord import).

A database the sandbox creates carries a marker row in `meta`; the sandbox refuses any existing file without
it, and refuses the database `attache run` is configured to use, even if it does not exist yet. `--fresh`
deletes only a marked file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

MARKER_KEY = "sandbox.marker"
MARKER_VALUE = "This database was made by `attache sandbox`; it holds sample data only."
SIDE_FILES = ("-wal", "-shm", "-journal")


class SandboxRefused(Exception):
    """The sandbox will not use this database; the text says why and what to do."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def has_marker(path: Path) -> bool:
    """True when `path` is an SQLite database with the sandbox's marker row (opened read-only)."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = con.execute("SELECT value FROM meta WHERE key = ?", (MARKER_KEY,)).fetchone()
    except sqlite3.Error:
        return False
    finally:
        con.close()
    return row is not None and row[0] == MARKER_VALUE


def check_database(path: Path, production_path: Path) -> bool:
    """Raise SandboxRefused unless `path` is safe for the sandbox; True when it exists (and is marked)."""
    if _same_file(path, production_path):
        raise SandboxRefused(
            f"{path} is the database `attache run` uses (database_path in the configuration); the sandbox "
            "never touches it. Pick another file with --db (the default is sandbox.db)."
        )
    if not path.exists():
        return False
    if path.is_dir():
        raise SandboxRefused(f"{path} is a folder; give --db a file name.")
    if not has_marker(path):
        raise SandboxRefused(
            f"{path} exists and was not made by `attache sandbox`, so it may hold real data: the sandbox "
            "refuses it. Pick another file with --db."
        )
    return True


def delete_database(path: Path) -> None:
    """Delete a sandbox database and its side files (only one carrying the marker)."""
    if path.exists() and not has_marker(path):
        raise SandboxRefused(f"{path} was not made by `attache sandbox`; it is not deleted.")
    for suffix in ("", *SIDE_FILES):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


MARK_SQL = (
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
