"""The kernel's own texts in the member's language: the time parser's refusals (DST gaps and folds with
their fix-it, hints, month and weekday names through Babel), the creation limits, places, and the
"a former member" label. End to end through discord.py and the fake Discord, plus the parts in units."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.embeds import member_ref
from bot.errors import InvalidInput
from bot.export import Column, json_records, write_csv
from bot.i18n import PSEUDO, render
from bot.limits import render_limits
from bot.retention import FORMER_MEMBER
from bot.timeparse import (
    TimeParseError,
    format_local,
    humanize_duration,
    local_times_line,
    parse_date,
    parse_when,
)
from tests.e2e import World

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _error(text: str, zone: str = "Europe/Paris") -> TimeParseError:
    with pytest.raises(TimeParseError) as info:
        parse_when(text, zone, now=NOW)
    return info.value


def test_the_dst_gap_and_fold_fix_its_in_each_language() -> None:
    gap = _error("29 mars 2026 2h30")
    assert gap.text("en") == str(gap) == (
        "2026-03-29 02:30 doesn't exist in Europe/Paris: the clocks jump forward an hour there, so that time "
        "is skipped. Try `2026-03-29 03:30` instead.")
    assert gap.text("fr") == (
        "2026-03-29 02:30 n'existe pas dans le fuseau Europe/Paris : les horloges y avancent d'une heure, "
        "cet horaire est donc sauté. Essayez plutôt `2026-03-29 03:30`.")
    assert "los relojes se adelantan una hora" in gap.text("es") and "`2026-03-29 03:30`" in gap.text("es")
    half = _error("2026-10-04 02:15", "Australia/Lord_Howe")
    assert "d'une demi-heure" in half.text("fr") and "media hora" in half.text("es")
    fold = _error("2026-10-25 02:30")
    assert "existe deux fois" in fold.text("fr")
    picks = "`2026-10-25 02:30+02:00` (la première) ou `2026-10-25 02:30+01:00` (la seconde)"
    assert picks in fold.text("fr")
    assert "ocurre dos veces" in fold.text("es")


def test_months_weekdays_and_hints_come_from_babel_and_the_catalogs() -> None:
    weekday = _error("friday 3 dec 2026")
    assert weekday.text("en").startswith("3 December 2026 is a Thursday, not a Friday. Try `2026-12-03")
    assert weekday.text("fr").startswith("Le 3 décembre 2026 est un jeudi, pas un vendredi. Essayez ")
    assert weekday.text("es").startswith("El 3 de diciembre de 2026 es jueves, no viernes. Prueba ")
    short = _error("31 feb 2026")
    assert "février 2026 n'a que 28 jours" in short.text("fr")
    assert "febrero de 2026 solo tiene 28 días" in short.text("es")
    both = _error("3/4/2026")
    assert "le 3 avril ou le 4 mars" in both.text("fr") and "el 3 de abril o el 4 de marzo" in both.text("es")
    # the hints' examples are ones the parser reads in that language
    assert "`demain 09:30`" in both.text("fr") or "`demain 09:30`" in _error("blah").text("fr")
    for example in ("3 déc. 2026 15h", "demain 09:30", "dans 2 heures", "3 dic 2026 15:00", "mañana 09:30",
                    "en 2 horas"):
        parse_when(example, "Europe/Paris", now=NOW)
    with pytest.raises(TimeParseError) as info:
        parse_date("in 3 hours", today=date(2026, 1, 5))
    assert info.value.text("fr").startswith("Pour une date, comptez en jours, semaines, mois ou années.")
    # the pseudo-locale keeps the English words of the parts, accents the sentence around them
    assert "2026-03-29 02:30" in _error("29 mars 2026 2h30").text(PSEUDO)


def test_a_service_error_passes_a_time_parse_error_on_in_the_readers_language() -> None:
    error = InvalidInput(_error("31 feb 2026").msg)
    assert error.message.startswith("“31 feb 2026” isn't a real date: February 2026 has only 28 days.")
    from bot.interactions import error_text
    assert error_text(error, "es").startswith("“31 feb 2026” no es una fecha real: febrero de 2026")


def test_day_markers_limits_and_former_members_in_each_language() -> None:
    at = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    line = local_times_line(at, [("Seoul", "Asia/Seoul"), ("London", "Europe/London")],
                            reference_zone="UTC", lang="fr")
    assert line == "08:30 Seoul (le lendemain) · 23:30 London"
    assert local_times_line(at, [("Seoul", "Asia/Seoul")], reference_zone="UTC") == (
        "08:30 Seoul (next day)")
    assert format_local(at, "UTC", with_day=True) == "Thu 3 Dec 23:30"
    assert format_local(at, "UTC", with_day=True, lang="fr") == "jeu. 3 déc. 23:30"
    assert humanize_duration(timedelta(days=2, hours=3)) == "2 days 3 h"
    assert humanize_duration(timedelta(days=2, hours=3), "fr") == "2 jours 3 h"
    assert humanize_duration(timedelta(days=1), "es") == "1 día"
    assert render("en", render_limits({"practice": 0})).endswith(
        "practices no limit · agreements 10/h · milestones 10/h per member (moderators exempt)")
    assert render("fr", render_limits(None)).startswith("tables rondes 10/h · pratiques 10/h")
    assert member_ref(FORMER_MEMBER) == "a former member" and member_ref(FORMER_MEMBER, lang="es") == (
        "un antiguo miembro")
    rows = [{"by_id": FORMER_MEMBER}, {"by_id": 5}]
    cols = [Column("by_id", "member")]
    assert "un ancien membre" in write_csv(cols, rows, lang="fr").decode("utf-8")
    assert "membre inconnu" in write_csv(cols, rows, lang="fr").decode("utf-8")
    assert "a former member" in write_csv(cols, rows).decode("utf-8")
    assert json_records(cols, rows)[0]["by_name"] == "a former member"
    assert json_records(cols, rows, lang="es")[0]["by_name"] == "un antiguo miembro"


async def test_a_french_member_gets_the_dst_refusal_in_french_a_spanish_one_a_parse_error_in_spanish(
    started_bot: World,
) -> None:
    w = started_bot
    fake = w.fake
    gap = {"title": "Plans canicule", "when": "29 mars 2026 2h30", "timezone": "Europe/Paris"}
    res = await fake.invoke(w.guild, w.alice, "roundtable schedule", gap, locale="fr")
    assert res.ephemeral
    assert "2026-03-29 02:30 n'existe pas dans le fuseau Europe/Paris" in res.text, res.text
    assert "Essayez plutôt `2026-03-29 03:30`." in res.text
    res = await fake.invoke(w.guild, w.bob, "roundtable schedule",
                            {"title": "Planes", "when": "31 feb 2027 10:00", "timezone": "Europe/Madrid"},
                            locale="es-ES")
    assert res.ephemeral
    assert "“31 feb 2027 10:00” no es una fecha real: febrero de 2027 solo tiene 28 días. Prueba " in res.text
    res = await fake.invoke(w.guild, w.carol, "roundtable schedule", gap)  # an English client
    assert "doesn't exist in Europe/Paris: the clocks jump forward an hour there" in res.text
    assert await w.bot.db.fetchval("SELECT COUNT(*) FROM roundtables") == 0  # nothing saved
    assert fake.violations == [] and fake.unhandled == []


async def test_the_creation_limit_refusal_and_the_limits_setting_in_the_members_language(
    started_bot: World,
) -> None:
    w = started_bot
    fake = w.fake
    res = await fake.invoke(w.guild, w.admin, "settings creation-limit",
                            {"kind": "roundtable", "per_hour": 2})
    assert "error" not in res.text.lower(), res.text
    for n in range(2):
        res = await fake.invoke(w.guild, w.alice, "roundtable schedule",
                                {"title": f"Réunion {n}", "when": f"2030-06-0{n + 1} 10:00",
                                 "timezone": "Europe/Paris"}, locale="es-ES")
        assert await w.bot.db.fetchval("SELECT COUNT(*) FROM roundtables") == n + 1, res.text
    res = await fake.invoke(w.guild, w.alice, "roundtable schedule",
                            {"title": "Otra", "when": "2030-06-05 10:00", "timezone": "Europe/Paris"},
                            locale="es-ES")
    assert res.ephemeral
    assert res.text.strip().startswith(
        "Has creado 2 mesas redondas en la última hora, el máximo que permite este servidor. "
        "Podrás crear otra <t:"), res.text
    assert res.text.strip().endswith(":R>. No se ha guardado nada.")
    show = await fake.invoke(w.guild, w.admin, "settings show", locale="fr")
    fields = {f["name"]: f["value"] for f in show.embeds[0]["fields"]}
    assert fields["Limites de création"].startswith("tables rondes 2/h · pratiques 10/h"), fields
    assert fields["Limites de création"].endswith("par membre (modérateurs exemptés)")
    assert fake.violations == [] and fake.unhandled == []


def test_a_msg_error_can_name_members_and_times_too() -> None:
    from bot.errors import Conflict, Mention, Moment
    from bot.i18n import N_, Msg
    from bot.interactions import error_text

    at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    error = Conflict(Msg(N_("{text} isn't a real date: {month} has only {days} days. {hint}"),
                         text="“x”", month="February", days=28, hint="Try again."))
    assert error.message == "“x” isn't a real date: February has only 28 days. Try again."
    # parts beside values: plain words in English for logs, mentions and timestamps for members
    named = InvalidInput(Msg("{who} {when} {n}", n=3), who=Mention(7), when=Moment(at))
    assert named.message == "member 7 2026-12-03 09:00 UTC 3"
    assert error_text(named, "fr") == f"<@7> <t:{int(at.timestamp())}:R> 3"
