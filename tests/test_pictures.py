"""Pictures without Discord: the service (off-loop drawing, cache keyed by the data shown, shared drawing
of concurrent requests, bounded cache), each picture's size and alt text, accented text, the weekend of a
place from CLDR week data, findtime's working hours and early/late option."""

from __future__ import annotations

import asyncio
import io
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.errors import InvalidInput
from bot.pictures import ALT_MAX, MAX_WIDTH, Kit, Picture, PictureService, data_version
from bot.workweek import DEFAULT_WEEKEND, weekend_days, zone_country
from cogs.mous.embeds import timeline_data
from cogs.mous.pictures import draw_timeline
from cogs.mous.records import Timeline, TimelineRow
from cogs.practices.embeds import stats_chart_data, stats_map_data
from cogs.practices.pictures import draw_chart, draw_map, map_height
from cogs.practices.records import TOPICS, LibraryMap, MapPoint, Stats
from cogs.roundtables.findtime import find_slots, hour_kinds, parse_hours, place_weekend
from cogs.roundtables.pictures import draw_findtime, grid_data

MONDAY = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def open_png(p: Picture) -> Image.Image:
    image = Image.open(io.BytesIO(p.png))
    assert image.format == "PNG" and image.size == (p.width, p.height) and p.width <= MAX_WIDTH
    assert p.alt and len(p.alt) <= ALT_MAX
    assert image.convert("RGB").getpixel((1, 1)) == (255, 255, 255)  # opaque: light and dark themes alike
    return image


def stats(total: int = 10, water: int = 0) -> Stats:
    by_topic = tuple((t, water if t == "water" else 3) for t in TOPICS)
    return Stats(total=total, open=1, by_topic=by_topic, by_sdg=tuple((k, k % 3) for k in range(1, 18)),
                 by_country=(("FR", total),), by_region=(("Europe", total),),
                 missing_topics=("water",) if not water else (), missing_regions=("Oceania",))


# -- the service --------------------------------------------------------------------------------------
async def test_cache_until_the_data_changes_and_drawing_off_the_loop() -> None:
    svc = PictureService()
    threads: list[str] = []

    def draw(kit: Kit, n: int) -> Picture:
        threads.append(threading.current_thread().name)
        img, d = kit.canvas(200, 100)
        kit.text(d, (10, 10), f"n = {n}")
        return kit.png(img, alt=f"n is {n}", filename="n.png")

    try:
        a = await svc.render("t", 1, 1, draw)
        assert await svc.render("t", 1, 1, draw) is a and svc.drawn == 1  # same data: the cached picture
        b = await svc.render("t", 1, 2, draw)
        assert b.png != a.png and svc.drawn == 2  # the data changed: drawn again
        assert await svc.render("t", 2, 2, draw) is not b and svc.drawn == 3  # another guild, its own
        assert svc.cached("t", 1, 2) is b and svc.cached("t", 1, 1) is None
        assert all(name.startswith("pictures") for name in threads)  # never on the event loop's thread
        # concurrent requests for the same data share one drawing
        c1, c2 = await asyncio.gather(svc.render("t", 1, 3, draw), svc.render("t", 1, 3, draw))
        assert c1 is c2 and svc.drawn == 4
    finally:
        svc.close()


async def test_cache_is_bounded_and_forgets_a_guild() -> None:
    svc = PictureService(cache_size=2)

    def draw(kit: Kit, n: int) -> Picture:
        img, _d = kit.canvas(10, 10)
        return kit.png(img, alt="x", filename="x.png")

    try:
        for guild in (1, 2, 3):
            await svc.render("t", guild, 0, draw)
        assert svc.cached("t", 1, 0) is None and svc.cached("t", 3, 0) is not None
        svc.forget_guild(3)
        assert svc.cached("t", 3, 0) is None
    finally:
        svc.close()


def test_data_version_follows_the_values() -> None:
    assert data_version(stats()) == data_version(stats())
    assert data_version(stats()) != data_version(stats(total=11))


def test_kit_refuses_wide_pictures_clips_text_and_has_accents() -> None:
    kit = Kit()
    with pytest.raises(ValueError):
        kit.canvas(MAX_WIDTH + 1, 10)
    clipped = kit.fit("Coopération décentralisée entre Séville et Ñuñoa " * 4, 14, 200)
    assert clipped.endswith("…") and kit.text_width(clipped, 14) <= 200
    font = kit.font(14)
    for ch in "éèêàçñÑ¿¡œ":
        assert font.getmask(ch).getbbox() is not None, ch  # the bundled font draws it (no tofu box)
    assert font.getmask("é").getbbox() != font.getmask("e").getbbox()
    img, _d = kit.canvas(10, 10)
    assert len(kit.png(img, alt="a" * 5000, filename="a.png").alt) == ALT_MAX


# -- each picture ---------------------------------------------------------------------------------------
def test_findtime_grid_size_alt_and_change() -> None:
    kit = Kit()
    places = [("Paris", "Europe/Paris"), ("Riyadh", "Asia/Riyadh")]
    weekends = [place_weekend(z) for _l, z in places]
    slots = find_slots([z for _l, z in places], duration=timedelta(hours=1), now=MONDAY, within_days=7,
                       weekends=weekends)

    def grid(now: datetime, days: int) -> Picture:
        data = grid_data([(label, zone, w) for (label, zone), w in zip(places, weekends, strict=True)],
                         slots, now=now, within_days=days, hours=(time(9), time(18)), title="Best times",
                         subtitle="UTC", alt="grid")
        return draw_findtime(kit, data)

    week = grid(MONDAY, 7)
    image = open_png(week)
    assert week.width == 16 * 2 + 210 + 7 * 48 * 4 and week.height == 112 + 2 * 30 + 70
    assert image.getpixel((16 + 210 + 2, 112 + 10)) != (255, 255, 255)  # the first cell is shaded
    two = open_png(grid(MONDAY, 2))
    assert two.width == 16 * 2 + 210 + 2 * 48 * 14  # wider cells for fewer days
    assert grid(MONDAY + timedelta(hours=1), 7).png != week.png


def test_hour_kinds_follow_local_hours_and_weekend() -> None:
    # Riyadh (UTC+3), weekend Friday-Saturday: Friday 2026-01-09 09:00 local is a weekend
    friday = datetime(2026, 1, 9, 6, 0, tzinfo=UTC)
    assert hour_kinds("Asia/Riyadh", place_weekend("Asia/Riyadh"), start=friday, steps=1) == ("weekend",)
    sunday = datetime(2026, 1, 11, 6, 0, tzinfo=UTC)  # 09:00 in Riyadh: a working day there
    assert hour_kinds("Asia/Riyadh", place_weekend("Asia/Riyadh"), start=sunday, steps=1) == ("work",)
    assert hour_kinds("Europe/Paris", place_weekend("Europe/Paris"), start=sunday, steps=1) == ("weekend",)
    # Monday in Paris (UTC+1): 06:30 early, 10:00 work, 19:00 late, 23:00 night
    kinds = hour_kinds("Europe/Paris", DEFAULT_WEEKEND, start=datetime(2026, 1, 5, 5, 30, tzinfo=UTC),
                       steps=36)
    # (each half hour is judged at its middle: 07:45 early, 10:45 work, 19:15 late, 20:15 night)
    assert kinds[0] == "night" and kinds[2] == "edge" and kinds[8] == "work" and kinds[25] == "edge"
    assert kinds[27] == "night" and kinds[35] == "night"


def test_library_chart_and_map() -> None:
    kit = Kit()
    chart = draw_chart(kit, stats_chart_data(stats(), "Réseau des villes"))
    open_png(chart)
    assert (chart.width, chart.height) == (1416, 96 + 17 * 24 + 56)
    assert "water" in chart.alt and "Oceania" in chart.alt
    assert draw_chart(kit, stats_chart_data(stats(water=2))).png != chart.png
    points = (MapPoint("Lyon", 45.75, 4.85, 3), MapPoint("Séville", 37.38, -5.97, 1))
    world = draw_map(kit, stats_map_data(LibraryMap(points, (MapPoint("Kyoto", 35.0, 135.75, 2),), 4)))
    image = open_png(world)
    assert world.width == 1440 and world.height == 76 + map_height() + 48
    assert "2 cities with approved practices" in world.alt and "4 practices" in world.alt
    # Lyon's dot is blue-ish, the middle of the Pacific is ocean
    lx, ly = 20 + (4.85 + 180) / 360 * 1400, 76 + (84 - 45.75) / 142 * map_height()
    r, g, b = image.convert("RGB").getpixel((round(lx), round(ly)))
    assert b > r
    moved = draw_map(kit, stats_map_data(LibraryMap(points[:1], (), 4)))
    assert moved.png != world.png


def test_mou_timeline() -> None:
    kit = Kit()
    today = date(2026, 1, 5)
    rows = (TimelineRow(7, "Lyon–Séville", today + timedelta(days=40), today + timedelta(days=10),
                        (today + timedelta(days=20),)),
            TimelineRow(9, "Kyoto friendship", today + timedelta(days=80), None, ()))
    tl = Timeline(today, today + timedelta(days=90), rows, 5)
    pic = draw_timeline(kit, timeline_data(tl))
    open_png(pic)
    assert pic.width == 1400 and pic.height == 116 + 2 * 26 + 26 + 56  # two rows and "+ 3 more"
    assert "#7 Lyon–Séville: notice deadline 15 Jan 2026, expires 14 Feb 2026, 1 milestone" in pic.alt
    later = Timeline(today + timedelta(days=1), today + timedelta(days=91), rows, 5)
    assert draw_timeline(kit, timeline_data(later)).png != pic.png  # today moves: a new picture


# -- weekends and working hours ---------------------------------------------------------------------
def test_weekends_from_cldr() -> None:
    assert weekend_days("SA") == {4, 5} and weekend_days("IR") == {4} and weekend_days("FR") == {5, 6}
    assert weekend_days("IN") == {6} and weekend_days(None) == DEFAULT_WEEKEND
    assert weekend_days("ZZ") == DEFAULT_WEEKEND
    assert zone_country("Asia/Riyadh") == "SA" and zone_country("UTC") is None
    assert place_weekend("UTC", "EG") == {4, 5}  # the directory's country wins over the zone's


def test_findtime_uses_each_places_weekend() -> None:
    zones = ["Asia/Riyadh", "Asia/Dubai"]
    slots = find_slots(zones, duration=timedelta(hours=1), now=MONDAY, within_days=7)
    days = {s.start.astimezone(UTC).weekday() for s in slots}
    # Riyadh works Sunday-Thursday, Dubai Monday-Friday: Monday to Thursday only
    assert days and days <= {0, 1, 2, 3}
    forced = find_slots(zones, duration=timedelta(hours=1), now=MONDAY, within_days=7,
                        weekends=[frozenset(), frozenset()])
    assert {s.start.astimezone(UTC).weekday() for s in forced} > days


def test_findtime_hours_and_early_late() -> None:
    assert parse_hours("09-18") == (time(9), time(18))
    assert parse_hours("8:30–17:00") == (time(8, 30), time(17))
    assert parse_hours("9h-17h30") == (time(9), time(17, 30))
    assert parse_hours("10-24") == (time(10), time(23, 59))
    for bad in ("18-09", "9-9:30", "25-26", "9:15-17", "nine to five", "9"):
        with pytest.raises(InvalidInput):
            parse_hours(bad)
    zones = ["Asia/Seoul", "America/Los_Angeles"]
    assert find_slots(zones, duration=timedelta(hours=3), now=MONDAY) == []
    early = find_slots(zones, duration=timedelta(hours=3), now=MONDAY, allow_early_late=True)
    assert early and all(-120 <= s.margin_min < 0 for s in early)
    narrow = find_slots(["Europe/Paris", "Europe/London"], duration=timedelta(hours=1), now=MONDAY,
                        hours=(time(10), time(12)), within_days=2)
    for s in narrow:
        local = s.start.astimezone(ZoneInfo("Europe/Paris"))
        assert time(10) <= local.time() and (local + timedelta(hours=1)).time() <= time(12)
