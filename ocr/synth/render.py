"""Render a memo onto a 300 ppi A4 page with exact ground-truth polygons for every line and stamp.

Ink is drawn into coverage layers (typed, handwritten, stamp), each with its
own colour, then multiplied onto the paper. Notes and stamps are drawn on
their own small canvases and placed with one affine transform each, which is
also applied to their line boxes, so the ground truth follows the ink exactly.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import fonts
from .content import Memo, Note, Stamp

PAGE_W, PAGE_H = 2480, 3508  # A4 at 300 ppi
MARGIN_L = 300
TYPE_PITCH = 30.0  # 10 characters per inch at 300 ppi (pica)


@dataclass
class GTLine:
    text: str
    poly: np.ndarray  # (4, 2) float, page coordinates
    words: tuple = ()  # a note's: (word, (4, 2) box in page coordinates) for each word the line is made of


@dataclass
class GTRegion:
    id: str
    kind: str  # typewritten | handwritten | stamp
    type: str  # paragraph | heading | signature-mark | marginalia | other ...
    lines: list[GTLine]


@dataclass
class GTStamp:
    id: str
    poly: np.ndarray


@dataclass
class Rendered:
    """The clean page: ink coverage layers and colours, plus ground truth before scanning effects."""

    layers: dict[str, np.ndarray]  # name -> float32 (H, W) coverage 0..1
    colours: dict[str, tuple[int, int, int]]  # name -> RGB
    regions: list[GTRegion] = field(default_factory=list)
    stamps: list[GTStamp] = field(default_factory=list)
    fonts_used: dict[str, str] = field(default_factory=dict)


def _affine_pts(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def _box_poly(x0, y0, x1, y1) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


class Typewriter:
    """Monospace typing with per-character baseline and ink jitter, uneven ribbon and overstrikes."""

    def __init__(self, rng: np.random.Generator, font_path: str, layer: np.ndarray):
        self.rng = rng
        probe = ImageFont.truetype(font_path, 100)
        size = int(round(100 * TYPE_PITCH / probe.getlength("M")))
        self.font = ImageFont.truetype(font_path, size)
        self.img = Image.fromarray(np.zeros(layer.shape, np.uint8))
        self.draw = ImageDraw.Draw(self.img)
        self.layer = layer
        self.ribbon = float(rng.uniform(0.8, 1.0))  # how fresh the ribbon is

    def type_line(self, x: float, y: float, text: str) -> np.ndarray | None:
        """Type ``text`` with its baseline at y; returns the ink box polygon (None for blank)."""
        boxes = []
        line_ink = self.ribbon * float(self.rng.uniform(0.85, 1.1))
        for i, ch in enumerate(text):
            if ch == " ":
                continue
            cx = x + i * TYPE_PITCH + float(self.rng.normal(0, 0.6))
            cy = y + float(self.rng.normal(0, 0.8))
            ink = float(np.clip(line_ink * self.rng.uniform(0.8, 1.1), 0.35, 1.0))
            self.draw.text((cx, cy), ch, font=self.font, fill=int(255 * ink), anchor="ls")
            if self.rng.random() < 0.01:  # an overstrike: the key hit twice, slightly off
                self.draw.text((cx + self.rng.integers(1, 3), cy), ch, font=self.font, fill=int(255 * ink), anchor="ls")
            boxes.append(self.draw.textbbox((cx, cy), ch, font=self.font, anchor="ls"))
        if not boxes:
            return None
        x0 = min(b[0] for b in boxes) - 2
        y0 = min(b[1] for b in boxes) - 2
        x1 = max(b[2] for b in boxes) + 3
        y1 = max(b[3] for b in boxes) + 3
        return _box_poly(x0, y0, x1, y1)

    def finish(self) -> None:
        cov = np.asarray(self.img, dtype=np.float32) / 255.0
        # ribbon grain: the ink of a worn ribbon is speckled, never solid
        grain = self.rng.uniform(0.8, 1.0, cov.shape).astype(np.float32)
        np.maximum(self.layer, cov * grain, out=self.layer)


def _place(layer: np.ndarray, canvas: np.ndarray, m: np.ndarray) -> None:
    """Warp a small coverage canvas into the page layer with affine m (canvas -> page), max-combined."""
    h, w = layer.shape
    x0, y0, x1, y1 = _bounds(_affine_pts(m, _box_poly(0, 0, canvas.shape[1], canvas.shape[0])), w, h)
    if x1 <= x0 or y1 <= y0:
        return
    shift = np.array([[1, 0, -x0], [0, 1, -y0]], dtype=np.float64)
    mm = shift @ np.vstack([m, [0, 0, 1]])
    warped = cv2.warpAffine(canvas, mm, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderValue=0)
    np.maximum(layer[y0:y1, x0:x1], warped, out=layer[y0:y1, x0:x1])


def _bounds(pts: np.ndarray, w: int, h: int) -> tuple[int, int, int, int]:
    x0 = int(max(0, math.floor(pts[:, 0].min())))
    y0 = int(max(0, math.floor(pts[:, 1].min())))
    x1 = int(min(w, math.ceil(pts[:, 0].max()) + 1))
    y1 = int(min(h, math.ceil(pts[:, 1].max()) + 1))
    return x0, y0, x1, y1


def _placement(cx: float, cy: float, canvas_w: int, canvas_h: int, angle: float, shear: float = 0.0) -> np.ndarray:
    """Affine canvas -> page: shear and rotate about the canvas centre, then move it to (cx, cy)."""
    t1 = np.array([[1, 0, -canvas_w / 2], [0, 1, -canvas_h / 2], [0, 0, 1]], dtype=np.float64)
    sh = np.array([[1, -shear, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    a = math.radians(angle)
    rot = np.array([[math.cos(a), math.sin(a), 0], [-math.sin(a), math.cos(a), 0], [0, 0, 1]])
    t2 = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]], dtype=np.float64)
    return (t2 @ rot @ sh @ t1)[:2]


def render_note(rng: np.random.Generator, note: Note, font_path: str) -> tuple[np.ndarray, list[tuple]]:
    """A handwritten note on its own canvas: coverage and, for each line, its text, box and words' boxes
    (canvas coordinates)."""
    size = int(rng.integers(58, 80)) if note.type == "marginalia" else int(rng.integers(80, 100))
    font = ImageFont.truetype(font_path, size)
    line_h = int(size * 1.25)
    widths = [font.getlength(t) for t in note.lines]
    w = int(max(widths) + size * 2)
    h = int(line_h * len(note.lines) + size * 1.2)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    stroke = int(rng.integers(0, 2))
    boxes = []
    for i, text in enumerate(note.lines):
        x = size * 0.5 + float(rng.uniform(0, size * 0.4))
        base = size * 1.0 + i * line_h
        drift = float(rng.uniform(-0.06, 0.06))  # the baseline wanders up or down along the line
        word_boxes = []
        for word in text.split(" "):
            y = base + drift * (x - size * 0.5) + float(rng.normal(0, 1.5))
            ink = int(255 * float(rng.uniform(0.75, 1.0)))
            draw.text((x, y), word, font=font, fill=ink, anchor="ls", stroke_width=stroke, stroke_fill=ink)
            word_boxes.append(draw.textbbox((x, y), word, font=font, anchor="ls", stroke_width=stroke))
            x += font.getlength(word + " ") * float(rng.uniform(0.95, 1.15))
        x0 = min(b[0] for b in word_boxes) - 3
        y0 = min(b[1] for b in word_boxes) - 3
        x1 = max(b[2] for b in word_boxes) + 3
        y1 = max(b[3] for b in word_boxes) + 3
        words = tuple((t, _box_poly(*b)) for t, b in zip(text.split(" "), word_boxes, strict=True))
        boxes.append((text, _box_poly(x0, y0, x1, y1), words))
    cov = np.asarray(img, dtype=np.float32) / 255.0
    return cov, boxes


def word_coverage(grey: np.ndarray) -> np.ndarray:
    """A scanned word image (grey, dark ink on lighter paper) as ink coverage (0..1): its paper and the
    paper's texture go to 0."""
    g = grey.astype(np.float32)
    lo, hi = np.percentile(g, 3), np.percentile(g, 90)
    cov = np.clip((hi - g) / max(hi - lo, 1.0), 0.0, 1.0)
    cov[cov < 0.2] = 0.0
    return cov


def render_note_real(rng: np.random.Generator, note: Note, words: list[tuple[np.ndarray, str]],
                     gap: tuple[float, float] = (0.3, 0.6)) -> tuple[np.ndarray, list[tuple]]:
    """A note written with real scanned handwriting: as many lines as ``note`` has, each of 1-4 word images
    (``words``: ink coverage and text) drawn from the pool, scaled to one hand's size, set on a wandering
    baseline, words ``gap`` (of the hand's size) apart. Coverage and, for each line, its text (the words'),
    box and words' boxes (canvas coordinates)."""
    size = int(rng.integers(58, 80))
    line_h = int(size * 1.45)
    rows = []
    for _ in note.lines:
        row = []
        for _ in range(int(rng.integers(1, 5))):
            cov, text = words[int(rng.integers(0, len(words)))]
            scale = size * float(rng.uniform(0.85, 1.15)) / max(cov.shape[0], 1)
            img = cv2.resize(cov, (max(2, int(cov.shape[1] * scale)), max(2, int(cov.shape[0] * scale))),
                             interpolation=cv2.INTER_LINEAR)
            row.append((img, text))
        rows.append(row)
    w = int(max(sum(img.shape[1] for img, _ in row) + size * gap[1] * len(row) for row in rows) + size * 2)
    h = int(line_h * len(rows) + size * 1.5)
    canvas = np.zeros((h, w), np.float32)
    boxes = []
    for i, row in enumerate(rows):
        x = size * 0.5 + float(rng.uniform(0, size * 0.4))
        base = size * 1.2 + i * line_h
        drift = float(rng.uniform(-0.05, 0.05))
        word_boxes, texts = [], []
        for img, text in row:
            ih, iw = img.shape
            y0 = int(base + drift * (x - size * 0.5) + float(rng.normal(0, 2.0)) - ih * 0.8)
            y0 = min(max(0, y0), h - ih)
            x0 = int(min(x, w - iw))
            np.maximum(canvas[y0:y0 + ih, x0:x0 + iw], img * float(rng.uniform(0.8, 1.0)),
                       out=canvas[y0:y0 + ih, x0:x0 + iw])
            ys, xs = np.nonzero(img > 0.2)
            if len(xs):
                word_boxes.append((x0 + xs.min(), y0 + ys.min(), x0 + xs.max() + 1, y0 + ys.max() + 1))
                texts.append(text)
            x += iw + size * float(rng.uniform(*gap))
        if word_boxes:
            bx0 = min(b[0] for b in word_boxes) - 3
            by0 = min(b[1] for b in word_boxes) - 3
            bx1 = max(b[2] for b in word_boxes) + 3
            by1 = max(b[3] for b in word_boxes) + 3
            words = tuple((t, _box_poly(*b)) for t, b in zip(texts, word_boxes, strict=True))
            boxes.append((" ".join(texts), _box_poly(bx0, by0, bx1, by1), words))
    return canvas, boxes


def render_stamp(rng: np.random.Generator, stamp: Stamp, font_path: str) -> tuple[np.ndarray, list[tuple[str, np.ndarray]], np.ndarray]:
    """A stamp on its own canvas: coverage, text-line boxes, and the outline polygon."""
    lines_out: list[tuple[str, np.ndarray]] = []
    if stamp.shape == "rect":
        size = int(rng.integers(32, 40))
        font = ImageFont.truetype(font_path, size)
        lh = int(size * (1.6 if stamp.ruled else 1.35))  # ruled fields stand further apart
        w = int(max(font.getlength(t) for t in stamp.lines) + 2.2 * size)
        h = int(lh * len(stamp.lines) + 1.2 * size)
        img = Image.new("L", (w + 20, h + 20), 0)
        draw = ImageDraw.Draw(img)
        draw.rectangle((10, 10, 10 + w, 10 + h), outline=255, width=5)
        for i in range(1, len(stamp.lines) if stamp.ruled else 0):  # the fields' rules, half way between lines
            y = int(10 + size * 0.6 + (i + 0.5) * lh - size * 0.3 - 0.35 * size)
            draw.line((10, y, 10 + w, y), fill=255, width=3)
        for i, t in enumerate(stamp.lines):
            y = 10 + size * 0.6 + (i + 1) * lh - size * 0.3
            x = 10 + (w - font.getlength(t)) / 2
            draw.text((x, y), t, font=font, fill=255, anchor="ls")
            b = draw.textbbox((x, y), t, font=font, anchor="ls")
            lines_out.append((t, _box_poly(b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2)))
        outline = _box_poly(7, 7, 13 + w, 13 + h)
    else:
        r = int(rng.integers(170, 200))
        size = int(r * 0.19)
        font = ImageFont.truetype(font_path, size)
        side = 2 * r + 20
        img = Image.new("L", (side, side), 0)
        draw = ImageDraw.Draw(img)
        c = side / 2
        draw.ellipse((c - r, c - r, c + r, c + r), outline=255, width=6)
        draw.ellipse((c - r * 0.68, c - r * 0.68, c + r * 0.68, c + r * 0.68), outline=255, width=3)
        # text on the arc, centred at the top, each glyph turned to the tangent
        text = stamp.arc
        rad = r * 0.84 - size * 0.5
        total = sum(font.getlength(ch) for ch in text) * 1.08
        ang = -math.pi / 2 - (total / rad) / 2
        for ch in text:
            adv = font.getlength(ch) * 1.08
            a = ang + (adv / rad) / 2
            gsz = size * 2
            g = Image.new("L", (gsz, gsz), 0)
            ImageDraw.Draw(g).text((gsz / 2, gsz / 2), ch, font=font, fill=255, anchor="mm")
            g = g.rotate(-math.degrees(a) - 90, resample=Image.BILINEAR)
            px, py = c + rad * math.cos(a), c + rad * math.sin(a)
            img.paste(255, (int(px - gsz / 2), int(py - gsz / 2)), g)
            ang += adv / rad
        # the arc line's polygon: the ring band the arc text occupies (as a 4-point box around it)
        a0 = -math.pi / 2 - (total / rad) / 2
        a1 = a0 + total / rad
        ring_pts = []
        for rr in (rad + size * 0.6, rad - size * 0.6):
            for a in np.linspace(a0, a1, 9) if rr > rad else np.linspace(a1, a0, 9):
                ring_pts.append((c + rr * math.cos(a), c + rr * math.sin(a)))
        lines_out.append((text, np.array(ring_pts, dtype=np.float64)))
        for i, t in enumerate(stamp.lines):
            cfont = ImageFont.truetype(font_path, int(size * 1.1))
            y = c + (i - (len(stamp.lines) - 1) / 2) * size * 1.4
            draw.text((c, y), t, font=cfont, fill=255, anchor="mm")
            b = draw.textbbox((c, y), t, font=cfont, anchor="mm")
            lines_out.append((t, _box_poly(b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2)))
        outline = np.array([(c + (r + 4) * math.cos(a), c + (r + 4) * math.sin(a))
                            for a in np.linspace(0, 2 * math.pi, 24, endpoint=False)])
        if stamp.squeeze != 1.0:  # an oval stamp: the round one squeezed across
            img = img.resize((max(1, int(side * stamp.squeeze)), side), Image.BILINEAR)
            lines_out = [(t, poly * np.array([stamp.squeeze, 1.0])) for t, poly in lines_out]
            outline = outline * np.array([stamp.squeeze, 1.0])
    cov = np.asarray(img, dtype=np.float32) / 255.0
    # partial ink: a stamp pad never inks evenly
    lo = rng.uniform(0, 1, (8, 8)).astype(np.float32)
    smooth = cv2.resize(lo, (cov.shape[1], cov.shape[0]), interpolation=cv2.INTER_CUBIC)
    strength = np.clip(0.35 + 1.1 * smooth, 0.15, 1.0)
    cov *= strength * rng.uniform(0.7, 1.0, cov.shape).astype(np.float32)
    return _worn(cov, stamp), lines_out, outline


def _worn(cov: np.ndarray, stamp: Stamp) -> np.ndarray:
    """A stamp's coverage as struck: faint (``ink``), a part uninked (``partial``: that share from one side,
    fading over a tenth of the stamp), struck twice (``double``: a fainter copy offset beside it)."""
    cov = cov * np.float32(stamp.ink)
    share, angle = stamp.partial
    if share > 0:
        h, w = cov.shape
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        a = math.radians(angle)
        along = (xs - w / 2) * math.cos(a) + (ys - h / 2) * math.sin(a)  # distance along the direction
        lo, hi = float(along.min()), float(along.max())
        edge = lo + share * (hi - lo)
        cov = cov * np.clip((along - edge) / (0.1 * (hi - lo)) + 0.5, 0, 1).astype(np.float32)
    dx, dy = stamp.double
    if dx or dy:
        shifted = np.zeros_like(cov)
        h, w = cov.shape
        shifted[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)] = \
            cov[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
        cov = np.maximum(cov, 0.5 * shifted)
    return cov


def render_memo(rng: np.random.Generator, memo: Memo,
                real_words: list[tuple[np.ndarray, str]] | None = None) -> Rendered:
    """Lay out and ink a memo on a clean A4 page. With ``real_words`` (ink coverage and text of real
    scanned handwritten words), notes other than signatures are written with them instead of a font."""
    shape = (PAGE_H, PAGE_W)
    layers = {k: np.zeros(shape, np.float32) for k in ("typed", "hand", "stamp")}
    type_font = str(rng.choice(fonts.require("typewriter")))
    hand_fonts = fonts.require("handwriting")
    stamp_font = str(rng.choice(fonts.require("stamp")))
    tw = Typewriter(rng, type_font, layers["typed"])
    out = Rendered(layers, {}, fonts_used={"typewriter": type_font.rsplit("/", 1)[-1],
                                           "stamp": stamp_font.rsplit("/", 1)[-1]})
    chars = 64
    spacing = float(rng.choice([75.0, 100.0]))  # 1.5 or double spacing
    y = float(rng.integers(420, 520))
    rid = 0

    def region(kind: str, typ: str, lines: list[GTLine]) -> None:
        nonlocal rid
        if lines:
            rid += 1
            out.regions.append(GTRegion(f"r{rid:03d}", kind, typ, lines))

    # heading, centred
    head = []
    for t in memo.heading:
        for part in textwrap.wrap(t, 40):
            x = MARGIN_L + (chars - len(part)) / 2 * TYPE_PITCH
            poly = tw.type_line(x, y, part)
            if poly is not None:
                head.append(GTLine(part, poly))
            y += spacing
    region("typewritten", "heading", head)
    y += spacing * 0.6
    for para in memo.paragraphs:
        lines = []
        for part in textwrap.wrap(para, chars, initial_indent=" " * 5):
            poly = tw.type_line(MARGIN_L, y, part)
            if poly is not None:
                lines.append(GTLine(part.strip(), poly))
            y += spacing
        region("typewritten", "paragraph", lines)
        y += spacing * 0.35
    y += spacing * 0.8
    sig_baselines = []
    for pos, name in memo.signatures:
        lines = []
        for part in textwrap.wrap(pos, 32):
            poly = tw.type_line(MARGIN_L, y, part)
            lines.append(GTLine(part, poly))
            y += 60
        y -= 60
        x_name = MARGIN_L + (chars - len(name)) * TYPE_PITCH
        lines.append(GTLine(name, tw.type_line(x_name, y, name)))
        sig_baselines.append((y, x_name))
        region("typewritten", "paragraph", lines)
        y += spacing * 1.6
    foot = []
    for t in memo.footer:
        foot.append(GTLine(t, tw.type_line(MARGIN_L, y, t)))
        y += 60
    region("typewritten", "paragraph", foot)
    tw.finish()
    text_bottom = y

    # handwriting: marginalia and signatures
    out.colours["hand"] = tuple(int(v) for v in rng.choice([[25, 35, 120], [60, 60, 70], [40, 45, 150]]))
    hand_used: set[str] = set()
    for note in memo.notes:
        if note.type == "marginalia":
            font_path = str(rng.choice(hand_fonts))
        elif len(hand_fonts) > 1 and rng.random() < 0.5:  # signatures: the first or the last (most cursive) face
            font_path = hand_fonts[-1]
        else:
            font_path = hand_fonts[0]
        if real_words and note.type != "signature-mark":
            cov, boxes = render_note_real(rng, note, real_words)
            font_path = "real handwritten words"
        else:
            cov, boxes = render_note(rng, note, font_path)
        h, w = cov.shape
        shear = float(rng.uniform(0.05, 0.3))
        a = note.anchor
        if a.startswith("signature-"):
            k = int(a.split("-")[1])
            by, bx = sig_baselines[min(k, len(sig_baselines) - 1)] if sig_baselines else (text_bottom, 1500)
            cx, cy, ang = bx - w / 2 - 30, by - h * 0.35, float(rng.uniform(-6, 6))
        elif a == "top-right":
            cx, cy, ang = PAGE_W - 160 - w / 2, float(rng.uniform(130, 260)) + h / 2, float(rng.uniform(-10, 6))
        elif a == "left":
            cx, cy, ang = 120.0, float(rng.uniform(1300, 2000)), float(rng.uniform(80, 95))
        elif a == "bottom-right":
            cx, cy, ang = PAGE_W - 200 - w / 2, min(PAGE_H - 120 - h / 2, text_bottom + 140 + h / 2), float(rng.uniform(-12, 8))
        else:  # bottom-left
            cx, cy, ang = MARGIN_L + w / 2, min(PAGE_H - 100 - h / 2, text_bottom + 300 + h / 2), float(rng.uniform(-8, 8))
        m = _placement(cx, cy, w, h, ang, shear)
        _place(layers["hand"], cov, m)
        lines = [GTLine(t, _affine_pts(m, poly), tuple((wt, _affine_pts(m, wp)) for wt, wp in ws))
                 for t, poly, ws in boxes]
        region("handwritten", note.type, lines)
        hand_used.add(font_path.rsplit("/", 1)[-1])
    if hand_used:
        out.fonts_used["handwriting"] = ",".join(sorted(hand_used))

    # stamps
    out.colours["stamp"] = tuple(int(v) for v in rng.choice([[95, 45, 150], [50, 70, 165], [120, 50, 140]]))
    out.colours["typed"] = (22, 22, 28)
    for s_i, stamp in enumerate(memo.stamps):
        cov, boxes, outline = render_stamp(rng, stamp, stamp_font)
        h, w = cov.shape
        if stamp.anchor == "top-left":
            cx, cy = MARGIN_L + w / 2 - 60, float(rng.uniform(120, 200)) + h / 2
        elif stamp.anchor == "mid-right":
            cx, cy = PAGE_W - 180 - w / 2, float(rng.uniform(1100, 1800))
        else:  # bottom-center, over the signatures and date
            cx, cy = PAGE_W / 2 + float(rng.uniform(-250, 250)), min(PAGE_H - h / 2 - 80, text_bottom - float(rng.uniform(100, 350)))
        m = _placement(cx, cy, w, h, float(rng.uniform(-15, 15)))
        _place(layers["stamp"], cov, m)
        region("stamp", "other", [GTLine(t, _affine_pts(m, poly)) for t, poly in boxes])
        out.stamps.append(GTStamp(f"s{s_i + 1:03d}", _affine_pts(m, outline)))
    return out
