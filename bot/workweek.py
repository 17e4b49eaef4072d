"""Which days are a place's weekend: from its country, by CLDR's week data (through Babel), not a
hard-coded Saturday–Sunday. Friday–Saturday in Saudi Arabia, Egypt or Israel, Friday alone in Iran,
Sunday alone in India, Thursday–Friday in Afghanistan, Saturday–Sunday where nothing else is known.

A place given only as a time zone gets its country from the IANA database's zone.tab (shipped by the
tzdata package, else the system's), e.g. `Asia/Riyadh` → SA. Pure (no discord import); the lookups are
cached (immutable reference data), Babel is imported on first use."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_WEEKEND = frozenset({5, 6})  # Saturday, Sunday (0 = Monday), CLDR's world default


@cache
def _zone_countries() -> dict[str, str]:
    text = ""
    try:
        from importlib.resources import files

        text = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        system = Path("/usr/share/zoneinfo/zone.tab")
        if system.is_file():
            text = system.read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            out[parts[2]] = parts[0]
    return out


def zone_country(zone: str) -> str | None:
    """The ISO 3166 country of an IANA zone (zone.tab), None for UTC and zones of no country."""
    return _zone_countries().get(zone)


@cache
def weekend_days(country: str | None) -> frozenset[int]:
    """The weekend of a country (weekdays, 0 = Monday), from CLDR's week data."""
    if not country:
        return DEFAULT_WEEKEND
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global

    cc = country.upper()
    languages = get_global("territory_languages").get(cc, {})
    ranked = sorted(languages.items(), key=lambda kv: -float(kv[1].get("population_percent") or 0))
    for lang, _info in ranked:
        try:
            loc = Locale(lang, territory=cc)
        except (UnknownLocaleError, ValueError):
            continue
        start, end = int(loc.weekend_start), int(loc.weekend_end)
        days = {start}
        while start != end:
            start = (start + 1) % 7
            days.add(start)
        return frozenset(days)
    return DEFAULT_WEEKEND
