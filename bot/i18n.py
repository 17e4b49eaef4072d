"""Languages: gettext catalogs, the language of a reply, a post and a DM, and Babel formatting.

The contract (no discord import here; the Discord side is `bot/translator.py`):

* English is the source: every message id (msgid) is the English text as members read it, with
  `{name}` placeholders (`str.format`). One catalog per other language,
  `bot/locales/<lang>/LC_MESSAGES/attache.po`, discovered from the folder: a new language is one
  new catalog, no code (docs/i18n.md). Catalogs are compiled with Babel (po -> mo, in memory) the
  first time a language is used; nothing compiled is committed.
* `t(lang, msgid, **fmt)` and `nt(lang, singular, plural, n, **fmt)` translate and then fill the
  placeholders; an id missing from a catalog reads in English. A translation whose placeholders differ
  from the English ones is never used (English instead, logged once); tests/test_i18n.py keeps every
  catalog complete and consistent. `N_(msgid)` only marks a string for extraction (a constant defined
  before any language is known); `Msg(msgid, **fmt)` is a message to be rendered later, in whichever
  language the reader has (`render(lang, msg)`).
* Whose language: a reply follows the member's Discord client (`language_of(interaction.locale)`);
  a post follows the server (`Languages.for_guild`: the `language` setting, else the server's Discord
  language, else English); a DM follows the recipient (`Languages.for_member`: the language of their
  last interaction in that server, stored, else the server's). `Languages.forced` overrides all three
  (tests force the pseudo-locale `PSEUDO`, every string about 40% longer and accented).
* Formatting through Babel, in the reader's language: lists ("Paris, Lyon et Dakar"), numbers,
  relative durations ("dans 3 jours"), month and weekday names, country names by ISO code. Discord
  timestamps (`<t:…>`) stay as they are: each client renders them in its own language.

The compiled catalogs are cached per process (immutable data read from the package, like the
gazetteer); which language a server or member has lives on the bot (`bot.languages`)."""

from __future__ import annotations

import asyncio
import functools
import gettext
import io
import logging
import re
import string
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_timedelta, get_day_names, get_month_names
from babel.lists import format_list as babel_format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_compact_decimal, format_decimal

from bot.clock import Clock, system_clock, to_ms
from bot.errors import InvalidInput

if TYPE_CHECKING:
    from bot.db import Database
    from bot.settings import GuildSettings, SettingsService

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "attache"
ENGLISH = "en"
PSEUDO = "qps"  # the pseudo-locale (tests only): never offered to members
LANGUAGE_KEY = "language"  # the server's language setting


# -- which languages exist --------------------------------------------------------------------------------
def catalog_path(lang: str, directory: Path = LOCALES_DIR) -> Path:
    return directory / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def available_languages(directory: Path = LOCALES_DIR) -> tuple[str, ...]:
    """English first, then every language with a catalog in `directory`, sorted."""
    found = sorted(p.name for p in directory.iterdir() if catalog_path(p.name, directory).is_file())
    return (ENGLISH, *[lang for lang in found if lang != ENGLISH])


def language_of(locale: str | None) -> str:
    """The catalog language for a Discord locale: `fr` -> fr, `es-ES` / `es-419` -> es, `pt-BR` -> pt
    (once a Portuguese catalog exists), anything without a catalog -> English."""
    if not locale:
        return ENGLISH
    code = str(locale).replace("_", "-")
    have = available_languages()
    if code in have:
        return code
    base = code.split("-", 1)[0].lower()
    return base if base in have else ENGLISH


def validate_language(value: Any) -> str | None:
    """The `language` setting: a language with a catalog (or None: automatic)."""
    if value is None:
        return None
    lang = str(value)
    if lang not in available_languages():
        raise InvalidInput(N_("Unknown language: pick one of those offered."))
    return lang


@functools.lru_cache(maxsize=1024)
def language_name(lang: str, in_lang: str | None = None) -> str:
    """A language's name: in its own language and capitalised, as offered in a list ("English", "Français",
    "Español": how a member finds theirs); or as written inside a sentence in `in_lang` ("Spanish",
    "espagnol", "francés")."""
    try:
        name = Locale.parse(lang).get_display_name(_babel_locale(in_lang or lang)) or lang
    except (UnknownLocaleError, ValueError):
        return lang
    return name if in_lang else name[:1].upper() + name[1:]


# -- catalogs ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8192)
def placeholders(text: str) -> frozenset[str]:
    """The `{name}` fields of a message (what a translation must keep, no more, no less)."""
    try:
        return frozenset(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)
    except ValueError:  # a lone brace: not a template
        return frozenset()


@functools.cache
def _translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang` (English and unknown languages: the ids themselves)."""
    if lang == PSEUDO:
        return _PseudoTranslations()
    path = catalog_path(lang)
    if lang == ENGLISH or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    log.debug("compiled the %s catalog (%d messages)", lang, len(catalog))
    return gettext.GNUTranslations(buf)


def preload() -> tuple[str, ...]:
    """Compile every catalog now (the bot does it in a thread at start-up, so no reply waits for it)."""
    langs = available_languages()
    for lang in langs:
        _translations(lang)
    return langs


_warned: set[tuple[str, str]] = set()


def _fill(lang: str, english: str, translated: str, fmt: Mapping[str, Any]) -> str:
    if translated is not english and placeholders(translated) != placeholders(english):
        if (lang, english) not in _warned:
            _warned.add((lang, english))
            log.warning("the %s translation of %r has other placeholders; using English", lang, english)
        translated = english
    if not fmt:
        return translated
    try:
        return translated.format(**fmt)
    except (KeyError, IndexError, ValueError):
        log.warning("could not fill %r in %s", english, lang, exc_info=True)
        return english.format(**fmt)


def t(lang: str, msgid: str, /, **fmt: Any) -> str:
    """`msgid` in `lang`, its `{placeholders}` filled from `fmt` (only when fmt is given)."""
    return _fill(lang, msgid, _translations(lang).gettext(msgid), fmt)


def nt(lang: str, singular: str, plural: str, n: int, /, **fmt: Any) -> str:
    """The form of `singular`/`plural` for `n` in `lang` (each language's plural rules); `{n}` is filled
    with `n` formatted for the language unless fmt gives it."""
    english = singular if n == 1 else plural
    fmt = {"n": format_number(lang, n), **fmt}
    return _fill(lang, english, _translations(lang).ngettext(singular, plural, n), fmt)


def lookup(lang: str, msgid: str) -> str | None:
    """The translation of `msgid` in `lang`, or None when the catalog has none (no fallback)."""
    translated = _translations(lang).gettext(msgid)
    if lang == ENGLISH or translated == msgid and lang != PSEUDO:
        return None
    if placeholders(translated) != placeholders(msgid):
        return None
    return translated


def N_(msgid: str) -> str:
    """Mark `msgid` for extraction and return it unchanged: it is translated where it is shown."""
    return msgid


class Localized:
    """A value shown inside a message in the reader's language (a month, a weekday, a date, a length of
    time): `render` calls `localize(lang)`; `str()` is its English form."""

    __slots__ = ()

    def localize(self, lang: str) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.localize(ENGLISH)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class Msg:
    """A message to show later in the reader's language: `render(lang, Msg("Hello {name}", name=…))`. A
    value that is itself a `Msg` is rendered in the same language."""

    __slots__ = ("fmt", "msgid")

    def __init__(self, msgid: str, /, **fmt: Any) -> None:
        self.msgid = msgid
        self.fmt = fmt

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.msgid, self.fmt) == (other.msgid, other.fmt)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Msg({self.msgid!r}, **{self.fmt!r})"

    def __str__(self) -> str:
        return t(ENGLISH, self.msgid, **self.fmt)

    def english(self, **more: Any) -> str:
        """The English text, with `more` values (e.g. the plain words of an error's parts) filled too."""
        return t(ENGLISH, self.msgid, **self.fmt, **more) if more else str(self)

    def with_values(self, **more: Any) -> Msg:
        """The same message with more values filled in."""
        return Msg(self.msgid, **self.fmt, **more)


def render(lang: str, text: str | Msg) -> str:
    """A `Msg` in `lang`; a plain string is looked up as a message id (constant English text is
    translated, anything else, a name or a mention, comes back as it is)."""
    if isinstance(text, Msg):
        fmt = {k: render(lang, v) if isinstance(v, Msg)
               else v.localize(lang) if isinstance(v, Localized) else v for k, v in text.fmt.items()}
        return t(lang, text.msgid, **fmt)
    return t(lang, text)


Translate = Callable[[str | Msg], str]


def translator_for(lang: str) -> Translate:
    """`tr(msg)` bound to one language (for code that renders many strings)."""
    return functools.partial(render, lang)


# -- the pseudo-locale ----------------------------------------------------------------------------------
_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ACCENTS = "áƀçđéƒĝĥîĵķĺɱñöþǫŕšţüṽŵẋýžÅƁÇĐÉƑĜĤÎĴĶĻṀÑÖÞǪŘŠŢÜṼŴẊÝŽ"
_ACCENTED = str.maketrans(_PLAIN, _ACCENTS)
# Left as they are: placeholders, code, Discord markup (<t:…>, <@…>, <#…>), URLs and escapes.
_KEEP = re.compile(r"\{[^{}]*\}|`[^`]*`|<[^<>]*>|https?://\S+|\\.")


def accent(text: str) -> str:
    """Every ASCII letter of `text` accented (what the pseudo-locale does to the words)."""
    return text.translate(_ACCENTED)


def pseudo(text: str) -> str:
    """The pseudo-locale form of an English string: accented, about 40% longer, bracketed, with its
    placeholders and markup untouched (what a long translation does to a layout, seen in English)."""
    out: list[str] = []
    pos = 0
    for m in _KEEP.finditer(text):
        out.append(text[pos : m.start()].translate(_ACCENTED))
        out.append(m.group(0))
        pos = m.end()
    out.append(text[pos:].translate(_ACCENTED))
    body = "".join(out)
    extra = max(2, -(-len(text) * 2 // 5))  # ceil(40%), the brackets included
    return "⟦" + body + " " + "·" * max(0, extra - 3) + "⟧"


class _PseudoTranslations(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return pseudo(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return pseudo(msgid1 if n == 1 else msgid2)


# -- formatting (Babel) -----------------------------------------------------------------------------------
def _babel_locale(lang: str) -> str:
    return ENGLISH if lang == PSEUDO else lang


ListStyle = Literal["standard", "standard-short", "or", "or-short", "unit", "unit-short", "unit-narrow"]


def format_list(lang: str, items: list[str], style: ListStyle = "standard") -> str:
    """"Paris, Lyon and Dakar" / "Paris, Lyon et Dakar" / "Paris, Lyon y Dakar"."""
    return str(babel_format_list(list(items), style=style, locale=_babel_locale(lang))) if items else ""


def format_number(lang: str, number: int | float) -> str:
    """1,234.5 / 1 234,5 / 1234,5 (each language's separators)."""
    if isinstance(number, int) and not isinstance(number, bool):
        return _format_int(lang, number)
    return str(format_decimal(number, locale=_babel_locale(lang)))


@functools.lru_cache(maxsize=8192)
def _format_int(lang: str, number: int) -> str:
    """Counts repeat ("3 RSVPs", "12 practices"), and Babel reads the locale's pattern on every call."""
    return str(format_decimal(number, locale=_babel_locale(lang)))


def format_compact(lang: str, number: int | float) -> str:
    """A large number, short: 2.1M / 2,1 M / 2,1 M (CLDR's compact form, one decimal at most)."""
    return str(format_compact_decimal(number, format_type="short", fraction_digits=1,
                                      locale=_babel_locale(lang)))


def format_relative(lang: str, delta: timedelta, *, threshold: float = 0.85) -> str:
    """A duration from now: "in 3 days" / "dans 3 jours" / "dentro de 3 días"; "3 days ago" when past."""
    return str(format_timedelta(delta, add_direction=True, threshold=threshold, locale=_babel_locale(lang)))


def format_duration(lang: str, delta: timedelta) -> str:
    """A length of time: "3 days" / "3 jours" / "3 días"."""
    return str(format_timedelta(delta, locale=_babel_locale(lang)))


def month_name(lang: str, month: int, width: Literal["abbreviated", "narrow", "wide"] = "wide") -> str:
    """Month 1–12 in `lang` ("décembre", "diciembre"), as Babel's data writes it."""
    return str(get_month_names(width, context="format", locale=_babel_locale(lang))[month])


def weekday_name(
    lang: str, weekday: int, width: Literal["abbreviated", "narrow", "short", "wide"] = "wide"
) -> str:
    """Weekday 0 (Monday) – 6 in `lang` ("mardi", "martes")."""
    return str(get_day_names(width, context="format", locale=_babel_locale(lang))[weekday])


def country_name(lang: str, iso: str) -> str:
    """A country by ISO 3166 code: MX -> "Mexico" / "Mexique" / "México"; an unknown code as given."""
    territories = Locale.parse(_babel_locale(lang)).territories
    return str(territories.get(iso.upper(), iso))


# -- whose language ----------------------------------------------------------------------------------------
GuildLocale = Callable[[int], "str | None"]


class Languages:
    """The language of a server's posts and of a member's DMs (`bot.languages`). `guild_locale(guild_id)`
    gives the server's Discord language (`preferred_locale`) when the bot knows the server."""

    CACHE_MAX = 50_000
    FLUSH_DELAY = 1.0  # seconds: new languages are written together, at most this late
    FLUSH_BATCH = 500  # or as soon as this many wait

    def __init__(
        self, db: Database, settings: SettingsService, *, guild_locale: GuildLocale,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.settings = settings
        self.guild_locale = guild_locale
        self.clock = clock
        self.forced: str | None = None  # tests: every reply, post and DM in this language
        self._seen: dict[tuple[int, int], str] = {}
        self._unsaved: dict[tuple[int, int], tuple[str, int]] = {}  # noted, not yet written (see flush)
        self._flush_handle: asyncio.TimerHandle | None = None
        self._flush_tasks: set[asyncio.Task[None]] = set()
        self._flush_lock = asyncio.Lock()

    def for_settings(self, gs: GuildSettings) -> str:
        if self.forced:
            return self.forced
        chosen = gs.get(LANGUAGE_KEY)
        if chosen in available_languages():
            return str(chosen)
        return language_of(self.guild_locale(gs.guild_id))

    async def for_guild(self, guild_id: int | None) -> str:
        """The server's language: its `language` setting, else its Discord language, else English."""
        if self.forced:
            return self.forced
        if guild_id is None:
            return ENGLISH
        return self.for_settings(await self.settings.get(guild_id))

    async def for_member(self, guild_id: int | None, user_id: int) -> str:
        """A member's language for a DM: their last interaction's client language in this server, else
        the server's."""
        if self.forced:
            return self.forced
        if guild_id is not None:
            stored = self._seen.get((guild_id, user_id))
            if stored is None:
                stored = await self.db.fetchval(
                    "SELECT language FROM member_languages WHERE guild_id = ? AND user_id = ?",
                    (guild_id, user_id),
                )
            if stored in available_languages():
                return str(stored)
        return await self.for_guild(guild_id)

    lang_for_guild = for_guild  # the names the features' code reads best with
    lang_for_member = for_member

    async def remember(self, guild_id: int | None, user_id: int, locale: str | None) -> None:
        """Note the language of a member's interaction. Nothing is written when it did not change; a change
        is written with the others of the next FLUSH_DELAY seconds in one statement (`flush`), off the
        interaction's path: a busy server's first interactions of the day cost one write, not one each.
        Until then the language is served from memory, so a DM sent meanwhile already follows it."""
        if guild_id is None or not locale:
            return
        lang = language_of(locale)
        key = (guild_id, user_id)
        if self._seen.get(key) == lang:
            return
        if len(self._seen) >= self.CACHE_MAX:
            self._seen.clear()
        self._seen[key] = lang
        self._unsaved[key] = (lang, to_ms(self.clock()))
        if len(self._unsaved) >= self.FLUSH_BATCH:
            await self.flush()
        elif self._flush_handle is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # pragma: no cover - always called from the bot's loop
                return
            self._flush_handle = loop.call_later(self.FLUSH_DELAY, self._flush_soon)

    def _flush_soon(self) -> None:
        self._flush_handle = None
        task = asyncio.get_running_loop().create_task(self.flush(), name="member-languages-flush")
        self._flush_tasks.add(task)
        task.add_done_callback(self._flush_tasks.discard)

    async def flush(self) -> None:
        """Write the languages noted since the last flush, in one statement. Also at shutdown, and before
        /privacy forget-me deletes a member's rows: when it returns, every language noted before the call
        is in the database (a flush already under way is waited for)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        async with self._flush_lock:
            await self._write_unsaved()

    async def _write_unsaved(self) -> None:
        rows, self._unsaved = self._unsaved, {}
        if not rows:
            return
        try:
            await self.db.executemany(
                "INSERT INTO member_languages (guild_id, user_id, language, updated_ms) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (guild_id, user_id) DO UPDATE SET language = excluded.language, "
                "updated_ms = excluded.updated_ms WHERE member_languages.language <> excluded.language",
                [(g, u, lang, ms) for (g, u), (lang, ms) in rows.items()],
            )
        except Exception:
            log.exception("could not store %d member language(s)", len(rows))
            for key in rows:  # served from the database again, which has the older language or none
                self._seen.pop(key, None)

    def forget(self, guild_id: int, user_id: int | None = None) -> None:
        """Drop cached languages (after /privacy forget-me or a server purge)."""
        if user_id is not None:
            self._seen.pop((guild_id, user_id), None)
            self._unsaved.pop((guild_id, user_id), None)
            return
        for cache in (self._seen, self._unsaved):
            for key in [k for k in cache if k[0] == guild_id]:
                del cache[key]
