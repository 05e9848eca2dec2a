"""A stamp's text: the ring found and unwrapped, dates read again, the page's reading and the stamp's own weighed,
the stamp's words not kept twice (synthetic stamps, fake engines; the real engine where marked)."""
from __future__ import annotations

import cv2
import pytest
import numpy as np

from ocr.config import Config
from ocr.engines import get_engine
from ocr.engines.base import RawLine, RawWord
from ocr.layout import inksep
from ocr.layout.candidates import ink_mask
from ocr.layout.route import _less_stamp_words, _stamp_text
from ocr.layout.handwriting import crop_angle
from ocr.layout.ring_strip import find_oval, find_ring, oval_round, ring_strip, ringed
from ocr.layout.struck import fainter_copy, struck_once
from ocr.layout.stamp_text import (CENTRE, centre_disc, dates_again, fields, legible, months, read_stamp, wants_date,
                                   with_roman_month, without_typing)
from ocr.model import Line, Region, Word, box_polygon
from ocr.synth import fonts
from ocr.synth.content import Stamp
from ocr.synth.render import render_stamp

from .conftest import needs_tesseract


def stamped(kind: str, seed: int, arc: str = "ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", lines=("АРХИВ", "№ 5734"), grey=True,
            squeeze: float = 1.0, double: tuple[int, int] = (0, 0)):
    """A page with one synthetic stamp (double ring for a round one; ``squeeze``: an oval's width over its
    height; ``double``: struck twice, the fainter copy shifted so) and the stamp's box."""
    stamp = Stamp(kind, arc=arc if kind == "round" else "", lines=list(lines), squeeze=squeeze, double=double)
    cov, _, _ = render_stamp(np.random.default_rng(seed), stamp, str(fonts.require("stamp")[0]))
    h, w = cov.shape
    page = np.full((h + 200, w + 300), 232, np.uint8)
    page[100:100 + h, 150:150 + w] = (232 - cov * 170).astype(np.uint8)
    return (page if grey else cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)), (150, 100, 150 + w, 100 + h)


class Script:
    """A fake engine: ``read_lines`` answers from a list of readings, in order, and records each call."""

    def __init__(self, *answers: list[str]):
        self.answers, self.calls = list(answers), []

    def read_lines(self, image, psm, lang=None):
        self.calls.append((image.shape, psm, lang))
        texts = self.answers.pop(0) if self.answers else []
        h, w = image.shape[:2]
        return [RawLine((RawWord(t, 0.9, (0, 0, w, h)),), (0, 0, w, h)) for t in texts]


def test_the_ring_found_is_the_stamps_outer_ring_not_its_inner_one():
    for seed in range(4):
        page, box = stamped("round", seed)
        crop = page[box[1] - 6:box[3] + 6, box[0] - 6:box[2] + 6]
        cx, cy, r = find_ring(crop)
        side = box[2] - box[0]
        # the renderer draws the outer ring at radius (side - 20) / 2, the inner one at 0.68 of it
        assert abs(r - (side - 20) / 2) <= 0.08 * side / 2, (seed, r, side)
        assert abs(cx - crop.shape[1] / 2) <= 10 and abs(cy - crop.shape[0] / 2) <= 10


def test_a_rectangular_stamp_with_ruled_fields_has_no_ring_a_partly_inked_round_one_has():
    from ocr.synth.render import render_stamp

    font = str(fonts.require("stamp")[0])
    for seed in range(4):
        ruled = Stamp("rect", lines=["ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"], ruled=True)
        cov, _, _ = render_stamp(np.random.default_rng(seed), ruled, font)
        crop = cv2.copyMakeBorder((232 - cov * 170).astype(np.uint8), 6, 6, 6, 6, cv2.BORDER_CONSTANT, value=232)
        assert find_ring(crop) is None, seed
        partial = Stamp("round", arc="ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", lines=["АРХИВ", "№ 5734"], partial=(0.3, 90.0 * seed))
        cov, _, _ = render_stamp(np.random.default_rng(seed), partial, font)
        crop = cv2.copyMakeBorder((232 - cov * 170).astype(np.uint8), 6, 6, 6, 6, cv2.BORDER_CONSTANT, value=232)
        assert find_ring(crop) is not None, seed


def test_an_oval_stamps_outline_is_found_and_stretched_round_a_round_or_ruled_one_is_no_oval():
    for seed, squeeze in ((0, 0.75), (1, 0.8), (2, 1.3)):
        page, box = stamped("round", seed, squeeze=squeeze)
        w, h = box[2] - box[0], box[3] - box[1]
        # the renderer's outer ring: radius (side - 20) / 2 before the squeeze across
        half_w, half_h = (w - 20 * squeeze) / 2, (h - 20) / 2
        oval = find_oval(page, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
        assert oval is not None, seed
        cx, cy, a, b, _ = oval
        assert abs(cx - (box[0] + box[2]) / 2) <= 8 and abs(cy - (box[1] + box[3]) / 2) <= 8, (seed, oval)
        assert abs(sorted((a, b))[0] - min(half_w, half_h)) <= 0.08 * min(half_w, half_h), (seed, oval)
        assert abs(sorted((a, b))[1] - max(half_w, half_h)) <= 0.08 * max(half_w, half_h), (seed, oval)
        stretched, (sx, sy, r), back = oval_round(page, oval, 232)
        found = find_ring(stretched[int(sy - r - 10):int(sy + r + 10), int(sx - r - 10):int(sx + r + 10)])
        assert found is not None and abs(found[2] - r) <= 0.08 * r, (seed, found, r)
        # the map back takes the circle's centre to the oval's
        assert np.allclose(back @ (sx, sy, 1.0), (cx, cy), atol=1.0)
    page, box = stamped("round", 3)
    assert find_oval(page, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)) is None  # round: find_ring's
    font = str(fonts.require("stamp")[0])
    ruled = Stamp("rect", lines=["ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"], ruled=True)
    cov, _, _ = render_stamp(np.random.default_rng(0), ruled, font)
    crop = cv2.copyMakeBorder((232 - cov * 170).astype(np.uint8), 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=232)
    assert find_oval(crop, (crop.shape[1] / 2, crop.shape[0] / 2)) is None


def test_an_oval_stamp_is_read_as_a_round_one_its_centre_in_the_pages_pixels():
    page, box = stamped("round", 0, squeeze=0.75)
    engine = Script(["ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС"], ["АРХИВ", "№ 5734"])
    lines, raw, round_, ring_lines, centre = read_stamp(page, box, engine)
    assert round_ and ring_lines == 1 and [t for t, _ in lines] == ["ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", "АРХИВ", "№ 5734"]
    assert engine.calls[0][0][1] > 2 * (box[3] - box[1])  # the ring unwrapped: a strip as long as its arc
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    assert centre[0] < cx < centre[2] and centre[1] < cy < centre[3]
    assert box[0] <= centre[0] and centre[2] <= box[2] and box[1] <= centre[1] and centre[3] <= box[3]


def test_a_turned_ruled_stamp_has_no_ring_the_circle_through_its_lettering_has_ink_beyond_it():
    from ocr.layout.handwriting import rotate

    font = str(fonts.require("stamp")[0])
    for seed in (9, 10, 11):
        ruled = Stamp("rect", lines=["ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"], ruled=True)
        cov, _, _ = render_stamp(np.random.default_rng(seed), ruled, font)
        crop = cv2.copyMakeBorder((232 - cov * 170).astype(np.uint8), 6, 6, 6, 6, cv2.BORDER_CONSTANT, value=232)
        for angle in (-8, -5, 5, 8):  # seed 10 at -8 degrees gave a "ring" inked all round by rules and letters
            assert find_ring(rotate(crop, angle, 232)[0]) is None, (seed, angle)


def test_a_stamps_crop_holds_a_ring_or_an_oval_a_ruled_stamp_or_a_note_none():
    for kind, squeeze in (("round", 1.0), ("round", 0.75)):
        page, box = stamped(kind, 4, squeeze=squeeze)
        assert ringed(page, box) and ringed(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), box), squeeze
        # the box a little off the stamp (a group of its ink that left part of the ring out)
        assert ringed(page, (box[0] + 20, box[1], box[2], box[3] - 10)), squeeze
    ruled = Stamp("rect", lines=["ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"], ruled=True)
    cov, _, _ = render_stamp(np.random.default_rng(4), ruled, str(fonts.require("stamp")[0]))
    page = cv2.copyMakeBorder((232 - cov * 170).astype(np.uint8), 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=232)
    assert not ringed(page, (60, 60, page.shape[1] - 60, page.shape[0] - 60))
    assert not ringed(page, (0, 0, 0, 0))


def test_a_weak_stamp_whose_crop_holds_a_ring_stays_a_stamp_though_it_does_not_read_as_print():
    from ocr.layout.candidates import FEATURES, Candidate
    from ocr.layout.stamps import unprinted_stamps

    page, box = stamped("round", 5)
    note_box = (10, 10, 140, 90)  # a scribble left of the stamp
    rng = np.random.default_rng(5)
    for y in (30, 60):
        pts = np.stack([np.arange(20, 131, 8), y + rng.integers(-12, 13, 14)], axis=1).astype(np.int32)
        cv2.polylines(page, [pts], False, 60, 3)

    def cand(b):
        return Candidate(b, np.zeros(len(FEATURES), np.float32), "stamp", 0.6,
                         probs={"stamp": 0.6, "handwritten": 0.3, "noise": 0.1})

    stamp, note = cand(box), cand(note_box)
    engine = Script(["~"], ["~"], ["~"])  # read at 0.9, but "~" has no letter: the fake's words are sure ...
    engine.read_lines = lambda image, psm, lang=None: [RawLine((RawWord("~", 0.1, (0, 0, 5, 5)),), (0, 0, 5, 5))]
    out = unprinted_stamps(page, page, [stamp, note], engine)  # ... read at 0.1 here: nothing reads as print
    assert out == [note] and note.kind == "handwritten"
    assert stamp.kind == "stamp"


def test_the_ring_strip_holds_the_band_between_the_rings_without_their_lines_with_a_margin_of_paper():
    page, box = stamped("round", 2)
    crop = page[box[1] - 6:box[3] + 6, box[0] - 6:box[2] + 6]
    strip = ring_strip(crop, find_ring(crop))
    ink = ink_mask(strip) > 0
    assert ink.any()
    assert not ink[:8].any() and not ink[-8:].any() and not ink[:, :8].any()  # paper round it
    # no row is a ring: the longest run of ink along any row is short (a letter's bar, not a line round the stamp)
    runs = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, 80), np.uint8))
    assert runs.mean(axis=1).max() < 0.2
    # the band is about a third of the radius high: the letters between the rings, not the centre's lines
    r = find_ring(crop)[2]
    assert 0.15 * r <= strip.shape[0] - 32 <= 0.45 * r, strip.shape


def test_the_ring_strip_keeps_its_letters_rows_and_paints_the_scraps_above_and_below():
    from ocr.layout.ring_strip import _letter_rows

    rng = np.random.default_rng(3)
    band = np.full((60, 600), 230, np.uint8)
    for x in range(10, 590, 14):  # a ring's letters all along, rows 20-39
        band[20:40, x:x + 3] = 60
        band[20:23, x:x + 10] = 60
    for x in rng.integers(0, 580, 6):  # scraps of typing behind the ring and a hand's stroke across it
        band[2:12, x:x + 15] = 60
        band[46:58, x + 5:x + 9] = 60
    ink = band < 128
    out = _letter_rows(band, ink, 230)
    assert (out[18:42] == band[18:42]).all()  # the letters as they were, a pixel or two round them too
    assert (out[:17] == 230).all() and (out[43:] == 230).all()  # the scraps are paper
    blank = np.full((30, 100), 230, np.uint8)
    assert (_letter_rows(blank, blank < 128, 230) == blank).all()  # nothing inked: as it is


def test_a_round_stamp_gives_its_ring_then_its_centre_another_its_lines():
    page, box = stamped("round", 1)
    engine = Script(["ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС"], ["АРХИВ", "№ 5734"])
    lines, raw, round_, ring_lines, centre = read_stamp(page, box, engine)
    assert round_ and ring_lines == 1 and [t for t, _ in lines] == ["ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", "АРХИВ", "№ 5734"]
    assert engine.calls[0][0][0] < (box[3] - box[1]) / 2  # what it read first was the unwrapped ring
    # the centre read lies in the middle of the stamp, in the page's pixels
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    assert centre[0] < cx < centre[2] and centre[1] < cy < centre[3]
    assert centre[2] - centre[0] < 0.7 * (box[2] - box[0])
    page, box = stamped("rect", 3, lines=("ЦК КПСС", "46824"))
    lines, raw, round_, ring_lines, centre = read_stamp(page, box, Script(["ЦК КПСС", "46824"]))
    assert not round_ and ring_lines == 0 and centre is None
    assert [t for t, _ in lines] == ["ЦК КПСС", "46824"] and raw == ["ЦК КПСС", "46824"]


def test_a_rings_words_are_spelt_by_the_pages_word_lists():
    pytest.importorskip("wordfreq")
    class Words(Script):  # each answer's words as words of one line
        def read_lines(self, image, psm, lang=None):
            lines = super().read_lines(image, psm, lang)
            return [RawLine(tuple(RawWord(t, 0.9, ln.box) for t in ln.words[0].text.split()), ln.box)
                    for ln in lines]

    page, box = stamped("round", 1)
    read = read_stamp(page, box, Words(["МЕнтРАЛЬный КОМИТЕТ КПСЕ"], ["АРХИВ"]), langs=("ru",))
    assert read.lines[0][0] == "ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС" and read.lines[1][0] == "АРХИВ"
    read = read_stamp(page, box, Words(["МЕнтРАЛЬный КОМИТЕТ КПСЕ"], ["АРХИВ"]))
    assert read.lines[0][0] == "МЕнтРАЛЬный КОМИТЕТ КПСЕ"  # no word list: as read


def test_a_ring_word_read_unsurely_is_kept_a_speck_is_not():
    page, box = stamped("round", 1)

    class Unsure(Script):
        def read_lines(self, image, psm, lang=None):
            h, w = image.shape[:2]
            words = (RawWord("ЦЕНТРАЛЬНЫЙ", 0.15, (0, 0, 9, 9)), RawWord("КОМИТЕТ", 0.05, (0, 0, 9, 9)),
                     RawWord("ы", 0.9, (0, 0, 9, 9)))
            return [RawLine(words, (0, 0, w, h))]

    lines, raw, *_ = read_stamp(page, box, Unsure())
    assert [t for t, _ in lines[:1]] == ["ЦЕНТРАЛЬНЫЙ"] and raw[0] == "ЦЕНТРАЛЬНЫЙ КОМИТЕТ ы"


def test_a_ring_word_read_at_no_confidence_is_kept_where_it_is_a_common_word():
    pytest.importorskip("wordfreq")
    page, box = stamped("round", 1)

    class Unsure(Script):  # Tesseract reads an unwrapped arc's word right at 0.0 at times
        def read_lines(self, image, psm, lang=None):
            h, w = image.shape[:2]
            words = (RawWord("ЦЕНТРАЛЬНЫЙ", 0.0, (0, 0, 9, 9)), RawWord("ЖЩРЫХ", 0.0, (0, 0, 9, 9)),
                     RawWord("КОМИТЕТ", 0.05, (0, 0, 9, 9)), RawWord("КПСС", 0.4, (0, 0, 9, 9)))
            return [RawLine(words, (0, 0, w, h))]

    read = read_stamp(page, box, Unsure(), langs=("ru",))
    assert read.lines[0][0] == "ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС" and read.ring_lines == 1  # not the letters of no word
    read = read_stamp(page, box, Unsure())
    assert read.lines[0][0] == "КПСС"  # no word list: only the words read surely enough


def test_a_number_sign_before_a_number_is_kept_though_it_has_no_letter():
    page, box = stamped("rect", 3, lines=("АРХИВ", "№ 5734"))

    class Words(Script):  # Tesseract gives the sign as a word of its own
        def read_lines(self, image, psm, lang=None):
            h, w = image.shape[:2]

            def line(*texts):
                return RawLine(tuple(RawWord(t, 0.9, (0, 0, 9, 9)) for t in texts), (0, 0, w, h))

            return [line("АРХИВ", "№"), line("№", "5734"), line("№", "дело")]

    lines, raw, *_ = read_stamp(page, box, Words())
    assert [t for t, _ in lines] == ["АРХИВ", "№ 5734", "дело"]  # a sign before no number is not kept
    assert raw == ["АРХИВ №", "№ 5734", "№ дело"] and fields([t for t, _ in lines])["number"] == "5734"


def test_a_roman_month_read_in_look_alike_letters_is_written_in_roman_numerals():
    assert with_roman_month("17 ХП 1955") == "17 XII 1955"
    assert with_roman_month("28 111 1955") == "28 III 1955" and fields(["28 111 1955"]) == {"date": "1955-03-28"}
    assert with_roman_month("6 Vil 1954") == "6 VII 1954"
    assert with_roman_month("17.12.1955") == "17.12.1955"  # a month in digits stays as written
    # a month of ones between spaces is a Roman month of strokes; between dots, digits
    assert with_roman_month("12 11 1956") == "12 II 1956" and fields(["12 11 1956"]) == {"date": "1956-02-12"}
    assert with_roman_month("17.11.1955") == "17.11.1955" and fields(["17.11.1955"]) == {"date": "1955-11-17"}
    assert fields(["22 1 1955"]) == {"date": "1955-01-22"} and with_roman_month("5 12 1955") == "5 12 1955"
    assert with_roman_month("ЦК КПСС") == "ЦК КПСС" and with_roman_month("3 XIV 1955") == "3 XIV 1955"



def test_a_date_read_with_its_roman_months_strokes_as_ones_and_no_spaces_is_a_date():
    assert with_roman_month("2611956") == "26 I 1956"
    assert fields(["45479", "2611956"]) == {"number": "45479", "date": "1956-01-26"}  # not a second number
    assert fields(["10111956"]) == {"date": "1956-02-10"} and with_roman_month("1511955 ") == "15 I 1955"
    # a day of one digit where only one split is a date: 4 I, 2 I (41 and 21 with no month are none)
    assert fields(["411955"]) == {"date": "1955-01-04"} and with_roman_month("211953") == "2 I 1953"
    # two splits, 21 I or 2 II, 31 I or 3 II, 11 I or 1 II: left as read
    assert fields(["2111955"]) == {"number": "2111955"} and fields(["3111955"]) == {"number": "3111955"}
    assert with_roman_month("2111955") == "2111955" and with_roman_month("1111955") == "1111955"
    assert fields(["0211955"]) == {"number": "0211955"} and fields(["26904"]) == {"number": "26904"}
    # only a line that is nothing else, with ones for the month
    assert fields(["2611956 x"]) == {} and fields(["2671956"]) == {"number": "2671956"}


def test_a_roman_month_read_as_i_with_a_stroke_is_two_or_three_strokes():
    assert months("27 И 1953") == {2, 3} and months("17 ХИ 1955") == {12} and months("19 УИ 1956") == {7, 8}
    assert months("17 XII 1955") == {12} and months("12.11.1955") == {11} and months("ОТДЕЛ") == set()
    assert fields(["17 ХИ 1955"]) == {"date": "1955-12-17"} and with_roman_month("17 ХИ 1955") == "17 XII 1955"
    assert wants_date("27 И 1953") and not wants_date("17 ХИ 1955")  # only one month: not read again
    upright = np.full((200, 400), 230, np.uint8)
    lines = [("95471", (10, 10, 300, 40)), ("27 И 1953", (10, 50, 300, 80))]
    assert dates_again(Script(["95471", "27 III 1953"]), upright, lines) == {1: "27 III 1953"}
    # a month read again that is neither of the two is not taken: the line stays (II, its first reading)
    assert dates_again(Script(["27 XI 1953"], ["27 V 1953"]), upright, lines) == {}
    assert fields(["27 И 1953"]) == {"date": "1953-02-27"}


def test_a_line_with_a_year_but_no_date_is_read_again_in_latin_letters():
    assert wants_date("17 1955") and wants_date("ЦК 1955") and not wants_date("17 XII 1955")
    assert not wants_date("46824") and not wants_date("ОБЩИЙ ОТДЕЛ")
    upright = np.full((200, 400), 230, np.uint8)
    lines = [("ЦК КПСС", (10, 10, 300, 40)), ("46824", (10, 50, 300, 80)), ("17 1955", (10, 90, 300, 120))]
    # the whole stamp in Latin letters first: its date goes to the line that holds the year
    engine = Script(["LK KNCC", "46824", "17 XII 1955", "OBLUMM OTHEN"])
    assert dates_again(engine, upright, lines) == {2: "17 XII 1955"}
    assert engine.calls == [((200, 400), 6, "eng")]
    # no date in it: that line alone (the piece of the stamp it lies in, a little paper round it)
    engine = Script(["46824"], ["17 Vill 1955"])
    assert dates_again(engine, upright, lines) == {2: "17 Vill 1955"}
    assert engine.calls[1] == ((38, 298), 7, "eng")
    assert dates_again(Script([], []), upright, lines) == {}  # read as no date either: as it was
    engine = Script(["1 I 1955"])
    assert dates_again(engine, upright, lines[:2]) == {} and engine.calls == []  # no year: not read again


def test_the_stamps_reading_with_more_legible_letters_is_kept():
    assert legible(["ЦК КПСС", "46824 ы"]) == 11 and legible(["а б в"]) == 0
    page, box = stamped("rect", 3, lines=("ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"))
    piece = Line("t1_l001", "СМ ТР", box_polygon((box[0] + 40, box[1] + 60, box[0] + 200, box[1] + 100)), (), 0.6,
                 (Word("СМ", 0.6, ()), Word("ТР", 0.6, ())))
    whole = ["ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"]
    # a rectangular stamp read as a block has more: the block is kept
    lines, raw, replaced = _stamp_text(page, page, box, Script(whole), [piece])
    assert [ln.text for ln in lines] == whole and raw == whole and replaced
    assert all(ln.polygon == box_polygon(box) for ln in lines)
    # ink the classifier alone called a stamp (no ring, no frame): its reading is kept too, but the typed lines
    # beside it keep their words (it may be typing)
    lines, _, replaced = _stamp_text(page, page, box, Script(whole), [piece], outlined=False)
    assert [ln.text for ln in lines] == whole and not replaced
    # the page's reading had it all: kept, with its own polygons; the block's raw reading still gives fields
    typed = [Line(f"t1_l{i:03d}", t, box_polygon((box[0], box[1] + 30 * i, box[2], box[1] + 30 * i + 25)), (), 0.9)
             for i, t in enumerate(whole)]
    lines, raw, replaced = _stamp_text(page, page, box, Script(["ЦК", "4682"]), typed)
    assert [ln.text for ln in lines] == whole and lines[0].polygon == typed[0].polygon and not replaced
    assert raw == ["ЦК", "4682"]
    # a round stamp: its ring first, then its centre: the page's lines there or the stamp's reading, whichever
    # reads more; the page's lines elsewhere on the stamp kept after them whatever the ring gave
    page, box = stamped("round", 1)
    centre = read_stamp(page, box, Script([], [])).centre
    in_centre = Line("t1_l001", "АРХ", box_polygon((centre[0] + 10, centre[1] + 10, centre[2] - 10, centre[1] + 50)),
                     (), 0.9)
    below = Line("t1_l002", "Петров)", box_polygon((box[0] + 150, box[3] - 60, box[0] + 260, box[3] - 20)), (), 0.9)
    lines, _, replaced = _stamp_text(page, page, box, Script([], ["АРХИВ", "№ 5734"]), [in_centre, below])
    assert [ln.text for ln in lines] == ["АРХИВ", "№ 5734", "Петров)"] and not replaced
    lines, _, _ = _stamp_text(page, page, box, Script(["ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС"], ["АР"]), [in_centre, below])
    assert [ln.text for ln in lines] == ["ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", "АРХ", "Петров)"]
    assert lines[1] is in_centre


def test_the_pages_reading_of_a_stamps_date_is_read_again_and_its_month_written_in_roman_numerals():
    page, box = stamped("rect", 3, lines=("ЦК КПСС", "46824", "17 XII 1955"))
    typed = [Line("t1_l001", "ЦК КПСС", box_polygon((box[0] + 20, box[1] + 20, box[2] - 20, box[1] + 60)), (), 0.9),
             Line("t1_l002", "17 Ми 1955", box_polygon((box[0] + 20, box[1] + 100, box[2] - 20, box[1] + 140)), (),
                  0.9, (Word("17", 0.9, ()), Word("Ми", 0.2, ()), Word("1955", 0.9, ())))]
    engine = Script(["LK KNCC", "17 Vil 1955"], ["ЦК"])  # the whole stamp in Latin letters, then as a block
    lines, _, replaced = _stamp_text(page, page, box, engine, typed)
    assert [ln.text for ln in lines] == ["ЦК КПСС", "17 VII 1955"] and not replaced and lines[1].words == ()
    assert engine.calls[0] == ((box[3] - box[1], box[2] - box[0]), 6, "eng")


def test_words_of_a_typed_line_that_lie_on_the_stamp_and_are_in_its_text_are_not_kept_twice():
    stamp = (100, 100, 300, 200)
    w1 = Word("31460", 0.9, box_polygon((120, 120, 200, 150)))
    w2 = Word("77.", 0.9, box_polygon((320, 120, 360, 150)))
    w3 = Word("Гири", 0.9, box_polygon((370, 120, 450, 150)))
    line = Line("t1_l001", "31460 77. Гири", box_polygon((120, 120, 450, 150)), (), 0.9, (w1, w2, w3))
    other = Line("t1_l002", "Прошу подготовить", box_polygon((120, 300, 450, 330)), (), 0.9,
                 (Word("Прошу", 0.9, box_polygon((120, 300, 250, 330))),
                  Word("подготовить", 0.9, box_polygon((260, 300, 450, 330)))))
    region = Region("t1", box_polygon((120, 120, 450, 330)), (line, other), "typewritten", "paragraph", True)
    (out,) = _less_stamp_words([region], stamp, ["ЦК КПСС", "31460"])
    assert [ln.text for ln in out.lines] == ["77. Гири", "Прошу подготовить"]
    assert out.lines[0].words == (w2, w3) and out.lines[0].polygon == box_polygon((320, 120, 450, 150))
    assert out.lines[1] is other
    # a word read the same but off the stamp, or a stamp text without it: left as it is
    assert _less_stamp_words([region], (500, 500, 600, 600), ["31460"])[0] is region
    assert _less_stamp_words([region], stamp, ["ЦК КПСС"])[0] is region
    # words and text that do not match one to one: the line is not touched
    odd = Region("t2", region.polygon, (Line("t2_l001", "31460 77.Гири", line.polygon, (), 0.9, (w1, w2, w3)),),
                 "typewritten", "paragraph", True)
    assert _less_stamp_words([odd], stamp, ["31460"])[0] is odd
    # a line that is all the stamp's words goes
    alone = Region("t3", w1.polygon, (Line("t3_l001", "31460", w1.polygon, (), 0.9, (w1,)),), "typewritten",
                   "paragraph", True)
    assert _less_stamp_words([alone, region], stamp, ["31460"])[0].id == "t1"


def round_stamps_read(turn: float = 0.0) -> list[list[tuple[str, float]]]:
    """The lines the real engine reads on three synthetic round stamps (seeds 0-2), turned by ``turn`` degrees."""
    engine = get_engine("tesseract", Config())
    out = []
    for seed in range(3):
        page, box = stamped("round", seed, grey=False)
        out.append(read_stamp(turned(page, box, turn) if turn else page, box, engine).lines)
    return out


@needs_tesseract
def test_a_round_stamps_ring_text_is_read_from_the_band_between_its_rings():
    assert sum(bool(lines) and "КОМИТЕТ" in lines[0][0] for lines in round_stamps_read()) >= 2


def turned(page: np.ndarray, box, angle: float) -> np.ndarray:
    """``page`` turned by ``angle`` degrees about the middle of ``box`` (paper filling the corners)."""
    m = cv2.getRotationMatrix2D(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), angle, 1.0)
    return cv2.warpAffine(page, m, (page.shape[1], page.shape[0]), borderValue=(232, 232, 232))


def test_a_round_stamps_centre_is_its_disc_the_rings_arcs_in_the_corners_painted_out():
    page, box = stamped("round", 0)
    page = turned(page, box, 20)
    crop = page[box[1]:box[3], box[0]:box[2]]
    cx, cy, r = find_ring(crop)
    c = int(r * CENTRE)
    disc = centre_disc(crop, cx, cy, c, 232)
    square = crop[int(cy) - c:int(cy) + c, int(cx) - c:int(cx) + c]
    assert disc.shape == square.shape
    assert (disc[:6, :6] == 232).all() and (disc[-6:, -6:] == 232).all()  # the corners: paper
    assert (square[:c // 3, :c // 3] < 150).any()  # where the square holds the ring's ink
    middle = slice(c // 2, 3 * c // 2)
    assert (disc[middle, middle] == square[middle, middle]).all()  # the centre's own lines as they were
    # the arcs turned the square's angle away from its lines' (turned 20 degrees); the disc's is near it
    assert abs(crop_angle(square) + 20) > 10 and abs(crop_angle(disc) + 20) <= 6
    # a pen's stroke down the centre makes its ink higher than wide: its lines still run across
    cv2.line(crop, (int(cx) + 5, int(cy - c)), (int(cx) + 5, int(cy + c)), 60, 4)
    stroked = centre_disc(crop, cx, cy, c, 232)
    assert abs(abs(crop_angle(stroked)) - 90) <= 6 and abs(crop_angle(stroked, across=True) + 20) <= 8


@needs_tesseract
def test_a_turned_round_stamps_number_is_read_from_its_centre():
    assert sum(fields([t for t, _ in lines]).get("number") == "5734" for lines in round_stamps_read(20)) >= 2


class Separator:
    """A fake ink separation network: typed ink where ``typed`` (a half-resolution mask) is set, stamp elsewhere."""

    def __init__(self, typed_at):
        self.typed_at, self.seen = typed_at, []

    def probs(self, small):
        self.seen.append(small.shape)
        p = np.zeros((4, *small.shape[:2]), np.float32)
        typed = self.typed_at(small.shape[:2])
        p[1], p[2] = np.where(typed, 0.9, 0.05), np.where(typed, 0.05, 0.9)
        return p


def violet_stamp_with_typing():
    """A violet rectangular stamp (colour scan) with a typed line in black through it, and the typing's mask."""
    from PIL import Image, ImageDraw, ImageFont

    page, box = stamped("rect", 3, lines=("ЦК КПСС", "46824", "17 XII 1955"))
    crop = page[box[1]:box[3], box[0]:box[2]]
    typed = Image.new("L", crop.shape[::-1], 0)
    ImageDraw.Draw(typed).text((10, crop.shape[0] // 2 - 20), "просьбой о приеме делегации",
                               font=ImageFont.truetype(str(fonts.require("typewriter")[0]), 34), fill=255)
    typing = np.asarray(typed) > 128
    bgr = np.full((*crop.shape, 3), (225, 232, 235), np.uint8)
    bgr[crop < 180] = (150, 60, 120)
    bgr[typing] = (30, 30, 30)
    return bgr, typing


def test_a_colour_stamp_is_read_without_the_typing_behind_it():
    bgr, typing = violet_stamp_with_typing()
    half = bgr.shape[1] // 2
    sep = Separator(lambda hw: np.broadcast_to(np.arange(hw[1]) < hw[1] // 2, hw))  # typed: the left half
    out = without_typing(bgr, 230, lambda: sep)
    assert sep.seen == [(bgr.shape[0] // 2, bgr.shape[1] // 2, 3)]  # seen at half resolution
    assert (out[:, :half - 2][typing[:, :half - 2]] == 230).all()  # the ink it calls typed painted paper
    assert (out[:, half + 2:] == bgr[:, half + 2:]).all()  # the rest as it was
    # a grey scan, a stamp in grey ink, no network: as it was (the network takes grey stamp letters for typing)
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    assert without_typing(grey, 230, lambda: sep) is grey
    black = np.where(bgr < 200, 40, bgr).astype(np.uint8)
    assert without_typing(black, 230, lambda: sep) is black
    assert without_typing(bgr, 230, None) is bgr and len(sep.seen) == 1
    # the layout stage passes the network on to the stamp's own reading
    page = np.full((bgr.shape[0] + 40, bgr.shape[1] + 40, 3), (225, 232, 235), np.uint8)
    page[20:-20, 20:-20] = bgr
    box = (20, 20, 20 + bgr.shape[1], 20 + bgr.shape[0])
    _stamp_text(page, cv2.cvtColor(page, cv2.COLOR_BGR2GRAY), box, Script(["ЦК КПСС"]), [], separator=lambda: sep)
    assert len(sep.seen) == 2


def test_the_committed_ink_network_takes_typing_off_a_colour_stamp_and_leaves_its_letters():
    from ocr.synth.reel import make_page
    from ocr.synth.scan import ScanSettings

    # seed 43000's memo-0003: a violet round stamp ("АРХИВ № 3737") with a typed "Федоров)" through its number
    jpg, _, _, _ = make_page("memo-0003", 43000, 2, ScanSettings(), False)
    crop = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)[1408:1786, 1944:2322]

    def inks(bgr):  # (grey ink, coloured ink) pixels
        ink = ink_mask(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)) > 0
        lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab).astype(np.float32)
        chroma = np.hypot(lab[:, :, 1] - 128, lab[:, :, 2] - 128)
        return int((ink & (chroma <= 6)).sum()), int((ink & (chroma > 14)).sum())

    (grey_before, violet_before), (grey_after, violet_after) = inks(crop), inks(without_typing(crop, 230, inksep.load))
    assert grey_before > 500 and grey_after < 0.5 * grey_before  # most of the typing gone
    assert violet_after > 0.98 * violet_before  # the stamp's ink kept


def test_a_pages_stamps_read_mostly_in_capitals_are_written_in_capitals():
    from ocr.layout.route import _stamps_in_capitals
    from ocr.layout.stamp_text import capitals, set_in_capitals
    from ocr.model import STAMP_TEXT, Glyph, Line, Region, Word

    # a capital whose small letter has its shape, standing a little lower, read small beside capitals
    assert set_in_capitals(["цк кпсс", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"])
    assert set_in_capitals(["ОНИ ЦЕНТРАЛЬНЫЙ. комитеЕТ кпсс"])
    assert not set_in_capitals(["ЦК КПСС", "17 XII 1955"])  # nothing small: nothing to do
    assert not set_in_capitals(["Вх. № 1234", "секретариат"])  # a stamp read mostly in small letters
    assert not set_in_capitals(["46824", "17 XII 1955"])
    assert capitals("цк кпсс 17 xii 1955 №5") == "ЦК КПСС 17 xii 1955 №5"  # Latin (a Roman month) as read

    word = Word("кпсс", 0.8, (), (Glyph("к", 0.8, ()), Glyph("п", 0.8, ()), Glyph("с", 0.8, ()), Glyph("с", 0.8, ())))
    ring = Region("s002_t", (), (Line("a", "отдел цк кпсс", (), (), 0.8, (Word("отдел", 0.8, ()), Word("цк", 0.8, ()),
                                                                           word)),), production="printed",
                  type="other", note=STAMP_TEXT)
    registry = Region("s001_t", (), (Line("b", "ОБЩИЙ ОТДЕЛ", (), (), 0.9), Line("c", "ЦК КПСС", (), (), 0.9)),
                      production="printed", type="other", note=STAMP_TEXT)
    typed = Region("r001", (), (Line("d", "письмо отдела", (), (), 0.9),))
    # the ring read small, the page's other stamp in capitals: the page's stamps are set in capitals
    out = _stamps_in_capitals([typed, ring, registry])
    assert [ln.text for r in out for ln in r.lines] == ["письмо отдела", "ОТДЕЛ ЦК КПСС", "ОБЩИЙ ОТДЕЛ", "ЦК КПСС"]
    assert [w.text for w in out[1].lines[0].words] == ["ОТДЕЛ", "ЦК", "КПСС"]
    assert "".join(g.text for g in out[1].lines[0].words[2].glyphs) == "КПСС"
    assert _stamps_in_capitals([typed, ring]) == [typed, ring]  # the page's only stamp read small: as read


def test_a_stamp_struck_twice_has_its_fainter_copy_found_one_struck_once_or_twice_alike_none():
    for kind, seed, double in (("rect", 0, (9, 6)), ("rect", 1, (-8, 5)), ("round", 2, (7, 7)), ("round", 3, (-10, 4))):
        once, box = stamped(kind, seed, lines=("ЦК КПСС", "46824", "17 XII 1955"))
        twice, _ = stamped(kind, seed, lines=("ЦК КПСС", "46824", "17 XII 1955"), double=double)
        crop = (slice(box[1] - 10, box[3] + 10), slice(box[0] - 10, box[2] + 10))
        assert fainter_copy(once[crop], 232) is None, (kind, seed)
        mask = fainter_copy(twice[crop], 232)
        assert mask is not None, (kind, seed)
        copy = twice[crop].astype(int) < once[crop].astype(int) - 20  # the second strike's own ink
        stamp = once[crop] < 150  # the first strike's strokes (their soft edges, where the copy lies, may go)
        assert (mask & copy).sum() >= 0.8 * copy.sum(), (kind, seed)
        assert (mask & stamp).sum() <= 0.05 * stamp.sum(), (kind, seed)
        painted = struck_once(twice[crop], 232)
        assert (painted[mask] == 232).all() and (painted[~mask] == twice[crop][~mask]).all()
        colour = struck_once(cv2.cvtColor(twice[crop], cv2.COLOR_GRAY2BGR), 232)  # a colour crop: every channel
        assert (colour[mask] == 232).all()
    # struck twice as dark: no shade tells the copies apart, and nothing is painted
    page, box = stamped("rect", 4, lines=("ЦК КПСС", "46824"))
    crop = page[box[1] - 10:box[3] + 10, box[0] - 10:box[2] + 10]
    alike = np.minimum(crop, np.roll(crop, (6, 9), axis=(0, 1)))
    assert fainter_copy(alike, 232) is None
    assert struck_once(alike, 232) is alike


@needs_tesseract
def test_a_stamp_struck_twice_is_read_without_its_fainter_copy():
    engine = get_engine("tesseract", Config())
    page, box = stamped("rect", 5, lines=("ЦК КПСС", "46824", "ОБЩИЙ ОТДЕЛ"), double=(9, 6))
    lines, raw, round_, _, _ = read_stamp(page, box, engine)
    assert "ЦК КПСС" in raw and "46824" in raw and "ОТДЕЛ" in " ".join(t for t, _ in lines), raw
