"""Member-typed text made safe to show in a Discord message or embed (no discord import: services use it
for the member text they put in error messages, renderers for everything they show).

`md` is the one escape for member text: nothing a member types renders as markdown (bold, code,
quotes, lists, headings and "-#" subtext, masked links ``[text](url)``), nor as a mention of a
member, role, channel or command, nor pings @everyone/@here. `bot.embeds` re-exports all of it.
"""

from __future__ import annotations

import re

_ZW = "\u200b"
_MASS = re.compile(r"@(everyone|here)", re.IGNORECASE)
_FENCE = re.compile(r"```")


def clip(text: str | None, limit: int, *, ellipsis: str = "…") -> str:
    """Cut text to at most `limit` characters, ending with an ellipsis when cut."""
    if not text:
        return ""
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return text[:limit]
    return text[: limit - len(ellipsis)].rstrip() + ellipsis


def user_text(text: str | None, limit: int | None = None) -> str:
    """Defuse @everyone/@here (allowed_mentions is off anyway; this keeps it from even looking like a
    ping), and break code fences so a stray ``` cannot swallow the rest of an embed. Optionally clip.
    Markdown stays: use `md` for member text."""
    if not text:
        return ""
    out = _MASS.sub(lambda m: "@" + _ZW + m.group(1), text)
    out = _FENCE.sub("`" + _ZW + "``", out)
    out = out.replace("\r\n", "\n").replace("\r", "\n")
    return clip(out, limit) if limit else out


def one_line(text: str | None, limit: int) -> str:
    """Text squeezed to one line, markdown left as is: only for plain-text places (modal titles,
    scheduled-event names), never for a message or an embed (`md_line`)."""
    return clip(" ".join(user_text(text).split()), limit)


# discord.utils.escape_markdown(text, as_needed=False, ignore_links=True) of discord.py 2.x (MIT), kept
# here so this module needs no discord import; tests/test_practices_render.py checks they agree.
_URL = r"(?P<url><[^: >]+:\/[^ >]+>|(?:https?|steam):\/\/[^\s<]+[^<.,:;\"\'\]\s])"
_MARKDOWN = r"(?P<markdown>[_\\~|\*`]|^>(?:>>)?\s|\[.+\]\(.+\)|^#{1,3}|^\s*-)"
_ESCAPE = re.compile(f"(?:{_URL}|{_MARKDOWN})", re.MULTILINE)


def _escape_markdown(text: str) -> str:
    return _ESCAPE.sub(lambda m: m.group("url") or "\\" + m.group("markdown"), text)


# Text without any of these characters comes out of md() unchanged (nothing for escape_markdown or
# user_text to do), so it skips their regular expressions: a search page renders ~40 pieces of text.
_NEEDS_ESCAPE = re.compile(r"[_\\~|*`>\[#\-@\r<\u2028\u2029\x85]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
# Indentation before a block marker: Discord still reads "   # Big" as a heading, so it goes.
_INDENTED_BLOCK = re.compile(r"^[^\S\n]+(?=[#>-])", re.MULTILINE)
# "<@1>", "<@!1>", "<@&1>", "<#1>", "</cmd:1>": a zero-width space after "<" keeps them from rendering
# as a (fake) mention of someone, a role, a channel or a command.
_MENTION = re.compile(r"<(?=[@#/])")
# A "[" that no backslash escapes (an even run of backslashes before it escapes only themselves).
_OPEN_BRACKET = re.compile(r"(?<!\\)((?:\\\\)*)\[")


def md(text: str | None, limit: int | None = None) -> str:
    """Member-typed text as message or embed content: nothing in it renders as markdown.

    Every markdown character is escaped (bold, code, quotes, lists, headings, `-#` subtext), every
    "[" too (no masked link `[text](url)`, however nested or spread over lines), mentions of members,
    roles, channels and commands are broken with a zero-width space and @everyone/@here defused
    (`user_text`). URLs stay clickable as they are. Use it for every field a member typed; `md_line`
    for one-line places (titles, names)."""
    if not text:
        return ""
    if _NEEDS_ESCAPE.search(text) is None:
        out = text
    else:
        out = _INDENTED_BLOCK.sub("", _LINE_BREAKS.sub("\n", text))
        out = _escape_markdown(user_text(out))
        out = _OPEN_BRACKET.sub(r"\1\\[", _MENTION.sub("<" + _ZW, out))
    return clip(out, limit) if limit else out


def md_line(text: str | None, limit: int) -> str:
    """`md` of text squeezed to one line."""
    return md(" ".join((text or "").split()), limit)
