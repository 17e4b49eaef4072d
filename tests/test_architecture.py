"""The layering rules, read from the source (AST only: fast, imports none of the code).

* Services and pure modules have no `discord` import: in `cogs/<feature>/`, every module but the Discord
  glue (cog.py, views.py, embeds.py, __init__.py); in `bot/`, the kernel modules listed in PURE_KERNEL.
* No SQL in the Discord glue (cog.py, views.py, embeds.py): SQL lives in services.
* `bot/` (the kernel) imports nothing from `cogs/`, except `import cogs` to discover the extensions.
* A feature imports only its own modules and the kernel: `cogs.X` may import `cogs.X.*` and `bot.*`.
* Nothing calls discord.py's private HTTP client or connection state (`client.http`, `_state`,
  `_connection`): the public API (e.g. `guild.create_scheduled_event`) keeps working across releases.

Each failure lists `file:line: what`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The Discord glue of a feature; every other module of cogs/<feature>/ is a service or pure module.
GLUE = {"cog.py", "views.py", "embeds.py", "__init__.py"}

# Kernel modules with no discord import (a module that does not exist yet is skipped).
PURE_KERNEL = [
    "bot/audit.py",
    "bot/clock.py",
    "bot/config.py",
    "bot/contracts.py",
    "bot/db.py",
    "bot/errors.py",
    "bot/export.py",
    "bot/limits.py",
    "bot/pictures.py",
    "bot/places.py",
    "bot/retention.py",
    "bot/scheduler.py",
    "bot/settings.py",
    "bot/text.py",
    "bot/timeparse.py",
    "bot/workweek.py",
]

# `import cogs` finds the feature packages (extensions in bot/app.py, their CLIs in bot/__main__.py, their
# sandbox sample data in bot/sandbox/seed.py).
DISCOVERY = {("bot/app.py", "cogs"), ("bot/__main__.py", "cogs"), ("bot/sandbox/seed.py", "cogs")}

# Violations in the code today, as "file: what" (no line numbers, so edits elsewhere don't matter).
# Removed by the kernel work: once they are gone this test fails until the entry is deleted here.
KNOWN_VIOLATIONS: set[str] = set()  # none: the kernel work removed the last ones

# SQL statements, not English: "Delete this?" or "With the buttons" must not match.
SQL_RE = re.compile(
    r"^\s*(SELECT\s+(DISTINCT\s+)?[\w.*]+(\s*,.*|\s+AS\b.*|\s*\(.*|\s+)\bFROM\s+\w"
    r"|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b"
    r"|WITH\s+(RECURSIVE\s+)?\w+(\s*\([^)]*\))?\s+AS\s*\("
    r"|CREATE\s+(UNIQUE\s+|TEMP\s+|TEMPORARY\s+|VIRTUAL\s+)?(TABLE|INDEX|VIEW|TRIGGER)\b)",
    re.IGNORECASE | re.DOTALL,
)
PRIVATE_CLIENT_ATTRS = {"_state", "_connection", "_http"}


def rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


# Discord's side of the wire: the emulation plays Discord (for the tests and `attache sandbox`), so the
# bot's layering rules do not apply to it; it drives a bot only from outside, as Discord would.
EMULATION = Path("bot") / "sandbox" / "emulation"


def sources(root: Path, folder: str) -> list[Path]:
    skip = root / EMULATION
    return sorted(p for p in (root / folder).rglob("*.py") if not p.is_relative_to(skip))


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path, path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, imported module, is a plain `import x`) for every import, type-only ones included:
    `from pkg import mod` yields `pkg.mod`, `from pkg.mod import Name` yields `pkg.mod`."""
    module = module_name(root, path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, True
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            named = [f"{base}.{alias.name}" for alias in node.names]
            modules = [name for name in named if is_module(root, name)]
            for name in modules or [base]:
                yield node.lineno, name, False


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "cogs" else None


def is_module(root: Path, module: str) -> bool:
    """Whether a dotted name is a package or module of the tree (not a name defined inside one)."""
    path = root.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


Found = list[tuple[str, int, str]]  # (file, line, what)


# ------------------------------------------------------------------------------------------- rules


def discord_imports(root: Path = ROOT) -> Found:
    files = [p for p in sources(root, "cogs") if p.name not in GLUE and p.parent != root / "cogs"]
    files += [root / f for f in PURE_KERNEL if (root / f).is_file()]
    out: Found = []
    for path in files:
        lines = sorted({line for line, module, _plain in imports(root, path) if is_under(module, "discord")})
        out += [(rel(root, path), line, "imports discord (a pure module)") for line in lines]
    return out


def sql_in_glue(root: Path = ROOT) -> Found:
    out: Found = []
    for path in sources(root, "cogs"):
        if path.name not in GLUE - {"__init__.py"}:
            continue
        for node in ast.walk(tree(path)):
            text: str | None = None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr):  # an f-string: its literal parts
                text = "".join(v.value if isinstance(v, ast.Constant) else " x " for v in node.values)
            if text is not None and SQL_RE.match(text):
                found = (rel(root, path), node.lineno, f"SQL in the Discord glue: {text.strip()[:40]!r}")
                if not any(f[:2] == found[:2] for f in out):  # an f-string's literal part is a string too
                    out.append(found)
    return out


def kernel_imports(root: Path = ROOT) -> Found:
    out: Found = []
    for path in sources(root, "bot"):
        for line, module, plain in imports(root, path):
            if not is_under(module, "cogs"):
                continue
            if module == "cogs" and plain and (rel(root, path), module) in DISCOVERY:
                continue
            out.append((rel(root, path), line, f"imports {module} (a feature)"))
    return out


def feature_imports(root: Path = ROOT) -> Found:
    out: Found = []
    for path in sources(root, "cogs"):
        own = feature_of(module_name(root, path))
        for line, module, _plain in imports(root, path):
            if own is None or not is_under(module, "cogs"):
                continue
            other = feature_of(module)
            if other == own:
                continue
            what = "the feature list" if other is None else f"feature {other!r}"
            out.append((rel(root, path), line, f"imports {module} ({what})"))
    return out


# The one place allowed to reach into discord.py's HTTP client: the kernel's tuning of its rate-limit
# bucket sweep (bot.app.throttle_rate_limit_sweep, docs/scaling.md), which test_kernel checks against the
# discord.py installed. Features never may.
PRIVATE_CLIENT_TUNING = {("bot/app.py", "_tune_discord_http")}


def private_client(root: Path = ROOT) -> Found:
    out: Found = []
    for path in [*sources(root, "bot"), *sources(root, "cogs")]:
        module = tree(path)
        allowed = {id(n) for fn in ast.walk(module)
                   if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
                   and (rel(root, path), fn.name) in PRIVATE_CLIENT_TUNING
                   for n in ast.walk(fn)}
        for node in ast.walk(module):
            if not isinstance(node, ast.Attribute) or id(node) in allowed:
                continue
            if node.attr in PRIVATE_CLIENT_ATTRS:
                out.append((rel(root, path), node.lineno, f"uses discord.py's private .{node.attr}"))
            elif node.attr == "http" and not (
                isinstance(node.value, ast.Name) and node.value.id == "discord"
            ):
                out.append((rel(root, path), node.lineno, "uses discord.py's private HTTP client (.http)"))
    return out


def report(found: Found) -> list[str]:
    """The violations as `file:line: what`, less the known ones."""
    return sorted({f"{file}:{line}: {what}" for file, line, what in found
                   if f"{file}: {what}" not in KNOWN_VIOLATIONS})


# ------------------------------------------------------------------------------------------- tests


def test_services_and_pure_modules_have_no_discord_import() -> None:
    assert report(discord_imports()) == []


def test_no_sql_in_cogs_views_and_embeds() -> None:
    assert report(sql_in_glue()) == []


def test_kernel_imports_no_feature() -> None:
    assert report(kernel_imports()) == []


def test_features_import_only_themselves_and_the_kernel() -> None:
    assert report(feature_imports()) == []


def test_no_private_discord_client() -> None:
    assert report(private_client()) == []


def test_known_violations_still_occur() -> None:
    """KNOWN_VIOLATIONS only shrinks: an entry whose violation is gone must be deleted."""
    found = discord_imports() + sql_in_glue() + kernel_imports() + feature_imports() + private_client()
    keys = {f"{file}: {what}" for file, _line, what in found}
    assert sorted(KNOWN_VIOLATIONS - keys) == [], "fixed: delete these from KNOWN_VIOLATIONS"


def test_the_rules_see_planted_violations(tmp_path: Path) -> None:
    """Each rule, run over a small planted tree, reports exactly its violation with file:line."""
    assert SQL_RE.match("  select id FROM practices WHERE guild_id = ?")
    assert SQL_RE.match("INSERT OR IGNORE INTO t (a) VALUES (?)")
    assert SQL_RE.match("with recent AS (SELECT 1) SELECT * FROM recent")
    assert SQL_RE.match("UPDATE roundtables SET title = ?")
    assert SQL_RE.match("delete from t")
    assert SQL_RE.match("SELECT COUNT(*) FROM t") and SQL_RE.match("SELECT p.id, p.title FROM practices AS p")
    assert SQL_RE.match("CREATE UNIQUE INDEX i ON t (a)")
    for english in (
        "Delete this practice?",
        "With the buttons below",
        "Update the title",
        "Select a city",
        "Created by <@1>",
        "Insert a link",
        "Selected from the list",
        "Select a city from the list",
        "Create a table of contents",
    ):
        assert not SQL_RE.match(english), english

    files = {
        "bot/__init__.py": "",
        "bot/app.py": "import cogs\nfrom cogs.a import service\n",
        "bot/db.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import discord.abc\n",
        "bot/ui.py": "import discord\n\n\ndef f(bot):\n    return bot.http.get_guild(1)\n",
        "cogs/__init__.py": "",
        "cogs/a/__init__.py": "",
        "cogs/a/service.py": "from bot import db\nfrom . import helper\nfrom ..b.service import X\n",
        "cogs/a/helper.py": "import discord\n",
        "cogs/a/cog.py": "import discord\nfrom cogs.a.service import S\n\nQ = f'SELECT id FROM t WHERE x = "
        "{1}'\nE = 'Delete this?'\n",
        "cogs/b/__init__.py": "",
        "cogs/b/service.py": "X = 1\n",
        "cogs/b/views.py": "import discord\nimport cogs\nfrom cogs.b import service\n\n"
        "def f(i):\n    return i._state\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert discord_imports(tmp_path) == [("cogs/a/helper.py", 1, "imports discord (a pure module)"),
                                         ("bot/db.py", 3, "imports discord (a pure module)")]
    assert [(f, line) for f, line, _what in sql_in_glue(tmp_path)] == [("cogs/a/cog.py", 4)]
    assert kernel_imports(tmp_path) == [("bot/app.py", 2, "imports cogs.a.service (a feature)")]
    assert feature_imports(tmp_path) == [("cogs/a/service.py", 3, "imports cogs.b.service (feature 'b')"),
                                         ("cogs/b/views.py", 2, "imports cogs (the feature list)")]
    assert private_client(tmp_path) == [("bot/ui.py", 5, "uses discord.py's private HTTP client (.http)"),
                                        ("cogs/b/views.py", 6, "uses discord.py's private ._state")]
