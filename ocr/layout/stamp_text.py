"""A stamp's text: a round stamp's ring text unwrapped into a straight strip and its centre read apart; any
other stamp turned upright and read as a block.

Round stamps carry their text on an arc between two rings ("ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС") and a few straight
lines in the middle ("АРХИВ", "№ 5734"); read as they stand, the arc gives letters at every angle, which no
line reader reads. The ring is found in the stamp's ink (a Hough circle), the band between 62 % and 97 % of
its radius is unwrapped with ``cv2.warpPolar`` (clockwise, letter tops outward: the way such text is set),
and the strip is cut where the stamp's own ink leaves the widest gap, where its text begins and ends.
"""
from __future__ import annotations

import re

import cv2
import numpy as np

from ..engines.base import RawLine, RawWord
from ..errors import EngineError
from .candidates import ink_mask
from .handwriting import crop_angle, rotate

WORD_CONF = 0.3  # a stamp's word read at least this surely, with two letters or digits, is legible

RING_INNER, RING_OUTER = 0.62, 0.97  # the ring text's band, in radii of the outer ring

CENTRE = 0.6  # the centre text lies within this share of the radius

MIN_RING_INK = 0.6  # a circle is the stamp's ring when its ink goes this far round


def _words(lines) -> list[tuple[str, float]]:
    return [(w.text, w.conf) for ln in lines for w in ln.words
            if w.conf >= WORD_CONF and sum(ch.isalnum() for ch in w.text) >= 2]


def _line(words: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return [(" ".join(t for t, _ in words), float(np.mean([c for _, c in words])))] if words else []


def _read(engine, grey: np.ndarray, psm: int, lang: str | None = None):
    """The lines ``engine`` reads in ``grey`` (in another language than the page's where given); none where it
    cannot read a piece of the page, or that language."""
    read = getattr(engine, "read_lines", None)
    if read is None or min(grey.shape[:2]) < 8:
        return []
    grey = np.ascontiguousarray(grey)
    try:
        if lang is None:
            return read(grey, psm)
        try:
            return read(grey, psm, lang=lang)
        except TypeError:  # an engine whose read_lines takes no language
            return []
    except EngineError:
        return []


# a line shaped like a date whose month did not read as one: read again in Latin letters (a Russian model
# reads the Roman month "VII" as "Ми", "XII" as "ХН")
_DATE_SHAPE = re.compile(r"(?<!\d)\d{1,2}\s*[.\s]\s*\S{1,4}\s*[.\s]\s*(1[89]\d\d|20\d\d)(?!\d)")


def _dates_in_latin(engine, upright: np.ndarray, lines) -> dict[int, str]:
    """Index -> the line read again in Latin letters, for each of ``lines`` (read in ``upright``) that looks
    like a date but gives none."""
    out = {}
    for i, ln in enumerate(lines):
        text = " ".join(w.text for w in ln.words)
        if not _DATE_SHAPE.search(text) or "date" in fields([text]):
            continue
        x0, y0, x1, y1 = ln.box
        piece = upright[max(0, y0 - 4):y1 + 4, max(0, x0 - 4):x1 + 4]
        again = " ".join(w.text for r in _read(engine, piece, 7, lang="eng") for w in r.words)
        if "date" in fields([again]):
            out[i] = again
    return out


def find_ring(grey: np.ndarray) -> tuple[float, float, float] | None:
    """The outer ring (centre x, y and radius in ``grey``'s pixels) of a round stamp cut out with a little
    paper round it, or None where the crop holds no ring inked most of the way round."""
    h, w = grey.shape
    side = min(h, w)
    if side < 40:
        return None
    found = cv2.HoughCircles(cv2.GaussianBlur(grey, (5, 5), 1.5), cv2.HOUGH_GRADIENT, dp=1.5, minDist=side,
                             param1=80, param2=40, minRadius=int(side * 0.3), maxRadius=int(side * 0.55))
    if found is None:
        return None
    cx, cy, r = (float(v) for v in found[0][0])
    ink = ink_mask(grey)
    angles = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    inked = 0
    for a in angles:  # ink within 4 % of the radius of the circle, direction by direction
        rs = r * np.linspace(0.96, 1.04, 5)
        xs = np.clip((cx + rs * np.cos(a)).astype(int), 0, w - 1)
        ys = np.clip((cy + rs * np.sin(a)).astype(int), 0, h - 1)
        inked += bool(ink[ys, xs].any())
    return (cx, cy, r) if inked / len(angles) >= MIN_RING_INK else None


def ring_strip(crop: np.ndarray, ring: tuple[float, float, float]) -> np.ndarray:
    """The ring text of a round stamp (``crop`` grey or BGR) as a straight grey strip, letters upright, cut at
    the widest gap in the stamp's ink (its coloured ink on a colour scan: typing behind the stamp is not
    its text)."""
    cx, cy, r = ring
    n = max(64, int(2 * np.pi * r))  # a pixel of strip per pixel of the outer ring's arc
    polar = cv2.warpPolar(crop, (int(r * 1.1), n), (cx, cy), r * 1.1, cv2.WARP_POLAR_LINEAR + cv2.INTER_LINEAR)
    band = polar[:, int(r * RING_INNER):int(r * RING_OUTER)]  # rows: clockwise angle; columns: radius
    strip = cv2.rotate(band, cv2.ROTATE_90_COUNTERCLOCKWISE)  # columns: angle; rows: radius, outer at the top
    grey = cv2.cvtColor(strip, cv2.COLOR_BGR2GRAY) if strip.ndim == 3 else strip
    ink = ink_mask(grey) > 0
    if strip.ndim == 3:
        lab = cv2.cvtColor(strip, cv2.COLOR_BGR2Lab).astype(np.float32)
        coloured = ink & (np.hypot(lab[:, :, 1] - 128, lab[:, :, 2] - 128) > 14)
        if coloured.sum() > 0.3 * max(1, ink.sum()):  # a coloured stamp: its own ink says where its text is
            ink = coloured
    # the rings the band touches are long horizontal lines in the strip: not text
    rows = ink.shape[0]
    rings = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, max(9, rows)), np.uint8))
    ink &= ~cv2.dilate(rings, np.ones((3, 3), np.uint8)).astype(bool)
    empty = np.concatenate([ink.sum(axis=0) < 2] * 2)  # twice round: a gap may span the cut at angle 0
    best_len = best_end = run = 0
    for i, e in enumerate(empty):
        run = run + 1 if e else 0
        if run > best_len:
            best_len, best_end = run, i
    start = (best_end - best_len // 2) % grey.shape[1]
    return np.roll(grey, -start, axis=1)


def read_stamp(image: np.ndarray, box: tuple[int, int, int, int], engine) -> tuple[list[tuple[str, float]], list[str]]:
    """The legible text of the stamp in ``box`` of the page ``image`` (grey or BGR) as lines of (text, mean
    word confidence): a round stamp's ring text, then its centre; any other stamp's lines turned upright.
    Second, every line as read, unsure words too, for its registry ``fields`` (a date's pattern is check
    enough: "17 XII 1955" is often read at under the legibility threshold). None where the engine cannot
    read a piece of the page."""
    h, w = image.shape[:2]
    m = 6
    x0, y0, x1, y1 = max(0, box[0] - m), max(0, box[1] - m), min(w, box[2] + m), min(h, box[3] + m)
    crop = image[y0:y1, x0:x1]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    if grey.size == 0:
        return [], []
    paper = int(np.percentile(grey, 90))
    ring = find_ring(grey)
    parts = []  # (lines read, one line of them all?) per piece
    if ring is None:
        upright = rotate(grey, crop_angle(grey), paper)[0]
        lines = _read(engine, upright, 6)
        for i, text in _dates_in_latin(engine, upright, lines).items():  # the date read in Latin, as one word
            ln = lines[i]
            lines[i] = RawLine((RawWord(text, max(w.conf for w in ln.words), ln.box),), ln.box)
        parts.append((lines, False))
    else:
        cx, cy, r = ring
        parts.append((_read(engine, ring_strip(crop, ring), 6), True))
        c = int(r * CENTRE)
        centre = grey[max(0, int(cy) - c):int(cy) + c, max(0, int(cx) - c):int(cx) + c]
        parts.append((_read(engine, rotate(centre, crop_angle(centre), paper)[0], 6), False))
    out, raw = [], []
    for lines, joined in parts:
        raw += [" ".join(wd.text for wd in ln.words) for ln in lines]
        out += _line(_words(lines)) if joined else [t for ln in lines for t in _line(_words([ln]))]
    return out, raw


ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11,
         "XII": 12}

# what a reader gives for the Latin letters of a Roman month: Cyrillic look-alikes, a digit one for I, П or Н for
# II, Ш for III
_ROMAN_LOOKALIKE = str.maketrans({"Х": "X", "х": "X", "x": "X", "І": "I", "і": "I", "i": "I", "1": "I", "l": "I",
                                  "|": "I", "П": "II", "Н": "II", "Ш": "III", "У": "V", "v": "V"})

_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[.\s]\s*([IVXivxlХхІіПНШУ1|]{1,4}|\d{1,2})\s*[.\s]\s*(1[89]\d\d|20\d\d)(?!\d)")
_NUMBER = re.compile(r"№\s*(\d{2,7})|^\s*(\d{3,7})\s*$")
_YEAR = re.compile(r"^(1[89]\d\d|20\d\d)$")


def fields(texts: list[str]) -> dict[str, str]:
    """A stamp's registry fields from its lines: ``number`` (after "№", or a line that is only a number, not
    one that looks like a year) and ``date`` as ISO 8601 ("17 XII 1955", "17.12.1955" -> "1955-12-17");
    only those found."""
    out: dict[str, str] = {}
    for t in texts:
        m = _DATE.search(t)
        if m and "date" not in out:
            day, month, year = int(m.group(1)), m.group(2), int(m.group(3))
            month_n = int(month) if month.isdigit() else ROMAN.get(month.translate(_ROMAN_LOOKALIKE), 0)
            if 1 <= day <= 31 and 1 <= month_n <= 12:
                out["date"] = f"{year:04d}-{month_n:02d}-{day:02d}"
                t = t[:m.start()] + t[m.end():]
        m = _NUMBER.search(t)
        if m and "number" not in out and not (m.group(2) and _YEAR.match(m.group(2))):
            out["number"] = m.group(1) or m.group(2)
    return out
