"""The kernel's member-text escape (bot.text.md, used by every feature): the fast path changes nothing, and
its copy of discord.py's escape_markdown agrees with discord.py's."""

from __future__ import annotations

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text import _INDENTED_BLOCK, _LINE_BREAKS, _MENTION, _OPEN_BRACKET, _ZW, clip, md, user_text
from cogs.practices.embeds import highlight

_ALPHABET = st.sampled_from(
    list("ab Z9é_\\~|*`>[]()#-@\r\n:/.<&!everyonhr\x02\x03ÿ𝔸\u200b\u2028\x85\u3000\t")
)


def _full(text: str, limit: int | None = None) -> str:
    """The slow path, applied to every text."""
    out = _INDENTED_BLOCK.sub("", _LINE_BREAKS.sub("\n", text))
    out = discord.utils.escape_markdown(user_text(out), as_needed=False, ignore_links=True)
    out = _OPEN_BRACKET.sub(r"\1\\[", _MENTION.sub("<" + _ZW, out))
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
