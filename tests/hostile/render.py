"""Hostile member text through every renderer (the embed builders of cogs/*/embeds.py).

`fill(cls)` builds any of the services' frozen dataclasses with every text field set to `PAYLOAD`
(markdown that would render as a masked link, headings and mentions), chosen from the field's type,
so a field added later is filled too without touching this file. `FIXED` pins the few text fields
that hold a code (a status, a time zone) rather than member text. `rendered_text(obj)` collects
every string a renderer's result would send (message text, embed title, description, fields,
footer, author). `markdown_leaks(text)` lists what of `PAYLOAD` got through unescaped.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord

# A masked link, headings (also indented and "-#" subtext), and mentions of a member, a role, a
# channel and everyone. It starts with "# " so even a one-line field starts with a heading marker.
PAYLOAD = "# Big [click](https://evil) <@&1> <@1> <@!1> <#1> @everyone\n## Big\n  # Big\n-# Big\n[x\ny](https://evil)"
ID = 4242  # every id the filler makes (the bot's own mentions of it, <@4242>, are fine)
WHEN = datetime(2031, 3, 4, 15, 30, tzinfo=UTC)

# Text fields that hold a code, not member text (keys of label tables, zones, enumerations).
FIXED: dict[str, Any] = {
    "status": "approved", "format": "virtual", "tz": "UTC", "timezone": "UTC", "zone": "UTC", "kind": "mou",
    "language": "en", "repeat": None, "rrule": None, "what": "milestone", "signature_mode": "wet",
    "esign_status": "n/a", "member_kind": "city", "category": "member", "country": "FR", "origin": "guild",
    "topics": ("water",), "focus": ("climate",), "scope": "global", "snippet": "a \x02match\x03 " + PAYLOAD,
    "slug": "a-network", "action": "mou.update", "missing_topics": ("water",), "missing_regions": ("Europe",),
}
FIXED_BY_CLASS: dict[str, dict[str, Any]] = {
    "Roundtable": {"status": "scheduled"},
    "Attendee": {"status": "going"},
    "Agreement": {"status": "active"},
    "ListRow": {"status": "active"},
    "Milestone": {"done": False},
}


def _hints(cls: type) -> dict[str, Any]:
    module = __import__(cls.__module__, fromlist=["_"])
    return typing.get_type_hints(cls, vars(module))


def value_for(tp: Any, name: str = "", owner: str = "") -> Any:
    """A value of type `tp`: member text for every str."""
    if owner in FIXED_BY_CLASS and name in FIXED_BY_CLASS[owner]:
        return FIXED_BY_CLASS[owner][name]
    if name in FIXED:
        return FIXED[name]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return value_for(real[0], name, owner)
    if origin is typing.Literal:
        return args[0]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return (value_for(args[0], name, owner),)
        return tuple(value_for(a, name, owner) for a in args)
    if origin in (list, typing.Sequence, __import__("collections.abc").abc.Sequence):
        return [value_for(args[0], name, owner)] if args else []
    if origin is dict:
        return {}
    if tp is str:
        return PAYLOAD
    if tp is bool:
        return True
    if tp is int:
        return ID
    if tp is float:
        return 1.0
    if tp is datetime:
        return WHEN
    if tp is date:
        return WHEN.date()
    if tp is timedelta:
        return timedelta(hours=1)
    if dataclasses.is_dataclass(tp):
        return fill(tp)  # type: ignore[arg-type]
    if tp is Any or tp is object:
        return PAYLOAD
    raise TypeError(f"no hostile value for {owner}.{name}: {tp!r}")


def fill(cls: type, **overrides: Any) -> Any:
    """An instance of dataclass `cls` with member text in every text field."""
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        kwargs[f.name] = overrides[f.name] if f.name in overrides else value_for(hints[f.name], f.name,
                                                                                  cls.__name__)
    return cls(**kwargs)


def rendered_text(obj: Any) -> list[str]:
    """Every string a renderer's result puts in a message."""
    if obj is None:
        return []
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, discord.Embed):
        return _strings(obj.to_dict())
    if isinstance(obj, list | tuple):
        return [s for x in obj for s in rendered_text(x)]
    raise TypeError(f"unexpected render result {type(obj)!r}")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [
            s for k, v in value.items() if k not in ("type", "url", "timestamp", "color") for s in _strings(v)
        ]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


_UNESCAPED = r"(?<!\\)(?:\\\\)*"
LEAKS = {
    "masked link": re.compile(_UNESCAPED + r"\[[^\]]*\]\(\s*<?https?://evil"),
    "heading": re.compile(r"^[^\S\n]*(?:#{1,3}|-#)\s+Big", re.MULTILINE),
    "member mention": re.compile(r"<@!?1>"),
    "role mention": re.compile(r"<@&1>"),
    "channel mention": re.compile(r"<#1>"),
    "@everyone": re.compile(r"@everyone"),
}


def markdown_leaks(text: str) -> list[str]:
    """What of PAYLOAD renders as markdown in `text` (empty: all of it shows as typed)."""
    return [name for name, rx in LEAKS.items() if rx.search(text)]
