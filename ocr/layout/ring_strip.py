"""A round stamp's ring: found in the stamp's crop (a Hough circle, then the outermost ring about its centre,
inked most of the way round, paper beyond it; an oval one: an ellipse fitted with RANSAC to the stamp's
outline, the crop stretched until it is round) and unwrapped with ``cv2.warpPolar`` into a straight strip
(clockwise, letter tops outward: the way such text is set), the band between the outer and the inner ring
kept, the rings' ink and what lies above and below the letters painted over, cut where the stamp's own ink
leaves the widest gap, where its text begins and ends (``stamp_text`` reads it)."""
from __future__ import annotations

import cv2
import numpy as np

from .candidates import ink_mask
from .rings import refine_ring

RING_INNER, RING_OUTER = 0.62, 0.97  # the ring text's band, in radii of the outer ring, where no inner ring is seen

RING_LOWEST, RING_SPLIT = 0.45, 0.9  # an inner ring is looked for between these shares of the outer one's
# radius (outside the second: the outer ring's own width)

RING_RUN, RING_ROW = 0.1, 0.5  # in the unwrapped strip a ring is a row whose runs of ink this long (in shares of
# the strip's length) cover this share of it

STRIP_MARGIN = 16  # paper round the strip, in pixels
LETTER_ROWS = 0.25  # the ring text's rows: about the strip's most inked row, those inked at least this share as much

MIN_RING_INK = 0.6  # a circle is the stamp's ring when its ink goes this far round ...
MIN_RING_ARC = 0.15  # ... and one unbroken arc of it at least this share of the way: a circle drawn in a
# rectangular stamp meets its frame, ruled fields and letters in short arcs only (tuning reels: 0.15, 0.25 and
# 0.4 the same on the plain ones, 0.15 best on the worn one by 4 edits; without it a frame with rules passed)

RING_BEYOND, RING_OUTSIDE = 1.1, 0.25  # a stamp's outer ring has paper beyond it: the circle this much wider is
# inked under this share of the way round (tuning reels: plain stamps' rings 0.00-0.16; circles found through a
# ruled stamp 0.38 and 0.52, inside an oval one 0.27-0.52)

COLOURED = 14  # ink this far from grey in Lab's a*, b* plane is coloured ...
COLOURED_SHARE = 0.3  # ... and a stamp is coloured where at least this share of its ink is


def find_ring(grey: np.ndarray) -> tuple[float, float, float] | None:
    """The outer ring (centre x, y and radius in ``grey``'s pixels) of a round stamp cut out with a little
    paper round it, or None where the crop holds no ring inked most of the way round, in one unbroken arc
    of a sixth of it at least, with paper beyond it (a circle the search draws in a rectangular stamp, or
    inside an oval one, is not one)."""
    h, w = grey.shape
    side = min(h, w)
    if side < 40:
        return None
    found = cv2.HoughCircles(cv2.GaussianBlur(grey, (5, 5), 1.5), cv2.HOUGH_GRADIENT, dp=1.5, minDist=side,
                             param1=80, param2=40, minRadius=int(side * 0.3), maxRadius=int(side * 0.55))
    if found is None:
        return None
    ink = ink_mask(grey)
    # the search finds either ring of a double-ringed stamp, often the inner one, whose band holds the
    # centre's lines: the stamp's outline is the outermost ring about that centre
    cx, cy, r, _ = refine_ring(ink > 0, *(float(v) for v in found[0][0]))
    if r > 0.6 * side:
        return None
    return (cx, cy, r) if _outline(ink, cx, cy, r, r) is not None else None


def inked_round(ink: np.ndarray, cx: float, cy: float, a: float, b: float, turn: float = 0.0) -> np.ndarray:
    """For each of 180 directions from the centre (cx, cy), whether ``ink`` lies within 4 % of the ellipse
    of semi-axes ``a``, ``b`` turned by ``turn`` (radians; a circle where ``a`` = ``b``); the crop's edge
    stands for what lies beyond it."""
    h, w = ink.shape
    t = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    inked = np.zeros(len(t), bool)
    for k in np.linspace(0.96, 1.04, 5):
        xs = cx + k * (a * np.cos(t) * np.cos(turn) - b * np.sin(t) * np.sin(turn))
        ys = cy + k * (a * np.cos(t) * np.sin(turn) + b * np.sin(t) * np.cos(turn))
        inked |= ink[np.clip(ys.astype(int), 0, h - 1), np.clip(xs.astype(int), 0, w - 1)] > 0
    return inked


def _outline(ink: np.ndarray, cx: float, cy: float, a: float, b: float, turn: float = 0.0) -> np.ndarray | None:
    """``inked_round`` of the ellipse (a circle where ``a`` = ``b``) where it is a stamp's outline: inked
    ``MIN_RING_INK`` of the way round, ``MIN_RING_ARC`` of it in one unbroken arc, with paper beyond it (its
    copy ``RING_BEYOND`` as wide inked under ``RING_OUTSIDE`` of the way round: a circle through a stamp's
    lettering, or one through or an ellipse round a ruled stamp's frame, has ink all round outside it);
    None otherwise."""
    inked = inked_round(ink, cx, cy, a, b, turn)
    if inked.mean() < MIN_RING_INK or longest_run(inked)[0] < MIN_RING_ARC * len(inked):
        return None
    if inked_round(ink, cx, cy, RING_BEYOND * a, RING_BEYOND * b, turn).mean() >= RING_OUTSIDE:
        return None
    return inked


OVAL = 1.08  # an ellipse whose long axis is this much longer than its short one is an oval ring
OVAL_RAYS = 120  # the rays cast from the stamp's middle for the outline's points
OVAL_FIT = 0.5  # an oval is the stamp's outline where this share of the rays' points lies on it ...
OVAL_TOLERANCE = 0.02  # ... within this share of the crop's side (at least 3 px)


def find_oval(crop: np.ndarray, middle: tuple[float, float],
              circle: tuple[float, float, float] | None = None) -> tuple[float, float, float, float, float] | None:
    """An oval stamp's outer ring in ``crop`` (grey or BGR, the stamp with a margin round it; ``middle``: about
    its middle): (centre x, y, semi-axes a, b, turn in radians), or None where it is not an oval inked most
    of the way round. The outermost ink along rays from the middle is the outline where nothing lies
    outside it; an ellipse fitted to those points with RANSAC leaves out the rays that end in typing or a
    signature beside the stamp (its coloured ink only, on a colour scan). A round ring is not an oval, nor
    is one inked no further round than the ``circle`` (x, y, radius in ``crop``'s pixels) ``find_ring``
    found (a round stamp with a signature across it gave such ovals), nor one with ink all round beyond it
    (``RING_OUTSIDE``: a rectangular stamp's frame). ``turn``: the a axis's from the x axis."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    h, w = grey.shape
    if min(h, w) < 40:
        return None
    ink = ink_mask(grey) > 0
    if crop.ndim == 3 and (coloured := coloured_ink(crop, ink)) is not None:
        ink = coloured
    mx, my = middle
    radii = np.arange(0.0, float(np.hypot(max(mx, w - mx), max(my, h - my))))
    points = []
    for t in np.linspace(0, 2 * np.pi, OVAL_RAYS, endpoint=False):
        xs, ys = (mx + radii * np.cos(t)).astype(int), (my + radii * np.sin(t)).astype(int)
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        hits = np.nonzero(ink[ys[inside], xs[inside]])[0]
        if len(hits):
            points.append((xs[inside][hits[-1]], ys[inside][hits[-1]]))
    if len(points) < OVAL_RAYS // 2:
        return None
    fitted = _ransac_ellipse(np.array(points, np.float32), max(3.0, OVAL_TOLERANCE * min(h, w)))
    if fitted is None:
        return None
    cx, cy, a, b, turn = fitted
    if not 0.2 * min(h, w) <= min(a, b) <= max(a, b) <= 0.75 * max(h, w) or max(a, b) < OVAL * min(a, b):
        return None
    inked = _outline(ink, cx, cy, a, b, turn)
    if inked is None or (circle is not None and inked_round(ink, *circle, circle[2]).mean() >= inked.mean()):
        return None
    return cx, cy, a, b, turn


OVAL_MARGIN = 0.25  # an oval is looked for in the stamp's box grown by this share of its longer side: a box
# found as a circle's cuts an oval


def grown(image: np.ndarray, box: tuple[int, int, int, int]) -> tuple[np.ndarray, tuple[int, int],
                                                                        tuple[float, float]]:
    """The crop of ``image`` where an oval about ``box`` (page pixels) is looked for: the box grown by
    ``OVAL_MARGIN`` of its longer side; its top left in the page, and the box's middle in the crop."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    g = int(OVAL_MARGIN * max(x1 - x0, y1 - y0))
    bx0, by0 = max(0, x0 - g), max(0, y0 - g)
    return image[by0:min(h, y1 + g), bx0:min(w, x1 + g)], (bx0, by0), ((x0 + x1) / 2 - bx0, (y0 + y1) / 2 - by0)


RING_PAD = 6  # the paper round a stamp's box in the crop its ring is looked for in, in pixels


def padded(image: np.ndarray, box: tuple[int, int, int, int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The stamp at ``box`` (page pixels) cut out of ``image`` with ``RING_PAD`` of paper round it (within the
    page), and the crop's box in the page."""
    h, w = image.shape[:2]
    x0, y0 = max(0, box[0] - RING_PAD), max(0, box[1] - RING_PAD)
    x1, y1 = min(w, box[2] + RING_PAD), min(h, box[3] + RING_PAD)
    return image[y0:y1, x0:x1], (x0, y0, x1, y1)


def ringed(image: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Whether the ink at ``box`` (page pixels; ``image`` grey or BGR) holds a stamp's outline: a ring
    (``find_ring`` in the box with a little paper round it) or an oval (``find_oval`` in the box grown)."""
    crop, outer = padded(image, box)
    if crop.size == 0:
        return False
    if find_ring(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop) is not None:
        return True
    big, _, middle = grown(image, outer)
    return find_oval(big, middle) is not None


OVAL_TRIALS = 200  # RANSAC's draws of five points


def _ransac_ellipse(points: np.ndarray, tolerance: float) -> tuple[float, float, float, float, float] | None:
    """The ellipse (centre x, y, semi-axes, turn in radians) through most of ``points``: ``cv2.fitEllipse`` on
    five points drawn at random (seeded), kept where the most points lie within ``tolerance`` of it along the
    ray from its centre, fitted again to those; None where they are under ``OVAL_FIT`` of the points."""
    rng = np.random.default_rng(0)
    best = None
    for _ in range(OVAL_TRIALS):
        (cx, cy), (wa, wb), deg = cv2.fitEllipse(points[rng.choice(len(points), 5, replace=False)])
        if not (np.isfinite([cx, cy, wa, wb]).all() and min(wa, wb) > 1):
            continue
        near = _off_ellipse(points, cx, cy, wa / 2, wb / 2, np.deg2rad(deg)) < tolerance
        if best is None or near.sum() > best.sum():
            best = near
    if best is None or best.mean() < OVAL_FIT:
        return None
    (cx, cy), (wa, wb), deg = cv2.fitEllipse(points[best])
    return float(cx), float(cy), float(wa) / 2, float(wb) / 2, float(np.deg2rad(deg))


def _off_ellipse(points: np.ndarray, cx: float, cy: float, a: float, b: float, turn: float) -> np.ndarray:
    """How far each point lies from the ellipse, along the ray from its centre."""
    dx, dy = points[:, 0] - cx, points[:, 1] - cy
    c, s = np.cos(turn), np.sin(turn)
    u, v = dx * c + dy * s, -dx * s + dy * c
    rho = np.maximum(np.hypot(u / a, v / b), 1e-9)
    return np.hypot(u, v) * np.abs(1 - 1 / rho)


def oval_round(crop: np.ndarray, oval: tuple[float, float, float, float, float],
               paper: int) -> tuple[np.ndarray, tuple[float, float, float], np.ndarray]:
    """``crop`` stretched along the oval's short axis until the oval is a circle (the long axis's radius):
    the stretched image, the circle (centre x, y, radius) in it, and the 2x3 map from its pixels back to
    ``crop``'s. Its ring text is then unwrapped as a round stamp's."""
    cx, cy, a, b, turn = oval
    r = max(a, b)
    c, s = np.cos(turn), np.sin(turn)
    turned = np.array([[c, -s], [s, c]])
    linear = turned @ np.diag([r / a, r / b]) @ turned.T
    h, w = crop.shape[:2]
    corners = (np.array([[0, 0], [w, 0], [0, h], [w, h]], float) - (cx, cy)) @ linear.T
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    size = (int(np.ceil(hi[0] - lo[0])), int(np.ceil(hi[1] - lo[1])))
    m = np.hstack([linear, (-linear @ (cx, cy) - lo)[:, None]])
    fill = paper if crop.ndim == 2 else (paper, paper, paper)
    out = cv2.warpAffine(crop, m, size, flags=cv2.INTER_LINEAR, borderValue=fill)
    return out, (float(-lo[0]), float(-lo[1]), r), cv2.invertAffineTransform(m)


def longest_run(flags: np.ndarray) -> tuple[int, int]:
    """The longest run of set ``flags`` taken round a circle twice (a run may span the end and the start)
    and where it ends, an index into ``flags`` twice over."""
    best_len = best_end = run = 0
    for i, f in enumerate(np.concatenate([flags, flags])):
        run = run + 1 if f else 0
        if run > best_len:
            best_len, best_end = run, i
    return best_len, best_end


def coloured_ink(bgr: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    """The coloured part of ``ink`` (a mask over the BGR image ``bgr``: far from grey in Lab's a*, b*
    plane), where it is at least ``COLOURED_SHARE`` of the ink: a coloured stamp; None otherwise."""
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab).astype(np.float32)
    coloured = ink & (np.hypot(lab[:, :, 1] - 128, lab[:, :, 2] - 128) > COLOURED)
    return coloured if coloured.sum() > COLOURED_SHARE * max(1, ink.sum()) else None


def ring_strip(crop: np.ndarray, ring: tuple[float, float, float]) -> np.ndarray:
    """The ring text of a round stamp (``crop`` grey or BGR) as a straight grey strip, letters upright, with a
    margin of paper round it: the band between the outer ring and the inner one, the rings' ink painted
    over (a line along a word makes Tesseract find no line at all), only its letters' rows kept
    (``_letter_rows``), cut at the widest gap in the stamp's ink (its coloured ink on a colour scan: typing
    behind the stamp is not its text)."""
    cx, cy, r = ring
    n = max(64, int(2 * np.pi * r))  # a pixel of strip per pixel of the outer ring's arc
    polar = cv2.warpPolar(crop, (int(r * 1.1), n), (cx, cy), r * 1.1, cv2.WARP_POLAR_LINEAR + cv2.INTER_LINEAR)
    polar = cv2.rotate(polar, cv2.ROTATE_90_COUNTERCLOCKWISE)  # columns: angle; rows: radius, outer at the top
    grey = cv2.cvtColor(polar, cv2.COLOR_BGR2GRAY) if polar.ndim == 3 else polar
    rows, cols = grey.shape
    ink = ink_mask(grey) > 0
    # a ring is a long horizontal line of the strip: rows where such runs cover much of the width
    along = np.ones((1, max(40, int(RING_RUN * cols))), np.uint8)
    lines = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, along)
    radius = (rows - np.arange(rows)) / rows * 1.1  # each row's radius, in outer radii
    ringed = lines.mean(axis=1) > RING_ROW
    outer = np.nonzero(ringed & (radius > RING_SPLIT))[0]
    inner = np.nonzero(ringed & (radius >= RING_LOWEST) & (radius <= RING_SPLIT))[0]
    top = int(outer.max()) + 1 if len(outer) else int(rows * (1 - RING_OUTER / 1.1))
    bottom = int(inner.min()) if len(inner) else int(rows * (1 - RING_INNER / 1.1))
    if bottom - top < 8:
        top, bottom = int(rows * (1 - RING_OUTER / 1.1)), int(rows * (1 - RING_INNER / 1.1))
    band = grey[top:bottom].copy()
    paper = int(np.percentile(band, 90))
    # what is left of the rings in the band: runs of ink twice the band's height long
    left = cv2.morphologyEx(ink_mask(band), cv2.MORPH_OPEN, np.ones((1, max(40, 2 * (bottom - top))), np.uint8))
    band[cv2.dilate(left, np.ones((3, 3), np.uint8)) > 0] = paper
    ink = ink_mask(band) > 0
    if polar.ndim == 3:
        coloured = coloured_ink(polar[top:bottom], ink)
        if coloured is not None:  # a coloured stamp: its own ink says where its text is
            ink = coloured
    band = _letter_rows(band, ink, paper)
    best_len, best_end = longest_run(ink.sum(axis=0) < 2)
    start = (best_end - best_len // 2) % cols
    m = STRIP_MARGIN
    return cv2.copyMakeBorder(np.roll(band, -start, axis=1), m, m, m, m, cv2.BORDER_CONSTANT, value=paper)


def _letter_rows(band: np.ndarray, ink: np.ndarray, paper: int) -> np.ndarray:
    """``band`` with paper above and below its letters' rows: the rows about its most inked one that are inked at
    least ``LETTER_ROWS`` as much (a ring's letters run all round it; typing behind the ring and a hand's strokes
    across it cross it here and there, and made Tesseract read the letters as other lines' scraps)."""
    prof = ink.mean(axis=1)
    if not prof.size or prof.max() <= 0:
        return band
    rich = prof >= LETTER_ROWS * prof.max()
    top = bottom = int(np.argmax(prof))
    while top > 0 and rich[top - 1]:
        top -= 1
    while bottom < len(rich) - 1 and rich[bottom + 1]:
        bottom += 1
    pad = max(2, (bottom - top + 1) // 4)  # a letter's anti-aliased edge, a second strike a little off the first
    out = band.copy()
    out[:max(0, top - pad)] = paper
    out[bottom + pad + 1:] = paper
    return out
