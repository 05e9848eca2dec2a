"""Synthetic handwritten lines for training the handwriting model.

Text: memo vocabulary (names with initials, dates with Roman-numeral months,
numbers, resolutions, inflected noun phrases from ``wordfreq`` + ``pymorphy3``,
and the training words of the real data set), in modern and pre-1918 spelling.
Image: one of the Cyrillic script fonts, drawn word by word with a wandering
baseline, then slanted, elastically distorted, thickened or thinned, blurred,
laid on paper with uneven light and noise, scaled to a random height and
JPEG-compressed. Every sample is drawn from a generator seeded per sample, so
a seed gives the same set.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..synth import content

FUNCTION_WORDS = ["и", "в", "на", "не", "что", "по", "с", "к", "о", "из", "за", "от", "для", "до", "т.", "т.т.",
                  "тов.", "ЦК", "КПСС", "прошу", "срочно", "доложить", "копия", "лично", "отв.", "вх.", "исх."]
YAT_ROOTS = ["бел", "вер", "вед", "дел", "дет", "мест", "нет", "обед", "рек", "реч", "свет", "север", "след",
             "хлеб", "цвет", "цел", "цен", "человек", "лес", "лет", "месяц", "сдела", "желез", "тел", "где",
             "здесь", "везде", "двер", "пред", "нем", "смер", "вет"]
VOWELS = set("аеёиоуыэюяАЕЁИОУЫЭЮЯ")
CONSONANTS = set("бвгджзклмнпрстфхцчшщБВГДЖЗКЛМНПРСТФХЦЧШЩ")


def to_pre1918(text: str, rng: np.random.Generator) -> str:
    """Old orthography, approximately: final ъ, і before vowels, ѣ in common roots and in -е endings.

    A simplification the committed model was trained with: one-letter words (в, с, к) get no ъ.
    """
    out = []
    for w in text.split(" "):
        core = w.rstrip(".,;:")
        tail = w[len(core):]
        if len(core) > 1 and core[-1] in CONSONANTS and core.isalpha():
            core += "ъ"
        core = "".join("і" if c == "и" and i + 1 < len(core) and core[i + 1] in VOWELS else c
                       for i, c in enumerate(core))
        low = core.lower()
        for root in YAT_ROOTS:
            j = low.find(root)
            if j >= 0:
                k = j + root.index("е")
                core = core[:k] + ("Ѣ" if core[k].isupper() else "ѣ") + core[k + 1:]
                break
        if core.endswith("е") and len(core) > 3 and rng.random() < 0.3:
            core = core[:-1] + "ѣ"
        out.append(core + tail)
    return " ".join(out)


def _number(rng: np.random.Generator) -> str:
    n = int(rng.integers(1, 99999))
    return [f"№ {n}", f"№{n}", f"{n}", f"{n % 100}-с", f"вх. № {n}", f"{1900 + int(rng.integers(10, 60))} г.",
            f"стр. {n % 300}", f"{n % 50} экз."][int(rng.integers(0, 8))]


def sample_text(rng: np.random.Generator, words: list[str] | None = None) -> str:
    """One short handwritten line of the memo genre (1-5 words)."""
    kind = rng.random()
    if kind < 0.12:
        text = str(rng.choice(content.RESOLUTIONS))
    elif kind < 0.24:
        text = content.roman_date(rng)
    elif kind < 0.34:
        text = content.person(rng) if rng.random() < 0.5 else content.short_person(rng)
    elif kind < 0.42:
        text = _number(rng)
    elif kind < 0.62:
        text = content._phrase(rng, str(rng.choice(["nomn", "gent", "datv", "accs", "ablt", "loct"])))
        if rng.random() < 0.4:
            text = f"{rng.choice(FUNCTION_WORDS)} {text}"
    elif kind < 0.85 and words:
        text = " ".join(str(rng.choice(words)) for _ in range(int(rng.integers(1, 4))))
    else:
        parts = [str(rng.choice(FUNCTION_WORDS)), content._phrase(rng, "gent").split(" ")[-1]]
        if rng.random() < 0.5:
            parts.append(content.roman_date(rng))
        text = " ".join(parts)
    if rng.random() < 0.15:
        text = text[:1].upper() + text[1:]
    if rng.random() < 0.35:
        text = to_pre1918(text, rng)
    return text


def _elastic(rng: np.random.Generator, img: np.ndarray, alpha: float, sigma: float) -> np.ndarray:
    h, w = img.shape
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma) * alpha * sigma
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma) * alpha * sigma
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, xs + dx, ys + dy, cv2.INTER_LINEAR, borderValue=0)


def degrade(rng: np.random.Generator, cov: np.ndarray, height: int | None = None) -> np.ndarray:
    """Ink coverage (0..1 float, ink = 1) -> a grey scan of it on paper, uint8, with strong augmentation."""
    h, w = cov.shape
    if rng.random() < 0.7:
        cov = _elastic(rng, cov, float(rng.uniform(0.8, 2.5)), float(rng.uniform(4, 9)))
    r = rng.random()
    if r < 0.25:
        cov = cv2.dilate(cov, np.ones((2, 2), np.uint8))
    elif r < 0.4:
        cov = cv2.erode(cov, np.ones((2, 2), np.uint8))
    cov = cv2.GaussianBlur(cov, (0, 0), float(rng.uniform(0.3, 1.4)))
    paper = float(rng.uniform(150, 245))
    ink = float(rng.uniform(10, min(120, paper - 60)))
    gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * float(rng.uniform(-20, 20))
    gy = np.linspace(-1, 1, h, dtype=np.float32)[:, None] * float(rng.uniform(-10, 10))
    bg = paper + gx + gy
    img = bg * (1 - cov) + ink * cov
    img += rng.normal(0, float(rng.uniform(2, 12)), img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if height:
        scale = height / img.shape[0]
        img = cv2.resize(img, (max(8, int(round(img.shape[1] * scale))), height), interpolation=cv2.INTER_AREA)
    q = int(rng.integers(35, 95))
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else img


def render_line(rng: np.random.Generator, text: str, font_path: str) -> np.ndarray:
    """Ink coverage of ``text`` in ``font_path``, word by word, slanted and rotated; cropped with a margin."""
    size = int(rng.integers(36, 64))
    font = ImageFont.truetype(font_path, size)
    words = text.split(" ")
    width = int(sum(font.getlength(wd + " ") for wd in words) * 1.3 + size * 2)
    height = int(size * 2.6)
    img = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(img)
    x, base = size * 0.5, size * 1.6
    drift = float(rng.uniform(-0.05, 0.05))
    stroke = int(rng.random() < 0.25)
    for wd in words:
        y = base + drift * x + float(rng.normal(0, size * 0.04))
        fill = int(255 * float(rng.uniform(0.7, 1.0)))
        draw.text((x, y), wd, font=font, fill=fill, anchor="ls", stroke_width=stroke, stroke_fill=fill)
        x += font.getlength(wd + " ") * float(rng.uniform(0.9, 1.25))
    cov = np.asarray(img, dtype=np.float32) / 255.0
    shear = float(rng.uniform(-0.35, 0.35))
    angle = math.radians(float(rng.uniform(-2.5, 2.5)))
    m = np.array([[math.cos(angle), -math.sin(angle) + shear, 0], [math.sin(angle), math.cos(angle), 0]], np.float32)
    m[:, 2] = np.array([width / 2, height / 2], np.float32) - m[:, :2] @ np.array([width / 2, height / 2], np.float32)
    cov = cv2.warpAffine(cov, m, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
    ys, xs = np.nonzero(cov > 0.2)
    if len(xs) == 0:
        return cov[:size, :size]
    pad = [int(size * rng.uniform(0.05, 0.4)) for _ in range(4)]
    y0, y1 = max(0, ys.min() - pad[0]), min(height, ys.max() + 1 + pad[1])
    x0, x1 = max(0, xs.min() - pad[2]), min(width, xs.max() + 1 + pad[3])
    return cov[y0:y1, x0:x1]


def make_sample(seed: int, fonts: list[str], words: list[str] | None = None) -> tuple[np.ndarray, str]:
    """Sample number ``seed``: (grey uint8 line image, its text)."""
    rng = np.random.default_rng([seed, 0x4854])
    text = sample_text(rng, words)
    font = fonts[int(rng.integers(0, len(fonts)))]
    cov = render_line(rng, text, font)
    height = int(rng.integers(20, 72)) if rng.random() < 0.8 else None
    return degrade(rng, cov, height), text


def augment_real(seed: int, grey: np.ndarray) -> np.ndarray:
    """An augmented copy of a real word image (elastic, stroke width, blur, contrast, noise, JPEG)."""
    rng = np.random.default_rng([seed, 0x5245])
    g = grey.astype(np.float32)
    lo, hi = np.percentile(g, 2), np.percentile(g, 98)
    cov = np.clip((hi - g) / max(hi - lo, 1.0), 0, 1)
    shear = float(rng.uniform(-0.2, 0.2))
    h, w = cov.shape
    pad = int(abs(shear) * h) + 2
    m = np.array([[1, shear, pad if shear < 0 else 0], [0, 1, 0]], np.float32)
    cov = cv2.warpAffine(cov, m, (w + pad, h), flags=cv2.INTER_LINEAR, borderValue=0)
    return degrade(rng, cov, None)


WORD_GAP = (0.15, 0.9)  # the gap between composed words, in the hand's size: wider than the reel's notes (0.3-0.6)


def word_line(seed: int, words: list[tuple[np.ndarray, str]]) -> tuple[np.ndarray, str]:
    """Line number ``seed`` composed of real word images (``words``: ink coverage and text): 1-4 words on a
    wandering baseline (``synth.render.render_note_real``, the real-handwriting reel's notes), cut out as the
    pipeline cuts a note's line: with a margin that, in a note of several lines, takes in strokes of the
    lines above and below; slanted, degraded and scaled like the synthetic lines. The model reads lines,
    the real data are words: without these it ran words together and lost a third of a line's letters."""
    from ..synth.render import render_note_real

    rng = np.random.default_rng([seed, 0x574C])
    n = 1 if rng.random() < 0.6 else int(rng.integers(2, 4))
    cov, boxes = render_note_real(rng, content.Note(["."] * n), words, gap=WORD_GAP)
    text, poly, _ = boxes[int(rng.integers(0, len(boxes)))]
    x0, y0 = poly.min(axis=0)
    x1, y1 = poly.max(axis=0)
    m = [int((y1 - y0) * rng.uniform(0.02, 0.35)) for _ in range(2)] + [int(rng.integers(2, 30)) for _ in range(2)]
    cov = cov[max(0, int(y0) - m[0]):int(y1) + m[1], max(0, int(x0) - m[2]):int(x1) + m[3]]
    shear = float(rng.uniform(-0.2, 0.2))
    h, w = cov.shape
    pad = int(abs(shear) * h) + 2
    sh = np.array([[1, shear, pad if shear < 0 else 0], [0, 1, 0]], np.float32)
    cov = cv2.warpAffine(cov, sh, (w + pad, h), flags=cv2.INTER_LINEAR, borderValue=0)
    height = int(rng.integers(20, 72)) if rng.random() < 0.8 else None
    return degrade(rng, cov, height), text
