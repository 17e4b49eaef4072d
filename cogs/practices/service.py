"""The best-practice library: records, curation state machine, search, stats. No discord import.

States: pending → approved | changes_requested | rejected; changes_requested → (edit) → pending
(a moderator may also decide it directly); approved → archived; any open or approved
practice can be closed as a duplicate of another (rejected, with `duplicate_of`).
Every write is one transaction with an audit row and a revision row. Decisions are
conditional updates on the version the moderator saw, so a decision taken on a
practice that someone else has just decided reports that decision (`Conflict`).

This module is the facade: `PracticeService` joins the sub-domains, each in its own module —
  records.py  the dataclasses, limits, parsing and validation (pure);
  library.py  the state machine, endorsements, adoptions, stats, export (LibraryMixin);
  ranking.py  the search engine and its vocabulary (SearchMixin), on the database's reader pool;
  search.py   member text → safe FTS5 queries, corrections.
Every name those modules define for callers is importable from here as before.
"""

from __future__ import annotations

from bot.clock import Clock, system_clock
from bot.db import Database
from bot.scheduler import Scheduler
from cogs.practices.glossary import Glossary
from cogs.practices.library import LibraryMixin
from cogs.practices.ranking import (
    CANDIDATE_BUDGET,
    FTS_COLUMNS,
    HEAD_COLUMNS,
    RANK_ID,
    RANK_ID_MASK,
    SEARCH_TIERS,
    SQL_BROWSE,
    SQL_EXISTS,
    SQL_OTHER_GUILDS,
    SQL_SNIPPET_TEXT,
    SQL_TITLE,
    SQL_TITLE_JOINED,
    SQL_VOCAB_BUCKET,
    SQL_VOCAB_GUILD,
    TIER_MIN_CANDIDATES,
    SearchMixin,
    Steps,
    Tier,
    guild_match,
    rank_id,
)
from cogs.practices.records import (
    ANNOUNCE_KIND,
    APPROACH_MAX,
    BM25_WEIGHTS,
    CITY_MAX,
    CONTACT_MAX,
    DECISIONS,
    DUPLICATE_REASON,
    FIRST_RESULTS,
    LESSONS_MAX,
    LINKS_MAX,
    NOTICE_GRACE,
    NOTICE_KIND,
    OPEN_STATUSES,
    PAGE_SIZE,
    REASON_MAX,
    RESULTS_MAX,
    SEARCH_LIMIT,
    STATUS_LABELS,
    STATUSES,
    SUMMARY_MAX,
    TITLE_MAX,
    TOPICS,
    URL_MAX,
    VISIBLE_TO,
    VOCAB_RELOAD_DELAY,
    Counts,
    Draft,
    LibraryMap,
    MapPoint,
    Meta,
    Practice,
    Revision,
    SearchFilters,
    SearchHit,
    SearchResult,
    Stats,
    TopicNames,
    announce_key,
    clean_text,
    decision_phrase,
    mask_sdgs,
    mask_topics,
    notice_key,
    parse_links,
    parse_sdgs,
    parse_topics,
    region_of,
    sdgs_mask,
    split_city_text,
    title_similarity,
    topic_id,
    topic_key,
    topics_mask,
    validate_draft,
    validate_meta,
)

__all__ = [  # what callers import from here
    "ANNOUNCE_KIND",
    "APPROACH_MAX",
    "BM25_WEIGHTS",
    "CANDIDATE_BUDGET",
    "CITY_MAX",
    "CONTACT_MAX",
    "Counts",
    "DECISIONS",
    "DUPLICATE_REASON",
    "Draft",
    "FIRST_RESULTS",
    "FTS_COLUMNS",
    "HEAD_COLUMNS",
    "LESSONS_MAX",
    "LINKS_MAX",
    "LibraryMap",
    "MapPoint",
    "Meta",
    "NOTICE_GRACE",
    "NOTICE_KIND",
    "OPEN_STATUSES",
    "PAGE_SIZE",
    "Practice",
    "RANK_ID",
    "RANK_ID_MASK",
    "REASON_MAX",
    "RESULTS_MAX",
    "Revision",
    "SEARCH_LIMIT",
    "SEARCH_TIERS",
    "SQL_BROWSE",
    "SQL_EXISTS",
    "SQL_OTHER_GUILDS",
    "SQL_SNIPPET_TEXT",
    "SQL_TITLE",
    "SQL_TITLE_JOINED",
    "SQL_VOCAB_GUILD",
    "SQL_VOCAB_BUCKET",
    "STATUSES",
    "STATUS_LABELS",
    "SUMMARY_MAX",
    "SearchFilters",
    "SearchHit",
    "SearchResult",
    "Stats",
    "Steps",
    "TIER_MIN_CANDIDATES",
    "TITLE_MAX",
    "TOPICS",
    "Tier",
    "URL_MAX",
    "VISIBLE_TO",
    "VOCAB_RELOAD_DELAY",
    "announce_key",
    "clean_text",
    "decision_phrase",
    "guild_match",
    "mask_sdgs",
    "mask_topics",
    "notice_key",
    "parse_links",
    "parse_sdgs",
    "TopicNames",
    "parse_topics",
    "topic_id",
    "topic_key",
    "rank_id",
    "region_of",
    "sdgs_mask",
    "split_city_text",
    "title_similarity",
    "topics_mask",
    "validate_draft",
    "validate_meta",
]


class PracticeService(SearchMixin, LibraryMixin):
    """The library of one installation; every method is scoped to one guild. (SearchMixin first: its
    `_vocab_changed` makes the vocabulary stale on every change LibraryMixin writes.)"""

    def __init__(
        self, db: Database, *, clock: Clock = system_clock, scheduler: Scheduler | None = None,
        glossary: Glossary | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.scheduler = scheduler  # None: no notices are enqueued (tools and tests of the rules alone)
        self._library_memo = {}  # stats and map of each server, while its library version holds
        self._init_search(glossary)
