"""Print pip constraints pinning every direct dependency (and the test extra) to its declared floor.

    python .ci/lowest.py > lowest.txt && pip install -c lowest.txt -e ".[test]"

Each requirement in pyproject.toml must carry a `>=` floor (an exact `==` pin, as for the type
checker, is its own floor); this fails on one that has none, so a floor cannot go undeclared.
Transitive dependencies stay unpinned (pip picks them as usual)."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def floors(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    reqs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        reqs.extend(extra)
    out: list[str] = []
    for req in reqs:
        m = _REQ.match(req.split(";")[0])
        if not m:
            raise SystemExit(f"cannot read requirement {req!r}")
        name, spec = m.group(1), m.group(3)
        floor = re.search(r"(?:>=|==)\s*([0-9][^,\s]*)", spec)
        if not floor:
            raise SystemExit(f"{name}: declare a floor (>=) in pyproject.toml")
        out.append(f"{name}=={floor.group(1)}")
    return out


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.stdout.write("".join(f"{line}\n" for line in floors(root / "pyproject.toml")))
