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
