"""Full stops misread at word ends (",", "e", "s"), told apart by the glyph's shape (synthetic glyphs);
spaces after a full stop or comma put back."""
from __future__ import annotations

import numpy as np
import pytest

from ocr.engines.base import RawLine, RawWord
from ocr.typed.punctuation import (
    drop_stray_quotes,
    drop_stray_stops,
    final_glyph,
    repair_labels,
    repair_stops,
    split_joined,
    stops_before_sentence_starts,
    straighten_quotes,
)

XH = 20  # x-height of the drawn type, pixels


def draw_word(img: np.ndarray, x: int, base: int, text: str, last: str) -> tuple[int, int, int, int]:
    """Draw ``text``'s letters as x-height blocks and its last character as ``last``: "comma" (hangs
    below the baseline), "stop" (a low blob on the baseline), "letter" (a full block) or "bullet" (a
    bold dot about 0.6 x-height tall). Returns the word's box."""
    x0 = x
    for _ in text[:-1]:
        img[base - XH:base, x:x + 14] = 0
        x += 18
    shapes = {"comma": (base - 8, base + 10, 6), "stop": (base - 8, base + 1, 6), "letter": (base - XH, base, 14),
              "bullet": (base - 12, base, 12)}
    top, bottom, width = shapes[last]
    img[top:bottom, x:x + width] = 0
    return x0, base - XH, x + width, max(base, bottom)


def page(words: list[tuple[str, str]], lines_of: int = 4) -> tuple[np.ndarray, list[list[RawLine]]]:
    """A page of one block: ``words`` as (text, last-glyph shape), ``lines_of`` words per line."""
    img = np.full((60 + 60 * (len(words) // lines_of + 1), 1000), 255, np.uint8)
    lines, row = [], []
    for i, (text, last) in enumerate(words):
        base = 50 + 60 * (i // lines_of)
        x = 20 + 220 * (i % lines_of)
        row.append(RawWord(text, 0.96, draw_word(img, x, base, text, last)))
        if len(row) == lines_of or i == len(words) - 1:
            lines.append(RawLine(tuple(row), (row[0].box[0], row[0].box[1], row[-1].box[2], row[-1].box[3])))
            row = []
    return img, [lines]


def texts(blocks) -> list[str]:
    return [w.text for b in blocks for ln in b for w in ln.words]


def test_the_glyph_is_measured_against_the_baseline():
    img = np.full((100, 300), 255, np.uint8)
    h, drop, width = final_glyph(img, draw_word(img, 10, 50, "word,", "comma"), XH)
    assert (h, drop, width) == (18 / XH, 10 / XH, 6 / XH)
    h, drop, _ = final_glyph(img, draw_word(img, 150, 50, "word,", "stop"), XH)
    assert (h, drop) == (9 / XH, 1 / XH)
    blank = np.full((100, 300), 255, np.uint8)
    assert final_glyph(blank, (10, 30, 100, 50), XH) is None  # no letters, no baseline


def test_a_comma_that_does_not_hang_before_a_capital_is_a_full_stop():
    words = [("was,", "comma"), ("and", "letter")] * 4 + [("wissen,", "stop"), ("Ich", "letter"),
                                                          ("dabei,", "comma"), ("Wir", "letter"),
                                                          ("here,", "stop"), ("and", "letter"), ("end,", "stop")]
    img, blocks = page(words)
    fixed, n = repair_stops(img, blocks, XH)
    assert texts(fixed)[8:] == ["wissen.", "Ich", "dabei,", "Wir",  # a hanging comma stays before a capital
                                "here,", "and",  # before a small letter a sentence does not end: stays
                                "end."]  # the block's last word: a paragraph ends
    assert n == 2
    assert fixed[0][0].words[0].box == blocks[0][0].words[0].box  # boxes and confidences kept


def test_a_face_whose_commas_do_not_hang_is_left_alone():
    words = [("was,", "stop"), ("and", "letter")] * 4 + [("wissen,", "stop"), ("Ich", "letter")]
    img, blocks = page(words)
    assert repair_stops(img, blocks, XH) == (blocks, 0)


def test_a_short_final_letter_on_the_baseline_is_a_full_stop():
    words = [("the", "letter"), ("camp", "letter")] * 4 + [("Gestapoe", "bullet"), ("A", "letter"),
                                                           ("Hollands", "bullet"), ("my", "letter")]
    img, blocks = page(words)
    fixed, n = repair_stops(img, blocks, XH)
    assert texts(fixed)[8:] == ["Gestapo.", "A", "Hollands", "my"] and n == 1


def test_a_list_label_whose_stop_was_read_as_a_letter_is_put_right():
    words = [("4e", "stop"), ("Jews", "letter"), ("ae", "stop"), ("to", "letter"), ("20", "stop"), ("Jews", "letter"),
             ("to", "letter"), ("hold", "letter"),  # a word of two letters: its second glyph is a letter
             ("the", "letter"), ("ae", "stop")]  # not at the line's start
    img, blocks = page(words, lines_of=2)
    fixed, n = repair_labels(img, blocks, XH)
    assert texts(fixed) == ["4.", "Jews", "a.", "to", "2.", "Jews", "to", "hold", "the", "ae"] and n == 3
    # repair_stops does it too, on a page without any other stop to repair
    assert texts(repair_stops(img, blocks, XH)[0])[:3] == ["4.", "Jews", "a."]
    # a label right against the next word (no wider gap than a word space) is a word
    close = [[RawLine((blocks[0][0].words[0], RawWord("Jews", 0.9, (50, 30, 120, 50))), (20, 30, 120, 51))]]
    assert repair_labels(img, close, XH) == (close, 0)
    assert repair_labels(img, blocks, None) == (blocks, 0)


def draw_short_face(img_words, letter_h: int):
    """A page whose small letters are ``letter_h`` tall (a face that measures short against the page's
    x-height estimate) and whose stops are round bullets 11 px tall: ``img_words`` as (text, shape)."""
    img = np.full((60 + 60 * (len(img_words) // 4 + 1), 1000), 255, np.uint8)
    lines, row = [], []
    for i, (text, last) in enumerate(img_words):
        base, x = 50 + 60 * (i // 4), 20 + 220 * (i % 4)
        x0 = x
        for _ in text[:-1]:
            img[base - letter_h:base, x:x + 14] = 0
            x += 18
        top, width = (base - 11, 11) if last == "bullet" else (base - letter_h, 14)
        img[top:base, x:x + width] = 0
        row.append(RawWord(text, 0.96, (x0, base - letter_h, x + width, base)))
        if len(row) == 4 or i == len(img_words) - 1:
            lines.append(RawLine(tuple(row), (row[0].box[0], row[0].box[1], row[-1].box[2], row[-1].box[3])))
            row = []
    return img, [lines]


def test_stops_on_a_face_whose_small_letters_measure_short():
    # letters 16 px against an x-height estimate of 20 (0.8): the stop (0.55) is told by the page's letters
    words = [("the", "letter"), ("camp", "letter")] * 4 + [("easte", "bullet"), ("The", "letter"),
                                                           ("tabl", "letter"), ("more", "letter")]
    img, blocks = draw_short_face(words, 16)
    fixed, n = repair_stops(img, blocks, XH)
    assert texts(fixed)[8:] == ["east.", "The", "tabl", "more"] and n == 1
    # a face whose letters measure under 0.7 of the x-height is left alone
    img, blocks = draw_short_face(words, 12)
    assert repair_stops(img, blocks, XH) == (blocks, 0)


def test_an_abbreviation_takes_its_stop_before_any_word():
    words = [("the", "letter"), ("camp", "letter")] * 4 + [("fte", "bullet"), ("x", "letter"),
                                                           ("grmse", "bullet"), ("daily", "letter"),
                                                           ("e.ge", "bullet"), ("thefts", "letter"),
                                                           ("easte", "bullet"), ("and", "letter")]
    img, blocks = page(words)
    fixed, n = repair_stops(img, blocks, XH)
    # "ft", "grms", "e.g" end in a stop whatever follows; "east" before a small letter stays as read
    assert texts(fixed)[8:] == ["ft.", "x", "grms.", "daily", "e.g.", "thefts", "easte", "and"] and n == 3


def test_numbers_and_unmeasurable_pages_stay():
    words = [("was,", "comma"), ("and", "letter")] * 4 + [("24,", "stop"), ("May", "letter")]
    img, blocks = page(words)
    assert texts(repair_stops(img, blocks, XH)[0])[8] == "24,"  # dates: "May 24, 1942"
    assert repair_stops(img, blocks, None) == (blocks, 0)
    assert repair_stops(img, blocks, 4.0) == (blocks, 0)


@pytest.mark.parametrize("read,split", [
    ("Dr.Minz", ["Dr.", "Minz"]), ("20.November", ["20.", "November"]), ("waren,Ein", ["waren,", "Ein"]),
    ("alles,was", ["alles,", "was"]), ("S.A.Mann", ["S.A.", "Mann"]), ("г.Москва", ["г.", "Москва"]),
    ("z.B.", ["z.B."]), ("S.A.", ["S.A."]), ("1.XI.", ["1.XI."]), ("1,5", ["1,5"]), ("No.1", ["No.1"]),
    ("F,enoh", ["F,enoh"]),  # one letter before the comma: a misread word, not two
])
def test_a_missed_space_after_a_stop_or_comma_is_put_back(read, split):
    w = RawWord(read, 0.9, (100, 10, 100 + 10 * len(read), 30))
    blocks = [[RawLine((RawWord("Am", 0.9, (40, 10, 60, 30)), w), (40, 10, 100 + 10 * len(read), 30))]]
    out, n = split_joined(blocks)
    words = out[0][0].words
    assert [x.text for x in words[1:]] == split and n == (len(split) > 1)
    assert words[0].text == "Am" and out[0][0].box == blocks[0][0].box
    # the parts share the word's box by characters, edge to edge
    assert words[1].box[0] == 100 and words[-1].box[2] == 100 + 10 * len(read)
    assert all(a.box[2] == b.box[0] for a, b in zip(words[1:], words[2:], strict=False))
    assert all(x.conf == 0.9 and x.box[1::2] == (10, 30) for x in words[1:])


def test_typographic_quotes_become_straight_and_guillemets_stay():
    words = [RawWord(t, 0.9, (0, 0, 10, 10)) for t in ("“Laortis”", "‘it’s", "„Birkenau“", "«Правда»", "plain")]
    blocks = [[RawLine(tuple(words), (0, 0, 10, 10))]]
    out, n = straighten_quotes(blocks)
    assert out[0][0].text == "\"Laortis\" 'it's \"Birkenau\" «Правда» plain" and n == 3
    same, none = straighten_quotes([[RawLine((words[-1],), (0, 0, 10, 10))]])
    assert none == 0


def quoted(*lines: str) -> list[list[RawLine]]:
    return [[RawLine(tuple(RawWord(t, 0.9, (0, 0, 1, 1)) for t in ln.split()), (0, 0, 1, 1)) for ln in lines]]


@pytest.mark.parametrize("lines, expected, n", [
    (["it is obvious 'that the intention"], ["it is obvious that the intention"], 1),
    (["villages and towns' along the front"], ["villages and towns along the front"], 1),
    (["auf eine \"seite, aeltere Leute"], ["auf eine seite, aeltere Leute"], 1),
    (["known to \" everyone"], ["known to everyone"], 1),
    (["\"", "next line"], ["next line"], 1),  # a line that was only a stray quote goes
    (["As the \"kultusgemeinde\" was closed"], ["As the \"kultusgemeinde\" was closed"], 0),
    (["a 'divorced' woman", "of one's own at o'clock"], ["a 'divorced' woman", "of one's own at o'clock"], 0),
    (["he wrote: \"we shall go", "on the next day.\" Then"], ["he wrote: \"we shall go", "on the next day.\" Then"], 0),
    (["\"one\" and \"two"], ["\"one\" and two"], 1),
])
def test_quotes_that_pair_with_none_are_dropped(lines, expected, n):
    out, dropped = drop_stray_quotes(quoted(*lines))
    assert [ln.text for b in out for ln in b] == expected and dropped == n


def test_a_quotation_longer_than_the_span_is_not_paired():
    from ocr.typed.punctuation import QUOTE_SPAN

    long = "\"" + " ".join(["word"] * (QUOTE_SPAN + 2)) + "\""
    out, dropped = drop_stray_quotes(quoted(long))
    assert dropped == 2 and '"' not in out[0][0].text


@pytest.mark.parametrize("line, lang, expected", [
    ("bedingt erforderlich, Ebenso muss", "deu", "bedingt erforderlich. Ebenso muss"),
    ("Hilfstruppe gebildet, Auf den", "deu", "Hilfstruppe gebildet. Auf den"),
    ("nicht entbehrt werden, Sie ist", "deu", "nicht entbehrt werden, Sie ist"),  # "Sie": anywhere capitalised
    ("die Kinder, Frauen und", "deu", "die Kinder, Frauen und"),  # a noun
    ("sagte er, die Frau", "deu", "sagte er, die Frau"),  # lower case: a relative clause
    ("1,5 Liter, Der", "deu", "1,5 Liter. Der"),
    ("was closed, The leaders", "eng", "was closed. The leaders"),
    ("was closed, The leaders", "deu+eng", "was closed. The leaders"),
    ("закрыт, После этого", "rus", "закрыт, После этого"),  # no list for Russian
])
def test_a_comma_before_a_word_capitalised_only_at_a_sentence_start_is_a_stop(line, lang, expected):
    out, n = stops_before_sentence_starts(quoted(line), lang)
    assert out[0][0].text == expected and n == (line != expected)


def test_a_comma_ending_a_line_stays():
    out, n = stops_before_sentence_starts(quoted("Liebe Schwester,", "Ich komme morgen"), "deu")
    assert n == 0 and out[0][0].text == "Liebe Schwester,"


@pytest.mark.parametrize("lines, lang, expected", [
    (["In May I was to be. arrested and"], "eng", ["In May I was to be arrested and"]),
    (["the names of the members.", "of the committee"], "eng", ["the names of the members", "of the committee"]),
    (["was closed. The leaders"], "eng", ["was closed. The leaders"]),  # a capital: a sentence starts
    (["apples, pears etc. were sold"], "eng", ["apples, pears etc. were sold"]),  # an abbreviation
    (["Kleider usw. lagen dort"], "deu", ["Kleider usw. lagen dort"]),
    (["die Sachen werden. wir kommen"], "deu", ["die Sachen werden wir kommen"]),
    (["of the xqzt. camp"], "eng", ["of the xqzt. camp"]),  # no word: perhaps an abbreviation
    (["in the camp. xqzt"], "eng", ["in the camp. xqzt"]),  # the next is no word: a misread capital?
    (["a. to hold one job.", "b. to enlarge"], "eng", ["a. to hold one job.", "b. to enlarge"]),
    (["5 тыс. рублей в месяц"], "rus", ["5 тыс. рублей в месяц"]),  # Russian abbreviates so: left alone
    (["closed. the camp"], "xyz", ["closed. the camp"]),
])
def test_a_stop_between_two_small_letter_words_is_dropped(lines, lang, expected):
    out, n = drop_stray_stops(quoted(*lines), lang)
    assert [ln.text for ln in out[0]] == expected
    assert n == sum(a != b for a, b in zip(lines, expected, strict=True))
