"""The library across languages, end to end through discord.py and the fake Discord: a member whose
client is in Spanish shares a practice (its language defaults to Spanish), and it is found by a
stemmed Spanish query, by an English glossary term, and through the language filter."""

from __future__ import annotations

import re

from tests.e2e import World, practice_service


async def test_spanish_member_shares_and_the_practice_is_found_across_languages(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    res = await fake.invoke(
        w.guild,
        w.alice,
        "practice share",
        options={"city": "Tijuana, MX", "topic": "governance"},
        locale="es-ES",
    )
    assert res.modal is not None, res.text
    done = await fake.submit_modal(
        w.guild,
        w.alice,
        res,
        {
            "title": "Presupuestos participativos en los barrios",
            "summary": "Los vecinos deciden cada año cómo se invierte una parte del presupuesto municipal.",
            "approach": "Asambleas abiertas en cada colonia, votación en línea y seguimiento público "
            "de las obras.",
            "results": "",
            "lessons": "",
        },
    )
    await done.wait_for_message()
    m = re.search(r"Practice \*\*#(\d+)\*\*", done.content)
    assert m, done.text
    pid = int(m.group(1))
    svc = practice_service(w.bot)
    assert (await svc.get(w.guild.id, pid)).language == "es"  # from the member's client language
    await svc.decide(w.guild.id, pid, actor_id=w.mod.id, action="approve")
    # an English practice on another subject, which no query below should find
    other = await fake.invoke(
        w.guild, w.bob, "practice share", options={"city": "Lyon, FR", "topic": "water"}
    )
    assert other.modal is not None
    done = await fake.submit_modal(
        w.guild,
        w.bob,
        other,
        {
            "title": "Leak detection sensors",
            "summary": "Acoustic sensors on the water mains.",
            "approach": "Sensors, then repairs.",
            "results": "",
            "lessons": "",
        },
    )
    await done.wait_for_message()
    english = int(re.search(r"Practice \*\*#(\d+)\*\*", done.content).group(1))  # type: ignore[union-attr]
    assert (await svc.get(w.guild.id, english)).language == "en"  # an en-US client

    # a stemmed Spanish query (singular, no accents): found, and its language shown
    found = await fake.invoke(
        w.guild, w.carol, "practice search", options={"query": "presupuesto participativo"}, locale="es-419"
    )
    assert f"#{pid}" in found.text and "Español" in found.text, found.text
    assert f"#{english}" not in found.text
    assert "**Presupuestos**" in found.text or "**presupuesto**" in found.text, found.text
    # an English glossary term finds the Spanish practice
    found = await fake.invoke(w.guild, w.bob, "practice search", options={"query": "participatory budgeting"})
    assert f"#{pid}" in found.text, found.text
    # the language filter
    found = await fake.invoke(
        w.guild, w.bob, "practice search", options={"query": "participatory budgeting", "language": "es"}
    )
    assert f"#{pid}" in found.text, found.text
    none = await fake.invoke(
        w.guild, w.bob, "practice search", options={"query": "participatory budgeting", "language": "fr"}
    )
    assert f"#{pid}" not in none.text
    fake.assert_clean()
