"""Find what is not typed text on a page (handwriting, stamps) and tell them apart.

After Tesseract has read the typed lines, the ink that is left outside them
(plus, on colour scans, every coloured ink pixel, also inside the typed lines)
is grouped into candidate regions by a morphological closing. Each candidate
is described by what distinguishes the kinds: size, shape and fill, the share
of it that lies over typed text, colour (share and hue of chromatic ink),
stroke width, a ring score (round stamp outlines), a frame score (rectangular
stamps), and its place on the page. A small tree ensemble trained on
synthetic reels (``memo-ocr train-layout``; weights in ``models/layout.json``)
labels it ``handwritten``, ``stamp`` or ``noise``.

All geometry is in the original image's pixels; the work is done at half
resolution.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from .errors import EngineError
from .model import cover

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "layout.json"
KINDS = ("noise", "handwritten", "stamp")
FEATURES = ("w", "h", "aspect", "fill", "typed_overlap", "chroma_frac", "hue_sin", "hue_cos", "colour_page",
            "stroke", "stroke_sd", "ring", "frame", "cx", "cy", "n_cc", "area", "solidity", "dark",
            "source", "perimeter", "line_overlap", "h_xh", "w_xh")
SCALE = 0.5
# a ring found by the Hough transform is a stamp only if its outline is inked and the ground beside it much
# less (``_perimeter``); measured on 12 synthetic pages: rings in dense typed text at most 0.17 (0.21 on a
# test page of 34 px type), stamp rings median 0.27
MIN_RING_PERIMETER = 0.22
SHARP_RING = 0.85  # a circle inked this far round is a stamp's ring (_refine_ring)
ROUGH_RING = 0.55  # ... and one inked less than this far round near the Hough circle is not refined


@dataclass
class Candidate:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the original image
    features: np.ndarray
    kind: str = "noise"
    prob: float = 0.0
    # ink split off a group that holds a stamp outline: (the group's box, the outline's box), both in the
    # original image (``routing.suppress`` gives the stamp the outline's box when this part is handwriting)
    split_of: tuple[tuple[int, int, int, int], tuple[int, int, int, int]] | None = None
    probs: dict[str, float] | None = None  # every class's probability (``classify``)
    # ink of a group regrouped more tightly (``candidates``): the group it is part of
    finer_of: Candidate | None = None
    # handwriting found by the ink separation network across a stamp's outline (``hand_across``):
    # (its mean handwriting probability, the outline's box in the original image)
    inked: tuple[float, tuple[int, int, int, int]] | None = None


def relative_grey(grey: np.ndarray, max_k: int | None = None) -> np.ndarray:
    """Grey relative to a local paper estimate (the brightest nearby, smoothed): about 1 on paper, lower on
    ink, whatever the light. The window is a 40th of the image's shorter side (15 px at least, ``max_k`` at
    most)."""
    k = max(15, int(min(grey.shape) / 40) | 1)
    if max_k is not None:
        k = min(k, max_k)
    paper = cv2.dilate(grey, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    paper = cv2.blur(paper, (k, k)).astype(np.float32) + 1.0
    return grey.astype(np.float32) / paper


def _ink(grey: np.ndarray) -> np.ndarray:
    """Ink mask, robust to uneven light: grey relative to a local paper estimate."""
    return (relative_grey(grey) < 0.78).astype(np.uint8)


def _chroma(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chroma and the a*, b* planes (hue is taken from these only where a candidate has coloured ink)."""
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab).astype(np.float32)
    a, b = lab[:, :, 1] - 128.0, lab[:, :, 2] - 128.0
    return np.hypot(a, b), a, b


def candidates(image: np.ndarray, typed_boxes: list[tuple[int, int, int, int]],
               border: tuple[int, int, int, int] | None = None, xheight: float | None = None,
               line_boxes: list[tuple[int, int, int, int]] | None = None, split: bool = True,
               finer: bool = True) -> list[Candidate]:
    """Candidate non-typed regions of a page (original image: grey or BGR uint8) with their features.

    ``typed_boxes``: the confidently read typed words (their ink is not a candidate); ``line_boxes``: all
    kept typed lines (how much of a candidate lies on them is a feature); ``split``: also the ink of a group
    outside a stamp outline it holds (``_split_at_outlines``; the classifier is trained without these: with
    them it measured worse on the layout benchmark); ``finer``: also each group's ink regrouped more tightly
    (``_regroup_finer``; ``routing.resolve_finer`` keeps such a part only where its group is unclear).
    """
    colour = image.ndim == 3 and image.shape[2] >= 3
    small = cv2.resize(image, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if colour else small
    hs, ws = grey.shape
    ink = _ink(grey)
    chroma_ink = np.zeros_like(ink)
    lab_a = lab_b = np.zeros(grey.shape, np.float32)
    if colour:
        c, lab_a, lab_b = _chroma(small[:, :, :3])
        chroma_ink = ink & (c > 14).astype(np.uint8)
        colour = bool(chroma_ink.sum() > 200 or (c > 14).mean() > 0.001)
    frame = np.zeros_like(ink)
    if border is not None:
        x0, y0, x1, y1 = (int(v * SCALE) for v in border)
        frame[max(0, y0 + 3):max(0, y1 - 3), max(0, x0 + 3):max(0, x1 - 3)] = 1
    else:
        frame[3:-3, 3:-3] = 1
    typed = np.zeros_like(ink)
    pad = 2
    for x0, y0, x1, y1 in typed_boxes:
        typed[max(0, int(y0 * SCALE) - pad):int(y1 * SCALE) + pad, max(0, int(x0 * SCALE) - pad):int(x1 * SCALE) + pad] = 1
    on_lines = np.zeros_like(ink)
    for x0, y0, x1, y1 in line_boxes or []:
        on_lines[max(0, int(y0 * SCALE)):int(y1 * SCALE), max(0, int(x0 * SCALE)):int(x1 * SCALE)] = 1
    rest = ((ink & (1 - typed)) | chroma_ink) & frame
    rest = cv2.morphologyEx(rest, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    xh = (xheight or 20.0) * SCALE
    k = max(9, int(xh * 2.4))
    grouped = cv2.morphologyEx(rest, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    grouped = cv2.dilate(grouped, np.ones((3, 3), np.uint8))
    dist = cv2.distanceTransform(rest, cv2.DIST_L2, 3)
    ctx = dict(rest=rest, dist=dist, typed=typed, on_lines=on_lines, chroma_ink=chroma_ink, lab_a=lab_a, lab_b=lab_b, grey=grey, colour=colour, xh=xh)
    out = []
    min_area = max(60, int((xh * 2) ** 2))
    groups = []  # (mask of the group's ink, its box, its candidate) of each ink candidate

    def add_groups(mask: np.ndarray, off: tuple[int, int]) -> list[Candidate]:
        """Candidates of the ink groups of ``mask`` (a grouped-ink mask whose top left is at ``off``)."""
        added = []
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for i in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[i])
            if area < min_area or w < xh * 1.5 or h < xh:
                continue
            sub = labels[y:y + h, x:x + w] == i
            x, y = x + off[0], y + off[1]  # page coordinates (half resolution)
            inkm = rest[y:y + h, x:x + w].astype(bool) & sub
            if int(inkm.sum()) < 40:
                continue
            ys, xs = np.nonzero(inkm)
            box = (x + int(xs.min()), y + int(ys.min()), x + int(xs.max()) + 1, y + int(ys.max()) + 1)
            c = _describe(ctx, box, rest, sub[ys.min():ys.max() + 1, xs.min():xs.max() + 1], circle=None)
            if c is not None:
                out.append(c)
                added.append(c)
                groups.append((inkm, (x, y, x + w, y + h), c))
        return added

    add_groups(grouped, (0, 0))
    if finer:
        _regroup_finer(groups, k, add_groups)
    # round stamps over typed text: their ink is partly inside typed words, so look for rings in all the ink
    full = (ink & frame)
    outlines = []
    for cx, cy, r in _circles(full, ws):
        cx, cy, r, sharp = _refine_ring(full, cx, cy, r)
        box = (max(0, int(cx - r - 3)), max(0, int(cy - r - 3)), min(ws, int(cx + r + 4)), min(hs, int(cy + r + 4)))
        c = _describe(ctx, box, full, None, circle=(cx - box[0], cy - box[1], r))
        if c is not None:
            out.append(c)
            outlines.append(((cx, cy, r, sharp), box))
    for box in _rects(full, ws, hs):
        c = _describe(ctx, box, full, None, circle=None, rect=True)
        if c is not None:
            out.append(c)
            outlines.append((None, box))
    if split:
        _split_at_outlines(groups, outlines, k, add_groups)
    return out


def _full(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """A half-resolution box in the original image's pixels."""
    return (int(box[0] / SCALE), int(box[1] / SCALE), int(box[2] / SCALE), int(box[3] / SCALE))


FINER = 0.5  # the closing that regroups a group's ink more tightly, as a share of the grouping one


def _regroup_finer(groups: list, k: int, add_groups) -> None:
    """Each group's ink regrouped with a closing half as wide. A note whose last line runs into an unsurely
    read typed heading, or two signatures stacked close, are grouped into one candidate that the classifier
    cannot name; their parts, apart, it can. Only groups that fall into two or more parts give any."""
    kf = max(5, int(k * FINER))
    for inkm, (gx0, gy0, _, _), group in list(groups):
        regrouped = cv2.morphologyEx(inkm.astype(np.uint8), cv2.MORPH_CLOSE,
                                     cv2.getStructuringElement(cv2.MORPH_RECT, (kf, kf)))
        regrouped = cv2.dilate(regrouped, np.ones((3, 3), np.uint8))
        if cv2.connectedComponents(regrouped, connectivity=8)[0] <= 2:
            continue
        n = len(groups)
        for part in add_groups(regrouped, (gx0, gy0)):
            part.finer_of = group
        del groups[n:]  # parts are not split again at stamp outlines


def _split_at_outlines(groups: list, outlines: list, k: int, add_groups) -> None:
    """A note written next to a stamp is grouped with the stamp's ink into one candidate, which then is
    neither (handwriting under a stamp was the layout benchmark's most common miss). Where a group holds
    a stamp outline (ring or rectangle) and reaches well beyond it, the ink outside the outline is grouped
    again and added as candidates of its own; the whole group stays a candidate too (the classifier and
    ``routing.suppress`` choose)."""
    rects = [o for c, o in outlines if c is None]
    for inkm, (gx0, gy0, gx1, gy1), group in list(groups):
        g_area = (gx1 - gx0) * (gy1 - gy0)
        for circle, (ox0, oy0, ox1, oy1) in outlines:
            ix0, iy0, ix1, iy1 = max(gx0, ox0), max(gy0, oy0), min(gx1, ox1), min(gy1, oy1)
            o_area = (ox1 - ox0) * (oy1 - oy0)
            if ix1 <= ix0 or iy1 <= iy0 or (ix1 - ix0) * (iy1 - iy0) < 0.7 * o_area or g_area < 1.5 * o_area:
                continue
            left = inkm.astype(np.uint8)
            if circle is not None:
                cx, cy, r, sharp = circle
                # a sharp ring is the stamp's outer ring (``_refine_ring``): just the ring's width beyond
                # it; else 1.2 r: a double ring, of which the Hough search may have found the inner one
                cv2.circle(left, (int(round(cx - gx0)), int(round(cy - gy0))), int(1.06 * r + 6 if sharp else 1.2 * r + 3), 0, -1)
            else:
                left[max(0, oy0 - gy0 - 3):max(0, oy1 - gy0 + 3), max(0, ox0 - gx0 - 3):max(0, ox1 - gx0 + 3)] = 0
            if left.sum() < 40:
                continue
            regrouped = cv2.morphologyEx(left, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
            others = [_full(o) for o in rects if o != (ox0, oy0, ox1, oy1)]
            for part in add_groups(cv2.dilate(regrouped, np.ones((3, 3), np.uint8)), (gx0, gy0)):
                # not a part lying in a rectangular outline (a false ring found inside a rectangular stamp)
                if all(cover(part.box, o) < 0.5 for o in others):
                    part.split_of = (group.box, _full((ox0, oy0, ox1, oy1)))


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
    ink = _ink(grey)
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
            out.append(Candidate(_full(box), np.zeros(len(FEATURES), np.float32), kind="handwritten", prob=prob,
                                 inked=(prob, full_box)))
    return out


def hand_share(image: np.ndarray, boxes: list[tuple[int, int, int, int]], separator, pad: int = 16) -> list[float]:
    """The share of each box's ink (boxes in the original image) that the ink separation network calls
    handwriting, seen with ``pad`` half-resolution pixels of the page around it."""
    out = []
    h, w = image.shape[0] * SCALE, image.shape[1] * SCALE
    for box in boxes:
        x0, y0, x1, y1 = (int(v * SCALE) for v in box)
        cx0, cy0 = max(0, x0 - pad), max(0, y0 - pad)
        cx1, cy1 = min(int(w), x1 + pad), min(int(h), y1 + pad)
        if cx1 - cx0 < 8 or cy1 - cy0 < 8 or x1 <= x0 or y1 <= y0:
            out.append(0.0)
            continue
        crop = cv2.resize(image[int(cy0 / SCALE):int(cy1 / SCALE), int(cx0 / SCALE):int(cx1 / SCALE)], None,
                          fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
        p = separator.probs(crop)[-1]
        g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
        ink = _ink(g)[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0] > 0
        n = int(ink.sum())
        out.append(float((p[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0][ink] >= INK_HAND).sum() / n) if n else 0.0)
    return out


def _rects(ink: np.ndarray, ws: int, hs: int) -> list[tuple[int, int, int, int]]:
    """Hollow four-sided outlines (rectangular stamps), half-resolution boxes."""
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(closed, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    lo, hi = ws * 0.06, ws * 0.45
    out = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if not (lo <= w <= hi and lo * 0.5 <= h <= hi) or w * h > 0.1 * ws * hs:
            continue
        approx = cv2.approxPolyDP(c, 0.04 * cv2.arcLength(c, True), True)
        if len(approx) != 4 or not cv2.isContourConvex(approx):
            continue
        if cv2.contourArea(approx) < 0.6 * w * h:
            continue
        if ink[y:y + h, x:x + w].mean() > 0.4:
            continue
        box = (x, y, x + w, y + h)
        if all(abs(a - b) > 4 for o in out for a, b in zip(o, box, strict=True)) or not out:
            out.append(box)
    return out[:8]


def _rect_perimeter(inkm: np.ndarray) -> float:
    """Share of the box's border (a band 3 % of its size) that has ink: rectangular stamp frames score high."""
    h, w = inkm.shape
    b = max(2, int(0.03 * min(w, h)))
    cols = np.concatenate([inkm[:b].any(axis=0), inkm[-b:].any(axis=0)])
    rows = np.concatenate([inkm[:, :b].any(axis=1), inkm[:, -b:].any(axis=1)])
    return float(np.concatenate([cols, rows]).mean())


def _circles(ink: np.ndarray, ws: int) -> list[tuple[float, float, float]]:
    """Ring-shaped ink (stamp outlines) found by a Hough transform at quarter resolution (half-res coordinates)."""
    q = cv2.resize(ink.astype(np.float32), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    q = cv2.GaussianBlur((q * 255).astype(np.uint8), (5, 5), 1.5)
    r0, r1 = int(ws * 0.5 * 0.035), int(ws * 0.5 * 0.12)
    # 40 votes: 28 proposed 30-110 "circles" a page (mostly in dense type) at six times the time, and
    # gave the same regions on the layout benchmark (bench/layout.py)
    found = cv2.HoughCircles(q, cv2.HOUGH_GRADIENT, dp=1.5, minDist=r0 * 2, param1=80, param2=40,
                             minRadius=r0, maxRadius=r1)
    if found is None:
        return []
    return [(float(x) * 2, float(y) * 2, float(r) * 2) for x, y, r in found[0][:8]]


def _perimeter(inkm: np.ndarray, circle: tuple[float, float, float]) -> float:
    """How ring-like the ink along a circle (in ``inkm``'s coordinates) is: the share of the outline with ink
    within 2 px, less the mean share on the two circles 7 px inside and outside it. A stamp's ring is a thin
    line (high on, low beside it); a "circle" the Hough transform finds in dense text is inked all over."""
    return _ring_score(cv2.dilate(inkm.astype(np.uint8), np.ones((5, 5), np.uint8)), circle)


def _ring_score(dilated: np.ndarray, circle: tuple[float, float, float]) -> float:
    cx, cy, r = circle
    on, inside, outside = _shares(dilated, cx, cy, np.array([r, r - 7, r + 7]))
    return float(on - 0.5 * (inside + outside))


_ANGLES = np.linspace(0, 2 * np.pi, 120, endpoint=False)


def _shares(d: np.ndarray, cx: float, cy: float, radii: np.ndarray, step: int = 1) -> np.ndarray:
    """The share of each circle (cx, cy, radius) of ``d`` that is inked, for every radius."""
    t = _ANGLES[::step]
    h, w = d.shape
    xs = np.round(cx + radii[:, None] * np.cos(t)).astype(int)
    ys = np.round(cy + radii[:, None] * np.sin(t)).astype(int)
    ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    return np.where(ok, d[np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)], 0).sum(1) / len(t)


def _refine_ring(ink: np.ndarray, cx: float, cy: float, r: float) -> tuple[float, float, float, bool]:
    """The stamp outline around the ring (cx, cy, r) the Hough search found. The search is coarse: on a
    double-ring stamp with lettering between the rings it often proposes a circle through the lettering,
    off the rings' centre, which covers neither ring (a signature beside the stamp then stays grouped with
    the outer ring). Centres within 0.3 r and radii 0.6-1.8 r are tried (coarse, then fine): where a
    circle is inked almost all round (``SHARP_RING``), the outermost such circle about that centre is the
    stamp; otherwise the outer ring by ``_outer_ring``."""
    m = int(2.1 * r) + 9
    x0, y0 = max(0, int(cx) - m), max(0, int(cy) - m)
    d = cv2.dilate(ink[y0:int(cy) + m, x0:int(cx) + m].astype(np.uint8), np.ones((5, 5), np.uint8))
    lx, ly = cx - x0, cy - y0
    radii = np.arange(0.6 * r, 1.8 * r, 3.0)
    if float(_shares(d, lx, ly, radii, step=2).max()) < ROUGH_RING:
        return cx, cy, _outer_ring(ink, cx, cy, r), False  # a "circle" in dense type: no ring near it
    best = (0.0, lx, ly)
    offs = np.arange(-0.3 * r, 0.3 * r + 1, 6.0)
    for dx in offs:
        for dy in offs:
            v = float(_shares(d, lx + dx, ly + dy, radii, step=2).max())
            if v > best[0]:
                best = (v, lx + dx, ly + dy)
    fine = np.arange(0.6 * r, 1.8 * r, 1.0)
    scored = []
    for dx in range(-4, 5, 2):
        for dy in range(-4, 5, 2):
            v = _shares(d, best[1] + dx, best[2] + dy, fine)
            scored.append((float(v.max()), best[1] + dx, best[2] + dy, v))
    top, bx, by, v = max(scored, key=lambda z: z[0])
    if top < SHARP_RING:
        return cx, cy, _outer_ring(ink, cx, cy, r), False
    # the outermost sharp ring about the best centre (a double ring's outer one)
    outer = max(float(fine[i]) for i in np.nonzero(v >= SHARP_RING)[0])
    for _, ox, oy, ov in scored:
        hits = np.nonzero(ov >= SHARP_RING)[0]
        if len(hits) and fine[hits].max() > outer + 2 and abs(ox - bx) <= 2.5 and abs(oy - by) <= 2.5:
            outer = float(fine[hits].max())
    return bx + x0, by + y0, outer, True


def _outer_ring(ink: np.ndarray, cx: float, cy: float, r: float) -> float:
    """The radius of the stamp whose ring (cx, cy, r) the Hough search found: the outermost ring around
    it within 1.7 r (double-ring stamps: the search often finds the inner ring, which covers half the
    stamp), or r."""
    m = int(1.75 * r) + 9
    x0, y0 = max(0, int(cx) - m), max(0, int(cy) - m)
    crop = ink[y0:int(cy) + m, x0:int(cx) + m]
    d = cv2.dilate(crop.astype(np.uint8), np.ones((5, 5), np.uint8))
    best = r
    for f in np.arange(1.15, 1.71, 0.05):
        if _ring_score(d, (cx - x0, cy - y0, f * r)) >= MIN_RING_PERIMETER:
            best = f * r
    return best


def _describe(ctx: dict, box: tuple[int, int, int, int], source: np.ndarray, filled: np.ndarray | None,
              circle: tuple[float, float, float] | None, rect: bool = False) -> Candidate | None:
    """The features of the ink of ``source`` inside ``box`` (half-resolution coordinates)."""
    x0, y0, x1, y1 = box
    inkm = source[y0:y1, x0:x1].astype(bool)
    if filled is not None and filled.shape == inkm.shape:
        inkm = inkm & filled
    n_ink = int(inkm.sum())
    if n_ink < 40:
        return None
    grey, xh, colour = ctx["grey"], ctx["xh"], ctx["colour"]
    hs, ws = grey.shape
    bw, bh = x1 - x0, y1 - y0
    ys, xs = np.nonzero(inkm)
    cx, cy = (bw - 1) / 2, (bh - 1) / 2
    r = np.hypot((xs - cx) / max(bw / 2, 1), (ys - cy) / max(bh / 2, 1))
    ring = float(((r > 0.8) & (r < 1.05)).mean())
    edge = np.minimum.reduce([xs, bw - 1 - xs, ys, bh - 1 - ys]) / max(min(bw, bh), 1)
    frame_score = float((edge < 0.06).mean())
    d = ctx["dist"][y0:y1, x0:x1][inkm]
    stroke = float(np.median(d)) if d.size else 0.0
    ch = ctx["chroma_ink"][y0:y1, x0:x1].astype(bool) & inkm
    chroma_frac = float(ch.sum() / n_ink) if colour else 0.0
    hh = (np.arctan2(ctx["lab_b"][y0:y1, x0:x1][ch], ctx["lab_a"][y0:y1, x0:x1][ch]) if colour and ch.any()
          else np.zeros(1, np.float32))
    ncc = cv2.connectedComponents(inkm.astype(np.uint8), connectivity=8)[0] - 1
    solidity = float(filled.mean()) if filled is not None else 1.0
    g = grey[y0:y1, x0:x1][inkm]
    perim = _perimeter(inkm, circle) if circle is not None else _rect_perimeter(inkm) if rect else 0.0
    feats = np.array([
        bw / ws, bh / hs, bw / max(bh, 1), n_ink / max(bw * bh, 1),
        float(ctx["typed"][y0:y1, x0:x1].mean()), chroma_frac, float(np.sin(hh).mean()), float(np.cos(hh).mean()),
        float(colour), stroke / max(xh, 1), float(np.std(d)) / max(xh, 1) if d.size else 0.0, ring, frame_score,
        (x0 + bw / 2) / ws, (y0 + bh / 2) / hs, ncc / max(bw * bh / (xh * xh), 1), n_ink / (xh * xh) / 100.0,
        solidity, float(np.median(g)) / 255.0 if g.size else 1.0, 1.0 if circle else 2.0 if rect else 0.0, perim,
        float(ctx["on_lines"][y0:y1, x0:x1].mean()), bh / max(xh, 1), bw / max(xh, 1),
    ], np.float32)
    return Candidate(_full(box), feats)


class TreeEnsemble:
    """A random forest exported from scikit-learn to JSON (:func:`export_sklearn`); numpy inference."""

    def __init__(self, spec: dict):
        if spec["kind"] != "forest":
            raise ValueError(f"unknown ensemble kind {spec['kind']!r}")
        self.classes = spec["classes"]
        self.features = spec["features"]
        self.trees = [{k: np.asarray(v) for k, v in t.items()} for t in spec["trees"]]
        self.meta = spec.get("meta", {})

    @staticmethod
    def _leaf(t: dict, x: np.ndarray) -> np.ndarray:
        node = 0
        left, right, feat, thr = t["left"], t["right"], t["feature"], t["threshold"]
        while left[node] != -1:
            node = left[node] if x[feat[node]] <= thr[node] else right[node]
        return t["value"][node]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (columns in ``classes`` order): the mean of the trees' leaf distributions."""
        X = np.atleast_2d(X)
        out = np.zeros((len(X), len(self.classes)))
        for i, x in enumerate(X):
            p = np.mean([self._leaf(t, x) for t in self.trees], axis=0)
            out[i] = p / max(p.sum(), 1e-9)
        return out


@lru_cache(maxsize=2)
def load_model(path: str | None = None) -> TreeEnsemble:
    p = Path(path) if path else DEFAULT_MODEL
    try:
        spec = json.loads(p.read_text(encoding="utf-8"))
        model = TreeEnsemble(spec)
    except FileNotFoundError:
        raise EngineError(f"{p}: layout model file not found (train one with 'memo-ocr train-layout')") from None
    except (ValueError, KeyError, TypeError) as e:
        raise EngineError(f"{p}: not a memo-ocr layout model ({type(e).__name__}: {e})") from None
    if list(model.features) != list(FEATURES):
        raise EngineError(f"{p}: layout model was trained on other features; retrain with 'memo-ocr train-layout'")
    return model


def classify(cands: list[Candidate], model: TreeEnsemble) -> list[Candidate]:
    if not cands:
        return cands
    rest = [c for c in cands if c.inked is None]  # the network's own candidates keep its kind
    if not rest:
        return cands
    probs = model.predict_proba(np.stack([c.features for c in rest]))
    src, perim = FEATURES.index("source"), FEATURES.index("perimeter")
    for c, p in zip(rest, probs, strict=True):
        j = int(np.argmax(p))
        c.kind, c.prob = model.classes[j], float(p[j])
        c.probs = {k: float(v) for k, v in zip(model.classes, p, strict=True)}
        if c.features[src] == 1.0 and c.features[perim] < MIN_RING_PERIMETER:
            c.kind = "noise"  # a "circle" in dense text: too little of its outline is inked
    return cands


def export_sklearn(clf, features: tuple[str, ...], meta: dict) -> dict:
    """A fitted RandomForestClassifier as the JSON :class:`TreeEnsemble` reads."""
    trees = []
    for est in clf.estimators_:
        t = est.tree_
        trees.append({"left": t.children_left.tolist(), "right": t.children_right.tolist(),
                      "feature": t.feature.tolist(), "threshold": [round(float(v), 6) for v in t.threshold],
                      "value": [[round(float(v), 5) for v in row] for row in t.value[:, 0, :]]})
    return {"kind": "forest", "classes": [str(c) for c in clf.classes_], "features": list(features),
            "trees": trees, "meta": meta}
