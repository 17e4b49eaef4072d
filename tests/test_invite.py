"""`attache invite`: the OAuth2 URL with exactly the permissions the features need."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord

from bot.invite import PERMISSIONS, SCOPES, client_id_from_token, invite_url, required_permissions
from tests.test_cli import cli

ROOT = Path(__file__).resolve().parent.parent
APP_ID = 1234567890123456789


def _token(app_id: int) -> str:
    first = base64.b64encode(str(app_id).encode()).decode().rstrip("=")
    return f"{first}.GhIjKl.{'x' * 38}"


def test_client_id_is_read_from_the_token() -> None:
    assert client_id_from_token(_token(APP_ID)) == APP_ID
    assert client_id_from_token(_token(42)) == 42
    for bad in ("", "not-a-token", "!!!.x.y", base64.b64encode(b"abc").decode() + ".x.y"):
        assert client_id_from_token(bad) is None


def test_url_has_the_scopes_and_exactly_the_listed_permissions() -> None:
    query = parse_qs(urlsplit(invite_url(APP_ID)).query)
    assert query["client_id"] == [str(APP_ID)]
    assert query["scope"] == [" ".join(SCOPES)] == ["bot applications.commands"]
    perms = discord.Permissions(int(query["permissions"][0]))
    granted = {flag for flag, value in perms if value}
    # view_channel is discord.py's alias of read_messages
    wanted = {"read_messages" if flag == "view_channel" else flag for flag, _ in PERMISSIONS}
    assert granted == wanted
    assert not perms.administrator and not perms.manage_guild and not perms.mention_everyone
    assert perms.value == required_permissions().value
    assert all(len(why) > 10 for _, why in PERMISSIONS)  # each one says why
    guild = parse_qs(urlsplit(invite_url(APP_ID, guild_id=77)).query)
    assert guild["guild_id"] == ["77"] and guild["disable_guild_select"] == ["true"]


def test_cli_prints_the_url(tmp_path: Path) -> None:
    r = cli(tmp_path, "invite", env={"DISCORD_TOKEN": _token(APP_ID)})
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip()
    assert url.startswith("https://discord.com/oauth2/authorize?") and f"client_id={APP_ID}" in url
    assert f"permissions={required_permissions().value}" in url
    r = cli(tmp_path, "invite", "--client-id", "42", "--explain")
    assert r.returncode == 0 and "client_id=42" in r.stdout
    assert "manage events" in r.stderr and "why" in r.stderr
    r = cli(tmp_path, "invite")  # no token, no --client-id
    assert r.returncode == 2 and "--client-id" in r.stderr
    r = cli(tmp_path, "invite", env={"DISCORD_TOKEN": "garbage"})
    assert r.returncode == 2 and "--client-id" in r.stderr
    r = cli(tmp_path, "invite", "--client-id", "abc")
    assert r.returncode == 2 and "Application ID" in r.stderr


def test_readme_explains_every_permission() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for flag, _ in PERMISSIONS:
        label = flag.replace("_", " ").title().replace("View Channel", "View Channels")
        assert label.lower() in readme.lower(), label
    assert "attache invite" in readme
