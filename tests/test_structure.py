"""Structural checks: every extension loads offline, and its commands fit Discord's rules."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

from discord import app_commands

from bot.app import create_bot, discover_extensions
from bot.config import Config
from bot.embeds import CUSTOM_ID_MAX
from bot.errors import Conflict, InvalidInput
from bot.interactions import describe_error
from bot.sandbox.emulation import check_commands


async def test_every_extension_loads_and_commands_fit(config: Config, tmp_path: Path) -> None:
    bot = create_bot(config)
    await bot.db.connect()
    await bot.db.migrate()
    try:
        for ext in discover_extensions():
            await bot.load_extension(ext)
        payload = await bot.command_payload()
        assert check_commands(payload) == []
        names = [c["name"] for c in payload]
        assert len(names) == len(set(names)) <= 100
        assert {"help", "settings", "audit"} <= set(names)

        def walk(options: list[dict]) -> None:
            for opt in options:
                assert 1 <= len(opt["description"]) <= 100, opt["name"]
                assert re.fullmatch(r"[-_\w]{1,32}", opt["name"]) and opt["name"] == opt["name"].lower()
                assert len(opt.get("choices") or []) <= 25
                walk(opt.get("options") or [])

        for cmd in payload:
            assert 1 <= len(cmd["description"]) <= 100
            assert len(cmd.get("options") or []) <= 25
            walk(cmd.get("options") or [])
        # persistent buttons: templates are namespaced and leave room for ids
        for item_cls in bot._connection._view_store._dynamic_items:  # pattern -> class
            pattern = item_cls.pattern if hasattr(item_cls, "pattern") else item_cls
            assert len(pattern) < 200
        # every command belongs to a cog with a help title
        for cog in bot.cogs.values():
            if cog.get_app_commands():
                assert getattr(cog, "feature_title", None), cog.qualified_name
        # the hash is stable for the same tree
        assert await bot.command_hash() == await bot.command_hash()
    finally:
        for ext in list(bot.extensions):
            await bot.unload_extension(ext)
        await bot.db.close()


def test_dynamic_item_custom_ids_fit() -> None:
    # A custom id produced by the largest realistic ids stays under Discord's 100 characters.
    big = str(2**63)
    assert len(f"pr:rv:{big}:{big}:ap") <= CUSTOM_ID_MAX
    assert len(f"rt:rsvp:{big}:{big}:going") <= CUSTOM_ID_MAX


def test_error_descriptions() -> None:
    msg, expected = describe_error(
        app_commands.CommandInvokeError(SimpleNamespace(name="x"), InvalidInput("Title too long."))
    )  # type: ignore[arg-type]
    assert expected and msg == "Title too long."
    msg, expected = describe_error(Conflict("Already approved by mod 2 minutes ago."))
    assert expected and "Already approved" in msg
    msg, expected = describe_error(RuntimeError("boom"))
    assert not expected


# -- services return data: Discord markup is built in embeds.py / views.py / cog.py only ------------------
ROOT = Path(__file__).resolve().parent.parent
RENDERING_MODULES = {"cog.py", "views.py", "embeds.py", "__init__.py", "cli.py"}
DISCORD_MARKUP = ("<t:", "<@", "<#")  # timestamps, member and role mentions, channel mentions
# (module, function) pairs allowed for now, each with why.
MARKUP_ALLOWED: set[tuple[str, str]] = set()  # (module, function) pairs allowed, each with why: none today


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (text about markup, not markup)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def markup_in_services(root: Path = ROOT) -> list[str]:
    """Every string literal (or f-string piece) of a service or pure module in cogs/ that holds Discord
    markup, as 'path:line: function: text'."""
    found: list[str] = []
    for path in sorted((root / "cogs").rglob("*.py")):
        if path.name in RENDERING_MODULES:
            continue
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), rel)
        found += _markup_in(tree, rel, _docstrings(tree), "<module>")
    return found


def _markup_in(node: ast.AST, rel: str, docs: set[int], func: str) -> list[str]:
    found: list[str] = []
    for child in ast.iter_child_nodes(node):
        name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func
        if (isinstance(child, ast.Constant) and isinstance(child.value, str) and id(child) not in docs
                and any(m in child.value for m in DISCORD_MARKUP) and (rel, name) not in MARKUP_ALLOWED):
            found.append(f"{rel}:{child.lineno}: {name}: {child.value[:60]!r}")
        found += _markup_in(child, rel, docs, name)
    return found


def test_services_build_no_discord_markup() -> None:
    """Services return data (ids, datetimes) or raise errors whose members and times are
    bot.errors.Mention/Moment parts; mentions and timestamps are written by embeds.py/views.py/cog.py
    (and bot.interactions for error messages)."""
    assert markup_in_services() == []


def test_markup_scan_finds_markup(tmp_path: Path) -> None:
    feature = tmp_path / "cogs" / "demo"
    feature.mkdir(parents=True)
    (feature / "service.py").write_text(
        '"""Shows <t:1:R> in a docstring: fine."""\n'
        "def f(uid: int) -> str:\n    return f'by <@{uid}>'\n"
        "X = 'in <#5>'\n", encoding="utf-8")
    (feature / "embeds.py").write_text("def g(uid: int) -> str:\n    return f'<@{uid}>'\n", encoding="utf-8")
    found = markup_in_services(tmp_path)
    assert [f.split(": ")[0] for f in found] == ["cogs/demo/service.py:3", "cogs/demo/service.py:4"], found
