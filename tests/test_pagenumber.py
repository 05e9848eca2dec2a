"""Page numbers Tesseract's layout analysis passed over ("- 2 -" alone above the text), found by their
shape and read on their own."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageFont

from ocr.engines.base import RawLine, RawWord
from ocr.typed.pagenumber import add, find

from .conftest import font_path, needs_tesseract, typed_page

W, H, XH = 1700, 2200, 18


def page_with(number: str | None, *, at: str = "top", x_share: float = 0.5) -> tuple[np.ndarray, list[list[RawLine]]]:
    """A page of typed lines (as Tesseract returned them) and, drawn in the top or bottom band and not among
    those lines, ``number`` ("- 3 -")."""
    img, draw, blocks = typed_page((W, H))
    font = ImageFont.truetype(font_path(), 34)
    if number:
        y = 100 if at == "top" else H - 140
        x = int(x_share * W) - draw.textlength(number, font=font) / 2
        draw.text((x, y), number, fill=20, font=font)
    return np.asarray(img, dtype=np.uint8).copy(), blocks


class Reader:
    """Reads whatever it is shown as ``text``, and records the crops' shapes and the modes asked for."""

    def __init__(self, text: str, conf: float = 0.9):
        self.text, self.conf, self.calls = text, conf, []

    def __call__(self, crop, psm):
        self.calls.append((crop.shape, psm))
        h, w = crop.shape
        return [RawWord(self.text, self.conf, (2, 2, w - 2, h - 2))] if self.text else []


def test_a_page_number_tesseract_did_not_return_is_found_by_its_shape_and_read_on_its_own():
    img, blocks = page_with("- 3 -")
    reader = Reader("3")
    number = find(img, blocks, XH, reader)
    assert number is not None and number.text == "- 3 -"
    assert number.box[1] < 0.1 * H and 0.4 * W < (number.box[0] + number.box[2]) / 2 < 0.6 * W
    # the digit is read on its own first, as one word, from a crop no wider than the number
    assert reader.calls[0][1] == 8 and reader.calls[0][0][1] < 100
    # ... and the line goes first in the page's blocks, the typed text after it
    out, found = add(blocks, img, XH, reader)
    assert found and out[0][0].text == "- 3 -" and out[1] == blocks[0]


def test_at_the_bottom_the_number_goes_last():
    img, blocks = page_with("- 12 -", at="bottom")
    out, found = add(blocks, img, XH, Reader("12"))
    assert found and out[-1][0].text == "- 12 -" and out[0] == blocks[0]


@pytest.mark.parametrize("drawn, read, why", [
    (None, "3", "no ink in the bands"),
    ("3", "3", "a digit with no dashes about it"),
    ("- 3 -", "ae", "the digit does not read as a number"),
    ("- 3 -", "3", "read too unsurely"),
    ("- 3 - 4 -", "3", "shape: dashes between digits"),
    ("-- 3 --", "3", "shape: two dashes on a side"),
    ("- 1234 -", "1234", "more than three digits"),
])
def test_what_is_not_taken_for_a_page_number(drawn, read, why):
    img, blocks = page_with(drawn)
    conf = 0.1 if why == "read too unsurely" else 0.9
    assert find(img, blocks, XH, Reader(read, conf)) is None, why


def test_a_dark_scanner_edge_across_the_band_does_not_hide_the_number():
    img, blocks = page_with("- 3 -")
    img[:60] = 30  # the scanner's dark edge along the top, above the number
    number = find(img, blocks, XH, Reader("3"))
    assert number is not None and number.text == "- 3 -"
    img[:, 800:900] = 30  # a picture: dark across the number too
    assert find(img, blocks, XH, Reader("3")) is None


def test_off_centre_ink_is_no_page_number():
    img, blocks = page_with("- 3 -", x_share=0.85)
    assert find(img, blocks, XH, Reader("3")) is None


def test_a_band_whose_page_number_tesseract_returned_is_not_searched_again():
    img, blocks = page_with("- 3 -")
    returned = RawLine((RawWord("-", 0.9, (800, 110, 820, 130)), RawWord("3", 0.9, (835, 100, 860, 135)),
                        RawWord("-", 0.9, (875, 110, 895, 130))), (800, 100, 895, 135))
    reader = Reader("3")
    assert find(img, [[returned], *blocks], XH, reader) is None and not reader.calls


def test_a_short_line_it_was_misread_into_is_replaced():
    img, blocks = page_with("- 3 -")
    misread = RawLine((RawWord("3s", 0.4, (830, 100, 880, 140)),), (830, 100, 880, 140))
    out, found = add([[misread], *blocks], img, XH, Reader("3"))
    assert found and out[0][0].text == "- 3 -"
    assert all(ln.text != "3s" for b in out for ln in b)


@needs_tesseract
def test_tesseract_reads_the_found_number():
    from ocr.config import TesseractConfig
    from ocr.engines.tesseract import TesseractEngine

    img, blocks = page_with("- 7 -")
    engine = TesseractEngine("eng", TesseractConfig())
    number = find(img, blocks, XH, engine.read_words)
    assert number is not None and number.text == "- 7 -"

