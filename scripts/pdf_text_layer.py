"""docs/pdf-text-layer.png: a searchable PDF's page (left, as a PDF viewer shows it) beside its text layer made
visible (right: the same hOCR rendered by OCRmyPDF's renderer with the text shown and the words boxed), both
rendered by pdftoppm; the top of the page.

    .venv/bin/python -m ocr run scans/reel-083/memo-0001.jpg -o out/pdf --formats page,hocr,pdf
    .venv/bin/python scripts/pdf_text_layer.py out/pdf/memo-0001 docs/pdf-text-layer.png
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from ocrmypdf.font import MultiFontManager
from ocrmypdf.fpdf_renderer import DebugRenderOptions, Fpdf2PdfRenderer
from ocrmypdf.hocrtransform import HocrParser


def render(pdf: Path, dpi: int, tmp: Path, name: str) -> np.ndarray:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(pdf), str(tmp / name)], check=True)
    return cv2.imread(str(tmp / f"{name}.png"))


def main(stem: str, out: str, dpi: int = 60) -> None:
    stem_path = Path(stem)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        fonts = Path(__import__("ocrmypdf").__file__).parent / "data"
        layer = tmp / "layer.pdf"
        Fpdf2PdfRenderer(page=HocrParser(stem_path.with_suffix(".hocr")).parse(), dpi=300,
                         multi_font_manager=MultiFontManager(fonts), invisible_text=False, image=None,
                         debug_render_options=DebugRenderOptions(render_word_bbox=True)).render(layer)
        left = render(stem_path.with_suffix(".pdf"), dpi, tmp, "page")
        right = render(layer, dpi, tmp, "layer")
    h = min(left.shape[0], right.shape[0]) * 2 // 5  # the letter's head: the typed lines and the first notes
    gap = np.full((h, 12, 3), 255, np.uint8)
    cv2.imwrite(out, np.hstack([left[:h], gap, right[:h, :left.shape[1]]]))
    print(f"written {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
