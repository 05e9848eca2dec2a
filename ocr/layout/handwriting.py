"""Handwriting regions read by the kraken model: a region turned upright, cut into lines by its ink's row
profile, each line read; and noise that the handwriting model reads surely as handwriting."""
from __future__ import annotations

import cv2
import numpy as np

from ..engines.base import mean_conf
from ..model import Glyph, Line, Word, bbox
from .candidates import ink_mask

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


def upright_angle(mask: np.ndarray) -> float:
    """Rotation (degrees, counter-clockwise as OpenCV) that makes the text rows of ``mask`` horizontal.

    Ink wider than tall is written across (near 0 degrees): the strongly slanted strokes of a signature
    or two can give a profile as sharp turned upright, but a note written up a margin is taller than wide
    (on four synthetic reels: every vertical note 1.24 times as tall as wide or more, and all ten regions
    read upright by mistake at most 0.95)."""
    ys, xs = np.nonzero(mask)
    across = ys.size > 0 and (ys.max() - ys.min()) <= (xs.max() - xs.min())
    coarse = max([a for a in ANGLES if abs(a) < 45] if across else ANGLES, key=lambda a: _profile_score(mask, a))
    fine = [coarse + d for d in (-1.5, -0.75, 0, 0.75, 1.5)]
    return max(fine, key=lambda a: _profile_score(mask, a))


def crop_angle(crop: np.ndarray) -> float:
    """``upright_angle`` of a grey crop's ink, measured at half resolution (0 for a crop without ink)."""
    small = cv2.resize(crop, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) if crop.size else crop
    ink = ink_mask(small) if small.size else small
    return upright_angle(ink) if ink.sum() > 0 else 0.0


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


def _map(inv: np.ndarray, pts: np.ndarray, off: tuple[int, int], size: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """Points of the rotated crop -> page pixels (``size`` = page width, height), clipped to the page."""
    p = np.asarray(pts, np.float64) @ inv[:, :2].T + inv[:, 2]
    w, h = size
    return tuple((int(min(max(round(x + off[0]), 0), w - 1)), int(min(max(round(y + off[1]), 0), h - 1)))
                 for x, y in p)


def read_handwriting(grey: np.ndarray, box: tuple[int, int, int, int], rid: str, reader, xheight: float
                     ) -> tuple[list[Line], float]:
    """Lines of one handwritten region of the page ``grey``; returns (lines, upright angle)."""
    h, w = grey.shape
    x0, y0, x1, y1 = max(0, box[0] - 6), max(0, box[1] - 6), min(w, box[2] + 6), min(h, box[3] + 6)
    crop = grey[y0:y1, x0:x1]
    angle = crop_angle(crop)
    # written up or down a margin: read both ways up and keep the surer reading (only worth it with a reader)
    tries = [angle] if abs(angle) < 45 or reader is None else [angle, angle + 180 if angle < 0 else angle - 180]
    best: tuple[float, list[Line]] | None = None
    for a in tries:
        rot, inv = rotate(crop, a, int(np.percentile(crop, 90)) if crop.size else 255)
        ink = ink_mask(rot)
        bands = line_bands(ink, max(6, int(xheight)))
        texts = reader.recognize(rot, bands) if reader is not None and bands else [None] * len(bands)
        lines = []
        for i, (b, t) in enumerate(zip(bands, texts, strict=True)):
            bx0, by0, bx1, by1 = b
            poly = _map(inv, np.array([(bx0, by0), (bx1, by0), (bx1, by1), (bx0, by1)]), (x0, y0), (w, h))
            base = _map(inv, np.array([(bx0, by1 - (by1 - by0) // 5), (bx1, by1 - (by1 - by0) // 5)]), (x0, y0),
                        (w, h))
            lid = f"{rid}_l{i + 1:03d}"
            if t is None:
                lines.append(Line(lid, "", poly, base, 0.0))
                continue
            glyphs = tuple(Glyph(ch, c, _map(inv, np.array([(g[0], g[1]), (g[2], g[1]), (g[2], g[3]), (g[0], g[3])]),
                                               (x0, y0), (w, h)))
                           for ch, c, g in zip(t.text, t.char_confs, t.char_boxes, strict=False))
            words = _words(t.text, glyphs, poly)
            lines.append(Line(lid, t.text, poly, base, t.conf, words, note=t.error or ""))
        score = float(np.mean([ln.conf or 0 for ln in lines])) if lines else 0.0
        if best is None or score > best[0]:
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


# the handwriting model reads Russian (Cyrillic) script: pages in other languages get their handwriting
# regions found and written, unread, rather than read as Cyrillic
CYRILLIC_LANGS = {"rus", "ukr", "bel", "bul", "srp", "mkd", "kaz", "kir", "tgk", "uzb_cyrl", "mon"}


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
