"""Directory end to end through the fake Discord: profile → whois → city show → network shared,
autocomplete, moderator commands, CSV import/export."""

from __future__ import annotations

from typing import Any

from tests.e2e import World, directory_service


def _text(res: object) -> str:
    return str(getattr(res, "text", "")) + " " + str(getattr(res, "embeds", ""))


def _field(embed: dict[str, Any] | None, prefix: str) -> str:
    assert embed is not None
    found = [f["value"] for f in embed.get("fields", []) if f["name"].startswith(prefix)]
    assert found, f"no field {prefix!r} in {[f['name'] for f in embed.get('fields', [])]}"
    return str(found[0])


async def test_profile_whois_city_show_network_shared(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    assert w.bot.features.places.provider is not None and w.bot.features.networks is not None

    # Autocomplete: valid choices (<= 25, name 1-100, values resolve).
    choices = await fake.autocomplete(w.guild, w.alice, "profile set", focused="city", value="sao pa")
    assert 0 < len(choices) <= 25 and choices[0]["name"].startswith("São Paulo")
    assert all(1 <= len(c["name"]) <= 100 for c in choices)
    seoul = (await fake.autocomplete(w.guild, w.alice, "profile set", focused="city", value="seoul"))[0]
    assert seoul["name"].startswith("Seoul, KR")

    res = await fake.invoke(w.guild, w.alice, "profile set", options={
        "city": seoul["value"], "title": "Director of International Relations", "office": "Mayor's Office"})
    assert res.ephemeral and "Profile saved" in res.text and "unverified" in res.text
    res = await fake.invoke(
        w.guild, w.bob, "profile set", options={"city": "Paris", "title": "Adviser @everyone"}
    )
    assert "Profile saved" in res.text

    # Bad input: clear ephemeral error, nothing saved.
    res = await fake.invoke(w.guild, w.carol, "profile set", options={"city": "Portland"})
    assert res.ephemeral and "could be several cities" in _text(res)
    assert await directory_service(w.bot).get_profile(w.guild.id, w.carol.id) is None

    # whois: member-city autocomplete puts cities with members first.
    mc = await fake.autocomplete(w.guild, w.dave, "whois", focused="city", value="")
    assert {c["name"] for c in mc[:2]} == {"Seoul, KR", "Paris, FR"}
    res = await fake.invoke(w.guild, w.dave, "whois", options={"city": "Seoul"})
    text = _text(res)
    assert (
        f"<@{w.alice.id}>" in text and "Director of International Relations" in text and "unverified" in text
    )

    # Only moderators verify; verification shows.
    res = await fake.invoke(w.guild, w.bob, "profile verify", options={"member": w.alice.id})
    assert "Only moderators" in _text(res)
    res = await fake.invoke(w.guild, w.mod, "profile verify", options={"member": w.alice.id})
    assert "verified" in res.text
    res = await fake.invoke(w.guild, w.dave, "whois", options={"city": "Seoul"})
    assert "✅ verified" in _text(res)

    # city show: country, local time, networks, agreements (seed or MOU feature), members.
    res = await fake.invoke(w.guild, w.dave, "city show", options={"city": "Seoul"})
    emb = res.embed
    assert emb is not None and emb["title"] == "Seoul, KR"
    body = _text(res)
    assert "South Korea" in body and "Asia/Seoul" in body and "C40" in body and f"<@{w.alice.id}>" in body
    res = await fake.invoke(w.guild, w.dave, "city show", options={"city": "San Diego"})
    body = _text(res)
    assert "UNVERIFIED" in body  # Strong Cities Network row keeps its caveat
    if w.bot.features.agreements is None:
        assert "Tijuana" in body

    # network shared / overlap.
    res = await fake.invoke(
        w.guild, w.dave, "network shared", options={"city_a": "Los Angeles", "city_b": "Paris"}
    )
    assert "C40 Cities Climate Leadership Group" in _text(res)
    res = await fake.invoke(
        w.guild, w.dave, "network overlap", options={"network_a": "C40", "network_b": "ogp-local"}
    )
    assert "Seoul, KR" in _text(res) and "Paris, FR" in _text(res)

    # Network autocomplete (name + acronym, fuzzy).
    nets = await fake.autocomplete(w.guild, w.dave, "network show", focused="network", value="eurocites")
    assert nets and nets[0]["name"] == "Eurocities"
    res = await fake.invoke(w.guild, w.dave, "network show", options={"network": nets[0]["value"]})
    assert "Barcelona" in _text(res) and "1986" in _text(res)

    # Profile clear deletes the data.
    res = await fake.invoke(w.guild, w.bob, "profile clear")
    assert "deleted" in res.text
    assert await directory_service(w.bot).get_profile(w.guild.id, w.bob.id) is None

    assert fake.violations == []
    assert fake.unhandled == []


async def test_moderator_network_commands_and_csv(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    res = await fake.invoke(w.guild, w.alice, "network add", options={"name": "Pacific Port Cities"})
    assert "Only moderators" in _text(res)
    res = await fake.invoke(w.guild, w.mod, "network add", options={
        "name": "Pacific Port Cities", "acronym": "PPC", "focus": "trade;water", "scope": "regional"})
    assert "Added" in res.text
    res = await fake.invoke(w.guild, w.mod, "network add-member", options={
        "network": "PPC", "city": "Tijuana", "since": 2021, "role": "founding", "source": "charter"})
    assert "Recorded" in res.text and "founding" in res.text
    res = await fake.invoke(w.guild, w.mod, "network members", options={"network": "PPC"})
    assert "Tijuana, MX" in _text(res)

    bad = (b"city,country_iso2,network_slug,since_year\nLos Angeles,US,ppc,2020\nAtlantis,GR,ppc,2020\n"
           b"Lima,PE,nope,2020\n")
    res = await fake.invoke(w.guild, w.mod, "network import", options={"file": "bad.csv"},
                            attachments={"file": ("bad.csv", bad)})
    body = _text(res)
    assert "nothing was written" in body.lower() and "line 3" in body and "line 4" in body
    assert any(f.filename == "import-errors.txt" for f in res.files)
    ppc = await directory_service(w.bot).resolve_network("ppc", guild_id=w.guild.id)
    assert len(await directory_service(w.bot).network_members(w.guild.id, ppc.id)) == 1

    good = b"city,country_iso2,network_slug,since_year\nLos Angeles,US,ppc,2020\nLima,PE,ppc,2022\n"
    res = await fake.invoke(w.guild, w.mod, "network import", options={"file": "good.csv"},
                            attachments={"file": ("good.csv", good)})
    assert "2 added" in _text(res)

    res = await fake.invoke(w.guild, w.mod, "network export", options={"what": "memberships"})
    files = res.files
    assert files and files[0].filename == "memberships.csv" and "Lima,PE,ppc" in files[0].text

    res = await fake.invoke(
        w.guild, w.mod, "network remove-member", options={"network": "PPC", "city": "Lima"}
    )
    assert "Removed" in res.text
    res = await fake.invoke(
        w.guild, w.mod, "network remove-member", options={"network": "C40", "city": "Paris"}
    )
    assert "shared seed" in _text(res)

    res = await fake.invoke(w.guild, w.mod, "city add", options={
        "name": "Xanadu Springs", "country": "US", "timezone": "America/Denver", "region": "Colorado"})
    assert "Added" in res.text
    choices = await fake.autocomplete(w.guild, w.alice, "city show", focused="city", value="xanadu")
    assert choices and choices[0]["name"].startswith("Xanadu Springs")

    await fake.invoke(w.guild, w.alice, "profile set", options={"timezone": "Europe/Paris"})
    res = await fake.invoke(w.guild, w.mod, "directory gaps")
    assert "no city or time zone" not in _text(res)  # alice has a zone
    assert "time zone but no city" in _text(res) and f"<@{w.alice.id}>" in _text(res)
    await fake.invoke(w.guild, w.bob, "profile set", options={"city": "Lima"})
    res = await fake.invoke(w.guild, w.mod, "directory gaps")
    assert "Lima, PE" in _text(res)

    res = await fake.invoke(w.guild, w.alice, "network list", options={"focus": "climate"})
    assert "C40" in _text(res)

    assert fake.violations == []
    assert fake.unhandled == []


async def test_city_show_lists_tracked_and_documented_agreements(started_bot: World) -> None:
    """With the MOU tracker loaded (as in the normal bot), the city card shows this server's tracked
    agreements AND the documented ones from the seed, with their year and source."""
    w = started_bot
    fake = w.fake
    assert w.bot.features.agreements is not None
    res = await fake.invoke(w.guild, w.dave, "city show", options={"city": "Tijuana"})
    documented = _field(res.embed, "Documented agreements")
    for year in ("2014", "2017", "2020", "2022"):
        assert f"({year})" in documented
    assert "San Diego" in documented and "sandiego.gov" in documented  # the source, linked
    assert "none recorded" not in documented
    assert "none yet" in _field(res.embed, "Tracked on this server")

    res = await fake.invoke(w.guild, w.alice, "mou add", {
        "kind": "mou", "title": "Border water pact", "city_a": "Tijuana", "city_b": "San Diego"})
    assert res.modal is not None, res.text
    done = await fake.submit_modal(w.guild, w.alice, res, {"mou_add_summary": "Water quality."})
    assert "recorded" in done.text, done.text

    res = await fake.invoke(w.guild, w.dave, "city show", options={"city": "Tijuana"})
    tracked = _field(res.embed, "Tracked on this server")
    assert "San Diego" in tracked and "#" in tracked and "none yet" not in tracked
    documented = _field(res.embed, "Documented agreements")
    assert all(f"({y})" in documented for y in ("2014", "2017", "2020", "2022"))
    assert res.embed is not None and all(len(f["value"]) <= 1024 for f in res.embed["fields"])
    assert fake.violations == []
    assert fake.unhandled == []


async def test_city_show_region_is_a_name_never_a_code(started_bot: World) -> None:
    w = started_bot
    fake = w.fake
    for city, region, title in (("Tijuana", "Baja California", "Tijuana, MX"),
                                ("Lyon", "Auvergne-Rhône-Alpes", "Lyon, FR"),
                                ("Suzhou, Anhui", "Anhui", "Suzhou, Anhui, CN")):
        res = await fake.invoke(w.guild, w.dave, "city show", options={"city": city})
        assert res.embed is not None, res.text
        assert f"**Region:** {region}\n" in res.embed["description"] and res.embed["title"] == title
        assert "region 0" not in _text(res).lower()
    # No name known for the division: the line is left out, never a bare code.
    res = await fake.invoke(w.guild, w.dave, "city show", options={"city": "Ho Chi Minh City"})
    assert res.embed is not None and res.embed["title"] == "Ho Chi Minh City, VN"
    assert "Region" not in res.embed["description"] and "region " not in _text(res).lower()
    # Disambiguation lists name the regions.
    res = await fake.invoke(w.guild, w.dave, "city show", options={"city": "San Fernando, PH"})
    text = _text(res)
    assert res.ephemeral and "could be several cities" in text
    assert "San Fernando, Central Luzon, PH" in text and "San Fernando, Ilocos, PH" in text
    choices = await fake.autocomplete(w.guild, w.dave, "city show", focused="city", value="suzhou")
    assert any(c["name"].startswith("Suzhou, Anhui, CN") for c in choices)
    assert fake.violations == []
    assert fake.unhandled == []
