"""The lines of a run's PAGE XML as the review sees them: their kind, outline, machine and reviewed
readings, how much each needs a human look, and the crop of the page image that shows one."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
from lxml import etree

from ..errors import InputError, MemoOcrError
from ..formats.readers import parse_points, region_kind

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"


STATUSES = ("corrected", "illegible", "unclear")


KINDS = ("typewritten", "handwritten", "stamp", "other")


TAG = "memo-ocr review"
# PAGE custom of a reviewed line whose Word and Glyph elements keep the machine reading
WORDS_MACHINE = "review {words:machine;}"


_COMMENT = re.compile(r"^memo-ocr review: (?P<body>.*)$")


PARSER = etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=True)


class ReviewError(MemoOcrError):
    """A review request that cannot be carried out (unknown line, bad status, unreadable page)."""

    exit_code = 2


class NotFound(ReviewError):
    """No such reel, page or line (the web app answers 404)."""


def qname(tag: str) -> str:
    return f"{{{PAGE_NS}}}{tag}"


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class LineItem:
    """One text line of a page, as the queue shows it."""

    reel: str
    page: str
    line: str
    kind: str
    region_type: str
    conf: float | None
    machine: str
    alternatives: list[str]
    box: tuple[int, int, int, int]
    poly: list[tuple[int, int]] = field(default_factory=list)
    error: str = ""
    kept: bool = True
    correction: str | None = None
    status: str = ""  # "" (not reviewed), corrected, illegible, unclear
    rev: int = 0
    who: str = ""
    at: str = ""
    need: float = 0.0

    def to_json(self) -> dict:
        d = asdict(self)
        d["box"] = list(self.box)
        d["poly"] = [list(p) for p in self.poly]
        return d


@dataclass
class ReviewPage:
    reel: str
    page_id: str
    xml: Path
    run_dir: Path
    source: str = ""
    image_name: str = ""  # PAGE imageFilename, read with the lines
    frame: int | None = None
    mtime: float = -1.0
    lines: list[LineItem] = field(default_factory=list)


def find_runs(root: Path) -> dict[str, Path]:
    """Reel name -> run folder: ROOT itself when it holds PAGE XML, else each sub-folder that does."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: no such folder (give the -o folder of a finished 'memo-ocr run')")
    if any(root.glob("*.page.xml")):
        return {root.resolve().name: root}
    runs = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and any(p.glob("*.page.xml"))}
    if not runs:
        raise InputError(f"{root}: no *.page.xml here or in its sub-folders (not a memo-ocr run folder)")
    return runs


def kind_of(region: etree._Element) -> str:
    kind = region_kind(region)
    return "other" if kind == "unknown" else kind


def polygon_of(line: etree._Element) -> list[tuple[int, int]]:
    c = line.find(qname("Coords"))
    return list(parse_points(c.get("points") if c is not None else ""))


def box_of(pts: list[tuple[int, int]]) -> tuple[int, int, int, int]:
    if not pts:
        return (0, 0, 0, 0)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs) + 1, max(ys) + 1)


def line_image(img: np.ndarray, poly: list[tuple[int, int]], pad: float = 0.15) -> np.ndarray:
    """The line cut out of the page, upright: a four-point polygon (top-left, top-right, bottom-right,
    bottom-left in reading direction, as memo-ocr writes lines, also of notes written up a margin) is
    mapped onto a rectangle; any other polygon gives its bounding box."""
    if len(poly) == 4:
        p0, p1, _, p3 = (np.asarray(p, np.float32) for p in poly)
        w, h = float(np.linalg.norm(p1 - p0)), float(np.linalg.norm(p3 - p0))
        if w >= 2 and h >= 2:
            m = pad * h
            ux, uy = (p1 - p0) / w, (p3 - p0) / h
            src = np.float32([p0 - m * ux - m * uy, p1 + m * ux - m * uy, p3 - m * ux + m * uy])
            W, H = int(round(w + 2 * m)), int(round(h + 2 * m))
            dst = np.float32([[0, 0], [W, 0], [0, H]])
            fill = int(np.percentile(img, 90)) if img.ndim == 2 else (255, 255, 255)
            return cv2.warpAffine(img, cv2.getAffineTransform(src, dst), (W, H), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    x0, y0, x1, y1 = box_of(poly)
    m = int(pad * max(1, y1 - y0))
    H, W = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0 - m), max(0, y0 - m), min(W, x1 + m), min(H, y1 + m)
    if x1 <= x0 or y1 <= y0:
        raise ReviewError("the line's polygon lies outside the page image")
    return img[y0:y1, x0:x1].copy()


def parse_comment(s: str | None) -> dict[str, str] | None:
    m = _COMMENT.match(s or "")
    if not m:
        return None
    out = {}
    for part in m.group("body").split("; "):
        k, _, v = part.partition("=")
        out[k.strip()] = v
    return out


def unicode_of(te: etree._Element) -> str:
    u = te.find(qname("Unicode"))
    return (u.text or "") if u is not None else ""


def split_equivs(line: etree._Element) -> tuple[etree._Element | None, list[etree._Element]]:
    """(the review's TextEquiv or None, the machine's TextEquivs in index order)."""
    ours, machine = None, []
    for te in line.findall(qname("TextEquiv")):
        if parse_comment(te.get("comments")) is not None:
            ours = te
        else:
            machine.append(te)
    machine.sort(key=lambda te: int(te.get("index") or 1))
    return ours, machine


def need_of(item: LineItem) -> float:
    """How much a line needs a human: errors and marked lines first, then handwriting, stamps, low confidence."""
    conf = item.conf if item.conf is not None else 0.0
    need = 1.0 - conf
    if item.error:
        need += 2.0
    if item.status in ("illegible", "unclear"):
        need += 1.5
    if item.kind == "handwritten":
        need += 1.0
    elif item.kind == "stamp":
        need += 0.6
    if not item.kept:
        need -= 0.5
    return round(need, 4)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def not_xml(text: str) -> str:
    """The first character of ``text`` XML 1.0 cannot carry, as "U+0001"; "" when there is none."""
    m = _NOT_XML.search(text)
    return f"U+{ord(m.group()):04X}" if m else ""


def clean_text(s: str) -> str:
    return re.sub(r"[;=\n]", " ", s)[:80]
