"""Languages (issue 13, the kernel): catalogs, command localizations, and replies, posts and DMs each in
their reader's language (bot/i18n.py, bot/translator.py, docs/i18n.md).

* Every catalog has every message id of the code and of the command tree, with the English placeholders,
  and every localized command text fits Discord's limits; the check itself finds each kind of fault.
* The modules converted so far show no English sentence that bypasses the catalogs (an AST scan).
* The pseudo-locale (every string ~40% longer, accented) runs the hostile-input sweep over every
  command, modal, button and autocomplete: nothing overflows a Discord limit, nothing crashes.
* End to end through the fake Discord: the synced commands carry fr / es-ES / es-419 localizations;
  `/help` in French; an error in Spanish; `/settings language` changes the language of a post; a DM
  follows the language the recipient last used, else the server's.
"""

from __future__ import annotations

import ast
import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot import i18n
from bot.app import AttacheBot
from bot.config import Config
from bot.db import Database
from bot.i18n import (
    ENGLISH,
    PSEUDO,
    Languages,
    Msg,
    accent,
    available_languages,
    country_name,
    format_list,
    format_number,
    format_relative,
    language_name,
    language_of,
    month_name,
    nt,
    placeholders,
    pseudo,
    render,
    t,
    weekday_name,
)
from bot.i18n_tools import Message, code_messages, loaded_tree_messages, problems
from bot.sandbox.emulation import FakeDiscord, check_commands
from bot.settings import SettingsService
from bot.translator import CatalogTranslator
from tests.e2e import World
from tests.test_hostile_input import CRASH_TEXT, hostile_sweep

ROOT = Path(__file__).resolve().parent.parent
LANGS = [lang for lang in available_languages() if lang != ENGLISH]
DISCORD_LOCALES = {"fr": "fr", "es-ES": "es", "es-419": "es"}


# -- catalogs ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def messages() -> list[Message]:
    return code_messages() + asyncio.run(loaded_tree_messages())


def test_french_and_spanish_are_discovered_from_the_folder() -> None:
    assert available_languages()[0] == ENGLISH
    assert {"fr", "es"} <= set(LANGS)


def test_every_catalog_has_every_message_with_its_placeholders_and_within_limits(
    messages: list[Message],
) -> None:
    assert len({m.msgid for m in messages}) > 300  # the code's and every command's texts
    wheres = {m.where.split(":")[0] for m in messages}
    for module in ("bot/interactions.py", "bot/paging.py", "bot/ui.py", "bot/checks.py", "bot/settings.py",
                   "cogs/meta/cog.py", "cogs/privacy/cog.py", "cogs/settings/cog.py"):
        assert module in wheres, module
    for lang in LANGS:
        assert problems(lang, messages) == [], lang


def test_the_catalog_check_finds_a_missing_a_wrong_and_a_long_translation(tmp_path: Path) -> None:
    folder = tmp_path / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "attache.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Hello {name}"\nmsgstr "Salut {nom}"\n\n'
        'msgid "Short"\nmsgstr "' + "x" * 101 + '"\n', encoding="utf-8")
    found = problems("xx", [Message("Hello {name}", None, "a"), Message("Short", None, "/c", 100),
                            Message("Missing", None, "b")], directory=tmp_path)
    assert len(found) == 3, found
    assert any("placeholders" in p for p in found) and any("101 characters" in p for p in found)
    assert any("no translation of 'Missing'" in p for p in found)


def test_a_translation_with_other_placeholders_is_never_used() -> None:
    # lookup() refuses it, _fill() falls back to English: a bad catalog can't break a reply
    assert i18n._fill("fr", "Hello {name}", "Salut {nom}", {"name": "Ana"}) == "Hello Ana"


# -- reading and formatting -----------------------------------------------------------------------------
def test_language_of_a_discord_locale() -> None:
    assert [language_of(x) for x in ("fr", "es-ES", "es-419", "en-US", "en-GB", "de", None, "")] == [
        "fr", "es", "es", "en", "en", "en", "en", "en"]


def test_t_nt_and_msg_in_each_language() -> None:
    assert t("fr", "Page {page}/{pages}", page=2, pages="3+") == "Page 2/3+"
    assert t("es", "Page {page}/{pages}", page=2, pages=5) == "Página 2/5"
    assert t("de", "Audit log") == "Audit log"  # no catalog: English
    one, many = "{n} audit entry, newest first (CSV).", "{n} audit entries, newest first (CSV)."
    assert nt("en", one, many, 1) == "1 audit entry, newest first (CSV)."
    assert nt("fr", one, many, 1).startswith("1 entrée ")
    assert nt("fr", one, many, 0).startswith("0 entrée ")  # French: 0 is singular
    assert nt("es", one, many, 0).startswith("0 entradas ")
    assert nt("fr", one, many, 1234).startswith("1\u202f234 entrées")  # the number in French
    msg = Msg("Creating {kind}: no limit (moderators are exempt).", kind=Msg("practices"))
    assert render("es", msg) == "Creación de prácticas: sin límite (los moderadores están exentos)."
    assert str(msg) == "Creating practices: no limit (moderators are exempt)."
    assert render("fr", "Setup") == "Configuration" and render("fr", "<#12>") == "<#12>"


def test_babel_formatting() -> None:
    assert format_list("fr", ["Paris", "Lyon", "Dakar"]) == "Paris, Lyon et Dakar"
    assert format_list("es", ["Paris", "Lyon", "Dakar"]) == "Paris, Lyon y Dakar"
    assert format_list("en", ["Paris", "Lyon", "Dakar"]) == "Paris, Lyon, and Dakar"
    assert format_relative("fr", timedelta(days=3)) == "dans 3 jours"
    assert format_relative("es", timedelta(days=3)) == "dentro de 3 días"
    assert format_relative("en", -timedelta(hours=2)) == "2 hours ago"
    assert (country_name("fr", "MX"), country_name("es", "mx"), country_name("en", "MX")) == (
        "Mexique", "México", "Mexico")
    assert country_name("fr", "ZZZ") == "ZZZ"
    assert (month_name("fr", 12), month_name("es", 12), weekday_name("fr", 1), weekday_name("es", 1)) == (
        "décembre", "diciembre", "mardi", "martes")
    assert format_number("fr", 1234.5) == "1\u202f234,5" and format_number("en", 1234.5) == "1,234.5"
    assert [language_name(x) for x in ("en", "fr", "es")] == ["English", "Français", "Español"]
    assert [language_name("es", x) for x in ("en", "fr", "es")] == ["Spanish", "espagnol", "español"]


def test_pseudo_locale_is_longer_accented_and_keeps_markup() -> None:
    for text in ("Go on", "Slow down: you can use this again {when}.", "See `/settings show` and <t:1:R>"):
        shown = pseudo(text)
        assert len(shown) >= 1.4 * len(text)
        assert placeholders(shown) == placeholders(text)
        assert not re.search(r"[A-Za-z]{4}", re.sub(r"\{[^}]*\}|`[^`]*`|<[^>]*>", "", shown)), shown
    assert "`/settings show`" in pseudo("See `/settings show`") and "<t:1:R>" in pseudo("at <t:1:R>")
    assert t(PSEUDO, "Audit log") == pseudo("Audit log")
    assert nt(PSEUDO, "{n} day", "{n} days", 2) == pseudo("{n} days").replace("{n}", "2")


# -- whose language --------------------------------------------------------------------------------------
async def test_languages_of_servers_and_members(db: Database) -> None:
    settings = SettingsService(db)
    discord_locales = {1: "fr", 2: "es-419", 3: "ja"}
    langs = Languages(db, settings, guild_locale=discord_locales.get)
    assert [await langs.for_guild(g) for g in (1, 2, 3, 4, None)] == ["fr", "es", "en", "en", "en"]
    await settings.set(1, "language", "es", actor_id=9)
    assert await langs.for_guild(1) == "es"  # the setting wins over the server's Discord language
    await settings.set(1, "language", None, actor_id=9)
    assert await langs.for_guild(1) == "fr"
    assert await langs.for_member(1, 7) == "fr"  # never seen: the server's
    await langs.remember(1, 7, "es-ES")
    assert await langs.for_member(1, 7) == "es"
    assert await langs.for_member(2, 7) == "es"  # another server: its own language (nothing crosses)
    await langs.remember(3, 7, "fr")
    assert await langs.for_member(3, 7) == "fr" and await langs.for_guild(3) == "en"
    before = db.query_count
    await langs.remember(1, 7, "es-419")  # the same language: no write
    assert db.query_count == before
    await langs.flush()  # noted languages are written together, a moment later
    fresh = Languages(db, settings, guild_locale=discord_locales.get)  # a restart: read back from the db
    assert await fresh.for_member(1, 7) == "es"
    rows = await db.fetchall("SELECT guild_id, user_id, language FROM member_languages ORDER BY guild_id")
    assert [tuple(r) for r in rows] == [(1, 7, "es"), (3, 7, "fr")]
    langs.forced = PSEUDO
    assert await langs.for_guild(1) == PSEUDO and await langs.for_member(1, 7) == PSEUDO
    with pytest.raises(Exception, match="Unknown language"):
        await settings.set(1, "language", "xx", actor_id=9)


# -- command localizations ---------------------------------------------------------------------------------
async def _translated_payload(config: Config) -> tuple[AttacheBot, list[dict[str, Any]]]:
    from bot.app import create_bot, discover_extensions

    bot = create_bot(config)
    await bot.db.connect()
    await bot.db.migrate()
    for ext in discover_extensions():
        await bot.load_extension(ext)
    await bot.tree.set_translator(CatalogTranslator())
    return bot, await bot.command_payload()


def _assert_localized(english: str, local: dict[str, str]) -> None:
    """Each Discord locale gets its catalog's text (none when it reads the same as the English: "CSV")."""
    for loc, lang in DISCORD_LOCALES.items():
        expected = t(lang, english)
        assert expected != english or loc not in local, (english, loc)
        if expected != english:
            assert local.get(loc) == expected and 1 <= len(expected) <= 100, (english, loc, local)


def _walk(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        out.append(item)
        out.extend(_walk(item.get("options") or []))
    return out


async def test_every_description_and_choice_is_localized_names_stay_english(config: Config) -> None:
    bot, payload = await _translated_payload(config)
    try:
        assert check_commands(payload) == []  # lengths, locales, and the 4,000-character total
        language_choices = {language_name(lang) for lang in available_languages()}
        for node in _walk(payload):
            assert not node.get("name_localizations"), node["name"]
            local = node.get("description_localizations") or {}
            _assert_localized(node["description"], local)
            for choice in node.get("choices") or []:
                if choice["name"] in language_choices:
                    continue  # each language under its own name, everywhere
                _assert_localized(choice["name"], choice.get("name_localizations") or {})
        localized = sum(bool(n.get("description_localizations")) for n in _walk(payload))
        assert localized == len(_walk(payload))  # no description reads the same in French or Spanish
        first = await bot.command_hash()
        assert first == await bot.command_hash()
    finally:
        for ext in list(bot.extensions):
            await bot.unload_extension(ext)
        await bot.db.close()


async def test_a_changed_translation_changes_the_sync_hash(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, _ = await _translated_payload(config)
    try:
        before = await bot.command_hash()
        real = i18n.lookup

        def changed(lang: str, msgid: str) -> str | None:
            if lang == "fr" and msgid == "The commands you can use, grouped by feature":
                return "Les commandes d'Attaché"
            return real(lang, msgid)

        monkeypatch.setattr("bot.translator.lookup", changed)
        assert await bot.command_hash() != before
    finally:
        for ext in list(bot.extensions):
            await bot.unload_extension(ext)
        await bot.db.close()


async def test_translator_leaves_names_and_english_alone() -> None:
    tr = CatalogTranslator()
    desc = app_commands.TranslationContext(app_commands.TranslationContextLocation.command_description, None)
    name = app_commands.TranslationContext(app_commands.TranslationContextLocation.command_name, None)
    text = app_commands.locale_str("The commands you can use, grouped by feature")
    assert await tr.translate(text, discord.Locale.french, desc) == (
        "Les commandes que vous pouvez utiliser, par fonction")
    assert await tr.translate(text, discord.Locale.latin_american_spanish, desc) == (
        "Los comandos que puede usar, agrupados por función")
    assert await tr.translate(text, discord.Locale.american_english, desc) is None
    assert await tr.translate(text, discord.Locale.japanese, desc) is None  # no catalog
    assert await tr.translate(app_commands.locale_str("help"), discord.Locale.french, name) is None


# -- no English bypasses the catalogs in the converted modules ---------------------------------------------
CONVERTED = ["bot/interactions.py", "bot/paging.py", "bot/ui.py", "bot/checks.py", "bot/settings.py",
             "cogs/meta/cog.py", "cogs/privacy/cog.py", "cogs/settings/cog.py",
             "bot/timeparse.py", "bot/transformers.py", "bot/places.py", "bot/embeds.py", "bot/export.py",
             "bot/limits.py", "bot/app.py", "bot/errors.py",
             "cogs/practices/cog.py", "cogs/practices/embeds.py", "cogs/practices/views.py",
             "cogs/practices/pictures.py",
             "cogs/directory/cog.py", "cogs/directory/embeds.py",
             "cogs/onboarding/cog.py", "cogs/onboarding/embeds.py", "cogs/onboarding/views.py",
             "cogs/roundtables/cog.py", "cogs/roundtables/embeds.py", "cogs/roundtables/views.py",
             "cogs/roundtables/pictures.py", "cogs/roundtables/findtime.py", "cogs/roundtables/ics.py",
             "bot/calendar_links.py",
             "cogs/mous/cog.py", "cogs/mous/embeds.py", "cogs/mous/views.py", "cogs/mous/pictures.py",
             "cogs/mous/exports.py", "cogs/mous/service.py", "cogs/mous/records.py", "cogs/calendar/cog.py",
             # the services and records whose text a member or a server sees (their SQL is skipped)
             "bot/scheduler.py", "bot/audit.py", "bot/retention.py",
             "cogs/roundtables/recurrence.py", "cogs/roundtables/service.py",
             "cogs/directory/records.py", "cogs/directory/service.py", "cogs/directory/profiles.py",
             "cogs/directory/networks.py", "cogs/directory/cities.py", "cogs/directory/imports.py",
             "cogs/mous/planning.py", "cogs/mous/owners.py", "cogs/mous/reminders.py",
             "cogs/mous/agreements.py",
             "cogs/practices/library.py", "cogs/practices/records.py", "cogs/practices/service.py",
             "cogs/practices/ranking.py", "cogs/practices/reindex.py",
             "cogs/privacy/service.py", "cogs/onboarding/service.py"]
# Not scanned: the demo data (cogs/*/sample.py), the operator's command line (bot/__main__.py,
# bot/config.py, bot/db.py, bot/i18n_tools.py, bot/invite.py, cogs/directory/cli.py: English, see
# docs/i18n.md), what members type rather than read (bot/timewords.py, cogs/directory/gazetteer.py,
# cogs/practices/glossary.py), and HTTP for calendar apps (bot/web.py, cogs/calendar/service.py: headers;
# the feed's texts come from the features' ics.py modules, in the reader's language).
MARKERS = {"t", "nt", "N_", "Msg"}
# Calls whose text is not shown to members here: logs, programming errors, Discord's audit-log reason, and
# the command metadata (descriptions, choice names), which the catalog test reads from the command tree.
EXEMPT_CALLS = {"debug", "info", "warning", "error", "exception", "TypeError", "ValueError", "RuntimeError",
                "describe", "command", "Choice", "GroupCog", "getLogger",
                "execute", "executemany", "fetchall", "fetchone", "fetchval"}
EXEMPT_KEYWORDS = {"description", "group_description", "reason", "name", "group_name"}
SENTENCE = re.compile(r"[A-Za-z]{2,}[,.:;!?]?\s+[A-Za-z]{2,}")


# SQL is code, not a sentence: a statement, a fragment of one (a condition, a clause, a column list) or a
# constant named for it (SQL_*, *_SQL, *_COLUMNS). Precise on purpose: an English sentence that merely
# names a keyword in lowercase ("select a role", "order by date") is still a sentence.
SQL_STATEMENT = re.compile(
    r"^[\s(]*(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER|PRAGMA|BEGIN|REPLACE)\s")
SQL_WORDS = frozenset(
    "SELECT INSERT UPDATE DELETE WITH CREATE DROP ALTER PRAGMA BEGIN COMMIT FROM WHERE AND OR NOT IN IS NULL "
    "JOIN LEFT CROSS INNER OUTER ON AS ORDER GROUP BY LIMIT OFFSET HAVING CASE WHEN THEN ELSE END SET "
    "VALUES INTO EXISTS MATCH DESC ASC COALESCE COUNT DISTINCT UNION LIKE BETWEEN COLLATE NOCASE "
    "IMMEDIATE CONFLICT DO NOTHING RETURNING".split())
# what a fragment holds besides keywords: identifiers (a_b, p.id), parameters (?, :name), SQL string
# literals, numbers, operators and brackets
SQL_NOISE = re.compile(r"'[^']*'|:?\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\b"
                       r"|\b[A-Za-z]*_[A-Za-z0-9_]*\b|:[a-z_]+|[?0-9=<>!+*/%&|(),.-]")
SQL_COLUMN_LIST = re.compile(r"^\s*[a-z_][a-z0-9_.]*(?:\s*,\s*[a-z_][a-z0-9_.]*)+,?\s*$")


def sql_name(name: str) -> bool:
    """A constant named for SQL: SQL_TITLE, _M_SQL, IN_FORCE_SQL, _COLUMNS."""
    bare = name.lstrip("_").upper()
    return bare.startswith("SQL") or bare.endswith("SQL") or bare.endswith("COLUMNS")


def typed_name(name: str) -> bool:
    """A constant of what members type (read by a parser, never shown): REPEAT_ALIASES."""
    return name.lstrip("_").upper().endswith("ALIASES")


def is_sql(text: str) -> bool:
    """True when `text` is SQL or a fragment of it rather than words a person reads."""
    if SQL_STATEMENT.match(text):
        return True
    if SQL_COLUMN_LIST.match(text) and "_" in text:
        return True  # "id, guild_id, status, title": a column list
    words = re.findall(r"\b[A-Z]+\b", text)
    if not any(w in SQL_WORDS for w in words):
        return False
    rest = SQL_NOISE.sub(" ", re.sub(r"\b(?:" + "|".join(sorted(SQL_WORDS)) + r")\b", " ", text))
    return not SENTENCE.search(rest)


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def bypasses(source: str, where: str) -> list[str]:
    """English sentences in `source` outside the catalog markers (t, nt, N_, Msg) and the exempt calls."""
    tree = ast.parse(source)
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    found: list[str] = []

    def sql_parts(node: ast.AST) -> bool:
        """A statement built from parts (an f-string, a + b, "…".join): one SQL part makes all of it SQL."""
        return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and SQL_STATEMENT.match(n.value)
                   for n in ast.walk(node))

    def visit(node: ast.AST, exempt: bool) -> None:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [x.id if isinstance(x, ast.Name) else x.attr if isinstance(x, ast.Attribute) else ""
                     for x in targets]
            if any(sql_name(name) or typed_name(name) for name in names if name):
                return  # SQL_TITLE = "…", _M_SQL = (…), _COLUMNS = "…"
        if isinstance(node, ast.JoinedStr | ast.BinOp) and sql_parts(node):
            return  # f"SELECT … {where} ORDER BY …", "SELECT …" + _FILTERS
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in MARKERS or name in EXEMPT_CALLS:
                exempt = True
            for arg in node.args:
                visit(arg, exempt)
            for kw in node.keywords:
                visit(kw.value, exempt or kw.arg in EXEMPT_KEYWORDS)
            visit(node.func, exempt)
            return
        if isinstance(node, ast.Compare):
            return  # matching a library's error text, not showing one
        if isinstance(node, ast.ClassDef):
            for stmt in [*node.decorator_list, *node.body]:
                visit(stmt, exempt)
            return  # its keywords (group_name, group_description) are command metadata
        if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "feature_title" for target in node.targets):
            return  # read from the loaded cogs by the catalog test
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if not exempt and SENTENCE.search(node.value) and not is_sql(node.value):
                found.append(f"{where}:{node.lineno}: {node.value[:80]!r}")
            return
        for child in ast.iter_child_nodes(node):
            visit(child, exempt)

    visit(tree, False)
    return found


def test_no_english_sentence_bypasses_the_catalogs_in_converted_modules() -> None:
    found = [b for path in CONVERTED for b in bypasses((ROOT / path).read_text(encoding="utf-8"), path)]
    assert found == []


def test_the_bypass_scan_finds_a_bare_sentence() -> None:
    source = ('"""Doc string here."""\nimport logging\nlog = logging.getLogger("x")\n'
              'async def f(i, lang):\n'
              '    log.info("a log line is fine")\n'
              '    await reply(i, t(lang, "Marked for the catalogs."))\n'
              '    await reply(i, "Nothing was deleted.")\n'
              '    await reply(i, f"Done: {3} rows were deleted.")\n')
    found = bypasses(source, "x.py")
    assert len(found) == 2 and "Nothing was deleted" in found[0] and "rows were deleted" in found[1], found


def test_the_bypass_scan_skips_sql_and_still_finds_a_sentence_next_to_it() -> None:
    source = ('SQL_LIST = "SELECT id, title FROM things WHERE guild_id = ? ORDER BY id"\n'
              'IN_FORCE_SQL = "(\'active\', \'renewed\')"\n'
              '_COLUMNS = "id, guild_id, status, title, summary"\n'
              'async def f(db, i, where, owner):\n'
              '    cond = " AND ".join(where) + " AND a.expires_on BETWEEN :today AND :until"\n'
              '    rows = await db.fetchall(f"SELECT a.id FROM a WHERE {cond} ORDER BY a.id LIMIT ?", (9,))\n'
              '    q = f"SELECT p.id, {owner} AS snip FROM practices AS p WHERE p.id IN ({owner})"\n'
              '    reset = ", verified = 0, verified_by = NULL, verified_ms = NULL"\n'
              '    x = "EXISTS (SELECT 1 FROM owners o WHERE o.agreement_id = a.id AND o.user_id = :o)"\n'
              '    y = "status IN (\'done\', \'failed\') AND COALESCE(finished_ms, updated_ms) < ?"\n'
              '    await reply(i, "This agreement is signed; its status can no longer change.")\n'
              '    await reply(i, "Select a role and order by date, where you like.")\n'
              '    await reply(i, "UNVERIFIED: no source confirmed this membership")\n')
    found = bypasses(source, "x.py")
    assert len(found) == 3, found
    assert "its status can no longer" in found[0] and "order by date" in found[1] and "UNVERIFIED" in found[2]
    assert is_sql("SELECT 1") and is_sql(" ORDER BY id DESC LIMIT ?") and is_sql("CASE WHEN p.id IN (")
    assert not is_sql("Nothing was deleted.") and not is_sql("Use AND between two words, as you like.")


# -- the pseudo-locale through the hostile-input sweep ------------------------------------------------------
async def test_pseudo_locale_sweep_nothing_overflows(
    fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every reply, post and DM in the pseudo-locale (each string ~40% longer): the sweep's checks hold
    (`fake.violations == []`: no body over a Discord limit; no crash; every interaction answered)."""
    await hostile_sweep(fake_discord, tmp_path, caplog, examples=1, language=PSEUDO,
                        crash_markers=(accent(CRASH_TEXT), accent("Reference:")))


# -- end to end --------------------------------------------------------------------------------------------
async def test_synced_commands_carry_french_and_spanish_descriptions(started_bot: World) -> None:
    fake = started_bot.fake
    commands = fake.commands_for(None)
    help_cmd = next(c for c in commands if c["name"] == "help")
    assert help_cmd["description_localizations"] == {
        "fr": "Les commandes que vous pouvez utiliser, par fonction",
        "es-ES": "Los comandos que puede usar, agrupados por función",
        "es-419": "Los comandos que puede usar, agrupados por función",
    }
    settings = next(c for c in commands if c["name"] == "settings")
    language = next(o for o in settings["options"] if o["name"] == "language")
    assert language["description_localizations"]["fr"] == (
        "Définir la langue des publications d'Attaché dans ce serveur")
    assert [c["name"] for c in language["options"][0]["choices"]][:3] == ["English", "Español", "Français"]
    assert fake.violations == [] and fake.unhandled == []


async def test_help_in_french(started_bot: World) -> None:
    w = started_bot
    res = await w.fake.invoke(w.guild, w.alice, "help", locale="fr")
    embed = res.embeds[0]
    assert embed["title"].startswith("Aide d'Attaché — ")
    assert embed["footer"]["text"].startswith("Cliquez sur une commande pour la remplir.")
    assert "Page 1/" in embed["footer"]["text"]
    labels = [c.get("label") for row in res.message["components"] for c in row["components"]]
    assert "Suiv. ›" in labels and "‹ Préc." in labels
    pages = [embed]
    for _ in range(12):  # the French descriptions are on the pages
        nxt = await w.fake.click(w.guild, w.alice, res.message["id"], _custom_id(res.message, "Suiv. ›"),
                                 locale="fr")
        shown = nxt.message or w.fake.get_message(res.message["id"])
        assert shown is not None
        pages.append(shown["embeds"][0])
        if "Les commandes que vous pouvez utiliser, par fonction" in str(pages):
            break
    assert "Les commandes que vous pouvez utiliser, par fonction" in str(pages)
    english = await w.fake.invoke(w.guild, w.bob, "help")
    assert english.embeds[0]["title"].startswith("Attaché help — ")
    assert w.fake.violations == [] and w.fake.unhandled == []


def _custom_id(message: dict[str, Any], label: str) -> str:
    for row in message["components"]:
        for c in row["components"]:
            if c.get("label") == label:
                return str(c["custom_id"])
    raise LookupError(label)


async def test_an_error_in_spanish(started_bot: World) -> None:
    w = started_bot
    res = await w.fake.invoke(w.guild, w.alice, "audit", locale="es-ES")
    assert res.ephemeral
    assert "Solo los moderadores pueden hacer esto" in res.text, res.text
    res = await w.fake.invoke(w.guild, w.alice, "audit", locale="es-419")
    assert "Solo los moderadores" in res.text
    res = await w.fake.invoke(w.guild, w.alice, "audit")
    assert "Only moderators can do that" in res.text
    assert w.fake.violations == [] and w.fake.unhandled == []


async def test_settings_language_changes_the_language_of_posts(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    mark = fake.mark()
    res = await fake.invoke(w.guild, w.admin, "settings language", {"language": "fr"})
    assert "will be in French" in res.text  # the admin's own reply: their client is English
    post = await fake.wait_for_message(w.announcements, after=mark)
    assert post["content"].startswith("Désormais, Attaché publie dans ce serveur en français.")
    assert await w.bot.languages.for_guild(w.guild.id) == "fr"
    mark = fake.mark()
    res = await fake.invoke(w.guild, w.admin, "settings language", {"language": "es"}, locale="es-ES")
    assert "estarán en español" in res.text
    post = await fake.wait_for_message(w.announcements, after=mark)
    assert post["content"].startswith("A partir de ahora, Attaché publica en este servidor en español.")
    show = await fake.invoke(w.guild, w.admin, "settings show", locale="fr")
    fields = {f["name"]: f["value"] for f in show.embeds[0]["fields"]}
    assert show.embeds[0]["title"] == "Réglages d'Attaché" and fields["Langue"] == "Español"
    # automatic: the server's Discord language
    w.guild.set_preferred_locale("fr")
    await fake.sync_gateway()
    await fake.invoke(w.guild, w.admin, "settings language", {"language": "auto"})
    assert await w.bot.languages.for_guild(w.guild.id) == "fr"
    show = await fake.invoke(w.guild, w.admin, "settings show")
    fields = {f["name"]: f["value"] for f in show.embeds[0]["fields"]}
    assert fields["Language"] == "automatic: the server's Discord language"
    assert fake.violations == [] and fake.unhandled == []


async def test_a_dm_follows_the_recipients_last_language(started_bot: World) -> None:
    w = started_bot
    fake, bot, gid = w.fake, w.bot, w.guild.id
    await w.bot.settings.set(gid, "language", "fr", actor_id=w.admin.id)
    await fake.invoke(w.guild, w.bob, "help", locale="es-419")  # bob's client is Spanish
    await fake.invoke(w.guild, w.alice, "help", locale="es-ES")
    await fake.invoke(w.guild, w.alice, "help", locale="en-GB")  # alice went back to English
    for who in (w.bob, w.alice, w.carol):  # carol never used the bot here: the server's language
        key = f"test:dm:{who.id}"
        await bot.scheduler.schedule("core.dm", bot.clock(), guild_id=gid, dedupe_key=key,
                                     payload={"user": who.id, "msg": "Nothing was deleted."})
        await bot.scheduler.run_now(gid, key)
    texts = {who.user.name: [m["content"] for m in fake.dms(who)] for who in (w.bob, w.alice, w.carol)}
    assert texts == {"bob": ["No se ha borrado nada."], "alice": ["Nothing was deleted."],
                     "carol": ["Rien n'a été supprimé."]}
    assert fake.violations == [] and fake.unhandled == []
