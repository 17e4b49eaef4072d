"""The directory's value objects, limits and pure helpers (normalising names, zones, CSV text and
rows). No I/O, no discord import."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import DATA_DIR
from bot.errors import InvalidInput
from bot.i18n import ENGLISH, N_, Msg, format_compact, t
from bot.text import md_line
from bot.timeparse import TimeParseError, get_zone

log = logging.getLogger(__name__)


SEED_DIR = DATA_DIR / "seed"
ADMIN1_NAMES = DATA_DIR / "admin1" / "admin1.csv"  # GeoNames first-level division names (see its README)
CUSTOM_CITY_BASE = 1_000_000_000
TITLE_MAX = 100
OFFICE_MAX = 100
LIST_MAX = 200  # languages / expertise text
FOCUS_TOPICS = (
    "climate", "sustainability", "resilience", "migration", "security", "peace", "human-rights", "inclusion",
    "economy", "trade", "culture", "health", "governance", "technology", "urban-planning", "water", "food",
)
SCOPES = ("global", "regional", "national")
# membership categories: stored as these English ids, each also a catalog id (shown with t(lang, category))
CATEGORIES = (
    N_("member"),
    N_("observer"),
    N_("steering committee"),
    N_("chair"),
    N_("founding"),
    N_("host"),
    N_("lead city"),
    N_("designated"),
    N_("partner"),
)
STATUSES = ("current", "former", "unverified")
NETWORK_COLUMNS = (
    "slug", "name", "acronym", "founded_year", "hq_city", "hq_country_iso2", "focus", "scope", "website",
    "member_count_approx", "member_count_year", "source", "notes",
)
MEMBERSHIP_COLUMNS = (
    "city", "country_iso2", "network_slug", "since_year", "source", "notes",
    "member_kind", "category", "left_year", "status", "as_of",
)
MEMBERSHIP_REQUIRED = ("city", "country_iso2", "network_slug")
NETWORK_REQUIRED = ("slug", "name")
IMPORT_MAX_ROWS = 5000

_PUNCT = re.compile(r"[\s\-‐‑–—_.,'’`\"()/]+")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ISO2_RE = re.compile(r"^[A-Z]{2}$")
_UNSET: Any = object()


def _combining_class() -> re.Pattern[str]:
    cps = [cp for cp in range(0x300, 0x20000) if unicodedata.combining(chr(cp))]
    ranges: list[tuple[int, int]] = []
    for cp in cps:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]+")


_COMBINING = _combining_class()
_FOLD = str.maketrans({"ß": "ss", "ø": "o", "ł": "l", "đ": "d", "æ": "ae", "ı": "i", "œ": "oe"})


def normalise(text: str) -> str:
    """Search key: NFKD, accents stripped, casefolded, punctuation to single spaces."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded)).translate(_FOLD)
    return _PUNCT.sub(" ", folded).strip()


def _prefix_bounds(prefix: str) -> tuple[str, str]:
    return prefix, prefix + "\U0010ffff"


def _fmt_pop(n: int, lang: str = ENGLISH) -> str:
    """A population, short: "2.1M" / "2,1 M" (CLDR's compact form), "?" when unknown."""
    return format_compact(lang, n) if n else "?"


# -- value objects ----------------------------------------------------------------------------
@dataclass(frozen=True)
class City:
    id: int
    name: str
    country: str  # ISO 3166-1 alpha-2
    admin1: str | None
    timezone: str  # IANA
    population: int
    guild_id: int | None  # None = gazetteer (global), else added by that guild
    admin1_code: str | None = None
    homonyms: int = 1
    homonyms_cc: int = 1

    @property
    def ambiguous(self) -> bool:
        return self.homonyms > 1

    @property
    def region(self) -> str | None:
        """The first-level division's name ('Baja California'), or None when only its code is known:
        a bare GeoNames code ('02') means nothing to a reader (rows seeded before names were known
        keep the code in `admin1` until the gazetteer refresh on start replaces it)."""
        if not self.admin1 or (self.admin1_code and self.admin1 == self.admin1_code):
            return None
        return self.admin1

    @property
    def label(self) -> str:
        """'Paris, FR', or 'Portland, Oregon, US' when the name needs disambiguation (without a known
        region name it stays 'Name, CC')."""
        if self.region and (self.homonyms_cc > 1 or (self.ambiguous and self.country == "US")):
            return f"{self.name}, {self.region}, {self.country}"
        return f"{self.name}, {self.country}"

    def choice_label(self, lang: str = ENGLISH) -> str:
        """An autocomplete entry in `lang`: "Paris, FR · pop 2.1M", "Springfield, US · added here"."""
        if self.guild_id is not None:
            return t(lang, "{city} · added here", city=self.label)
        return t(lang, "{city} · pop {population}", city=self.label,
                 population=_fmt_pop(self.population, lang))


@dataclass(frozen=True)
class Profile:
    guild_id: int
    user_id: int
    city: City | None
    timezone: str | None  # explicit zone, else the city's
    explicit_timezone: str | None
    title: str | None
    office: str | None
    languages: str | None
    expertise: str | None
    dm_ok: bool
    verified: bool
    verified_by: int | None
    updated_ms: int


@dataclass(frozen=True)
class Network:
    id: int
    slug: str
    name: str
    acronym: str | None
    guild_id: int | None = None
    founded_year: int | None = None
    hq_city: str | None = None
    hq_country: str | None = None
    focus: tuple[str, ...] = ()
    scope: str | None = None
    website: str | None = None
    member_count: int | None = None
    member_count_year: int | None = None
    source: str | None = None
    notes: str | None = None
    origin: str = "seed"

    @property
    def display(self) -> str:
        if self.acronym and self.acronym.casefold() not in self.name.casefold():
            return f"{self.name} ({self.acronym})"
        return self.name


@dataclass(frozen=True)
class Membership:
    id: int
    network: Network
    city: City | None
    member_name: str
    country: str
    member_kind: str
    category: str
    joined_year: int | None
    left_year: int | None
    status: str
    source: str | None
    as_of: str | None
    notes: str | None
    origin: str
    guild_id: int | None

    def place(self, lang: str = ENGLISH) -> str:
        """Where the member is, in `lang`: the city's label, else the name and country as recorded."""
        if self.city is not None:
            return self.city.label
        if self.member_kind == "state":
            return t(lang, "{name}, {country} (state/region)", name=self.member_name, country=self.country)
        return f"{self.member_name}, {self.country}"

    @property
    def caveat(self) -> str | None:
        """A warning to show with the membership: a catalog id (shown with t(lang, caveat))."""
        if self.status == "unverified":
            return N_("UNVERIFIED: no source confirmed this membership")
        return None


@dataclass(frozen=True)
class SeedAgreement:
    city_a: str
    country_a: str
    city_b: str
    country_b: str
    kind: str
    signed_year: int | None
    topic: str | None
    source: str | None
    notes: str | None
    city_a_id: int | None = None
    city_b_id: int | None = None


@dataclass(frozen=True)
class SeedReport:
    cities: int
    names: int
    networks: int
    memberships: int
    agreements: int
    sdgs: int
    unresolved: tuple[str, ...] = ()


class RowProblem(ValueError):
    """What is wrong with one CSV row: a message (bot.i18n.Msg) shown in the reader's language; `str()` is
    its English text (logs, the command line, the seed loader)."""

    def __init__(self, msg: Msg) -> None:
        self.msg = msg
        super().__init__(str(msg))


@dataclass(frozen=True)
class RowError:
    line: int
    message: str | Msg

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(InvalidInput):
    """A CSV import with bad rows: nothing was written. `errors` lists every bad row."""

    def __init__(self, errors: Sequence[RowError], total: int) -> None:
        self.errors = list(errors)
        self.total = total
        # the English text (logs, the command line); the cog shows embeds.import_rejected in the reader's
        head = Msg(N_("Nothing was imported: {bad} of {total} rows have problems. Fix them and try again."),
                   bad=len(self.errors), total=total)
        shown = "\n".join(f"• {e}" for e in self.errors[:30])
        more = f"\n… and {len(self.errors) - 30} more." if len(self.errors) > 30 else ""
        super().__init__(f"{head}\n{shown}{more}")


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int


@dataclass(frozen=True)
class Gaps:
    missing_place: list[int] = field(default_factory=list)  # user ids with neither city nor zone
    missing_city: list[int] = field(default_factory=list)  # zone but no city
    unverified_cities: list[tuple[City, int]] = field(default_factory=list)  # city, member count


# -- helpers ----------------------------------------------------------------------------------
_CITY_COLS = (
    "c.id, c.name, c.country, c.admin1, c.admin1_code, c.timezone, c.population, c.guild_id, "
    "c.homonyms, c.homonyms_cc"
)
_NET_COLS = (
    "n.id, n.slug, n.name, n.acronym, n.guild_id, n.founded_year, n.hq_city, n.hq_country, n.focus, n.scope, "
    "n.website, n.member_count, n.member_count_year, n.source, n.notes, n.origin"
)


def _city(r: Any, prefix: str = "") -> City:
    return City(
        id=r[prefix + "id"],
        name=r[prefix + "name"],
        country=r[prefix + "country"],
        admin1=r[prefix + "admin1"],
        timezone=r[prefix + "timezone"],
        population=r[prefix + "population"],
        guild_id=r[prefix + "guild_id"],
        admin1_code=r[prefix + "admin1_code"],
        homonyms=r[prefix + "homonyms"],
        homonyms_cc=r[prefix + "homonyms_cc"],
    )


def _network(r: Any) -> Network:
    return Network(
        id=r["id"], slug=r["slug"], name=r["name"], acronym=r["acronym"], guild_id=r["guild_id"],
        founded_year=r["founded_year"], hq_city=r["hq_city"], hq_country=r["hq_country"],
        focus=tuple(t for t in (r["focus"] or "").split(";") if t), scope=r["scope"], website=r["website"],
        member_count=r["member_count"], member_count_year=r["member_count_year"], source=r["source"],
        notes=r["notes"], origin=r["origin"],
    )


def check_zone(text: str) -> str:
    """An IANA zone name, matched case-insensitively (bot.timeparse.get_zone); InvalidInput otherwise."""
    try:
        return get_zone(text).key
    except TimeParseError as exc:
        raise InvalidInput(exc.msg) from exc


def _int_or_none(value: str, what: str, lo: int, hi: int) -> int | None:
    value = (value or "").strip().replace(",", "")
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not lo <= int(value) <= hi:
        raise RowProblem(Msg("{column} must be a whole number from {lo} to {hi} (got “{value}”)", column=what,
                             lo=lo, hi=hi, value=md_line(value, 20)))
    return int(value)


def _clean_text(value: str | None, limit: int, what: str) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise InvalidInput(Msg("{what} is too long: {n} characters, at most {limit}.", what=Msg(what),
                               n=len(value), limit=limit))
    return value or None


def _csv_text(data: bytes | str) -> str:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                N_("The file is not UTF-8 text. Save it as CSV (UTF-8) and try again.")) from exc
    if "\x00" in data:  # a binary or UTF-16 file; a NUL would otherwise end up inside a stored name
        line = data.count("\n", 0, data.index("\x00")) + 1
        raise InvalidInput(Msg("The file contains a NUL byte (line {line}), so it is not plain CSV text. "
                               "Save it as CSV (UTF-8) and try again.", line=line))
    return data


def _parse_network_row(row: dict[str, str]) -> dict[str, Any]:
    """Validate one networks.csv row; ValueError with a readable reason."""
    g = {k: (row.get(k) or "").strip() for k in NETWORK_COLUMNS}
    if not g["slug"]:
        raise RowProblem(Msg("slug is empty"))
    if not _SLUG_RE.match(g["slug"]):
        raise RowProblem(Msg("slug “{slug}” must be lowercase letters, digits and hyphens (max 63)",
                             slug=md_line(g["slug"], 40)))
    if not g["name"]:
        raise RowProblem(Msg("name is empty"))
    if len(g["name"]) > 200:
        raise RowProblem(Msg("name is longer than 200 characters"))
    if len(g["acronym"]) > 30:
        raise RowProblem(Msg("acronym is longer than 30 characters"))
    topics = [t.strip().casefold() for t in g["focus"].split(";") if t.strip()]
    bad = [t for t in topics if t not in FOCUS_TOPICS]
    if bad:
        raise RowProblem(Msg("unknown focus topic(s) {topics}; allowed: {allowed}",
                             topics=md_line(", ".join(bad[:3]), 100), allowed=", ".join(FOCUS_TOPICS)))
    scope = g["scope"].casefold() or None
    if scope and scope not in SCOPES:
        raise RowProblem(Msg("scope must be global, regional or national (got “{scope}”)",
                             scope=md_line(scope, 20)))
    cc = g["hq_country_iso2"].upper() or None
    if cc and not _ISO2_RE.match(cc):
        raise RowProblem(Msg("hq_country_iso2 must be a two-letter code (got “{code}”)",
                             code=md_line(cc, 10)))
    if g["hq_city"] and not cc:
        # An HQ city without a country cannot be placed: keep it unknown rather than guess.
        g["hq_city"] = ""
    website = g["website"] or None
    if website and not re.match(r"^https?://\S+$", website):
        raise RowProblem(Msg("website must start with http:// or https://"))
    return {
        "slug": g["slug"], "name": g["name"], "acronym": g["acronym"] or None,
        "founded_year": _int_or_none(g["founded_year"], "founded_year", 1800, 2100),
        "hq_city": g["hq_city"] or None, "hq_country": cc if g["hq_city"] else None,
        "focus": f";{';'.join(topics)};" if topics else "", "scope": scope, "website": website,
        "member_count": _int_or_none(g["member_count_approx"], "member_count_approx", 0, 10_000_000),
        "member_count_year": _int_or_none(g["member_count_year"], "member_count_year", 1800, 2100),
        "source": g["source"] or None, "notes": g["notes"] or None,
    }


def _parse_membership_row(row: dict[str, str]) -> dict[str, Any]:
    g = {k: (row.get(k) or "").strip() for k in MEMBERSHIP_COLUMNS}
    if not g["city"]:
        raise RowProblem(Msg("city is empty"))
    if len(g["city"]) > 100:
        raise RowProblem(Msg("city is longer than 100 characters"))
    cc = g["country_iso2"].upper()
    if not _ISO2_RE.match(cc):
        raise RowProblem(Msg("country_iso2 must be a two-letter code such as FR (got “{code}”)",
                             code=md_line(cc, 10)))
    if not g["network_slug"]:
        raise RowProblem(Msg("network_slug is empty"))
    kind = g["member_kind"].casefold() or ("state" if g["notes"].startswith("STATE") else "city")
    if kind not in ("city", "state"):
        raise RowProblem(Msg("member_kind must be city or state"))
    cat = g["category"].casefold() or "member"
    if cat not in CATEGORIES:
        raise RowProblem(Msg("category must be one of: {categories}", categories=", ".join(CATEGORIES)))
    joined = _int_or_none(g["since_year"], "since_year", 1800, 2100)
    left = _int_or_none(g["left_year"], "left_year", 1800, 2100)
    if joined and left and left < joined:
        raise RowProblem(Msg("left_year is before since_year"))
    status = g["status"].casefold() or ("unverified" if "UNVERIFIED" in g["notes"] else
                                        "former" if left else "current")
    if status not in STATUSES:
        raise RowProblem(Msg("status must be current, former or unverified"))
    if g["as_of"] and not re.match(r"^\d{4}(-\d{2}(-\d{2})?)?$", g["as_of"]):
        raise RowProblem(Msg("as_of must be a date like 2019, 2019-03 or 2019-03-28"))
    return {"city": g["city"], "country": cc, "network_slug": g["network_slug"], "member_kind": kind,
            "category": cat, "joined_year": joined, "left_year": left, "status": status,
            "source": g["source"] or None, "as_of": g["as_of"] or None, "notes": g["notes"] or None}

