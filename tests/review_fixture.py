"""A finished run folder for the review tests: one page image and its PAGE XML / run.json, made here.

The page has two typed lines (one sure, one not, the latter holding an XSS attempt), three
handwritten lines (one written up the left margin), a stamp text line and a line the
recogniser failed on. The handwriting is rendered with the synthetic-line renderer, so the
line crops hold real ink.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from ocr.formats.pagexml import to_pagexml
from ocr.model import Line, PageResult, Region

from .conftest import render_page

XSS = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
HAND = ["исполнено", "к возврату 13.I.56г.", "Иванову"]


def _paste(page: np.ndarray, img: np.ndarray, x: int, y: int) -> tuple[int, int, int, int]:
    h, w = img.shape
    page[y:y + h, x:x + w] = np.minimum(page[y:y + h, x:x + w], img)
    return x, y, x + w, y + h


def _quad(b):
    x0, y0, x1, y1 = b
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def make_run(root: Path, reel: str = "reel-1", page_id: str = "p1", derived: bool = False) -> Path:
    """ROOT/REEL holding p1.page.xml, run.json and (under ROOT/scans) the page image (with ``derived`` also the
    .txt, ALTO and hOCR a run writes); returns the run folder."""
    from ocr.htr import lines
    from ocr.synth import fonts

    run = root / reel
    run.mkdir(parents=True)
    scans = root / "scans"
    scans.mkdir(exist_ok=True)
    page = render_page(["Typed line one", "Typed line two"], size=(1400, 1000), margin=260)
    font = (fonts.handwriting_training() or fonts.handwriting())[0]
    rng = np.random.default_rng(7)
    boxes = []
    for i, text in enumerate(HAND):
        cov = lines.render_line(rng, text, font)
        img = (255 - 220 * cv2.resize(cov, None, fx=56 / cov.shape[0], fy=56 / cov.shape[0])).astype(np.uint8)
        if i == 2:  # written up the left margin
            img = cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
            boxes.append(_paste(page, img, 40, 300))
        else:
            boxes.append(_paste(page, img, 300, 600 + 90 * i))
    image = scans / f"{page_id}.png"
    cv2.imwrite(str(image), page)
    x0, y0, x1, y1 = boxes[2]
    up_margin = ((x0, y1), (x0, y0), (x1, y0), (x1, y1))  # reading direction: bottom to top
    typed = Region("r001", _quad((250, 250, 900, 400)), (
        Line("r001_l001", "Typed line one", _quad((255, 255, 700, 300)), (), 0.96),
        Line("r001_l002", XSS, _quad((255, 320, 700, 365)), (), 0.55),
    ))
    hand = Region("h001", _quad((30, 250, 1100, 800)), (
        Line("h001_l001", "исполн", _quad(boxes[0]), (), 0.41),
        Line("h001_l002", "к возвр 13.56", _quad(boxes[1]), (), 0.52),
        Line("h001_l003", "Ивнову", up_margin, (), 0.47),
        Line("h001_l004", "", _quad((300, 900, 500, 940)), (), 0.0, note="recogniser failed: empty crop"),
    ), production="handwritten-cursive", type="marginalia")
    stamp = Region("s001_t", _quad((900, 100, 1300, 220)), (
        Line("s001_t_l001", "ПОЛУЧЕНО", _quad((950, 120, 1250, 170)), (), 0.7),
    ), production="printed", type="other", note="structure {type:stamp-text;}")
    result = PageResult(page_id, image.name, page.shape[1], page.shape[0], [typed, hand, stamp],
                        engines={"tesseract": "5", "kraken": "7.1.1"})
    (run / f"{page_id}.page.xml").write_bytes(to_pagexml(result, "memo-ocr test"))
    if derived:
        from ocr.formats.alto import to_alto
        from ocr.formats.hocr import to_hocr

        (run / f"{page_id}.txt").write_text(result.text() + "\n", encoding="utf-8")
        (run / f"{page_id}.alto.xml").write_bytes(to_alto(result, "memo-ocr", "test"))
        (run / f"{page_id}.hocr").write_bytes(to_hocr(result, "memo-ocr test", "rus"))
    (run / "run.json").write_text(json.dumps({"pages": [{"page_id": page_id, "source": str(image), "frame": None,
                                                         "status": "ok"}]}), encoding="utf-8")
    return run
