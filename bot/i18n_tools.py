"""Catalog upkeep (docs/i18n.md): what the code and the command tree say in English, and the catalogs.

    python -m bot.i18n_tools extract          # bot/locales/attache.pot: every message id and where it is used
    python -m bot.i18n_tools update [LANG..]  # merge it into each catalog (new ids empty, old ones kept)
    python -m bot.i18n_tools check            # what each catalog misses or gets wrong (exit 1 if anything)

Message ids come from two places: the code (Babel's extractor over `bot/` and `cogs/`, the keywords
`t`, `nt`, `N_` and `Msg`), and the command tree as the bot loads it (every command, group and option
description, every choice name, every feature title shown by /help), since command metadata is
written once, in English, in the decorators. Nothing here runs inside the bot."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import (
    DOMAIN,
    ENGLISH,
    LOCALES_DIR,
    available_languages,
    catalog_path,
    language_name,
    placeholders,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("bot", "cogs")
KEYWORDS: dict[str, tuple[int, ...] | None] = {"t": (2,), "nt": (2, 3), "N_": None, "Msg": None}
TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
# Discord's limit for a localized command description or choice name.
COMMAND_TEXT_MAX = 100


@dataclass(frozen=True, slots=True)
class Message:
    msgid: str
    plural: str | None
    where: str
    limit: int | None = None  # a Discord limit on the translation (command texts)


def code_messages(root: Path = ROOT, dirs: Iterable[str] = SOURCE_DIRS) -> list[Message]:
    """Every message id marked in the code (t, nt, N_, Msg), with file and line."""
    out: list[Message] = []
    for name in dirs:
        base = root / name
        method_map = [("sandbox/**.py", "ignore"), ("**.py", "python")]
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(base), method_map=method_map, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True
        ):
            where = f"{name}/{filename}:{lineno}"
            if isinstance(message, tuple):
                singular, plural = message[0], message[1] if len(message) > 1 else None
                if singular:
                    out.append(Message(singular, plural or None, where))
            elif message:
                out.append(Message(message, None, where))
    return out


def _walk_options(options: Iterable[dict[str, Any]], path: str) -> Iterator[Message]:
    for opt in options:
        where = f"/{path} {opt['name']}"
        if opt.get("description"):
            yield Message(opt["description"], None, where, COMMAND_TEXT_MAX)
        for choice in opt.get("choices") or []:
            if choice["value"] in available_languages() and choice["name"] == language_name(choice["value"]):
                continue  # a language is offered under its own name, the same in every language
            yield Message(choice["name"], None, f"{where} choice", COMMAND_TEXT_MAX)
        yield from _walk_options(opt.get("options") or [], f"{path} {opt['name']}")


def tree_messages(payload: list[dict[str, Any]], feature_titles: Iterable[str] = ()) -> list[Message]:
    """The English texts of a synced command payload (descriptions, choice names) and the /help titles."""
    out: list[Message] = []
    for command in payload:
        if command.get("description"):
            out.append(Message(command["description"], None, f"/{command['name']}", COMMAND_TEXT_MAX))
        out.extend(_walk_options(command.get("options") or [], command["name"]))
    out.extend(Message(title, None, "/help title") for title in feature_titles)
    return out


async def loaded_tree_messages() -> list[Message]:
    """Load every feature offline (a throwaway database) and read its commands."""
    from bot.app import create_bot, discover_extensions
    from bot.config import parse_config

    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config({"database_path": "i18n.db", "sync_commands": "off"}, base_dir=Path(tmp))
        bot = create_bot(config)
        await bot.db.connect()
        await bot.db.migrate()
        try:
            for ext in discover_extensions():
                await bot.load_extension(ext)
            titles = [str(getattr(cog, "feature_title", "")) for cog in bot.cogs.values()
                      if getattr(cog, "feature_title", None)]
            return tree_messages(await bot.command_payload(), titles)
        finally:
            for ext in list(bot.extensions):
                await bot.unload_extension(ext)
            await bot.db.close()


def all_messages() -> list[Message]:
    return code_messages() + asyncio.run(loaded_tree_messages())


def template(messages: Iterable[Message]) -> Catalog:
    catalog = Catalog(domain=DOMAIN, project="Attaché", charset="utf-8", fuzzy=False)
    for m in messages:
        msgid: str | tuple[str, str] = (m.msgid, m.plural) if m.plural else m.msgid
        path, _, line = m.where.partition(":")
        catalog.add(msgid, locations=[(path, int(line) if line.isdigit() else 0)])
    return catalog


def problems(lang: str, messages: Iterable[Message], directory: Path = LOCALES_DIR) -> list[str]:
    """What the `lang` catalog misses or gets wrong: an id without a translation, other placeholders than
    the English, a command text over Discord's limit."""
    with catalog_path(lang, directory).open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    out: list[str] = []
    for m in messages:
        key: str | tuple[str, str] = (m.msgid, m.plural) if m.plural else m.msgid
        entry = catalog.get(m.msgid)
        strings: list[str] = []
        if entry is not None and not entry.fuzzy:
            raw = entry.string if isinstance(entry.string, tuple | list) else [entry.string]
            strings = [str(s or "") for s in raw]
        if not strings or not all(strings):
            out.append(f"{lang}: no translation of {key!r} ({m.where})")
            continue
        for s in strings:
            if placeholders(s) != placeholders(m.msgid):
                out.append(f"{lang}: {m.msgid!r} -> {s!r}: other placeholders ({m.where})")
            if m.limit is not None and len(s) > m.limit:
                out.append(f"{lang}: {s!r} is {len(s)} characters > {m.limit} ({m.where})")
    return out


def update(langs: Iterable[str], messages: list[Message]) -> None:
    pot = template(messages)
    for lang in langs:
        path = catalog_path(lang)
        if path.is_file():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=lang, domain=DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, domain=DOMAIN, project="Attaché", charset="utf-8")
        catalog.update(pot, no_fuzzy_matching=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=0, include_lineno=False, ignore_obsolete=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.i18n_tools", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("extract", help=f"write {TEMPLATE.relative_to(ROOT)}")
    up = sub.add_parser("update", help="merge the template into catalogs (all, or the languages given)")
    up.add_argument("langs", nargs="*")
    sub.add_parser("check", help="list missing or inconsistent translations")
    args = parser.parse_args(argv)
    messages = all_messages()
    if args.cmd == "extract":
        with TEMPLATE.open("wb") as fh:
            write_po(fh, template(messages), width=0, include_lineno=False)
        sys.stdout.write(f"{len(template(messages))} messages -> {TEMPLATE}\n")
        return 0
    langs = [lang for lang in available_languages() if lang != ENGLISH]
    if args.cmd == "update":
        update(args.langs or langs, messages)
        return 0
    found = [p for lang in langs for p in problems(lang, messages)]
    sys.stdout.write("\n".join(found) + ("\n" if found else "all catalogs complete\n"))
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
