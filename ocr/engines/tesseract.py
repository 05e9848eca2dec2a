"""Tesseract through pytesseract: the only module that talks to the tesseract binary."""
from __future__ import annotations

import os
import tempfile

import cv2
import numpy as np
import pytesseract

from ..config import TesseractConfig
from ..errors import EngineError, LanguageMissingError
from .base import RawLine, RawWord


def tesseract_version() -> str:
    try:
        return str(pytesseract.get_tesseract_version()).split()[0]
    except pytesseract.TesseractNotFoundError:
        raise EngineError("tesseract is not installed or not on PATH (apt-get install tesseract-ocr)") from None


def installed_languages() -> set[str]:
    try:
        return set(pytesseract.get_languages(config=""))
    except pytesseract.TesseractNotFoundError:
        raise EngineError("tesseract is not installed or not on PATH (apt-get install tesseract-ocr)") from None


def check_languages(lang: str) -> None:
    """Raise LanguageMissingError naming the missing packs and the Debian package to install."""
    have = installed_languages()
    missing = [code for code in lang.split("+") if code not in have]
    if missing:
        pkgs = " ".join(f"tesseract-ocr-{m.lower().replace('_', '-')}" for m in missing)
        raise LanguageMissingError(
            f"Tesseract language {'+'.join(missing)} is not installed (installed: {', '.join(sorted(have)) or 'none'}; "
            f"apt-get install {pkgs})"
        )


THRESHOLDS = {"otsu": 0, "adaptive-otsu": 1, "sauvola": 2}


class TesseractEngine:
    """Typed-text recognition: one tesseract call per page, words with confidences grouped into lines."""

    name = "tesseract"

    def __init__(self, lang: str, cfg: TesseractConfig):
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one thread per worker process
        self.version = tesseract_version()
        check_languages(lang)
        self.lang = lang
        self.cfg = cfg
        # the image is already binarized black on white: skip tesseract's inverted-line retries
        self.args = f"--oem {cfg.oem} --psm {cfg.psm} --dpi 300 -c tessedit_do_invert=0"
        self.args += f" -c thresholding_method={THRESHOLDS[cfg.threshold]}"

    def recognize(self, image: np.ndarray) -> list[list[RawLine]]:
        # an uncompressed PGM is written and read far faster than the PNG pytesseract would make
        with tempfile.TemporaryDirectory(prefix="memo-ocr-") as tmp:
            path = os.path.join(tmp, "page.pgm")
            if not cv2.imwrite(path, image):
                raise EngineError(f"cannot write a temporary page image in {tmp}")
            try:
                data = pytesseract.image_to_data(
                    path, lang=self.lang, config=self.args,
                    output_type=pytesseract.Output.DICT, timeout=self.cfg.timeout,
                )
            except RuntimeError as e:  # pytesseract's timeout
                raise EngineError(f"tesseract: {e} after {self.cfg.timeout:.0f} s") from None
            except pytesseract.TesseractError as e:
                raise EngineError(f"tesseract failed: {' '.join(str(e.message).split())[:200]}") from None
        return group_tsv(data)


def group_tsv(data: dict[str, list]) -> list[list[RawLine]]:
    """Group tesseract's TSV word rows into blocks of lines, in tesseract's reading order."""
    blocks: dict[int, dict[tuple[int, int], list[RawWord]]] = {}
    for i, level in enumerate(data["level"]):
        if int(level) != 5:
            continue
        text = str(data["text"][i]).strip()
        if not text:
            continue
        conf = float(data["conf"][i])
        x, y, w, h = (int(data[k][i]) for k in ("left", "top", "width", "height"))
        word = RawWord(text, max(0.0, conf) / 100.0, (x, y, x + w, y + h))
        key = (int(data["par_num"][i]), int(data["line_num"][i]))
        blocks.setdefault(int(data["block_num"][i]), {}).setdefault(key, []).append(word)
    out: list[list[RawLine]] = []
    for _, lines in sorted(blocks.items()):
        block = []
        for _, words in sorted(lines.items()):
            box = (min(w.box[0] for w in words), min(w.box[1] for w in words),
                   max(w.box[2] for w in words), max(w.box[3] for w in words))
            block.append(RawLine(tuple(words), box))
        out.append(block)
    return out


def read_line_image(image: np.ndarray, lang: str, psm: int = 7, timeout: float = 60.0) -> tuple[str, float]:
    """One cut line or word image (grey uint8) read as a single text line: (text, mean word confidence 0..1)."""
    try:
        data = pytesseract.image_to_data(image, lang=lang, config=f"--psm {psm}",
                                         output_type=pytesseract.Output.DICT, timeout=timeout)
    except RuntimeError as e:
        raise EngineError(f"tesseract: {e} after {timeout:.0f} s") from None
    except pytesseract.TesseractError as e:
        raise EngineError(f"tesseract failed: {' '.join(str(e.message).split())[:200]}") from None
    words = [(str(t).strip(), float(c)) for t, c in zip(data["text"], data["conf"], strict=True) if str(t).strip()]
    if not words:
        return "", 0.0
    n = sum(len(t) for t, _ in words)
    return " ".join(t for t, _ in words), sum(max(c, 0) * len(t) for t, c in words) / n / 100.0


def read_region(grey: np.ndarray, box: tuple[int, int, int, int], lang: str, psm: int = 6,
                timeout: float = 60.0) -> list[RawLine]:
    """Lines of one region of a page (grey uint8, page pixels) read as a block of text; boxes in page pixels."""
    h, w = grey.shape[:2]
    m = 8
    x0, y0, x1, y1 = max(0, box[0] - m), max(0, box[1] - m), min(w, box[2] + m), min(h, box[3] + m)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return []
    try:
        data = pytesseract.image_to_data(grey[y0:y1, x0:x1], lang=lang, config=f"--psm {psm} --dpi 300",
                                         output_type=pytesseract.Output.DICT, timeout=timeout)
    except RuntimeError as e:
        raise EngineError(f"tesseract: {e} after {timeout:.0f} s") from None
    except pytesseract.TesseractError as e:
        raise EngineError(f"tesseract failed: {' '.join(str(e.message).split())[:200]}") from None
    out = []
    for block in group_tsv(data):
        for ln in block:
            words = tuple(RawWord(wd.text, wd.conf, (wd.box[0] + x0, wd.box[1] + y0, wd.box[2] + x0, wd.box[3] + y0))
                          for wd in ln.words)
            b = ln.box
            out.append(RawLine(words, (b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0)))
    return out
