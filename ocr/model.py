"""What flows between stages: recognised words, lines, regions and pages (original pixel space)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Point = tuple[int, int]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1


def bbox(points: tuple[Point, ...] | list[Point]) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of a polygon."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def box_polygon(box: tuple[int, int, int, int]) -> tuple[Point, ...]:
    """The four corners of a box (x0, y0, x1, y1), clockwise from the top left."""
    x0, y0, x1, y1 = box
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def _intersection(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1)."""
    inter = _intersection(a, b)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def cover(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Share of box ``a`` inside box ``b``."""
    area = (a[2] - a[0]) * (a[3] - a[1])
    return _intersection(a, b) / area if area > 0 else 0.0


@dataclass(frozen=True)
class Glyph:
    text: str
    conf: float  # 0..1
    polygon: tuple[Point, ...]


@dataclass(frozen=True)
class Word:
    text: str
    conf: float  # 0..1
    polygon: tuple[Point, ...]
    glyphs: tuple[Glyph, ...] = ()


@dataclass(frozen=True)
class Line:
    id: str
    text: str
    polygon: tuple[Point, ...]
    baseline: tuple[Point, ...] = ()
    conf: float | None = None  # 0..1; None for ground truth
    words: tuple[Word, ...] = ()
    note: str = ""  # why a line is empty (e.g. the recogniser failed on it)


REJECTED_NOTE = "structure {type:rejected;}"  # PAGE custom of a region of lines set aside (not in the text)

STAMP_TEXT = "structure {type:stamp-text;}"  # PAGE custom of a stamp's text region

STAMP_MARKER = "[stamp] "  # the .txt's default mark before a line of stamp text ([output] stamp_marker)


@dataclass(frozen=True)
class Region:
    """A text region. ``production`` follows PAGE: typewritten, handwritten-cursive, ...

    ``kept`` is False for lines the recogniser rejected (noise, handwriting or
    stamps read as garbage): they stay in PAGE XML for review, out of the text.
    """

    id: str
    polygon: tuple[Point, ...]
    lines: tuple[Line, ...]
    production: str | None = "typewritten"
    type: str = "paragraph"
    kept: bool = True
    note: str = ""


@dataclass(frozen=True)
class Graphic:
    """A non-text region, e.g. a stamp (PAGE GraphicRegion)."""

    id: str
    polygon: tuple[Point, ...]
    type: str = "stamp"


@dataclass
class PageResult:
    page_id: str
    image_name: str
    width: int
    height: int
    regions: list[Region]
    border: tuple[int, int, int, int] | None = None
    graphics: list[Graphic] = field(default_factory=list)
    orientation: float = 0.0  # PAGE @orientation: clockwise degrees that correct the skew
    steps: list[str] = field(default_factory=list)
    engines: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    debug_image: Any = None  # numpy image with regions outlined ([layout] debug_image), not serialised

    def kept_lines(self) -> list[Line]:
        """Lines of the transcription in reading order."""
        return [ln for r in self.regions if r.kept for ln in r.lines]

    def text(self, stamp_marker: str = "") -> str:
        """The kept lines in reading order, one a line; each of a stamp's text after ``stamp_marker``."""
        return "\n".join((stamp_marker if STAMP_TEXT in r.note else "") + ln.text
                         for r in self.regions if r.kept for ln in r.lines)
