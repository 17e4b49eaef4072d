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

from bot.clock import Clock
from bot.db import Database
from bot.scheduler import Scheduler, system_clock
from cogs.practices.library import LibraryMixin
from cogs.practices.ranking import (
    CANDIDATE_BUDGET as CANDIDATE_BUDGET,
)
from cogs.practices.ranking import (
    FTS_COLUMNS as FTS_COLUMNS,
)
from cogs.practices.ranking import (
    HEAD_COLUMNS as HEAD_COLUMNS,
)
from cogs.practices.ranking import (
    RANK_ID as RANK_ID,
)
from cogs.practices.ranking import (
    RANK_ID_MASK as RANK_ID_MASK,
)
from cogs.practices.ranking import (
    SEARCH_TIERS as SEARCH_TIERS,
)
from cogs.practices.ranking import (
    SQL_BROWSE as SQL_BROWSE,
)
from cogs.practices.ranking import (
    SQL_EXISTS as SQL_EXISTS,
)
from cogs.practices.ranking import (
    SQL_OTHER_GUILDS as SQL_OTHER_GUILDS,
)
from cogs.practices.ranking import (
    SQL_SNIPPETS_HEAD as SQL_SNIPPETS_HEAD,
)
from cogs.practices.ranking import (
    SQL_TITLE as SQL_TITLE,
)
from cogs.practices.ranking import (
    SQL_TITLE_JOINED as SQL_TITLE_JOINED,
)
from cogs.practices.ranking import (
    SQL_VOCAB_ALL as SQL_VOCAB_ALL,
)
from cogs.practices.ranking import (
    SQL_VOCAB_BUCKET as SQL_VOCAB_BUCKET,
)
from cogs.practices.ranking import (
    TIER_MIN_CANDIDATES as TIER_MIN_CANDIDATES,
)
from cogs.practices.ranking import SearchMixin
from cogs.practices.ranking import (
    Steps as Steps,
)
from cogs.practices.ranking import (
    Tier as Tier,
)
from cogs.practices.ranking import (
    guild_match as guild_match,
)
from cogs.practices.ranking import (
    rank_id as rank_id,
)
from cogs.practices.records import (
    ANNOUNCE_KIND as ANNOUNCE_KIND,
)
from cogs.practices.records import (
    APPROACH_MAX as APPROACH_MAX,
)
from cogs.practices.records import (
    BM25_WEIGHTS as BM25_WEIGHTS,
)
from cogs.practices.records import (
    CITY_MAX as CITY_MAX,
)
from cogs.practices.records import (
    CONTACT_MAX as CONTACT_MAX,
)
from cogs.practices.records import (
    DECISIONS as DECISIONS,
)
from cogs.practices.records import (
    FIRST_RESULTS as FIRST_RESULTS,
)
from cogs.practices.records import (
    LESSONS_MAX as LESSONS_MAX,
)
from cogs.practices.records import (
    LINKS_MAX as LINKS_MAX,
)
from cogs.practices.records import (
    NOTICE_GRACE as NOTICE_GRACE,
)
from cogs.practices.records import (
    NOTICE_KIND as NOTICE_KIND,
)
from cogs.practices.records import (
    OPEN_STATUSES as OPEN_STATUSES,
)
from cogs.practices.records import (
    PAGE_SIZE as PAGE_SIZE,
)
from cogs.practices.records import (
    REASON_MAX as REASON_MAX,
)
from cogs.practices.records import (
    RESULTS_MAX as RESULTS_MAX,
)
from cogs.practices.records import (
    SEARCH_LIMIT as SEARCH_LIMIT,
)
from cogs.practices.records import (
    STATUS_LABELS as STATUS_LABELS,
)
from cogs.practices.records import (
    STATUSES as STATUSES,
)
from cogs.practices.records import (
    SUMMARY_MAX as SUMMARY_MAX,
)
from cogs.practices.records import (
    TITLE_MAX as TITLE_MAX,
)
from cogs.practices.records import (
    TOPICS as TOPICS,
)
from cogs.practices.records import (
    URL_MAX as URL_MAX,
)
from cogs.practices.records import (
    VISIBLE_TO as VISIBLE_TO,
)
from cogs.practices.records import (
    VOCAB_RELOAD_DELAY as VOCAB_RELOAD_DELAY,
)
from cogs.practices.records import (
    Counts as Counts,
)
from cogs.practices.records import (
    Draft as Draft,
)
from cogs.practices.records import (
    Meta as Meta,
)
from cogs.practices.records import (
    Practice as Practice,
)
from cogs.practices.records import (
    Revision as Revision,
)
from cogs.practices.records import (
    SearchFilters as SearchFilters,
)
from cogs.practices.records import (
    SearchHit as SearchHit,
)
from cogs.practices.records import (
    SearchResult as SearchResult,
)
from cogs.practices.records import (
    Stats as Stats,
)
from cogs.practices.records import (
    announce_key as announce_key,
)
from cogs.practices.records import (
    clean_text as clean_text,
)
from cogs.practices.records import (
    decision_phrase as decision_phrase,
)
from cogs.practices.records import (
    mask_sdgs as mask_sdgs,
)
from cogs.practices.records import (
    mask_topics as mask_topics,
)
from cogs.practices.records import (
    notice_key as notice_key,
)
from cogs.practices.records import (
    parse_links as parse_links,
)
from cogs.practices.records import (
    parse_sdgs as parse_sdgs,
)
from cogs.practices.records import (
    parse_topics as parse_topics,
)
from cogs.practices.records import (
    region_of as region_of,
)
from cogs.practices.records import (
    sdgs_mask as sdgs_mask,
)
from cogs.practices.records import (
    split_city_text as split_city_text,
)
from cogs.practices.records import (
    title_similarity as title_similarity,
)
from cogs.practices.records import (
    topics_mask as topics_mask,
)
from cogs.practices.records import (
    validate_draft as validate_draft,
)
from cogs.practices.records import (
    validate_meta as validate_meta,
)


class PracticeService(SearchMixin, LibraryMixin):
    """The library of one installation; every method is scoped to one guild. (SearchMixin first: its
    `_vocab_changed` makes the vocabulary stale on every change LibraryMixin writes.)"""

    def __init__(self, db: Database, *, clock: Clock = system_clock, scheduler: Scheduler | None = None) -> None:
        self.db = db
        self.clock = clock
        self.scheduler = scheduler  # None: no notices are enqueued (tools and tests of the rules alone)
        self._init_search()
