"""Typed lines Tesseract read two rows into one, read again as a block of text."""
from __future__ import annotations

import numpy as np

from ocr.engines.base import RawLine, RawWord
from ocr.typed.mergedrows import MARGIN, candidate, fix, type_height, type_ink

TYPE_H = 30


def word(t, conf, x0, y0, x1=None, h=TYPE_H):
    return RawWord(t, conf, (x0, y0, x1 if x1 is not None else x0 + 20 * len(t), y0 + h))


def line(words):
    return RawLine.of(words)


def typed(y, text="typed text of the letter", conf=0.95):
    x, out = 100, []
    for t in text.split():
        out.append(word(t, conf, x, y))
        x += 20 * len(t) + 20
    return line(out)


# a line whose first words are tall junk boxes over two rows; the row under it is in no line
MERGED = line([word("Bae", 0.17, 100, 300, h=70), word("ee", 0.29, 180, 290, h=75),
               word("surrounding", 0.8, 300, 300), word("country", 0.8, 560, 300)])
ROW1 = [word("pletely", 0.9, 100, 300), word("lacking,", 0.9, 260, 300), word("surrounding", 0.9, 440, 300),
        word("country", 0.9, 680, 300)]
ROW2 = [word("pecially", 0.92, 100, 340), word("apples.", 0.92, 280, 340)]


class Reader:
    """Returns ``words`` (page pixels) in the pixels of the band it is shown, and records its calls."""

    def __init__(self, words):
        self.words, self.calls = words, []

    def __call__(self, crop, psm):
        self.calls.append((crop.shape, psm))
        x0, y0 = MERGED.box[0] - MARGIN[0], MERGED.box[1] - MARGIN[1]
        return [RawWord(w.text, w.conf, (w.box[0] - x0, w.box[1] - y0, w.box[2] - x0, w.box[3] - y0))
                for w in self.words]


def page():
    return [[typed(100), typed(150), typed(200), typed(250)], [MERGED, typed(400), typed(450)]]


def test_a_line_read_two_rows_into_one_is_replaced_by_its_rows_read_again():
    blocks = page()
    assert type_height(blocks) == TYPE_H and candidate(MERGED, TYPE_H)
    reader = Reader(ROW1 + ROW2)
    out, n = fix(blocks, np.full((800, 1200), 255, np.uint8), reader)
    assert n == 1 and len(reader.calls) == 1 and reader.calls[0][1] == 6  # read once, as a block
    assert [ln.text for ln in out[1]] == ["pletely lacking, surrounding country", "pecially apples.",
                                          "typed text of the letter", "typed text of the letter"]
    assert out[1][1].box == (100, 340, 420, 370) and out[0] == blocks[0]  # page pixels; the rest as it was


def test_rows_of_other_lines_and_unsure_or_odd_sized_rows_are_not_taken():
    # the row above, which Tesseract returned as a line of its own, is in the band too: it is not taken twice
    above = [word(w.text, 0.95, w.box[0], 250) for w in typed(250).words]
    junk = [word("ean", 0.3, 100, 380, h=12), word("ae", 0.3, 200, 380, h=12)]  # unsure, and a third of the type
    out, n = fix(page(), np.full((800, 1200), 255, np.uint8), Reader(above + ROW1 + ROW2 + junk))
    assert n == 1 and [ln.text for ln in out[1][:2]] == ["pletely lacking, surrounding country", "pecially apples."]
    assert len(out[1]) == 4


def test_the_line_stays_where_the_new_reading_is_no_surer_or_loses_letters():
    image = np.full((800, 1200), 255, np.uint8)
    unsure = [RawWord(w.text, 0.3, w.box) for w in ROW1]
    assert fix(page(), image, Reader(unsure)) == (page(), 0)
    assert fix(page(), image, Reader(ROW1[2:])) == (page(), 0)  # "surrounding country" only: letters lost
    # a page without such lines is not read again
    reader = Reader(ROW1)
    blocks = [[typed(100), typed(150), typed(200)]]
    assert fix(blocks, image, reader) == (blocks, 0) and not reader.calls


def test_a_line_crossed_by_a_signature_is_not_read_again():
    # the tall word's ink: two rows of letter-sized pieces (merged rows), or one stroke three rows tall
    rows = np.full((800, 1200), 255, np.uint8)
    for x in range(100, 160, 15):
        rows[302:328, x:x + 10] = 0
        rows[336:362, x:x + 10] = 0
    stroke = rows.copy()
    stroke[290:380, 180:186] = 0
    box = MERGED.words[1].box
    assert type_ink(rows, box, TYPE_H) and not type_ink(stroke, box, TYPE_H)
    assert candidate(MERGED, TYPE_H, rows) and not candidate(MERGED, TYPE_H, stroke)
    reader = Reader(ROW1 + ROW2)
    assert fix(page(), stroke, reader) == (page(), 0) and not reader.calls
