"""Add-to-calendar links: Google Calendar's and Outlook's event-template URLs for one meeting.

Contract: start and end are written in UTC (Google `dates=YYYYMMDDTHHMMSSZ/…`, Outlook ISO 8601 with `Z`);
every URL is at most `MAX_URL` characters (Discord's limit for a link button), cut in this order: the
details first (shortened on a character boundary, with "…"), then the location, then the title; a field
marked whole (a meeting link) is dropped rather than cut, so a link in a URL always works. What goes in is
the caller's choice: a meeting link shown only to those going is passed only for their buttons.
Pure: no I/O, no discord import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import quote

MAX_URL = 512
GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0/action/compose"
_ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    title: str
    start: datetime
    end: datetime
    details: str = ""
    location: str = ""
    location_whole: bool = False  # a URL: drop it rather than cut it


def _q(text: str) -> str:
    return quote(text, safe="")


def _google(ev: CalendarEvent) -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    dates = f"{ev.start.astimezone(UTC).strftime(fmt)}/{ev.end.astimezone(UTC).strftime(fmt)}"
    url = f"{GOOGLE}?action=TEMPLATE&text={_q(ev.title)}&dates={dates}"
    if ev.details:
        url += f"&details={_q(ev.details)}"
    if ev.location:
        url += f"&location={_q(ev.location)}"
    return url


def _outlook(ev: CalendarEvent) -> str:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    url = (f"{OUTLOOK}?subject={_q(ev.title)}&startdt={ev.start.astimezone(UTC).strftime(fmt)}"
           f"&enddt={ev.end.astimezone(UTC).strftime(fmt)}")
    if ev.details:
        url += f"&body={_q(ev.details)}"
    if ev.location:
        url += f"&location={_q(ev.location)}"
    return url


def _with(ev: CalendarEvent, field: str, text: str) -> CalendarEvent:
    if field == "details":
        return replace(ev, details=text)
    if field == "location":
        return replace(ev, location=text)
    return replace(ev, title=text)


def _fit(ev: CalendarEvent, build: Callable[[CalendarEvent], str], limit: int) -> str:
    url = build(ev)
    if len(url) <= limit:
        return url
    for field in ("details", "location", "title"):
        text: str = getattr(ev, field)
        if not text:
            continue
        if field == "location" and ev.location_whole:
            ev = replace(ev, location="")
        else:
            lo, hi = 0, len(text)  # the longest prefix that fits
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if len(build(_with(ev, field, text[:mid].rstrip() + _ELLIPSIS))) <= limit:
                    lo = mid
                else:
                    hi = mid - 1
            ev = _with(ev, field, text[:lo].rstrip() + _ELLIPSIS if lo else "")
        url = build(ev)
        if len(url) <= limit:
            return url
    return url


def google_url(ev: CalendarEvent, *, limit: int = MAX_URL) -> str:
    return _fit(ev, _google, limit)


def outlook_url(ev: CalendarEvent, *, limit: int = MAX_URL) -> str:
    return _fit(ev, _outlook, limit)
