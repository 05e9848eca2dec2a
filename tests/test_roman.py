"""A date stamp's Roman month read from the shapes of its strokes (``ocr.layout.roman``)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.layout.roman import ROMAN_MONTHS, glyph, roman_groups, shaped_date
from ocr.layout.stamp_text import dates_again
from ocr.synth import fonts

from .test_stamp_text import Script


def date_line(text: str, seed: int = 0, size: int = 40) -> np.ndarray:
    """``text`` in the stamp font on paper, a little blurred and grainy, as a stamp's line cut out."""
    font = ImageFont.truetype(str(fonts.require("stamp")[0]), size)
    w = int(font.getlength(text)) + 40
    img = Image.new("L", (w, size + 30), 235)
    ImageDraw.Draw(img).text((20, 10), text, font=font, fill=70)
    grey = cv2.GaussianBlur(np.asarray(img, np.float32), (0, 0), 0.8)
    grey += np.random.default_rng(seed).normal(0, 6, grey.shape)
    return np.clip(grey, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("month", ROMAN_MONTHS)
def test_each_roman_month_is_read_from_its_strokes(month):
    assert roman_groups(date_line(f"17 {month} 1955", seed=len(month))) == (2, month)
    assert roman_groups(date_line(f"4 {month} 1956", seed=7, size=30)) == (1, month)


def test_a_bar_a_v_and_an_x_are_told_apart_and_other_shapes_are_none():
    bar = np.ones((30, 6), np.uint8)
    assert glyph(bar) == "I"
    vee = np.zeros((30, 26), np.uint8)
    ex = np.zeros((30, 26), np.uint8)
    for y in range(30):
        d = int(y * 11 / 29)
        vee[y, d:d + 4] = vee[y, 25 - d - 3:25 - d + 1] = 1
        ex[y, int(y * 22 / 29):int(y * 22 / 29) + 4] = ex[y, 22 - int(y * 22 / 29):26 - int(y * 22 / 29)] = 1
    assert glyph(vee) == "V" and glyph(ex) == "X"
    assert glyph(np.ones((30, 26), np.uint8)) is None  # a blot
    assert glyph(np.ones((4, 2), np.uint8)) is None  # a speck


def test_a_date_misread_is_written_again_with_the_month_its_strokes_give():
    assert shaped_date(date_line("18 III 1954"), "18 1954") == "18 III 1954"  # the strokes read as nothing
    assert shaped_date(date_line("6 IX 1954"), "6 X 1954") == "6 IX 1954"  # I lost
    assert shaped_date(date_line("21 I 1957"), "2111957") == "21 I 1957"  # glued, the stroke read as a one
    assert shaped_date(date_line("4 VII 1957"), "4 УИ 1957") == "4 VII 1957"
    assert shaped_date(date_line("17 XII 1955"), "17 XII 1955") == "17 XII 1955"


def test_a_line_that_is_not_a_date_of_three_groups_gives_nothing():
    assert roman_groups(date_line("ОБЩИЙ ОТДЕЛ")) is None
    assert roman_groups(date_line("46824")) is None
    assert roman_groups(date_line("ОТ 17 XII 1955")) is None  # a fourth word
    assert roman_groups(date_line("17 12 1955")) is None  # the month in digits
    assert roman_groups(np.full((60, 300), 235, np.uint8)) is None  # no ink
    # the day or year not to be had from the reading: as it was
    assert shaped_date(date_line("18 III 1954"), "ЦК КПСС") is None
    assert shaped_date(date_line("18 III 1954"), "1811 1954") == "18 III 1954"  # the strokes read as ones
    assert shaped_date(date_line("18 III 1954"), "1854 1954") is None  # more than the strokes glued to the day
    assert shaped_date(date_line("18 III 1954"), "48 1954") is None  # no such day? 48: not a day


def test_the_shapes_come_before_reading_the_stamp_again():
    line = date_line("18 III 1954")
    upright = np.full((200, line.shape[1] + 40), 235, np.uint8)
    upright[100:100 + line.shape[0], 20:20 + line.shape[1]] = line
    box = (20, 100, 20 + line.shape[1], 100 + line.shape[0])
    engine = Script(["17 XII 1955"])
    assert dates_again(engine, upright, [("ЦК КПСС", (20, 10, 300, 40)), ("18 1954", box)]) == {1: "18 III 1954"}
    assert engine.calls == []  # the shapes gave it: not read again
    # a line whose month reads as the shapes give is left as it is
    assert dates_again(Script([]), upright, [("18 III 1954", box)]) == {}
