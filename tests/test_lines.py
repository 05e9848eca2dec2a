"""Typed text or noise: the per-line decision of ``ocr.typed.lines.classify_lines`` (no engine needed)."""
from __future__ import annotations

from ocr.engines.base import RawLine, RawWord
from ocr.typed.lines import classify_lines, trim_line


def line(y: int, texts: list[str], heights: list[int], conf: float) -> RawLine:
    words, x = [], 100
    for t, h in zip(texts, heights, strict=True):
        words.append(RawWord(t, conf, (x, y, x + 20 * len(t), y + h)))
        x += 20 * len(t) + 20
    return RawLine(tuple(words), (100, y, x, y + max(heights)))


BODY = [line(100 + 50 * i, ["typed", "memo", "text", "of", "the", "page"], [30] * 6, 0.95) for i in range(6)]


def kept(extra: RawLine) -> bool:
    [rows] = classify_lines([BODY + [extra]])
    assert all(k for _, k in rows[:-1])  # the confident body stays
    return rows[-1][1]


def test_an_unsure_line_of_another_size_is_not_typed_text():
    assert not kept(line(600, ["Резолюция", "тов"], [60, 58], 0.7))  # a handwritten note read as type
    assert kept(line(600, ["Резолюция", "тов"], [31, 29], 0.7))  # the same words at the type's size
    assert kept(line(600, ["Резолюция", "тов"], [60, 58], 0.9))  # read surely: kept whatever its size


def test_a_line_read_fairly_surely_may_stand_taller():
    # a line in capitals, a speck over a word: boxes 1.5 times the type's height, read at 0.75
    assert kept(line(600, ["THE", "SECRETARY", "OF", "STATE,"], [45] * 4, 0.75))
    assert not kept(line(600, ["THE", "SECRETARY", "OF", "STATE,"], [45] * 4, 0.6))  # less surely: noise
    assert not kept(line(600, ["Резолюция", "тов"], [55, 55], 0.75))  # far taller: a hand


def test_scraps_of_a_stamp_read_as_short_words_are_not_typed_text():
    assert not kept(line(600, ["Se", "rN", "OF."], [30] * 3, 0.72))
    assert not kept(line(600, ["oO", "Su"], [30] * 2, 0.72))
    assert kept(line(600, ["Se", "rN", "OF."], [30] * 3, 0.8))  # read surely: kept
    assert kept(line(600, ["OF", "THE"], [30] * 2, 0.5))  # a heading's words in capitals
    assert kept(line(600, ["Busserl"], [30], 0.5))  # a word alone on its line
    assert kept(line(600, ["am", "12", "ab"], [30] * 3, 0.5))  # a number


def test_a_pencil_stroke_across_a_typed_line_does_not_make_it_noise():
    # four of six words have taller boxes where a pencil line crosses them: the lower quartile is the type's
    words = ["their", "wrath", "either", "actively", "on", "Jews"]
    assert kept(line(600, words, [30, 31, 52, 55, 58, 60], 0.75))
    assert not kept(line(600, words[:4], [52, 55, 58, 60], 0.75))  # short and all tall: a note


def test_too_few_letters_but_never_too_unsure():
    assert kept(line(600, ["typed", "text"], [30, 30], 0.05))  # type-sized: kept however unsure
    assert not kept(line(600, ["-", "3", "-"], [30, 30, 30], 0.9))  # fewer than min_line_letters (2)


def test_an_unsure_line_that_continues_its_block_is_typed_text():
    date = line(500, ["25", "февраля", "1954", "года"], [30] * 4, 0.95)
    number = line(545, ["Исх.", "91-О-8677"], [30] * 2, 0.25)  # a document number, read unsurely

    def decided(*lines):
        [rows] = classify_lines([BODY + list(lines)])
        return [k for _, k in rows[len(BODY):]]

    assert decided(date, number) == [True, True]
    [rows] = classify_lines([BODY + [date, number]])
    assert rows[-1][0].text == "Исх. 91-О-8677"
    assert decided(date, line(545, ["№", "91"], [30, 30], 0.05)) == [True, True]  # type-sized: however unsure
    # short unsure words (scraps of a stamp or a hand, "т.к. и пр.") are typed text only where they continue
    # the block: right under its last typed line and starting where it starts
    scraps = ["и", "пр", "т.д."]
    assert decided(date, line(545, scraps, [30] * 3, 0.25)) == [True, True]
    assert decided(date, line(700, scraps, [30] * 3, 0.25)) == [True, False]  # not right under
    indented = RawLine(tuple(RawWord(w.text, w.conf, (w.box[0] + 300, w.box[1], w.box[2] + 300, w.box[3]))
                             for w in line(545, scraps, [30] * 3, 0.25).words), (400, 545, 800, 575))
    assert decided(date, indented) == [True, False]  # not where the block's lines start
    assert decided(line(500, ["x"], [30], 0.2), line(545, scraps, [30] * 3, 0.25)) == [False, False]
    # under a paragraph's indented first line, a line starting at the margin continues it ...
    first = RawLine(tuple(RawWord(w.text, w.conf, (w.box[0] + 160, w.box[1], w.box[2] + 160, w.box[3]))
                          for w in date.words), (260, 500, 700, 530))
    assert decided(first, line(545, ["so", "wie", "es", "ist"], [30] * 4, 0.25)) == [True, True]
    assert decided(first, line(545, ["rs"], [30], 0.25)) == [True, False]  # ... a speck there does not
    # a bent line's boxes reach a few pixels into the next line's
    assert decided(first, line(527, ["so", "wie", "es"], [30] * 3, 0.27)) == [True, True]
    assert decided(first, line(515, ["so", "wie", "es"], [30] * 3, 0.27)) == [True, False]  # level with it


def test_a_document_number_under_the_date_is_kept_though_read_as_a_block_of_its_own_at_confidence_0():
    date = line(500, ["7", "февраля", "1957", "года"], [30] * 4, 0.96)

    def number(texts, sign_conf=0.96, y=545, x=100):
        words, x0 = [], x
        for i, t in enumerate(texts):  # the sign read surely, the number ("78-П-8483") at confidence 0
            # typed taller than the body (a stamp-like numbering machine): the height check alone would reject it
            words.append(RawWord(t, sign_conf if i == 0 else 0.0, (x0, y, x0 + 20 * len(t), y + 50)))
            x0 += 20 * len(t) + 20
        return RawLine(tuple(words), (x, y, x0, y + 50))

    def decided(num):
        rows = classify_lines([BODY + [date], [num]])  # Tesseract's blocks: the number alone
        return rows[1][0][1]

    assert decided(number(["№", "78-1-8483"]))
    assert decided(number(["№", "4", "с", "38"]))
    assert not decided(number(["№", "78-1-8483"], sign_conf=0.3))  # the sign itself unsure
    assert not decided(number(["№", "a", "b"]))  # no number
    assert not decided(number(["№", "78-1-8483"], y=700))  # not right under a typed line
    assert not decided(number(["№", "78-1-8483"], x=400))  # not where the date starts


def test_unsure_words_far_from_the_rest_of_the_line_are_trimmed_and_close_ones_are_not():
    from ocr.typed.lines import trim_line

    def w(t, conf, x0, x1, y0=1604, y1=1634):
        return RawWord(t, conf, (x0, y0, x1, y1))

    text = [w("able", 0.94, 71, 147), w("to", 0.96, 171, 213), w("read", 0.97, 234, 312), w("or", 0.96, 339, 374),
            w("write.", 0.95, 392, 512)]
    dirt = [w("!", 0.0, 937, 940, 1615, 1618), w("poe", 0.0, 1064, 1126, 1606, 1616), w(";", 0.16, 1473, 1475)]
    raw = RawLine(tuple(text + dirt), (71, 1604, 1475, 1635))
    trimmed = trim_line(raw, 0.7)
    assert trimmed.text == "able to read or write." and trimmed.box == (71, 1604, 512, 1634)
    # dirt far right of an unsure last word goes too; so does a run at the start
    far = [w("lps", 0.24, 993, 995, 1604, 1607), w("is", 0.3, 1068, 1071, 1620, 1624), w("PR", 0.38, 1109, 1133, 1590, 1638),
           w("eer", 0.22, 1144, 1190, 1620, 1624)]
    assert trim_line(RawLine(tuple(text[:4] + [w("engineer.", 0.47, 392, 560)] + far), raw.box), 0.7).text == \
        "able to read or engineer."
    assert trim_line(RawLine(tuple([w("mee", 0.2, 0, 40, 1610, 1620), w("xx", 0.1, 50, 60, 1612, 1620)] + [
        RawWord(x.text, x.conf, (x.box[0] + 400, *x.box[1:2], x.box[2] + 400, x.box[3])) for x in text]), raw.box),
        0.7).text == "able to read or write."
    # a typed name right of a signature's gap, read unsurely, is as tall as the line: it stays
    name = [w("(Я.", 0.5, 1900, 1960), w("5Атов)", 0.4, 1990, 2150)]
    assert trim_line(RawLine(tuple(text + name), raw.box), 0.7).text == "able to read or write. (Я. 5Атов)"
    # show-through beside a faint line's end, lower than the line's words, goes whatever its length or
    # confidence as a mark; a run of dots there is typed (an elision)
    faint = [w("to", 0.97, 23, 68, 486, 515), w("the", 0.97, 89, 157, 483, 515), w("separation.", 0.67, 190, 422, 483, 528)]
    show = [w("u", 0.0, 600, 610, 500, 512), w(">", 0.73, 700, 705, 505, 510), w("eden", 0.13, 800, 878, 500, 512)]
    assert trim_line(RawLine(tuple(faint + show), (23, 483, 878, 528)), 0.7).text == "to the separation."
    dots = [w("in", 0.9, 430, 460, 490, 515), w("ee...", 0.3, 480, 560, 505, 515)]
    assert trim_line(RawLine(tuple(faint + dots), (23, 483, 560, 528)), 0.7).text == "to the separation. in ee..."
    # an unsure word at a normal word space stays (the dots that stand for a blanked name)
    close = RawLine((w("..e..", 0.11, 10, 60),) + tuple(text), raw.box)
    assert trim_line(close, 0.7).text == "..e.. able to read or write."
    # only the smaller side of a gap goes: two unsure words far apart both stay
    two = RawLine((w("Resolution", 0.3, 71, 300), w("approved", 0.3, 900, 1100)), raw.box)
    assert trim_line(two, 0.7).text == "Resolution approved"
    # a paragraph's number at the line's start, as tall as its letters, is typed however unsure; a low one
    # is a speck, and so is a short unsure word there
    item = [w("4.", 0.69, 0, 44), w("Jews", 0.15, 110, 220), w("are", 0.96, 250, 330)]
    assert trim_line(RawLine(tuple(item), raw.box), 0.7).text == "4. Jews are"
    assert trim_line(RawLine((w("4.", 0.69, 0, 44, 1620, 1634),) + tuple(item[1:]), raw.box), 0.7).text == "Jews are"
    assert trim_line(RawLine((w("ie", 0.5, 0, 44),) + tuple(item[1:]), raw.box), 0.7).text == "Jews are"


def test_other_ink_read_into_a_typed_line_leaves_it_and_a_tall_sure_word_is_cut_to_the_line():
    from ocr.typed.lines import tall_words

    def w(t, conf, x0, x1, y0=1480, y1=1530):
        return RawWord(t, conf, (x0, y0, x1, y1))

    # "Референт Отдела ЦК ==) а (О. Григорьев)": a stamp's ring read as two words 380 and 170 px tall
    typed = [w("Референт", 0.96, 305, 542), w("Отдела", 0.94, 576, 753), w("ЦК", 0.96, 784, 841)]
    ring = [w("==)", 0.29, 875, 1229, 1471, 1852), w("а", 0.29, 1240, 1300, 1472, 1641)]
    name = [w("(О.", 0.9, 1813, 1882, 1494, 1540), w("Григорьев)", 0.93, 1927, 2214, 1494, 1551)]
    raw = RawLine(tuple(typed + ring + name), (305, 1471, 2214, 1852))
    out = tall_words(raw)
    assert out.text == "Референт Отдела ЦК (О. Григорьев)" and out.box == (305, 1480, 2214, 1551)
    # read surely, a word whose box took in a stroke keeps its text, its box cut to the line's band
    stroke = RawLine(tuple(typed + [w("КПСС", 0.9, 875, 1000, 1400, 1600)] + name), raw.box)
    out = tall_words(stroke)
    assert out.text == "Референт Отдела ЦК КПСС (О. Григорьев)"
    assert out.words[3].box == (875, 1480, 1000, 1551) and out.box == (305, 1480, 2214, 1551)
    # unsure and 2-3 times the line's height, it is a typed word a stroke crossed (EHRI: "Regierung"): cut, kept
    crossed = RawLine(tuple(typed + [w("Regierung", 0.16, 875, 1100, 1440, 1560)] + name), raw.box)
    out = tall_words(crossed)
    assert out.text == "Референт Отдела ЦК Regierung (О. Григорьев)" and out.words[3].box == (875, 1480, 1100, 1551)
    # a line of ordinary words, and one of fewer than three words, stay as they are
    assert tall_words(RawLine(tuple(typed + name), raw.box)) == RawLine(tuple(typed + name), raw.box)
    short = RawLine((typed[0], ring[0]), raw.box)
    assert tall_words(short) is short
    # the line decision judges the line without the ring's words: an unsure ring read as a long word no
    # longer sinks the line's confidence below the bar
    low = [RawWord(x.text, 0.62, (x.box[0], 600, x.box[2], 630)) for x in typed + name]
    assert kept(RawLine(tuple(low[:3] + [RawWord("==)==)==)==)==)==)==", 0.0, (875, 480, 1229, 900))] + low[3:]),
                        (305, 480, 2214, 900)))


def test_a_page_number_read_unsurely_is_kept_as_one_and_other_short_lines_are_not():
    size = (1800, 3000)

    def short(text, x0, y0, conf=0.1):
        return RawLine((RawWord(text, conf, (x0, y0, x0 + 80, y0 + 30)),), (x0, y0, x0 + 80, y0 + 30))

    def decide(extra):
        [rows] = classify_lines([[extra] + BODY], size)
        return rows[0]

    ln, ok = decide(short("~ 2)", 860, 60))  # top centre, as typists number pages
    assert ok and ln.text == "- 2 -" and [w.text for w in ln.words] == ["-", "2", "-"]
    ln, ok = decide(short("7", 900, 2900))  # bottom centre, no dashes
    assert ok and ln.text == "7"
    assert not decide(short("~ 2)", 860, 1500))[1]  # mid-page: a speck and a digit, not a page number
    assert not decide(short("-3-", 60, 60))[1]  # in the corner: a file mark, not centred
    ln, ok = decide(short("B. 3", 860, 60))  # letters: not a bare number; type-sized, so kept as read
    assert ok and ln.text == "B. 3"
    [rows] = classify_lines([[short("~ 2)", 860, 60)] + BODY])  # no page size: no rule
    assert not rows[0][1]


def test_a_closing_mark_typed_after_a_space_stays_a_speck_beyond_the_line_goes():
    words = [RawWord("notre", 0.9, (0, 10, 100, 40)), RawWord("route", 0.9, (120, 10, 220, 40))]
    stop = RawWord(".", 0.5, (235, 34, 242, 40))  # French typists' "route ." at 0.5: on the baseline, near
    assert trim_line(RawLine.of(words + [stop]), 0.7).text == "notre route ."
    far = RawWord(".", 0.5, (400, 34, 407, 40))  # a speck of dirt well beyond the line's end
    high = RawWord(".", 0.5, (235, 5, 242, 12))  # a speck above the line, not on its baseline
    assert trim_line(RawLine.of(words + [far]), 0.7).text == "notre route"
    assert trim_line(RawLine.of(words + [high]), 0.7).text == "notre route"
