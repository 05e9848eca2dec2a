"""Handwriting told from a stamp's ink by the ink separation network: signatures written across a stamp's
ring or frame, and the share of a box's ink that is handwriting."""
from __future__ import annotations

import cv2
import numpy as np

from .candidates import FEATURES, SCALE, Candidate, full_scale, ink_mask
from .inksep import CLASSES, crop_probs

INK_HAND = 0.5  # a pixel is handwriting where the ink separation network gives it at least this


INK_REACH = (1.2, 0.4)  # it looks this far beyond a stamp's outline (shares of its width, height)


INK_TOUCH = 20  # a group with at least this much handwriting ink (pixels at half resolution) inside the


# outline or within the grouping closing of it (there, it was grouped with the stamp's ink) ...
INK_MIN_AREA = 4.0  # ... and this much in all (in squared x-heights) is a candidate


INK_ROW_REACH = 2.0  # handwriting ink is grouped this many times the notes' closing along the row


INK_MIN_PIECE = 0.3  # pieces of handwriting ink smaller than this (squared x-heights) are specks


def hand_across(image: np.ndarray, stamps: list[tuple[int, int, int, int]], xheight: float | None,
                border: tuple[int, int, int, int] | None, separator) -> list[Candidate]:
    """Handwriting written across a stamp's ring or frame (``stamps``: the boxes of outline candidates
    classified stamp, in the original image). Its ink and the stamp's are one group, alike in grey and
    often in colour; the ink separation network (``inksep``) tells them apart by shape. The ink it calls
    handwriting around each stamp is grouped as notes are; a group with ink inside the stamp's outline
    (the circle a ring's box holds, or the frame), or near enough to it to have been grouped with the
    stamp's ink, is a candidate (``Candidate.inked``), with the network's mean probability over its ink."""
    colour = image.ndim == 3 and image.shape[2] >= 3
    small = cv2.resize(image, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if colour else small
    hs, ws = grey.shape
    ink = ink_mask(grey)
    if border is not None:
        bx0, by0, bx1, by1 = (int(v * SCALE) for v in border)
        keep = np.zeros_like(ink)
        keep[max(0, by0 + 3):max(0, by1 - 3), max(0, bx0 + 3):max(0, bx1 - 3)] = 1
        ink &= keep
    xh = (xheight or 20.0) * SCALE
    k = max(9, int(xh * 2.4))  # the grouping closing of ``candidates``
    out = []
    for full_box, round_ in stamps:
        ox0, oy0, ox1, oy1 = (int(v * SCALE) for v in full_box)
        bw, bh = ox1 - ox0, oy1 - oy0
        x0, y0 = max(0, int(ox0 - INK_REACH[0] * bw)), max(0, int(oy0 - INK_REACH[1] * bh))
        x1, y1 = min(ws, int(ox1 + INK_REACH[0] * bw)), min(hs, int(oy1 + INK_REACH[1] * bh))
        if x1 - x0 < 8 or y1 - y0 < 8:
            continue
        p = separator.probs(small[y0:y1, x0:x1])[-1]
        hand = ((ink[y0:y1, x0:x1] > 0) & (p >= INK_HAND)).astype(np.uint8)
        # specks (a typed letter's edge taken for a stroke) are not handwriting of their own
        n, labels, stats, _ = cv2.connectedComponentsWithStats(hand, connectivity=8)
        hand = np.isin(labels, 1 + np.nonzero(stats[1:, cv2.CC_STAT_AREA] >= INK_MIN_PIECE * xh * xh)[0])
        if hand.sum() < 40:
            continue
        near = np.zeros(hand.shape, np.uint8)
        if round_:  # the ring's box holds the circle with 3-4 px to spare (``candidates``)
            cv2.circle(near, ((ox0 + ox1) // 2 - x0, (oy0 + oy1) // 2 - y0), max(1, (min(bw, bh) - 7) // 2 + k), 1, -1)
        else:
            near[max(0, oy0 - y0 - k):oy1 - y0 + k, max(0, ox0 - x0 - k):ox1 - x0 + k] = 1
        # grouped as notes are, and twice as far along the row: the words of a signature ("Г." and "Яковлев")
        grouped = cv2.morphologyEx(hand.astype(np.uint8), cv2.MORPH_CLOSE,
                                   cv2.getStructuringElement(cv2.MORPH_RECT, (int(INK_ROW_REACH * k), k)))
        n, labels = cv2.connectedComponents(grouped, connectivity=8)
        for i in range(1, n):
            m = hand & (labels == i)
            area = int(m.sum())
            if area < INK_MIN_AREA * xh * xh or (m & (near > 0)).sum() < INK_TOUCH:
                continue
            ys, xs = np.nonzero(m)
            box = (x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1, y0 + int(ys.max()) + 1)
            prob = float(p[m].mean())
            out.append(Candidate(full_scale(box), np.zeros(len(FEATURES), np.float32), kind="handwritten", prob=prob,
                                 inked=(prob, full_box)))
    return out


def hand_share(image: np.ndarray, boxes: list[tuple[int, int, int, int]], separator, pad: int = 16,
               within: list[tuple[int, int, int, int]] | None = None) -> list[float]:
    """The share of each box's ink (boxes in the original image) that the ink separation network calls
    handwriting, seen with ``pad`` half-resolution pixels of the page around it; ``within``, when given, a
    box per box (e.g. its line's) that it is seen in instead: boxes that share one are computed once."""
    out = []
    h, w = image.shape[0] * SCALE, image.shape[1] * SCALE
    seen: dict = {}  # crop box -> (probabilities, ink mask)
    for k, box in enumerate(boxes):
        x0, y0, x1, y1 = (int(v * SCALE) for v in box)
        wx0, wy0, wx1, wy1 = (int(v * SCALE) for v in (within[k] if within else box))
        cx0, cy0 = max(0, min(x0, wx0) - pad), max(0, min(y0, wy0) - pad)
        cx1, cy1 = min(int(w), max(x1, wx1) + pad), min(int(h), max(y1, wy1) + pad)
        if cx1 - cx0 < 8 or cy1 - cy0 < 8 or x1 <= x0 or y1 <= y0:
            out.append(0.0)
            continue
        if (cx0, cy0, cx1, cy1) not in seen:
            crop = cv2.resize(image[int(cy0 / SCALE):int(cy1 / SCALE), int(cx0 / SCALE):int(cx1 / SCALE)], None,
                              fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
            g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
            seen[(cx0, cy0, cx1, cy1)] = (separator.probs(crop)[-1], ink_mask(g) > 0)
        p, ink_all = seen[(cx0, cy0, cx1, cy1)]
        ink = ink_all[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
        n = int(ink.sum())
        out.append(float((p[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0][ink] >= INK_HAND).sum() / n) if n else 0.0)
    return out


OTHER_INK = 0.1  # a note's crop is read with the ink the network gives less than this chance of a hand painted out


def hand_only(image: np.ndarray, grey: np.ndarray, box: tuple[int, int, int, int], separator,
              pad: int = 8) -> np.ndarray:
    """``grey`` (the page) with the ink in ``box`` (and ``pad`` pixels about it) that the ink separation network
    calls no hand's (a stamp's, typing's; under ``OTHER_INK`` handwriting) painted paper: a note written over a
    stamp or typed lines is cut into lines and read without them. A copy where anything is painted."""
    h, w = grey.shape
    x0, y0, x1, y1 = max(0, box[0] - pad), max(0, box[1] - pad), min(w, box[2] + pad), min(h, box[3] + pad)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return grey
    g = grey[y0:y1, x0:x1]
    hand, = crop_probs(separator, image[y0:y1, x0:x1], CLASSES.index("handwritten"))
    other = (ink_mask(g) > 0) & (hand < OTHER_INK)
    if not other.any():
        return grey
    out = grey.copy()
    out[y0:y1, x0:x1][other] = int(np.percentile(g, 90))
    return out
