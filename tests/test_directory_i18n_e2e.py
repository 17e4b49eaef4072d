"""The directory in each member's language, end to end through the fake Discord: `/city show Tijuana` names
the country through Babel ("Mexique", "México"), its labels, a service error and a reply follow the
member's Discord client (`fr`, `es-ES`), and an English member still reads English."""

from __future__ import annotations

from typing import Any

from tests.e2e import World


def _desc(res: Any) -> str:
    return str(res.embeds[0].get("description", ""))


async def test_city_show_names_the_country_in_the_members_language(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    fr = await fake.invoke(w.guild, w.alice, "city show", {"city": "Tijuana"}, locale="fr")
    assert "**Pays :** Mexique (MX)" in _desc(fr), _desc(fr)
    assert "**Heure locale :**" in _desc(fr)
    names = [f["name"] for f in fr.embeds[0]["fields"]]
    assert any(n.startswith("Réseaux (") for n in names) and any(n.startswith("Membres ici (") for n in names)
    assert fr.embeds[0]["footer"]["text"].startswith("Les adhésions et les accords documentés")
    es = await fake.invoke(w.guild, w.bob, "city show", {"city": "Tijuana"}, locale="es-ES")
    assert "**País:** México (MX)" in _desc(es), _desc(es)
    assert any(f["name"].startswith("Redes (") for f in es.embeds[0]["fields"])
    en = await fake.invoke(w.guild, w.carol, "city show", {"city": "Tijuana"})
    assert "**Country:** Mexico (MX)" in _desc(en), _desc(en)
    assert fake.violations == [] and fake.unhandled == []


async def test_directory_replies_and_service_errors_follow_the_member(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    # a reply and the profile card, in French
    res = await fake.invoke(w.guild, w.alice, "profile set", {"city": "Paris", "title": "Conseillère"},
                            locale="fr")
    assert "Profil enregistré." in res.text, res.text
    assert "non vérifiée" in res.text
    fields = {f["name"]: f["value"] for f in res.embeds[0]["fields"]}
    assert fields["Titre"] == "Conseillère" and fields["Ville"].startswith("Paris")
    # a service error built from what the member typed (a Msg template), in Spanish
    res = await fake.invoke(w.guild, w.bob, "city show", {"city": "Xqzvlle"}, locale="es-ES")
    assert res.ephemeral and "No conozco ninguna ciudad llamada “Xqzvlle”" in res.text, res.text
    res = await fake.invoke(w.guild, w.bob, "profile set", {"city": "Portland"}, locale="es-419")
    assert res.ephemeral and "puede ser varias ciudades" in res.text, res.text
    # a constant service error (a catalog id), in French; the same in English for an English member
    res = await fake.invoke(w.guild, w.mod, "network shared", {"city_a": "Paris", "city_b": "Paris"},
                            locale="fr")
    assert "Choisissez deux villes différentes." in res.text, res.text
    res = await fake.invoke(w.guild, w.mod, "network shared", {"city_a": "Paris", "city_b": "Paris"})
    assert "Pick two different cities." in res.text
    # pages: a title and an empty page in Spanish
    res = await fake.invoke(w.guild, w.dave, "whois", {"city": "Seoul"}, locale="es-ES")
    assert res.embeds[0]["title"].startswith("Quién representa a Seoul"), res.embeds[0]
    assert "Aquí nadie ha indicado todavía Seoul como su ciudad." in _desc(res)
    assert fake.violations == [] and fake.unhandled == []


async def test_a_rejected_csv_import_in_spanish_and_its_report_in_french(started_bot: World) -> None:
    """Row errors are templates too: the reply and the attached report in the moderator's language."""
    w = started_bot
    fake = w.fake
    bad = b"city,country_iso2,network_slug,since_year\nAtlantis,GR,c40,2020\nLima,PE,nope,2020\n"
    res = await fake.invoke(w.guild, w.mod, "network import", {"file": "bad.csv"},
                            attachments={"file": ("bad.csv", bad)}, locale="es-ES")
    embed = res.embeds[0]
    assert embed["title"] == "Importación rechazada: no se ha guardado nada", embed
    assert embed["description"].startswith("No se ha importado nada: 2 de 2 filas tienen problemas.")
    assert "línea 3: network_slug desconocido “nope”" in embed["description"], embed["description"]
    res = await fake.invoke(w.guild, w.mod, "network import", {"file": "bad.csv"},
                            attachments={"file": ("bad.csv", bad)}, locale="fr")
    report = next(f for f in res.files if f.filename == "import-errors.txt").text
    assert "ligne 2 : la ville « Atlantis » n'est pas dans l'annuaire" in report, report
    assert fake.violations == [] and fake.unhandled == []
