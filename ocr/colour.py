"""Colour scans to grey: ink of another colour than the typed text's (a violet stamp, a blue or red pencil on
black type) is turned to paper, so it does not leak into the typed text; the text's own ink is kept whatever
its colour (a violet, blue or red typescript)."""
from __future__ import annotations

import math

import cv2
import numpy as np

PAPER_TINT = 3.0  # paper whose chroma (a*, b*) is under this is white: its tint has no direction to follow
TEXT_HUE = 60.0  # on a page typed in a colour, ink whose hue is this many degrees from the text's is another ink


def to_grey(img: np.ndarray, drop_colour: bool = True, min_chroma: float = 11.0) -> np.ndarray:
    """Grey image; on colour scans, ink of another colour than the typed text's is turned to paper.

    A pixel counts as coloured ink when it is darker than the paper and its
    chroma (CIELAB a*, b*) leaves the line from neutral grey to the paper's own
    tint by more than ``min_chroma`` (at half resolution, after a 3x3 median):
    black type and aged paper lie near that line, blue and violet ink and red
    pencil do not. The text's own ink is never dropped: the page's dominant ink
    (the vector median of the chroma of all its ink, Otsu-dark pixels) is the
    typed text's. Where that is coloured (a violet ribbon, a blue carbon copy),
    only ink whose hue lies more than ``TEXT_HUE`` degrees from it is dropped.
    """
    if img.ndim == 2:
        return img
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if not drop_colour:
        return grey
    # chroma is judged at half resolution (a quarter of the work; colour is blurred by JPEG anyway),
    # median-filtered: JPEG chroma is noisy at the edges of black type
    h, w = img.shape[:2]
    lab = cv2.cvtColor(cv2.resize(img, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA),
                       cv2.COLOR_BGR2LAB)
    sample = lab[::4, ::4].reshape(-1, 3).astype(np.float32)  # every 8th pixel of the page: plenty for the paper tone
    light = sample[:, 0] >= np.percentile(sample[:, 0], 60)
    paper = np.median(sample[light], axis=0)
    a = cv2.medianBlur(lab[:, :, 1], 3).astype(np.float32) - 128
    b = cv2.medianBlur(lab[:, :, 2], 3).astype(np.float32) - 128
    t = np.array([paper[1] - 128, paper[2] - 128], np.float32)
    norm = float(np.hypot(*t))
    if norm > PAPER_TINT:
        t /= norm
        proj = np.maximum(a * t[0] + b * t[1], 0)
        ra, rb = a - proj * t[0], b - proj * t[1]
    else:
        ra, rb = a, b
    chroma = np.hypot(ra, rb) > min_chroma
    text = _text_ink(lab[:, :, 0], ra, rb)
    if text is not None:  # the text is typed in a colour: only ink of another hue is dropped
        cos = (ra * text[0] + rb * text[1]) / (np.hypot(ra, rb) * float(np.hypot(*text)) + 1e-6)
        chroma &= cos < math.cos(math.radians(TEXT_HUE))
    # near-black pixels have unreliable chroma (JPEG colour fringes on type): never taken as coloured
    if not (chroma & (lab[:, :, 0] < paper[0] - 12) & (lab[:, :, 0] > 35)).any():
        return grey  # no coloured ink (most pages): the full-resolution test below is not needed
    # the full-resolution test, in the boxes around the chromatic half-resolution pixels only
    n, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(chroma.astype(np.uint8), np.ones((5, 5), np.uint8)))
    boxes = [(x * 2, y * 2, (x + bw) * 2, (y + bh) * 2) for x, y, bw, bh, _ in stats[1:]] if n <= 256 else [(0, 0, w, h)]
    paper_grey = int(np.percentile(grey[::4, ::4], 90))
    out = grey
    for x0, y0, x1, y1 in boxes:
        x1, y1 = min(x1, w), min(y1, h)
        lum = cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_BGR2LAB)[:, :, 0]
        up = cv2.resize(chroma[y0 // 2:(y1 + 1) // 2, x0 // 2:(x1 + 1) // 2].astype(np.uint8),
                        ((x1 - x0 + 1) // 2 * 2, (y1 - y0 + 1) // 2 * 2), interpolation=cv2.INTER_NEAREST)
        coloured = up[:y1 - y0, :x1 - x0].astype(bool) & (lum < paper[0] - 15) & (lum > 40)
        if coloured.any():
            coloured = cv2.dilate(coloured.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & (lum > 40)
            if out is grey:
                out = grey.copy()
            out[y0:y1, x0:x1][coloured] = paper_grey
    return out


TEXT_CHROMA = 5.0  # the page's ink is coloured when the median chroma of all its ink is this far from neutral


def _text_ink(lum: np.ndarray, ra: np.ndarray, rb: np.ndarray) -> tuple[float, float] | None:
    """The chroma (a*, b* off the paper's line) of the page's dominant ink, when it is coloured; None for
    black or grey type. Dominant: the per-component median over all ink pixels (darker than Otsu's level of
    the lightness), so a stamp or a pencil note, which hold less ink than the text, does not decide it.
    Faint coloured type has little chroma, hence ``TEXT_CHROMA``, well below a single pixel's
    ``min_chroma``: the median of black type's ink on a colour scan stays within 2 of neutral."""
    level, _ = cv2.threshold(lum[::2, ::2], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = lum < level
    if ink.sum() < 100:
        return None
    med = (float(np.median(ra[ink])), float(np.median(rb[ink])))
    return med if math.hypot(*med) > TEXT_CHROMA else None
