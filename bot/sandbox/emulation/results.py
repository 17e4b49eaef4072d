"""What the bot did in answer to one interaction, as recorded by the fake."""

# The helpers take timeout= on purpose: a test waits on the bot with a bounded, per-call limit.
# ruff: noqa: ASYNC109

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .limits import FLAG_EPHEMERAL
from .waiting import Notifier

if TYPE_CHECKING:
    from .server import FakeDiscord

FLAG_LOADING = 1 << 7


@dataclass(frozen=True)
class StoredFile:
    """A file the bot uploaded (or a test attached), kept with its bytes."""

    id: int
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    description: str | None = None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


class InteractionResult:
    """Collects the callback, followups and edits the bot made for one interaction token."""

    def __init__(
        self,
        fake: FakeDiscord,
        *,
        interaction_id: int,
        token: str,
        interaction_type: int,
        payload: dict[str, Any],
        created_at: float,
    ) -> None:
        self._fake = fake
        self.id = interaction_id
        self.token = token
        self.type = interaction_type
        self.payload = payload
        self.created_at = created_at
        self.callback: dict[str, Any] | None = None
        self.callback_delay: float | None = None
        self.original_id: int | None = None
        self.followup_ids: list[int] = []
        self.edits: list[
            dict[str, Any]
        ] = []  # bodies of PATCH .../messages/@original (or of the original's id)
        self.followup_edits: list[dict[str, Any]] = []
        self.original_deleted = False
        self.source_message_id: int | None = None
        self._changed = Notifier()

    def __repr__(self) -> str:
        return (
            f"<InteractionResult id={self.id} type={self.type} callback={self.callback_type} "
            f"followups={len(self.followup_ids)} edits={len(self.edits)} content={self.content!r}>"
        )

    def _notify(self) -> None:
        self._changed.notify()

    # -- raw parts ------------------------------------------------------------

    @property
    def callback_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])

    @property
    def callback_data(self) -> dict[str, Any]:
        return {} if self.callback is None else dict(self.callback.get("data") or {})

    @property
    def original(self) -> dict[str, Any] | None:
        """Current state of the @original response message (None if none / deleted)."""
        if self.original_id is None or self.original_deleted:
            return None
        return self._fake.get_message(self.original_id)

    @property
    def followups(self) -> list[dict[str, Any]]:
        found = (self._fake.get_message(mid) for mid in self.followup_ids)
        return [m for m in found if m is not None]

    @property
    def all_messages(self) -> list[dict[str, Any]]:
        original = self.original
        return ([original] if original is not None else []) + self.followups

    @property
    def deferred(self) -> bool:
        return self.callback_type in (5, 6)

    # -- convenient views -----------------------------------------------------

    @property
    def message(self) -> dict[str, Any] | None:
        """The response message: @original unless it is still a "thinking…" deferral, else the first
        followup."""
        original = self.original
        if original is not None and not (int(original.get("flags") or 0) & FLAG_LOADING):
            return original
        followups = self.followups
        if followups:
            return followups[0]
        return original

    @property
    def content(self) -> str:
        message = self.message
        return str(message.get("content") or "") if message is not None else ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        message = self.message
        return list(message.get("embeds") or []) if message is not None else []

    @property
    def embed(self) -> dict[str, Any] | None:
        embeds = self.embeds
        return embeds[0] if embeds else None

    @property
    def components(self) -> list[dict[str, Any]]:
        message = self.message
        return list(message.get("components") or []) if message is not None else []

    @property
    def custom_ids(self) -> list[str]:
        """Every custom_id in the response message's components (buttons, selects), in order."""
        out: list[str] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for item in items:
                if item.get("custom_id"):
                    out.append(item["custom_id"])
                walk(item.get("components") or [])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        walk(self.components)
        return out

    @property
    def ephemeral(self) -> bool:
        message = self.message
        if message is not None:
            return bool(int(message.get("flags") or 0) & FLAG_EPHEMERAL)
        return bool(int(self.callback_data.get("flags") or 0) & FLAG_EPHEMERAL)

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened (callback type 9): ``{"custom_id", "title", "components"}``."""
        return self.callback_data if self.callback_type == 9 else None

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (callback type 8)."""
        return list(self.callback_data.get("choices") or []) if self.callback_type == 8 else []

    @property
    def files(self) -> list[StoredFile]:
        out: list[StoredFile] = []
        for message in self.all_messages:
            out.extend(self._fake.message_files(message))
        return out

    @property
    def text(self) -> str:
        """Content plus embed titles, descriptions, fields, footers of every response message."""
        return "\n".join(message_text(m) for m in self.all_messages)

    # -- waiting --------------------------------------------------------------

    async def wait_for_response(self, timeout: float | None = None) -> InteractionResult:
        await self._changed.wait_for(
            lambda: True if self.callback is not None else None,
            timeout or self._fake.default_timeout,
            lambda: f"an interaction callback for {self!r}{self._fake.debug_hint()}",
        )
        return self

    async def wait_for_followup(self, n: int = 1, timeout: float | None = None) -> dict[str, Any]:
        """Wait until the bot sent at least ``n`` followups; return the n-th (1-based)."""
        await self._changed.wait_for(
            lambda: True if len(self.followup_ids) >= n else None,
            timeout or self._fake.default_timeout,
            lambda: f"followup #{n} for {self!r}{self._fake.debug_hint()}",
        )
        return self.followups[n - 1]

    async def wait_for_edit(self, n: int = 1, timeout: float | None = None) -> dict[str, Any]:
        """Wait until the @original message was edited ``n`` times; return its current state."""
        await self._changed.wait_for(
            lambda: True if len(self.edits) >= n else None,
            timeout or self._fake.default_timeout,
            lambda: f"edit #{n} of @original for {self!r}{self._fake.debug_hint()}",
        )
        return self.original or {}

    async def wait_for_message(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait until there is a visible response (not just a "thinking…" deferral)."""

        def probe() -> dict[str, Any] | None:
            message = self.message
            if message is None or int(message.get("flags") or 0) & FLAG_LOADING:
                return None
            return message

        return await self._changed.wait_for(
            probe,
            timeout or self._fake.default_timeout,
            lambda: f"a response message for {self!r}{self._fake.debug_hint()}",
        )


def message_text(message: dict[str, Any]) -> str:
    parts: list[str] = [str(message.get("content") or "")]
    for embed in message.get("embeds") or []:
        for key in ("title", "description"):
            if embed.get(key):
                parts.append(str(embed[key]))
        for field_ in embed.get("fields") or []:
            parts.append(f"{field_.get('name', '')}: {field_.get('value', '')}")
        if (embed.get("footer") or {}).get("text"):
            parts.append(str(embed["footer"]["text"]))
        if (embed.get("author") or {}).get("name"):
            parts.append(str(embed["author"]["name"]))
    return "\n".join(p for p in parts if p)
