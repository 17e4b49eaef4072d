"""Domain errors shown to users. No discord import: services raise these.

A message that names a member or a time carries them as data, not markup: the message is a
`str.format` template and the named parts are `Mention`/`Moment` values, e.g.
`Conflict("Practice #3 was approved by {who} {when}.", who=Mention(7), when=Moment(at))`; a plain value
is a `Value` ("There is no practice #{id} here.", id=Value("3")) and a sentence part with parts of its own
a `Phrase`, so the whole template is the catalog id and each language can move the words.
`message` reads them in plain words (logs, the command line); the interaction layer
(`bot.interactions.error_text`) renders them as Discord mentions and timestamps. A message whose parts are
other values (a quoted input, a month, a hint) is a `bot.i18n.Msg` (`InvalidInput(exc.msg)` passes a
bot.timeparse.TimeParseError on), rendered in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.i18n import Msg


@dataclass(frozen=True, slots=True)
class Mention:
    """A member named in a message."""

    user_id: int

    def plain(self) -> str:
        return f"member {self.user_id}"


@dataclass(frozen=True, slots=True)
class Moment:
    """A time named in a message; `style` is a Discord timestamp style (tTdDfFR)."""

    at: datetime
    style: str = "R"

    def plain(self) -> str:
        return self.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class Value:
    """A value named in a message (a number, a title, a list of names): shown as it is, in any language."""

    text: str

    def plain(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Phrase:
    """A message inside a message ("approved by {decider} {when}"): a catalog template with its own named
    parts, shown in the reader's language like the message around it."""

    template: str
    parts: tuple[tuple[str, Part], ...] = ()

    @classmethod
    def of(cls, template: str, **parts: Part) -> Phrase:
        return cls(template, tuple(parts.items()))

    def plain(self) -> str:
        return self.template.format(**{k: v.plain() for k, v in self.parts}) if self.parts else self.template


Part = Mention | Moment | Value | Phrase


class UserFacingError(Exception):
    """An expected error: its message is shown to the user, ephemerally, as is."""

    def __init__(self, message: str | Msg, **parts: Part) -> None:
        self.parts: dict[str, Part] = dict(parts)
        plain = {k: v.plain() for k, v in parts.items()}
        if not isinstance(message, str):  # a bot.i18n.Msg: rendered in the reader's language
            self.msg: Msg | None = message
            self.template = message.msgid
            self.message = message.english(**plain)
        else:
            self.msg = None
            self.template = message
            self.message = message.format(**plain) if parts else message
        super().__init__(self.message)


class InvalidInput(UserFacingError):
    pass


class NotFound(UserFacingError):
    pass


class PermissionDenied(UserFacingError):
    pass


class Conflict(UserFacingError):
    """The action clashes with something that just happened (e.g. another moderator's decision)."""
