"""Directory service: city resolution, seed idempotency, import validation, guild isolation,
shared/overlap."""

from __future__ import annotations

import re

import pytest

from bot import audit
from bot.db import Database
from bot.errors import InvalidInput, NotFound, PermissionDenied
from cogs.directory.service import DirectoryService, ImportRejected, normalise

G1, G2 = 111, 222
MOD, ALICE, BOB = 1, 2, 3


@pytest.fixture
async def svc(seeded_db: Database) -> DirectoryService:
    return DirectoryService(seeded_db)


# -- cities ------------------------------------------------------------------------------------
def test_normalise_strips_accents_and_punctuation() -> None:
    assert normalise("São Paulo") == normalise("Sao Paulo") == "sao paulo"
    assert normalise("Saint-Étienne") == "saint etienne"
    assert normalise("  GDAŃSK ") == "gdansk"


async def test_accents_and_common_spellings(svc: DirectoryService) -> None:
    a = await svc.resolve_city("São Paulo", guild_id=G1)
    b = await svc.resolve_city("sao paulo", guild_id=G1)
    assert a == b and a.country == "BR" and a.timezone == "America/Sao_Paulo"
    assert (await svc.resolve_city("Frankfurt", guild_id=G1)).name == "Frankfurt am Main"
    assert (await svc.resolve_city("New York", guild_id=G1)).timezone == "America/New_York"
    assert (await svc.resolve_city("서울", guild_id=G1)).name == "Seoul"


async def test_ambiguous_names_need_region_or_country(svc: DirectoryService) -> None:
    for name in ("Portland", "San Jose", "Valencia"):
        with pytest.raises(InvalidInput) as exc:
            await svc.resolve_city(name, guild_id=G1)
        assert "could be several cities" in exc.value.message
    oregon = await svc.resolve_city("Portland, Oregon", guild_id=G1)
    assert oregon.label == "Portland, Oregon, US" and oregon.timezone == "America/Los_Angeles"
    maine = await svc.resolve_city("Portland Maine", guild_id=G1)
    assert maine.admin1 == "Maine" and maine.timezone == "America/New_York"
    assert await svc.resolve_city("Portland, US", guild_id=G1) == oregon
    assert (await svc.resolve_city("Valencia, ES", guild_id=G1)).timezone == "Europe/Madrid"
    assert (await svc.resolve_city("Valencia, Spain", guild_id=G1)).country == "ES"
    assert (await svc.resolve_city("San Jose, CA", guild_id=G1)).label == "San Jose, California, US"
    # The label of every candidate resolves back to it.
    assert await svc.resolve_city(oregon.label, guild_id=G1) == oregon
    # A dominant city wins without qualification.
    assert (await svc.resolve_city("Paris", guild_id=G1)).country == "FR"


async def test_unknown_city_suggests(svc: DirectoryService) -> None:
    with pytest.raises(NotFound) as exc:
        await svc.resolve_city("Pariss", guild_id=G1)
    assert "Paris, FR" in exc.value.message
    with pytest.raises(NotFound):
        await svc.resolve_city("Qwzxqwzx", guild_id=G1)
    with pytest.raises(InvalidInput):
        await svc.resolve_city("   ", guild_id=G1)


async def test_autocomplete_ranked_and_bounded(svc: DirectoryService) -> None:
    for q in ("", "s", "sa", "sao", "new", "Sao Pa", "São"):
        found = await svc.search_cities(q, guild_id=G1)
        assert 0 < len(found) <= 25
        assert [c.population for c in found] == sorted((c.population for c in found), reverse=True) or q
    assert (await svc.search_cities("sao p", guild_id=G1))[0].name == "São Paulo"
    top = await svc.search_cities("tok", guild_id=G1)
    assert top[0].name == "Tokyo"
    # Choice values are ids that resolve back.
    assert await svc.resolve_city(str(top[0].id), guild_id=G1) == top[0]


async def test_added_city_is_guild_scoped(svc: DirectoryService) -> None:
    city = await svc.add_city(G1, MOD, "Xanadu Springs", "US", "america/denver", "Colorado")
    assert city.guild_id == G1 and city.timezone == "America/Denver"
    assert (await svc.resolve_city("Xanadu Springs", guild_id=G1)).id == city.id
    assert any(c.id == city.id for c in await svc.search_cities("xanadu", guild_id=G1))
    assert not any(c.id == city.id for c in await svc.search_cities("xanadu", guild_id=G2))
    with pytest.raises(NotFound):
        await svc.resolve_city("Xanadu Springs", guild_id=G2)
    with pytest.raises(NotFound):
        await svc.resolve_city(str(city.id), guild_id=G2)
    with pytest.raises(InvalidInput):
        await svc.add_city(G1, MOD, "Paris", "FR", "Europe/Paris")
    with pytest.raises(InvalidInput):
        await svc.add_city(G1, MOD, "Nowhere", "ZZZ", "Europe/Paris")
    with pytest.raises(InvalidInput):
        await svc.add_city(G1, MOD, "Nowhere", "FR", "Mars/Olympus")
    entries = await audit.entries(svc.db, G1, entity="city")
    assert entries and entries[0].action == "city.add"


# -- seed ----------------------------------------------------------------------------------------
async def test_seed_is_idempotent_and_resolves_cities(svc: DirectoryService) -> None:
    counts = {}
    for table in ("cities", "city_names", "networks", "memberships", "seed_agreements", "sdgs"):
        counts[table] = await svc.db.fetchval(f"SELECT COUNT(*) FROM {table}")
    report = await svc.seed_reference()
    assert report.unresolved == ()
    await svc.seed_gazetteer()
    for table, n in counts.items():
        assert await svc.db.fetchval(f"SELECT COUNT(*) FROM {table}") == n, table
    assert counts["networks"] == 47 and counts["memberships"] == 98 and counts["sdgs"] == 17
    # Cities map to the gazetteer; states stay states.
    nyc = await svc.resolve_city("New York City", guild_id=None)
    nets = {m.network.slug for m in await svc.city_memberships(None, nyc.id)}
    assert {"c40", "strong-cities-network", "cities-coalition-for-digital-rights"} <= nets
    assert "us-climate-alliance" not in nets  # that row is New York State
    usca = await svc.resolve_network("us-climate-alliance", guild_id=None)
    members = await svc.network_members(None, usca.id)
    assert {m.member_kind for m in members} == {"state"} and all(m.city is None for m in members)
    assert (
        await svc.db.fetchval(
            "SELECT COUNT(*) FROM memberships WHERE member_kind = 'city' AND city_id IS NULL"
        )
        == 0
    )


async def test_unverified_seed_rows_carry_the_caveat(svc: DirectoryService) -> None:
    sd = await svc.resolve_city("San Diego", guild_id=G1)
    scn = [m for m in await svc.city_memberships(G1, sd.id) if m.network.slug == "strong-cities-network"]
    assert len(scn) == 1 and scn[0].status == "unverified" and scn[0].caveat
    former = [m for m in await svc.city_memberships(G1, sd.id) if m.status == "former"]
    assert former == []
    la = await svc.resolve_city("Los Angeles", guild_id=G1)
    rc = [m for m in await svc.city_memberships(G1, la.id) if m.network.slug == "100-resilient-cities"]
    assert rc[0].status == "former" and rc[0].left_year == 2019


# -- profiles ------------------------------------------------------------------------------------
async def test_profile_set_verify_clear(svc: DirectoryService) -> None:
    p = await svc.set_profile(
        G1, ALICE, city="Seoul", title="Director of International Affairs", office="Mayor's office"
    )
    assert p.city and p.city.name == "Seoul" and p.timezone == "Asia/Seoul" and not p.verified and p.dm_ok
    assert await svc.member_zone(G1, ALICE) == "Asia/Seoul"
    p = await svc.set_profile(G1, ALICE, timezone="Europe/Paris")
    assert p.timezone == "Europe/Paris" and p.city and p.city.name == "Seoul"
    with pytest.raises(InvalidInput):
        await svc.set_profile(G1, ALICE, title="x" * 101)
    with pytest.raises(InvalidInput):
        await svc.set_profile(G1, ALICE)
    with pytest.raises(PermissionDenied):
        await svc.verify_profile(G1, ALICE, actor_id=ALICE)
    p = await svc.verify_profile(G1, ALICE, actor_id=MOD)
    assert p.verified and p.verified_by == MOD
    # Changing the city resets verification.
    p = await svc.set_profile(G1, ALICE, city="Paris")
    assert not p.verified
    # Other guilds see nothing.
    assert await svc.get_profile(G2, ALICE) is None
    assert await svc.clear_profile(G1, ALICE)
    assert await svc.get_profile(G1, ALICE) is None
    actions = [e.action for e in await audit.entries(svc.db, G1, entity="profile")]
    assert actions[:2] == ["profile.clear", "profile.set"] and "profile.verify" in actions


async def test_places_for_in_order_and_deduplicated(svc: DirectoryService) -> None:
    await svc.set_profile(G1, ALICE, city="Seoul")
    await svc.set_profile(G1, BOB, city="Paris")
    await svc.set_profile(G1, 4, city="Seoul")
    await svc.set_profile(G1, 5, timezone="America/Chicago")
    assert await svc.places_for(G1, [BOB, ALICE, 4, 5, 99]) == [
        ("Paris", "Europe/Paris"), ("Seoul", "Asia/Seoul"), ("Chicago", "America/Chicago")]
    assert await svc.places_for(G2, [ALICE]) == []


async def test_gaps(svc: DirectoryService) -> None:
    await svc.set_profile(G1, ALICE, city="Seoul")
    await svc.set_profile(G1, BOB, title="Analyst")
    await svc.set_profile(G1, 4, city="Paris")
    await svc.verify_profile(G1, 4, actor_id=MOD)
    gaps = await svc.gaps(G1)
    assert gaps.missing_place == [BOB]
    assert [c.name for c, _ in gaps.unverified_cities] == ["Seoul"]


# -- networks ------------------------------------------------------------------------------------
async def test_network_search_fuzzy(svc: DirectoryService) -> None:
    assert (await svc.search_networks("c40"))[0].slug == "c40"
    assert (await svc.search_networks("UCLG"))[0].slug == "uclg"
    assert (await svc.search_networks("eurocites"))[0].slug == "eurocities"  # typo
    assert (await svc.search_networks("baltic"))[0].slug == "union-of-the-baltic-cities"
    assert len(await svc.search_networks("")) == 25
    assert (await svc.resolve_network("Strong Cities Network", guild_id=G1)).slug == "strong-cities-network"
    with pytest.raises(NotFound):
        await svc.resolve_network("Zzyzx league", guild_id=G1)


async def test_shared_and_overlap(svc: DirectoryService) -> None:
    la = await svc.resolve_city("Los Angeles", guild_id=G1)
    paris = await svc.resolve_city("Paris", guild_id=G1)
    shared = {n.slug for n, _, _ in await svc.shared_networks(G1, la.id, paris.id)}
    assert shared == {"c40"}
    c40 = await svc.resolve_network("c40", guild_id=G1)
    ogp = await svc.resolve_network("ogp-local", guild_id=G1)
    both = {c.name for c in await svc.overlap(G1, c40.id, ogp.id)}
    assert both == {"Paris", "Seoul"}
    with pytest.raises(InvalidInput):
        await svc.shared_networks(G1, la.id, la.id)


async def test_guild_additions_are_isolated(svc: DirectoryService) -> None:
    la = await svc.resolve_city("Los Angeles", guild_id=G1)
    paris = await svc.resolve_city("Paris", guild_id=G1)
    ogp = await svc.resolve_network("ogp-local", guild_id=G1)
    m = await svc.add_membership(G1, MOD, ogp, la, since=2021, category="member", source="https://example.org")
    assert m.origin == "guild" and m.guild_id == G1
    assert {n.slug for n, _, _ in await svc.shared_networks(G1, la.id, paris.id)} == {"c40", "ogp-local"}
    assert {n.slug for n, _, _ in await svc.shared_networks(G2, la.id, paris.id)} == {"c40"}
    net = await svc.add_network(G1, MOD, name="Pacific Port Cities", acronym="PPC", focus="trade;water",
                                scope="regional")
    assert [n.slug for n in await svc.search_networks("PPC", guild_id=G1)][:1] == ["ppc"]
    assert await svc.search_networks("Pacific Port", guild_id=G2) == []
    with pytest.raises(NotFound):
        await svc.resolve_network("ppc", guild_id=G2)
    assert net.focus == ("trade", "water")
    # Seed rows can't be removed by a guild; its own rows can.
    c40 = await svc.resolve_network("c40", guild_id=G1)
    with pytest.raises(PermissionDenied):
        await svc.remove_membership(G1, MOD, c40, la)
    with pytest.raises(InvalidInput):
        await svc.add_membership(G1, MOD, c40, la)
    await svc.remove_membership(G1, MOD, ogp, la)
    with pytest.raises(NotFound):
        await svc.remove_membership(G1, MOD, ogp, la)
    actions = [e.action for e in await audit.entries(svc.db, G1)]
    assert {"membership.add", "membership.remove", "network.add"} <= set(actions)
    assert await audit.entries(svc.db, G2) == []


# -- import / export -----------------------------------------------------------------------------
NETWORKS_OK = (
    "slug,name,acronym,founded_year,focus,scope,website,source\n"
    "pacific-ports,Pacific Port Cities,PPC,2020,trade;water,regional,https://ppc.example,Founding charter\n"
    "andes-mayors,Andean Mayors Forum,AMF2,2019,governance,regional,,Press release\n"
)


async def test_import_rejects_bad_rows_atomically(svc: DirectoryService) -> None:
    bad = (
        "slug,name,acronym,founded_year,focus,scope,website,source\n"
        "good-one,Good Network,,2020,climate,global,,src\n"
        "Bad Slug,Bad,,2020,climate,global,,src\n"
        "no-name,,,2020,climate,global,,src\n"
        "weird-focus,Weird,,2020,astrology,global,,src\n"
        "c40,Clash with seed,,2020,climate,global,,src\n"
        "old-one,Old,,1066,climate,global,,src\n"
    )
    before = await svc.db.fetchval("SELECT COUNT(*) FROM networks")
    with pytest.raises(ImportRejected) as exc:
        await svc.import_networks(bad, guild_id=G1, actor_id=MOD)
    assert [e.line for e in exc.value.errors] == [3, 4, 5, 6, 7]
    assert "line 3" in exc.value.message
    assert await svc.db.fetchval("SELECT COUNT(*) FROM networks") == before

    res = await svc.import_networks(NETWORKS_OK.encode(), guild_id=G1, actor_id=MOD)
    assert (res.created, res.updated) == (2, 0)
    res = await svc.import_networks(NETWORKS_OK, guild_id=G1, actor_id=MOD)
    assert (res.created, res.updated) == (0, 2)  # re-import updates, never duplicates

    members_bad = (
        "city,country_iso2,network_slug,since_year,category\n"
        "Los Angeles,US,pacific-ports,2020,member\n"
        "Atlantis,GR,pacific-ports,2020,member\n"
        "Tijuana,MX,no-such-network,2020,member\n"
        "Portland,US,pacific-ports,2020,member\n"
        "Tijuana,MX,pacific-ports,2030x,member\n"
        "Tijuana,MX,pacific-ports,2020,emperor\n"
    )
    with pytest.raises(ImportRejected) as exc:
        await svc.import_memberships(members_bad, guild_id=G1, actor_id=MOD)
    assert [e.line for e in exc.value.errors] == [3, 4, 6, 7]
    assert await svc.db.fetchval("SELECT COUNT(*) FROM memberships WHERE guild_id = ?", (G1,)) == 0

    members_ok = (
        "city,country_iso2,network_slug,since_year,category,source\n"
        "Los Angeles,US,pacific-ports,2020,founding,charter\n"
        "Tijuana,MX,pacific-ports,2021,member,charter\n"
        "\"Portland, Oregon\",US,pacific-ports,,observer,charter\n"
    )
    res = await svc.import_memberships(members_ok, guild_id=G1, actor_id=MOD)
    assert res.created == 3
    res = await svc.import_memberships(members_ok, guild_id=G1, actor_id=MOD)
    assert (res.created, res.updated) == (0, 3)
    ppc = await svc.resolve_network("pacific-ports", guild_id=G1)
    assert len(await svc.network_members(G1, ppc.id)) == 3
    assert len(await svc.network_members(G1, ppc.id, country="MX")) == 1

    exported = await svc.export_memberships(G1)
    assert "pacific-ports" in exported and exported.startswith("\ufeffcity,country_iso2,network_slug")
    assert "pacific-ports" not in await svc.export_memberships(G2)
    nets = await svc.export_networks(G1)
    assert nets.count("\n") == 47 + 2 + 1


async def test_import_header_errors(svc: DirectoryService) -> None:
    with pytest.raises(InvalidInput):
        svc.detect_kind("foo,bar\n1,2\n")
    assert svc.detect_kind(NETWORKS_OK) == "networks"
    with pytest.raises(InvalidInput):
        await svc.import_networks("slug,name,colour\nx,y,red\n", guild_id=G1, actor_id=MOD)
    with pytest.raises(InvalidInput):
        await svc.import_networks(b"\xff\xfe\x00bad", guild_id=G1, actor_id=MOD)
    with pytest.raises(InvalidInput):
        await svc.import_networks("slug,name\n", guild_id=G1, actor_id=MOD)


async def test_city_without_agreements_and_seed_agreements(svc: DirectoryService) -> None:
    sd = await svc.resolve_city("San Diego", guild_id=G1)
    agreements = await svc.seed_agreements_for(sd)
    assert any(a.city_b == "Tijuana" and a.signed_year == 2022 for a in agreements)
    dc = await svc.resolve_city("Washington", guild_id=G1)
    assert dc.admin1 == "District of Columbia"
    assert any(a.city_b == "Beijing" for a in await svc.seed_agreements_for(dc))


async def test_member_city_autocomplete_follows_profile_changes(svc: DirectoryService) -> None:
    await svc.set_profile(G1, ALICE, city="Seoul")
    assert [c.name for c in await svc.search_member_cities(G1, "")][:1] == ["Seoul"]
    await svc.set_profile(G1, BOB, city="Lima")
    await svc.set_profile(G1, 4, city="Lima")
    assert [c.name for c in await svc.search_member_cities(G1, "")][:2] == ["Lima", "Seoul"]
    assert [c.name for c in await svc.search_member_cities(G1, "se")][:1] == ["Seoul"]
    await svc.set_profile(G1, ALICE, city="Paris")
    await svc.clear_profile(G1, BOB)
    names = [c.name for c in await svc.search_member_cities(G1, "")]
    assert names[:2] == ["Paris", "Lima"] or names[:2] == ["Lima", "Paris"]
    assert "Seoul" not in names[:2]
    assert [c.name for c in await svc.search_member_cities(G2, "")][:1] == ["Shanghai"]  # gazetteer fallback


def test_city_card_agreement_fields_fit_and_say_how_many_more() -> None:
    from datetime import UTC, datetime

    from bot.contracts import AgreementLine
    from cogs.directory.embeds import city_embed
    from cogs.directory.service import City, SeedAgreement

    city = City(1, "Tijuana", "MX", "Baja California", "America/Tijuana", 1_900_000, None, "02")
    long_source = "A very long source title " * 4 + "https://example.org/" + "x" * 150
    documented = [SeedAgreement("Tijuana", "MX", f"Partner {i}", "US", "mou", 1990 + i, "topic", long_source,
                                None, 1, 100 + i) for i in range(25)]
    tracked = [AgreementLine(i, "mou", "MOU", "active", (f"Somewhere {i}",), None, "UTC") for i in range(30)]
    emb = city_embed(city, "Mexico", datetime.now(UTC), [], documented, tracked, [], None,
                     total_documented=40, tracked_capped=True).to_dict()
    fields = {f["name"]: f["value"] for f in emb["fields"]}
    doc = fields["Documented agreements (40)"]
    assert len(doc) <= 1024 and doc.splitlines()[0].startswith("• MOU with Partner 0, US (1990)")
    shown = sum(1 for line in doc.splitlines() if line.startswith("• "))
    assert 0 < shown < 25 and doc.endswith(f"… and {40 - shown} more")
    track = fields["Tracked on this server (30+)"]
    assert len(track) <= 1024 and "• #0 MOU with Somewhere 0" in track
    n = sum(1 for line in track.splitlines() if line.startswith("• "))
    assert 0 < n < 30 and track.splitlines()[-1] == f"… and {30 - n}+ more (`/mou list city:`)"
    # Without the MOU tracker there is no tracked field, and nothing documented says so.
    emb = city_embed(city, "Mexico", datetime.now(UTC), [], [], None, [], None).to_dict()
    fields = {f["name"]: f["value"] for f in emb["fields"]}
    assert fields["Documented agreements (0)"] == "none recorded"
    assert not any(name.startswith("Tracked") for name in fields)


async def test_regions_are_names_never_codes(svc: DirectoryService) -> None:
    tijuana = await svc.resolve_city("Tijuana", guild_id=G1)
    assert tijuana.admin1_code == "02" and tijuana.region == "Baja California"
    assert (await svc.resolve_city("Lyon", guild_id=G1)).region == "Auvergne-Rhône-Alpes"
    assert (await svc.resolve_city("Manchester, GB", guild_id=G1)).region == "England"
    # A member can narrow by the region's name, and the label of a homonym names its region.
    guadalajara = await svc.resolve_city("Guadalajara, Jalisco", guild_id=G1)
    assert guadalajara.country == "MX" and guadalajara.region == "Jalisco"
    suzhou = await svc.resolve_city("Suzhou, Anhui", guild_id=G1)
    assert suzhou.label == "Suzhou, Anhui, CN"
    assert await svc.resolve_city(suzhou.label, guild_id=G1) == suzhou
    # No name known for the code (GeoNames renumbered Vietnam's provinces): no region, a clean label.
    hcmc = await svc.resolve_city("Ho Chi Minh City", guild_id=G1)
    assert hcmc.admin1_code and hcmc.region is None and hcmc.label == "Ho Chi Minh City, VN"
    # Across the whole gazetteer: a region is never a bare code, a label never says "region".
    from cogs.directory.service import _CITY_COLS, _city

    rows = await svc.db.fetchall(f"SELECT {_CITY_COLS} FROM cities c WHERE c.guild_id IS NULL")
    cities = [_city(r) for r in rows]
    assert len(cities) > 20_000
    assert not [c for c in cities if c.region is not None and c.region == c.admin1_code]
    assert not [c for c in cities if "region " in c.label or re.search(r", \d+,", c.label)]
    named = sum(1 for c in cities if c.region)
    assert named > 0.97 * sum(1 for c in cities if c.admin1_code and c.admin1_code != "00")


async def test_a_database_seeded_with_codes_gets_names_on_start(svc: DirectoryService) -> None:
    """Databases seeded before the names were known hold the code in `admin1`: it never shows, and the
    next start reloads the gazetteer once."""
    await svc.db.execute("UPDATE cities SET admin1 = admin1_code WHERE guild_id IS NULL AND country != 'US'")
    await svc.db.execute("DELETE FROM meta WHERE key = 'directory.gazetteer'")
    tijuana = await svc.resolve_city("Tijuana", guild_id=G1)
    assert tijuana.admin1 == "02" and tijuana.region is None and tijuana.label == "Tijuana, MX"
    await svc.ensure_seeded()
    assert (await svc.resolve_city("Tijuana", guild_id=G1)).region == "Baja California"
    loaded = await svc.db.fetchval("SELECT value FROM meta WHERE key = 'directory.gazetteer'")
    assert loaded and loaded.startswith("gazetteer-")
    assert await svc.ensure_seeded() is None
    assert await svc.db.fetchval("SELECT value FROM meta WHERE key = 'directory.gazetteer'") == loaded
