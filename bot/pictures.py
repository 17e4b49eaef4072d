"""Pictures: PNG images of what a table of numbers says less well (the findtime grid, the library's chart
and map, the agreements timeline), drawn off the event loop and cached until the data they show changes.

The contract:
- `PictureService.render(kind, guild_id, data, draw)` returns a `Picture` (PNG bytes, size, alt text).
  `draw(kit, data)` runs on the service's one worker thread, never on the event loop; Pillow is imported
  there, on first use (the bot starts without it: start time and memory stay as they were until the first
  picture).
- The cache key is (kind, guild_id) and the version is a digest of `data`: the plain values the picture
  shows (frozen dataclasses, tuples, numbers, text; "today" and "now" included where the picture marks
  them). The same data gives the cached image at once; any change in what is shown draws a new one. Concurrent
  requests for the same version share one drawing. At most `cache_size` pictures are kept (least recently
  used dropped first).
- Every picture is a PNG at most MAX_WIDTH pixels wide on an opaque light background (readable in Discord's
  light and dark themes), its text in the bundled DejaVu Sans (data/fonts: accented Latin, French, Spanish
  and more), and carries alt text (sent as the attachment's description, see bot.ui.picture_file).
- Drawing helpers live on `Kit` (fonts, palette, text fitting, PNG encoding); a feature's drawing module
  (cogs/<feature>/pictures.py) is pure: no discord import, no SQL, no I/O but the bundled data files.

No discord import here (a pure kernel module)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bot import DATA_DIR

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

MAX_WIDTH = 1600
ALT_MAX = 1024  # Discord's limit on an attachment's description
FONT_DIR = DATA_DIR / "fonts"

Colour = tuple[int, int, int]
# One palette for every picture: dark ink on an opaque white card; accents that keep their meaning
# for the common colour-vision deficiencies (blue / orange, never red against green alone).
BACKGROUND: Colour = (255, 255, 255)
INK: Colour = (33, 37, 41)
MUTED: Colour = (108, 117, 125)
RULE: Colour = (222, 226, 230)
ACCENT: Colour = (31, 119, 180)  # blue
ACCENT_SOFT: Colour = (174, 199, 232)
WARN: Colour = (214, 96, 20)  # orange: gaps, deadlines
WARN_SOFT: Colour = (253, 208, 162)
GOOD: Colour = (44, 160, 44)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Picture:
    png: bytes
    width: int
    height: int
    alt: str
    filename: str


def data_version(data: object) -> str:
    """A digest of what a picture shows: equal data, equal version (reprs of plain values and frozen
    dataclasses are deterministic)."""
    return hashlib.blake2b(repr(data).encode("utf-8"), digest_size=16).hexdigest()


class Kit:
    """Fonts, palette and the PNG writer, for drawing functions (used on the worker thread only)."""

    def __init__(self) -> None:
        self._fonts: dict[tuple[int, bool], ImageFont.FreeTypeFont] = {}
        self._memo: dict[str, Any] = {}

    def font(self, size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        key = (size, bold)
        f = self._fonts.get(key)
        if f is None:
            from PIL import ImageFont

            name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
            f = self._fonts[key] = ImageFont.truetype(str(FONT_DIR / name), size)
        return f

    def memo(self, key: str, factory: Callable[[], T]) -> T:
        """Something drawn or loaded once per process (a base map), reused by every later picture."""
        if key not in self._memo:
            self._memo[key] = factory()
        value: T = self._memo[key]
        return value

    def canvas(self, width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        from PIL import Image, ImageDraw

        if width > MAX_WIDTH:
            raise ValueError(f"pictures are at most {MAX_WIDTH} px wide, not {width}")
        img = Image.new("RGB", (width, height), BACKGROUND)
        return img, ImageDraw.Draw(img)

    def text_width(self, text: str, size: int, *, bold: bool = False) -> float:
        return float(self.font(size, bold=bold).getlength(text))

    def fit(self, text: str, size: int, width: float, *, bold: bool = False) -> str:
        """The text, clipped with an ellipsis to fit `width` pixels."""
        text = " ".join(text.split())
        if self.text_width(text, size, bold=bold) <= width:
            return text
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.text_width(text[:mid].rstrip() + "…", size, bold=bold) <= width:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo].rstrip() + "…"

    def text(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, *, size: int = 14,
             fill: Colour = INK, bold: bool = False, anchor: str = "la", width: float | None = None) -> None:
        if width is not None:
            text = self.fit(text, size, width, bold=bold)
        draw.text(xy, text, font=self.font(size, bold=bold), fill=fill, anchor=anchor)

    def png(self, img: Image.Image, *, alt: str, filename: str) -> Picture:
        # zlib level 1: flat colours compress well already (about 100 KB for a 1400x800 picture), and it
        # is the fastest encoding measured (a 256-colour palette halves the bytes but doubles the time).
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=1)
        alt = " ".join(alt.split())
        if len(alt) > ALT_MAX:
            alt = alt[: ALT_MAX - 1].rstrip() + "…"
        return Picture(buf.getvalue(), img.width, img.height, alt, filename)


Draw = Callable[[Kit, T], Picture]


class PictureService:
    """Renders pictures on one worker thread and caches each until its data changes (see the top)."""

    def __init__(self, *, cache_size: int = 256, workers: int = 1) -> None:
        self.cache_size = cache_size
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._kit: Kit | None = None
        self._cache: OrderedDict[Hashable, tuple[str, Picture]] = OrderedDict()
        self._pending: dict[tuple[Hashable, str], asyncio.Future[Picture]] = {}
        self.drawn = 0  # pictures drawn (not served from the cache): tests and benchmarks read it

    def _run(self, draw: Draw[T], data: T) -> Picture:
        if self._kit is None:
            self._kit = Kit()
        return draw(self._kit, data)

    def draw_now(self, draw: Draw[T], data: T) -> Picture:
        """Draw on the calling thread, bypassing the cache (benchmarks: the bare cost of a drawing)."""
        return self._run(draw, data)

    def cached(self, kind: str, guild_id: int, data: object) -> Picture | None:
        hit = self._cache.get((kind, guild_id))
        return hit[1] if hit is not None and hit[0] == data_version(data) else None

    async def render(self, kind: str, guild_id: int, data: T, draw: Draw[T]) -> Picture:
        key: Hashable = (kind, guild_id)
        version = data_version(data)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == version:
            self._cache.move_to_end(key)
            return hit[1]
        pending = self._pending.get((key, version))
        if pending is not None:
            return await asyncio.shield(pending)
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="pictures")
        future: asyncio.Future[Picture] = loop.run_in_executor(self._executor, self._run, draw, data)
        self._pending[(key, version)] = future
        try:
            picture = await asyncio.shield(future)
        finally:
            self._pending.pop((key, version), None)
        self.drawn += 1
        self._cache[key] = (version, picture)
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return picture

    def clear(self) -> None:
        """Forget every cached picture (benchmarks: measure drawing, not the cache)."""
        self._cache.clear()

    def forget_guild(self, guild_id: int) -> None:
        for key in [k for k in self._cache if isinstance(k, tuple) and k[1] == guild_id]:
            del self._cache[key]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
