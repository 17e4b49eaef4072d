"""Roundtables in three languages, end to end through discord.py and the fake Discord.

The server writes French (`language` setting); alice's client is Spanish, bob's French, carol's English:
each reply (answers, errors, buttons, findtime) is in the member's language, the announcement, its
buttons and the channel reminder in the server's, and each reminder DM in the recipient's language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.i18n import weekday_name
from tests.e2e import MovableClock, World
from tests.test_roundtables_e2e import buttons, field, links, rt_world, when_text

__all__ = ["rt_world"]  # the fixture, shared with the English tests


def labels(message: dict[str, Any]) -> list[str]:
    rows = message.get("components") or []
    return [c.get("label", "") for row in rows for c in row.get("components") or []]


async def test_replies_posts_and_dms_each_in_their_language(rt_world: World) -> None:
    w = rt_world
    fake, bot, gid = w.fake, w.bot, w.guild.id
    cog: Any = bot.get_cog("Roundtables")
    clock: MovableClock = w.extra["clock"]
    await bot.settings.set(gid, "language", "fr", actor_id=w.admin.id)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=14, minute=0, second=0, microsecond=0)

    # alice (Spanish client) schedules: her reply is Spanish, the announcement French
    mark = fake.mark()
    res = await fake.invoke(w.guild, w.alice, "roundtable schedule",
                            {"title": "Vivienda", "when": when_text(start), "timezone": "UTC",
                             "where": "https://meet.example/v", "capacity": 1}, locale="es-ES")
    assert res.ephemeral and "está programada para el" in res.text, res.text
    assert "El enlace de la reunión solo se muestra a quienes responden Voy." in res.text
    msg = await fake.wait_for_message(w.announcements, lambda m: bool(m.get("components")), after=mark)
    assert field(msg, "Où").startswith("En ligne") and "lien envoyé aux participants" in field(msg, "Où")
    assert "J'y vais **0 / 1**" in field(msg, "Réponses")
    assert "Table ronde n° 1 · planifiée en UTC" in msg["embeds"][0]["footer"]["text"]
    assert labels(msg) == ["J'y vais", "Peut-être", "Je ne peux pas", "Google Agenda", "Outlook"]
    rt_id = int(next(iter(buttons(msg).values())).split(":")[2])

    # bob (French) goes; carol (English) is waitlisted; alice (Spanish) answers maybe
    ids = buttons(msg)
    res = await fake.click(w.guild, w.bob, msg, ids["going"], locale="fr")
    assert "✅ Vous participez à **Vivienda** le" in res.text
    assert "Lien de la réunion : https://meet.example/v" in res.text
    assert [c["label"] for row in res.components for c in row["components"]] == ["Google Agenda", "Outlook"]
    res = await fake.click(w.guild, w.carol, msg, ids["going"])
    assert "is full. You're **#1** on the waitlist" in res.text
    res = await fake.click(w.guild, w.alice, msg, ids["maybe"], locale="es-ES")
    assert "❔ Anotado como quizás para **Vivienda**" in res.text

    # a service error in the member's language, with its parts (a mention, a number) filled in
    res = await fake.invoke(w.guild, w.bob, "roundtable cancel", {"id": rt_id}, locale="fr")
    refusal = f"Seul l'animateur (<@{w.alice.id}>) ou un modérateur peut annuler cette table ronde."
    assert refusal in str(res.embeds)
    res = await fake.invoke(w.guild, w.bob, "roundtable show", {"id": 999}, locale="es-419")
    assert "No hay ninguna mesa redonda n.º 999 en este servidor." in str(res.embeds)
    res = await fake.invoke(w.guild, w.alice, "roundtable edit", {"id": rt_id, "duration": "13h"},
                            locale="es-ES")
    assert "Una mesa redonda dura de 5 minutos a 12 horas (indicaste 780 minutos)." in str(res.embeds)

    # a calendar file for a French member: its description in French (iCalendar folds long lines)
    res = await fake.invoke(w.guild, w.bob, "roundtable ics", {"id": rt_id}, locale="fr")
    assert res.text.startswith("Fichier d'agenda pour **#1 · Vivienda**")
    ics = res.files[0].text.replace("\r\n ", "")
    assert "Format : En ligne" in ics and "Lien : https://meet.example/v" in ics, ics

    # the member's show and list in their language
    res = await fake.invoke(w.guild, w.alice, "roundtable show", {"id": rt_id}, locale="es-ES")
    assert res.embeds[0]["description"].startswith("**Programada** · próxima:")
    assert field({"embeds": res.embeds}, "Capacidad") == "1"
    res = await fake.invoke(w.guild, w.bob, "roundtable list", locale="fr")
    assert res.embeds[0]["title"] == "Prochaines tables rondes"
    assert "1/1 participants" in res.embeds[0]["description"]

    # reminder DMs: bob turns them on from a French client, carol moves up and turns them on in English
    res = await fake.invoke(w.guild, w.bob, "roundtable reminders", {"state": "on"}, locale="fr")
    assert "Les rappels en MP sont **activés** : je vous écrirai 24 h, 15 min avant" in res.text
    await fake.invoke(w.guild, w.carol, "roundtable reminders", {"state": "on"})
    jobs = {j.dedupe_key: j for j in await bot.scheduler.pending(gid, f"rt:{rt_id}:")}
    due = jobs[f"rt:{rt_id}:occ:{int(start.timestamp())}:r1440"].due_at
    mark = fake.mark()
    clock.jump_to(due + timedelta(seconds=1))
    bot.scheduler.wake()
    reminder = await fake.wait_for_message(w.announcements, lambda m: "⏰" in m["content"], after=mark)
    assert "**Vivienda** commence" in reminder["content"] and f"<@{w.bob.id}>" in reminder["content"]
    assert labels(reminder) == ["Google Agenda", "Outlook"]
    dm = await fake.wait_for_dm(w.bob, lambda m: "⏰" in m["content"])
    assert dm["content"].startswith("⏰ Rappel : **Vivienda** commence le")
    assert "(Vous recevez ces messages car vous avez activé `/roundtable reminders`.)" in dm["content"]
    assert labels(dm) == ["Google Agenda", "Outlook"]

    # bob changes his mind from a Spanish client: carol is promoted, told by DM in English; the notice
    # of the cancel goes to the channel in French and to carol's DMs in English
    res = await fake.click(w.guild, w.bob, msg, ids["no"], locale="es-ES")
    assert "✖️ Anotado: no puedes asistir a **Vivienda**" in res.text
    promoted = await fake.wait_for_dm(w.carol, lambda m: "🎉" in m["content"])
    assert "A place opened up: you're now **going** to **Vivienda**" in promoted["content"]
    assert labels(promoted) == ["Google Calendar", "Outlook"]
    mark = fake.mark()
    res = await fake.invoke(w.guild, w.alice, "roundtable cancel", {"id": rt_id}, locale="es-ES")
    assert "Se ha cancelado toda la mesa redonda **#1 · Vivienda**; 1 participante ha sido avisado" \
        in res.text
    await cog.wait_idle()
    note = await fake.wait_for_message(w.announcements, lambda m: "❌" in m["content"], after=mark)
    assert note["content"].startswith("❌ **Vivienda** a été annulée.")
    dm = await fake.wait_for_dm(w.carol, lambda m: "❌" in m["content"])
    assert dm["content"].startswith("❌ **Vivienda** has been cancelled.")
    final = fake.get_message(msg["id"])
    assert final is not None and final["embeds"][0]["description"] == "**Annulée.**"
    assert links(final) == {}
    fake.assert_clean()


async def test_findtime_in_the_members_language(rt_world: World) -> None:
    w = rt_world
    fake = w.fake
    await w.bot.settings.set(w.guild.id, "language", "es", actor_id=w.admin.id)
    res = await fake.invoke(w.guild, w.bob, "roundtable findtime", {"cities": "Europe/Paris; Europe/Madrid"},
                            locale="fr")
    embed = res.embeds[0]
    assert embed["title"].startswith("Meilleurs horaires pour") and " et " in embed["title"]
    assert "heures de travail 09:00–18:00" in embed["footer"]["text"]
    assert str(res.files[0].description).startswith("Grille des 7 prochains jours en UTC")
    assert [c["label"] for row in res.components for c in row["components"]] == ["Publier en sondage"]
    # the poll is a post: in the server's language (Spanish); the confirmation is bob's (French)
    message = res.message
    assert message is not None
    channel = int(message["channel_id"])
    before = len(fake.channel_messages(channel))
    done = await fake.click(w.guild, w.bob, message, "rt:findtime:poll", locale="fr")
    followup = await done.wait_for_followup()
    assert str(followup.get("content")).startswith("Sondage publié dans")
    assert [c["label"] for row in done.callback_data["components"] for c in row["components"]] == [
        "Publier en sondage"]
    posted = fake.channel_messages(channel)[before:]
    assert len(posted) == 1 and posted[0]["poll"]["question"]["text"].startswith("¿Cuándo nos reunimos?")
    assert "pregunta cuándo reunirse; cada opción en tu hora:" in posted[0]["content"]
    res = await fake.invoke(w.guild, w.bob, "roundtable findtime", {"cities": "Paris"}, locale="es-ES")
    assert "Indica de dos a diez ciudades o zonas horarias" in str(res.embeds)
    fake.assert_clean()


def test_the_repeat_wording_in_each_language() -> None:
    from cogs.roundtables.recurrence import describe

    tuesday = datetime(2027, 3, 30, 9, 0, tzinfo=UTC).replace(tzinfo=None)  # naive local, a last Tuesday
    assert describe("weekly", "FREQ=WEEKLY;BYDAY=TU", tuesday) == "weekly on Tuesday"
    assert describe("weekly", "FREQ=WEEKLY;BYDAY=TU", tuesday, "fr") == "chaque semaine le mardi"
    assert describe("monthly-last", "FREQ=MONTHLY;BYDAY=-1TU;COUNT=6", tuesday, "es") == (
        "el último martes de cada mes, 6 veces")
    assert describe("monthly", "FREQ=MONTHLY;BYDAY=+1TU;COUNT=1", tuesday, "fr") == (
        "le premier mardi de chaque mois, 1 fois")
    assert describe("none", None, tuesday, "es") == "una sola vez"


async def test_a_french_member_schedules_with_a_french_date(rt_world: World) -> None:
    w = rt_world
    fake = w.fake
    year = datetime.now(UTC).year + 1
    res = await fake.invoke(w.guild, w.bob, "roundtable schedule",
                            {"title": "Inondations", "when": f"3 décembre {year} 15h",
                             "timezone": "Europe/Paris", "repeat": "weekly", "occurrences": 4}, locale="fr")
    start = datetime(year, 12, 3, 14, 0, tzinfo=UTC)  # 15:00 in Paris (winter time)
    day = weekday_name("fr", start.weekday())
    expected = (f"**#1 · Inondations** est programmée pour le <t:{int(start.timestamp())}:F> "
                f"(chaque semaine le {day}, 4 fois, planifiée en Europe/Paris). Annoncée dans")
    assert expected in res.text, res.text
    # a time the clocks skip, refused with the fix-it in the member's language (Spanish)
    gap = date(year + 1, 3, 31)
    gap -= timedelta(days=(gap.weekday() - 6) % 7)  # the last Sunday of March: 02:00 → 03:00 in Madrid
    res = await fake.invoke(w.guild, w.alice, "roundtable schedule",
                            {"title": "Hueco", "when": f"{gap.day} de marzo de {gap.year} 02:30",
                             "timezone": "Europe/Madrid"}, locale="es-ES")
    assert "Hueco" not in str(fake.channel_messages(w.announcements)) and res.ephemeral
    assert f"{gap:%Y-%m-%d} 02:30 no existe en la zona Europe/Madrid" in str(res.embeds), res.embeds
    fake.assert_clean()
