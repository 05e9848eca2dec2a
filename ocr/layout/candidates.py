"""Candidate regions: the ink outside the typed lines (and, on colour scans, every coloured ink pixel),
grouped by a morphological closing, each described by the features that tell handwriting, stamps and
noise apart. All geometry is in the original image's pixels; the work is done at half resolution."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..model import cover, iou
from .rings import (
    find_circles,
    find_frames,
    find_sided_frames,
    rect_perimeter,
    refine_ring,
    ring_perimeter,
)

FEATURES = ("w", "h", "aspect", "fill", "typed_overlap", "chroma_frac", "hue_sin", "hue_cos", "colour_page",
            "stroke", "stroke_sd", "ring", "frame", "cx", "cy", "n_cc", "area", "solidity", "dark",
            "source", "perimeter", "line_overlap", "h_xh", "w_xh")


SCALE = 0.5


@dataclass
class Candidate:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the original image
    features: np.ndarray
    kind: str = "noise"
    prob: float = 0.0
    # ink split off a group that holds a stamp outline: (the group's box, the outline's box), both in the
    # original image (``stamps.suppress`` gives the stamp the outline's box when this part is handwriting)
    split_of: tuple[tuple[int, int, int, int], tuple[int, int, int, int]] | None = None
    probs: dict[str, float] | None = None  # every class's probability (``classify``)
    # ink of a group regrouped more tightly (``candidates``): the group it is part of
    finer_of: Candidate | None = None
    # handwriting found by the ink separation network across a stamp's outline (``hand_across``):
    # (its mean handwriting probability, the outline's box in the original image)
    inked: tuple[float, tuple[int, int, int, int]] | None = None
    # the boxes of the candidates joined into this one (``signatures.join_note_lines``); empty: itself alone
    parts: tuple[tuple[int, int, int, int], ...] = ()


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


def ink_mask(grey: np.ndarray) -> np.ndarray:
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
    (``_regroup_finer``; ``stamps.resolve_finer`` keeps such a part only where its group is unclear).
    """
    colour = image.ndim == 3 and image.shape[2] >= 3
    small = cv2.resize(image, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if colour else small
    hs, ws = grey.shape
    ink = ink_mask(grey)
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
    for cx, cy, r in find_circles(full, ws):
        cx, cy, r, sharp = refine_ring(full, cx, cy, r)
        box = (max(0, int(cx - r - 3)), max(0, int(cy - r - 3)), min(ws, int(cx + r + 4)), min(hs, int(cy + r + 4)))
        c = _describe(ctx, box, full, None, circle=(cx - box[0], cy - box[1], r))
        if c is not None:
            out.append(c)
            outlines.append(((cx, cy, r, sharp), box))
    frames = find_frames(full, ws, hs)
    sided = find_sided_frames(full, ws, hs, within=[g[1] for g in groups])
    frames += [b for b in sided if not any(iou(b, f) > 0.5 for f in frames)]
    for box in frames:
        c = _describe(ctx, box, full, None, circle=None, rect=True)
        if c is not None:
            out.append(c)
            outlines.append((None, box))
    if split:
        _split_at_outlines(groups, outlines, k, add_groups)
    return out


def full_scale(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
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
    ``stamps.suppress`` choose)."""
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
                # a sharp ring is the stamp's outer ring (``refine_ring``): just the ring's width beyond
                # it; else 1.2 r: a double ring, of which the Hough search may have found the inner one
                cv2.circle(left, (int(round(cx - gx0)), int(round(cy - gy0))), int(1.06 * r + 6 if sharp else 1.2 * r + 3), 0, -1)
            else:
                left[max(0, oy0 - gy0 - 3):max(0, oy1 - gy0 + 3), max(0, ox0 - gx0 - 3):max(0, ox1 - gx0 + 3)] = 0
            if left.sum() < 40:
                continue
            regrouped = cv2.morphologyEx(left, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
            others = [full_scale(o) for o in rects if o != (ox0, oy0, ox1, oy1)]
            for part in add_groups(cv2.dilate(regrouped, np.ones((3, 3), np.uint8)), (gx0, gy0)):
                # not a part lying in a rectangular outline (a false ring found inside a rectangular stamp)
                if all(cover(part.box, o) < 0.5 for o in others):
                    part.split_of = (group.box, full_scale((ox0, oy0, ox1, oy1)))


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
    perim = ring_perimeter(inkm, circle) if circle is not None else rect_perimeter(inkm) if rect else 0.0
    feats = np.array([
        bw / ws, bh / hs, bw / max(bh, 1), n_ink / max(bw * bh, 1),
        float(ctx["typed"][y0:y1, x0:x1].mean()), chroma_frac, float(np.sin(hh).mean()), float(np.cos(hh).mean()),
        float(colour), stroke / max(xh, 1), float(np.std(d)) / max(xh, 1) if d.size else 0.0, ring, frame_score,
        (x0 + bw / 2) / ws, (y0 + bh / 2) / hs, ncc / max(bw * bh / (xh * xh), 1), n_ink / (xh * xh) / 100.0,
        solidity, float(np.median(g)) / 255.0 if g.size else 1.0, 1.0 if circle else 2.0 if rect else 0.0, perim,
        float(ctx["on_lines"][y0:y1, x0:x1].mean()), bh / max(xh, 1), bw / max(xh, 1),
    ], np.float32)
    return Candidate(full_scale(box), feats)
