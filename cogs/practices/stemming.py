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
from itertools import islice
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


def _one_token_chars() -> str:
    """The characters of the Latin blocks, combining diacritics and general punctuation with which
    every word gives exactly one index token: a letter or digit folding to letters and digits only
    (é, ñ, œ, ß…), or a separator folding to no letter or digit (’, «, –, …). Not so: ½ (it folds to
    1⁄2, two tokens). Computed, not listed, so it is what fold() does."""
    out: list[str] = []
    for code in (*range(0x80, 0x250), *range(0x300, 0x370), *range(0x2000, 0x2070)):
        ch = chr(code)
        folded = fts.fold(ch)
        if fts.WORD.fullmatch(ch):
            ok = bool(folded) and fts.WORD.fullmatch(folded) is not None
        else:
            ok = fts.WORD.search(folded) is None
        if ok:
            out.append(ch)
    return "".join(out)


# A text with no character outside these gives one index token per word (see highlight_snippet)
_MULTI_TOKEN = re.compile("[^\x00-\x7f" + re.escape(_one_token_chars()) + "]")


@lru_cache(maxsize=1 << 16)
def _word_tokens(word: str) -> int:
    """How many index tokens one word of a text gives (folding may split it: a ligature, a fraction)."""
    return len(fts.fold_tokens(word))


def _column_hits(ix: str, forms: Forms, size: int) -> tuple[list[int], list[str], int]:
    """The matched tokens of an indexed column (tokens separated by single spaces): their positions
    and terms (only as far as the first MAX_WINDOWS windows can reach), and the column's number of
    tokens. Each term is looked for with str.find (a scan in C), and kept where it is a whole token
    (an exact term) or a token's start (a prefix)."""
    n = ix.count(" ") + 1 if ix else 0
    found: dict[int, int] = {}  # character offset of a matched token -> its end
    end_of = len(ix)
    for term, whole in [(t, True) for t in forms.exact] + [(p, False) for p in forms.prefixes]:
        if not term:
            continue
        pos = ix.find(term)
        while pos >= 0:
            stop = pos + len(term)
            if pos == 0 or ix[pos - 1] == " ":
                if stop == end_of or ix[stop] == " ":
                    found[pos] = stop
                elif not whole:
                    nxt = ix.find(" ", stop)
                    found[pos] = end_of if nxt < 0 else nxt
            pos = ix.find(term, stop)
    hits: list[int] = []
    terms: list[str] = []
    idx, prev = 0, 0
    reach = -1
    for pos in sorted(found):
        idx += ix.count(" ", prev, pos)
        prev = pos
        if reach >= 0 and idx >= reach:
            break  # no window of the first MAX_WINDOWS hits reaches this far
        hits.append(idx)
        terms.append(ix[pos:found[pos]])
        if len(hits) == MAX_WINDOWS:
            reach = idx + size
    return hits, terms, n


def highlight_snippet(columns: Sequence[str], language: str, forms: Forms, size: int = SNIPPET_TOKENS,
                      indexed: Sequence[str | None] | None = None) -> str:
    """Like FTS5's snippet(): the window of `size` words, in the column where it holds the most
    distinct matched terms (then the most matches; earlier columns first), of the original text,
    with \x02…\x03 around each matched word and '…' where the text goes on. Empty when no word
    of any column matches. `indexed`: the columns as indexed (practices.ix_*), when known: matching
    then reads their tokens as they are, and only the chosen window is mapped back to the text."""
    best: tuple[tuple[int, int, int, int], int, int, list[int], range] | None = None
    for ci, text in enumerate(columns):
        if not text:
            continue
        ix = indexed[ci] if indexed is not None and ci < len(indexed) else None
        if ix is None:
            ix = " ".join(stem(w, language) for w in fts.fold_tokens(text))
        hits, terms, n = _column_hits(ix, forms, size)
        # the windows slide forwards (a later hit never starts an earlier window): the matches inside
        # the current one are hits[lo:hi], and `inside` counts each matched term among them
        inside: dict[str, int] = {}
        lo = hi = 0
        last = -1
        for h in hits[:MAX_WINDOWS]:
            start = max(0, min(h - 2, n - size))
            if start == last:
                continue  # the same window as the previous hit's (near the end of the column)
            last = start
            stop = min(n, start + size)
            while hi < len(hits) and hits[hi] < stop:
                inside[terms[hi]] = inside.get(terms[hi], 0) + 1
                hi += 1
            while hits[lo] < start:
                if inside[terms[lo]] == 1:
                    del inside[terms[lo]]
                else:
                    inside[terms[lo]] -= 1
                lo += 1
            score = (len(inside), hi - lo, -ci, -start)
            if best is None or score > best[0]:
                best = (score, ci, n, hits, range(start, stop))
    if best is None:
        return ""
    _, ci, n, hits, window = best
    text = columns[ci]
    # the window's words back to character spans: spans[k] is token window.start + k (a word whose
    # folding gives several tokens, such as a ligature or a fraction, stands for each of them)
    spans: list[tuple[int, int]] = []
    if text.isascii() or _MULTI_TOKEN.search(text) is None:  # one token per word
        for m in islice(fts.WORD.finditer(text), window.start, window.stop):
            spans.append(m.span())
    else:
        count = 0
        for m in fts.WORD.finditer(text):
            w = m.group()
            k = 1 if w.isascii() else _word_tokens(w)
            if count + k > window.start:
                spans.extend([m.span()] * (count + k - max(count, window.start)))
            count += k
            if count >= window.stop:
                break
        del spans[len(window):]
    if len(spans) < len(window):  # the stored columns do not match the text (should not happen)
        return highlight_snippet(columns, language, forms, size)
    marked = {spans[i - window.start] for i in hits if window.start <= i < window.stop}
    out: list[str] = ["…" if window.start > 0 else ""]
    pos = spans[0][0]
    for span in dict.fromkeys(spans):
        s, e = span
        out.append(text[pos:s])
        out.append(f"\x02{text[s:e]}\x03" if span in marked else text[s:e])
        pos = e
    if window.stop < n:
        out.append("…")
    return "".join(out)
