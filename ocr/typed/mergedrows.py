"""Typed lines Tesseract read two rows into one.

On a page whose lines bend or lie close, Tesseract's layout analysis now and then takes two typed rows for
one line: the line's box is two rows tall, its first words are tall boxes over both rows read as junk
("Bae ee ug surrounding country ..." for "pletely lacking, although the surrounding country ...", the
row under it, "pecially apples.", lost). Plain ``tesseract`` reads them so too. This step finds such
lines — 1.6 times the page's type height or more, a word in them as much taller than the type whose ink
is letter-sized pieces (not a signature's or a stamp's strokes crossing the line), read unsurely — and
reads the band of the line again on its own as a block of text (``--psm 6``). The rows of that reading
that are type-sized, read surely and not a row Tesseract already returned as another line replace the
line where they read surer than it and keep nine tenths of its letters.
"""
from __future__ import annotations

import numpy as np

from ..engines.base import RawLine, RawWord
from ..model import cover
from ..preprocess import ink_pieces

TALL_LINE = 1.6  # a line this many type heights tall ...
TALL_WORD = 1.6  # ... with a word this many type heights tall ...
PIECE_HEIGHT = 2.0  # ... whose ink is in pieces at most this many type heights tall (rows of letters, touching
# where the rows lie close; a signature's or a stamp's strokes across a typed line are taller) ...
LINE_CONF = 0.9  # ... read below this mean confidence is a candidate
ROW_CONF = 0.6  # a row of the new reading is kept read this surely (mean confidence) ...
ROW_HEIGHT = (0.6, 1.5)  # ... with its words' median height within these shares of the page's type
GAIN = 0.05  # the kept rows replace the line when they read this much surer (letter-weighted) ...
KEEP_LETTERS = 0.9  # ... and have this share of its letters at least
MAX_LINES = 8  # lines read again per page at most
DUPLICATE = 0.5  # a row this share of whose words lie in other lines' words is one Tesseract returned
MARGIN = (8, 4)  # the band cut with this much more than the line's box (x, y)


def _letters(words) -> int:
    return sum(sum(c.isalnum() for c in w.text) for w in words)


def _conf(words) -> float:
    """The words' mean confidence, weighted by their letters and digits."""
    n = _letters(words)
    return sum(w.conf * _letters((w,)) for w in words) / n if n else 0.0


def _rows(words: list[RawWord], type_h: float) -> list[list[RawWord]]:
    """Words grouped into rows by their vertical centres (within half a type height)."""
    rows: list[tuple[float, list[RawWord]]] = []
    for w in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        c = (w.box[1] + w.box[3]) / 2
        if rows and abs(c - rows[-1][0]) < 0.5 * type_h:
            ws = rows[-1][1] + [w]
            rows[-1] = (float(np.mean([(x.box[1] + x.box[3]) / 2 for x in ws])), ws)
        else:
            rows.append((c, [w]))
    return [sorted(ws, key=lambda w: w.box[0]) for _, ws in rows]


def type_height(blocks: list[list[RawLine]]) -> float | None:
    """The page's type height: the median of its lines' (four words or more) median word heights."""
    hs = [float(np.median([w.box[3] - w.box[1] for w in ln.words])) for b in blocks for ln in b if len(ln.words) >= 4]
    return float(np.median(hs)) if hs else None


def type_ink(image: np.ndarray, box: tuple[int, int, int, int], type_h: float) -> bool:
    """Whether the ink in ``box`` is in pieces no taller than type (``PIECE_HEIGHT`` type heights): two rows
    of letters, not a signature's or a stamp's strokes crossing a line."""
    x0, y0, x1, y1 = (max(0, v) for v in box)
    crop = image[y0:y1, x0:x1]
    if crop.size == 0 or min(crop.shape) < 2:
        return False
    pieces = ink_pieces(crop)
    return len(pieces) == 0 or int(pieces[:, 3].max()) <= PIECE_HEIGHT * type_h


def candidate(ln: RawLine, type_h: float, image: np.ndarray | None = None) -> bool:
    """Whether ``ln`` looks read two rows into one: tall, a word in it taller than type (in ``image``, where
    given, with ink in letter-sized pieces only), read unsurely."""
    tall = [w for w in ln.words if w.box[3] - w.box[1] > TALL_WORD * type_h]
    return (len(ln.words) >= 3 and ln.box[3] - ln.box[1] > TALL_LINE * type_h and bool(tall)
            and float(np.mean([w.conf for w in ln.words])) < LINE_CONF
            and (image is None or all(type_ink(image, w.box, type_h) for w in tall)))


def reread(image: np.ndarray, ln: RawLine, others: list[RawLine], type_h: float, read) -> list[RawLine] | None:
    """The rows that replace ``ln``, read again from its band of ``image``, or None to keep it."""
    h, w = image.shape[:2]
    x0, y0 = max(0, ln.box[0] - MARGIN[0]), max(0, ln.box[1] - MARGIN[1])
    x1, y1 = min(w, ln.box[2] + MARGIN[0]), min(h, ln.box[3] + MARGIN[1])
    words = [RawWord(wd.text, wd.conf, (wd.box[0] + x0, wd.box[1] + y0, wd.box[2] + x0, wd.box[3] + y0))
             for wd in read(image[y0:y1, x0:x1], 6)]
    theirs = [wd.box for o in others for wd in o.words]
    kept = []
    for row in _rows(words, type_h):
        rh = float(np.median([wd.box[3] - wd.box[1] for wd in row]))
        if not (ROW_HEIGHT[0] * type_h <= rh <= ROW_HEIGHT[1] * type_h) or _conf(row) < ROW_CONF:
            continue
        if sum(any(cover(wd.box, b) >= 0.5 for b in theirs) for wd in row) >= DUPLICATE * len(row):
            continue  # a row Tesseract returned as (part of) a line of its own
        kept.append(RawLine.of(row))
    new = [wd for r in kept for wd in r.words]
    if not kept or _conf(new) < _conf(ln.words) + GAIN or _letters(new) < KEEP_LETTERS * _letters(ln.words):
        return None
    return kept


def fix(blocks: list[list[RawLine]], image: np.ndarray, read) -> tuple[list[list[RawLine]], int]:
    """``blocks`` with each line read two rows into one replaced by its rows read again, and how many were."""
    type_h = type_height(blocks)
    if not type_h:
        return blocks, 0
    everything = [ln for b in blocks for ln in b]
    todo = {id(ln) for ln in [ln for ln in everything if candidate(ln, type_h, image)][:MAX_LINES]}
    if not todo:
        return blocks, 0
    changed = 0
    out = []
    for block in blocks:
        nb = []
        for ln in block:
            rows = reread(image, ln, [o for o in everything if o is not ln], type_h, read) if id(ln) in todo else None
            if rows:
                nb.extend(rows)
                changed += 1
            else:
                nb.append(ln)
        out.append(nb)
    return out, changed
