"""The demo server of `attache sandbox`: who and what is in it, as data (no discord import).

Ids are fixed, so a sandbox database stays valid across restarts: the settings, the roundtable's channel and
the members' rows point at the same channels, roles and people every time the emulation is rebuilt."""

from __future__ import annotations

from dataclasses import dataclass

GUILD_NAME = "City Diplomacy Network (sandbox)"
BASE = 900_000_000_000_000_000  # below every time-based snowflake the emulation makes (those start ~2e18)
GUILD_ID = BASE + 1
MOD_ROLE_ID = BASE + 11
MANAGER_ROLE_ID = BASE + 12
SAMPLE_NOTE = "Sample data of the Attaché sandbox."


@dataclass(frozen=True, slots=True)
class DemoChannel:
    key: str
    id: int
    name: str
    topic: str


@dataclass(frozen=True, slots=True)
class DemoMember:
    key: str
    id: int
    name: str
    role: str  # "admin", "moderator", "liaison", "newcomer": what the picker shows
    city: str | None = None
    title: str | None = None
    office: str | None = None
    languages: str | None = None
    expertise: str | None = None
    timezone: str | None = None

    @property
    def label(self) -> str:
        """What the member picker shows: name and what they can do."""
        if self.role == "liaison" and self.city:
            return f"{self.name} (liaison, {self.city})"
        return f"{self.name} ({self.role})"


CHANNELS: tuple[DemoChannel, ...] = (
    DemoChannel("general", BASE + 21, "general", "Talk, and try any command here."),
    DemoChannel("review", BASE + 22, "review", "Submitted practices wait here for a moderator."),
    DemoChannel("announcements", BASE + 23, "announcements", "Approved practices, reminders and digests."),
)

MEMBERS: tuple[DemoMember, ...] = (
    DemoMember("admin", BASE + 101, "Ana Admin", "admin", city="Paris", timezone="Europe/Paris"),
    DemoMember(
        "moderator", BASE + 102, "Mo Moderator", "moderator", city="Nairobi", timezone="Africa/Nairobi"
    ),
    DemoMember(
        "sandiego",
        BASE + 111,
        "Sofia Ramirez",
        "liaison",
        city="San Diego",
        title="International Affairs Officer",
        office="Mayor's Office of International Affairs",
        languages="English, Spanish",
        expertise="cross-border mobility, water",
        timezone="America/Los_Angeles",
    ),
    DemoMember(
        "tijuana",
        BASE + 112,
        "Diego Herrera",
        "liaison",
        city="Tijuana",
        title="Director of International Relations",
        office="Ayuntamiento de Tijuana",
        languages="Spanish, English",
        expertise="migration, trade",
        timezone="America/Tijuana",
    ),
    DemoMember(
        "seoul",
        BASE + 113,
        "Ji-woo Park",
        "liaison",
        city="Seoul",
        title="Global Partnerships Manager",
        office="Seoul Metropolitan Government",
        languages="Korean, English",
        expertise="smart city, climate",
        timezone="Asia/Seoul",
    ),
    DemoMember(
        "paris",
        BASE + 114,
        "Claire Dubois",
        "liaison",
        city="Paris",
        title="Chargée de mission",
        office="Délégation générale aux relations internationales",
        languages="French, English",
        expertise="culture, resilience",
        timezone="Europe/Paris",
    ),
    DemoMember(
        "nairobi",
        BASE + 115,
        "Amani Otieno",
        "liaison",
        city="Nairobi",
        title="Head of External Relations",
        office="Nairobi City County",
        languages="English, Swahili",
        expertise="urban planning, health",
        timezone="Africa/Nairobi",
    ),
    DemoMember("newcomer", BASE + 120, "Nia Newcomer", "newcomer"),
)


def member(key: str) -> DemoMember:
    return next(m for m in MEMBERS if m.key == key)


def channel(key: str) -> DemoChannel:
    return next(c for c in CHANNELS if c.key == key)
