"""bot/calendar_links.py: Google and Outlook event-template URLs, in UTC, never over 512 characters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.calendar_links import MAX_URL, CalendarEvent, google_url, outlook_url

START = datetime(2026, 3, 29, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))  # the day Paris moves to CEST


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_short_event_is_written_whole_in_utc() -> None:
    ev = CalendarEvent("Heat plans", START, START + timedelta(hours=1), "Agenda: shade", "Hôtel de Ville")
    g, o = query(google_url(ev)), query(outlook_url(ev))
    assert google_url(ev).startswith("https://calendar.google.com/calendar/render?action=TEMPLATE&")
    assert outlook_url(ev).startswith("https://outlook.live.com/calendar/0/action/compose?")
    assert g == {"action": "TEMPLATE", "text": "Heat plans", "dates": "20260329T073000Z/20260329T083000Z",
                 "details": "Agenda: shade", "location": "Hôtel de Ville"}
    assert o == {"subject": "Heat plans", "startdt": "2026-03-29T07:30:00Z", "enddt": "2026-03-29T08:30:00Z",
                 "body": "Agenda: shade", "location": "Hôtel de Ville"}


def test_long_agenda_is_cut_and_a_link_is_dropped_not_cut() -> None:
    link = "https://meet.example/" + "x" * 40
    ev = CalendarEvent("Ville durable : élus & société civile", START, START + timedelta(hours=2),
                       "Ordre du jour — " + "é" * 2000, link, location_whole=True)
    for url in (google_url(ev), outlook_url(ev)):
        assert len(url) <= MAX_URL
        q = query(url)
        assert q.get("location", link) == link  # whole or absent, never a broken link
        assert q.get("details", q.get("body", "")).endswith("…")
        assert (q.get("text") or q.get("subject")) == "Ville durable : élus & société civile"


@settings(max_examples=200, deadline=None)
@given(title=st.text(max_size=100), details=st.text(max_size=3000), location=st.text(max_size=600),
       whole=st.booleans(), minutes=st.integers(5, 720))
def test_never_over_the_limit(title: str, details: str, location: str, whole: bool, minutes: int) -> None:
    ev = CalendarEvent(title, START.astimezone(UTC), START + timedelta(minutes=minutes), details, location,
                       location_whole=whole)
    for url in (google_url(ev), outlook_url(ev)):
        assert len(url) <= MAX_URL
        q = query(url)
        assert "dates" in q or "startdt" in q
        if whole and "location" in q:
            assert q["location"] == location.strip() or q["location"] == location


def test_a_link_too_long_for_the_button_is_left_out() -> None:
    link = "https://meet.example/" + "x" * 600
    ev = CalendarEvent("Heat plans", START, START + timedelta(hours=1), "Agenda", link, location_whole=True)
    for url in (google_url(ev), outlook_url(ev)):
        assert len(url) <= MAX_URL and "meet.example" not in url and "Heat" in url
