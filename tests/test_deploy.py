"""The files that run Attaché for real (Dockerfile, deploy/compose.yaml, deploy/attache.service), checked
offline: what they copy exists, the commands they run exist, the process is unprivileged and its data
sits on a volume / state directory. (No image is built here: that needs a registry.)"""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path

from bot.__main__ import build_parser

ROOT = Path(__file__).resolve().parent.parent


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _runs(argv: list[str]) -> None:
    """`argv` is an `attache` command line this code accepts."""
    assert argv[0] == "attache", argv
    build_parser().parse_args(argv[1:])


def test_dockerfile_slim_unprivileged_volume_healthcheck() -> None:
    steps = _dockerfile()
    base = [a for i, a in steps if i == "FROM"]
    assert len(base) == 1 and re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base[0]), base
    for i, args in steps:
        if i == "COPY":
            for src in shlex.split(args)[:-1]:
                assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
    users = [a for i, a in steps if i == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    run = " ".join(a for i, a in steps if i == "RUN")
    assert "useradd" in run and users[-1] in run
    workdirs = [a for i, a in steps if i == "WORKDIR"]
    volumes = [a for i, a in steps if i == "VOLUME"]
    assert workdirs[-1] == "/data" and volumes and "/data" in volumes[-1]  # attache.db lands on the volume
    health = [a for i, a in steps if i == "HEALTHCHECK"]
    assert len(health) == 1
    cmd = health[0].split("CMD", 1)[1].strip()
    _runs(json.loads(cmd))
    entry = json.loads(next(a for i, a in steps if i == "ENTRYPOINT"))
    command = json.loads(next(a for i, a in steps if i == "CMD"))
    _runs(entry + command)
    env = " ".join(a for i, a in steps if i == "ENV")
    assert "ATTACHE_CACHE_DIR=/data" in env  # the gazetteer cache is writable, on the volume
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and "*.db" in ignored and "config.toml" in ignored  # no secrets, no data


def test_compose_example_uses_the_image_volume_and_env_file() -> None:
    text = (ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    assert re.search(r"context:\s*\.\.", text) and (ROOT / "Dockerfile").exists()
    assert re.search(r"-\s*attache-data:/data\b", text)
    assert "env_file: .env" in text and "DISCORD_TOKEN=" not in re.sub(r"#.*", "", text)
    assert "no-new-privileges:true" in text and "read_only: true" in text
    for cmd in re.findall(r"exec attache (attache [^\n]+)", text):
        _runs(shlex.split(cmd.replace("$(date +%F)", "today")))


def test_systemd_unit_is_hardened_and_runs_the_bot() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "attache.service", encoding="utf-8")
    svc = unit["Service"]
    assert svc.get("DynamicUser") == "yes" or svc.get("User") not in (None, "root", "0")
    assert svc["NoNewPrivileges"] == "yes" and svc["ProtectSystem"] == "strict"
    assert svc["ProtectHome"] == "yes" and svc["PrivateTmp"] == "yes"
    assert svc["CapabilityBoundingSet"] == ""
    state = svc["StateDirectory"]
    assert svc["WorkingDirectory"] == f"/var/lib/{state}"  # attache.db lands in the state directory
    assert svc["EnvironmentFile"].startswith("/etc/")  # the token stays out of the unit file
    exec_start = shlex.split(svc["ExecStart"])
    assert exec_start[0].endswith("/attache")
    _runs(["attache", *exec_start[1:]])
    assert "2" in svc["RestartPreventExitStatus"].split()  # a bad token is not retried forever
    assert unit["Install"]["WantedBy"] == "multi-user.target"
