"""Typed text or noise: the per-line decision of ``pipeline.classify_lines`` (no engine needed)."""
from __future__ import annotations

from ocr.config import Config
from ocr.engines.base import RawLine, RawWord
from ocr.pipeline import classify_lines


def line(y: int, texts: list[str], heights: list[int], conf: float) -> RawLine:
    words, x = [], 100
    for t, h in zip(texts, heights, strict=True):
        words.append(RawWord(t, conf, (x, y, x + 20 * len(t), y + h)))
        x += 20 * len(t) + 20
    return RawLine(tuple(words), (100, y, x, y + max(heights)))


BODY = [line(100 + 50 * i, ["typed", "memo", "text", "of", "the", "page"], [30] * 6, 0.95) for i in range(6)]


def kept(extra: RawLine) -> bool:
    cfg = Config()
    [rows] = classify_lines([BODY + [extra]], cfg)
    assert all(k for _, k in rows[:-1])  # the confident body stays
    return rows[-1][1]


def test_an_unsure_line_of_another_size_is_not_typed_text():
    assert not kept(line(600, ["Резолюция", "тов"], [60, 58], 0.7))  # a handwritten note read as type
    assert kept(line(600, ["Резолюция", "тов"], [31, 29], 0.7))  # the same words at the type's size
    assert kept(line(600, ["Резолюция", "тов"], [60, 58], 0.9))  # read surely: kept whatever its size


def test_a_pencil_stroke_across_a_typed_line_does_not_make_it_noise():
    # four of six words have taller boxes where a pencil line crosses them: the lower quartile is the type's
    words = ["their", "wrath", "either", "actively", "on", "Jews"]
    assert kept(line(600, words, [30, 31, 52, 55, 58, 60], 0.75))
    assert not kept(line(600, words[:4], [52, 55, 58, 60], 0.75))  # short and all tall: a note


def test_too_unsure_or_too_few_letters():
    assert not kept(line(600, ["typed", "text"], [30, 30], 0.3))  # below min_line_conf (40)
    assert not kept(line(600, ["-", "3", "-"], [30, 30, 30], 0.9))  # fewer than min_line_letters (2)


def test_an_unsure_line_that_continues_its_block_is_typed_text():
    date = line(500, ["25", "февраля", "1954", "года"], [30] * 4, 0.95)
    number = line(545, ["Исх.", "91-О-8677"], [30] * 2, 0.38)  # a document number, read unsurely
    cfg = Config()

    def decided(*lines):
        [rows] = classify_lines([BODY + list(lines)], cfg)
        return [k for _, k in rows[len(BODY):]]

    assert decided(date, number) == [True, True]
    [rows] = classify_lines([BODY + [date, number]], cfg)
    assert rows[-1][0].text == "Исх. 91-О-8677"
    assert decided(date, line(545, ["№", "91"], [30, 30], 0.05)) == [True, False]  # too unsure even so
    assert decided(date, line(700, ["Исх.", "91-О-8677"], [30] * 2, 0.38)) == [True, False]  # not right under
    indented = RawLine(tuple(RawWord(w.text, w.conf, (w.box[0] + 300, w.box[1], w.box[2] + 300, w.box[3]))
                             for w in number.words), (400, 545, 800, 575))
    assert decided(date, indented) == [True, False]  # not where the block's lines start
    assert decided(line(500, ["x"], [30], 0.2), number) == [False, False]  # the line above is not typed text
