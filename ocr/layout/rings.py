"""Stamp outlines: round rings (Hough circles refined to the inked outline) and rectangular frames."""
from __future__ import annotations

import cv2
import numpy as np

# a circle is a ring where its outline is inked and the ground beside it much less (``ring_perimeter``, one of
# the classifier's features; ``_outer_ring`` takes the outermost such circle); measured on 12 synthetic pages:
# circles in dense typed text at most 0.17 (0.21 on a test page of 34 px type), stamp rings median 0.27
MIN_RING_PERIMETER = 0.22


SHARP_RING = 0.85  # a circle inked this far round is a stamp's ring (refine_ring)


ROUGH_RING = 0.55  # ... and one inked less than this far round near the Hough circle is not refined


def find_frames(ink: np.ndarray, ws: int, hs: int) -> list[tuple[int, int, int, int]]:
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
