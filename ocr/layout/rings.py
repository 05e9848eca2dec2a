"""Stamp outlines: round rings (Hough circles refined to the inked outline) and rectangular frames."""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..model import cover

# a circle is a ring where its outline is inked and the ground beside it much less (``ring_perimeter``, one of
# the classifier's features; ``_outer_ring`` takes the outermost such circle); measured on 12 synthetic pages:
# circles in dense typed text at most 0.17 (0.21 on a test page of 34 px type), stamp rings median 0.27
MIN_RING_PERIMETER = 0.22


SHARP_RING = 0.85  # a circle inked this far round is a stamp's ring (refine_ring)


ROUGH_RING = 0.55  # ... and one inked less than this far round near the Hough circle is not refined


FRAME_SIZES = (0.06, 0.45)  # a rectangular stamp is this share of the page's width wide, at least (half as
# high) and at most (either way), and a tenth of the page at most


def _frame_sized(w: float, h: float, ws: int, hs: int) -> bool:
    """Whether a box ``w`` x ``h`` (half resolution) is a rectangular stamp's size on a page ``ws`` x ``hs``."""
    lo, hi = (ws * k for k in FRAME_SIZES)
    return lo <= w <= hi and lo * 0.5 <= h <= hi and w * h <= 0.1 * ws * hs


def find_frames(ink: np.ndarray, ws: int, hs: int) -> list[tuple[int, int, int, int]]:
    """Hollow four-sided outlines (rectangular stamps), half-resolution boxes."""
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(closed, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if not _frame_sized(w, h, ws, hs):
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


SIDE_INKED = 0.85  # a straight run of ink inked this much along its length is a side of a frame (not a typed line)


SIDE_GAP = 4  # ... its gaps at most this many half-resolution pixels


FRAME_SIDE = 0.4  # a frame found by its sides: each side inked at least this far along ...


FRAME_INKED = 0.75  # ... and the four together this far round


FRAME_SKEW = 8  # degrees two opposite sides of a frame may differ by (a page's curl bends a scanned frame)


SIDE_CLEAR = 0.3  # an upright side's column is this much more inked than the one SIDE_IN pixels inside it (a
SIDE_IN = 12  # column of typed lines' letters between two rules is about as inked as the columns beside it)


MAX_GROUP = 0.25  # an ink group larger than this share of the page (a scan's dark edge, a whole page's text)
# is not searched for frames: a frame is at most a tenth of the page, a note across it leaves it far smaller


def find_sided_frames(ink: np.ndarray, ws: int, hs: int,
                      within: list[tuple[int, int, int, int]] | None = None) -> list[tuple[int, int, int, int]]:
    """Rectangular stamps found by their four straight sides, half-resolution boxes: frames the contour
    search (``find_frames``) misses because the outline is broken (a corner not inked) or because other ink
    (a note written across the stamp) touches it, so that no contour is four-sided. Two parallel straight
    runs of ink (``SIDE_INKED``; a typed line's foot is not inked so evenly) a frame's height apart are
    turned level; the other two sides are the columns between them most fully inked near their ends, each
    standing clear of the ink inside it (``SIDE_CLEAR``); the four must be inked ``FRAME_SIDE`` each and
    ``FRAME_INKED`` round, the inside mostly paper. Of boxes that overlap, the largest is kept (a registry
    stamp's ruled fields make smaller frames inside it). With ``within`` (boxes: the ink groups the layout
    stage found; such a frame's ink is one or more of them), only the ink in or near them is searched, in
    groups up to ``MAX_GROUP`` of the page."""
    lo, hi = (ws * k for k in FRAME_SIZES)
    searched = ink
    if within is not None:
        near, m = np.zeros_like(ink), int(lo * 0.5)
        for x0, y0, x1, y1 in within:
            if (x1 - x0) * (y1 - y0) <= MAX_GROUP * ws * hs:
                near[max(0, y0 - m):y1 + m, max(0, x0 - m):x1 + m] = 1
        if not near.any():
            return []
        searched = ink & near
    found = cv2.HoughLinesP(searched * 255, 1, np.pi / 180, int(lo * 0.4), minLineLength=int(lo * 0.4),
                            maxLineGap=SIDE_GAP)
    if found is None:
        return []
    segs = found.reshape(-1, 4).astype(np.float64)
    segs = _distinct(segs[_inked_along(ink, segs) >= SIDE_INKED])
    pairs = _side_pairs(segs, lo, hi)
    if not pairs:
        return []
    dil = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    frames = [got for i, j in pairs if (got := _frame_between(dil, segs[i], segs[j], lo, hi)) is not None]
    out: list[tuple[int, int, int, int]] = []
    for box in sorted(frames, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True):
        x0, y0, x1, y1 = box
        if _frame_sized(x1 - x0, y1 - y0, ws, hs) and not any(cover(box, o) > 0.5 or cover(o, box) > 0.5 for o in out):
            out.append((max(0, x0), max(0, y0), min(ws, x1), min(hs, y1)))
    return out[:8]


def _inked_along(ink: np.ndarray, segs: np.ndarray, samples: int = 64) -> np.ndarray:
    """Share of ``samples`` points spread along each segment (rows x0, y0, x1, y1) that are ink."""
    t = np.linspace(0, 1, samples)
    xs = np.clip(np.round(segs[:, :1] + (segs[:, 2:3] - segs[:, :1]) * t), 0, ink.shape[1] - 1).astype(int)
    ys = np.clip(np.round(segs[:, 1:2] + (segs[:, 3:4] - segs[:, 1:2]) * t), 0, ink.shape[0] - 1).astype(int)
    return ink[ys, xs].mean(axis=1)


def _distinct(segs: np.ndarray) -> np.ndarray:
    """``segs`` without those lying along a longer one (within 3 degrees and 3 pixels of its line, mostly
    beside it): the Hough search returns each thick side as several runs."""
    length = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    kept: list[int] = []
    for k in np.argsort(-length):
        x0, y0, x1, y1 = segs[k]
        if not any(_along_line(segs[o], x0, y0, x1, y1) for o in kept):
            kept.append(int(k))
    return segs[kept]


def _along_line(seg: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> bool:
    """Whether the segment (x0, y0)-(x1, y1) lies along ``seg``: within 3 degrees and 3 pixels of its line,
    and beside it over at least 80 % of its length."""
    dx, dy = seg[2] - seg[0], seg[3] - seg[1]
    n = math.hypot(dx, dy)
    ux, uy = dx / n, dy / n
    if abs((math.degrees(math.atan2(y1 - y0, x1 - x0) - math.atan2(dy, dx)) + 90) % 180 - 90) > 3:
        return False
    if max(abs(-(x - seg[0]) * uy + (y - seg[1]) * ux) for x, y in ((x0, y0), (x1, y1))) > 3:
        return False
    a, b = sorted(((x0 - seg[0]) * ux + (y0 - seg[1]) * uy, (x1 - seg[0]) * ux + (y1 - seg[1]) * uy))
    return min(b, n) - max(a, 0.0) >= 0.8 * (b - a)


def _side_pairs(segs: np.ndarray, lo: float, hi: float) -> list[tuple[int, int]]:
    """Index pairs of the segments that may be two opposite sides of a frame: near level or upright, within
    ``FRAME_SKEW`` degrees of each other, their middles ``lo`` / 2 to ``hi`` apart across them and side by
    side (looser than ``_frame_between``, which measures on the sides' lines)."""
    ang = np.degrees(np.arctan2(segs[:, 3] - segs[:, 1], segs[:, 2] - segs[:, 0])) % 180
    mid = (segs[:, :2] + segs[:, 2:]) / 2
    i, j = np.triu_indices(len(segs), 1)
    skew = np.abs((ang[i] - ang[j] + 90) % 180 - 90)
    rad = np.radians(ang[i])
    across = np.abs(-(mid[j, 0] - mid[i, 0]) * np.sin(rad) + (mid[j, 1] - mid[i, 1]) * np.cos(rad))
    along = [np.sort(np.stack([segs[k, 0] * np.cos(rad) + segs[k, 1] * np.sin(rad),
                               segs[k, 2] * np.cos(rad) + segs[k, 3] * np.sin(rad)]), axis=0) for k in (i, j)]
    side_by_side = np.minimum(along[0][1], along[1][1]) - np.maximum(along[0][0], along[1][0]) \
        >= 0.4 * np.minimum(along[0][1] - along[0][0], along[1][1] - along[1][0])
    near_axis = np.abs((ang[i] + 45) % 90 - 45) <= 20
    ok = near_axis & (skew <= FRAME_SKEW) & (across >= 0.9 * lo * 0.5) & (across <= 1.1 * hi) & side_by_side
    return list(zip(i[ok].tolist(), j[ok].tolist(), strict=True))


def _frame_between(dil: np.ndarray, a: np.ndarray, b: np.ndarray, lo: float,
                   hi: float) -> tuple[int, int, int, int] | None:
    """The box of the frame whose two opposite sides are the segments ``a`` and ``b`` (a pair ``_side_pairs``
    gave; measured again on the sides' lines: ``lo`` / 2 to ``hi`` apart and side by side over half the
    shorter), or None; ``dil``: the page's ink dilated by a pixel."""
    ta, tb = (math.atan2(s[3] - s[1], s[2] - s[0]) % math.pi for s in (a, b))
    skew = (tb - ta + math.pi / 2) % math.pi - math.pi / 2
    c, s = math.cos(ta + skew / 2), math.sin(ta + skew / 2)  # turned so: u along the two, v across
    ends = [np.array([[p[0] * c + p[1] * s, -p[0] * s + p[1] * c], [p[2] * c + p[3] * s, -p[2] * s + p[3] * c]])
            for p in (a, b)]
    ends = [e[np.argsort(e[:, 0])] for e in sorted(ends, key=lambda e: e[:, 1].mean())]  # top side first
    (a0, a1), (b0, b1) = ends[0][:, 0], ends[1][:, 0]
    gap = ends[1][:, 1].mean() - ends[0][:, 1].mean()
    if not lo * 0.5 <= gap <= hi or min(a1, b1) - max(a0, b0) < 0.5 * min(a1 - a0, b1 - b0):
        return None
    u0, u1 = min(a0, b0), max(a1, b1)
    m = int(0.15 * (u1 - u0)) + 4  # the upright sides are looked for this far beyond the two segments' ends
    us = np.arange(int(u1 - u0) + 2 * m + 1) + u0 - m
    vs = [np.polyval(np.polyfit(e[:, 0], e[:, 1], 1), us) for e in ends]  # each side's line, extended
    v0 = min(vs[0].min(), vs[1].min()) - 6 - REFIT_SHIFT
    turn = np.array([[c, s, m - u0], [-s, c, -v0]])
    size = (len(us), int(max(vs[0].max(), vs[1].max()) - v0) + 7 + REFIT_SHIFT)
    level = cv2.warpAffine(dil, turn, size, flags=cv2.INTER_NEAREST)
    top, bottom = (_refit(level, v - v0, e[:, 0].mean() - u0 + m) for v, e in zip(vs, ends, strict=True))
    rows = np.arange(size[1])[:, None]
    between = (rows >= top) & (rows <= bottom)
    wide = cv2.dilate(level, np.ones((1, 5), np.uint8))  # an upright side a little off upright stays in a column
    cols = (wide * between).sum(axis=0) / np.maximum(between.sum(axis=0), 1)
    reach = m + int(0.3 * (u1 - u0))
    left = _side(cols, range(0, min(len(cols), reach)))
    right = _side(cols, range(len(cols) - 1, max(-1, len(cols) - 1 - reach), -1))
    if right - left < lo * 0.5:
        return None
    span = slice(left, right + 1)
    along = [float((level * (np.abs(rows - v) <= 2)).any(axis=0)[span].mean()) for v in (top, bottom)]
    along += [float(cols[left]), float(cols[right])]
    inward = min(SIDE_IN, (right - left) // 2)
    clear = min(cols[left] - cols[left + inward], cols[right] - cols[right - inward])
    w, h = right - left, float(np.mean(bottom[span] - top[span]))
    inked = (w * (along[0] + along[1]) + h * (along[2] + along[3])) / (2 * w + 2 * h)
    inside = ((rows > top + 2) & (rows < bottom - 2))[:, left + 3:right - 2]
    if min(along) < FRAME_SIDE or clear < SIDE_CLEAR or inked < FRAME_INKED or not inside.any() \
            or level[:, left + 3:right - 2][inside].mean() > 0.4:
        return None
    back = cv2.invertAffineTransform(turn)
    corners = np.array([[left, top[left]], [right, top[right]], [right, bottom[right]], [left, bottom[left]]],
                       np.float64) @ back[:, :2].T + back[:, 2]
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    return int(x0), int(y0), int(x1) + 1, int(y1) + 1


REFIT_SHIFT = 5  # a side's line is moved up to this many pixels ...


REFIT_TURN = 3.0  # ... and turned up to this many degrees about its segment's middle to lie along its ink


def _refit(level: np.ndarray, v: np.ndarray, mid: float) -> np.ndarray:
    """The rows (one a column of ``level``) of the line near ``v`` (rows along the side's segment, extended)
    that runs along the most ink: a short segment's slope, extended over the frame, drifts off its side."""
    cols = np.arange(level.shape[1])
    slopes = np.tan(np.radians(np.linspace(-REFIT_TURN, REFIT_TURN, 13)))
    shifts = np.arange(-REFIT_SHIFT, REFIT_SHIFT + 1)
    rows = (v[None, None, :] + shifts[None, :, None] + slopes[:, None, None] * (cols - mid)[None, None, :])
    rows = np.clip(np.round(rows).astype(int), 0, level.shape[0] - 1)
    score = level[rows, cols[None, None, :]].sum(axis=2)
    k, j = np.unravel_index(int(np.argmax(score)), score.shape)
    return rows[k, j]


SIDE_FULL = 0.7  # an upright side is the outermost column inked this far between the two others


def _side(cols: np.ndarray, order: range) -> int:
    """The column, in ``order`` from the outside in, of an upright side: the first inked ``SIDE_FULL`` of
    the way, or else the most fully inked."""
    for u in order:
        if cols[u] >= SIDE_FULL:
            return u
    return max(order, key=lambda u: cols[u])


def rect_perimeter(inkm: np.ndarray) -> float:
    """Share of the box's border (a band 3 % of its size) that has ink: rectangular stamp frames score high."""
    h, w = inkm.shape
    b = max(2, int(0.03 * min(w, h)))
    cols = np.concatenate([inkm[:b].any(axis=0), inkm[-b:].any(axis=0)])
    rows = np.concatenate([inkm[:, :b].any(axis=1), inkm[:, -b:].any(axis=1)])
    return float(np.concatenate([cols, rows]).mean())


# The Hough search's vote threshold: a share of the smallest ring's circumference (quarter resolution), at
# least MIN_VOTES. On dense type at 300 ppi a fixed 40 votes let letters propose circles everywhere (the
# search's time grows with them: 0.3-1.2 s on EHRI pages, all eight proposals false); 0.58 (80 votes at
# 300 ppi) takes 0.01 s there and finds the same rings on the synthetic stamp reels (bench/layout.py:
# stamps found equal or more); a fixed 80 lost most rings on pages scanned at 120 ppi.
RING_VOTES = 0.58


MIN_VOTES = 40  # (28 proposed 30-110 "circles" a page at six times the time, the same regions found)


def find_circles(ink: np.ndarray, ws: int) -> list[tuple[float, float, float]]:
    """Ring-shaped ink (stamp outlines) found by a Hough transform at quarter resolution (half-res coordinates)."""
    q = cv2.resize(ink.astype(np.float32), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    q = cv2.GaussianBlur((q * 255).astype(np.uint8), (5, 5), 1.5)
    r0, r1 = int(ws * 0.5 * 0.035), int(ws * 0.5 * 0.12)
    votes = max(MIN_VOTES, round(RING_VOTES * 2 * np.pi * r0))
    found = cv2.HoughCircles(q, cv2.HOUGH_GRADIENT, dp=1.5, minDist=r0 * 2, param1=80, param2=votes,
                             minRadius=r0, maxRadius=r1)
    if found is None:
        return []
    return [(float(x) * 2, float(y) * 2, float(r) * 2) for x, y, r in found[0][:8]]


def ring_perimeter(inkm: np.ndarray, circle: tuple[float, float, float]) -> float:
    """How ring-like the ink along a circle (in ``inkm``'s coordinates) is: the share of the outline with ink
    within 2 px, less the mean share on the two circles 7 px inside and outside it. A stamp's ring is a thin
    line (high on, low beside it); a "circle" the Hough transform finds in dense text is inked all over."""
    cx, cy, r = circle
    return float(_ring_score(cv2.dilate(inkm.astype(np.uint8), np.ones((5, 5), np.uint8)), cx, cy, np.array([r]))[0])


def _ring_score(dilated: np.ndarray, cx: float, cy: float, radii: np.ndarray) -> np.ndarray:
    """``ring_perimeter``'s score of the circles about (cx, cy) of each radius."""
    on, inside, outside = _shares(dilated, cx, cy, np.concatenate([radii, radii - 7, radii + 7])).reshape(3, -1)
    return on - 0.5 * (inside + outside)


_ANGLES = np.linspace(0, 2 * np.pi, 120, endpoint=False)


def _shares(d: np.ndarray, cx, cy, radii: np.ndarray, step: int = 1) -> np.ndarray:
    """The share of each circle (cx, cy, radius) of ``d`` that is inked, for every radius; for arrays of
    centres (cx, cy), a row of them per centre."""
    t = _ANGLES[::step]
    h, w = d.shape
    cx, cy = np.asarray(cx, np.float64)[..., None, None], np.asarray(cy, np.float64)[..., None, None]
    xs = np.round(cx + radii[:, None] * np.cos(t)).astype(int)
    ys = np.round(cy + radii[:, None] * np.sin(t)).astype(int)
    ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    return np.where(ok, d[np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)], 0).sum(-1) / len(t)


def _grid(cx: float, cy: float, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The centres (cx + dx, cy + dy) for every pair of offsets, dx the slower."""
    dx, dy = np.meshgrid(offsets, offsets, indexing="ij")
    return cx + dx.ravel(), cy + dy.ravel()


def refine_ring(ink: np.ndarray, cx: float, cy: float, r: float) -> tuple[float, float, float, bool]:
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
    xs, ys = _grid(lx, ly, np.arange(-0.3 * r, 0.3 * r + 1, 6.0))
    coarse = _shares(d, xs, ys, radii, step=2).max(1)
    i = int(np.argmax(coarse))
    best = (lx, ly) if coarse[i] <= 0 else (xs[i], ys[i])
    fine = np.arange(0.6 * r, 1.8 * r, 1.0)
    xs, ys = _grid(best[0], best[1], np.arange(-4.0, 5.0, 2.0))
    shares = _shares(d, xs, ys, fine)
    scored = [(float(v.max()), float(x), float(y), v) for x, y, v in zip(xs, ys, shares, strict=True)]
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
    radii = np.arange(1.15, 1.71, 0.05) * r
    ringed = np.nonzero(_ring_score(d, cx - x0, cy - y0, radii) >= MIN_RING_PERIMETER)[0]
    return float(radii[ringed[-1]]) if len(ringed) else r
