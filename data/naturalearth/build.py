"""Rebuild land-110m.json from a Natural Earth 1:110m shapefile (run by hand; the bot never imports this).

    python data/naturalearth/build.py path/to/ne_110m_admin_0_countries.shp data/naturalearth/land-110m.json

Reads the polygon rings of the shapefile (ESRI shape type 5, parsed here with `struct`: no GIS package),
simplifies each ring (Douglas-Peucker, 0.2 degree tolerance), drops rings smaller than 0.5 square degree,
and writes the rings as flat integer lists of tenths of a degree: [lon0, lat0, lon1, lat1, ...].
Every country polygon is filled in the same colour by the map, so together they draw the land."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

TOLERANCE = 0.2
MIN_AREA = 0.5

Point = tuple[float, float]


def read_rings(shp: Path) -> list[list[Point]]:
    data = shp.read_bytes()
    pos = 100  # the file header
    rings: list[list[Point]] = []
    while pos < len(data):
        _num, length = struct.unpack(">ii", data[pos:pos + 8])
        rec = data[pos + 8:pos + 8 + length * 2]
        pos += 8 + length * 2
        (shape_type,) = struct.unpack("<i", rec[:4])
        if shape_type != 5:
            continue
        num_parts, num_points = struct.unpack("<ii", rec[36:44])
        parts = list(struct.unpack(f"<{num_parts}i", rec[44:44 + 4 * num_parts]))
        base = 44 + 4 * num_parts
        pts = [struct.unpack("<dd", rec[base + 16 * i:base + 16 * i + 16]) for i in range(num_points)]
        for i, start in enumerate(parts):
            end = parts[i + 1] if i + 1 < num_parts else num_points
            rings.append([(x, y) for x, y in pts[start:end]])
    return rings


def simplify(points: list[Point], tol: float) -> list[Point]:
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        norm = (dx * dx + dy * dy) ** 0.5
        best, idx = 0.0, -1
        for i in range(a + 1, b):
            px, py = points[i]
            d = (abs(dy * px - dx * py + bx * ay - by * ax) / norm if norm
                 else ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5)
            if d > best:
                best, idx = d, i
        if idx >= 0 and best > tol:
            keep[idx] = True
            stack += [(a, idx), (idx, b)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def area(points: list[Point]) -> float:
    pairs = zip(points, points[1:] + points[:1], strict=True)
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairs)) / 2


def main(src: str, dst: str) -> None:
    out: list[list[int]] = []
    for ring in read_rings(Path(src)):
        if area(ring) < MIN_AREA:
            continue
        simple = simplify(ring, TOLERANCE)
        if len(simple) >= 4:
            out.append([round(v * 10) for p in simple for v in p])
    doc = {
        "source": "Natural Earth 1:110m Cultural Vectors, Admin 0 - Countries, version 4.1.0 "
                  "(naturalearthdata.com), public domain; simplified by data/naturalearth/build.py",
        "unit": "0.1 degree, [lon, lat, lon, lat, ...] per ring",
        "rings": out,
    }
    Path(dst).write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(out)} rings, {sum(len(r) // 2 for r in out)} points")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
