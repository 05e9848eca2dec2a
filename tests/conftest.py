"""Shared fixtures: seeded synthetic page images rendered with a system font."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/freefont/FreeMono.ttf",
    "/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Regular.otf",
]

RUSSIAN_LINES = [
    "Генеральный секретарь ЦК Народной партии Ирана",
    "обратился в ЦК КПСС с просьбой о направлении",
    "двух членов ЦК для ознакомления с положением",
    "политэмигрантов, проживающих в Таджикской ССР.",
    "Считали бы возможным удовлетворить просьбу",
    "и разрешить поездку сроком на две недели.",
    "Сопровождать их будет референт Отдела ЦК.",
    "Расходы можно было бы отнести за счет сметы.",
]


def font_path() -> str:
    for p in FONT_CANDIDATES:
        if os.path.exists(p):
            return p
    pytest.skip("no monospace TrueType font with Cyrillic (apt-get install fonts-dejavu-core)")


def render_page(lines: list[str], *, size=(1700, 2200), font_px=34, angle=0.0, seed=0,
                noise=0.0, margin=150, spacing=1.9) -> np.ndarray:
    """A grey page with the lines typed on it, rotated by ``angle`` degrees (counter-clockwise)."""
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(font_path(), font_px)
    y = margin
    for line in lines:
        draw.text((margin, y), line, fill=20, font=font)
        y += int(font_px * spacing)
    arr = np.asarray(img, dtype=np.uint8).copy()
    if angle:
        h, w = arr.shape
        rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        arr = cv2.warpAffine(arr, rot, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)
    if noise:
        rng = np.random.default_rng(seed)
        arr = np.clip(arr.astype(np.float32) + rng.normal(0, noise, arr.shape), 0, 255).astype(np.uint8)
    return arr


def have_tesseract(*langs: str) -> bool:
    import shutil
    import subprocess

    if not shutil.which("tesseract"):
        return False
    out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
    return all(lang in out for lang in langs)


def typed_page(size: tuple[int, int], text: str = "typed text of the letter body", lines: int = 10,
               top: int = 400, pitch: int = 70, x: int = 150, font_size: int = 34):
    """A white page with ``lines`` rows of ``text`` and the lines as Tesseract returns them (one word each,
    boxed as drawn): ``(image, draw, blocks)``; draw on the page with ``draw``, then take the pixels
    with ``np.asarray(image)``."""
    from ocr.engines.base import RawLine, RawWord

    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(font_path(), font_size)
    out = []
    for i in range(lines):
        y = top + pitch * i
        draw.text((x, y), text, fill=20, font=font)
        box = tuple(int(v) for v in draw.textbbox((x, y), text, font=font))
        out.append(RawLine((RawWord(text, 0.95, box),), box))
    return img, draw, [out]


needs_tesseract = pytest.mark.skipif(not have_tesseract("rus", "eng"),
                                     reason="tesseract with rus+eng not installed")
needs_shared = pytest.mark.skipif(not (SHARED / "data").is_dir(), reason="../shared/data not present")


@pytest.fixture
def page_png(tmp_path) -> Path:
    p = tmp_path / "memo.png"
    cv2.imwrite(str(p), render_page(RUSSIAN_LINES))
    return p
