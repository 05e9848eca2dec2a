"""Typed lines under a note: a resolution written across a typed heading, a signature block the page's
reading did not find. Where a note is written over type, Tesseract reads the two inks as one garbage line
(the line leaves the typed text: ``typed_or_hand.hidden_by_handwriting``) or finds no line at all, and the
note's region takes the typed line's ink with it. Each note's box is read again by Tesseract with the ink
the ink separation network gives to a hand or a stamp painted paper; the lines it reads surely as type
(``sure_type``) are typed text, and the note is read without their ink, or is no note where little hand's
ink is left."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..engines.base import REGION_MARGIN, RawLine, read_region
from ..errors import EngineError
from ..model import Box, cover
from ..typed.lexicon import known_word
from .candidates import ink_mask
from .hand_ink import INK_HAND
from .inksep import CLASSES, crop_probs
from .typed_or_hand import CONFIDENT_WORD, sure_type

TYPED_INK = 0.5  # a pixel is typing's where the ink separation network gives it at least this


MIN_TYPED_INK = 3.0  # a note's box is read as type where this much typed ink (squared x-heights) lies off typed lines


NOTE_LEFT = 4.0  # a note with less hand's ink than this (squared x-heights) outside the type found under it is none


def _sure_part(ln: RawLine, type_height: float | None, lang: str) -> RawLine | None:
    """A line read from a note's box as type (``sure_type``), or the words of it read surely where one of them
    is a word of ``lang`` of three letters or more (a heading's words the note's strokes cross are lost, the
    others kept), or None."""
    if sure_type(list(ln.words), type_height):
        return ln
    words = tuple(w for w in ln.words if w.conf >= CONFIDENT_WORD)
    if not any(known_word(w.text, lang, 3) for w in words) or not sure_type(list(words), type_height):
        return None
    return RawLine(words, (min(w.box[0] for w in words), min(w.box[1] for w in words),
                           max(w.box[2] for w in words), max(w.box[3] for w in words)))


@dataclass
class Under:
    """What lies under one note: the typed lines found there, and the page to read the note from."""

    lines: list[RawLine]
    page: np.ndarray  # a copy of the page's grey with those lines' typed ink painted paper
    note_left: bool  # enough hand's ink is left outside the lines to be a note


def typed_under(image: np.ndarray, grey: np.ndarray, box: Box, typed: list[Box], engine, separator,
                xheight: float, type_height: float | None, lang: str) -> Under | None:
    """The typed lines under the note at ``box`` that the page's reading does not have (``typed``: the boxes of
    the page's typed lines and of the stamps' lines, painted paper before the read), or None where there are
    none or the engine cannot read a piece of a page. ``lang``: the page's languages (``_sure_part``)."""
    if not hasattr(engine, "read_lines"):
        return None
    h, w = grey.shape
    pad = REGION_MARGIN
    x0, y0, x1, y1 = max(0, box[0] - pad), max(0, box[1] - pad), min(w, box[2] + pad), min(h, box[3] + pad)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    g = grey[y0:y1, x0:x1]
    known = np.zeros(g.shape, bool)
    for t in typed:
        if t[0] < x1 and t[2] > x0 and t[1] < y1 and t[3] > y0:
            known[max(0, t[1] - y0):max(0, t[3] - y0), max(0, t[0] - x0):max(0, t[2] - x0)] = True
    typed_p, hand_p = crop_probs(separator, image[y0:y1, x0:x1], CLASSES.index("typed"), CLASSES.index("handwritten"))
    ink = ink_mask(g) > 0
    type_ink = ink & (typed_p >= TYPED_INK)
    if (type_ink & ~known).sum() < MIN_TYPED_INK * xheight * xheight:
        return None
    paper = np.uint8(np.percentile(g, 90))
    page = grey.copy()
    # only the typed ink is left, with a pixel about it (a stroke's edge, lighter than ink, stays grey otherwise)
    shown = cv2.dilate((type_ink & ~known).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    page[y0:y1, x0:x1][~shown] = paper
    try:
        raw = read_region(engine, page, box)
    except EngineError:
        return None
    found = [ln for ln in (_sure_part(ln, type_height, lang) for ln in raw) if ln is not None
             and not any(cover(ln.box, t) >= 0.3 or cover(t, ln.box) >= 0.3 for t in typed)]
    if not found:
        return None
    words = np.zeros(g.shape, bool)
    for ln in found:
        for wd in ln.words:
            b = wd.box
            words[max(0, b[1] - y0):max(0, b[3] - y0), max(0, b[0] - x0):max(0, b[2] - x0)] = True
    left = int((ink & (hand_p >= INK_HAND) & ~words).sum())
    note_page = grey.copy()
    note_page[y0:y1, x0:x1][type_ink & words] = paper
    return Under(found, note_page, left >= NOTE_LEFT * xheight * xheight)
