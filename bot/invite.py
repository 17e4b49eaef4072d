"""The bot's invite link: the OAuth2 URL with exactly the permissions the features use.

`PERMISSIONS` is the one list of what Attaché asks a server for, each with the reason it is needed (the
README's "Inviting the bot" table says the same). The integer sent to Discord is computed from
`discord.Permissions`, never typed by hand. `attache invite` prints the URL (bot/__main__.py)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

import discord

OAUTH_URL = "https://discord.com/oauth2/authorize"
SCOPES = ("bot", "applications.commands")

# (discord.Permissions flag, why Attaché needs it). Nothing else: no Administrator, no privileged intent.
PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("view_channel", "see the channels it posts in (announcements, review, the welcome message)"),
    ("send_messages", "post review cards, announcements, reminders and the weekly MOU digest"),
    ("send_messages_in_threads", "answer in the discussion thread of an approved practice"),
    ("create_public_threads", "open a discussion thread under each announced practice"),
    ("embed_links", "show cards (practices, roundtables, agreements) as embeds"),
    ("attach_files", "send .ics calendars and CSV exports"),
    ("read_message_history", "start a thread from its own announcement (Discord needs the message read)"),
    ("manage_events", "mirror roundtables in the server's Events tab (optional: else no mirror)"),
    ("manage_roles", "grant the verified-representative role (optional: /directory verified-role)"),
)


def required_permissions() -> discord.Permissions:
    """The permissions of `PERMISSIONS` as a `discord.Permissions` value."""
    return discord.Permissions(**dict.fromkeys((flag for flag, _ in PERMISSIONS), True))


def client_id_from_token(token: str) -> int | None:
    """A bot token's first segment is the application's (bot user's) id in base64; None when it isn't."""
    first = token.strip().split(".", 1)[0]
    if not first:
        return None
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() and 0 < int(decoded) < 2**64 else None


def invite_url(client_id: int, *, guild_id: int | None = None) -> str:
    """The OAuth2 URL that adds the bot with `SCOPES` and `required_permissions()`; `guild_id` preselects
    a server in Discord's dialog."""
    query: dict[str, str] = {
        "client_id": str(client_id),
        "scope": " ".join(SCOPES),
        "permissions": str(required_permissions().value),
    }
    if guild_id is not None:
        query["guild_id"] = str(guild_id)
        query["disable_guild_select"] = "true"
    return f"{OAUTH_URL}?{urlencode(query)}"
