"""Hostile-input generators shared by tests/test_hostile_input.py (hardening issue: "Hostile and broken
input").

`HostileText(rng, victims)` draws member-typed strings a hostile or careless user could send:
RTL text, combining marks, zero-width characters, emoji with skin tones and ZWJ sequences,
control characters (never NUL: Discord strips it), 10,000-character strings, empty and blank
strings, markdown and code fences, @everyone/@here and user/role/channel mentions, SQL and FTS5
syntax, dates from year 1 to 9999. `hypothesis_text()` is the same alphabet as a hypothesis
strategy for the pure service layer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import strategies as st

RTL = ["مرحبا بالعالم", "שלום עולם", "\u202eevil.exe\u202c", "\u200fright-to-left\u200e", "اَلْعَرَبِيَّةُ"]
COMBINING = ["e\u0301\u0301\u0301\u0301", "Z\u0351\u0352\u0357\u0358\u0359\u035a\u035b" * 5, "a\u20dd", "ñ"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200b\u200b\u200b"]
EMOJI = [
    "👍🏽",
    "👩🏿‍🚀",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🇫🇷",
    "\U0001f9d1\U0001f3fb\u200d\U0001f91d\u200d\U0001f9d1\U0001f3ff",
]
CONTROL = [
    "\x01\x02\x07",
    "\x1b[31mred\x1b[0m",
    "\t",
    "\n\n\n",
    "\r\n",
    "\x7f",
    "\x0b\x0c",
    "\u0085",
    "\u2028\u2029",
]
MARKDOWN = [
    "**bold** __under__ ~~strike~~ ||spoiler||", "```py\nprint('x')\n```", "```", "`", "> quote\n>>> block",
    "# Heading\n- list", "[link](https://example.com)", "\\", "*", "_", "~", "|", "<https://x.y>",
]
SQL_FTS = [
    "'; DROP TABLE practices; --", "\" OR 1=1 --", "' OR '1'='1", '"', "''", "*", "NEAR(", "NEAR(a b, 2)",
    " OR ", "AND", "NOT", "-", ":", "title:", "^", "(", ")", "{", "}", "%", "_", "%%", "a*b", "\"unbalanced",
    "col:val", "a OR", "OR a", "- -", "***", "NEAR", "MATCH", "\\x00", "NULL", "None", "0x41",
]
NUMBERS = ["0", "-1", "1e309", "NaN", "inf", "99999999999999999999", "-0", "1.5", "١٢٣"]
BLANK = ["", " ", "   ", "\u3000", "\u00a0"]
DATES = [
    "0001-01-01",
    "9999-12-31 23:59",
    "9999-12-31",
    "0001-01-01 00:00",
    "0000-00-00",
    "2024-02-30",
    "2023-02-29",
    "25:61",
    "tomorrow 25:00",
    "9999-12-31T23:59:59+14:00",
    "1-1-1",
    "31/12/9999",
    "next century",
    "yesterday",
    "in 10000 years",
    "12:00 Mars/Olympus",
    "9999-12-31 23:59 Pacific/Kiritimati",
    "0001-01-01 00:00 Etc/GMT+12",
    "2038-01-19 03:14:08",
    "1970-01-01",
    "every 0 weeks",
    "FREQ=SECONDLY",
    "FREQ=DAILY;COUNT=100000",
    "FREQ=WEEKLY;BYDAY=XX",
    "-5 minutes",
    "0m",
    "99999h",
    "1y",
]


def _random_year_date(rng: random.Random) -> str:
    y = rng.randint(1, 9999)
    m = rng.randint(1, 12)
    d = rng.randint(1, 31 if rng.random() < 0.2 else 28)
    fmt = rng.choice(["{y:04d}-{m:02d}-{d:02d}", "{y:04d}-{m:02d}-{d:02d} {h:02d}:{mi:02d}", "{d}/{m}/{y}",
                      "{y}-{m}-{d}", "{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}"])
    return fmt.format(y=y, m=m, d=d, h=rng.randint(0, 23), mi=rng.randint(0, 59))


@dataclass
class Victims:
    """Ids hostile text mentions; nobody may ever be pinged through them."""

    user_id: int
    role_id: int
    channel_id: int

    def mentions(self) -> list[str]:
        return [
            "@everyone",
            "@here",
            "@everyone @here",
            "@\u200beveryone",
            f"<@{self.user_id}>",
            f"<@!{self.user_id}>",
            f"<@&{self.role_id}>",
            f"<#{self.channel_id}>",
            "<@123>",
            "<@&123>",
            "<#123>",
            "<@>",
            "<@&>",
            "</practice share:123>",
            "<t:99999999999:F>",
            "<a:x:123>",
        ]


class HostileText:
    def __init__(self, rng: random.Random, victims: Victims) -> None:
        self.rng = rng
        self.atoms = (RTL + COMBINING + ZERO_WIDTH + EMOJI + CONTROL + MARKDOWN + SQL_FTS + NUMBERS + BLANK
                      + DATES + victims.mentions())

    def atom(self) -> str:
        return self.rng.choice(self.atoms)

    def random_codepoints(self, n: int) -> str:
        out: list[str] = []
        while len(out) < n:
            cp = self.rng.choice([self.rng.randint(1, 0x7F), self.rng.randint(0x80, 0x2FFF),
                                  self.rng.randint(0x1F300, 0x1FAFF), self.rng.randint(0x590, 0x6FF)])
            if 0xD800 <= cp <= 0xDFFF:
                continue
            out.append(chr(cp))
        return "".join(out)

    def text(self) -> str:
        """One hostile string (may be empty; may be 10,000 characters)."""
        r = self.rng.random()
        if r < 0.35:
            return self.atom()
        if r < 0.65:
            return " ".join(self.atom() for _ in range(self.rng.randint(2, 5)))
        if r < 0.75:
            return self.random_codepoints(self.rng.randint(1, 60))
        if r < 0.85:
            return _random_year_date(self.rng)
        if r < 0.93:
            unit = self.atom() or "x"
            return (unit * (10_000 // len(unit) + 1))[:10_000]
        return self.random_codepoints(10_000)

    def date(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            return self.rng.choice(DATES)
        if r < 0.8:
            return _random_year_date(self.rng)
        return self.text()

    def fit(self, text: str, min_length: int | None, max_length: int | None, *, required: bool) -> str:
        """What the Discord client would let through for an option/text input with these bounds."""
        if max_length is not None:
            text = text[:max_length]
        low = max(min_length or 0, 1 if required else 0)
        if len(text) < low:
            text = text + "x" * (low - len(text))
        return text


def hypothesis_text(max_size: int = 12_000) -> st.SearchStrategy[str]:
    """Hostile strings as a hypothesis strategy (surrogates and NUL excluded, as Discord would)."""
    victims = Victims(user_id=4242, role_id=4343, channel_id=4444)
    atoms = (RTL + COMBINING + ZERO_WIDTH + EMOJI + CONTROL + MARKDOWN + SQL_FTS + NUMBERS + BLANK + DATES
             + victims.mentions())
    chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    piece = st.one_of(st.sampled_from(atoms), st.text(chars, max_size=30))
    joined = st.lists(piece, max_size=6).map(" ".join)
    long = st.tuples(st.sampled_from([a for a in atoms if a] + ["x"]), st.integers(1000, 10_000)).map(
        lambda t: (t[0] * (t[1] // len(t[0]) + 1))[: t[1]])
    return st.one_of(joined, joined, long, st.text(chars, max_size=200)).map(lambda s: s[:max_size])
