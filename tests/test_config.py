from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_and_relative_db_path(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ""))
    assert cfg.database_path == (tmp_path / "attache.db").resolve()
    assert cfg.sync_commands == "global"
    assert cfg.log_level == "INFO"
    assert cfg.default_timezone == "UTC"
    assert cfg.sync_guild_id is None


def test_full_config(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, """
database_path = "data/bot.db"
sync_commands = "123456789012345678"
log_level = "debug"
default_timezone = "Europe/Paris"
[scheduler]
batch_size = 100
"""))
    assert cfg.database_path == (tmp_path / "data/bot.db").resolve()
    assert cfg.sync_guild_id == 123456789012345678
    assert cfg.log_level == "DEBUG"
    assert cfg.default_timezone == "Europe/Paris"
    assert cfg.scheduler.batch_size == 100


def test_config_is_immutable(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ""))
    with pytest.raises(AttributeError):
        cfg.log_level = "DEBUG"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 'blue'", "colour"),
        ("sync_commands = 'sometimes'", "sync_commands"),
        ("sync_commands = '12'", "sync_commands"),
        ("log_level = 'LOUD'", "log_level"),
        ("default_timezone = 'Mars/Olympus'", "default_timezone"),
        ("database_path = ''", "database_path"),
        ("token = 5", "token"),
        ("[scheduler]\nbatch_size = 0", "scheduler.batch_size"),
        ("[scheduler]\nspeed = 3", "scheduler.speed"),
        ("[scheduler]\nmax_attempts = true", "scheduler.max_attempts"),
        ("[web]\nlisten = '8080'\npublic_url = 'https://a.example'", "web.listen"),
        ("[web]\nlisten = '127.0.0.1:99999'\npublic_url = 'https://a.example'", "web.listen"),
        ("[web]\nlisten = '127.0.0.1:8080'", "web.public_url"),
        ("[web]\nlisten = '127.0.0.1:8080'\npublic_url = 'webcal://a.example'", "web.public_url"),
        ("[web]\nlisten = '127.0.0.1:8080'\npublic_url = 'https://a.example/?x=1'", "web.public_url"),
        ("[web]\nport = 8080", "web.port"),
        ("web = 1", "web"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert str(err.value).startswith(key + ":")


def test_unreadable_or_invalid_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "this is = = not toml"))
    p = tmp_path / "binary.toml"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError):
        load_config(p)


def test_token_env_wins_and_is_not_in_repr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(write(tmp_path, "token = 'from-file-secret'"))
    assert "from-file-secret" not in repr(cfg)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert cfg.resolve_token() == "from-file-secret"
    monkeypatch.setenv("DISCORD_TOKEN", "from-env")
    assert cfg.resolve_token() == "from-env"


def test_example_config_is_valid(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    cfg = load_config(example)
    assert cfg.sync_commands == "global"


def test_web_section_turns_feeds_on(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")).web is None
    cfg = load_config(write(tmp_path, """
[web]
listen = "127.0.0.1:8080"
public_url = "https://attache.example.org/feeds/"
"""))
    assert cfg.web is not None
    assert (cfg.web.host, cfg.web.port, cfg.web.public_url) == ("127.0.0.1", 8080,
                                                               "https://attache.example.org/feeds")
    ipv6 = load_config(write(tmp_path, "[web]\nlisten = '[::1]:8080'\npublic_url = 'https://a.example'")).web
    assert ipv6 is not None and ipv6.host == "::1"
