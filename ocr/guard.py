"""The page guard: is a page's reading plausible? If not, read it as plain Tesseract would and keep the better.

Every page gets two numbers, both from what was read, in the original image's pixels:

- ``conf``: the mean confidence of the kept lines' words, each word weighted by its letters;
- ``cover``: the share of the page's letter-sized ink pieces (Otsu at half resolution, pieces between
  ``LETTER_MIN`` and ``LETTER_MAX`` x-heights) whose centre lies in a kept line.

A page under ``RETRY_CONF`` or ``RETRY_COVER`` is read again by the plain route: the page's grey image,
nothing removed, rescaled or rotated, every line Tesseract returns kept, no text step. The reading with
more sure letters (the sum of confidence x letters over the kept words) is kept, the plain one only when
it has ``PLAIN_MARGIN`` times ours. A page whose kept reading is still under ``SUSPECT_CONF``, or that
holds text-like ink but no line, is ``suspect``: its files are written, run.json, the summary and the
exit status say so.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .model import Region, bbox
from .preprocess import otsu_ink

RETRY_CONF = 0.5  # a page whose kept words are read less surely than this (letter-weighted) is read again ...
RETRY_COVER = 0.5  # ... and so is one whose kept lines hold less than this share of its letter-sized ink
PLAIN_MARGIN = 1.1  # the plain reading replaces ours when it has this many times our sure letters
SUSPECT_CONF = 0.4  # a page still read less surely than this is suspect
MIN_PIECES = 30  # a page with fewer letter-sized pieces than this has no text to judge coverage by
LETTER_MIN, LETTER_MAX = 0.4, 4.0  # letter-sized: this many x-heights tall, at most LETTER_MAX wide


@dataclass(frozen=True)
class Plausibility:
    conf: float | None  # letter-weighted mean word confidence of the kept lines; None without a word
    cover: float | None  # share of letter-sized ink pieces inside kept lines; None where the page has few
    sure_letters: float  # sum over kept words of confidence x letters
    pieces: int  # letter-sized ink pieces on the page

    def retry_reason(self) -> str:
        """Why the page should be read again by the plain route ("" when it need not)."""
        if self.conf is None and self.pieces >= MIN_PIECES:
            return "no line read on a page with text-like ink"
        if self.conf is not None and self.conf < RETRY_CONF:
            return f"words read at {self.conf:.2f} on average (under {RETRY_CONF})"
        if self.cover is not None and self.cover < RETRY_COVER:
            return f"{self.cover:.0%} of the text-like ink in read lines (under {RETRY_COVER:.0%})"
        return ""

    def suspect_reason(self) -> str:
        """Why the reading is still implausible ("" when it is not)."""
        if self.conf is None and self.pieces >= MIN_PIECES:
            return "no line read on a page with text-like ink"
        if self.conf is not None and self.conf < SUSPECT_CONF:
            return f"words read at {self.conf:.2f} on average (under {SUSPECT_CONF})"
        return ""

    def to_dict(self) -> dict:
        return {"conf": None if self.conf is None else round(self.conf, 3),
                "cover": None if self.cover is None else round(self.cover, 3),
                "sure_letters": round(self.sure_letters, 1), "ink_pieces": self.pieces}


def letter_centres(grey: np.ndarray, xheight: float | None) -> np.ndarray:
    """(N, 2) centres, in ``grey``'s pixels, of its letter-sized ink pieces (found at half resolution)."""
    h, w = grey.shape[:2]
    small = cv2.resize(grey, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    _, _, stats, cents = cv2.connectedComponentsWithStats(otsu_ink(small).astype(np.uint8), connectivity=8)
    stats, cents = stats[1:], cents[1:]
    if xheight is None or len(stats) == 0:
        return np.zeros((0, 2))
    xh = xheight / 2
    hts, wds = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    ok = (hts >= LETTER_MIN * xh) & (hts <= LETTER_MAX * xh) & (wds <= LETTER_MAX * xh)
    return cents[ok] * 2


def judge(regions: list[Region], centres: np.ndarray, size: tuple[int, int]) -> Plausibility:
    """The plausibility of a reading (its regions, in the original image's pixels) of a page whose
    letter-sized ink pieces have these ``centres``; ``size`` = (width, height)."""
    letters = conf_sum = 0.0
    boxes = []
    for r in regions:
        if not r.kept or r.production not in ("typewritten", "printed"):
            continue
        for ln in r.lines:
            for w in ln.words:
                n = sum(c.isalnum() for c in w.text)
                letters += n
                conf_sum += n * w.conf
            if ln.polygon:
                boxes.append(bbox(ln.polygon))
    conf = conf_sum / letters if letters else None
    cover = None
    if len(centres) >= MIN_PIECES:
        w, h = size
        f = 4  # the line mask at a quarter of the page's size
        mask = np.zeros((h // f + 1, w // f + 1), np.uint8)
        for x0, y0, x1, y1 in boxes:
            mask[y0 // f:y1 // f + 1, x0 // f:x1 // f + 1] = 1
        idx = np.clip((centres / f).astype(int), 0, [mask.shape[1] - 1, mask.shape[0] - 1])
        cover = float(mask[idx[:, 1], idx[:, 0]].mean())
    return Plausibility(conf, cover, conf_sum, len(centres))
