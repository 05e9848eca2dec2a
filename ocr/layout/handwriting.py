"""Handwriting regions read by the kraken model: a region turned upright, cut into lines (its ink smeared
along the rows, ``note_lines``), each line read on its own; and noise that the handwriting model reads
surely as handwriting."""
from __future__ import annotations

import cv2
import numpy as np

from ..engines.base import mean_conf
from ..model import Glyph, Line, Word, bbox
from .candidates import ink_mask
from .note_lines import note_lines
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
