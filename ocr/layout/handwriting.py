"""Handwriting regions read by the kraken model: a region turned upright, cut into lines (its ink smeared
along the rows, ``note_lines``), each line read on its own; and noise that the handwriting model reads
surely as handwriting."""
from __future__ import annotations

import cv2
import numpy as np

from ..engines.base import mean_conf
from ..model import Glyph, Line, Word, bbox
from .candidates import ink_mask
from .way_up import surer_way_up, wordlike

PAD = 6  # a region's crop reaches this many pixels beyond its box (and a joined note's parts beyond theirs)


ANGLES = [a for a in range(-14, 15, 2)] + [a for a in range(76, 105, 2)] + [a for a in range(-104, -75, 2)]


def _profile_score(mask: np.ndarray, angle: float) -> float:
    h, w = mask.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c) + 2, int(h * c + w * s) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    rot = cv2.warpAffine(mask.astype(np.float32), m, (nw, nh))
    prof = rot.sum(axis=1)
    return float(np.sum(np.diff(prof) ** 2)) / max(float(mask.sum()), 1.0)


def upright_angle(mask: np.ndarray, across: bool = False) -> float:
    """Rotation (degrees, counter-clockwise as OpenCV) that makes the text rows of ``mask`` horizontal.

    Ink wider than tall is written across (near 0 degrees): the strongly slanted strokes of a signature
    or two can give a profile as sharp turned upright, but a note written up a margin is taller than wide
    (on four synthetic reels: every vertical note 1.24 times as tall as wide or more, and all ten regions
    read upright by mistake at most 0.95). With ``across``, the text is taken to be written across whatever
    its ink's extent."""
    ys, xs = np.nonzero(mask)
    across = across or (ys.size > 0 and (ys.max() - ys.min()) <= (xs.max() - xs.min()))
    coarse = max([a for a in ANGLES if abs(a) < 45] if across else ANGLES, key=lambda a: _profile_score(mask, a))
    fine = [coarse + d for d in (-1.5, -0.75, 0, 0.75, 1.5)]
    return max(fine, key=lambda a: _profile_score(mask, a))


def crop_angle(crop: np.ndarray, across: bool = False) -> float:
    """``upright_angle`` of a grey crop's ink, measured at half resolution (0 for a crop without ink)."""
    small = cv2.resize(crop, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) if crop.size else crop
    ink = ink_mask(small) if small.size else small
    return upright_angle(ink, across) if ink.sum() > 0 else 0.0


def rotate(img: np.ndarray, angle: float, fill: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate keeping everything; returns the image and the 2x3 map from rotated to source coordinates."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c) + 2, int(h * c + w * s) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    rot = cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=fill)
    return rot, cv2.invertAffineTransform(m)


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
    scan's edge, a rule) are no line; ones of a few strokes join the nearest line or are left out."""
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
    return sorted(kept, key=lambda m: float(np.nonzero(m)[0].mean()))


def _map(inv: np.ndarray, pts: np.ndarray, off: tuple[int, int], size: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """Points of the rotated crop -> page pixels (``size`` = page width, height), clipped to the page."""
    p = np.asarray(pts, np.float64) @ inv[:, :2].T + inv[:, 2]
    w, h = size
    return tuple((int(min(max(round(x + off[0]), 0), w - 1)), int(min(max(round(y + off[1]), 0), h - 1)))
                 for x, y in p)


def _line_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """A line's box about its ink, with a margin of an eighth of its height."""
    ys, xs = np.nonzero(mask)
    pad = max(2, int(ys.max() - ys.min()) // 8)
    return (max(0, int(xs.min()) - pad), max(0, int(ys.min()) - pad), min(mask.shape[1], int(xs.max()) + 1 + pad),
            min(mask.shape[0], int(ys.max()) + 1 + pad))


LINE_TILT = 2.0  # a line whose ink runs at least this many degrees off the level is read levelled ...


LINE_TILT_MAX = 20.0  # ... up to this many


def _level(img: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int], paper: int):
    """A line tilted in its note (a slanted hand, a line written downhill) turned level about its box's
    middle: (image, the line's box in it, the affine map back to ``img``'s pixels), or (``img``, ``box``,
    None) where it runs level. Its tilt: the least-squares slope of its ink's pixels."""
    ys, xs = np.nonzero(mask)
    if len(xs) < 2 or float(np.var(xs)) == 0.0:
        return img, box, None
    tilt = float(np.degrees(np.arctan(np.cov(xs, ys, bias=True)[0, 1] / np.var(xs))))
    if not LINE_TILT <= abs(tilt) <= LINE_TILT_MAX:
        return img, box, None
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    m = cv2.getRotationMatrix2D(centre, tilt, 1.0)
    size = (img.shape[1], img.shape[0])
    out = cv2.warpAffine(img, m, size, flags=cv2.INTER_LINEAR, borderValue=int(paper))
    turned = cv2.warpAffine(mask.astype(np.uint8), m, size, flags=cv2.INTER_NEAREST) > 0
    if not turned.any():
        return img, box, None
    return out, _line_box(turned), cv2.invertAffineTransform(m)


def _then(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The affine map ``first``, then ``second`` (2x3 each)."""
    return np.hstack([second[:, :2] @ first[:, :2], (second[:, :2] @ first[:, 2] + second[:, 2])[:, None]])


def _alone(img: np.ndarray, mine: np.ndarray, lines_ink: np.ndarray, paper: int) -> np.ndarray:
    """``img`` with the other lines' ink (``lines_ink``, all lines' ink, less ``mine``; and a little about it)
    painted over with paper, so that a line's box, which takes in the strokes of the lines above and below,
    shows its own ink only."""
    others = lines_ink & ~mine
    if not others.any():
        return img
    paint = cv2.dilate(others.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    paint &= ~(cv2.dilate(mine.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    out = img.copy()
    out[paint] = paper
    return out


def read_handwriting(grey: np.ndarray, box: tuple[int, int, int, int], rid: str, reader, xheight: float,
                     parts: tuple[tuple[int, int, int, int], ...] = (),
                     typed: list[tuple[int, int, int, int]] | None = None) -> tuple[list[Line], float]:
    """Lines of one handwritten region of the page ``grey``; returns (lines, upright angle). ``typed``: the
    boxes of typed words that stay typed text; those in the region, outside its ``parts`` (the boxes of the
    candidates joined into it), are not read with it (a typed line between a note's lines)."""
    h, w = grey.shape
    x0, y0, x1, y1 = max(0, box[0] - PAD), max(0, box[1] - PAD), min(w, box[2] + PAD), min(h, box[3] + PAD)
    crop = grey[y0:y1, x0:x1]
    words = [t for t in typed or () if t[0] < x1 and t[2] > x0 and t[1] < y1 and t[3] > y0]
    if len(parts) > 1 and words:
        own = np.ones(crop.shape, bool)
        for t in words:
            own[max(0, t[1] - y0):max(0, t[3] - y0), max(0, t[0] - x0):max(0, t[2] - x0)] = False
        for p in parts:
            own[max(0, p[1] - PAD - y0):max(0, p[3] + PAD - y0), max(0, p[0] - PAD - x0):max(0, p[2] + PAD - x0)] = True
        if not own.all():
            crop = np.where(own, crop, np.uint8(np.percentile(crop, 90)))
    paper = int(np.percentile(crop, 90)) if crop.size else 255
    angle = crop_angle(crop)
    # written up or down a margin: read both ways up and keep the surer reading (``way_up``)
    tries = [angle] if abs(angle) < 45 or reader is None else [angle, angle + 180 if angle < 0 else angle - 180]
    best: tuple[float, list[Line]] | None = None
    for a in tries:
        rot, inv = rotate(crop, a, paper)
        ink = ink_mask(rot)
        masks = note_lines(ink, max(6, int(xheight)))
        bands = [_line_box(m) for m in masks]
        lines_ink = np.logical_or.reduce(masks) if masks else None
        texts, maps = [], []  # each line's reading, and the map from the image it was read in to the crop's
        for k, (m, b) in enumerate(zip(masks, bands, strict=True)):
            if reader is None:
                texts.append(None)
                maps.append(inv)
                continue
            img, bands[k], back = _level(_alone(rot, m, lines_ink, paper), m, b, paper)
            texts.append(reader.recognize(img, [bands[k]])[0])
            maps.append(inv if back is None else _then(back, inv))
        lines = []
        for i, (b, t, to_page) in enumerate(zip(bands, texts, maps, strict=True)):
            bx0, by0, bx1, by1 = b
            poly = _map(to_page, np.array([(bx0, by0), (bx1, by0), (bx1, by1), (bx0, by1)]), (x0, y0), (w, h))
            base = _map(to_page, np.array([(bx0, by1 - (by1 - by0) // 5), (bx1, by1 - (by1 - by0) // 5)]), (x0, y0),
                        (w, h))
            lid = f"{rid}_l{i + 1:03d}"
            if t is None:
                lines.append(Line(lid, "", poly, base, 0.0))
                continue
            glyphs = tuple(Glyph(ch, c, _map(to_page, np.array([(g[0], g[1]), (g[2], g[1]), (g[2], g[3]), (g[0], g[3])]),
                                               (x0, y0), (w, h)))
                           for ch, c, g in zip(t.text, t.char_confs, t.char_boxes, strict=False))
            words = _words(t.text, glyphs, poly)
            lines.append(Line(lid, t.text, poly, base, t.conf, words, note=t.error or ""))
        own = [t.plain or t for t in texts if t is not None]  # the way up by the network's own letters (htr.lexicon)
        score = (float(np.mean([t.conf for t in own])) if own else 0.0,
                 wordlike([t.text for t in own]) if len(tries) > 1 else 0.0)
        if best is None or surer_way_up(score, best[0]):
            best = (score, lines)
    return (best[1] if best else []), angle


def _words(text: str, glyphs: tuple[Glyph, ...], poly) -> tuple[Word, ...]:
    """Split a line's glyphs at spaces into words with their own boxes and mean confidences."""
    if not text.strip():
        return ()
    if len(glyphs) != len(text):
        return (Word(text.strip(), 0.0, poly),)
    out, cur = [], []
    for g in list(glyphs) + [Glyph(" ", 1.0, ())]:
        if g.text.isspace():
            if cur:
                pts = [p for gg in cur for p in gg.polygon]
                x0, y0, x1, y1 = bbox(pts)
                out.append(Word("".join(gg.text for gg in cur), float(np.mean([gg.conf for gg in cur])),
                                ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), tuple(cur)))
                cur = []
        else:
            cur.append(g)
    return tuple(out)


WRITTEN_HAND = 0.2  # a candidate called noise that the classifier gives at least this chance of handwriting ...


# ... is handwriting when the handwriting model reads it this surely ... (set for the model of 2026-12-05:
# on the tuning reels, seed 2000 and the real-handwriting reel of seed 4200, the candidates that pass
# WRITTEN_INK below were all handwriting, read at 0.76-1.00; judged on the demo reel and two other reels)
WRITTEN_CONF = 0.75


WRITTEN_LETTERS = 4  # ... with this many letters


# ... read only when the ink separation network calls at least this share of its ink handwriting: the
# handwriting model (seconds and ~800 MB to load) is not loaded for a typed fragment or a speck. Tuned on the
# layout bench's reel (seed 2000) and 20 typed-only pages (seed 7): the candidates the model took for
# writing had 0.96 of their ink called handwriting, the 7 others 0.18 at most; judged on the demo reel: its
# one taken 0.96, its one other 0.00.
WRITTEN_INK = 0.5


def written_noise(grey: np.ndarray, cands: list, reader, xheight: float, min_prob: float = 0.5,
                  reads: dict | None = None, ink_share=None) -> list:
    """Candidates the classifier called noise, or handwriting below ``min_prob``, but gives some chance of
    handwriting, that the handwriting model reads surely: what reads as writing is writing (a large blue
    resolution note across a typed heading, p 0.32, read at 0.89; on six reels the other noise candidates
    of p >= 0.2, specks, stamp numbers and typed fragments, read at 0.81 and below). ``reader``: a
    callable giving the kraken reader, called only when a candidate qualifies (the model is loaded only
    then); returns them, made handwritten with their probability of it (they skip ``min_prob``). ``reads``,
    when given, keeps each one's reading (box -> (lines, upright angle)), so ``route`` does not read it again.
    ``ink_share``, when given, is the share of a box's ink the ink separation network calls handwriting."""
    out = []
    for c in cands:
        p = (c.probs or {}).get("handwritten", 0.0)
        if not (c.kind == "noise" or (c.kind == "handwritten" and c.prob < min_prob)) or p < WRITTEN_HAND:
            continue
        if ink_share is not None and ink_share(c.box) < WRITTEN_INK:
            continue
        model = reader()
        if model is None:
            break
        lines, angle = read_handwriting(grey, c.box, "h", model, xheight)
        letters = sum(ch.isalpha() for ln in lines for ch in ln.text)
        if letters >= WRITTEN_LETTERS and mean_conf(lines) >= WRITTEN_CONF:
            c.kind, c.prob = "handwritten", p
            out.append(c)
            if reads is not None:
                reads[c.box] = (lines, angle)
    return out
