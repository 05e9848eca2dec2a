"""A handwritten note's ink cut into lines: the ink smeared along the rows (``note_lines``), a part holding two
lines cut at its row profile's valleys (``line_bands``), parts standing side by side joined (``side_by_side``)."""
from __future__ import annotations

import cv2
import numpy as np


def line_bands(ink: np.ndarray, min_h: int) -> list[tuple[int, int, int, int]]:
    """Text-line boxes of an upright ink mask: rows split at the valleys of the (smoothed) row profile."""
    prof = ink.sum(axis=1).astype(np.float32)
    if prof.max() <= 0:
        return []
    k = max(3, min_h // 2) | 1
    sm = np.convolve(prof, np.ones(k) / k, mode="same")
    on = sm > 0.12 * sm.max()
    runs, y = [], 0
    while y < len(on):
        if not on[y]:
            y += 1
            continue
        y0 = y
        while y < len(on) and on[y]:
            y += 1
        runs.extend(_split_run(sm, y0, y, min_h))
    runs = _merge_fragments(sm, runs, min_h)
    boxes = []
    for y0, y1 in runs:
        if y1 - y0 >= min_h * 0.5:
            cols = np.nonzero(ink[y0:y1].any(axis=0))[0]
            if len(cols):
                pad = max(2, (y1 - y0) // 6)
                boxes.append((int(cols.min()), max(0, y0 - pad), int(cols.max()) + 1, min(ink.shape[0], y1 + pad)))
    return boxes


SPLIT_MIN_H = 5  # a band this many x-heights tall ...


SPLIT_VALLEY = 0.35  # ... is cut where its profile falls below this share of the lower peak on either side


def _split_run(sm: np.ndarray, y0: int, y1: int, min_h: int) -> list[tuple[int, int]]:
    """One band of the row profile ``sm``, cut at a deep valley when it is too tall for one line: slanted
    signatures written one under the other overlap in rows, so the profile never falls to the band
    threshold between them (each part must be at least two x-heights)."""
    if y1 - y0 < SPLIT_MIN_H * min_h:
        return [(y0, y1)]
    seg = sm[y0:y1]
    lo, hi = 2 * min_h, len(seg) - 2 * min_h
    i = lo + int(np.argmin(seg[lo:hi]))
    if seg[i] > SPLIT_VALLEY * min(float(seg[:i].max()), float(seg[i:].max())):
        return [(y0, y1)]
    return _split_run(sm, y0, y0 + i, min_h) + _split_run(sm, y0 + i, y1, min_h)


FRAGMENT = 0.3  # a band lower than an x-height whose profile peaks below this share of the region's peak ...


def _merge_fragments(sm: np.ndarray, runs: list[tuple[int, int]], min_h: int) -> list[tuple[int, int]]:
    """Bands of a few strokes only (a comma, a descender's tail between two signatures: lower than an
    x-height and faint in the profile) joined to the nearer band beside them: alone they read as nothing
    and break a stack of lines apart."""
    top = float(sm.max())
    runs = list(runs)
    i = 0
    while len(runs) > 1 and i < len(runs):
        y0, y1 = runs[i]
        if y1 - y0 >= min_h or float(sm[y0:y1].max()) >= FRAGMENT * top:
            i += 1
            continue
        gap_up = y0 - runs[i - 1][1] if i > 0 else None
        gap_down = runs[i + 1][0] - y1 if i + 1 < len(runs) else None
        if gap_down is None or (gap_up is not None and gap_up <= gap_down):
            runs[i - 1] = (runs[i - 1][0], y1)
        else:
            runs[i + 1] = (y0, runs[i + 1][1])
        del runs[i]
    return runs


SMEAR_ALONG = 1.5  # a note's ink is smeared along its rows over this many line heights ...


SMEAR_ACROSS = 0.12  # ... and across them over this many (Gaussian sigmas)


SMEAR_INK = 0.35  # the smeared ink's parts: where it is at least this share of its median on the ink


CUT_TALL = 2.0  # an ink component this many line heights tall is cut along the parts, not given whole


STRAY = 0.3  # a part of a few strokes joins the line within this many line heights, or is left out


FEW_STROKES = 0.05  # ... a part with less than this share of the largest part's ink


SMEAR_SCALE = 16  # the smear is made at a resolution where a line is about this many pixels high


def note_lines(ink: np.ndarray, min_h: int) -> list[np.ndarray]:
    """The lines of an upright note's ink mask, each as a mask of its own ink, top to bottom.

    The ink is smeared along its rows (an anisotropic blur, the "smearing" of line finding): a line's words,
    however they wander up and down, run together into one part, the lines above and below it stay apart.
    Each ink component goes whole to the part holding most of it (a row profile would cut a word that
    stands higher than its neighbours in two); one taller than ``CUT_TALL`` lines (a stamp's frame, a
    rule, strokes of two lines run together) is cut along the parts. A part that still holds two lines
    (two lines' words smeared together where they come close) is cut at its row profile's valleys
    (``line_bands``), its components going to the nearer band. Parts lower than half an x-height (the
    scan's edge, a rule) are no line; ones of a few strokes join the nearest line or are left out; parts standing
    side by side are one line's (``side_by_side``)."""
    bands = line_bands(ink, min_h)
    if not bands:
        return []
    lh = float(np.median([b[3] - b[1] for b in bands]))  # a line's height
    nc, comp, st, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    tall = np.nonzero(st[1:, cv2.CC_STAT_HEIGHT] > CUT_TALL * lh)[0] + 1
    pix = np.isin(comp, tall) if len(tall) else np.zeros(ink.shape, bool)
    words = (ink > 0) & ~pix  # a tall component smeared would join the lines it crosses
    if not words.any():
        words, pix = ink > 0, np.zeros(ink.shape, bool)
    f = max(1, int(lh // SMEAR_SCALE))  # smeared at a fraction of the resolution: the blur is wide
    small = cv2.resize(words.astype(np.float32), (max(1, ink.shape[1] // f), max(1, ink.shape[0] // f)),
                       interpolation=cv2.INTER_AREA)
    smear = cv2.GaussianBlur(small, (0, 0), sigmaX=SMEAR_ALONG * lh / f, sigmaY=max(0.5, SMEAR_ACROSS * lh / f))
    n, part = cv2.connectedComponents((smear > SMEAR_INK * float(np.median(smear[small > 0]))).astype(np.uint8))
    part = cv2.resize(part.astype(np.int32).astype(np.float32), (ink.shape[1], ink.shape[0]),
                      interpolation=cv2.INTER_NEAREST).astype(np.int32)
    if pix.any():
        comp = comp.copy()
        comp[pix] = nc + part[pix]  # a new component for each part a tall one crosses
        nc += n
    inked = comp > 0
    share = np.bincount(comp[inked].astype(np.int64) * n + part[inked], minlength=nc * n).reshape(nc, n)
    share[:, 0] = 0  # pixels of each component in each part, outside every part not counted
    owner = np.where(share.max(axis=1) > 0, share.argmax(axis=1), 0)
    owner[0] = 0
    line_of = owner[comp]  # each pixel's part
    row_of = np.broadcast_to(np.arange(ink.shape[0])[:, None], ink.shape)
    mid = (np.bincount(comp.ravel(), weights=row_of.ravel(), minlength=nc)  # each component's middle row
           / np.maximum(np.bincount(comp.ravel(), minlength=nc), 1))
    lines = []
    for k in range(1, n):
        mask = line_of == k
        if not mask.any():
            continue
        sub = line_bands(mask.astype(np.uint8), min_h)
        if len(sub) > 1:
            centres = np.array([(b[1] + b[3]) / 2 for b in sub])
            near = np.abs(mid[:, None] - centres[None]).argmin(axis=1)  # each component's nearer band
            band_of_row = np.abs(np.arange(ink.shape[0])[:, None] - centres[None]).argmin(axis=1)
            for j in range(len(sub)):
                m = mask & ~pix & (near[comp] == j)  # whole components to the nearer band ...
                m |= mask & pix & (band_of_row[:, None] == j)  # ... a tall one's pieces by their rows
                if m.any():
                    lines.append(m)
        else:
            lines.append(mask)
    rows = [np.nonzero(m.any(axis=1))[0] for m in lines]
    high = [r[-1] - r[0] + 1 >= 0.5 * min_h for r in rows]
    lines = [m for m, h in zip(lines, high, strict=True) if h]
    rows = [r for r, h in zip(rows, high, strict=True) if h]
    if not lines:
        return []
    sizes = [int(m.sum()) for m in lines]
    few = [a < FEW_STROKES * max(sizes) for a in sizes]
    kept = [m for m, f in zip(lines, few, strict=True) if not f]
    spans = [(r[0], r[-1]) for r, f in zip(rows, few, strict=True) if not f]
    for m, r, f in zip(lines, rows, few, strict=True):
        if not f:
            continue
        gaps = [max(0, s0 - r[-1], r[0] - s1) for s0, s1 in spans]
        j = int(np.argmin(gaps))
        if gaps[j] <= STRAY * lh:
            kept[j] = kept[j] | m
    return sorted(side_by_side(kept, lh), key=lambda m: float(np.nonzero(m)[0].mean()))


SIDE_OVERLAP = 0.2  # two parts of a note whose columns overlap by at most this share of the narrower one's ...


SIDE_ROWS = 1.0  # ... whose middles lie within this many line heights of each other ...


SIDE_GAP = 3.0  # ... and at most this many line heights apart along the row are one line's words


def side_by_side(masks: list[np.ndarray], lh: float) -> list[np.ndarray]:
    """Parts of a note that stand side by side (a line's words at different heights, cut apart as two
    lines) joined into one line: a note's lines stand one under another, each overlapping the next."""
    masks = list(masks)
    spans = [_span(m) for m in masks]
    while (pair := _beside(spans, lh)) is not None:
        i, j = pair
        masks[i] = masks[i] | masks.pop(j)
        spans.pop(j)
        spans[i] = _span(masks[i])
    return masks


def _span(mask: np.ndarray) -> tuple[int, int, float]:
    """A part's first and past-last ink column and its middle row."""
    cols = np.nonzero(mask.any(axis=0))[0]
    return int(cols[0]), int(cols[-1]) + 1, float(np.nonzero(mask)[0].mean())


def _beside(spans: list[tuple[int, int, float]], lh: float) -> tuple[int, int] | None:
    """The first two parts (by index) that stand side by side on a row, or None."""
    for i, (a0, a1, ar) in enumerate(spans):
        for j in range(i + 1, len(spans)):
            b0, b1, br = spans[j]
            over = min(a1, b1) - max(a0, b0)
            if over <= SIDE_OVERLAP * min(a1 - a0, b1 - b0) and abs(ar - br) <= SIDE_ROWS * lh and -over <= SIDE_GAP * lh:
                return i, j
    return None
