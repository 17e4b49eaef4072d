"""Who may do what, end to end through the fake Discord: roles that can't be chosen, the verified
role that must be safe to hand out and follows the claim, and rights checked when a form or button
is USED (not only when it opens)."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.sandbox.emulation import InteractionResult, Member, Perm, Role
from tests.e2e import World, directory_service, practice_service
from tests.test_permission_matrix import (
    MOD,
    REFUSAL,
    custom_ids,
    db_path,
    db_snapshot,
    share_practice,
    snapshot_diff,
)

# Each permission a handed-out role must not carry, with the name the refusal uses.
ELEVATED = {
    "administrator": "Administrator",
    "manage_guild": "Manage Server",
    "manage_roles": "Manage Roles",
    "manage_channels": "Manage Channels",
    "manage_messages": "Manage Messages",
    "manage_webhooks": "Manage Webhooks",
    "manage_events": "Manage Events",
    "ban_members": "Ban Members",
    "kick_members": "Kick Members",
    "moderate_members": "Moderate Members",
    "mention_everyone": "Mention Everyone",
}


def _bit(flag: str) -> int:
    return discord.Permissions(**{flag: True}).value


async def _setting(w: World, key: str) -> Any:
    return (await w.bot.settings.get(w.guild.id)).get(key)


def _owner(w: World) -> Member:
    owner = w.guild.get_member(w.guild.owner_id)
    assert owner is not None
    return owner


def _refused(res: InteractionResult, *words: str) -> None:
    assert res.modal is None, res.modal
    assert res.ephemeral, res.text
    for word in words:
        assert word.casefold() in res.text.casefold(), (word, res.text)


# -- /settings moderator-role ------------------------------------------------------------------
async def test_moderator_role_refuses_everyone_and_managed_roles(started_bot: World) -> None:
    w = started_bot
    g, fake = w.guild, w.fake
    integration = g.add_role("Some integration", managed=True)
    for role, why in ((g.everyone, "@everyone"), (integration, "managed")):
        res = await fake.invoke(g, w.admin, "settings moderator-role", {"role": role})
        _refused(res, why, "unchanged")
        assert await _setting(w, "moderator_role_id") == w.moderators.id
    # a role given by hand is accepted
    curators = g.add_role("Curators", permissions=0, position=1)
    res = await fake.invoke(g, w.admin, "settings moderator-role", {"role": curators})
    assert "Moderator role set" in res.text, res.text
    assert await _setting(w, "moderator_role_id") == curators.id
    assert fake.violations == [] and fake.unhandled == []


# -- /directory verified-role ------------------------------------------------------------------
async def test_verified_role_refuses_unsafe_roles(started_bot: World) -> None:
    w = started_bot
    g, fake = w.guild, w.fake
    cases: list[tuple[Member, Role, str]] = []
    for flag, label in ELEVATED.items():
        cases.append((w.admin, g.add_role(f"Reps with {flag}", permissions=_bit(flag), position=1), label))
    cases.append((w.admin, g.everyone, "@everyone"))
    cases.append((w.admin, g.add_role("Bot-managed", managed=True, position=1), "managed"))
    # w.admin's highest role is "Server managers" (position 2): a plain role above it is refused
    cases.append((w.admin, g.add_role("Above the admin", permissions=0, position=5), "your highest role"))
    # the server owner outranks every role, but not the bot's role (position 250)
    cases.append((_owner(w), g.add_role("Above the bot", permissions=0, position=251), "my highest role"))
    for actor, role, why in cases:
        res = await fake.invoke(g, actor, "directory verified-role", {"role": role})
        _refused(res, why, "unchanged")
        assert await _setting(w, "verified_role_id") is None, role.name
    # a plain role below both is accepted
    reps = g.add_role("City representatives", permissions=0, position=1)
    res = await fake.invoke(g, w.admin, "directory verified-role", {"role": reps})
    assert "will get" in res.text, res.text
    assert await _setting(w, "verified_role_id") == reps.id
    assert fake.violations == [] and fake.unhandled == []


async def _verified_role_world(w: World) -> Role:
    reps = w.guild.add_role("City representatives", permissions=0, position=1)
    res = await w.fake.invoke(w.guild, w.admin, "directory verified-role", {"role": reps})
    assert "will get" in res.text, res.text
    return reps


async def _claim(w: World, member: Member, city: str) -> None:
    res = await w.fake.invoke(w.guild, member, "profile set", {"city": city})
    assert "Profile saved" in res.text, res.text


async def _verify(w: World, member: Member, *, withdraw: bool = False) -> InteractionResult:
    return await w.fake.invoke(w.guild, w.mod, "profile verify", {"member": member, "withdraw": withdraw})


async def test_verification_rechecks_the_role_before_granting(started_bot: World) -> None:
    w = started_bot
    reps = await _verified_role_world(w)
    await _claim(w, w.alice, "Seoul")
    await _claim(w, w.bob, "Paris")
    res = await _verify(w, w.alice)
    assert "is verified" in res.text and "given" in res.text, res.text
    assert reps in w.alice.roles
    # someone gives the role Administrator after it was chosen
    w.guild.edit_role(reps, permissions=Perm.ADMINISTRATOR)
    path = db_path(w)
    before = db_snapshot(path, full=False)
    res = await _verify(w, w.bob)
    _refused(res, "Administrator", "Nothing was changed")
    assert snapshot_diff(before, db_snapshot(path, full=False)) == []
    assert reps not in w.bob.roles
    profile = await directory_service(w.bot).get_profile(w.guild.id, w.bob.id)
    assert profile is not None and not profile.verified
    assert w.fake.violations == [] and w.fake.unhandled == []


async def test_verified_role_is_removed_when_verification_is_withdrawn(started_bot: World) -> None:
    w = started_bot
    reps = await _verified_role_world(w)
    await _claim(w, w.alice, "Seoul")
    await _verify(w, w.alice)
    assert reps in w.alice.roles
    res = await _verify(w, w.alice, withdraw=True)
    assert "no longer verified" in res.text and "removed" in res.text, res.text
    assert reps not in w.alice.roles


async def test_verified_role_is_removed_when_the_member_changes_city(started_bot: World) -> None:
    w = started_bot
    reps = await _verified_role_world(w)
    await _claim(w, w.alice, "Seoul")
    await _verify(w, w.alice)
    assert reps in w.alice.roles
    res = await w.fake.invoke(w.guild, w.alice, "profile set", {"city": "Paris"})
    assert "Profile saved" in res.text and "removed" in res.text, res.text
    assert reps not in w.alice.roles
    profile = await directory_service(w.bot).get_profile(w.guild.id, w.alice.id)
    assert profile is not None and not profile.verified and profile.city is not None
    assert profile.city.name == "Paris"
    # a title change keeps the claim and the role
    await _verify(w, w.alice)
    res = await w.fake.invoke(w.guild, w.alice, "profile set", {"title": "Deputy mayor"})
    assert "Profile saved" in res.text, res.text
    assert reps in w.alice.roles


async def test_verified_role_is_removed_when_the_profile_is_cleared(started_bot: World) -> None:
    w = started_bot
    reps = await _verified_role_world(w)
    await _claim(w, w.alice, "Seoul")
    await _verify(w, w.alice)
    assert reps in w.alice.roles
    res = await w.fake.invoke(w.guild, w.alice, "profile clear")
    assert "deleted" in res.text and "removed" in res.text, res.text
    assert reps not in w.alice.roles


async def test_city_change_without_manage_roles_keeps_the_change_and_says_so(started_bot: World) -> None:
    w = started_bot
    reps = await _verified_role_world(w)
    await _claim(w, w.alice, "Seoul")
    await _verify(w, w.alice)
    assert reps in w.alice.roles
    w.guild.set_bot_permissions(Perm.BOT_DEFAULT & ~Perm.MANAGE_ROLES)
    res = await w.fake.invoke(w.guild, w.alice, "profile set", {"city": "Paris"})
    assert res.ephemeral and "Profile saved" in res.text, res.text
    assert "could not remove" in res.text and "Manage Roles" in res.text, res.text
    profile = await directory_service(w.bot).get_profile(w.guild.id, w.alice.id)
    assert profile is not None and profile.city is not None and profile.city.name == "Paris"
    assert not profile.verified


# -- rights checked when used ------------------------------------------------------------------
async def _review_card(w: World, pid: int) -> dict[str, Any]:
    return await w.fake.wait_for_message(
        w.reviews, lambda m: any(f"pr:rv:{pid}:" in c for c in custom_ids(m))
    )


def _button(card: dict[str, Any], pid: int, act: str) -> str:
    return next(c for c in custom_ids(card) if c.startswith(f"pr:rv:{pid}:") and c.endswith(f":{act}"))


async def test_review_button_and_reason_form_refused_after_the_role_was_removed(started_bot: World) -> None:
    w = started_bot
    g, fake = w.guild, w.fake
    pid = await share_practice(w, w.alice, "Rain gardens on every corner")
    card = await _review_card(w, pid)
    opened = await fake.click(g, w.mod, card, _button(card, pid, "rj"))  # the reason form opens
    assert opened.modal is not None, opened.text
    g.remove_member_role(w.mod, w.moderators)
    path = db_path(w)
    before = db_snapshot(path)
    res = await fake.submit_modal(g, w.mod, opened, {"answer": "Not a fit for the library."})
    _refused(res)
    assert REFUSAL[MOD].search(res.text), res.text
    for act in ("ap", "ch", "rj"):
        res = await fake.click(g, w.mod, card, _button(card, pid, act))
        _refused(res)
        assert REFUSAL[MOD].search(res.text), (act, res.text)
    assert snapshot_diff(before, db_snapshot(path)) == []
    assert (await practice_service(w.bot).get(g.id, pid)).status == "pending"
    assert fake.violations == [] and fake.unhandled == []


async def test_queue_buttons_refused_after_the_role_was_removed(started_bot: World) -> None:
    w = started_bot
    g, fake = w.guild, w.fake
    pid = await share_practice(w, w.alice, "Night buses for shift workers")
    queue = await fake.invoke(g, w.mod, "practice queue")
    assert "Approve" in str(queue.components), queue.text
    g.remove_member_role(w.mod, w.moderators)
    path = db_path(w)
    before = db_snapshot(path)
    approve = next(c["custom_id"] for row in queue.components for c in row["components"]
                   if c.get("label") == "Approve")
    res = await fake.click(g, w.mod, queue, approve)
    _refused(res)
    assert REFUSAL[MOD].search(res.text), res.text
    assert snapshot_diff(before, db_snapshot(path)) == []
    assert (await practice_service(w.bot).get(g.id, pid)).status == "pending"


@pytest.mark.parametrize("lost", ["role", "ownership"])
async def test_edit_form_refused_after_the_right_was_lost(started_bot: World, lost: str) -> None:
    """A moderator's edit form (open up to 30 minutes) submitted after the role was removed; the
    submitter's form submitted after the practice was approved (a submitter edits only until then)."""
    w = started_bot
    g, fake = w.guild, w.fake
    pid = await share_practice(w, w.alice, "Shade trees on school routes")
    editor = w.mod if lost == "role" else w.alice
    if lost == "role":
        res = await fake.invoke(g, w.mod, "practice approve", {"id": pid})
        assert "approved" in res.text.casefold(), res.text
    opened = await fake.invoke(g, editor, "practice edit", {"id": pid})
    assert opened.modal is not None, opened.text
    if lost == "role":
        g.remove_member_role(w.mod, w.moderators)
    else:
        res = await fake.invoke(g, w.mod, "practice approve", {"id": pid})
        assert "approved" in res.text.casefold(), res.text
    path = db_path(w)
    before = db_snapshot(path)
    res = await fake.submit_modal(g, editor, opened, {"title": "Hijacked title"})
    _refused(res)
    assert snapshot_diff(before, db_snapshot(path)) == []
    assert (await practice_service(w.bot).get(g.id, pid)).title == "Shade trees on school routes"
    assert fake.violations == [] and fake.unhandled == []


# -- the fake computes channel permissions like Discord (the premise of the channel-only tests) --------
async def test_fake_interactions_carry_channel_computed_permissions(started_bot: World) -> None:
    w = started_bot
    g, fake = w.guild, w.fake
    room = g.add_text_channel("reading-room")
    readers = g.add_role("Readers", permissions=0, position=1)
    g.add_member_role(w.bob, readers)
    assert g.bot_role is not None
    g.set_overwrite(room, g.everyone, deny=Perm.SEND_MESSAGES)
    g.set_overwrite(room, readers, allow=Perm.SEND_MESSAGES | Perm.MANAGE_MESSAGES)
    g.set_overwrite(room, w.carol, allow=Perm.MANAGE_MESSAGES)
    g.set_overwrite(room, w.dave, deny=Perm.VIEW_CHANNEL)
    g.set_overwrite(room, g.bot_role, deny=Perm.EMBED_LINKS)

    async def perms(member: Member) -> tuple[int, int]:
        res = await fake.invoke(g, member, "profile show", channel=room)
        return int(res.payload["member"]["permissions"]), int(res.payload["app_permissions"])

    alice, app = await perms(w.alice)
    assert not alice & Perm.SEND_MESSAGES and alice & Perm.VIEW_CHANNEL  # @everyone's deny
    assert (
        not app & Perm.EMBED_LINKS and not app & Perm.SEND_MESSAGES and app & Perm.MANAGE_ROLES
    )  # the bot too
    bob, _ = await perms(w.bob)
    assert bob & Perm.SEND_MESSAGES and bob & Perm.MANAGE_MESSAGES  # a role allow beats @everyone's deny
    carol, _ = await perms(w.carol)
    assert carol & Perm.MANAGE_MESSAGES and not carol & Perm.SEND_MESSAGES  # a member allow
    assert (await perms(w.dave))[0] == 0  # no View Channel, nothing
    owner, _ = await perms(_owner(w))
    assert owner == Perm.ALL
    # elsewhere they are plain members; discord.py sees the same overwrites on the channel
    assert not int((await fake.invoke(g, w.carol, "profile show", channel=w.general)).payload["member"][
        "permissions"]) & Perm.MANAGE_MESSAGES
    cached = w.bot.get_channel(room.id)
    assert isinstance(cached, discord.TextChannel)
    assert cached.overwrites_for(discord.Object(id=readers.id)).manage_messages is True
    assert cached.overwrites_for(discord.Object(id=g.id)).send_messages is False
