"""The library's pictures for `/practice stats`: a chart (practices by topic, by SDG and by region, the gaps
the text names highlighted) and a world map of the cities with approved practices and adoptions (dots sized
by count) on the bundled Natural Earth 1:110m base map (data/naturalearth, public domain).

Pure: drawing functions of plain data (bot/pictures.py runs them off the event loop); no discord import,
no SQL. The base map is read and drawn once per process (Kit.memo) and copied for each picture."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import DATA_DIR
from bot.i18n import format_number
from bot.pictures import (
    ACCENT,
    ACCENT_SOFT,
    INK,
    MUTED,
    RULE,
    WARN,
    WARN_SOFT,
    Kit,
    Picture,
)
from cogs.practices.records import MapPoint

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

LAND_FILE = DATA_DIR / "naturalearth" / "land-110m.json"
CHART_FILE = "library-chart.png"
MAP_FILE = "library-map.png"
MAP_WIDTH = 1400
LAT_TOP, LAT_BOTTOM = 84.0, -58.0  # the inhabited world; Antarctica and the Arctic ocean cropped
OCEAN = (236, 243, 250)
LAND = (214, 219, 226)


@dataclass(frozen=True, slots=True)
class ChartData:
    title: str
    subtitle: str
    panels: tuple[tuple[str, tuple[tuple[str, int, bool], ...]], ...]  # (heading, (label, count, is a gap))
    gap_note: str
    alt: str
    gap_label: str = "gap"  # drawn beside a gap's empty bar (the reader's word for it)
    lang: str = "en"  # the reader's language: how the counts are written (1,234 / 1 234)


@dataclass(frozen=True, slots=True)
class MapData:
    title: str
    subtitle: str
    practices: tuple[MapPoint, ...]
    adoptions: tuple[MapPoint, ...]
    legend: tuple[str, str]
    alt: str


def draw_chart(kit: Kit, c: ChartData) -> Picture:
    margin, gap, bar_h, row_h = 20, 28, 16, 24
    panel_w = 440
    width = 2 * margin + len(c.panels) * panel_w + (len(c.panels) - 1) * gap
    rows = max((len(items) for _h, items in c.panels), default=1)
    top = 96
    height = top + rows * row_h + 56
    img, d = kit.canvas(width, height)
    kit.text(d, (margin, 14), c.title, size=22, bold=True, width=width - 2 * margin)
    kit.text(d, (margin, 46), c.subtitle, size=14, fill=MUTED, width=width - 2 * margin)
    label_w = 150
    for p, (heading, items) in enumerate(c.panels):
        x = margin + p * (panel_w + gap)
        kit.text(d, (x, top - 26), heading, size=15, bold=True)
        most = max((n for _l, n, _g in items), default=0) or 1
        bar_w = panel_w - label_w - 50
        for i, (label, n, is_gap) in enumerate(items):
            y = top + i * row_h
            colour = WARN if is_gap else INK
            kit.text(d, (x, y + bar_h / 2), label, size=13, fill=colour, bold=is_gap, anchor="lm",
                     width=label_w - 8)
            bx = x + label_w
            d.rectangle([bx, y, bx + bar_w, y + bar_h], fill=(246, 247, 249))
            if n:
                d.rectangle([bx, y, bx + max(2.0, bar_w * n / most), y + bar_h], fill=ACCENT)
            elif is_gap:
                d.rectangle([bx, y, bx + bar_w, y + bar_h], fill=WARN_SOFT, outline=WARN)
            count = format_number(c.lang, n) if n or not is_gap else c.gap_label
            kit.text(d, (bx + bar_w + 6, y + bar_h / 2), count, size=12, fill=WARN if is_gap else MUTED,
                     bold=is_gap, anchor="lm")
    if c.gap_note:
        d.rectangle([margin, height - 36, margin + 18, height - 22], fill=WARN_SOFT, outline=WARN)
        kit.text(d, (margin + 26, height - 29), c.gap_note, size=13, fill=INK, anchor="lm",
                 width=width - 2 * margin - 26)
    return kit.png(img, alt=c.alt, filename=CHART_FILE)


def _project(lon: float, lat: float, width: int, height: int) -> tuple[float, float]:
    x = (lon + 180.0) / 360.0 * width
    y = (LAT_TOP - lat) / (LAT_TOP - LAT_BOTTOM) * height
    return x, y


def map_height(width: int = MAP_WIDTH) -> int:
    return round(width * (LAT_TOP - LAT_BOTTOM) / 360.0)


def base_map(width: int, height: int) -> Image.Image:
    """The land on the ocean, drawn once per size from data/naturalearth/land-110m.json."""
    from PIL import Image, ImageDraw

    rings = json.loads(LAND_FILE.read_text(encoding="utf-8"))["rings"]
    img = Image.new("RGB", (width, height), OCEAN)
    d = ImageDraw.Draw(img)
    for ring in rings:
        pts = [_project(ring[i] / 10, ring[i + 1] / 10, width, height) for i in range(0, len(ring), 2)]
        d.polygon(pts, fill=LAND)
    for lat in (-30, 0, 30, 60):  # a few parallels, to read latitude at a glance
        y = _project(0, lat, width, height)[1]
        d.line([(0, y), (width, y)], fill=(225, 232, 240))
    return img


def _radius(n: int, most: int) -> float:
    return 3.0 + 15.0 * math.sqrt(n / most) if most else 3.0


def _dots(d: ImageDraw.ImageDraw, points: tuple[MapPoint, ...], ox: float, oy: float, w: int, h: int,
          *, fill: tuple[int, int, int] | None, outline: tuple[int, int, int], width: int) -> None:
    most = max((p.count for p in points), default=0)
    for p in sorted(points, key=lambda q: -q.count):  # big first, so small dots stay visible on top
        x, y = _project(p.longitude, p.latitude, w, h)
        if not (0 <= y <= h):
            continue
        r = _radius(p.count, most)
        d.ellipse([ox + x - r, oy + y - r, ox + x + r, oy + y + r], fill=fill, outline=outline, width=width)


def draw_map(kit: Kit, m: MapData) -> Picture:
    margin, top = 20, 76
    w, h = MAP_WIDTH, map_height()
    width, height = w + 2 * margin, top + h + 48
    img, d = kit.canvas(width, height)
    kit.text(d, (margin, 14), m.title, size=22, bold=True, width=width - 2 * margin)
    kit.text(d, (margin, 46), m.subtitle, size=14, fill=MUTED, width=width - 2 * margin)
    img.paste(kit.memo(f"base-map:{w}x{h}", lambda: base_map(w, h)), (margin, top))
    d.rectangle([margin, top, margin + w - 1, top + h - 1], outline=RULE)
    _dots(d, m.practices, margin, top, w, h, fill=ACCENT_SOFT, outline=ACCENT, width=2)
    _dots(d, m.adoptions, margin, top, w, h, fill=None, outline=WARN, width=3)
    ly = top + h + 24
    d.ellipse([margin, ly - 8, margin + 16, ly + 8], fill=ACCENT_SOFT, outline=ACCENT, width=2)
    kit.text(d, (margin + 24, ly), m.legend[0], size=13, anchor="lm")
    lx = margin + 24 + kit.text_width(m.legend[0], 13) + 30
    d.ellipse([lx, ly - 8, lx + 16, ly + 8], outline=WARN, width=3)
    kit.text(d, (lx + 24, ly), m.legend[1], size=13, anchor="lm")
    return kit.png(img, alt=m.alt, filename=MAP_FILE)
