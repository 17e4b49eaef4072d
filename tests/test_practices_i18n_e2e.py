"""The best-practice library in each reader's language, end to end through discord.py and the fake Discord
(issue 13): replies follow the member's client (`fr`, `es-ES`), the review card and the announcement the
server's language (`/settings language`), the decision DM the submitter's last language; service errors
built from values (a practice id, a decision by a member) are translated with their parts."""

from __future__ import annotations

import re

from bot.sandbox.emulation.results import message_text
from tests.e2e import World, practice_service
from tests.test_practices_e2e import button_id, custom_ids, draft_values, review_button, review_card


async def test_replies_posts_and_dms_each_in_their_readers_language(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    await w.bot.settings.set(w.guild.id, "language", "fr", actor_id=w.admin.id)  # the server posts in French

    # a Spanish member shares: the form and the answer in Spanish
    res = await fake.invoke(w.guild, w.alice, "practice share",
                            options={"city": "Lyon, FR", "topic": "resilience, water"}, locale="es-ES")
    assert res.modal is not None, res.text
    assert res.modal["title"] == "Compartir una práctica"
    labels = [c["components"][0]["label"] for c in res.modal["components"]]
    assert labels[0] == "Título" and labels[1] == "Resumen: el problema y el contexto", labels
    done = await fake.submit_modal(w.guild, w.alice, res, draft_values("Jardins de pluie"), locale="es-ES")
    await done.wait_for_message()
    m = re.search(r"¡Gracias! La práctica \*\*#(\d+)\*\*", done.content)
    assert m, done.text
    pid = int(m.group(1))
    assert "Se avisó a los moderadores en el canal de revisión." in done.content

    # the review card, in the server's language, with French buttons
    card = await review_card(w, pid)
    card_text = message_text(card)
    assert card["embeds"][0]["title"] == "À relire : Jardins de pluie", card_text
    assert "Proposée par" in card_text and "Thèmes" in card_text and "résilience" in card_text.lower()
    buttons = [c.get("label") for row in card["components"] for c in row["components"]]
    assert buttons == ["Approuver", "Demander des modifications", "Rejeter"]

    # a French moderator approves: the answer in French; the card's decision in French
    decided = await fake.click(w.guild, w.mod, card, review_button(card, "ap"), locale="fr")
    await decided.wait_for_message()
    assert f"La pratique #{pid} est maintenant **approuvée**." in decided.text, decided.text
    assert "L'auteur a été prévenu par MP." in decided.text
    assert "Annoncée dans" in decided.text
    after = fake.get_message(card["id"]) or {}
    assert "approuvée par" in message_text(after).lower()

    # the decision DM in the submitter's language (her last interaction was in Spanish)
    dm = await fake.wait_for_dm(w.alice)
    assert dm["content"].startswith(f"✅ Tu práctica #{pid} «Jardins de pluie» en **"), dm["content"]
    assert "fue aprobada y ya está en la biblioteca." in dm["content"]

    # the announcement in the server's language, with French vote buttons
    ann = await fake.wait_for_message(w.announcements, lambda m: f"pr:vote:{pid}:useful" in custom_ids(m))
    assert ann["embeds"][0]["title"] == "Nouvelle pratique : Jardins de pluie"
    assert "Des questions pour le contact ?" in message_text(ann)
    assert button_id(ann, "Utile") == f"pr:vote:{pid}:useful"
    assert button_id(ann, "Adoptée dans ma ville") == f"pr:vote:{pid}:adopt"

    # a Spanish member votes on the French announcement: her answer in Spanish, the post stays French
    vote = await fake.click(w.guild, w.carol, ann, f"pr:vote:{pid}:useful", locale="es-419")
    await vote.wait_for_followup()
    assert "Gracias: marcada como útil. A 1 miembro le pareció útil." in vote.text, vote.text
    shown = fake.get_message(ann["id"]) or {}
    assert shown["embeds"][0]["title"] == "Nouvelle pratique : Jardins de pluie"
    assert button_id(shown, "Utile (1)") == f"pr:vote:{pid}:useful"

    # errors built from values, in the reader's language, with their parts
    again = await fake.invoke(w.guild, w.mod, "practice approve", options={"id": pid}, locale="fr")
    assert f"La pratique #{pid} a déjà été traitée (approuvée par <@{w.mod.id}> <t:" in again.text, again.text
    assert "donc je ne l'ai pas approuvée." in again.text
    missing = await fake.invoke(w.guild, w.bob, "practice show", options={"id": 987654}, locale="es-ES")
    assert missing.text.strip() == "No hay ninguna práctica #987654 en este servidor.", missing.text
    bad = await fake.invoke(w.guild, w.bob, "practice share",
                            options={"city": "Lyon", "topic": "water", "sdgs": "11, 42"}, locale="fr")
    assert "Il y a 17 ODD : 42 n'en fait pas partie." in bad.text, bad.text

    # search: a Spanish page for a Spanish member, English for an English one
    es = await fake.invoke(w.guild, w.bob, "practice search", options={"query": "jardins"}, locale="es-ES")
    assert es.embeds[0]["title"] == "Prácticas que coinciden con «jardins»", es.embeds
    assert "1 resultado" in es.embeds[0]["footer"]["text"]
    en = await fake.invoke(w.guild, w.bob, "practice search", options={"query": "jardins"})
    assert en.embeds[0]["title"] == "Practices matching “jardins”"

    assert (await practice_service(w.bot).get(w.guild.id, pid)).status == "approved"
    assert custom_ids(after) == []
    assert fake.violations == [] and fake.unhandled == []


async def test_stats_labels_and_alt_text_in_the_members_language(started_bot: World) -> None:
    w = started_bot
    res = await w.fake.invoke(w.guild, w.alice, "practice stats", locale="fr")
    await res.wait_for_message()
    embed = res.embeds[0]
    assert embed["title"].startswith("Bibliothèque des bonnes pratiques — ")
    assert [f["name"] for f in embed["fields"]][:4] == ["Par thème", "Par ODD", "Par région", "Par pays"]
    alts = [a.get("description") or "" for a in res.message.get("attachments") or []]
    assert any(a.startswith("Diagrammes en barres de 0 pratique approuvée") for a in alts), alts
    assert any(a.startswith("Carte du monde") for a in alts), alts
    assert w.fake.violations == [] and w.fake.unhandled == []
