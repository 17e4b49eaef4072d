"""The cross-language glossary of city-policy terms: a search for `housing` also finds the French and
Spanish practices about *logement* / *vivienda*. Pure once loaded (the file is read once, off the
event loop: `load_default` is called in a worker thread by the cog).

The glossary is data, `data/glossary/city-policy.csv` (one concept a row: English, French and Spanish
terms, synonyms separated by `|`, and the terminology source; see data/glossary/README.md). Each term
is kept as its content words (small function words such as "of", "de", "la" dropped), stemmed in the
term's own language, the form the index holds for a practice of that language.

`Glossary.expand(words)` finds the concepts named in a query: the longest runs of the query's
content words that equal a term's, compared stem by stem in each catalog language (the query's
language is not known). Each found concept gives the query's words there an alternative: any of the
concept's terms, in any language (a multi-word term as all of its words: the ranking index keeps no
positions, so no phrases). The ranking runs those alternatives after the member's own words, so
their matches rank below every direct match (cogs/practices/ranking.py)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot import DATA_DIR
from cogs.practices import search as fts
from cogs.practices.stemming import LANGUAGES, query_forms, stem, tokens

log = logging.getLogger(__name__)

GLOSSARY_PATH = DATA_DIR / "glossary" / "city-policy.csv"
MAX_TERM_WORDS = 5
MAX_ALTERNATIVES = 24  # per concept span, so one query cannot grow without bound

STOP_WORDS = frozenset(
    "a an and at by for in of on or the to with "
    "au aux d de des du en et l la le les par pour sur un une "
    "al con del el las los para por y".split()
)

Term = tuple[str, tuple[str, ...]]  # (language, stemmed content words)


@dataclass(frozen=True, slots=True)
class Concept:
    key: str
    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """Query content words [start, end) name these concepts."""

    start: int
    end: int
    concepts: tuple[Concept, ...]


def content_words(text: str) -> list[str]:
    return [w for w in tokens(text) if w not in STOP_WORDS]


class Glossary:
    def __init__(self, concepts: Sequence[Concept]) -> None:
        self.concepts = tuple(concepts)
        # (language, stemmed content words) -> concepts having that term
        self._index: dict[Term, list[Concept]] = {}
        for c in self.concepts:
            for term in c.terms:
                found = self._index.setdefault(term, [])
                if c not in found:
                    found.append(c)

    def __len__(self) -> int:
        return len(self.concepts)

    @classmethod
    def parse(cls, text: str) -> Glossary:
        """Concepts from the CSV text (header: concept,en,fr,es,source)."""
        concepts: list[Concept] = []
        for row in csv.DictReader(io.StringIO(text)):
            key = (row.get("concept") or "").strip()
            terms: list[Term] = []
            for lang in LANGUAGES:
                for raw in (row.get(lang) or "").split("|"):
                    ws = content_words(raw)
                    if ws and len(ws) <= MAX_TERM_WORDS:
                        term = (lang, tuple(stem(w, lang) for w in ws))
                        if term not in terms:
                            terms.append(term)
            if key and len({lang for lang, _ in terms}) >= 2:
                concepts.append(Concept(key, tuple(terms)))
        return cls(concepts)

    @classmethod
    def load(cls, path: Path = GLOSSARY_PATH) -> Glossary:
        g = cls.parse(path.read_text(encoding="utf-8-sig"))
        log.info("glossary: %d concepts from %s", len(g), path.name)
        return g

    def spans(self, words: Sequence[str]) -> list[Span]:
        """The concepts named in a query's content words, longest first, left to right, not
        overlapping."""
        out: list[Span] = []
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + MAX_TERM_WORDS), i, -1):
                found: list[Concept] = []
                for lang in LANGUAGES:
                    for c in self._index.get((lang, tuple(stem(w, lang) for w in words[i:j])), ()):
                        if c not in found:
                            found.append(c)
                if found:
                    out.append(Span(i, j, tuple(found)))
                    i = j
                    break
            else:
                i += 1
        return out

    def expand(self, words: Sequence[str], *, prefix_last: bool) -> str | None:
        """The FTS5 expression of a query with the glossary's alternatives (None when no concept is
        named): the member's words AND-ed as in the direct search, except that each run naming a
        concept may match any of the concept's terms instead."""
        content = [w for w in words if w not in STOP_WORDS]
        spans = self.spans(content)
        if not spans:
            return None
        parts: list[str] = []
        i = 0
        for span in spans:
            parts.extend(_word(w) for w in content[i:span.start])
            alts: list[str] = []
            own = " AND ".join(_word(w) for w in content[span.start:span.end])
            alts.append(own if span.end - span.start == 1 else f"({own})")
            for c in span.concepts:
                for _, ws in c.terms:
                    expr = " AND ".join(fts.group_expression((w,)) or "" for w in ws)
                    alts.append(expr if len(ws) == 1 else f"({expr})")
            alts = list(dict.fromkeys(alts))[:MAX_ALTERNATIVES]
            parts.append("(" + " OR ".join(alts) + ")")
            i = span.end
        rest = content[i:]
        for k, w in enumerate(rest):
            last = prefix_last and k == len(rest) - 1
            parts.append(fts.group_expression((w,) if last else query_forms(w), prefix=last) or "")
        return " AND ".join(p for p in parts if p)


def _word(w: str) -> str:
    return fts.group_expression(query_forms(w)) or ""


@cache
def load_default() -> Glossary:
    """The bundled glossary, read once per process (a file read: call it off the event loop)."""
    try:
        return Glossary.load()
    except OSError:
        log.warning("glossary %s could not be read; searches stay within their own words", GLOSSARY_PATH,
                    exc_info=True)
        return Glossary(())
