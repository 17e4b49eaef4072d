"""The last English gaps, closed end to end through discord.py and the fake Discord (issue 13): a series'
recurrence on /roundtable show, topics typed and offered in the member's language on /practice share, a
job's last delivery error on /settings show, and an agreement's status refusal, each in the reader's
language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.i18n import weekday_name
from bot.sandbox.emulation import Perm
from cogs.mous import planning as P
from tests.e2e import World, practice_service
from tests.test_discord_faults import fire_reminder, schedule_roundtable, wait_status, world
from tests.test_mous_e2e import mou_world, svc_of
from tests.test_practices_e2e import draft_values
from tests.test_roundtables_e2e import rt_world, when_text

__all__ = ["mou_world", "rt_world", "world"]  # the fixtures, shared with their features' tests


async def test_a_french_member_reads_the_recurrence_on_roundtable_show(rt_world: World) -> None:
    w = rt_world
    fake = w.fake
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=14, minute=0, second=0, microsecond=0)
    res = await fake.invoke(w.guild, w.alice, "roundtable schedule",
                            {"title": "Vivienda", "when": when_text(start), "timezone": "UTC",
                             "repeat": "biweekly", "occurrences": 5}, locale="es-ES")
    assert res.ephemeral and "está programada para el" in res.text, res.text
    rt_id = int(re.search(r"#(\d+)", res.text).group(1))  # type: ignore[union-attr]
    shown = await fake.invoke(w.guild, w.bob, "roundtable show", {"id": rt_id}, locale="fr")
    day = weekday_name("fr", start.weekday())
    assert f"toutes les 2 semaines le {day}, 5 fois" in shown.text, shown.text
    assert "every 2 weeks" not in shown.text and "times" not in shown.text
    english = await fake.invoke(w.guild, w.bob, "roundtable show", {"id": rt_id})
    assert f"every 2 weeks on {weekday_name('en', start.weekday())}, 5 times" in english.text, english.text
    fake.assert_clean()


async def test_a_spanish_member_types_and_picks_topics_in_spanish(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    # the autocomplete offers the topics by their Spanish names; each value lists the topic ids
    offered = await fake.autocomplete(w.guild, w.alice, "practice share", "topic", "derechos humanos, agu",
                                      locale="es-ES")
    assert [(c["name"], c["value"]) for c in offered] == [("derechos humanos, agua", "human-rights, water")]
    french = await fake.autocomplete(w.guild, w.alice, "practice share", "topic", "eco", locale="fr")
    assert ("économie", "economy") in [(c["name"], c["value"]) for c in french], french
    # typed by hand in Spanish, accents and case aside: the practice gets the right topics
    res = await fake.invoke(w.guild, w.alice, "practice share",
                            options={"city": "Lyon, FR", "topic": "Clima, EDUCACION; derechos humanos"},
                            locale="es-ES")
    assert res.modal is not None, res.text
    done = await fake.submit_modal(w.guild, w.alice, res, draft_values("Huertos escolares"), locale="es-ES")
    await done.wait_for_message()
    m = re.search(r"La práctica \*\*#(\d+)\*\*", done.content)
    assert m, done.text
    practice = await practice_service(w.bot).get(w.guild.id, int(m.group(1)))
    assert practice.topics == ("climate", "human-rights", "education")
    # an unknown topic: the refusal lists the topics by their Spanish names
    bad = await fake.invoke(w.guild, w.alice, "practice share",
                            options={"city": "Lyon, FR", "topic": "clim, agua"}, locale="es-ES")
    assert bad.ephemeral and "Tema desconocido: clim." in bad.text, bad.text
    assert "clima, resiliencia, migración" in bad.text and "derechos humanos" in bad.text
    fake.assert_clean()


async def test_settings_show_in_french_translates_the_last_delivery_error(world: World) -> None:
    w = world
    fake = w.fake
    rt_id, start, _ = await schedule_roundtable(w)
    w.guild.set_bot_permissions(Perm.BOT_DEFAULT & ~Perm.SEND_MESSAGES)
    w.guild.edit_role(w.guild.everyone, permissions=Perm.EVERYONE_DEFAULT & ~Perm.SEND_MESSAGES)
    await fake.sync_gateway()
    key = await fire_reminder(w, rt_id, start)
    row = await wait_status(w, key, ("failed",))
    assert "cannot post in channel" in row["last_error"]  # the English text stays in the database
    res = await fake.invoke(w.guild, w.admin, "settings show", locale="fr")
    errors = next(f["value"] for f in res.embeds[0]["fields"] if f["name"] == "Dernières erreurs d'envoi")
    assert f"impossible de publier dans le salon <#{w.announcements.id}> : " in errors, errors
    assert "Missing Permissions" in errors and "cannot post" not in errors and '{"msg"' not in errors
    english = await fake.invoke(w.guild, w.admin, "settings show")
    errors = next(f["value"] for f in english.embeds[0]["fields"] if f["name"] == "Last delivery errors")
    assert f"cannot post in channel <#{w.announcements.id}>: " in errors, errors


async def test_a_status_the_agreement_cannot_take_is_refused_in_spanish(mou_world: World) -> None:
    w = mou_world
    fake = w.fake
    res = await fake.invoke(w.guild, w.alice, "mou add", {
        "kind": "sister-city", "title": "Seoul–Paris", "city_a": "Seoul, KR", "city_b": "Paris, FR",
    })
    done = await fake.submit_modal(w.guild, w.alice, res, {"mou_add_summary": "Culture"})
    aid = int(re.search(r"\*\*#(\d+)\*\*", done.content).group(1))  # type: ignore[union-attr]
    agreement = await svc_of(w).get(w.guild.id, aid)
    assert agreement.status == "draft" and not P.can_transition("draft", "active")
    refused = await fake.invoke(w.guild, w.alice, "mou update", {"id": aid, "status": "active"},
                                locale="es-ES")
    assert refused.ephemeral
    assert ("Un acuerdo en estado **borrador** puede pasar a `en negociación`, `firmada` o `rescindido`, "
            "no a `activo`. No se guardó nada.") in refused.text, refused.text
    fake.assert_clean()
