"""Turning member-typed text into a safe FTS5 query, and "did you mean" corrections.

User text is never passed to FTS5 as syntax: it is split into words the way the
`unicode61` tokenizer splits them, each word is double-quoted (so `NEAR`, `AND`, `:`,
`*`, `-`, parentheses and quotes are just characters that fall away), and only the last
word gets a prefix `*` (outside the quotes) so "resil" finds "resilience".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

# unicode61 keeps letters, numbers (and marks) together; everything else separates tokens.
WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_QUERY_WORDS = 12
MAX_WORD_LEN = 40
MIN_PREFIX_LEN = 3  # shorter last words match exactly: a 1–2 letter prefix would match half the index


def fold(word: str) -> str:
    """Lower-case and strip accents, like `unicode61 remove_diacritics 2`."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_tokens(text: str | None) -> list[str]:
    """Every word of a text, folded, in order (repeats kept): what the index holds before stemming,
    and what a query is made of. (Folded first and split after, so that a character folding into
    letters and separators, such as a ligature or a fraction, splits the same way everywhere.)"""
    return WORD.findall(fold(text)) if text else []


def words(text: str | None) -> list[str]:
    """The words of user text, folded, in order, at most MAX_QUERY_WORDS (duplicates kept once)."""
    out: list[str] = []
    for part in fold_tokens(text):
        w = part[:MAX_WORD_LEN]
        if w not in out:
            out.append(w)
            if len(out) >= MAX_QUERY_WORDS:
                break
    return out


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expression(terms: Sequence[str], *, prefix_last: bool = True) -> str | None:
    """An FTS5 MATCH string that ANDs every term as a quoted string; None when there are none.

    Terms come from `words()`, so they contain only letters and digits; the quoting is
    still done properly (doubling any quote) in case a caller passes something else."""
    return match_groups([(t,) for t in terms], prefix_last=prefix_last)


def group_expression(alternatives: Sequence[str], *, prefix: bool = False) -> str | None:
    """One word's alternatives (its stems in several languages) ORed, each quoted; as prefixes
    when `prefix` (one that another alternative starts with makes that one redundant)."""
    alts = [a for a in dict.fromkeys(alternatives) if a]
    if prefix:
        alts = [a for a in alts if len(a) >= MIN_PREFIX_LEN] or alts
        alts = [a for a in alts if not any(o != a and a.startswith(o) for o in alts)]
    quoted = [_quote(a) + ("*" if prefix and len(a) >= MIN_PREFIX_LEN else "") for a in alts]
    if not quoted:
        return None
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def match_groups(groups: Sequence[Sequence[str]], *, prefix_last: bool = True) -> str | None:
    """An FTS5 MATCH string that ANDs the groups, each an OR of its alternatives; the last group's
    alternatives are prefixes when `prefix_last`."""
    parts: list[str] = []
    for i, alts in enumerate(groups):
        expr = group_expression(alts, prefix=prefix_last and i == len(groups) - 1)
        if expr is not None:
            parts.append(expr)
    return " AND ".join(parts) if parts else None


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of neighbours counts 1), cut off above `limit`
    (limit + 1 means "more than limit")."""
    return int(OSA.distance(a, b, score_cutoff=limit))


def max_typos(word: str) -> int:
    """How many edits a word of this length may carry and still be corrected."""
    if len(word) <= 3:
        return 0
    if len(word) <= 5:
        return 1
    return 2


def bucket_key(word: str) -> str:
    """Vocabulary terms considered for a word share its first two characters."""
    return word[:2]


def bucket_range(key: str) -> tuple[str, str]:
    """[lo, hi) bounds of all terms starting with `key`, for a range scan of the vocabulary."""
    return key, key + "\U0010ffff"


def best_corrections(word: str, vocabulary: Sequence[tuple[str, int]], *, limit: int = 3) -> list[str]:
    """Closest vocabulary terms to `word` (fewest edits, then most documents)."""
    allowed = max_typos(word)
    if allowed == 0 or not vocabulary:
        return []
    # one C++ pass over the candidates (rapidfuzz), no Python loop per term
    found = process.extract(word, [t for t, _ in vocabulary], scorer=OSA.distance, score_cutoff=allowed,
                            limit=None)
    scored = sorted((int(d), -vocabulary[i][1], term) for term, d, i in found if term != word)
    return [t for _, _, t in scored[:limit]]
