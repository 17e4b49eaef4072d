"""A loopback fake of Discord (REST + gateway) for end-to-end tests through discord.py's own code.

Quick start::

    async def test_ping(fake_discord):            # fixture from tests.fakediscord_fixtures
        guild = fake_discord.add_guild(name="Cities")
        alice = guild.add_member(name="alice")
        async with run_bot(fake_discord, make_bot()):   # any discord.Client / commands.Bot
            await fake_discord.wait_commands_synced()
            res = await fake_discord.invoke(guild, alice, "ping")
            assert res.content == "pong" and res.ephemeral
        fake_discord.assert_clean()                # no limit breaches, no unknown routes

``run_bot`` is ``asyncio.create_task(bot.start(token))`` + ``fake.wait_ready()`` +
``bot.wait_until_ready()`` and a clean close; it also shortens two waits discord.py keeps for
the real Discord (2 s ``guild_ready_timeout``, 5 s sleep before a re-IDENTIFY).

``FakeDiscord.install()`` (done by ``async with FakeDiscord()`` and by the fixture) points
``discord.http.Route.BASE`` at the fake and also ``DiscordWebSocket.DEFAULT_GATEWAY``: a plain
``Client`` never asks ``GET /gateway/bot``, it connects straight to the default gateway URL.

Behaviours worth knowing:

* Bodies are checked against Discord's limits (``limits.py``); breaches land in
  ``fake.violations`` and the request still succeeds, unless ``FakeDiscord(strict=True)``
  (then 400/50035 like Discord). Unknown routes answer 404 and land in ``fake.unhandled``.
  ``fake.assert_clean()`` fails on either.
* Like Discord, GUILD_CREATE carries only the bot's own member unless the bot has the
  GUILD_PRESENCES intent; with GUILD_MEMBERS discord.py then chunks (op 8) and gets every member.
  Gateway events are filtered by the intents of the IDENTIFY.
* Interaction payloads carry the acting member with permissions, so commands work without the
  members intent. Channels have permission overwrites (``guild.set_overwrite(channel, role_or_member,
  allow=, deny=)``); like Discord, ``member.permissions`` and ``app_permissions`` of an interaction
  are computed in its channel with them, and channel payloads carry ``permission_overwrites``.
  Roles change with ``guild.add_member_role`` / ``remove_member_role``: the next interaction
  carries the member's current roles. Ephemeral responses are kept on the ``InteractionResult`` but are not
  channel
  messages. An acknowledgement later than ``ack_deadline`` (3 s) is recorded as a violation.
* Languages: ``invoke``, ``click``, ``select``, ``submit_modal`` and ``autocomplete`` take
  ``locale=`` (the member's Discord client language, default ``en-US``); ``guild.preferred_locale``
  (set before the bot connects, or ``guild.set_preferred_locale("fr")`` for a GUILD_UPDATE) is the
  server's. Synced commands are checked with their ``*_localizations`` (known locales, each text within
  its field's limit, and the 4,000-character total counted with each field's longest localization).
* ``fake.on_interaction_callback = hook`` calls ``hook(result, body)`` when an interaction
  callback (deferral, reply, modal…) is accepted, before the bot gets the answer: a test can
  look at the database at the moment the bot acknowledged.
* Sharding like Discord: ``FakeDiscord(shards=n, max_concurrency=m)`` is what ``GET /gateway/bot``
  recommends and allows; a client IDENTIFYing with ``[shard_id, shard_count]`` gets, on that session, only
  the guilds with ``(guild_id >> 22) % shard_count == shard_id`` and their events (DMs on shard 0).
  ``fake.shard_of(guild)`` says which; ``wait_ready``/``sync_gateway`` wait for every shard.
* ``fake.on_message = hook`` calls ``hook(message)`` for each new channel or DM message (benchmarks).
* ``wait_for_message`` returns the first matching message already there or yet to come; pass
  ``after=fake.mark()`` to only look at new ones.
* ``fake.change_listeners`` are called after every change the fake records (the sandbox page refreshes
  from them). An interaction token works for followups and edits for ``fake.token_lifetime`` (15 min, as
  on Discord); later ones answer 401/50027 and are recorded as violations.
"""

from .harness import run_bot
from .limits import (
    check_choices,
    check_commands,
    check_components,
    check_embeds,
    check_interaction_callback,
    check_message_limits,
    check_modal,
)
from .models import Channel, Guild, Member, Overwrite, Perm, Role, User
from .results import InteractionResult, StoredFile
from .server import FakeDiscord, RecordedRequest
from .waiting import FakeDiscordTimeout

__all__ = [
    "Channel",
    "FakeDiscord",
    "FakeDiscordTimeout",
    "Guild",
    "InteractionResult",
    "Member",
    "Overwrite",
    "Perm",
    "RecordedRequest",
    "Role",
    "StoredFile",
    "User",
    "check_choices",
    "check_commands",
    "check_components",
    "check_embeds",
    "check_interaction_callback",
    "check_message_limits",
    "check_modal",
    "run_bot",
]
