"""Route what is not typed text: handwriting to the kraken model, stamps to GraphicRegions (their text read apart).

Handwritten regions are turned upright (the angle of the strongest row
profile, searched near 0 and near +-90 degrees for notes written up a
margin), cut into lines at the valleys of the row profile, and read with the
kraken model. Where a region could be either way up, both readings are made
and the more confident kept.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import layout
from .config import Config
from .errors import EngineError
from .engines.base import mean_conf
from .model import REJECTED_NOTE, Glyph, Graphic, Line, Region, Word, bbox, cover, iou

ANGLES = [a for a in range(-14, 15, 2)] + [a for a in range(76, 105, 2)] + [a for a in range(-104, -75, 2)]


@dataclass
class Routed:
    typed: list[Region] = field(default_factory=list)  # the typed regions less the lines that lie on stamps
    regions: list[Region] = field(default_factory=list)
    graphics: list[Graphic] = field(default_factory=list)
    info: dict = field(default_factory=dict)


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
    ink = layout._ink(small) if small.size else small
    return upright_angle(ink) if ink.sum() > 0 else 0.0


def _rotate(img: np.ndarray, angle: float, fill: int) -> tuple[np.ndarray, np.ndarray]:
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
        rot, inv = _rotate(crop, a, int(np.percentile(crop, 90)) if crop.size else 255)
        ink = layout._ink(rot)
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


def read_stamp(grey: np.ndarray, box: tuple[int, int, int, int], lang: str,
               backend: str = "api") -> list[tuple[str, float]]:
    """Legible text of a stamp crop with Tesseract (sparse text), lines with their confidence."""
    from .engines.tesseract import image_to_data

    x0, y0, x1, y1 = box
    crop = grey[y0:y1, x0:x1]
    if crop.size == 0:
        return []
    try:
        data = image_to_data(crop, lang, psm=11, timeout=60, backend=backend)
    except EngineError:
        return []
    words = [(str(t).strip(), float(c) / 100) for t, c in zip(data["text"], data["conf"], strict=True)
             if str(t).strip() and float(c) >= 30 and sum(ch.isalnum() for ch in str(t)) >= 2]
    return [(" ".join(t for t, _ in words), float(np.mean([c for _, c in words])))] if words else []


def _quad(b) -> tuple[tuple[int, int], ...]:
    x0, y0, x1, y1 = b
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


# the handwriting model reads Russian (Cyrillic) script: pages in other languages get their handwriting
# regions found and written, unread, rather than read as Cyrillic
CYRILLIC_LANGS = {"rus", "ukr", "bel", "bul", "srp", "mkd", "kaz", "kir", "tgk", "uzb_cyrl", "mon"}
CONFIDENT_WORD = 0.6  # typed words read at least this surely hide their ink from the layout stage
KNOWN_WORD_LETTERS = 7  # ... and so do words of the language this long read with at least KNOWN_WORD_CONF
KNOWN_WORD_CONF = 0.2  # (a signature read as a word, "Виноград" for "Р. Виноградов", comes at 0.0)


SPLIT_HAND_PROB = 0.8  # how sure the classifier must be of the handwriting split off a stamp's group


FINER_UNCLEAR = 0.5  # a group the classifier gives no kind this surely ...
FINER_HAND = 0.8  # ... is replaced by its tighter parts it calls handwriting at least this surely


def resolve_finer(cands: list) -> list:
    """The candidates, with a group the classifier cannot name replaced by the parts of it that, regrouped
    more tightly (``layout.Candidate.finer_of``), it calls handwriting surely, as one candidate: the group
    less what is not handwriting (a typed heading's unsurely read word a note ran into). Several
    signatures are split later by their lines (``signature_stack``). Parts lying in a stamp's ring or
    frame are the stamp's lettering, never adopted. Other tighter parts are dropped."""
    src = layout.FEATURES.index("source")
    outlines = [c.box for c in cands if c.finer_of is None and c.kind == "stamp" and c.features.size > src
                and c.features[src] > 0]
    adopted: dict = {}  # id of the group -> its handwriting parts
    for c in cands:
        if (c.finer_of is not None and c.kind == "handwritten" and c.prob >= FINER_HAND and c.finer_of.prob < FINER_UNCLEAR
                and all(cover(c.box, o) < 0.5 for o in outlines)):  # not a stamp's own lettering
            adopted.setdefault(id(c.finer_of), []).append(c)
    joined = [dataclasses.replace(parts[0], box=bbox([q for p in parts for q in (p.box[:2], p.box[2:])]),
                                  prob=min(p.prob for p in parts)) for parts in adopted.values()]
    return [c for c in cands if c.finer_of is None and id(c) not in adopted] + joined


def stamp_outlines(cands: list, min_prob: float) -> list[tuple[tuple[int, int, int, int], bool]]:
    """(box, round?) of the ring and frame candidates classified stamp at least ``min_prob`` surely."""
    src = layout.FEATURES.index("source")
    return [(c.box, bool(c.features[src] == 1.0)) for c in cands if c.kind == "stamp" and c.prob >= min_prob
            and c.inked is None and c.features.size > src and c.features[src] > 0]


INKED_JOIN = 0.5  # a handwriting candidate lying this much in one found across a stamp is part of it


def suppress(cands: list) -> list:
    """One region per thing: stamps first (most probable first), then what they do not mostly cover.

    A signature written across a stamp is inked into one group with it, which the classifier may call a
    stamp. Where the ink separation network found it (``Candidate.inked``), it is kept though the stamp
    covers it, other handwriting candidates lying mostly in it or holding most of it join it (the region
    grows to hold both), and a stamp that took it in is
    given its outline's box. Else the ink outside the stamp's outline is a candidate of its own
    (``Candidate.split_of``): when that part is handwriting, the stamp is given its outline's box and the
    handwriting is kept."""
    out: list = []
    inked: list = []
    for c in sorted(cands, key=lambda c: (c.kind != "stamp", c.inked is None, -c.prob)):
        if c.inked is not None:
            outline = c.inked[1]
            if any(cover(c.box, o.box) >= 0.8 for o in inked):
                continue
            out = [dataclasses.replace(o, box=outline) if o.kind == "stamp" and o.box != outline
                   and cover(outline, o.box) >= 0.9 and cover(c.box, o.box) >= 0.5 else o for o in out]
            inked.append(c)
            out.append(c)
            continue
        if c.kind == "handwritten" and c.split_of is not None and c.prob >= SPLIT_HAND_PROB:
            group, outline = c.split_of
            out = [dataclasses.replace(o, box=outline) if o.kind == "stamp" and o.box == group else o for o in out]
        if any(o.kind == "stamp" and (cover(c.box, o.box) >= 0.6 or iou(c.box, o.box) >= 0.3) for o in out):
            continue
        if c.kind == "handwritten":
            home = next((o for o in inked if cover(c.box, o.box) >= INKED_JOIN or cover(o.box, c.box) >= INKED_JOIN),
                        None)
            if home is not None:  # a part of a signature found across a stamp: the region grows to hold it
                grown = dataclasses.replace(home, box=bbox([home.box[:2], home.box[2:], c.box[:2], c.box[2:]]))
                out = [grown if o is home else o for o in out]
                inked = [grown if o is home else o for o in inked]
                continue
            if any(o.kind == "handwritten" and cover(c.box, o.box) >= 0.8 for o in out):
                continue
        out.append(c)
    return out


def _level_boxes(lines: list[Line], angle: float) -> list[tuple[float, float, float, float]]:
    """Each line's box turned level by ``angle``: of its words' outlines where it has words (a line read from
    a crop of the unrotated page, ``typed_rescue``, has an upright box around its slanted row, which
    turned level is much taller than the row), else of its own. A line of three words or more spans
    its words' median top and bottom: a signature's stroke or a margin note's digit read into it, a
    word twice the others' height, had moved its top by a line's pitch."""
    a = math.radians(angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    out = []
    for ln in lines:
        ws = [np.asarray(w.polygon, float) @ rot.T for w in ln.words] or [np.asarray(ln.polygon, float) @ rot.T]
        p = np.concatenate(ws)
        box = (p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max())
        if len(ws) >= 3:
            box = (box[0], float(np.median([w[:, 1].min() for w in ws])), box[2], float(np.median([w[:, 1].max() for w in ws])))
        out.append(box)
    return out


CENTRED_INSET = 2.5  # a heading's line stands in from both margins by this many paragraph indents ...
CENTRED_SKEW = 0.1  # ... the two insets differing by at most this share of the text column's width ...
CENTRED_RATIO = 0.3  # ... and by at most this share of the larger one (a line that lost its first word is not)
PITCH_PERCENTILE = 25  # the line pitch: this percentile of the distances between lines (the median was a
# paragraph gap on pages of many short paragraphs, and merged them)
SHORT_LINE = 0.5  # an indented line is no new paragraph when it and the line above end in this share of the column


def line_pitch(boxes: list[tuple[float, float, float, float]], h: float) -> float:
    """The distance between typed lines of a paragraph: the ``PITCH_PERCENTILE`` of the distances from each
    line (boxes top-down, lines ``h`` tall) to the nearest line above it that it lies under, overlapping
    it across, more than 0.6 of a line lower. Side by side, the pieces of a slanted row that Tesseract
    cut (on a page whose deskew was refused) lie a fraction of a pitch apart, and had made the pitch a
    fraction of a line's; 2 ``h`` when no line lies under another."""
    pitches = []
    for i, b in enumerate(boxes):
        above = [b[1] - a[1] for a in boxes[:i] if b[1] - a[1] > h * 0.6 and min(a[2], b[2]) > max(a[0], b[0])]
        if above:
            pitches.append(min(above))
    return float(np.percentile(pitches, PITCH_PERCENTILE)) if pitches else h * 2


def paragraphs(regions: list[Region], xheight: float | None, skew: float = 0.0) -> list[Region]:
    """Typed lines regrouped into paragraphs: top-down, a new one at a wide gap, an indented first line, or
    the first line under a centred heading that is not centred and starts well left of its last line.

    Line boxes are first turned level by the page's ``skew`` (whichever sign makes them flattest), so that
    rows of a skewed page do not overlap.
    """
    lines = [ln for r in regions for ln in r.lines]
    if not lines:
        return []
    boxes = min((_level_boxes(lines, a) for a in {skew, -skew}),
                key=lambda bs: float(np.mean([b[3] - b[1] for b in bs])))
    order = sorted(range(len(lines)), key=lambda i: (boxes[i][1], boxes[i][0]))
    # pieces of one row (a line cut in two by a stamp, a name at the right of a signature line) are read
    # left to right: by their tops alone the right piece came first when its top was a pixel higher
    rows: list[list[int]] = []
    for i in order:
        b = boxes[i]
        if rows:
            row = [boxes[j] for j in rows[-1]]
            top, bottom = min(r[1] for r in row), max(r[3] for r in row)
            level = min(bottom, b[3]) - max(top, b[1]) > 0.5 * min(b[3] - b[1], bottom - top)
            # side by side, not one under the other: lines of a tightly spaced column overlap in height too
            beside = all(b[0] >= r[2] or b[2] <= r[0] for r in row)
            if level and beside:
                rows[-1].append(i)
                continue
        rows.append([i])
    order = [i for row in rows for i in sorted(row, key=lambda j: boxes[j][0])]
    row_end = {i: max(boxes[j][2] for j in row) for row in rows for i in row}
    ends = [row_end[i] for i in order]  # where each line's row ends
    lines, boxes = [lines[i] for i in order], [boxes[i] for i in order]
    h = float(np.median([b[3] - b[1] for b in boxes]))
    pitch = line_pitch(boxes, h)
    left = float(np.percentile([b[0] for b in boxes], 20))
    right = float(np.percentile([b[2] for b in boxes], 80))
    indent = 3.0 * (xheight or h / 2)

    def centred(b) -> bool:
        """A heading's line: inset on both sides, by much more than a paragraph's indent, and about equally."""
        li, ri = b[0] - left, right - b[2]
        return (min(li, ri) > CENTRED_INSET * indent and abs(li - ri) < CENTRED_SKEW * (right - left)
                and abs(li - ri) <= CENTRED_RATIO * max(li, ri))
    groups: list[list[int]] = [[0]]
    for i in range(1, len(lines)):
        pj = max(groups[-1], key=lambda j: boxes[j][1])
        prev = boxes[pj]
        gap = boxes[i][1] - prev[1]
        same_row = boxes[i][1] < prev[3] - 0.3 * (prev[3] - prev[1])
        # a paragraph's indented first line after a line at the left margin (not a centred heading's 2nd line)
        indented = boxes[i][0] - left > indent and prev[0] - left < indent
        # ... but not a short line under a short one (a document number under its date, its "№" unread)
        short = max(ends[i], ends[pj]) - left < SHORT_LINE * (right - left)
        indented = indented and not short
        # a centred heading's last line, then a line that is not centred and starts well left of it
        heading_end = centred(prev) and not centred(boxes[i]) and boxes[i][0] < prev[0] - indent
        if same_row or (gap <= pitch * 1.2 and not indented and not heading_end):
            groups[-1].append(i)
        else:
            groups.append([i])
    out = []
    for k, g in enumerate(groups, start=1):
        rid = f"r{k:03d}"
        x0, y0, x1, y1 = bbox([p for i in g for p in lines[i].polygon])
        lns = tuple(Line(f"{rid}_l{j:03d}", lines[i].text, lines[i].polygon, lines[i].baseline, lines[i].conf,
                         lines[i].words, lines[i].note) for j, i in enumerate(g, start=1))
        out.append(Region(rid, _quad((x0, y0, x1, y1)), lns, production="typewritten", type="paragraph"))
    return out


def typed_boxes(lines: list[Line], lang: str = "") -> tuple[list[tuple[int, int, int, int]],
                                                            list[tuple[int, int, int, int]]]:
    """(confidently read word boxes, line boxes) of typed lines: what the layout stage leaves out. A long
    word read unsurely but spelt as a word of the page's language (a signature written across it lowers
    Tesseract's confidence, not its reading) is typed too: left in, its ink joins the signature's group."""
    from .lexicon import known_word

    return ([bbox(w.polygon) for ln in lines for w in ln.words
             if w.conf >= CONFIDENT_WORD or (w.conf >= KNOWN_WORD_CONF and known_word(w.text, lang, KNOWN_WORD_LETTERS))],
            [bbox(ln.polygon) for ln in lines])


SIGNATURE_COLUMN = (0.45, 0.72)  # signatures stand centred in this band of the page's width
NOTE_GAP = 2.0  # lines of one note lie at most this many (of the smaller one's) heights apart ...
NOTE_OVERLAP = 0.05  # ... and overlap by at least this share of the narrower one
NOTE_LEVEL = 0.3  # words of one slanted line: side by side, level by this share of the smaller one's height ...
NOTE_WORD_GAP = 1.5  # ... and this many of its heights apart at most, ...
NOTE_WORD_HEIGHTS = 2.0  # ... the taller at most this many times as tall, both wider than the smaller's height


def _in_signature_column(box: tuple[int, int, int, int], page_w: int) -> bool:
    return SIGNATURE_COLUMN[0] * page_w <= (box[0] + box[2]) / 2 <= SIGNATURE_COLUMN[1] * page_w


def join_note_lines(cands: list, page_w: int) -> list:
    """Handwriting candidates one under the other, close and overlapping, joined into one: the lines of a
    note written wider apart than the ink grouping bridges, a slanted note's staggered lines (they overlap
    little), a note whose middle line Tesseract took into a typed line (the others stand two line heights
    apart). Not in the signature column, where signatures of several signatories stand as close one under
    another (``signature_stack``). Also the words of one line found apart (a wide gap in a slanted line).
    Order is kept."""
    heads: dict = {}  # id of the candidate a group is named by -> the joined candidate
    absorbed = set()
    for c in sorted((c for c in cands if c.kind == "handwritten"), key=lambda c: c.box[1]):
        for key, o in heads.items():
            a, b = o.box, c.box
            h = min(a[3] - a[1], b[3] - b[1])
            overlap = min(a[2], b[2]) - max(a[0], b[0])
            level = min(a[3], b[3]) - max(a[1], b[1])
            side = max(a[0], b[0]) - min(a[2], b[2])  # the gap between them, side by side
            if ((b[1] - a[3] <= NOTE_GAP * h and b[3] > a[3] and overlap >= NOTE_OVERLAP * min(a[2] - a[0], b[2] - b[0])
                    and not (_in_signature_column(a, page_w) and _in_signature_column(b, page_w)))
                    or (level >= NOTE_LEVEL * h and 0 <= side <= NOTE_WORD_GAP * h
                        and max(a[3] - a[1], b[3] - b[1]) <= NOTE_WORD_HEIGHTS * h
                        and min(a[2] - a[0], b[2] - b[0]) >= h)):
                box = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                heads[key] = dataclasses.replace(o, box=box, prob=min(o.prob, c.prob))
                absorbed.add(id(c))
                break
        else:
            heads[id(c)] = c
    return [heads.get(id(c), c) for c in cands if id(c) not in absorbed]


STACK_LEVEL = 0.5  # a signature is level with a typed line when its middle is at most this many of the
# line's heights above or below it (signatures written between the title lines: 0.3 missed by 2 px)
STACK_BASELINES = 1.0  # ... or how far apart their baselines are at least, in typed lines' heights (their outlines)
STACK_OVERLAP = 0.4  # how much (of the lower line's or upper line's height) stacked signatures may overlap


def signature_stack(lines: list[Line], line_boxes: list[tuple[int, int, int, int]], angle: float,
                    page_size: tuple[int, int]) -> list[list[Line]]:
    """Signatures of several signatories found as one region. A stack when: level lines, each under the
    one before (overlapping it by at most ``STACK_OVERLAP`` of a line's height), centred in the signature
    column (45-72 % of the page width, between the typed titles and the typed names; a note in the right
    margin lies beyond it), and at least one of them level with a typed line (``STACK_LEVEL``). Returns one group per
    signature, or [] when the region is not such a stack (a note of several lines stays one region)."""
    if len(lines) < 2 or abs(angle) >= 45:
        return []
    boxes = [bbox(ln.polygon) for ln in lines]
    if not all(_in_signature_column(b, page_size[0]) for b in boxes):
        return []
    # one under the next: slanted signatures' descenders and flourishes overlap the next by up to 40 % (a third did not split
    # seed 7000's slanted pair, 52 px of a 139 px line);
    # the line cutter's outlines of two signatures a line apart overlapped by half their height: their
    # baselines, a typed line's outline height apart or more (the line pitch), tell them apart too
    typed_h = float(np.median([t[3] - t[1] for t in line_boxes])) if line_boxes else 0.0

    def base(ln: Line, b) -> float:
        return float(np.mean([p[1] for p in ln.baseline])) if ln.baseline else float(b[3])

    if not all(b2[1] >= b1[3] - STACK_OVERLAP * min(b1[3] - b1[1], b2[3] - b2[1])
               or (typed_h and base(l2, b2) - base(l1, b1) >= STACK_BASELINES * typed_h)
               for b1, b2, l1, l2 in zip(boxes, boxes[1:], lines, lines[1:], strict=False)):
        return []

    def level(b, t) -> bool:
        cy, th = (b[1] + b[3]) / 2, t[3] - t[1]
        return t[1] - STACK_LEVEL * th <= cy <= t[3] + STACK_LEVEL * th

    if not any(level(b, t) for b in boxes for t in line_boxes):
        return []
    return [[ln] for ln in lines]


UNSURE_LETTERS = 4  # a line Tesseract rejected but read with this many letters ...
UNSURE_HAND = 0.2  # ... makes a candidate on it handwriting when the classifier gives it at least this


def unsure_text(cands: list, rejected: list[Line]) -> list:
    """Candidates the classifier called noise that lie on a line Tesseract found but rejected as type, read
    with a few letters, and that the classifier gives some chance of being handwriting: text that is not
    type is handwriting (a one-word note in a small neat hand looks like a speck to the classifier).
    Returns them, made handwritten with their probability of it (below ``min_prob``, which they skip);
    the probabilities are those ``layout.classify`` gave."""
    lines = [bbox(ln.polygon) for ln in rejected if sum(ch.isalpha() for ch in ln.text) >= UNSURE_LETTERS]
    out = []
    for c in cands:
        if c.kind == "noise" and any(iou(c.box, b) >= 0.5 for b in lines):
            p = (c.probs or {}).get("handwritten", 0.0)
            if p >= UNSURE_HAND:
                c.kind, c.prob = "handwritten", p
                out.append(c)
    return out


PRINT_BELOW = 0.7  # a stamp candidate classified less surely than this, in which no outline was found ...
PRINT_CONF = 0.4  # ... is a stamp only if Tesseract reads it as print with at least this mean word confidence
PRINT_ASKEW = 4.0  # (read turned upright when its rows lie this many degrees off the horizontal or more)


def unprinted_stamps(grey: np.ndarray, cands: list, cfg: Config) -> list:
    """Candidates the classifier weakly called stamps, with no ring or frame found in them, whose ink
    Tesseract cannot read as print: a stamp is printed type (a frameless date stamp reads as print), a
    squat three-line resolution note ("т. Морозов / исполнено / 6.VIII.55") is not, and the classifier,
    seeing its size and place, took it for a stamp. A candidate whose rows lie askew is read turned upright
    (a rectangular stamp set down 15 degrees askew, its frame not found, read as a hand as it lay).
    Returns them, made handwritten with the probability that they are not noise (``grey``: the page)."""
    from .engines.tesseract import read_region

    out = []
    for c in cands:
        f = dict(zip(layout.FEATURES, c.features, strict=True))
        if c.kind != "stamp" or c.prob >= PRINT_BELOW or f["perimeter"] > 0 or f["source"] > 0:
            continue
        x0, y0, x1, y1 = c.box
        region = grey[y0:y1, x0:x1]
        crop, box = grey, c.box
        # a stamp set down askew is read turned upright (Tesseract reads type 15 degrees off as badly as a hand)
        angle = crop_angle(region)
        if PRINT_ASKEW <= abs(angle) < 45:
            crop = _rotate(region, angle, int(np.percentile(region, 90)))[0]
            box = (0, 0, crop.shape[1], crop.shape[0])
        try:
            raw = read_region(crop, box, cfg.run.lang, timeout=cfg.tesseract.timeout, backend=cfg.tesseract.backend)
        except EngineError:
            continue  # stays a stamp
        if mean_conf([w for ln in raw for w in ln.words]) >= PRINT_CONF:
            continue
        c.kind, c.prob = "handwritten", 1.0 - (c.probs or {}).get("noise", 0.0)
        out.append(c)
    return out


WRITTEN_HAND = 0.2  # a candidate called noise that the classifier gives at least this chance of handwriting ...
WRITTEN_CONF = 0.85  # ... is handwriting when the handwriting model reads it this surely ...
WRITTEN_LETTERS = 4  # ... with this many letters


def written_noise(grey: np.ndarray, cands: list, reader, xheight: float, min_prob: float = 0.5,
                  reads: dict | None = None) -> list:
    """Candidates the classifier called noise, or handwriting below ``min_prob``, but gives some chance of
    handwriting, that the handwriting model reads surely: what reads as writing is writing (a large blue
    resolution note across a typed heading, p 0.32, read at 0.89; on six reels the other noise candidates
    of p >= 0.2, specks, stamp numbers and typed fragments, read at 0.81 and below). ``reader``: a
    callable giving the kraken reader, called only when a candidate qualifies (the model is loaded only
    then); returns them, made handwritten with their probability of it (they skip ``min_prob``). ``reads``,
    when given, keeps each one's reading (box -> (lines, upright angle)), so ``route`` does not read it again."""
    out = []
    for c in cands:
        p = (c.probs or {}).get("handwritten", 0.0)
        if not (c.kind == "noise" or (c.kind == "handwritten" and c.prob < min_prob)) or p < WRITTEN_HAND:
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


INKED_WORDS = 4  # a typed region of one line of at most this many words ...
INKED_SHARE = 0.6  # ... each of whose words' ink the ink separation network calls handwriting this much


def inked_lines(image: np.ndarray, typed: list[Region], separator) -> set[str]:
    """Ids of the lines of one-line typed regions of a few words, each word of which the ink separation
    network (``inksep``; ``separator`` gives it, called only when there are such lines) mostly calls
    handwriting: a note in a neat hand Tesseract read as type, surely enough for ``lone_lines`` to pass
    it ("Согласен", 0.96), or of three words. (Each word, not the line: a typed name whose line took in
    the end of a signature beside it is type.)"""
    lines = [r.lines[0] for r in typed if r.kept and len(r.lines) == 1 and 0 < len(r.lines[0].words) <= INKED_WORDS]
    if not lines:
        return set()
    shares = layout.hand_share(image, [bbox(w.polygon) for ln in lines for w in ln.words], separator())
    out, i = set(), 0
    for ln in lines:
        if min(shares[i:i + len(ln.words)]) >= INKED_SHARE:
            out.add(ln.id)
        i += len(ln.words)
    return out


LONE_MAX_WORDS = 2  # a typed line of at most this many words ...
LONE_BELOW = 0.95  # ... read less surely than this, with no typed line near it, may be a handwritten note


def lone_lines(lines: list[Line]) -> set[str]:
    """Ids of short, not quite surely read typed lines with no other typed line within two line heights
    above or below them where they stand: a one- or two-word note in a neat hand that Tesseract read as
    type (a typed date or name stands in a block, or is read surely)."""
    boxes = {ln.id: bbox(ln.polygon) for ln in lines}
    out = set()
    for ln in lines:
        if len(ln.words) > LONE_MAX_WORDS or ln.conf is None or ln.conf >= LONE_BELOW:
            continue
        x0, y0, x1, y1 = boxes[ln.id]
        h = y1 - y0
        if not any(o is not ln and boxes[o.id][0] < x1 and boxes[o.id][2] > x0
                   and boxes[o.id][1] < y1 + 2 * h and boxes[o.id][3] > y0 - 2 * h for o in lines):
            out.add(ln.id)
    return out


PITCH_OFF = 0.15  # a typed line whose words' character pitch is this far off the page's may be a neat hand
PITCH_MIN_WORDS = 10  # ... measured when this many words of three characters and more are read surely


def _pitches(ln: Line, min_conf: float = 0.0) -> list[float]:
    """Width per character of each of a line's words of three characters and more read at least this surely."""
    return [(bbox(w.polygon)[2] - bbox(w.polygon)[0]) / len(w.text) for w in ln.words
            if len(w.text) >= 3 and w.conf >= min_conf]


def off_pitch_lines(lines: list[Line]) -> set[str]:
    """Ids of typed lines each of whose words is much wider or narrower per character than the page's
    surely read type: typewriter type has one pitch, so a note in a neat script that Tesseract read as
    type, even surely ("т. Соколов / Снять с контроля", 0.81-0.96), stands out (1.18-1.23 of the page's
    pitch). Every word: a typed line with a signature's stroke read as one more word is still type."""
    sure = [p for ln in lines for p in _pitches(ln, 0.9)]
    if len(sure) < PITCH_MIN_WORDS:
        return set()
    page = float(np.median(sure))
    out = set()
    for ln in lines:
        rel = [p / page - 1 for p in _pitches(ln)]
        if rel and (all(r > PITCH_OFF for r in rel) or all(r < -PITCH_OFF for r in rel)):
            out.add(ln.id)
    return out


RESCUE_BELOW = 0.9  # a "handwritten" candidate less sure than this is first read as type (0.75 left typed
# blocks in uneven type, p 0.8-0.9, as handwriting: on six reels 0.9 made 3 false handwriting regions typed
# text again, 2 of them typed regions found, and lost none)
RESCUE_CONF = 0.75  # ... and is typed text when Tesseract reads it with at least this mean word confidence


def typed_rescue(image: np.ndarray, cands: list, cfg: Config,
                 line_boxes: list[tuple[int, int, int, int]] = (),
                 type_height: float | None = None) -> dict[int, Region | None]:
    """Candidates the classifier only weakly took for handwriting, read alone by Tesseract as a block of
    type: when Tesseract is sure of it, the candidate is typed text, not handwriting (id(candidate) -> a
    region of the lines the page-level call missed, or None when it had them all: ``line_boxes``, the
    page's typed lines, are not read twice). Recovers faint typed lines and saves the handwriting model's
    load on typed pages. Its words' median height must be the page's ``type_height`` (its typed words'
    median) within ``[tesseract] max_height_deviation``, as for the line decision: a neat note in a
    large hand is read surely, in letters twice the type's height."""
    from .engines.tesseract import read_region
    from .pipeline import _height

    weak = [c for c in cands if c.kind == "handwritten" and c.prob < RESCUE_BELOW and c.inked is None]
    if not weak:
        return {}
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    out = {}
    for k, c in enumerate(weak, start=1):
        try:
            raw = read_region(grey, c.box, cfg.run.lang, timeout=cfg.tesseract.timeout, backend=cfg.tesseract.backend)
        except EngineError:
            continue  # stays a handwriting candidate
        words = [w for ln in raw for w in ln.words]
        chars = sum(len(w.text) for w in words)
        if chars < 3:
            continue
        mean = mean_conf(words)
        sure = sum(w.conf >= CONFIDENT_WORD for w in words) / len(words)
        if mean < RESCUE_CONF or sure < 0.7:
            continue
        dev = cfg.tesseract.max_height_deviation
        if type_height and dev and abs(_height(words) / type_height - 1) > dev:
            continue
        raw = [ln for ln in raw if not any(cover(ln.box, b) >= 0.3 or cover(b, ln.box) >= 0.3 for b in line_boxes)]
        if not raw:
            out[id(c)] = None
            continue
        rid = f"t{k:03d}"
        lines = tuple(Line(f"{rid}_l{i:03d}", ln.text, _quad(ln.box), ((ln.box[0], ln.box[3]), (ln.box[2], ln.box[3])),
                           mean_conf(ln.words),
                           tuple(Word(w.text, w.conf, _quad(w.box)) for w in ln.words))
                      for i, ln in enumerate(raw, start=1))
        out[id(c)] = Region(rid, _quad(c.box), lines, production="typewritten", type="paragraph")
    return out


def hidden_by_handwriting(ln: Line, hands: list[tuple[int, int, int, int]], page_size: tuple[int, int]) -> bool:
    """Whether a kept typed line lies in a handwriting region (its ink is the region's, read with it), so
    that it leaves the typed text. A page number ("- 3 -" where the pipeline keeps one) stays typed text
    though a note written about it makes a handwriting region over it."""
    from .pipeline import page_number_match

    box = bbox(ln.polygon)
    return any(cover(box, b) >= 0.8 for b in hands) and page_number_match(ln.text, box, page_size) is None


def route(image: np.ndarray, typed: list[Region], border, xheight: float | None, cfg: Config) -> Routed:
    """Find, classify and read the non-typed regions of a page (original image, BGR or grey)."""
    lc = cfg.layout
    out = Routed()
    kept_lines = [ln for r in typed if r.kept for ln in r.lines]
    line_boxes = [bbox(ln.polygon) for ln in kept_lines]
    # lone lines' ink is shown to the classifier: a short note Tesseract read as type may be handwriting
    lone = lone_lines(kept_lines) | off_pitch_lines(kept_lines)
    cyrillic = bool(set(cfg.run.lang.split("+")) & CYRILLIC_LANGS)

    def separator():
        """The ink separation network, loaded (PyTorch imported) on first use."""
        from . import inksep

        return inksep.load(lc.ink_model or None)

    if lc.separate_ink and cyrillic:  # trained on Cyrillic typescripts, it takes some Latin type for a hand
        lone |= inked_lines(image, typed, separator)
    words, shown_boxes = typed_boxes([ln for ln in kept_lines if ln.id not in lone], cfg.run.lang)
    cands = layout.candidates(image, words, border, xheight, shown_boxes)
    layout.classify(cands, layout.load_model(lc.model or None))
    cands = resolve_finer(cands)
    outlines = stamp_outlines(cands, lc.min_prob) if lc.separate_ink else []
    if outlines:
        cands += layout.hand_across(image, outlines, xheight, border, separator())
    unsure = unsure_text(cands, [ln for r in typed if not r.kept for ln in r.lines])
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    unprinted = unprinted_stamps(grey, [c for c in cands if c.prob >= lc.min_prob], cfg)
    kraken: dict = {}

    def reader():
        """The handwriting model, loaded on first use (None, with the reason recorded, when it does not load)."""
        if "reader" not in kraken:
            from .engines.kraken_lines import load as load_kraken

            try:
                kraken["reader"] = load_kraken(lc.handwriting_model or None)
                out.info["kraken"] = kraken["reader"].version
            except EngineError as e:  # the run checked the file, but it does not load: the lines say why
                kraken["reader"], kraken["error"] = None, str(e)
                out.info["handwriting_error"] = str(e)
        return kraken["reader"]

    reads: dict = {}  # handwriting regions already read (written_noise), by box
    written = (written_noise(grey, cands, reader, xheight or 20.0, lc.min_prob, reads)
               if lc.handwriting and cyrillic else [])
    unsure_ids = {id(c) for c in unsure + written}  # kept below min_prob (not compared by value: features are arrays)
    keep = suppress([c for c in cands if c.kind != "noise" and (c.prob >= lc.min_prob or id(c) in unsure_ids)])
    heights = [b[3] - b[1] for b in (bbox(w.polygon) for ln in kept_lines for w in ln.words)]
    rescued = typed_rescue(image, keep, cfg, line_boxes, float(np.median(heights)) if heights else None)
    if rescued:
        keep = [c for c in keep if id(c) not in rescued]
        out.typed.extend(r for r in rescued.values() if r is not None)
    keep = join_note_lines(keep, image.shape[1])
    stamps = [c.box for c in keep if c.kind == "stamp"]
    hands = [c.box for c in keep if c.kind == "handwritten"]
    page_size = (image.shape[1], image.shape[0])
    stamp_lines = []
    # handwriting is read only in a Cyrillic language, with the model: elsewhere its regions stay empty
    hand_read = lc.handwriting and cyrillic
    for r in typed:
        # typed lines that lie on a stamp are the stamp's text; ones inside handwriting were handwriting
        # read as type (the kraken model reads them again with their region)
        inside = [ln for ln in r.lines if r.kept and any(cover(bbox(ln.polygon), b) >= 0.6 for b in stamps)]
        in_hand = [ln for ln in r.lines if r.kept and ln not in inside and hidden_by_handwriting(ln, hands, page_size)]
        stamp_lines += inside
        rest = tuple(ln for ln in r.lines if ln not in inside and ln not in in_hand)
        if rest:
            out.typed.append(r if len(rest) == len(r.lines) else
                             Region(r.id, _quad(bbox([p for ln in rest for p in ln.polygon])), rest, r.production,
                                    r.type, r.kept, r.note))
        if in_hand and not hand_read:  # no reading replaces Tesseract's: it stays, set aside with the reason
            why = f"in a handwriting region, not read (the handwriting model reads Cyrillic; lang is {cfg.run.lang})"
            rid = f"{r.id}h"
            out.typed.append(Region(rid, _quad(bbox([p for ln in in_hand for p in ln.polygon])),
                                    tuple(dataclasses.replace(ln, id=f"{rid}_l{j:03d}", note=why)
                                          for j, ln in enumerate(in_hand, start=1)), None, "paragraph",
                                    False, REJECTED_NOTE))
    if lc.handwriting and not cyrillic:
        out.info["handwriting_note"] = f"handwriting regions not read: the model reads Cyrillic, lang is {cfg.run.lang}"
    model = reader() if lc.handwriting and cyrillic and any(c.kind == "handwritten" for c in keep) else None
    load_error = kraken.get("error", "")
    h_page = image.shape[0]
    n_h = n_s = 0
    for c in sorted(keep, key=lambda c: (c.kind != "handwritten", c.box[1], c.box[0])):
        if c.kind == "handwritten":
            lines, angle = reads.get(c.box) or read_handwriting(grey, c.box, f"h{n_h + 1:03d}", model, xheight or 20.0)
            if load_error:
                lines = [dataclasses.replace(ln, note=load_error) for ln in lines]
            note = f"memo-ocr {{layout-prob:{c.prob:.2f}; upright-angle:{angle:.1f};}}"
            stacked = signature_stack(lines, line_boxes, angle, (image.shape[1], h_page))
            for group in stacked or [lines]:
                n_h += 1
                rid = f"h{n_h:03d}"
                box = c.box if not stacked else bbox([p for ln in group for p in ln.polygon])
                group = [dataclasses.replace(ln, id=f"{rid}_l{i:03d}") for i, ln in enumerate(group, start=1)]
                cy = (box[1] + box[3]) / 2
                beside_typed = any(t[1] - 20 <= cy <= t[3] + 20 for t in line_boxes)
                signature = bool(stacked) or (len(group) <= 1 and abs(angle) < 45 and cy > 0.5 * h_page
                                              and beside_typed)
                out.regions.append(Region(rid, _quad(box), tuple(group), production="handwritten-cursive",
                                          type="signature-mark" if signature else "marginalia", kept=True, note=note))
        else:
            n_s += 1
            sid = f"s{n_s:03d}"
            out.graphics.append(Graphic(sid, _quad(c.box), "stamp"))
            on_stamp = [ln for ln in stamp_lines if cover(bbox(ln.polygon), c.box) >= 0.6]
            if on_stamp:  # Tesseract already read the stamp's straight lines as typed text
                lines = tuple(Line(f"{sid}_t_l{i + 1:03d}", ln.text, ln.polygon, ln.baseline, ln.conf, ln.words)
                              for i, ln in enumerate(on_stamp))
                out.regions.append(Region(f"{sid}_t", _quad(c.box), lines, production="printed", type="other",
                                          kept=True, note="structure {type:stamp-text;}"))
            elif lc.stamp_text:
                texts = read_stamp(grey, c.box, cfg.run.lang, cfg.tesseract.backend)
                if texts:
                    lines = tuple(Line(f"{sid}_t_l{i + 1:03d}", t, _quad(c.box), (), conf)
                                  for i, (t, conf) in enumerate(texts))
                    out.regions.append(Region(f"{sid}_t", _quad(c.box), lines, production="printed", type="other",
                                              kept=True, note="structure {type:stamp-text;}"))
    out.info["layout"] = {"candidates": len(cands), "handwritten": n_h, "stamps": n_s, "typed_rescued": len(rescued),
                          "unsure_text_as_handwriting": len(unsure), "read_as_handwriting": len(written),
                          "unprinted_stamps_as_handwriting": len(unprinted)}
    return out


def debug_image(image: np.ndarray, regions: list[Region], graphics: list[Graphic]) -> np.ndarray:
    """The page with regions outlined by kind: blue typed, red handwriting, violet stamps, grey rejected."""
    img = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    t = max(2, int(math.ceil(img.shape[1] / 800)))
    for r in regions:
        colour = (200, 80, 0) if r.production == "typewritten" and r.kept else \
            (0, 0, 220) if (r.production or "").startswith("handwritten") else (150, 150, 150)
        cv2.polylines(img, [np.array(r.polygon, np.int32)], True, colour, t)
    for g in graphics:
        cv2.polylines(img, [np.array(g.polygon, np.int32)], True, (180, 40, 160), t + 1)
    return img
