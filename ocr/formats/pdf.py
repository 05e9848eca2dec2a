"""A searchable PDF of a page: the scan with an invisible text layer at its words' places, so that it can be
searched, selected and copied (Cyrillic included). The text layer is OCRmyPDF's own renderer (its hOCR
parser and fpdf2 renderer, with its glyphless fonts), fed with the page's hOCR (``formats.hocr``).

Needs the ``pdf`` extra (``pip install 'memo-ocr[pdf]'``); ``check`` says so before a run starts.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from PIL import Image

from ..errors import EngineError

DEFAULT_DPI = 300  # a scan that does not say its resolution is taken for a 300 ppi one
PASSTHROUGH = (".jpg", ".jpeg", ".png")  # embedded as they are (a JPEG is not decoded and encoded again)


def check() -> None:
    """EngineError when the renderer is not installed."""
    try:
        import ocrmypdf.fpdf_renderer  # noqa: F401
        import ocrmypdf.hocrtransform  # noqa: F401
    except ImportError as e:
        raise EngineError(f"searchable PDF output needs OCRmyPDF's renderer: pip install 'memo-ocr[pdf]' ({e})") from None


def _dpi(path: Path) -> float:
    try:
        with Image.open(path) as im:
            dpi = im.info.get("dpi")
    except (OSError, ValueError):
        dpi = None
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError):
        value = 0.0
    return value if 50 <= value <= 2400 else DEFAULT_DPI


def to_pdf(hocr: bytes, source: Path, frame: int | None, image: Callable[[], np.ndarray]) -> bytes:
    """The PDF: the page image (``source`` itself where it is a JPEG or PNG, else ``image()``, the frame
    as loaded) under the text layer of ``hocr``, at the scan's resolution."""
    check()
    from ocrmypdf.font import MultiFontManager
    from ocrmypdf.fpdf_renderer import Fpdf2PdfRenderer
    from ocrmypdf.hocrtransform import HocrParser

    fonts = Path(__import__("ocrmypdf").__file__).parent / "data"
    with tempfile.TemporaryDirectory(prefix="memo-ocr-pdf-") as tmp:
        hocr_file = Path(tmp) / "page.hocr"
        hocr_file.write_bytes(hocr)
        if frame is None and source.suffix.lower() in PASSTHROUGH:
            picture, dpi = source, _dpi(source)
        else:
            picture, dpi = Path(tmp) / "page.png", (_dpi(source) if frame is None else DEFAULT_DPI)
            if not cv2.imwrite(str(picture), image()):
                raise EngineError(f"{source}: cannot write the page image for the PDF")
        page = HocrParser(hocr_file).parse()
        tmp_out = Path(tmp) / "page.pdf"
        Fpdf2PdfRenderer(page=page, dpi=dpi, multi_font_manager=MultiFontManager(fonts), invisible_text=True,
                         image=picture).render(tmp_out)
        return tmp_out.read_bytes()
