"""App-command transformers: a command declares what an option IS (a moment, a time zone, a city) and
receives it parsed; a bad value never reaches the callback. Errors raised here reach the one error funnel
(bot.interactions.describe_error unwraps `app_commands.TransformerError`) and are answered ephemerally, in
the parser's own words (bot.timeparse.TimeParseError, bot.errors.UserFacingError).

    async def schedule(self, interaction, when: WhenOption, timezone: ZoneOption | None = None): ...

* `WhenOption` / `When(...)`: a date and time typed in the member's zone ("2026-12-03 15:00", "next
  tuesday 9am", "in 2 hours"), or Discord's timestamp markup (`<t:1796212800>`, `<t:1796212800:F>`, what a
  member copies from a message). The zone is the command's `timezone` option when given, else
  `default_zone(interaction)` (the member's zone). Gives a `Moment` (the UTC instant and the zone).
* `ZoneOption` / `Zone(...)`: an IANA zone, case-insensitive, with the one zone ranking for autocomplete
  (bot.timeparse.search_zones, common zones first). Gives the canonical key ("Europe/Paris").
* `CityOption`: a city as typed (kept as text; resolving it is `Places.resolve_city`), with autocomplete
  from the kernel's places (the directory's cities, or none without it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

import discord
from discord import app_commands

from bot.embeds import choice_name
from bot.i18n import N_, Msg
from bot.places import Places
from bot.timeparse import TimeParseError, from_unix, get_zone, parse_when

if TYPE_CHECKING:
    from bot.app import AttacheBot

log = logging.getLogger(__name__)

WHEN_MAX = 100
ZONE_MAX = 64
CITY_MAX = 100
# Discord's timestamp markup: <t:UNIX> or <t:UNIX:STYLE>, STYLE one of t T d D f F R.
_TIMESTAMP = re.compile(r"<t:(-?\d{1,13})(?::([tTdDfFR]))?>")
# Far enough for any plan, near enough for datetime (year 1..9999) and Discord (which renders 1970..).
_TS_MIN, _TS_MAX = 0, 253402300799

ZoneDefault = Callable[[discord.Interaction[Any]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Moment:
    """A parsed `when` option: the instant (aware UTC) and the zone it was read in (a series repeats in
    that zone's wall-clock time)."""

    at: datetime
    zone: ZoneInfo


def _bot(interaction: discord.Interaction[Any]) -> AttacheBot:
    return cast("AttacheBot", interaction.client)


def now_of(interaction: discord.Interaction[Any]) -> datetime:
    """Now, from the bot's one injectable clock (bot/clock.py)."""
    return _bot(interaction).clock()


def places_of(interaction: discord.Interaction[Any]) -> Places:
    """The kernel's places facade (bot/places.py): the directory's cities, or text as typed without it."""
    return _bot(interaction).features.places


async def member_zone(interaction: discord.Interaction[Any]) -> str:
    """The member's zone (their profile's, through the places facade), else the server's."""
    gid = interaction.guild_id
    if gid is None:
        return "UTC"
    return await places_of(interaction).member_zone(gid, interaction.user.id)


def parse_timestamp_markup(text: str) -> datetime | None:
    """The instant of Discord's `<t:UNIX>` / `<t:UNIX:STYLE>` markup (the whole text), else None."""
    m = _TIMESTAMP.fullmatch(" ".join(text.split()))
    if m is None:
        return None
    seconds = int(m.group(1))
    if not _TS_MIN <= seconds <= _TS_MAX:
        raise TimeParseError(Msg(N_("{text} is not a date I can use (it is outside 1970–9999)."),
                                 text=f"“{text.strip()[:40]}”"))
    return from_unix(seconds)


class _TextOption(app_commands.Transformer):
    """A string option of 1..`max_length` characters (the part every transformer here shares)."""

    max_length = 100

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return self.max_length


class When(_TextOption):
    """A date/time typed in a zone, or `<t:UNIX>` markup → `Moment`. The zone is the option named
    `zone_option` when given, else `default_zone(interaction)` (default: the member's zone)."""

    max_length = WHEN_MAX

    def __init__(self, *, zone_option: str = "timezone", default_zone: ZoneDefault | None = None) -> None:
        self.zone_option = zone_option
        self.default_zone = default_zone or member_zone

    async def zone(self, interaction: discord.Interaction[Any]) -> ZoneInfo:
        typed = getattr(interaction.namespace, self.zone_option, None)
        if isinstance(typed, str) and typed.strip():
            return get_zone(typed)
        return get_zone(await self.default_zone(interaction))

    async def transform(self, interaction: discord.Interaction[Any], value: Any) -> Moment:
        text = str(value)
        zone = await self.zone(interaction)
        instant = parse_timestamp_markup(text)
        if instant is None:
            instant = parse_when(text, zone, now=now_of(interaction))
        return Moment(instant, zone)


class Zone(_TextOption):
    """An IANA zone name, case-insensitive → its canonical key; autocomplete with the one ranking.
    `clearable`: "-" (or blank) gives "" (the command clears the zone)."""

    max_length = ZONE_MAX

    def __init__(self, *, clearable: bool = False) -> None:
        self.clearable = clearable

    async def transform(self, interaction: discord.Interaction[Any], value: Any) -> str:
        text = str(value)
        if self.clearable and text.strip() in ("", "-"):
            return ""
        return get_zone(text).key

    async def autocomplete(self, interaction: discord.Interaction[Any],  # type: ignore[override]
                           value: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=choice_name(z), value=z) for z in Places.zone_choices(value, 25)]


class City(_TextOption):
    """A city as typed (whitespace tidied; resolving it stays with `Places.resolve_city`), with
    autocomplete from the kernel's places: a directory city's choice carries its id."""

    max_length = CITY_MAX

    async def transform(self, interaction: discord.Interaction[Any], value: Any) -> str:
        return " ".join(str(value).split())

    async def autocomplete(self, interaction: discord.Interaction[Any],  # type: ignore[override]
                           value: str) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        refs = await places_of(interaction).city_choices(value, guild_id=interaction.guild_id, limit=25)
        return [app_commands.Choice(name=choice_name(r.label),
                                    value=str(r.city_id) if r.city_id is not None else r.label[:CITY_MAX])
                for r in refs]


WhenOption = app_commands.Transform[Moment, When]
ZoneOption = app_commands.Transform[str, Zone]
CityOption = app_commands.Transform[str, City]
