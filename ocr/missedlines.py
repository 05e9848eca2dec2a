"""Typed lines Tesseract's page layout analysis passed over.

Tesseract's layout analysis drops whole typed lines now and then: the last lines of a letter next to a
signature ("is the complete destruction of the Jewish community in" / "Sofia." on an EHRI page, both
clear), a faint paragraph end at the foot of a page with show-through, a line between a letterhead and
the text. Plain ``tesseract`` loses them too. This step looks for such ink itself: a row of letter-sized
pieces, in the typed text's column and outside every word of the lines Tesseract returned (on a bent
page a line's box reaches over the next row, its words' boxes do not), as long as a word or more
and about as tall as the page's type. Each such row is read alone as a line (``--psm 7``) and kept as a
block of its own when it reads surely, as letters, in type of the page's height.
"""
from __future__ import annotations

import cv2
import numpy as np

from .engines.base import RawLine, RawWord

# a letter's piece against the page's x-height (a worn letter breaks, capitals and ascenders stand taller)
PIECE_HEIGHT = (0.5, 2.6)
MIN_PIECES = 4  # a row of at least this many letter-sized pieces ...
MIN_WIDTH = 4.0  # ... at least this many x-heights long ...
MAX_HEIGHT = 3.2  # ... and at most this many tall (a row of type, not a block of ink)
MIN_CONF = 0.70  # the row read this surely (its words' mean confidence) ...
MIN_LETTERS = 4  # ... with this many letters or digits ...
MAX_NOT_WORD = 0.25  # ... and at most this share of its characters neither letters nor digits nor spaces
HEIGHT_FIT = (0.7, 1.4)  # its words' median height against the page's typed lines'
COLUMN_SHARE = 0.8  # this share of a row's width at least within the typed column
MAX_ROWS = 12  # rows read per page at most (a page of handwriting or a picture is not read piece by piece)


def _rows(ink: np.ndarray, xheight: float) -> list[tuple[int, int, int, int, int]]:
    """Rows of letter-sized ink pieces: boxes (x0, y0, x1, y1) with the number of pieces in each."""
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if n < 2:
        return []
    hts, wds = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    letter = (hts >= PIECE_HEIGHT[0] * xheight) & (hts <= PIECE_HEIGHT[1] * xheight) & (wds <= 3.0 * xheight)
    keep = np.zeros(n, bool)
    keep[1:] = letter
    letters = keep[labels]
    # pieces of a row lie up to a word space apart; a row of type does not join the row above or below
    gap = max(3, int(round(1.6 * xheight)))
    joined = cv2.dilate(letters.astype(np.uint8), np.ones((1, gap), np.uint8))
    m, rlabels, rstats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    # the pieces in each row: the row's label at each letter piece's centre (the dilation covers it)
    cx, cy = (np.round(centroids[1:][letter]).astype(int).T if letter.any() else (np.zeros(0, int),) * 2)
    counts = np.bincount(rlabels[cy, cx], minlength=m)
    rows = [[int(x), int(y), int(x + w), int(y + h), int(counts[i])]
            for i, (x, y, w, h) in enumerate(rstats[:, :4]) if i and h <= MAX_HEIGHT * xheight]
    # pieces of one row the dilation did not join (a word space wider than ``gap``, a mark that is no letter
    # between) are one row: level with each other and a few type widths apart
    rows.sort()
    merged: list[list[int]] = []
    for r in rows:
        for q in merged:
            overlap = min(q[3], r[3]) - max(q[1], r[1])
            if overlap > 0.5 * min(q[3] - q[1], r[3] - r[1]) and r[0] - q[2] <= 4 * xheight:
                q[:] = [min(q[0], r[0]), min(q[1], r[1]), max(q[2], r[2]), max(q[3], r[3]), q[4] + r[4]]
                break
        else:
            merged.append(r)
    return [tuple(r) for r in merged
            if r[4] >= MIN_PIECES and r[2] - r[0] >= MIN_WIDTH * xheight and r[3] - r[1] <= MAX_HEIGHT * xheight]


def find(image: np.ndarray, blocks: list[list[RawLine]], xheight: float | None, read) -> list[RawLine]:
    """Typed lines in ``image`` (grey uint8, the image Tesseract read) that no line of ``blocks`` holds, in
    that image's pixels, top-down.

    ``read(crop, psm) -> list[RawWord]`` reads a cut image in that page segmentation mode (boxes in the
    crop's pixels). Nothing is looked for without an x-height or without typed lines to measure the
    page's type and column by (lines read surely, ``len(text) > 10``)."""
    if not xheight or image.ndim != 2:
        return []
    lines = [ln for b in blocks for ln in b]
    typed = [ln for ln in lines if ln.conf >= 0.85 and len(ln.text) > 10]
    if len(typed) < 3:
        return []
    type_h = float(np.median([np.median([w.box[3] - w.box[1] for w in ln.words]) for ln in typed]))
    col_x0 = min(ln.box[0] for ln in typed) - 2 * xheight
    col_x1 = max(ln.box[2] for ln in typed) + 2 * xheight
    h, w = image.shape
    seen = np.zeros((h, w), bool)
    for ln in lines:  # what Tesseract returned, kept or not, is not read again: its words' ink
        for x0, y0, x1, y1 in (wd.box for wd in ln.words):
            seen[max(0, y0):y1, max(0, x0):x1] = True
    # rows are looked for at half the resolution (a quarter of the pixels; type stays ten pixels tall or more)
    small = cv2.resize(image, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    level, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = (small < level) & ~seen[: 2 * small.shape[0]:2, : 2 * small.shape[1]:2]
    rows = [tuple(2 * v for v in r[:4]) + (r[4],) for r in _rows(ink, xheight / 2)]
    # in the typed column: most of the row within the surely read lines' span (a margin note is not)
    rows = sorted((r for r in rows if min(r[2], col_x1) - max(r[0], col_x0) >= COLUMN_SHARE * (r[2] - r[0])),
                  key=lambda r: -r[4])
    out = []
    m = max(3, int(round(0.6 * xheight)))
    for x0, y0, x1, y1, _ in rows[:MAX_ROWS]:
        cy0, cy1, cx0, cx1 = max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)
        crop = image[cy0:cy1, cx0:cx1].copy()
        crop[seen[cy0:cy1, cx0:cx1]] = 255  # the ink of the lines above and below is not this row's
        words = [wd for wd in read(crop, 7) if wd.text.strip()]
        line = _typed_line(words, type_h, dx=cx0, dy=cy0)
        if line is not None:
            out.append(line)
    return sorted(out, key=lambda ln: (ln.box[1], ln.box[0]))


def _typed_line(words: list[RawWord], type_h: float, dx: int, dy: int) -> RawLine | None:
    """The words read in a row's crop as a line in the page's pixels, when they read as typed text."""
    if not words:
        return None
    text = " ".join(wd.text for wd in words)
    letters = sum(c.isalnum() for c in text)
    other = sum(not (c.isalnum() or c.isspace()) for c in text)
    conf = float(np.mean([wd.conf for wd in words]))
    height = float(np.median([wd.box[3] - wd.box[1] for wd in words]))
    if (conf < MIN_CONF or letters < MIN_LETTERS or other > MAX_NOT_WORD * len(text.replace(" ", ""))
            or not HEIGHT_FIT[0] <= height / type_h <= HEIGHT_FIT[1]):
        return None
    return RawLine.of(RawWord(wd.text, wd.conf, (wd.box[0] + dx, wd.box[1] + dy, wd.box[2] + dx, wd.box[3] + dy))
                      for wd in words)


def add(blocks: list[list[RawLine]], image: np.ndarray, xheight: float | None, read) -> tuple[list, int]:
    """``blocks`` with each line ``find`` finds as a block of its own, and how many were found."""
    found = find(image, blocks, xheight, read)
    return (blocks + [[ln] for ln in found], len(found)) if found else (blocks, 0)
