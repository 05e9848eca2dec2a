"""The line decision: which lines Tesseract read are typewritten text, which are scraps of a stamp, a hand
or a speck (kept in PAGE as rejected lines, with the reason), and the words trimmed off a line's ends."""
from __future__ import annotations

import re

import numpy as np

from ..engines.base import RawLine, RawWord
from .pagenumber import page_number

MIN_LINE_LETTERS = 2  # a typed line has at least this many letters or digits
EDGE_WORD_CONF = 0.7  # short or letterless words at a line's ends read less surely are specks (0: off)
# an unsure line's type height is the page's within this share (typewriter type has one size; stamps and
# hands do not); 0: no height check
MAX_HEIGHT_DEVIATION = 0.4
SPECK_GAP = 4.0  # unsure words this many word heights apart from the rest of their line ...


SPECK_LOW = 0.6  # ... and lower than this share of its words' height are specks


SPECK_MARK_CONF = 0.9  # a mark (no letter) that low at a line's end is a speck unless read this surely


# a paragraph's number at a line's start ("4.", "5,"), as tall as the line's letters, is typed, however unsure
ITEM_NUMBER = re.compile(r"^\d{1,2}[.,)]?$")


ITEM_HEIGHT = 0.8  # (this share of the line's median word height)


def item_number(words: list[RawWord]) -> bool:
    """Whether the first of a line's ``words`` is a paragraph's number as tall as the line's letters."""
    first = words[0]
    return (len(words) > 1 and bool(ITEM_NUMBER.match(first.text))
            and first.box[3] - first.box[1] >= ITEM_HEIGHT * word_height(words))


def trim_line(raw: RawLine, edge_conf: float) -> RawLine | None:
    """Drop unsure specks at the ends of a line: short or letterless words below ``edge_conf``, and a run
    of unsure, low words at either end set off from the rest by a gap wider than ``SPECK_GAP`` word
    heights (dots and dirt far right of a paragraph's last line read as "! poe ;"; a typed name right of
    a signature's gap, read unsurely, is as tall as the rest and stays)."""
    words = list(raw.words)
    low = SPECK_LOW * word_height(words) if words else 0.0

    def speck(w) -> bool:
        # show-through or dirt beside a faint line's end ("paration. u > eden"); a run of dots stands low
        # too, and is typed (an elision, "in ...."), even where it is misread ("ee...")
        short = w.box[3] - w.box[1] < low and ".." not in w.text
        letterless = not any(c.isalnum() for c in w.text)
        return ((w.conf < edge_conf and (len(w.text) <= 2 or letterless or short))
                or (letterless and short and w.conf < SPECK_MARK_CONF))

    def dirt(run, rest) -> bool:  # unsure and low: specks, not a typed name right of a signature's gap
        return all(w.conf < edge_conf for w in run) and word_height(run) < SPECK_LOW * word_height(rest)

    wide = SPECK_GAP * word_height(words) if words else 0.0
    n = -1
    while words and len(words) != n:
        n = len(words)
        while words and speck(words[0]) and not item_number(words) and not letter_spaced(words, 0):
            words.pop(0)
        while (words and speck(words[-1]) and not letter_spaced(words, len(words) - 1)
               and not spaced_mark(words)):
            words.pop()
        gaps = [i for i in range(1, len(words)) if words[i].box[0] - words[i - 1].box[2] > wide]
        if gaps and gaps[-1] > len(words) - gaps[-1] and dirt(words[gaps[-1]:], words[:gaps[-1]]):
            words = words[:gaps[-1]]
        elif gaps and gaps[0] < len(words) - gaps[0] and dirt(words[:gaps[0]], words[gaps[0]:]):
            words = words[gaps[0]:]
    if not words:
        return None
    if len(words) == len(raw.words):
        return raw
    return RawLine.of(words)


TALL_WORD = 2.0  # a word this many times as tall as its line's median word has other ink in its box ...


TALL_INK = 3.0  # ... and one this many times as tall, read below TALL_WORD_CONF, is that ink (a stamp's ring,


TALL_WORD_CONF = 0.5  # a hand's stroke), not type (typed words crossed by a stroke came at 2-3 times on EHRI)


def tall_words(raw: RawLine) -> RawLine:
    """The line less the other ink read into it. A stamp's ring or a signature's stroke crossing a typed line
    is read as a word of its own ("==)", 380 px tall on a 45 px line) or into a word's box. A word much
    taller than the line's others (``TALL_WORD``) is cut to the band the others fill: otherwise the line's
    box spans the stamp, and the paragraph grouping and the layout stage took the stamp for the line. One
    taller still (``TALL_INK``) and read unsurely (``TALL_WORD_CONF``) is dropped: its ink goes to the
    layout stage, and the line decision judges the line without it."""
    if len(raw.words) < 3:
        return raw
    limit = TALL_WORD * word_height(raw.words)
    normal = [w for w in raw.words if w.box[3] - w.box[1] <= limit]
    if len(normal) == len(raw.words):
        return raw
    top, bottom = min(w.box[1] for w in normal), max(w.box[3] for w in normal)
    ink = TALL_INK / TALL_WORD * limit
    words = tuple(w if w.box[3] - w.box[1] <= limit else RawWord(w.text, w.conf, (w.box[0], top, w.box[2], bottom))
                  for w in raw.words if w.box[3] - w.box[1] <= ink or w.conf >= TALL_WORD_CONF)
    return RawLine(words, (min(w.box[0] for w in words), top, max(w.box[2] for w in words), bottom))


def word_height(words) -> float:
    """The median height of words (``RawWord``)."""
    return float(np.median([w.box[3] - w.box[1] for w in words]))


SURE_HEIGHT_CONF = 0.7  # a line read this surely (and below 0.85, which skips the height check) ...


SURE_HEIGHT_SLACK = 1.75  # ... may deviate from the page's type height this many times MAX_HEIGHT_DEVIATION


FAINT_MIN_CONF = 0.1  # an unsure line is still typed text when it continues its block (``_continues_block``)


INDENT = 8.0  # a paragraph's first line is indented at most this many type heights


def _type_height(raw: RawLine) -> float:
    """The line's word height as its type's: the median, or for a line of five words and more the lower
    quartile (a pencil stroke or underline across a typed line makes the boxes of the words it touches
    taller; a handwritten note read as type is rarely that long)."""
    heights = [w.box[3] - w.box[1] for w in raw.words]
    return float(np.percentile(heights, 25 if len(heights) >= 5 else 50))


def classify_lines(blocks: list[list[RawLine]],
                   size: tuple[int, int] | None = None) -> list[list[tuple[RawLine, bool]]]:
    """Typed text or noise (stamps, handwriting, specks read as garbage)? Per line, in block order.

    A line is typed text when it has ``MIN_LINE_LETTERS`` letters and, unless it
    is read with high confidence, its word height is within ``MAX_HEIGHT_DEVIATION``
    of the page's confident lines (typewriter type has one size; stamps and hands
    do not), and it is not scraps (``_scraps``). However unsure it was read: when in
    doubt, typed-looking text is kept (a confidence threshold did not pay on pages
    it was not tuned on).
    """
    trimmed = [[tall_words((trim_line(ln, EDGE_WORD_CONF) if EDGE_WORD_CONF else ln) or ln) for ln in b]
               for b in blocks]
    median_h = page_type_height(trimmed)
    out = []
    for b, tb in zip(blocks, trimmed, strict=True):
        row = []
        for raw, ln in zip(b, tb, strict=True):
            letters = sum(ch.isalnum() for ch in ln.text)
            ok = letters >= MIN_LINE_LETTERS
            if ok and MAX_HEIGHT_DEVIATION and median_h and ln.conf < 0.85:
                # a line read fairly surely may stand taller: a speck over a word, a line in capitals
                dev = MAX_HEIGHT_DEVIATION * (SURE_HEIGHT_SLACK if ln.conf >= SURE_HEIGHT_CONF else 1.0)
                ok = abs(_type_height(ln) / median_h - 1) <= dev
            if ok and ln.conf < SCRAPS_CONF and _scraps(ln):
                ok = False
            if not ok and median_h and letters >= MIN_LINE_LETTERS and ln.conf >= FAINT_MIN_CONF:
                ok = _continues_block(raw, row, median_h, MAX_HEIGHT_DEVIATION)
            number = None if ok else page_number(raw, size)
            if number is not None:
                ln, ok = number, True
            row.append((ln, True) if ok else (raw, False))
        out.append(row)
    if median_h:
        kept = [ln for row in out for ln, ok in row if ok]
        out = [[(ln, True) if not ok and _document_number(ln, kept, median_h) else (ln, ok) for ln, ok in row]
               for row in out]
    return out


# "№ 61-К-215", "№ 4 с 38": the sign, then a number of at least two digits in a few words
DOC_NUMBER = re.compile(r"№\s*(?=(?:\D*\d){2})\S[\w.,/ –—-]{0,24}")


DOC_SIGN_CONF = 0.5  # ... whose sign Tesseract read at least this surely


SCRAPS_CONF = 0.75  # a line read less surely than this ...


SCRAPS_WORD = 4  # ... with no word of this many letters, nor a digit, is scraps of a stamp or a hand


def _scraps(ln: RawLine) -> bool:
    """Whether an unsure line is scraps: bits of a stamp's text or a hand's strokes read as short words
    ("Se rN OF.", "S =< Ce =", "oO"), with no word of ``SCRAPS_WORD`` letters, no digit, and small letters
    among its capitals. A typed word alone on its line ("Busserl", "ausstrich,") is longer; a page number
    has its digits; a heading's or an address's short words in capitals ("OF THE", "W. C.") stay."""
    text = ln.text
    return (not any(c.isdigit() for c in text) and any(c.islower() for c in text) and not letter_spaced(ln.words)
            and all(sum(c.isalpha() for c in w.text) < SCRAPS_WORD for w in ln.words))


MARKS = set(".,;:!?»)")  # a sentence's closing marks, which French typists set off by a space ("route .")


MARK_GAP = 1.5  # ... at most this many word heights after the word before, its foot on the line's baseline


def spaced_mark(words) -> bool:
    """Whether the last of a line's ``words`` is a closing mark typed after a space ("notre route ."): on the
    line's baseline (within a quarter of the words' height) and close to the word before, not a speck of
    dirt beyond the line's end."""
    if len(words) < 2 or not words[-1].text or not set(words[-1].text) <= MARKS:
        return False
    h = word_height(words[:-1])
    foot = float(np.median([w.box[3] for w in words[:-1]]))
    mark, prev = words[-1], words[-2]
    return abs(mark.box[3] - foot) <= 0.25 * h and mark.box[0] - prev.box[2] <= MARK_GAP * h


SPACED_RUN = 4  # this many one-letter words in a row, each ...


SPACED_GAP = 1.5  # ... at most this many word heights from the next, are a letter-spaced word ("H i r s c h")


def letter_spaced(words, i: int | None = None) -> bool:
    """Whether the line's ``words`` hold a letter-spaced word (typists spaced names and headings out: "B e r n e r"),
    or, with ``i``, whether word ``i`` is a letter of one."""
    def one(w) -> bool:
        core = w.text.strip(".,;:")
        return len(core) == 1 and core.isalpha()

    def near(a, b) -> bool:
        return b.box[0] - a.box[2] <= SPACED_GAP * max(1, b.box[3] - b.box[1])

    runs, start = [], None  # runs of one-letter words, each near the one before: [start, end)
    for k, w in enumerate(words):
        if one(w) and start is not None and near(words[k - 1], w):
            continue
        if start is not None:
            runs.append((start, k))
        start = k if one(w) else None
    if start is not None:
        runs.append((start, len(words)))
    runs = [(a, b) for a, b in runs if b - a >= SPACED_RUN]
    return any(a <= i < b for a, b in runs) if i is not None else bool(runs)


def _document_number(ln: RawLine, kept: list[RawLine], median_h: float) -> bool:
    """A rejected line that is a document number standing right under a typed line (the memo's date),
    starting where it starts. Tesseract reads such a number unsurely (a Cyrillic letter between digits,
    "78-П-8483", comes at confidence 0) and often as a block of its own, so neither the line decision
    nor ``_continues_block`` keeps it."""
    if (not ln.words or not DOC_NUMBER.fullmatch(ln.text.strip()) or ln.words[0].conf < DOC_SIGN_CONF
            or ln.box[3] - ln.box[1] > 2 * median_h):
        return False
    return any(abs(ln.box[0] - p.box[0]) <= median_h and _right_under(ln, p, median_h) for p in kept)


def _continues_block(ln: RawLine, row: list[tuple[RawLine, bool]], median_h: float, dev: float) -> bool:
    """An unsure line (a document number, a faint line) that continues the typed block it is in: type-sized,
    right under the block's previous line, which is typed text, and starting where it starts."""
    if not row or not row[-1][1] or (dev and abs(_type_height(ln) / median_h - 1) > dev):
        return False
    prev = row[-1][0]
    # where it starts: as the previous line does, or (with a word's worth of letters, not a speck)
    # left of it by a paragraph's indent: the line above is the paragraph's indented first line
    dx = ln.box[0] - prev.box[0]
    indented = -INDENT * median_h <= dx < -median_h and sum(c.isalnum() for c in ln.text) >= 4
    return (abs(dx) <= median_h or indented) and _right_under(ln, prev, median_h)


def _right_under(ln: RawLine, prev: RawLine, median_h: float) -> bool:
    """Whether ``ln`` starts at most 1.5 type heights under ``prev``'s bottom (and not more than a quarter of
    one above it: the boxes of a bent line's words reach into the next)."""
    return -0.25 * median_h <= ln.box[1] - prev.box[3] <= 1.5 * median_h


def rejection_reason(ln: RawLine, median_h: float | None) -> str:
    """Why the line decision (``classify_lines``) rejected a line, in words for the reviewer."""
    if sum(ch.isalnum() for ch in ln.text) < MIN_LINE_LETTERS:
        return f"fewer than {MIN_LINE_LETTERS} letters"
    if median_h and MAX_HEIGHT_DEVIATION and abs(_type_height(ln) / median_h - 1) > MAX_HEIGHT_DEVIATION:
        return "not the height of the page's type"
    if ln.conf < SCRAPS_CONF and _scraps(ln):
        return "short unsure words (scraps of a stamp or a hand)"
    return "not typed text"


def page_type_height(blocks: list[list[RawLine]]) -> float | None:
    confident = [ln for b in blocks for ln in b if ln.conf >= 0.85 and len(ln.text) > 10]
    return float(np.median([word_height(ln.words) for ln in confident])) if confident else None
