"""Typed lines Tesseract's layout analysis passed over, found as rows of letter-sized ink outside the lines it
returned and read on their own."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageFont

from ocr.engines.base import RawLine, RawWord
from ocr.missedlines import add, find

from .conftest import font_path, needs_tesseract, typed_page

W, H, XH = 1700, 2200, 18
BODY = "typed text of the letter body"
MISSED = "is the complete destruction of the"


def page_with(extra: str | None, *, y: int = 1150, x: int = 150, size: int = 34) -> tuple[np.ndarray, list]:
    """Ten typed lines as Tesseract returned them (boxes of the drawn text) and ``extra`` drawn at ``y``,
    in none of those lines."""
    img, draw, blocks = typed_page((W, H), BODY)
    if extra:
        draw.text((x, y), extra, fill=20, font=ImageFont.truetype(font_path(), size))
    return np.asarray(img, dtype=np.uint8).copy(), blocks


class Reader:
    """Reads whatever it is shown as ``text`` (one word per space-separated part, each ``height`` tall), and
    records the crops it was shown."""

    def __init__(self, text: str, conf: float = 0.9, height: int = 26):
        self.text, self.conf, self.height, self.calls = text, conf, height, []

    def __call__(self, crop, psm):
        self.calls.append((crop.copy(), psm))
        parts = self.text.split()
        w = crop.shape[1] // max(1, len(parts))
        return [RawWord(t, self.conf, (i * w, 5, (i + 1) * w - 8, 5 + self.height)) for i, t in enumerate(parts)]


def test_a_row_of_type_in_no_returned_line_is_read_alone_and_kept():
    img, blocks = page_with(MISSED)
    reader = Reader(MISSED)
    found = find(img, blocks, XH, reader)
    assert [ln.text for ln in found] == [MISSED]
    x0, y0, x1, y1 = found[0].box
    assert 1140 <= y0 < 1165 and 120 <= x0 < 180 and x1 > 700  # in the page's pixels, where it was drawn
    crop, psm = reader.calls[0]
    assert psm == 7 and len(reader.calls) == 1 and crop.shape[0] < 4 * XH  # one line's height, read as a line
    out, n = add(blocks, img, XH, reader)
    assert n == 1 and out[:-1] == blocks and out[-1][0].text == MISSED


def test_the_lines_tesseract_returned_are_not_read_again():
    img, blocks = page_with(None)
    reader = Reader(BODY)
    assert find(img, blocks, XH, reader) == [] and not reader.calls
    assert add(blocks, img, XH, reader) == (blocks, 0)


@pytest.mark.parametrize("extra, kw, read, why", [
    ("is the complete destruction", {}, Reader(MISSED, conf=0.4), "read unsurely"),
    ("is the complete destruction", {}, Reader("~ | ; - . ,", conf=0.9), "no letters"),
    ("is the complete destruction", {}, Reader(MISSED, height=60), "not the page's type height"),
    ("is the complete destruction", {"x": 1500}, Reader(MISSED), "outside the typed column"),
    ("is", {}, Reader("is"), "shorter than a word"),
    ("is the complete", {"size": 120}, Reader(MISSED), "ink far taller than the type"),
])
def test_what_is_not_taken_for_a_missed_line(extra, kw, read, why):
    img, blocks = page_with(extra, **kw)
    assert find(img, blocks, XH, read) == [], why


def test_nothing_is_looked_for_without_typed_lines_to_measure_by():
    img, blocks = page_with(MISSED)
    reader = Reader(MISSED)
    assert find(img, [blocks[0][:2]], XH, reader) == [] and not reader.calls
    assert find(img, blocks, None, reader) == [] and not reader.calls


def test_the_ink_of_the_returned_lines_is_blanked_in_the_crop():
    img, blocks = page_with(MISSED, y=400 + 70 * 10)  # right under the last returned line
    reader = Reader(MISSED)
    found = find(img, blocks, XH, reader)
    assert [ln.text for ln in found] == [MISSED]
    crop = reader.calls[0][0]
    # the crop reaches into the line above, whose ink is painted out: its top rows are bare paper
    assert crop[:3].min() == 255


def test_a_row_under_a_bent_lines_box_but_outside_its_words_is_found():
    # the last returned line's box reaches down over the next row (a bent line), its words' boxes do not
    img, blocks = page_with(MISSED, y=400 + 70 * 10)
    last = blocks[0][-1]
    x0, y0, x1, y1 = last.box
    blocks = [blocks[0][:-1] + [RawLine(last.words, (x0, y0, x1, y1 + 90))]]
    found = find(img, blocks, XH, Reader(MISSED))
    assert [ln.text for ln in found] == [MISSED]


@needs_tesseract
def test_tesseract_reads_the_missed_line():
    from ocr.config import TesseractConfig
    from ocr.engines.tesseract import TesseractEngine

    img, blocks = page_with(MISSED)
    engine = TesseractEngine("eng", TesseractConfig())
    found = find(img, blocks, XH, engine.read_words)
    assert len(found) == 1 and "complete destruction" in found[0].text
