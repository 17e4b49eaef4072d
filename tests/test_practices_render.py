"""Render helpers of the practice library: the fast path of md() changes nothing."""

from __future__ import annotations

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.embeds import clip, user_text
from cogs.practices.embeds import highlight, md

_ALPHABET = st.sampled_from(list("ab Z9é_\\~|*`>[]()#-@\r\n:/.<everyonhr\x02\x03ÿ𝔸\u200b"))


def _full(text: str, limit: int | None = None) -> str:
    out = discord.utils.escape_markdown(user_text(text), as_needed=False, ignore_links=True)
    return clip(out, limit) if limit else out


@settings(max_examples=400, deadline=None)
@given(st.text(_ALPHABET, max_size=60) | st.text(max_size=60), st.sampled_from([None, 5, 40]))
def test_md_fast_path_equals_the_full_escape(text: str, limit: int | None) -> None:
    assert md(text, limit) == _full(text, limit)


def test_highlight_marks_matches_and_escapes_the_rest() -> None:
    assert highlight("a \x02flood\x03 map *for* @everyone") == "a **flood** map \\*for\\* @\u200beveryone"
    assert highlight("\x02open") == "**open**"  # an unclosed marker is closed
    assert highlight("plain words") == "plain words"
    long = highlight("\x02word\x03 " + "x" * 400, limit=50)
    assert len(long) <= 50 and "**" not in long
