"""The kernel's contracts, end to end: one clock for every feature, one zone search, one "resolve a
city, else keep the text as typed", one fuzzy city match, and features that degrade cleanly when another
feature is not loaded (they meet only through `bot.features`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import to_ms
from bot.places import Places
from bot.sandbox.emulation import FakeDiscord
from bot.timeparse import search_zones
from tests.e2e import MovableClock, World, directory_service, start_world
from tests.test_practices_e2e import share


def _text(res: object) -> str:
    return str(getattr(res, "content", "")) + str(getattr(res, "embeds", ""))


async def test_profile_and_settings_zone_autocomplete_are_one_ranking(started_bot: World) -> None:
    w = started_bot
    for query in ("", "new", "paris", "los ang"):
        profile = await w.fake.autocomplete(w.guild, w.alice, "profile set", focused="timezone", value=query)
        server = await w.fake.autocomplete(w.guild, w.admin, "settings timezone", focused="zone", value=query)
        expected = search_zones(query, 25)
        assert [c["value"] for c in profile] == [c["value"] for c in server] == expected, query
    # Common zones first, not the alphabet ("Africa/Abidjan" first).
    first = await w.fake.autocomplete(w.guild, w.alice, "profile set", focused="timezone", value="")
    assert first[0]["value"] != "Africa/Abidjan" and "UTC" in [c["value"] for c in first[:10]]
    new = await w.fake.autocomplete(w.guild, w.alice, "profile set", focused="timezone", value="new")
    assert new[0]["value"] == "America/New_York"
    # /profile set validates the zone with the same rules (case-insensitive) and says which it stored.
    res = await w.fake.invoke(w.guild, w.alice, "profile set", options={"timezone": "europe/paris"})
    assert "Profile saved" in res.text
    assert (await directory_service(w.bot).member_zone(w.guild.id, w.alice.id)) == "Europe/Paris"
    res = await w.fake.invoke(w.guild, w.alice, "profile set", options={"timezone": "Europe/Pariss"})
    assert res.ephemeral and "Europe/Paris" in res.text  # unknown, with a suggestion
    w.fake.assert_clean()


async def test_typo_in_the_first_letter_still_finds_the_city(started_bot: World) -> None:
    w = started_bot
    svc = directory_service(w.bot)
    for typo, city in (("Pqris", "Paris, FR"), ("Qaris", "Paris, FR"), ("Lodnon", "London, GB"),
                       ("Sao Pualo", "São Paulo, BR")):
        suggestions = await svc._suggest(typo.lower(), w.guild.id)
        assert city in [c.label for c in suggestions][:1], (typo, [c.label for c in suggestions])
    res = await w.fake.invoke(w.guild, w.dave, "city show", options={"city": "Pqris"})
    assert res.ephemeral and "Did you mean" in res.text and "Paris, FR" in res.text
    # A city this server added is found too; nothing of another server is.
    res = await w.fake.invoke(w.guild, w.mod, "city add", options={
        "name": "Xochimilcoville", "country": "MX", "timezone": "America/Mexico_City"})
    assert "Added" in res.text
    res = await w.fake.invoke(w.guild, w.dave, "city show", options={"city": "Qochimilcoville"})
    assert "Xochimilcoville" in res.text
    assert "Xochimilcoville" not in [c.name for c in await svc._suggest("qochimilcoville", w.guild.id + 1)]
    # Fast on the whole gazetteer (the scan runs off the event loop).
    t0 = time.perf_counter()
    for _ in range(10):
        await svc._suggest("zzqxyplatz", w.guild.id)
    assert (time.perf_counter() - t0) / 10 < 0.25
    w.fake.assert_clean()


async def test_one_injected_clock_stamps_every_feature(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    clock = MovableClock()
    clock.jump_to(datetime.now(UTC) + timedelta(days=40))
    async with start_world(fake_discord, tmp_path, scheduler_clock=clock) as w:
        assert w.bot.clock is clock and w.bot.scheduler.clock is clock and w.bot.db.clock is clock
        before = to_ms(clock())
        res = await w.fake.invoke(w.guild, w.alice, "profile set", options={"title": "Deputy mayor"})
        assert "Profile saved" in res.text
        res = await w.fake.invoke(w.guild, w.admin, "settings timezone", options={"zone": "Asia/Seoul"})
        assert "Asia/Seoul" in res.text
        pid = await share(w, w.bob)
        after = to_ms(clock())
        stamps = {
            "profile": await w.bot.db.fetchval("SELECT updated_ms FROM profiles WHERE user_id = ?",
                                               (w.alice.id,)),
            "practice": await w.bot.db.fetchval("SELECT created_ms FROM practices WHERE id = ?", (pid,)),
        }
        audit = await w.bot.db.fetchall("SELECT action, at_ms FROM audit WHERE guild_id = ?", (w.guild.id,))
        for row in audit:
            stamps[row["action"]] = row["at_ms"]
        assert {"profile", "practice", "settings.set", "profile.set", "practice.submit"} <= set(stamps)
        wall = to_ms(datetime.now(UTC))
        for what, ms in stamps.items():  # from the injected clock, 40 days ahead of the wall clock
            assert ms > wall + 30 * 86_400_000, what
            assert what in ("settings.set",) or before <= ms <= after, what


async def test_without_the_directory_places_are_zones_and_text(
    fake_discord: FakeDiscord, tmp_path: Path,
) -> None:
    exts = ["cogs.settings", "cogs.meta", "cogs.roundtables"]
    async with start_world(fake_discord, tmp_path, extensions=exts) as w:
        places: Places = w.bot.features.places
        features = w.bot.features
        assert places.provider is None and features.networks is None and features.agreements is None
        gid = w.guild.id
        assert await places.member_zone(gid, w.alice.id) == "UTC"  # the server's zone
        ref = await places.resolve_city("Lyon, fr", guild_id=gid)
        assert (ref.city_id, ref.name, ref.country, ref.label) == (None, "Lyon", "FR", "Lyon, FR")
        assert await places.city_choices("Par", guild_id=gid) == []
        assert places.zone_choices("new")[0] == "America/New_York"
        # /roundtable findtime takes zones, and a zone's city part as people write it.
        res = await w.fake.invoke(w.guild, w.alice, "roundtable findtime",
                                  {"cities": "Los Angeles; Europe/Paris", "within_days": 7})
        assert "Best times" in _text(res) or "No common working time" in _text(res), _text(res)
        res = await w.fake.invoke(w.guild, w.alice, "roundtable findtime",
                                  {"cities": "Atlantis; Europe/Paris"})
        assert res.ephemeral and "I don't know the city or time zone" in res.text
        w.fake.assert_clean()


async def test_practices_and_mous_without_the_directory_keep_cities_as_typed(
    fake_discord: FakeDiscord, tmp_path: Path,
) -> None:
    exts = ["cogs.settings", "cogs.meta", "cogs.practices", "cogs.mous"]
    async with start_world(fake_discord, tmp_path, extensions=exts) as w:
        assert w.bot.features.places.provider is None and w.bot.features.practices is not None
        pid = await share(w, w.alice, options={"city": "Springfield, us"})
        row = await w.bot.db.fetchone("SELECT city_id, city_name, country FROM practices WHERE id = ?",
                                      (pid,))
        assert row is not None
        assert (row["city_id"], row["city_name"], row["country"]) == (None, "Springfield", "US")
        res = await w.fake.invoke(w.guild, w.alice, "mou add", {
            "kind": "mou", "title": "Lyon–Atlantis", "city_a": "Lyon, fr", "city_b": "Atlantis"})
        assert res.modal is not None, res.text
        done = await w.fake.submit_modal(w.guild, w.alice, res, {"mou_add_summary": "Water."})
        assert "recorded" in done.content, done.text
        parties = await w.bot.db.fetchall(
            "SELECT city_id, city_name, country FROM mou_parties WHERE guild_id = ? ORDER BY city_name",
            (w.guild.id,))
        assert [tuple(p) for p in parties] == [(None, "Atlantis", None), (None, "Lyon", "FR")]
        # Autocomplete falls back to the cities already used here.
        choices = await w.fake.autocomplete(w.guild, w.bob, "mou add", focused="city_a", value="ly")
        assert [c["value"] for c in choices] == ["Lyon, FR"]
        res = await w.fake.invoke(w.guild, w.alice, "mou add", {
            "kind": "mou", "title": "By id", "city_a": "12345", "city_b": "Atlantis"})
        assert res.ephemeral and "No city with id 12345" in res.text
        w.fake.assert_clean()


def test_rate_limit_sweep_is_throttled() -> None:
    """discord.py walks every rate-limit bucket each time it meets a new one: the bot calls that
    walk at most once a minute (bot.app.throttle_rate_limit_sweep). The method must still exist
    in the discord.py we run."""
    import discord.http

    from bot.app import throttle_rate_limit_sweep

    assert callable(getattr(discord.http.HTTPClient, "_try_clear_expired_ratelimits", None))
    calls: list[int] = []

    class FakeHTTP:
        def _try_clear_expired_ratelimits(self) -> None:
            calls.append(1)

    http = FakeHTTP()
    assert throttle_rate_limit_sweep(http, every=3600)
    for _ in range(1000):
        http._try_clear_expired_ratelimits()
    assert len(calls) == 1
    assert not throttle_rate_limit_sweep(object())
