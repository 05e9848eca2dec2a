"""Page numbers Tesseract's page layout analysis passed over.

Typists number the pages of a letter "- 2 -", alone and centred above (or below) the text. Tesseract's
layout analysis often drops such a short line of dashes and a digit as noise: on the real EHRI
typescripts 27 of the 35 page numbers the ground truth has were in no line it returned. This step
looks for that ink itself: in the top and bottom tenths of the page, centred, apart from every line
Tesseract returned but short ones (it reads "- 3 -" as "3s"), a row of ink shaped "- N -" (digit-sized
pieces, a dash level with their middle on either side). Its digits are read on their own and the line
is kept as "- N -" when they read as a number of one to three digits.
"""
from __future__ import annotations

import re

import cv2
import numpy as np

from ..engines.base import RawLine, RawWord

DARK_ROW = 0.5  # a row of the band this much ink across is a dark edge's
MIN_DIGIT_CONF = 0.3  # the number read at least this surely (Tesseract's word confidence; its shape is known)
NOT_DIGITS = "-–—~_.,:;'\"‘’“”()|"  # what Tesseract reads around or for the dashes
# the digits' height against the page's x-height: typewriter digits stand about 1.4 x-heights tall
DIGIT_HEIGHT = (0.9, 2.6)


PAGE_NUMBER = re.compile(r"^([-–—~_.,:;'\"‘’“”«»()<>|\s]{0,4})(\d{1,3})([-–—~_.,:;'\"‘’“”«»()<>|\s]{0,4})$")
PAGE_NUMBER_BAND = 0.1  # a page number stands in the top or bottom tenth of the page ...
PAGE_NUMBER_CENTRE = (0.3, 0.7)  # ... centred between these shares of its width


def page_number_match(text: str, box: tuple[int, int, int, int], size: tuple[int, int] | None) -> re.Match | None:
    """The match of ``PAGE_NUMBER`` when a line of ``text`` at ``box`` is a page number: a number of one to
    three digits with only dashes and punctuation about it, centred in the top or bottom tenth of the
    page (``size`` = width, height, in the box's pixels)."""
    m = PAGE_NUMBER.match(text.strip())
    if m is None or size is None:
        return None
    w, h = size
    x0, y0, x1, _ = box
    cx = (x0 + x1) / 2 / max(w, 1)
    if not PAGE_NUMBER_CENTRE[0] <= cx <= PAGE_NUMBER_CENTRE[1] or PAGE_NUMBER_BAND * h < y0 < (1 - PAGE_NUMBER_BAND) * h:
        return None
    return m


def page_number(ln: RawLine, size: tuple[int, int] | None) -> RawLine | None:
    """The line as a page number ("- 3 -", "7") when it is one (``page_number_match``). Typists number
    pages "- 3 -"; Tesseract reads the short line unsurely ("~ 2)", "-— 4 -", "- 3.") and the line
    decision would reject it for too few letters or too little confidence. The text is written
    "- N -" when a dash stands on either side, else "N"."""
    m = page_number_match(ln.text, ln.box, size)
    if m is None:
        return None
    x0, y0, x1, y1 = ln.box
    conf = ln.conf
    if not any(c in "-–—~" for c in m.group(1) + m.group(3)):
        return RawLine((RawWord(m.group(2), conf, ln.box),), ln.box)
    third = max(1, (x1 - x0) // 3)
    return RawLine((RawWord("-", conf, (x0, y0, x0 + third, y1)),
                    RawWord(m.group(2), conf, (x0 + third, y0, x1 - third, y1)),
                    RawWord("-", conf, (x1 - third, y0, x1, y1))), ln.box)


def _clusters(ink: np.ndarray, xheight: float) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of ink pieces joined along a row: a page number's dashes and digits lie
    up to about two type widths apart ("- 12 -")."""
    gap = max(3, int(round(2.2 * xheight)))
    joined = cv2.dilate(ink.astype(np.uint8), np.ones((max(1, int(xheight // 4)), gap), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        out.append((x, y, x + w, y + h))
    return out


def find(image: np.ndarray, blocks: list[list[RawLine]], xheight: float | None, read) -> RawLine | None:
    """The page number in ``image`` (grey uint8, the image Tesseract read) that no line of ``blocks`` holds,
    as a line in that image's pixels, or None.

    ``read(crop, psm) -> list[RawWord]`` reads a cut image in that page segmentation mode (boxes in the
    crop's pixels). Nothing is looked for in a band where a returned line already is a page number
    (``page_number_match``), nor without an x-height (no text found)."""
    if not xheight or image.ndim != 2:
        return None
    h, w = image.shape
    size = (w, h)
    lines = [ln for b in blocks for ln in b]
    # per returned page number: whether it is the top band's
    numbered = [ln.box[1] < h / 2 for ln in lines if page_number_match(ln.text, ln.box, size)]
    band = int(PAGE_NUMBER_BAND * h)
    x_lo, x_hi = int(PAGE_NUMBER_CENTRE[0] * w), int(PAGE_NUMBER_CENTRE[1] * w)
    # the page's own ink/paper threshold: a band of bare paper and one number has no two tones to split
    level, _ = cv2.threshold(image[::2, ::2], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    found = []
    for y_lo, y_hi in ((0, band), (h - band, h)):
        if (y_lo == 0) in numbered:  # a line Tesseract returned is this band's page number
            continue
        part = image[y_lo:y_hi, x_lo:x_hi]
        if part.size == 0:
            continue
        ink = part < level
        # the rows of a dark scanner edge across the band (and a few pixels of its blur) are not the number's
        dark = np.flatnonzero(ink.mean(axis=1) > DARK_ROW)
        for y in dark:
            ink[max(0, y - 3):y + 4] = False
        if ink.mean() > 0.2:  # a picture, not paper with a few marks
            continue
        for ln in lines:  # what Tesseract read is not looked at again, but for short lines (it read "- 3 -" "3s")
            x0, y0, x1, y1 = ln.box
            if x1 - x0 <= 12 * xheight and len(ln.text) <= 6:
                continue
            ink[max(0, y0 - y_lo - 2):max(0, y1 - y_lo + 2), max(0, x0 - x_lo - 2):max(0, x1 - x_lo + 2)] = False
        for cx0, cy0, cx1, cy1 in _clusters(ink, xheight):
            ch, cw = cy1 - cy0, cx1 - cx0
            if not DIGIT_HEIGHT[0] * xheight <= ch <= DIGIT_HEIGHT[1] * xheight or cw > 12 * xheight:
                continue
            mid = (cx0 + cx1) / 2 + x_lo
            if not PAGE_NUMBER_CENTRE[0] * w <= mid <= PAGE_NUMBER_CENTRE[1] * w:
                continue
            found.append((cx0 + x_lo, cy0 + y_lo, cx1 + x_lo, cy1 + y_lo))
    for box in found:
        number = _read_number(image, ink_level=level, box=box, xheight=xheight, read=read)
        if number is not None:
            return number
    return None


def add(blocks: list[list[RawLine]], image: np.ndarray, xheight: float | None, read) -> tuple[list, bool]:
    """``blocks`` with the page number ``find`` finds as a block of its own (first when it stands at the
    top, last at the bottom), short lines it was read into ("3s" for "- 3 -") dropped; and whether one
    was found."""
    number = find(image, blocks, xheight, read)
    if number is None:
        return blocks, False
    x0, y0, x1, y1 = number.box

    def inside(ln):
        return ln.box[0] < x1 and ln.box[2] > x0 and ln.box[1] < y1 and ln.box[3] > y0

    kept = [[ln for ln in b if not inside(ln)] for b in blocks]
    kept = [b for b in kept if b]
    return ([[number]] + kept if y0 < image.shape[0] / 2 else kept + [[number]]), True


def _parts(ink: np.ndarray, xheight: float) -> tuple[list, list] | None:
    """A cluster's dashes and digits, ``(dashes, digits)`` as boxes, when it has the shape of "- N -": one to
    four digit-sized pieces side by side (a worn digit breaks in two), a dash level with their middle
    on either side; else None. Specks are left out."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    digits, flat = [], []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if w < 0.5 * xheight and h < 0.5 * xheight:  # a speck
            continue
        box = (x, y, x + w, y + h)
        if DIGIT_HEIGHT[0] * xheight <= h <= DIGIT_HEIGHT[1] * xheight:
            digits.append(box)
        elif h <= 0.6 * xheight and w >= 1.5 * h and w <= 2.5 * xheight:
            flat.append(box)
        else:
            return None
    if not 1 <= len(digits) <= 4:
        return None
    digits.sort()
    if any(b[0] - a[2] > xheight for a, b in zip(digits, digits[1:], strict=False)):
        return None
    top, bottom = min(b[1] for b in digits), max(b[3] for b in digits)
    level = [b for b in flat if top + 0.2 * (bottom - top) <= (b[1] + b[3]) / 2 <= bottom - 0.1 * (bottom - top)]
    left = [b for b in level if b[2] <= digits[0][0]]
    right = [b for b in level if b[0] >= digits[-1][2]]
    if len(left) != 1 or len(right) != 1 or len(level) != len(flat):
        return None
    return [left[0], right[0]], digits


def _read_number(image, ink_level, box, xheight, read) -> RawLine | None:
    """The cluster at ``box`` read as "- N -", or None when it has not that shape or its digits do not read
    as a number."""
    x0, y0, x1, y1 = box
    parts = _parts(image[y0:y1, x0:x1] < ink_level, xheight)
    if parts is None:
        return None
    (left, right), digits = parts
    dx0, dy0 = x0 + min(b[0] for b in digits), y0 + min(b[1] for b in digits)
    dx1, dy1 = x0 + max(b[2] for b in digits), y0 + max(b[3] for b in digits)
    h, w = image.shape
    m = max(2, int(xheight * 0.6))

    def cut(a0, b0, a1, b1):
        return image[max(0, b0 - m):min(h, b1 + m), max(0, a0 - m):min(w, a1 + m)]

    # Tesseract's line model reads a lone digit badly ("ae" for a clear "3"): the digits as one word, then
    # the whole "- N -" as a line, then the digits as a line; the first reading that is a number is taken
    for crop, psm in ((cut(dx0, dy0, dx1, dy1), 8), (cut(x0, y0, x1, y1), 7), (cut(dx0, dy0, dx1, dy1), 7)):
        words = [wd for wd in read(crop, psm) if wd.text.strip()]
        text = "".join(c for wd in words for c in wd.text if c not in NOT_DIGITS)
        conf = min((wd.conf for wd in words), default=0.0)
        if text.isdigit() and len(text) <= min(3, 2 * len(digits)) and conf >= MIN_DIGIT_CONF:
            break
    else:
        return None

    def shifted(b):
        return (b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0)

    line = (RawWord("-", conf, shifted(left)), RawWord(text, conf, (dx0, dy0, dx1, dy1)),
            RawWord("-", conf, shifted(right)))
    return RawLine(line, (line[0].box[0], dy0, line[2].box[2], dy1))
