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
def _word_forms(word: str, language: str) -> tuple[str, ...]:
    """The index forms of one word of a text as it stands (folding may split it)."""
    return tuple(stem(p, language) for p in fts.fold_tokens(word))


def highlight_snippet(columns: Sequence[str], language: str, forms: Forms,
                      size: int = SNIPPET_TOKENS) -> str:
    """Like FTS5's snippet(): the window of `size` words, in the column where it holds the most
    distinct matched terms (then the most matches; earlier columns first), of the original text,
    with \\x02…\\x03 around each matched word and '…' where the text goes on. Empty when no word
    of any column matches."""
    best: tuple[tuple[int, int, int, int], str, list[tuple[int, int, bool]], range] | None = None
    for ci, text in enumerate(columns):
        if not text:
            continue
        spans: list[tuple[int, int, bool]] = []
        keys: list[str | None] = []
        for m in fts.WORD.finditer(text):
            hit = next((f for f in _word_forms(m.group(0), language) if forms.matches(f)), None)
            spans.append((m.start(), m.end(), hit is not None))
            keys.append(hit)
        for h in (i for i, s in enumerate(spans) if s[2]):
            start = max(0, min(h - 2, len(spans) - size))
            window = range(start, min(len(spans), start + size))
            distinct = len({keys[i] for i in window if keys[i] is not None})
            count = sum(1 for i in window if spans[i][2])
            score = (distinct, count, -ci, -start)
            if best is None or score > best[0]:
                best = (score, text, spans, window)
    if best is None:
        return ""
    _, text, spans, window = best
    out: list[str] = ["…" if window.start > 0 else ""]
    pos = spans[window.start][0]
    for i in window:
        s, e, marked = spans[i]
        out.append(text[pos:s])
        out.append(f"\x02{text[s:e]}\x03" if marked else text[s:e])
        pos = e
    if window.stop < len(spans):
        out.append("…")
    return "".join(out)
