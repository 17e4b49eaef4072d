"""The library's languages and how their words are indexed: folding, Snowball stemming, highlights.
Pure (no I/O, no discord import).

A practice is indexed in its own language: every word of its text is folded (lower case, accents
removed: `search.fold`) and then stemmed with that language's Snowball stemmer (PyStemmer), so
"Presupuestos participativos" is indexed as `presupuest particip`. Folding comes first, on both
sides, so a word typed with or without its accents always gives the same stem (accent-insensitive by
construction; the stemmers see unaccented text, which costs them a few accent-bearing suffixes).
A practice in another language is indexed folded but not stemmed.

A member's query is stemmed in every catalog language (the member's language says nothing about the
practices'): each word becomes a group of alternatives, its folded form and its English, French and
Spanish stems, and matches a practice whose own-language stem is one of them.

The index holds one token per word of the text, so the highlights are computed here, on the
original text, with the same rules (`highlight_snippet`), rather than by FTS5's snippet(), which
would show the stems.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import Stemmer

from cogs.practices import search as fts

# The catalog languages, in the order shown to members, and their Snowball algorithms.
LANGUAGES: tuple[str, ...] = ("en", "fr", "es")
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español"}
_ALGORITHMS: dict[str, str] = {"en": "english", "fr": "french", "es": "spanish"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_MAX = 35  # free-text languages other than the catalog's are kept as typed, up to this

# What members type for a catalog language (folded), and Discord locales.
_ALIASES: dict[str, str] = {
    "en": "en", "eng": "en", "english": "en", "anglais": "en", "ingles": "en",
    "fr": "fr", "fra": "fr", "fre": "fr", "french": "fr", "francais": "fr", "frances": "fr",
    "es": "es", "spa": "es", "spanish": "es", "espanol": "es", "espagnol": "es", "castellano": "es",
}
_LOCALE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")


def language_code(text: str | None) -> str:
    """The stored language of a practice: a catalog code for what names one ("Français", "fr-CA",
    "Spanish" → fr, fr, es), else the text as typed (one line, at most LANGUAGE_MAX characters),
    else the default."""
    cleaned = " ".join((text or "").split())[:LANGUAGE_MAX]
    if not cleaned:
        return DEFAULT_LANGUAGE
    key = fts.fold(cleaned)
    if key in _ALIASES:
        return _ALIASES[key]
    m = _LOCALE.match(key)
    if m and m.group(1) in _ALIASES and len(m.group(1)) == 2:
        return _ALIASES[m.group(1)]
    return cleaned


def locale_language(locale: str | None) -> str:
    """A member's Discord client locale → a catalog language: fr → fr, es-ES / es-419 → es, else en."""
    code = (locale or "").lower().split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def is_catalog(language: str) -> bool:
    return language in _ALGORITHMS


# PyStemmer's stemmers are not safe to share between threads (searches run on several reader
# threads): each thread has its own, and the stems themselves are memoised (a pure function).
_local = threading.local()


def _stemmer(language: str) -> Any:
    cache: dict[str, Any] | None = getattr(_local, "stemmers", None)
    if cache is None:
        cache = _local.stemmers = {}
    s = cache.get(language)
    if s is None:
        s = cache[language] = Stemmer.Stemmer(_ALGORITHMS[language])
    return s


@lru_cache(maxsize=1 << 17)
def stem(word: str, language: str) -> str:
    """The index form of one folded word in a practice of this language (unchanged outside the
    catalog languages)."""
    if language not in _ALGORITHMS:
        return word
    return str(_stemmer(language).stemWord(word)) or word


def tokens(text: str | None) -> list[str]:
    """Every word of a text, folded, in order (repeats kept): what the index holds, before stemming."""
    return fts.fold_tokens(text)


def index_text(text: str | None, language: str) -> str:
    """The text as the index receives it: one stemmed token per word, space-separated."""
    return " ".join(stem(w, language) for w in tokens(text))


def index_columns(title: str, summary: str, approach: str, results: str, lessons: str,
                  language: str) -> tuple[str, str, str, str, str]:
    """The five indexed columns of a practice (practices.ix_*, migration 009)."""
    return (index_text(title, language), index_text(summary, language), index_text(approach, language),
            index_text(results, language), index_text(lessons, language))


def query_forms(word: str) -> tuple[str, ...]:
    """A folded query word's alternatives: itself and its stem in each catalog language."""
    return tuple(dict.fromkeys((word, *(stem(word, lang) for lang in LANGUAGES))))


# -- highlights --------------------------------------------------------------------------------
_QUOTED = re.compile(r'"((?:[^"]|"")*)"(\*?)')
SNIPPET_TOKENS = 24
MAX_WINDOWS = 32  # windows tried per column (the first matches of a word matched hundreds of times)


@dataclass(frozen=True, slots=True)
class Forms:
    """The index terms a search matched: whole terms, and prefixes (the last word's)."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]

    def matches(self, term: str) -> bool:
        return term in self.exact or (bool(self.prefixes) and term.startswith(self.prefixes))


def match_forms(*expressions: str | None) -> Forms:
    """The terms of FTS5 expressions built by search.match_expression (quoted terms, `*` prefixes)."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for expr in expressions:
        for m in _QUOTED.finditer(expr or ""):
            term = m.group(1).replace('""', '"')
            if m.group(2):
                prefixes.append(term)
            else:
                exact.add(term)
    return Forms(frozenset(exact), tuple(dict.fromkeys(prefixes)))


@lru_cache(maxsize=1 << 16)
def _word_tokens(word: str) -> int:
    """How many index tokens one word of a text gives (folding may split it: a ligature, a fraction)."""
    return len(fts.fold_tokens(word))


def highlight_snippet(columns: Sequence[str], language: str, forms: Forms, size: int = SNIPPET_TOKENS,
                      indexed: Sequence[str | None] | None = None) -> str:
    """Like FTS5's snippet(): the window of `size` words, in the column where it holds the most
    distinct matched terms (then the most matches; earlier columns first), of the original text,
    with \x02…\x03 around each matched word and '…' where the text goes on. Empty when no word
    of any column matches. `indexed`: the columns as indexed (practices.ix_*), when known: matching
    then reads their tokens as they are, and only the chosen window is mapped back to the text."""
    best: tuple[tuple[int, int, int, int], int, list[str], list[int], range] | None = None
    for ci, text in enumerate(columns):
        if not text:
            continue
        ix = indexed[ci] if indexed is not None and ci < len(indexed) else None
        toks = ix.split() if ix is not None else [stem(w, language) for w in fts.fold_tokens(text)]
        exact, prefixes = forms.exact, forms.prefixes
        if prefixes:
            hits = [i for i, t in enumerate(toks) if t in exact or t.startswith(prefixes)]
        else:
            hits = [i for i, t in enumerate(toks) if t in exact]
        for h in hits[:MAX_WINDOWS]:
            start = max(0, min(h - 2, len(toks) - size))
            window = range(start, min(len(toks), start + size))
            inside = hits[bisect_left(hits, window.start):bisect_left(hits, window.stop)]
            score = (len({toks[i] for i in inside}), len(inside), -ci, -start)
            if best is None or score > best[0]:
                best = (score, ci, toks, hits, window)
    if best is None:
        return ""
    _, ci, toks, hits, window = best
    text = columns[ci]
    # the text's words, each with the index tokens it gave, back to character spans
    spans: list[tuple[int, int]] = []
    for m in fts.WORD.finditer(text):
        n = 1 if m.group(0).isascii() else _word_tokens(m.group(0))
        spans.extend([(m.start(), m.end())] * n)
        if len(spans) >= window.stop:
            break
    if len(spans) < window.stop:  # the stored columns do not match the text (should not happen)
        return highlight_snippet(columns, language, forms, size)
    marked = {spans[i] for i in hits if window.start <= i < window.stop}
    out: list[str] = ["…" if window.start > 0 else ""]
    pos = spans[window.start][0]
    for span in dict.fromkeys(spans[i] for i in window):
        s, e = span
        out.append(text[pos:s])
        out.append(f"\x02{text[s:e]}\x03" if span in marked else text[s:e])
        pos = e
    if window.stop < len(toks):
        out.append("…")
    return "".join(out)
