"""A stamp's text: a round stamp's ring text unwrapped into a straight strip and its centre read apart; any
other stamp turned upright and read as a block.

Round stamps carry their text on an arc between two rings ("ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС") and a few straight
lines in the middle ("АРХИВ", "№ 5734"); read as they stand, the arc gives letters at every angle, which no
line reader reads. The ring is found in the stamp's ink (a Hough circle, then the outermost ring about its
centre), unwrapped with ``cv2.warpPolar`` (clockwise, letter tops outward: the way such text is set), the
band between the outer and the inner ring kept and the rings' ink painted over, and the strip cut where the
stamp's own ink leaves the widest gap, where its text begins and ends. An oval stamp's ring (an ellipse
fitted to its outline) is stretched round first and read the same way.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import cv2
import numpy as np

from ..colour import to_grey
from ..engines.base import RawLine, RawWord, in_scripts
from ..errors import EngineError
from .candidates import ink_mask
from .handwriting import crop_angle, rotate
from .inksep import CLASSES, crop_probs
from .rings import refine_ring
from .ring_strip import coloured_ink, find_oval, find_ring, grown, oval_round, padded, ring_strip
from .roman import shaped_date
from .struck import struck_once
from ..typed.lexicon import common_word, nearest_word

WORD_CONF = 0.3  # a stamp's word read at least this surely, with two letters or digits, is legible

RING_WORD_CONF = 0.1  # a ring word read at least this surely is kept: an unwrapped arc's letters are read less
# surely than straight ones (tuning reels, seed 2000 and the demo: ring text CER 0.48 at 0.3, 0.36 at 0.1,
# 0.32 at 0, which keeps Tesseract's every zero-confidence guess)

RING_KNOWN_LETTERS = 4  # ... as is one read less surely that is a common word this long at least

CENTRE = 0.6  # the centre text lies within this share of the radius



def _words(lines, least: float = WORD_CONF) -> list[tuple[str, float]]:
    """The legible words of ``lines``: read at least ``least`` surely, with two letters or digits, or a number
    sign standing before a number ("№ 5734": the sign, a word of its own, has no letter)."""
    out = []
    for ln in lines:
        for i, w in enumerate(ln.words):
            sign = w.text == "№" and i + 1 < len(ln.words) and any(ch.isdigit() for ch in ln.words[i + 1].text)
            if w.conf >= least and (sign or sum(ch.isalnum() for ch in w.text) >= 2):
                out.append((w.text, w.conf))
    return out


def _ring_words(lines, langs: tuple[str, ...]) -> list[tuple[str, float]]:
    """A ring's legible words, each spelt as the common word one letter away where no word list of ``langs``
    knows it (``nearest_word``): those read at least ``RING_WORD_CONF`` surely, and less surely ones that are
    then common words of four letters or more (Tesseract reads an unwrapped arc's word right at 0.0 at
    times: "ЦЕНТРАЛЬНЫЙ")."""
    spelt = [(nearest_word(t, langs), c) for t, c in _words(lines, 0.0)]
    return [(t, c) for t, c in spelt if c >= RING_WORD_CONF or common_word(t, langs, RING_KNOWN_LETTERS)]


def legible(texts: list[str]) -> int:
    """The letters and digits of the words of ``texts`` that have two or more."""
    return sum(n for t in texts for n in (sum(ch.isalnum() for ch in w) for w in t.split()) if n >= 2)


def _line(words: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return [(" ".join(t for t, _ in words), float(np.mean([c for _, c in words])))] if words else []


def _read(engine, grey: np.ndarray, psm: int, lang: str | None = None):
    """The lines ``engine`` reads in ``grey`` (in another language than the page's where given); none where it
    cannot read a piece of the page, or that language."""
    read = getattr(engine, "read_lines", None)
    if read is None or min(grey.shape[:2]) < 8:
        return []
    grey = np.ascontiguousarray(grey)
    try:
        if lang is None:
            return read(grey, psm)
        try:
            return read(grey, psm, lang=lang)
        except TypeError:  # an engine whose read_lines takes no language
            return []
    except EngineError:
        return []


# a date whose month did not read as one is read again in Latin letters (a Russian model reads the Roman month
# "VII" as "Ми", "XII" as "ХН", or leaves it out: "17 1955"; with only digits and I, V, X allowed the English
# one read fewer months right on the tuning reels: 8 of 16 dates against 9)
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def months(text: str) -> set[int]:
    """The months the date of ``text`` may have: one, as read; two where a Roman month's strokes were read
    as "И", two strokes or three ("27 И 1953": II or III; "17 ХИ 1955": only XII is a month); none
    without a date."""
    m = _DATE.search(_unglued(text))
    if not m:
        return set()
    if _in_digits(m) or "И" not in m.group(2):
        return {_month(m)} - {0}
    return {v for v in (ROMAN.get(m.group(2).replace("И", k).translate(_ROMAN_LOOKALIKE), 0)
                        for k in ("II", "III")) if v}


def wants_date(text: str) -> bool:
    """Whether a stamp's line holds a year but gives no date (its day or month misread or left out), or a
    date whose month may be either of two."""
    return bool(_YEAR.search(text)) and ("date" not in fields([text]) or len(months(text)) > 1)


def dates_again(engine, upright: np.ndarray, lines: list[tuple[str, tuple[int, int, int, int]]]) -> dict[int, str]:
    """Index -> the date, read again, for ``lines`` (text, box in ``upright``, the stamp turned upright).
    First every line with a year whose Roman month the shapes of its strokes give otherwise than it was read
    (``roman.shaped_date``: "18 1954" -> "18 III 1954", "6 X 1954" -> "6 IX 1954"); where none, the first
    line that holds a year but gives no date, or a month that may be either of two: the whole stamp read in
    Latin letters (the day or month left out lies beside the year), else that line alone. A month read
    again must be one of the two. (Without this second reading, the dates of tuning reels 42000, 43000 and
    the demo reel: 31 of 34 against 34 with it.)"""
    shaped = {}
    for i, (text, (x0, y0, x1, y1)) in enumerate(lines):
        if _YEAR.search(text) or _GLUED.match(text):
            again = shaped_date(upright[max(0, y0 - 4):y1 + 4, max(0, x0 - 4):x1 + 4], text)
            if again is not None and fields([again]).get("date") != fields([text]).get("date"):
                shaped[i] = again
    if shaped:
        return shaped
    want = [i for i, (text, _) in enumerate(lines) if wants_date(text)]
    if not want:
        return {}

    def fits(i: int, again: str) -> bool:
        may = months(lines[i][0])
        return "date" in fields([again]) and (len(may) < 2 or months(again) <= may)

    for ln in _read(engine, upright, 6, lang="eng"):
        m = _DATE.search(" ".join(w.text for w in ln.words))
        if m and fits(want[0], m.group(0)):
            return {want[0]: m.group(0)}
    for i in want:
        x0, y0, x1, y1 = lines[i][1]
        piece = upright[max(0, y0 - 4):y1 + 4, max(0, x0 - 4):x1 + 4]
        again = " ".join(w.text for ln in _read(engine, piece, 7, lang="eng")
                         for w in ln.words)
        if fits(i, again):
            return {i: again}
    return {}


class StampReading(NamedTuple):
    lines: list[tuple[str, float]]  # legible lines: (text, mean word confidence)
    raw: list[str]  # every line as read, unsure words too
    round: bool  # a round stamp: its ring text, then its centre; otherwise its lines read as a block
    ring_lines: int = 0  # how many of ``lines`` are the ring's text (the first)
    centre: tuple[int, int, int, int] | None = None  # a round stamp's centre read, in the page's pixels


def centre_box(cx: float, cy: float, c: int) -> tuple[int, int, int, int]:
    """The square of side 2 ``c`` about a round stamp's centre (``cx``, ``cy``), within the crop's top and left."""
    return max(0, int(cx) - c), max(0, int(cy) - c), int(cx) + c, int(cy) + c


def centre_disc(grey: np.ndarray, cx: float, cy: float, c: int, paper: int) -> np.ndarray:
    """The square of ``centre_box`` in ``grey``, paper beyond the radius ``c`` of the centre (``cx``, ``cy``): the corners hold arcs of the rings and of the ring text, which turned the centre's angle
    away from its lines' and were read as words. Its lines run across it, whatever the extent of its ink
    (a stroke through it may be higher than they are wide): they are levelled by near-level turns only."""
    x0, y0, x1, y1 = centre_box(cx, cy, c)
    middle = grey[y0:y1, x0:x1].copy()
    yy, xx = np.ogrid[:middle.shape[0], :middle.shape[1]]
    middle[(yy + y0 - cy) ** 2 + (xx + x0 - cx) ** 2 > c * c] = paper
    return middle


TYPED_INK = 0.5  # on a colour scan, stamp ink the separation network calls typed more surely than this (and more
# than stamp) is typing behind the stamp, painted out before the stamp is read


def without_typing(crop: np.ndarray, paper: int, separator) -> np.ndarray:
    """A colour scan's stamp ``crop`` (BGR) with the typing behind it painted paper: the ink the ink separation
    network (``separator()``: an ``inksep.InkSeparator``) calls typed. On a grey scan, or a stamp whose ink
    is mostly grey, as it is: without colour the network took stamp letters for typing (tuning reel 2000:
    stamp CER 23.63 -> 29.22 %)."""
    if separator is None or crop.ndim != 3 or min(crop.shape[:2]) < 16:
        return crop
    ink = ink_mask(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)) > 0
    if coloured_ink(crop, ink) is None:
        return crop
    typed, stamp = crop_probs(separator(), crop, CLASSES.index("typed"), CLASSES.index("stamp"))
    out = crop.copy()
    out[ink & (typed > stamp) & (typed > TYPED_INK)] = paper
    return out


def read_stamp(image: np.ndarray, box: tuple[int, int, int, int], engine, separator=None,
               langs: tuple[str, ...] = ()) -> StampReading:
    """The legible text of the stamp in ``box`` of the page ``image`` (grey or BGR) as lines of (text, mean
    word confidence): a round stamp's ring text, then its centre; any other stamp's lines turned upright.
    Second, every line as read, unsure words too, for its registry ``fields`` (a date's pattern is check
    enough: "17 XII 1955" is often read at under the legibility threshold). None where the engine cannot
    read a piece of the page. With ``separator`` (a function giving the ink separation network), a colour
    stamp is read without the typing behind it (``without_typing``). A ring's words that no word list of
    ``langs`` (wordfreq codes) knows are spelt as the common word one letter away (``nearest_word``:
    "МЕнтРАЛЬный" -> "ЦЕНТРАЛЬНЫЙ"; tuning reels' stamp edits 404 -> 394). An oval stamp is read from its crop
    stretched round (``_stamp_crop``), its centre's box mapped back to the page."""
    crop, grey, paper, (x0, y0), ring, back = _stamp_crop(image, box, separator)
    if crop is None:
        return StampReading([], [], False)
    parts = []  # (lines read, one line of them all?) per piece
    if ring is None:
        upright = rotate(grey, crop_angle(grey), paper)[0]
        lines = _read(engine, upright, 6)
        for i, again in dates_again(engine, upright, [(" ".join(w.text for w in ln.words), ln.box)
                                                      for ln in lines]).items():  # the date as one word
            ln = lines[i]
            lines[i] = RawLine((RawWord(again, max(w.conf for w in ln.words), ln.box),), ln.box)
        parts.append((lines, False))
    else:
        cx, cy, r = ring
        parts.append((_read(engine, ring_strip(crop, ring), 6), True))
        c = int(r * CENTRE)
        cb = centre_box(cx, cy, c)
        middle = centre_disc(grey, cx, cy, c, paper)
        parts.append((_read(engine, rotate(middle, crop_angle(middle, across=True), paper)[0], 6), False))
    out, raw, ring_lines = [], [], 0
    for lines, joined in parts:
        raw += [" ".join(wd.text for wd in ln.words) for ln in lines]
        if joined:  # a ring word no word list knows, one letter from a common word, is that word
            arc = _line(_ring_words(lines, langs))
            out, ring_lines = out + arc, len(arc)
            continue
        for ln in lines:  # a date's line whole (its pattern is check enough), others' legible words
            text = " ".join(wd.text for wd in ln.words)
            dated = "date" in fields([text])
            out += [(with_roman_month(text), float(np.mean([wd.conf for wd in ln.words])))] if dated else \
                _line(_words([ln]))
    if ring is None:
        return StampReading(out, raw, False)
    if back is not None:  # the centre's square in the oval's crop, through the stretch back
        corners = np.array([[cb[0], cb[1]], [cb[2], cb[1]], [cb[0], cb[3]], [cb[2], cb[3]]], float) @ back[:, :2].T
        (bx0, by0), (bx1, by1) = corners.min(axis=0) + back[:, 2], corners.max(axis=0) + back[:, 2]
        cb = (int(bx0), int(by0), int(np.ceil(bx1)), int(np.ceil(by1)))
    return StampReading(out, raw, True, ring_lines, (x0 + cb[0], y0 + cb[1], x0 + cb[2], y0 + cb[3]))


OVAL_SHARPER = 0.05  # the circle the oval was stretched to, moved to the sharp ring of about its radius (within
# this share) that ``rings.refine_ring`` finds about it: the fit's circle off the ring by a pixel or two spread
# the ring's line over the strip's rows, and its letters were read as scraps (worn reel 40000, p. 13)


def _stamp_crop(image: np.ndarray, box: tuple[int, int, int, int], separator):
    """(crop, its grey, paper's grey, the crop's top left in the page, ring, map back): the stamp at ``box`` cut
    out of ``image`` with a little paper round it, the typing behind it painted over (``without_typing``) and a
    second strike's fainter copy too (``struck.struck_once``), its ring by ``find_ring`` (centre x, y, radius in
    the crop's pixels, or None) and None. For an oval stamp
    (``find_oval``, looked for in the box grown, ``ring_strip.grown``), the grown box's crop stretched until the
    oval is round (``oval_round``), the circle it became, and the 2x3 map from the stretched crop's pixels
    back to the grown box's. (None, ...) for an empty box."""
    crop, outer = padded(image, box)
    x0, y0 = outer[:2]
    grey = to_grey(crop, drop_colour=False)
    if grey.size == 0:
        return None, None, 0, (x0, y0), None, None
    paper = int(np.percentile(grey, 90))
    crop = struck_once(without_typing(crop, paper, separator), paper)
    grey = to_grey(crop, drop_colour=False)
    ring = find_ring(grey)
    big, (bx0, by0), middle = grown(image, outer)
    oval = find_oval(big, middle, None if ring is None else (ring[0] + x0 - bx0, ring[1] + y0 - by0, ring[2]))
    if oval is None:
        return crop, grey, paper, (x0, y0), ring, None
    stretched, (cx, cy, r), back = oval_round(struck_once(without_typing(big, paper, separator), paper), oval, paper)
    grey = to_grey(stretched, drop_colour=False)
    sharp = refine_ring(ink_mask(grey) > 0, cx, cy, r)  # the fit's circle drawn sharper, where it can be
    if sharp[3] and abs(sharp[2] - r) <= OVAL_SHARPER * r:
        cx, cy, r = sharp[:3]
    return stretched, grey, paper, (bx0, by0), (cx, cy, r), back


ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11,
         "XII": 12}

# what a reader gives for the Latin letters of a Roman month: Cyrillic look-alikes, a digit one for I, П, Н or И
# for II, Ш for III
_ROMAN_LOOKALIKE = str.maketrans({"Х": "X", "х": "X", "x": "X", "І": "I", "і": "I", "i": "I", "1": "I", "l": "I",
                                  "|": "I", "П": "II", "Н": "II", "И": "II", "Ш": "III", "У": "V", "v": "V"})

_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[.\s]\s*([IVXivxlХхІіПНИШУ1|]{1,4}|\d{1,2})\s*[.\s]\s*(1[89]\d\d|20\d\d)(?!\d)")
# a date stamp's line of a day, a Roman month of strokes and the year, the strokes read as ones and the spaces
# lost ("2611956": 26 I 1956); only a line that is nothing else (a registry number has no year in it)
_GLUED = re.compile(r"^\s*(\d{2,5}?)(1[89]\d\d|20\d\d)\s*$")


def _unglued(text: str) -> str:
    """``text``, where it is a date read with its Roman month's strokes as ones and no spaces, spaced as written
    ("2611956" -> "26 I 1956", "411955" -> "4 I 1955"): where the digits before the year split into a day
    and one to three ones in one way only. As it is otherwise: "2111955" may be 21 I or 2 II."""
    m = _GLUED.match(text)
    if not m:
        return text
    head = m.group(1)
    splits = [(head[:-k], k) for k in (1, 2, 3)
              if len(head) - k in (1, 2) and head.endswith("1" * k) and head[0] != "0"
              and 1 <= int(head[:-k]) <= 31]
    if len(splits) != 1:
        return text
    day, ones = splits[0]
    return f"{day} {'I' * ones} {m.group(2)}"


_NUMBER = re.compile(r"№\s*(\d{2,7})|^\s*(\d{3,7})\s*$")


def _month(m: re.Match) -> int:
    """The month of a ``_DATE`` match: digits, or a Roman numeral in look-alike letters. A month of ones
    between spaces is a Roman month of strokes read as ones ("12 11 1956": II; "28 111 1955": III); between
    dots it is digits ("17.11.1955": November)."""
    text = m.group(2)
    return int(text) if _in_digits(m) else ROMAN.get(text.translate(_ROMAN_LOOKALIKE), 0)


def _in_digits(m: re.Match) -> bool:
    text = m.group(2)
    return text.isdigit() and int(text) <= 12 and not (set(text) <= {"1"} and "." not in m.group(0))


def with_roman_month(text: str) -> str:
    """``text`` with its date's month, where read in look-alike letters ("17 ХП 1955", "12 11 1956"), written
    in Roman numerals ("17 XII 1955", "12 II 1956", "2611956": "26 I 1956"); as it is otherwise."""
    text = _unglued(text)
    m = _DATE.search(text)
    if not m:
        return text
    month = _month(m)
    if not 1 <= month <= 12 or _in_digits(m):
        return text
    roman = next(k for k, v in ROMAN.items() if v == month)
    return text[:m.start(2)] + roman + text[m.end(2):]


_CYRILLIC = ("CYRILLIC",)  # (``engines.base.scripts``' name for the script)


def _cyrillic(ch: str) -> bool:
    return ch.isalpha() and in_scripts(ch, _CYRILLIC)


def set_in_capitals(texts: list[str]) -> bool:
    """Whether a stamp's lines are read with at least as many Cyrillic capitals as small letters, some small:
    a stamp is set in capitals, and Tesseract reads a capital whose small letter has its shape (к, п, с, ц)
    as the small letter where it stands a little lower or smaller ("цк кпсс" beside "ОБЩИЙ ОТДЕЛ")."""
    upper = sum(ch.isupper() for t in texts for ch in t if _cyrillic(ch))
    lower = sum(ch.islower() for t in texts for ch in t if _cyrillic(ch))
    return 0 < lower <= upper


def capitals(text: str) -> str:
    """``text`` with its Cyrillic letters in capitals (Latin ones, a date's Roman month, as they are)."""
    return "".join(ch.upper() if _cyrillic(ch) else ch for ch in text)


def fields(texts: list[str]) -> dict[str, str]:
    """A stamp's registry fields from its lines: ``number`` (after "№", or a line that is only a number, not
    one that looks like a year) and ``date`` as ISO 8601 ("17 XII 1955", "17.12.1955" -> "1955-12-17");
    only those found."""
    out: dict[str, str] = {}
    for t in map(_unglued, texts):
        m = _DATE.search(t)
        if m and "date" not in out:
            day, year = int(m.group(1)), int(m.group(3))
            month_n = _month(m)
            if 1 <= day <= 31 and 1 <= month_n <= 12:
                out["date"] = f"{year:04d}-{month_n:02d}-{day:02d}"
                t = t[:m.start()] + t[m.end():]
        m = _NUMBER.search(t)
        if m and "number" not in out and not (m.group(2) and _YEAR.fullmatch(m.group(2))):
            out["number"] = m.group(1) or m.group(2)
    return out
