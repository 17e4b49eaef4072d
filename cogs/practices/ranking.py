"""The practice search engine: tiered FTS5 ranking (title walk, then bm25 over capped candidate sets),
snippets, "did you mean" corrections from a per-guild vocabulary kept in memory. No discord import.

A search is written once, as a generator of statements (`bot.db.ReadSteps`): it yields (sql, params)
and is sent the rows back. `Database.read` runs the whole generator inside one worker thread on the
reader pool — one thread hop per search instead of one per statement, so a search never waits for a
busy event loop between its statements (with 20 searches at once, those waits cost more than the SQL
itself); without a pool (an in-memory database) the same generator runs through the bot's connection.

`SearchMixin` is one half of `PracticeService` (cogs/practices/service.py); the library is the other.
Query-text handling (words, FTS5 quoting, corrections) is in cogs/practices/search.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.db import Database, ReadPool, ReadSteps, placeholders
from bot.errors import InvalidInput, Value
from bot.i18n import N_, Msg
from bot.text import md_line
from cogs.practices import search as fts
from cogs.practices import stemming
from cogs.practices.glossary import Glossary, load_default
from cogs.practices.records import (
    FIRST_RESULTS,
    PAGE_SIZE,
    SEARCH_LIMIT,
    TOPICS,
    VOCAB_MAX_TERMS,
    VOCAB_RELOAD_DELAY,
    SearchFilters,
    SearchResult,
    TopicNames,
    _hit,
)

log = logging.getLogger(__name__)

Steps = ReadSteps[Any]


class SearchMixin:
    """Search over the approved library. Needs `db` (set by PracticeService)."""

    db: Database

    def _init_search(self, glossary: Glossary | None = None) -> None:
        self._glossary = glossary
        self._vocab_generation = 0
        # suggestion vocabularies are per guild: (guild id, bucket) -> terms of that guild's library
        self._vocab_cache: dict[tuple[int, str], tuple[int, list[tuple[str, int]]]] = {}
        # whole vocabularies of the guilds that searched with a misspelling lately, by bucket, as of a
        # generation (keep_vocabulary_loaded); oldest first, at most VOCAB_MAX_TERMS terms in all
        # (guild id -> (generation, bucket -> terms, number of terms))
        self._vocab_guilds: OrderedDict[int, tuple[int, dict[str, list[tuple[str, int]]], int]]
        self._vocab_guilds = OrderedDict()
        self._vocab_terms = 0
        self.vocab_max_terms = VOCAB_MAX_TERMS
        # guilds whose lookups went to the index (noted by the search thread, loaded by the event loop)
        self._vocab_wanted: set[int] = set()
        self._vocab_keep_loaded = False
        self._vocab_task: asyncio.Task[None] | None = None
        # (guild id, tags expression) -> (generation, fewer practices than a tier's cap?): see _small
        self._small_cache: dict[tuple[int, str], tuple[int, bool]] = {}

    async def open_readers(self, count: int) -> None:
        """Serve searches from `count` read-only connections (the database's reader pool, see
        bot.db.Database.open_readers). No-op for an in-memory database."""
        await self.db.open_readers(count)

    async def close_readers(self) -> None:
        await self.db.close_readers()

    @property
    def glossary(self) -> Glossary:
        """The cross-language glossary (the bundled one unless given; the cog reads it off the
        event loop at load, so here it is already in memory)."""
        if self._glossary is None:
            self._glossary = load_default()
        return self._glossary

    @property
    def read_pool(self) -> ReadPool | None:
        return self.db.readers

    async def _run(self, steps: Steps) -> Any:
        """A search generator, in one worker-thread call on the reader pool (or through the bot's
        connection when there is none): bot.db.Database.read."""
        return await self.db.read(steps)

    def _vocab_changed(self) -> None:
        """The library changed: every loaded vocabulary is stale; each is reloaded when its guild next
        looks a word up (which goes to the index meanwhile)."""
        self._vocab_generation += 1

    async def keep_vocabulary_loaded(self) -> None:
        """Keep in memory the whole vocabulary of each guild that searches with a misspelling: its
        first misspelt search looks its words up in the index (one indexed range per word), and loads
        that guild's vocabulary in the background for the next ones; after a change to the library, a
        guild's next misspelt search reloads it the same way. Nothing is loaded at start-up (a hosted
        bot's vocabularies, every guild's, would grow with the data), and at most VOCAB_MAX_TERMS terms
        stay loaded (the guilds that misspelt least recently are dropped first)."""
        self._vocab_keep_loaded = True

    def _want_vocabularies(self) -> None:
        """After a search: load the vocabularies its lookups missed (noted by the search thread)."""
        if self._vocab_keep_loaded and self._vocab_wanted:
            self._schedule_vocabulary(0.0)

    def _schedule_vocabulary(self, delay: float) -> None:
        if self._vocab_task is not None and not self._vocab_task.done():
            return  # one load at a time; it takes every guild wanted by then, and re-checks at its end
        try:
            self._vocab_task = asyncio.get_running_loop().create_task(
                self._load_vocabulary_after(delay), name="practices-vocabulary")
        except RuntimeError:  # no running loop (a synchronous caller): lookups stay direct
            self._vocab_task = None

    async def _load_vocabulary_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        while self._vocab_keep_loaded and self._vocab_wanted:
            guild_id = self._vocab_wanted.pop()
            try:
                n = await self.load_vocabulary(guild_id)
            except Exception:
                log.warning("could not load the search vocabulary of guild %s", guild_id, exc_info=True)
                return
            log.debug("search vocabulary of guild %s loaded: %d terms", guild_id, n)
            loaded = self._vocab_guilds.get(guild_id)
            if loaded is not None and loaded[0] != self._vocab_generation:
                self._vocab_wanted.add(guild_id)  # changed while loading
                self._vocab_task = None
                self._schedule_vocabulary(VOCAB_RELOAD_DELAY)
                return

    async def load_vocabulary(self, guild_id: int) -> int:
        """One guild's title and summary terms with their document counts in that guild (practice_terms,
        migration 007), grouped as the suggestion lookup wants them (one indexed read, on the read pool).
        Returns the number of terms."""
        generation = self._vocab_generation

        def scan() -> Steps:
            rows = yield SQL_VOCAB_GUILD, (guild_id,)
            return rows

        rows = await self._run(scan())
        buckets: dict[str, list[tuple[str, int]]] = {}
        for term, docs in rows:
            buckets.setdefault(fts.bucket_key(term), []).append((term, int(docs)))
        old = self._vocab_guilds.pop(guild_id, None)
        if old is not None:
            self._vocab_terms -= old[2]
        # stale at once if the library changed meanwhile (the generation read before the scan)
        self._vocab_guilds[guild_id] = (generation, buckets, len(rows))
        self._vocab_terms += len(rows)
        while self._vocab_terms > self.vocab_max_terms and len(self._vocab_guilds) > 1:
            _, dropped = self._vocab_guilds.popitem(last=False)
            self._vocab_terms -= dropped[2]
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
        loaded = self._vocab_guilds.get(guild_id)  # read-only here: this runs in a search thread
        if loaded is not None and loaded[0] == generation:
            return loaded[1].get(key, [])
        if self._vocab_keep_loaded:
            self._vocab_wanted.add(guild_id)
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
    def _term_exists(guild_id: int, forms: Sequence[str], *, prefix: bool
                     ) -> Generator[tuple[str, tuple[Any, ...]], list[Any], bool]:
        """Does an approved practice of this guild contain the word in one of its forms
        (stemming.query_forms) (or, for the last word, a word starting so)?"""
        match = fts.group_expression(forms, prefix=prefix)
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
                f.network_id, f.network_name, f.network_id, f.network_id, f.network_name,
                f.language, f.language)

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

    @classmethod
    def _tags(cls, guild_id: int, f: SearchFilters) -> str:
        """The FTS5 expression of the practices_rank tags a search's practices carry: the topic/SDG
        tag (`_tag`), and the language's (l<language>g<guild>, migration 009) when filtered by one."""
        tag = f'"{cls._tag(guild_id, f)}"'
        if f.language:
            tag += f' AND "l{f.language}g{int(guild_id)}"'
        return tag

    def _small(self, guild_id: int, tag: str, known: dict[str, bool]
               ) -> Generator[tuple[str, tuple[Any, ...]], list[Any], bool]:
        """Do the practices carrying `tag` (a practices_rank tags expression) number fewer than
        TIER_MIN_CANDIDATES? Counted up to that (one doclist), once per search, and remembered per
        server until the library changes (the generation _vocab_changed raises on every change; a
        stale answer would only choose the slower of two ways to the same ranking)."""
        if tag in known:
            return known[tag]
        generation = self._vocab_generation
        cached = self._small_cache.get((guild_id, tag))
        if cached is not None and cached[0] == generation:
            known[tag] = cached[1]
            return cached[1]
        counted = yield SQL_TAG_COUNT, (f"tags : ({tag})", TIER_MIN_CANDIDATES)
        answer = bool(counted) and int(counted[0][0]) < TIER_MIN_CANDIDATES
        if len(self._small_cache) > 20_000:
            self._small_cache.clear()
        self._small_cache[(guild_id, tag)] = (generation, answer)
        known[tag] = answer
        return answer

    def _ranked_ids(self, guild_id: int, match: str | None, f: SearchFilters, limit: int,
                    stop: int | None = None, expanded: str | None = None) -> Steps:
        """Up to `limit` ids, best first, tier by tier: title matches (shortest title first, newest
        first among equals: read in practices_rank key order, see migration 006), then title+summary,
        then every column, each of those ranked by bm25 over a capped number of its newest matches;
        a tier only runs when the earlier ones found fewer than `limit`. Then, with `expanded` (the
        query with the glossary's alternatives in other languages), the same tiers again for it: a
        practice found only through the glossary ranks below every direct match.

        With `stop`, the tiers end as soon as `stop` ids are known: those are exactly the first
        `stop` of the full ranking (a later tier only adds ids after them). Returns (ids, complete):
        complete is False when it stopped so."""
        fparams = self._filter_params(f)
        if match is None:
            rows = yield SQL_BROWSE, (guild_id, *fparams, limit)
            return [r[0] for r in rows], True
        target = min(stop, limit) if stop is not None else limit
        found: list[int] = []
        seen: set[int] = set()
        shared: list[bool] = []  # does another guild have approved practices? (asked once, if needed)
        small: dict[str, bool] = {}  # tag expression -> does it hold fewer practices than any cap?
        for expr in (match, expanded):
            if expr is None or len(found) >= target:
                continue
            yield from self._tiers(guild_id, expr, f, fparams, target, found, seen, shared, small)
        if stop is not None and stop < limit and len(found) >= stop:
            return found[:stop], False
        return found[:limit], True

    def _tiers(self, guild_id: int, match: str, f: SearchFilters, fparams: tuple[Any, ...], target: int,
               found: list[int], seen: set[int], shared: list[bool], small: dict[str, bool]) -> Steps:
        """One pass of the tiers for one match expression, adding new ids to `found`."""
        tag = self._tags(guild_id, f)
        by_row = (
            f.city_id is not None or bool(f.city_name) or f.network_id is not None or bool(f.network_name)
        )
        tagged = not by_row and bool(f.topic or f.sdg or f.language)

        def add(rows: Sequence[Any]) -> None:
            for r in rows:
                if r[0] not in seen:
                    seen.add(r[0])
                    found.append(r[0])

        title_match = f"title : ({match}) AND tags : ({tag})"
        if by_row:  # a city or network filter is checked on the practice row
            add((yield SQL_TITLE_JOINED, (title_match, guild_id, *fparams, target + len(found))))
        else:
            add((yield SQL_TITLE, (title_match, target + len(found))))
        if not by_row and len(found) < target and (yield from self._small(guild_id, tag, small)):
            # The server (or its topic/SDG/language filter) holds fewer practices than any tier's cap, so
            # every match is ranked, as the capped tiers would rank them had none been cut: no count, no
            # floor, and bm25 scores at most TIER_MIN_CANDIDATES rows per tier. A small server's own
            # words are found through its tag inside the FTS query (a few rowids to seek, not every
            # server's matches to skip over); its tag phrase weighs 0 (the `tags` column), so the scores
            # are the same.
            guild_tag = f'"g{int(guild_id)}"'
            small_guild = tag == guild_tag or (yield from self._small(guild_id, guild_tag, small))
            for tier in SEARCH_TIERS:
                if len(found) >= target:
                    break
                words = (guild_match(tier.columns, match, guild_id) if small_guild
                         else f"{tier.columns} : ({match})")
                if tagged:
                    add((yield tier.tagged_all, (words, f"tags : ({tag})", target + len(found))))
                else:
                    add((yield tier.solo_all, (words, target + len(found))))
            return
        budget = CANDIDATE_BUDGET
        for tier in SEARCH_TIERS:
            if len(found) >= target:
                break
            if not shared:
                other = yield SQL_OTHER_GUILDS, (guild_id, guild_id)
                shared.append(bool(other and other[0][0]))
            words = f"{tier.columns} : ({match})"
            # this guild's matches only (with no other guild in the index, they are all the matches)
            gmatch = guild_match(tier.columns, match, guild_id) if shared[0] else words
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
            elif tagged:  # the tags' doclists (the guild's), no read of the rows
                rows = yield tier.tagged, (words, floor, f"tags : ({tag})", want)
            elif shared[0]:
                rows = yield tier.ranked, (words, floor, gmatch, floor, want)
            else:
                rows = yield tier.solo, (words, floor, want)
            add(rows)

    @staticmethod
    def _hit_rows(guild_id: int, ids: Sequence[int], match: str | None, page: int,
                  expanded: str | None = None) -> Steps:
        """Title, city, topics and language of the ranked ids, and the snippets of the first `page`
        of them (read and highlighted only for the shown hits)."""
        if not ids:
            return [], {}
        if match is None:
            shown_marks = placeholders(min(page, len(ids)))
            snip = f"CASE WHEN p.id IN ({shown_marks}) THEN substr(p.summary, 1, 200) END"
            rows = yield (
                f"SELECT p.id, p.title, p.city_name, p.country, p.topics_mask, p.language, {snip} AS snip "
                f"FROM practices AS p WHERE p.guild_id = ? AND p.id IN ({placeholders(len(ids))})",
                (*ids[:page], guild_id, *ids),
            )
            by_id = {r[0]: r for r in rows}
            return ([by_id[pid] for pid in ids if pid in by_id],
                    {r[0]: r[6] or "" for r in rows if r[6] is not None})
        rows = yield (
            # approved: the hits are, and the partial index practices_search covers the columns
            f"SELECT id, title, city_name, country, topics_mask, language FROM practices "
            f"WHERE guild_id = ? AND status = 'approved' AND id IN ({placeholders(len(ids))})",
            (guild_id, *ids),
        )
        by_id = {r[0]: r for r in rows}
        shown = [pid for pid in ids[:page] if pid in by_id]
        snips: dict[int, str] = {}
        if shown:
            snips = yield from SearchMixin._highlights(guild_id, shown, match, expanded)
        return [by_id[pid] for pid in ids if pid in by_id], snips

    @staticmethod
    def _highlights(guild_id: int, ids: Sequence[int], match: str | None, expanded: str | None
                    ) -> Generator[tuple[str, tuple[Any, ...]], list[Any], dict[int, str]]:
        """Snippets of these practices: their text, highlighted where a word's index form is one the
        search matched (stemming.highlight_snippet; the index holds stems, so FTS5's snippet()
        would show those)."""
        rows = yield SQL_SNIPPET_TEXT + f"({placeholders(len(ids))})", (guild_id, *ids)
        forms = stemming.match_forms(match, expanded)
        return {r[0]: stemming.highlight_snippet(r[2:7], r[1], forms, indexed=r[7:12]) for r in rows}

    @staticmethod
    def _snippet_steps(guild_id: int, match: str | None, ids: Sequence[int],
                       expanded: str | None = None) -> Steps:
        if not ids:
            return {}
        if match is None:
            rows = yield (
                f"SELECT id, substr(summary, 1, 200) AS snip FROM practices "
                f"WHERE guild_id = ? AND id IN ({placeholders(len(ids))})",
                (guild_id, *ids),
            )
            return {r[0]: r[1] or "" for r in rows}
        return (yield from SearchMixin._highlights(guild_id, ids, match, expanded))

    async def snippets(self, guild_id: int, match: str | None, ids: Sequence[int],
                       expanded: str | None = None) -> dict[int, str]:
        """Highlighted snippets (\x02…\x03 around matches) for a page of hits; the start of the
        summary when browsing without words. Reads the text, so only for shown hits."""
        if not ids:
            return {}
        return await self._run(self._snippet_steps(guild_id, match, ids, expanded))

    async def with_snippets(self, result: SearchResult, start: int, count: int = PAGE_SIZE) -> SearchResult:
        """The result with snippets filled in for hits[start:start+count]."""
        page = [h for h in result.hits[start:start + count] if not h.snippet]
        if not page:
            return result
        snips = await self.snippets(result.guild_id, result.match, [h.id for h in page], result.expanded)
        hits = tuple(
            replace(h, snippet=snips.get(h.id, "")) if start <= i < start + count and not h.snippet else h
            for i, h in enumerate(result.hits)
        )
        return replace(result, hits=hits)

    async def search(
        self,
        guild_id: int,
        query: str | None,
        filters: SearchFilters | None = None,
        *,
        limit: int = SEARCH_LIMIT,
        first: int | None = FIRST_RESULTS,
    ) -> SearchResult:
        """Approved practices of this guild matching every word of `query` (prefix on the last one),
        ranked by bm25 (title > summary > the rest), filtered; corrected from the index's
        vocabulary when a word matches nothing. Snippets are filled for the first page only.

        With `first` (default: the page shown), the ranking stops once `first` hits are sure: if there
        are more, the result says so (`complete` False) and complete() ranks the rest when the
        member pages past them, so the answer does not wait for tiers nobody may look at.
        first=None ranks up to `limit` at once."""
        f = filters or SearchFilters()
        if f.topic and f.topic not in TOPICS:
            raise InvalidInput(Msg(N_("Unknown topic “{topic}”. Choose from: {topics}."),
                                   topic=md_line(f.topic, 40), topics=TopicNames()))
        if f.sdg is not None and not 1 <= f.sdg <= 17:
            raise InvalidInput(N_("SDGs are numbered 1 to 17."))
        if f.language is not None and f.language not in stemming.LANGUAGES:
            raise InvalidInput(N_("Choose a language from: {languages}."),
                               languages=Value(", ".join(stemming.LANGUAGE_NAMES.values())))
        # one worker-thread call and one read snapshot for the whole search
        try:
            return await self._run(self._search(guild_id, query, f, limit, first))
        finally:
            self._want_vocabularies()

    def _search(
        self, guild_id: int, query: str | None, f: SearchFilters, limit: int, first: int | None = None
    ) -> Steps:
        terms = fts.words(query)
        groups = [stemming.query_forms(t) for t in terms]  # each word's stems in every catalog language
        # The last word is a prefix ("resil" → resilience) unless it is already a whole indexed word:
        # expanding a complete word like "app" to app*, approach, approved… costs a lot and is not
        # what the member typed.
        prefix = bool(terms) and len(terms[-1]) >= fts.MIN_PREFIX_LEN and not (
            yield from self._term_exists(guild_id, groups[-1], prefix=False))
        if prefix:  # the word as typed, as a prefix: a stem as a prefix would match far too much
            groups[-1] = (terms[-1],)
        match = fts.match_groups(groups, prefix_last=prefix)
        expanded = self.glossary.expand(terms, prefix_last=prefix) if terms else None
        stop = first + 1 if first is not None and first < limit else None  # one more: is there a next page?
        ids, complete = yield from self._ranked_ids(guild_id, match, f, limit + 1, stop, expanded)
        corrected: tuple[str, ...] | None = None
        if not ids and terms:
            fixed = yield from self._correct(guild_id, terms)
            if fixed is not None and fixed != tuple(terms):
                # corrections are whole words
                match2 = fts.match_groups([stemming.query_forms(t) for t in fixed], prefix_last=False)
                expanded2 = self.glossary.expand(fixed, prefix_last=False)
                ids, complete = yield from self._ranked_ids(guild_id, match2, f, limit + 1, stop, expanded2)
                if ids:
                    corrected, match, expanded = fixed, match2, expanded2
        if complete:
            more, keep = len(ids) > limit, limit
        else:  # `first` hits now; the rest when the member pages past them (see complete())
            more, keep = False, first or limit
        rows, snips = yield from self._hit_rows(guild_id, ids[:keep], match, PAGE_SIZE, expanded)
        hits = tuple(_hit(r, snips.get(r[0], "") if i < PAGE_SIZE else "") for i, r in enumerate(rows))
        return SearchResult(hits, tuple(terms), corrected, more, f.describe(), guild_id=guild_id, match=match,
                            expanded=expanded, complete=complete, spec=f, limit=limit)

    def _complete(self, result: SearchResult) -> Steps:
        spec = result.spec or SearchFilters()
        ids, _ = yield from self._ranked_ids(result.guild_id, result.match, spec, result.limit + 1,
                                             expanded=result.expanded)
        rows, _ = yield from self._hit_rows(
            result.guild_id, ids[: result.limit], result.match, 0
        )  # no snippets
        known = {h.id: h.snippet for h in result.hits}
        hits = tuple(_hit(r, known.get(r[0], "")) for r in rows)
        return replace(result, hits=hits, more=len(ids) > result.limit, complete=True)

    async def complete(self, result: SearchResult) -> SearchResult:
        """All the hits of a search answered with its first page only (`complete` False): the
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
            if (yield from self._term_exists(guild_id, stemming.query_forms(t), prefix=False)) or (
                last and (yield from self._term_exists(guild_id, (t,), prefix=True))
            ):
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


_FILTERS = (
    "AND (? = 0 OR p.topics_mask & ? != 0) AND (? = 0 OR p.sdgs_mask & ? != 0) "
    # a city (network) filter matches its id, or the name of a practice stored as free text
    "AND ((? IS NULL AND ? IS NULL) OR p.city_id = ? "
    "     OR ((? IS NULL OR p.city_id IS NULL) AND p.city_name = ? COLLATE NOCASE)) "
    "AND ((? IS NULL AND ? IS NULL) OR p.network_id = ? "
    "     OR ((? IS NULL OR p.network_id IS NULL) AND p.network_name = ? COLLATE NOCASE)) "
    "AND (? IS NULL OR p.language = ?) "
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
RANK_ID = (
    f"({RANK_ID_MASK} - (rowid & {RANK_ID_MASK}))"  # practices_rank rowid -> practice id (migration 006)
)
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
    tagged_all: str  # the same, every match (no floor: a filter holding fewer practices than a cap)
    solo_all: str  # every match of the MATCH (no floor: a server holding fewer practices than a cap)


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
    # (without `rowid >= ?`: FTS5 reads a rowid range a slower way, 1.3x here, even from 0)
    tagged_all = (
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? "
        f"AND +rowid IN (SELECT {RANK_ID} FROM practices_rank WHERE practices_rank MATCH ?) "
        f"ORDER BY bm25({table}, {weights}), rowid DESC LIMIT ?"
    )
    solo = (
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid >= ? "
        f"ORDER BY bm25({table}, {weights}), rowid DESC LIMIT ?"
    )
    solo_all = (
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? "
        f"ORDER BY bm25({table}, {weights}), rowid DESC LIMIT ?"
    )
    return Tier(columns, count, floor, ranked, solo, joined, tagged, tagged_all, solo_all)


# the `tags` column weighs 0: the guild tag in the query never adds to a score
SEARCH_TIERS: tuple[Tier, ...] = (
    _tier("practices_head", HEAD_COLUMNS, "10.0, 5.0, 0.0"),
    _tier("practices_fts", FTS_COLUMNS, "10.0, 5.0, 1.0, 1.0, 1.0, 0.0"),
)
SQL_EXISTS = "SELECT 1 FROM practices_fts WHERE practices_fts MATCH ? LIMIT 1"
# How many practices a tags expression holds (a server's tag, or a filter's), counted up to a cap (one
# practices_rank doclist; see SearchMixin._small)
SQL_TAG_COUNT = "SELECT count(*) FROM (SELECT 1 FROM practices_rank WHERE practices_rank MATCH ? LIMIT ?)"
# Does another guild have an approved practice? (Two short range scans of practices_guild_status.)
# When none has, every match in the index is this guild's, and the tiers skip the guild tag (an
# intersection with a doclist as long as the library) for the same results.
SQL_OTHER_GUILDS = (
    "SELECT EXISTS (SELECT 1 FROM practices WHERE guild_id < ? AND status = 'approved') "
    "OR EXISTS (SELECT 1 FROM practices WHERE guild_id > ? AND status = 'approved')"
)
SQL_VOCAB_GUILD = "SELECT term, docs FROM practice_terms WHERE guild_id = ?"
SQL_VOCAB_BUCKET = "SELECT term, docs FROM practice_terms WHERE guild_id = ? AND term >= ? AND term < ?"
SQL_BROWSE = (
    "SELECT p.id FROM practices AS p WHERE p.guild_id = ? AND p.status = 'approved' " + _FILTERS
    + "ORDER BY p.approved_ms DESC, p.id DESC LIMIT ?"
)
# Stage 2: the text of the shown hits only, for their highlighted snippets (computed in Python:
# stemming.highlight_snippet).
SQL_SNIPPET_TEXT = (
    "SELECT id, language, title, summary, approach, results, lessons, "
    "ix_title, ix_summary, ix_approach, ix_results, ix_lessons FROM practices "
    "WHERE guild_id = ? AND id IN "
)
