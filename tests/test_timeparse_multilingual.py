"""Dates and times typed in French and Spanish: read by the same strict grammar as English (bot/timewords.py
rewrites the words; bot/timeparse.py keeps every rule: DST gaps and folds refused, impossible dates refused),
and English text comes through the rewrite unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

import bot.app as app_module
from bot.sandbox.emulation import FakeDiscord
from bot.timeparse import TimeParseError, parse_date, parse_duration, parse_when
from bot.timewords import to_english
from tests.e2e import MovableClock, World, start_world

# Wednesday 2 December 2026, 12:00 UTC (13:00 in Paris, 06:00 in Mexico City)
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
PARIS = "Europe/Paris"
MEXICO = "America/Mexico_City"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        # the French examples
        ("3 décembre 2027 15h", PARIS, utc(2027, 12, 3, 14)),
        ("mardi 9h30", PARIS, utc(2026, 12, 8, 8, 30)),
        ("demain 14h", PARIS, utc(2026, 12, 3, 13)),
        ("dans 2 heures", PARIS, NOW + timedelta(hours=2)),
        # the Spanish examples
        ("3 de diciembre de 2027 15:00", MEXICO, utc(2027, 12, 3, 21)),
        ("martes 9:30", MEXICO, utc(2026, 12, 8, 15, 30)),
        ("mañana 14:00", MEXICO, utc(2026, 12, 3, 20)),
        ("en 2 horas", MEXICO, NOW + timedelta(hours=2)),
        # the forms around them
        ("le 3 décembre 2027 à 15h", PARIS, utc(2027, 12, 3, 14)),
        ("3 DÉCEMBRE 2027 À 15H", PARIS, utc(2027, 12, 3, 14)),
        ("3 decembre 2027 15h", PARIS, utc(2027, 12, 3, 14)),  # no accents
        ("1er janvier 2027 10h", PARIS, utc(2027, 1, 1, 9)),
        ("3 déc. 2027 15h30", PARIS, utc(2027, 12, 3, 14, 30)),
        ("mercredi 15 h 30", PARIS, utc(2026, 12, 2, 14, 30)),  # today, still ahead
        ("lundi prochain 10h", PARIS, utc(2026, 12, 7, 9)),
        ("après-demain 9h", PARIS, utc(2026, 12, 4, 8)),
        ("aujourd’hui 18h", PARIS, utc(2026, 12, 2, 17)),
        ("ce soir 21h", PARIS, utc(2026, 12, 2, 20)),
        ("demain à midi", PARIS, utc(2026, 12, 3, 11)),
        ("demain 15 heures", PARIS, utc(2026, 12, 3, 14)),
        ("dans une demi-heure", PARIS, NOW + timedelta(minutes=30)),
        ("dans 2 heures et demie", PARIS, NOW + timedelta(hours=2, minutes=30)),
        ("d'ici 3 jours", PARIS, NOW + timedelta(days=3)),
        ("el 3 de diciembre de 2027 a las 15:00", MEXICO, utc(2027, 12, 3, 21)),
        ("1º de enero de 2027 10:00", MEXICO, utc(2027, 1, 1, 16)),
        ("el próximo lunes a las 10:00", MEXICO, utc(2026, 12, 7, 16)),
        ("el lunes que viene 10:00", MEXICO, utc(2026, 12, 7, 16)),
        ("pasado manana 9:00", MEXICO, utc(2026, 12, 4, 15)),
        ("mañana a las 3 de la tarde", MEXICO, utc(2026, 12, 3, 21)),
        ("hoy 18:00", MEXICO, utc(2026, 12, 3, 0)),
        ("jueves 15:00 h", MEXICO, utc(2026, 12, 3, 21)),
        ("en media hora", MEXICO, NOW + timedelta(minutes=30)),
        ("en 1 hora y 30 minutos", MEXICO, NOW + timedelta(hours=1, minutes=30)),
        ("dentro de 3 días", MEXICO, NOW + timedelta(days=3)),
        # an IANA zone inside the text keeps its own words ("Santo_Domingo" is not a Sunday)
        ("3 diciembre 2027 15:00 America/Santo_Domingo", MEXICO, utc(2027, 12, 3, 19)),
        # English: the day after tomorrow, now that the other two languages have it
        ("the day after tomorrow 9am", PARIS, utc(2026, 12, 4, 8)),
    ],
)
def test_french_and_spanish_dates_and_times(text: str, zone: str, expected: datetime) -> None:
    assert parse_when(text, zone, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        # DST gap and fold, refused with the fix-it message as in English
        ("29 mars 2026 2h30", "doesn't exist in Europe/Paris"),
        ("25 octobre 2026 2h30", "happens twice"),
        ("29 de marzo de 2026 2:30", "doesn't exist in Europe/Paris"),
        # impossible dates and times
        ("31 juin 2027 10h", "June 2027 has only 30 days"),
        ("30 de febrero de 2027", "February 2027 has only 28 days"),
        ("demain 25h", "isn't a valid time"),
        ("3 décembre 27 15h", "four digits"),
        ("mardi 3 décembre 2027", "is a Friday, not a Tuesday"),
    ],
)
def test_french_and_spanish_refusals_keep_the_rules(text: str, needle: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_when(text, PARIS, now=NOW)
    assert needle in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 décembre 2027", date(2027, 12, 3)),
        ("demain", date(2026, 12, 3)),
        ("mañana", date(2026, 12, 3)),
        ("après-demain", date(2026, 12, 4)),
        ("dans 30 jours", date(2027, 1, 1)),
        ("en 6 meses", date(2027, 6, 2)),
        ("dans 1 an", date(2027, 12, 2)),
        ("dentro de 2 años", date(2028, 12, 2)),
        ("lundi prochain", date(2026, 12, 7)),
        ("el 1 de enero de 2027", date(2027, 1, 1)),
        ("viernes", date(2026, 12, 4)),
    ],
)
def test_french_and_spanish_dates(text: str, expected: date) -> None:
    assert parse_date(text, today=date(2026, 12, 2)) == expected


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("2 heures", 120), ("1 heure 30", 90), ("90 minutos", 90), ("1 hora y media", 90), ("una hora", 60),
     ("une demi-heure", 30), ("2 heures et demie", 150)],
)
def test_french_and_spanish_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "text",
    [
        "3 dec 2026 3pm", "in 2 hours", "tomorrow 09:30", "next monday 10am", "2026-12-03 15:00",
        "in an hour", "in a week", "tonight 9", "3 sept 2027", "15:00 america/santo_domingo",
        "mar 3 2027", "in 2 years", "noon", "2 days later", "friday at 3pm utc+9",
    ],
)
def test_english_passes_through_unchanged(text: str) -> None:
    assert to_english(text) == text


# -- end to end: a roundtable scheduled in French and in Spanish, through the fake Discord ------------


@pytest_asyncio.fixture
async def rt_world(fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                   ) -> AsyncIterator[World]:
    monkeypatch.setattr(
        app_module, "discover_extensions", lambda: ["cogs.settings", "cogs.meta", "cogs.roundtables"]
    )
    clock = MovableClock()
    clock.jump_to(NOW)
    async with start_world(fake_discord, tmp_path, scheduler_clock=clock) as w:
        yield w


async def test_roundtable_scheduled_with_french_and_spanish_dates(rt_world: World) -> None:
    w = rt_world
    svc = w.bot.get_cog("Roundtables").svc  # type: ignore[union-attr]
    res = await w.fake.invoke(w.guild, w.alice, "roundtable schedule",
                              {"title": "Logement", "when": "3 décembre 2027 15h", "timezone": PARIS})
    assert res.ephemeral and "<t:" in res.text, res.text
    res = await w.fake.invoke(w.guild, w.alice, "roundtable schedule",
                              {"title": "Vivienda", "when": "3 de diciembre de 2027 15:00",
                               "timezone": MEXICO})
    assert res.ephemeral and "<t:" in res.text, res.text
    starts = {rt.title: rt.start for rt in await svc.list_upcoming(w.guild.id)}
    assert starts == {"Logement": utc(2027, 12, 3, 14), "Vivienda": utc(2027, 12, 3, 21)}
    # a French DST gap is refused, ephemeral, nothing saved
    res = await w.fake.invoke(w.guild, w.alice, "roundtable schedule",
                              {"title": "Trou", "when": "28 mars 2027 2h30", "timezone": PARIS})
    assert res.ephemeral and "doesn't exist in Europe/Paris" in str(res.embeds) + res.text
    assert len(await svc.list_upcoming(w.guild.id)) == 2
    w.fake.assert_clean()
