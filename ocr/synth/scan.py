"""Scan and microfilm effects on a rendered page: paper, stains, uneven light, skew, blur, noise, borders, JPEG.

Every effect is drawn from the page's own random generator, so a seed gives
the same bytes. The geometric ones (skew, borders) return the affine map the
ground truth must follow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .render import Rendered


@dataclass(frozen=True)
class ScanSettings:
    """Ranges of the scanning effects (defaults: microfilm-like)."""

    max_skew: float = 3.0  # degrees, either way
    blur_sigma: tuple[float, float] = (0.4, 1.1)
    noise_sigma: tuple[float, float] = (3.0, 9.0)
    stains: tuple[int, int] = (0, 3)
    border_px: tuple[int, int] = (0, 90)
    grey_probability: float = 0.5
    jpeg_quality: tuple[int, int] = (70, 90)
    degrade: bool = True  # False: clean page, no skew (for tests of the ground truth itself)


@dataclass
class Scanned:
    image: np.ndarray  # BGR or grey uint8
    to_image: np.ndarray  # 2x3 affine: clean page coordinates -> scanned image
    skew: float  # degrees, counter-clockwise positive (the text rises to the right)
    grey: bool
    jpeg_quality: int


def _paper(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = np.array([rng.uniform(225, 245), rng.uniform(222, 240), rng.uniform(205, 228)], np.float32)  # RGB
    low = cv2.resize(rng.normal(0, 1, (12, 9)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * float(rng.uniform(-12, 12))
    gy = np.linspace(-1, 1, h, dtype=np.float32)[:, None] * float(rng.uniform(-12, 12))
    light = low * float(rng.uniform(3, 8)) + gx + gy  # uneven light and paper tone
    paper = base[None, None, :] + light[:, :, None]
    fibre = rng.normal(0, 1, (h // 2, w // 2)).astype(np.float32)
    fibre = cv2.resize(cv2.GaussianBlur(fibre, (0, 0), 1.0), (w, h), interpolation=cv2.INTER_LINEAR)
    return paper + fibre[:, :, None] * 3.0


def _stains(rng: np.random.Generator, img: np.ndarray, n: int) -> None:
    h, w = img.shape[:2]
    for _ in range(n):
        mask = np.zeros((h // 4, w // 4), np.float32)
        c = (int(rng.integers(0, w // 4)), int(rng.integers(0, h // 4)))
        axes = (int(rng.integers(12, 50)), int(rng.integers(10, 40)))
        cv2.ellipse(mask, c, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        mask = cv2.resize(cv2.GaussianBlur(mask, (0, 0), 6), (w, h), interpolation=cv2.INTER_LINEAR)
        tint = np.array([rng.uniform(0.90, 0.96), rng.uniform(0.84, 0.92), rng.uniform(0.72, 0.85)], np.float32)
        img *= 1 - mask[:, :, None] * (1 - tint[None, None, :])


def scan(rng: np.random.Generator, page: Rendered, settings: ScanSettings) -> Scanned:
    layers = page.layers
    h, w = next(iter(layers.values())).shape
    if settings.degrade:
        img = _paper(rng, h, w)
        _stains(rng, img, int(rng.integers(settings.stains[0], settings.stains[1] + 1)))
    else:
        img = np.full((h, w, 3), 255.0, np.float32)
    for name in ("typed", "stamp", "hand"):
        colour = np.array(page.colours.get(name, (0, 0, 0)), np.float32) / 255.0
        cov = layers[name][:, :, None]
        img *= 1 - cov * (1 - colour[None, None, :])  # ink multiplies the paper: overlaps darken
    skew = float(rng.uniform(-settings.max_skew, settings.max_skew)) if settings.degrade else 0.0
    skew = round(skew, 2)
    m = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float64)
    paper_rgb = tuple(float(v) for v in np.median(img[::50, ::50].reshape(-1, 3), axis=0))
    if skew:
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)  # counter-clockwise on screen
        img = cv2.warpAffine(img, rot, (w, h), flags=cv2.INTER_LINEAR, borderValue=paper_rgb)
        m = rot
    if settings.degrade:
        sigma = float(rng.uniform(*settings.blur_sigma))
        img = cv2.GaussianBlur(img, (0, 0), sigma)
        img += rng.normal(0, float(rng.uniform(*settings.noise_sigma)), img.shape[:2]).astype(np.float32)[:, :, None]
        # dark microfilm frame on some sides
        pads = [int(rng.integers(*settings.border_px)) if rng.random() < 0.6 else 0 for _ in range(4)]
        top, bottom, left, right = pads
        if any(pads):
            dark = float(rng.uniform(10, 45))
            img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(dark, dark, dark))
            m = m.copy()
            m[0, 2] += left
            m[1, 2] += top
    out = np.clip(img, 0, 255).astype(np.uint8)
    grey = settings.degrade and rng.random() < settings.grey_probability
    if grey:
        out = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)
    else:
        out = np.ascontiguousarray(out[:, :, ::-1])  # RGB -> BGR for OpenCV
    q = int(rng.integers(settings.jpeg_quality[0], settings.jpeg_quality[1] + 1)) if settings.degrade else 95
    return Scanned(out, m, skew, bool(grey), q)


def transform(m: np.ndarray, pts: np.ndarray, w: int, h: int) -> list[tuple[int, int]]:
    """Map polygon points through m and clip them to the image."""
    out = pts @ m[:, :2].T + m[:, 2]
    out[:, 0] = np.clip(out[:, 0], 0, w - 1)
    out[:, 1] = np.clip(out[:, 1], 0, h - 1)
    return [(int(round(x)), int(round(y))) for x, y in out]


def angle_of(m: np.ndarray) -> float:
    return math.degrees(math.atan2(-m[1, 0], m[0, 0]))


# BGR, as OpenCV writes: typical ribbon and carbon colours, and an aged paper
RIBBONS = {
    "violet": (190, 70, 125),  # aniline violet ribbon
    "blue": (195, 95, 60),     # blue carbon copy
    "red": (50, 50, 200),      # red ribbon half
}
PAPERS = {"yellow": (170, 222, 240)}  # yellowed, acid paper
COLOURS = tuple(RIBBONS) + tuple(PAPERS)


def recolour(grey: np.ndarray, colour: str) -> np.ndarray:
    """The BGR image of a grey page (uint8, one channel) typed with a ribbon of ``colour``, or on paper of that
    colour (``COLOURS``); nothing else changes. Ink is subtractive, ``255 - (255 - g) * (255 - ink) / 255`` per
    channel: full ink has the ribbon's colour, paper stays white, faint strokes are pale ribbon. Yellowed
    paper multiplies the page by the paper's colour, so black type stays black."""
    g = grey.astype(np.float32)[:, :, None]
    if colour in RIBBONS:
        out = 255.0 - (255.0 - g) * (255.0 - np.array(RIBBONS[colour], np.float32)) / 255.0
    elif colour in PAPERS:
        out = g * np.array(PAPERS[colour], np.float32) / 255.0
    else:
        raise ValueError(f"unknown colour {colour!r}: use one of {', '.join(COLOURS)}")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
