"""One page: load -> preprocess -> recognise -> PageResult -> files; a reel: pages in a process pool."""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import __version__, guard
from .config import Config, PreprocessConfig
from .engines import Engine, get_engine
from .engines.base import RawLine, RawWord
from .errors import MemoOcrError
from .formats import atomic
from .formats.alto import to_alto
from .formats.pagexml import to_pagexml
from .guard import Plausibility
from .loader import PageRef, load_image
from .model import REJECTED_NOTE, Line, PageResult, Region, Word
from .preprocess import Preprocessed, preprocess

CREATOR = f"memo-ocr {__version__}"


def _quad(pp: Preprocessed, box: tuple[int, int, int, int]) -> tuple[tuple[int, int], ...]:
    x0, y0, x1, y1 = box
    pts = pp.map_points(np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
    return tuple((int(x), int(y)) for x, y in pts)


def _line(pp: Preprocessed, raw: RawLine, lid: str) -> Line:
    words = tuple(Word(w.text, w.conf, _quad(pp, w.box)) for w in raw.words)
    x0, _, x1, y1 = raw.box
    base = pp.map_points(np.array([(x0, y1), (x1, y1)]))
    return Line(lid, raw.text, _quad(pp, raw.box), tuple((int(x), int(y)) for x, y in base), raw.conf, words)


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
            and first.box[3] - first.box[1] >= ITEM_HEIGHT * _height(words))


def trim_line(raw: RawLine, edge_conf: float) -> RawLine | None:
    """Drop unsure specks at the ends of a line: short or letterless words below ``edge_conf``, and a run
    of unsure, low words at either end set off from the rest by a gap wider than ``SPECK_GAP`` word
    heights (dots and dirt far right of a paragraph's last line read as "! poe ;"; a typed name right of
    a signature's gap, read unsurely, is as tall as the rest and stays)."""
    words = list(raw.words)
    low = SPECK_LOW * _height(words) if words else 0.0

    def speck(w) -> bool:
        # show-through or dirt beside a faint line's end ("paration. u > eden"); a run of dots stands low
        # too, and is typed (an elision, "in ...."), even where it is misread ("ee...")
        short = w.box[3] - w.box[1] < low and ".." not in w.text
        letterless = not any(c.isalnum() for c in w.text)
        return ((w.conf < edge_conf and (len(w.text) <= 2 or letterless or short))
                or (letterless and short and w.conf < SPECK_MARK_CONF))

    def dirt(run, rest) -> bool:  # unsure and low: specks, not a typed name right of a signature's gap
        return all(w.conf < edge_conf for w in run) and _height(run) < SPECK_LOW * _height(rest)

    wide = SPECK_GAP * _height(words) if words else 0.0
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
    limit = TALL_WORD * _height(raw.words)
    normal = [w for w in raw.words if w.box[3] - w.box[1] <= limit]
    if len(normal) == len(raw.words):
        return raw
    top, bottom = min(w.box[1] for w in normal), max(w.box[3] for w in normal)
    ink = TALL_INK / TALL_WORD * limit
    words = tuple(w if w.box[3] - w.box[1] <= limit else RawWord(w.text, w.conf, (w.box[0], top, w.box[2], bottom))
                  for w in raw.words if w.box[3] - w.box[1] <= ink or w.conf >= TALL_WORD_CONF)
    return RawLine(words, (min(w.box[0] for w in words), top, max(w.box[2] for w in words), bottom))


def _height(words) -> float:
    """The median height of words (``RawWord``)."""
    return float(np.median([w.box[3] - w.box[1] for w in words]))


SURE_HEIGHT_CONF = 0.7  # a line read this surely (and below 0.85, which skips the height check) ...
SURE_HEIGHT_SLACK = 1.75  # ... may deviate from the page's type height this many times max_height_deviation
FAINT_MIN_CONF = 0.1  # an unsure line is still typed text when it continues its block (``_continues_block``)
INDENT = 8.0  # a paragraph's first line is indented at most this many type heights


def _type_height(raw: RawLine) -> float:
    """The line's word height as its type's: the median, or for a line of five words and more the lower
    quartile (a pencil stroke or underline across a typed line makes the boxes of the words it touches
    taller; a handwritten note read as type is rarely that long)."""
    heights = [w.box[3] - w.box[1] for w in raw.words]
    return float(np.percentile(heights, 25 if len(heights) >= 5 else 50))


PAGE_NUMBER = re.compile(r"^([-–—~_.,:;'\"‘’“”«»()<>|\s]{0,4})(\d{1,3})([-–—~_.,:;'\"‘’“”«»()<>|\s]{0,4})$")
PAGE_NUMBER_BAND = 0.1  # a page number stands in the top or bottom tenth of the page ...
PAGE_NUMBER_CENTRE = (0.3, 0.7)  # ... centred between these shares of its width


def page_number_match(text: str, box: tuple[int, int, int, int], size: tuple[int, int] | None) -> re.Match | None:
    """The match of ``PAGE_NUMBER`` when a line of ``text`` at ``box`` is a page number: a number of one to
    three digits with only dashes and punctuation about it, centred in the top or bottom tenth of the
    page (``size`` = width, height, in the box's pixels)."""
    m = PAGE_NUMBER.match(text.strip())
    if m is None or size is None:
        return None
    w, h = size
    x0, y0, x1, _ = box
    cx = (x0 + x1) / 2 / max(w, 1)
    if not PAGE_NUMBER_CENTRE[0] <= cx <= PAGE_NUMBER_CENTRE[1] or PAGE_NUMBER_BAND * h < y0 < (1 - PAGE_NUMBER_BAND) * h:
        return None
    return m


def page_number(ln: RawLine, size: tuple[int, int] | None) -> RawLine | None:
    """The line as a page number ("- 3 -", "7") when it is one (``page_number_match``). Typists number
    pages "- 3 -"; Tesseract reads the short line unsurely ("~ 2)", "-— 4 -", "- 3.") and the line
    decision would reject it for too few letters or too little confidence. The text is written
    "- N -" when a dash stands on either side, else "N"."""
    m = page_number_match(ln.text, ln.box, size)
    if m is None:
        return None
    x0, y0, x1, y1 = ln.box
    conf = ln.conf
    if not any(c in "-–—~" for c in m.group(1) + m.group(3)):
        return RawLine((RawWord(m.group(2), conf, ln.box),), ln.box)
    third = max(1, (x1 - x0) // 3)
    return RawLine((RawWord("-", conf, (x0, y0, x0 + third, y1)),
                    RawWord(m.group(2), conf, (x0 + third, y0, x1 - third, y1)),
                    RawWord("-", conf, (x1 - third, y0, x1, y1))), ln.box)


def classify_lines(blocks: list[list[RawLine]], cfg: Config,
                   size: tuple[int, int] | None = None) -> list[list[tuple[RawLine, bool]]]:
    """Typed text or noise (stamps, handwriting, specks read as garbage)? Per line, in block order.

    A line is typed text when it has ``min_line_letters`` letters and, unless it
    is read with high confidence, its word height is within ``max_height_deviation``
    of the page's confident lines (typewriter type has one size; stamps and hands
    do not), and it is not scraps (``_scraps``). However unsure it was read: when in
    doubt, typed-looking text is kept (a confidence threshold did not pay on pages
    it was not tuned on).
    """
    t = cfg.tesseract
    trimmed = [[tall_words((trim_line(ln, t.trim_edge_word_conf) if t.trim_edge_word_conf else ln) or ln) for ln in b]
               for b in blocks]
    median_h = _page_type_height(trimmed)
    out = []
    for b, tb in zip(blocks, trimmed, strict=True):
        row = []
        for raw, ln in zip(b, tb, strict=True):
            letters = sum(ch.isalnum() for ch in ln.text)
            ok = letters >= t.min_line_letters
            if ok and t.max_height_deviation and median_h and ln.conf < 0.85:
                # a line read fairly surely may stand taller: a speck over a word, a line in capitals
                dev = t.max_height_deviation * (SURE_HEIGHT_SLACK if ln.conf >= SURE_HEIGHT_CONF else 1.0)
                ok = abs(_type_height(ln) / median_h - 1) <= dev
            if ok and ln.conf < SCRAPS_CONF and _scraps(ln):
                ok = False
            if not ok and median_h and letters >= t.min_line_letters and ln.conf >= FAINT_MIN_CONF:
                ok = _continues_block(raw, row, median_h, t.max_height_deviation)
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
    h = _height(words[:-1])
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


def order_blocks(blocks: list[list[RawLine]], mode: str) -> list[list[RawLine]]:
    """Reading order of blocks: the engine's, or top-down by each block's first line (single-column memos)."""
    blocks = [b for b in blocks if b]
    if mode == "top-down":
        return sorted(blocks, key=lambda b: (min(ln.box[1] for ln in b), min(ln.box[0] for ln in b)))
    return blocks


def rejection_reason(ln: RawLine, cfg: Config, median_h: float | None) -> str:
    """Why the line decision (``classify_lines``) rejected a line, in words for the reviewer."""
    t = cfg.tesseract
    if sum(ch.isalnum() for ch in ln.text) < t.min_line_letters:
        return f"fewer than {t.min_line_letters} letters"
    if median_h and t.max_height_deviation and abs(_type_height(ln) / median_h - 1) > t.max_height_deviation:
        return "not the height of the page's type"
    if ln.conf < SCRAPS_CONF and _scraps(ln):
        return "short unsure words (scraps of a stamp or a hand)"
    return "not typed text"


def _page_type_height(blocks: list[list[RawLine]]) -> float | None:
    confident = [ln for b in blocks for ln in b if ln.conf >= 0.85 and len(ln.text) > 10]
    return float(np.median([_height(ln.words) for ln in confident])) if confident else None


def build_regions(pp: Preprocessed, blocks: list[list[RawLine]], cfg: Config) -> list[Region]:
    """Regions in reading order; lines classified as noise go to a rejected region per block, each line with the
    reason it was rejected (PAGE ``custom="rejected {reason:...;}"``), so that nothing read is lost unseen."""
    blocks = order_blocks(blocks, cfg.tesseract.reading_order)
    regions: list[Region] = []
    rejected: list[Region] = []
    size = (pp.image.shape[1], pp.image.shape[0])
    median_h = _page_type_height(blocks)
    for b, block in enumerate(classify_lines(blocks, cfg, size), start=1):
        for ok, out, rid in ((True, regions, f"r{b:03d}"), (False, rejected, f"x{b:03d}")):
            group = [ln for ln, k in block if k == ok]
            if not group:
                continue
            notes = None if ok else [rejection_reason(ln, cfg, median_h) for ln in group]
            out.append(_region(pp, rid, group, kept=ok, notes=notes))
    return regions + rejected


def _region(pp: Preprocessed, rid: str, group: list[RawLine], kept: bool = True,
            notes: list[str] | None = None) -> Region:
    """A region of a block's lines (in the processed image's pixels), mapped to the original image: typewritten
    text when ``kept``, else a rejected region whose lines carry ``notes`` (why each was rejected)."""
    lines = tuple(_line(pp, ln, f"{rid}_l{i:03d}") for i, ln in enumerate(group, start=1))
    if notes is not None:
        lines = tuple(dataclasses.replace(line, note=n) for line, n in zip(lines, notes, strict=True))
    box = (min(ln.box[0] for ln in group), min(ln.box[1] for ln in group),
           max(ln.box[2] for ln in group), max(ln.box[3] for ln in group))
    return Region(rid, _quad(pp, box), lines, production="typewritten" if kept else None, type="paragraph",
                  kept=kept, note="" if kept else REJECTED_NOTE)


@dataclass
class PageOutcome:
    """What run.json records of one page."""

    page_id: str
    source: str
    frame: int | None
    status: str = "ok"
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id, "source": self.source, "frame": self.frame, "status": self.status,
            "error": self.error, "timings": {k: round(v, 3) for k, v in self.timings.items()},
            **self.info, "outputs": self.outputs,
        }


def text_steps(pp: Preprocessed, blocks: list[list[RawLine]], engine: Engine,
               cfg: Config) -> tuple[list[list[RawLine]], dict[str, Any], list[str]]:
    """The steps on what Tesseract read, each switched in ``[tesseract]``, in this order: lines it read two rows
    into one, page numbers it passed over, typed lines it passed over, full stops by their shape, spaces after
    marks, full stops before a sentence's first word, stray full stops between words, straight quotes, stray
    quotes, the lexicon. Returns
    the blocks, what run.json records of each step that ran (its count) and the PAGE ``Metadata`` step names."""
    from . import lexicon, mergedrows, pagenumber, punctuation

    t = cfg.tesseract
    lang = cfg.run.lang
    # (on, run.json key, run it, step name from its count)
    table = [
        (t.merged_rows and hasattr(engine, "read_words"), "merged_rows_read_again",
         lambda b: mergedrows.fix(b, pp.image, engine.read_words),
         lambda n: f"merged-rows({n} lines read again)" if n else ""),
        (t.page_numbers and hasattr(engine, "read_words"), "page_number_found",
         lambda b: pagenumber.add(b, pp.image, pp.xheight, engine.read_words),
         lambda n: "page-number(found outside Tesseract's lines)" if n else ""),
        (t.repair_stops, "repaired_stops", lambda b: punctuation.repair_stops(pp.image, b, pp.xheight),
         lambda n: f"stop-repair({n} words)"),
        (t.space_after_marks, "spaced_after_marks", punctuation.split_joined,
         lambda n: f"space-after-marks({n} words)"),
        (t.sentence_stops, "stops_before_sentence_starts",
         lambda b: punctuation.stops_before_sentence_starts(b, lang), lambda n: f"sentence-stops({n} words)"),
        (t.stray_stops, "stray_stops_dropped", lambda b: punctuation.drop_stray_stops(b, lang),
         lambda n: f"stray-stops({n} dropped)"),
        (t.straight_quotes, "straightened_quotes", punctuation.straighten_quotes,
         lambda n: f"straight-quotes({n} words)"),
        (t.stray_quotes, "stray_quotes_dropped", punctuation.drop_stray_quotes,
         lambda n: f"stray-quotes({n} dropped)"),
        (t.lexicon and bool(lexicon.languages(lang)), "lexicon_corrected_words",
         lambda b: lexicon.correct_lines(b, lang), lambda n: f"lexicon-correction({lang}: {n} words)"),
    ]
    info: dict[str, Any] = {}
    steps: list[str] = []
    for on, key, step, name in table:
        if not on:
            continue
        blocks, info[key] = step(blocks)
        if name(info[key]):
            steps.append(name(info[key]))
    return blocks, info, steps


def recognize_page(ref: PageRef, cfg: Config, engine: Engine, timings: dict[str, float] | None = None,
                   skew_override: float | None = None) -> PageResult:
    """Load, clean and read one page; raises MemoOcrError subclasses on bad input or engine failure."""
    timings = {} if timings is None else timings
    t = time.perf_counter()
    img = load_image(ref)
    timings["load"] = time.perf_counter() - t
    t = time.perf_counter()
    pp = preprocess(img, cfg.preprocess, skew_override=skew_override)
    timings["preprocess"] = time.perf_counter() - t
    t = time.perf_counter()
    blocks = engine.recognize(pp.image)
    blocks, text_info, read_steps = text_steps(pp, blocks, engine, cfg)
    timings["recognize"] = time.perf_counter() - t
    regions = build_regions(pp, blocks, cfg)
    t = time.perf_counter()
    regions, verdict, guard_info, guard_steps = _guard(img, pp, regions, engine, cfg)
    timings["guard"] = time.perf_counter() - t
    graphics: list = []
    engines = {engine.name: engine.version}
    layout_info: dict[str, Any] = {}
    if cfg.layout.enabled:
        from .routing import paragraphs, route

        t = time.perf_counter()
        xh = None if pp.xheight is None else pp.xheight / pp.scale
        routed = route(img, regions, pp.border, xh, cfg)
        kept = paragraphs([r for r in routed.typed if r.kept], xh, pp.skew_applied)
        rejected = [r for r in routed.typed if not r.kept]
        regions = kept + routed.regions + rejected  # typed text, then handwriting, then stamp text
        graphics = routed.graphics
        if "kraken" in routed.info:
            engines["kraken"] = routed.info["kraken"]
        layout_info = {**routed.info.get("layout", {}),
                       **({"note": routed.info["handwriting_note"]} if "handwriting_note" in routed.info else {}),
                       **({"error": routed.info["handwriting_error"]} if "handwriting_error" in routed.info else {})}
        timings["layout"] = time.perf_counter() - t
    h, w = img.shape[:2]
    info = {
        "deskew_measured_deg": pp.skew_measured, "deskew_applied_deg": pp.skew_applied,
        "deskew_note": pp.skew_note, "scale": round(pp.scale, 3),
        "xheight_px": None if pp.xheight is None else round(pp.xheight / pp.scale, 1),
        "removed": pp.removed, "layout": layout_info,
    }
    steps = list(pp.steps)
    threshold = getattr(engine, "threshold_used", None)
    if threshold and threshold != cfg.tesseract.threshold:
        info["tesseract_threshold"] = threshold
        steps.append(f"tesseract-threshold({threshold}: otsu would split the paper)")
    info.update(text_info)
    if guard_info:
        info["guard"] = guard_info
    suspect = verdict.suspect_reason()
    if suspect:
        info["suspect"] = suspect
    steps += read_steps + guard_steps
    page = PageResult(
        page_id=ref.page_id, image_name=ref.path.name if ref.frame is None else f"{ref.path.name}[{ref.frame}]",
        width=w, height=h, regions=regions, border=pp.border if pp.border != (0, 0, w, h) else None,
        orientation=-pp.skew_applied, steps=steps, engines=engines, info=info, graphics=graphics,
    )
    if cfg.layout.debug_image:
        from .routing import debug_image

        page.debug_image = debug_image(img, regions, graphics)
    return page


PLAIN_PREPROCESS = PreprocessConfig(grayscale=False, crop_border=False, remove_punch_holes=False, deskew=False,
                                    rescale=False, remove_speckles=False, normalize_background=False)


def read_plain(img: np.ndarray, engine: Engine) -> list[Region]:
    """The page as plain Tesseract reads it: its grey image, nothing removed, rescaled or rotated, every line
    Tesseract returns kept (typewritten), no text step."""
    pp = preprocess(img, PLAIN_PREPROCESS)
    return [_region(pp, f"p{b:03d}", block)
            for b, block in enumerate(order_blocks(engine.recognize(pp.image), "top-down"), start=1)]


def _guard(img: np.ndarray, pp: Preprocessed, regions: list[Region], engine: Engine,
           cfg: Config) -> tuple[list[Region], Plausibility, dict[str, Any], list[str]]:
    """The page guard (``ocr.guard``): the regions to keep, their plausibility, what run.json records, steps."""
    import cv2

    if not getattr(engine, "reads_text", True):  # the null engine: nothing to judge
        return regions, Plausibility(None, None, 0.0, 0), {}, []
    grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    centres = guard.letter_centres(grey, None if pp.xheight is None else pp.xheight / pp.scale)
    verdict = guard.judge(regions, centres, (w, h))
    info: dict[str, Any] = {"read": verdict.to_dict()}
    why = verdict.retry_reason() if cfg.run.guard else ""
    if not why:
        return regions, verdict, info, []
    plain = read_plain(img, engine)
    other = guard.judge(plain, centres, (w, h))
    info.update(retry=why, plain=other.to_dict())
    if other.sure_letters > guard.PLAIN_MARGIN * verdict.sure_letters:
        info["kept"] = "plain"
        # our rejected lines stay (rejected) beside the plain reading: nothing read is lost without a trace
        return plain + [r for r in regions if not r.kept], other, info, [f"plain-reading({why})"]
    info["kept"] = "ours"
    return regions, verdict, info, [f"plain-reading-compared({why}; ours kept)"]


def write_outputs(page: PageResult, out_dir: Path, cfg: Config) -> list[str]:
    """Write the page's files atomically; returns their names."""
    written = []
    if cfg.output.page_xml:
        atomic.write_bytes(out_dir / f"{page.page_id}.page.xml", to_pagexml(page, CREATOR))
        written.append(f"{page.page_id}.page.xml")
    if cfg.output.alto:
        atomic.write_bytes(out_dir / f"{page.page_id}.alto.xml", to_alto(page, "memo-ocr", __version__))
        written.append(f"{page.page_id}.alto.xml")
    if cfg.output.text:
        text = page.text()
        atomic.write_text(out_dir / f"{page.page_id}.txt", text + ("\n" if text else ""))
        written.append(f"{page.page_id}.txt")
    if page.debug_image is not None:
        import cv2

        ok, buf = cv2.imencode(".jpg", page.debug_image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            atomic.write_bytes(out_dir / f"{page.page_id}.layout.jpg", buf.tobytes())
            written.append(f"{page.page_id}.layout.jpg")
    return written


# --- worker side -----------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _watch_parent(parent: int) -> None:
    """End this worker as soon as the run that started it is gone (kill -9, a crash, the end of a SLURM job):
    on Linux the kernel sends it SIGKILL when its parent dies (``PR_SET_PDEATHSIG``); everywhere, a thread
    checks the parent twice a second. A worker never outlives its run, nor writes a page for a dead one."""
    import threading

    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):  # not Linux: the thread alone
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    if os.getppid() != parent:
        os._exit(3)
    threading.Thread(target=watch, daemon=True, name="memo-ocr-parent-watch").start()


def _init_worker(cfg_dict: dict[str, Any], engine_name: str, ready=None, parent: int | None = None) -> None:
    if parent is not None:
        _watch_parent(parent)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    # PyTorch (the kraken handwriting model) likewise: one thread per worker, the pool is the parallelism
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    import cv2

    # one process per core already: OpenCV's own threads would only oversubscribe (and a thread
    # pool inherited through fork from a busy parent can stall)
    cv2.setNumThreads(1)
    from .config import from_dict

    cfg = from_dict(cfg_dict, source="run")
    if cfg.run.memory_limit_mb:
        import resource

        limit = cfg.run.memory_limit_mb * 1024 * 1024
        try:
            # the data limit (heap and anonymous maps: images, arrays, model weights), not the address space,
            # which PyTorch's CUDA libraries fill with gigabytes of file mappings they never touch
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        except (ValueError, OSError):  # a hard limit below ours: keep the one we have
            pass
    _WORKER["cfg"] = cfg
    _WORKER["ready"] = ready
    try:
        _WORKER["engine"] = get_engine(engine_name, cfg)
        _WORKER["engine_error"] = None
        getattr(_WORKER["engine"], "warm", lambda: None)()
    except MemoOcrError as e:
        _WORKER["engine"] = None
        _WORKER["engine_error"] = str(e)


def _worker_ready(timeout: float) -> int:
    """Waits until n workers wait here (n such tasks then start n workers), at most ``timeout`` s."""
    import threading

    try:
        _WORKER["ready"].wait(timeout)
    except threading.BrokenBarrierError:  # a worker did not start: the pages will show why
        pass
    return os.getpid()


def process_page(ref: PageRef, out_dir: str, skew_override: float | None = None) -> PageOutcome:
    """Worker entry: one page, never raises; failures are recorded in the outcome."""
    cfg: Config = _WORKER["cfg"]
    outcome = PageOutcome(ref.page_id, str(ref.path), ref.frame)
    t0 = time.perf_counter()
    try:
        if _WORKER["engine"] is None:
            raise MemoOcrError(_WORKER["engine_error"])
        page = recognize_page(ref, cfg, _WORKER["engine"], outcome.timings, skew_override)
        t = time.perf_counter()
        outcome.outputs = write_outputs(page, Path(out_dir), cfg)
        outcome.timings["write"] = time.perf_counter() - t
        kept = page.kept_lines()
        rejected = [ln for r in page.regions if not r.kept for ln in r.lines]
        outcome.info = dict(page.info, lines=len(kept), rejected_lines=len(rejected),
                            rejected_chars=sum(len(ln.text) for ln in rejected),
                            mean_line_conf=round(sum(ln.conf for ln in kept) / len(kept), 3) if kept else None)
        # a line an engine failed on (the handwriting model, say) is loud: counted, and the page is suspect
        failures = [ln.note for r in page.regions if r.kept for ln in r.lines if ln.note]
        if failures:
            outcome.info["engine_errors"] = len(failures)
        why = page.info.get("suspect") or (f"{len(failures)} lines failed in an engine ({failures[0]})" if failures else "")
        if why:
            outcome.info["suspect"] = why
            outcome.status, outcome.error = "suspect", f"{ref.path}: suspect reading: {why}"
    except MemoOcrError as e:
        outcome.status, outcome.error = "failed", str(e)
    except MemoryError:
        outcome.status, outcome.error = "failed", f"{ref.path}: out of memory (limit [run] memory_limit_mb)"
    except Exception as e:  # an unexpected bug must not stop the reel; record it with its type
        msg = " ".join(str(e).split())
        msg = msg if len(msg) <= 1000 else msg[:999] + "…"
        outcome.status, outcome.error = "failed", f"{ref.path}: internal error {type(e).__name__}: {msg}"
    outcome.timings["total"] = time.perf_counter() - t0
    outcome.info["worker_peak_rss_mb"] = _peak_rss_mb()
    return outcome


def _peak_rss_mb() -> float | None:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it does not carry a parent's over exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:  # not on Linux
        pass
    return None


def dask_process_page(ref: PageRef, out_dir: str, skew_override: float | None, cfg_dict: dict[str, Any],
                      engine_name: str) -> PageOutcome:
    """Dask task: like ``process_page``, loading the engine once per worker process and configuration."""
    key = json.dumps(cfg_dict, sort_keys=True) + engine_name
    if _WORKER.get("key") != key:
        _init_worker(cfg_dict, engine_name)
        _WORKER["key"] = key
    return process_page(ref, out_dir, skew_override)


# --- reel side -------------------------------------------------------------------
INTERRUPTED = "interrupted (SIGINT or SIGTERM): the pages in flight are done again when the same command runs again"


class _signals_as_interrupt:
    """SIGTERM (what timeout, SLURM and systemd send) raised as KeyboardInterrupt, as SIGINT is, while the
    pool runs, so that the run stops its workers and records what it finished; the old handler after."""

    def __enter__(self):
        import signal
        import threading

        self.old = None
        if threading.current_thread() is threading.main_thread():
            def interrupt(signum, frame):
                raise KeyboardInterrupt(f"signal {signum}")

            self.old = signal.signal(signal.SIGTERM, interrupt)
        return self

    def __exit__(self, *exc) -> None:
        import signal

        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class RunReport:
    out_dir: Path
    pages: list[PageOutcome]
    started: str
    seconds: float
    meta: dict[str, Any]
    stopped: str = ""  # why the run stopped early ([run] on_error / max_failure_ratio), if it did
    earlier: dict[str, dict] = field(default_factory=dict)  # pages of OUT that earlier runs did, not this one

    @property
    def failed(self) -> list[PageOutcome]:
        return [p for p in self.pages if p.status not in ("ok", "suspect")]

    @property
    def suspect(self) -> list[PageOutcome]:
        """Pages written whose reading the page guard found implausible (``ocr.guard``)."""
        return [p for p in self.pages if p.status == "suspect"]

    def to_dict(self) -> dict[str, Any]:
        done = [p for p in self.pages if p.status in ("ok", "suspect") and not p.info.get("skipped")]
        skipped = [p for p in self.pages if p.info.get("skipped")]
        reasons: dict[str, int] = {}
        for p in self.failed:
            key = p.error.split(": ", 1)[-1]
            reasons[key] = reasons.get(key, 0) + 1
        return {
            **self.meta,
            "started": self.started,
            "summary": {
                "pages": len(self.pages), "ok": len(self.pages) - len(self.failed) - len(self.suspect),
                "suspect": len(self.suspect), "failed": len(self.failed),
                "engine_errors": sum(p.info.get("engine_errors", 0) for p in self.pages),
                "rejected_lines": sum(p.info.get("rejected_lines", 0) for p in self.pages),
                "rejected_chars": sum(p.info.get("rejected_chars", 0) for p in self.pages),
                "done_now": len(done), "skipped": len(skipped), "failure_reasons": reasons,
                "stopped": self.stopped or None,
                "seconds": round(self.seconds, 2),
                "pages_per_minute": round(60 * len(done) / self.seconds, 2) if self.seconds > 0 and done else None,
            },
            "pages": [p.to_dict() for p in sorted(self.pages, key=lambda p: p.page_id)],
            # run.json describes the whole OUT: pages earlier runs wrote there and this one was not given
            "earlier_pages": [self.earlier[k] for k in sorted(self.earlier)],
        }

    def save(self) -> None:
        atomic.write_text(self.out_dir / "run.json", json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")


def _outcome_from_ledger(ref: PageRef, record: dict) -> PageOutcome:
    known = {"page_id", "source", "frame", "status", "error", "timings", "outputs"}
    o = PageOutcome(ref.page_id, str(ref.path), ref.frame, record.get("status", "ok"), record.get("error", ""),
                    dict(record.get("timings", {})), {k: v for k, v in record.items() if k not in known},
                    list(record.get("outputs", [])))
    o.info["skipped"] = True
    return o


class _Pool:
    """A process pool whose workers can be killed and replaced (hung or crashed pages)."""

    def __init__(self, n: int, cfg: Config, engine_name: str):
        """Starts the workers; ``ready()`` waits for them (the caller can do its own setup meanwhile)."""
        self.args = (n, cfg.to_dict(), engine_name)
        self.ex, self.starting = self._new()

    def _new(self) -> tuple[ProcessPoolExecutor, list]:
        import multiprocessing

        n, cfg_dict, engine = self.args
        # spawn, not fork: a forked child inherits the parent's thread locks (OpenCV, BLAS) and can hang
        ctx = multiprocessing.get_context("spawn")
        ex = ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker, initargs=(cfg_dict, engine, ctx.Barrier(n), os.getpid()))
        # n tasks that meet at a barrier: every worker starts (and loads its models)
        return ex, [ex.submit(_worker_ready, 120.0) for _ in range(n)]

    def ready(self) -> None:
        """Wait until every worker has started, so that no page's clock includes a worker's start."""
        for fut in self.starting:
            try:
                fut.result(timeout=600)
            except Exception:  # noqa: BLE001 - a worker that cannot start shows up on the first page
                break
        self.starting = []

    def _kill_workers(self) -> None:
        # the executor cannot stop one running task: kill its workers (private, but stable since 3.8)
        for proc in list((getattr(self.ex, "_processes", None) or {}).values()):
            try:
                proc.kill()
            except (OSError, AttributeError):
                pass

    def restart(self) -> None:
        self._kill_workers()
        self.ex.shutdown(wait=True, cancel_futures=True)
        self.ex, self.starting = self._new()
        self.ready()

    def close(self) -> None:
        self.ex.shutdown(wait=True, cancel_futures=True)

    def kill(self) -> None:
        """Stop every worker now (a run interrupted by SIGINT or SIGTERM): pages in flight are not recorded,
        so a resumed run does them again; their files were never half-written (atomic writes)."""
        self._kill_workers()
        self.ex.shutdown(wait=False, cancel_futures=True)


def run_reel(refs: list[PageRef], out_dir: Path, cfg: Config, *, workers: int | None = None,
             engine_name: str = "tesseract", progress: bool | None = None,
             on_page: Callable[[PageOutcome], None] | None = None,
             skew_override: float | None = None, argv: list[str] | None = None,
             retry_failed: bool = False, scheduler: str | None = None) -> RunReport:
    """Process pages in parallel; outputs, ``run.json`` and the ledger are written as pages finish.

    Pages already done with the same input and configuration (per ``OUT/ledger.sqlite``) are
    skipped; failed ones too unless ``retry_failed``. A page that exceeds ``[run] page_timeout``
    or whose worker dies is recorded as failed and the reel goes on; ``[run] on_error`` and
    ``max_failure_ratio`` decide when a run stops early.
    """
    lock = _lock_out(out_dir)
    try:
        return _run_reel(refs, out_dir, cfg, workers=workers, engine_name=engine_name, progress=progress,
                         on_page=on_page, skew_override=skew_override, argv=argv, retry_failed=retry_failed,
                         scheduler=scheduler)
    finally:
        lock.close()  # closing the file releases the lock


def _run_reel(refs: list[PageRef], out_dir: Path, cfg: Config, *, workers: int | None, engine_name: str,
              progress: bool | None, on_page: Callable[[PageOutcome], None] | None, skew_override: float | None,
              argv: list[str] | None, retry_failed: bool, scheduler: str | None) -> RunReport:
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from tqdm import tqdm

    from .ledger import Ledger

    scheduler = scheduler or cfg.run.scheduler or None
    n_workers = workers or cfg.run.workers or default_workers()
    n_workers = max(1, min(n_workers, len(refs) or 1))
    # the workers start (and load their models) while this process probes the engines and reads the ledger
    pool = _Pool(n_workers, cfg, engine_name) if refs and not scheduler else None
    try:
        engine_versions: dict[str, str] = {}
        engine_problem = None
        try:
            probe = get_engine(engine_name, cfg)  # fail once, clearly, here rather than in every worker
            engine_versions[probe.name] = probe.version
            if cfg.layout.enabled:
                from .layout import load_model

                load_model(cfg.layout.model or None)
                if cfg.layout.separate_ink:
                    from .inksep import check as check_inksep

                    check_inksep(cfg.layout.ink_model or None)
                from .routing import CYRILLIC_LANGS

                if cfg.layout.handwriting and set(cfg.run.lang.split("+")) & CYRILLIC_LANGS:
                    from .engines.kraken_lines import check as check_kraken

                    engine_versions["kraken"] = check_kraken(cfg.layout.handwriting_model or None)
        except MemoOcrError as e:
            engine_problem = str(e)
        chash = cfg.digest(skew_override=skew_override)
        meta = {
            "tool": {"name": "memo-ocr", "version": __version__},
            "command": argv or sys.argv,
            "engines": engine_versions,
            "language": cfg.run.lang,
            "workers": n_workers,
            "config": cfg.to_dict(),
            "config_digest": chash,
        }
        if engine_problem:
            meta["engine_error"] = engine_problem
        started = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
        report = RunReport(out_dir, [], started, 0.0, meta)
        ledger = Ledger(out_dir / "ledger.sqlite")
        given = {r.page_id for r in refs}
        report.earlier = {k: v for k, v in ledger.records().items() if k not in given}
        for stale in out_dir.glob(".*.tmp"):  # half-written files of a killed run (atomic.write_bytes names)
            stale.unlink(missing_ok=True)
        t0 = time.perf_counter()
        last_save = 0.0

        todo: list[tuple[PageRef, str]] = []
        for ref in refs:
            ih = ledger.file_hash(ref.path) + (f"#{ref.frame}" if ref.frame is not None else "")
            e = ledger.get(ref.page_id)
            if e and e.input_hash == ih and e.config_hash == chash and not engine_problem:
                outputs_there = all((out_dir / name).exists() for name in e.record.get("outputs", []))
                written = e.status in ("ok", "suspect")
                if (written and outputs_there) or (not written and not retry_failed):
                    report.pages.append(_outcome_from_ledger(ref, e.record))
                    continue
            todo.append((ref, ih))

    except BaseException:
        if pool is not None:
            pool.close()
        raise
    bar = tqdm(total=len(refs), initial=len(refs) - len(todo), unit="page", desc="memo-ocr", file=sys.stderr,
               disable=True if progress is False else None, dynamic_ncols=True, mininterval=0.5)
    processed = 0
    failed_now = 0

    def finish(ref: PageRef, ih: str, outcome: PageOutcome) -> None:
        nonlocal processed, failed_now, last_save
        processed += 1
        if outcome.status == "suspect":
            bar.write(f"memo-ocr: page {outcome.page_id} suspect: {outcome.error}", file=sys.stderr)
        elif outcome.status != "ok":
            failed_now += 1
            bar.write(f"memo-ocr: page {outcome.page_id} failed: {outcome.error}", file=sys.stderr)
        # outputs are on disk (atomic writes in the worker) before the ledger says so
        ledger.record(ref.page_id, str(ref.path), ref.frame, ih, chash, outcome.status, outcome.error,
                      outcome.to_dict())
        report.pages.append(outcome)
        if on_page:
            on_page(outcome)
        bar.update(1)
        elapsed = time.perf_counter() - t0
        bar.set_postfix_str(f"{60 * processed / max(elapsed, 1e-9):.1f} pages/min", refresh=False)
        if elapsed - last_save > 2.0:
            report.seconds = elapsed
            report.save()
            last_save = elapsed

    def should_stop(remaining: int) -> str:
        if not remaining:
            return ""
        if failed_now and cfg.run.on_error == "abort":
            return "stopped after a failed page ([run] on_error = \"abort\")"
        if processed >= 10 and failed_now / processed > cfg.run.max_failure_ratio:
            return (f"stopped: {failed_now} of {processed} pages failed, more than [run] max_failure_ratio = "
                    f"{cfg.run.max_failure_ratio}")
        return ""

    if pool is not None and (engine_problem or not todo):
        pool.close()
        pool = None
    if engine_problem:
        for ref, ih in todo:
            finish(ref, ih, PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed", engine_problem))
    elif todo and scheduler:
        meta["scheduler"] = scheduler
        _run_on_dask(scheduler, todo, out_dir, cfg, engine_name, skew_override, finish, should_stop, report)
    elif todo and pool is not None:
        pool.ready()
        queue = list(todo)
        retry_alone: list[tuple[PageRef, str]] = []  # in flight when a worker died: re-run one at a time
        in_flight: dict[Any, tuple[PageRef, str, float]] = {}

        def pool_loop() -> None:
            while (queue or retry_alone or in_flight) and not report.stopped:
                limit = 1 if retry_alone else n_workers
                while len(in_flight) < limit and (retry_alone or queue):
                    ref, ih = retry_alone.pop(0) if retry_alone else queue.pop(0)
                    fut = pool.ex.submit(process_page, ref, str(out_dir), skew_override)
                    in_flight[fut] = (ref, ih, time.perf_counter())
                done, _ = wait(list(in_flight), timeout=0.5, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    ref, ih, _ = in_flight.pop(fut)
                    try:
                        finish(ref, ih, fut.result())
                    except BrokenProcessPool:
                        broken = True
                        if limit == 1:  # it died alone: this page is the cause
                            finish(ref, ih, PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                                        f"{ref.path}: worker process died (killed, crashed or "
                                                        f"out of memory)"))
                        else:
                            retry_alone.append((ref, ih))
                now = time.perf_counter()
                hung = [f for f, (_, _, ts) in in_flight.items() if now - ts > cfg.run.page_timeout]
                if broken or hung:
                    for fut, (ref, ih, _) in list(in_flight.items()):
                        if fut in hung:
                            finish(ref, ih, PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                                        f"{ref.path}: timed out after {cfg.run.page_timeout:.0f} s "
                                                        f"([run] page_timeout)"))
                        elif broken and limit > 1:
                            retry_alone.append((ref, ih))
                        else:
                            queue.insert(0, (ref, ih))
                    in_flight.clear()
                    pool.restart()
                report.stopped = should_stop(len(queue) + len(retry_alone))
            for fut, (ref, ih, _) in list(in_flight.items()):  # stopping: record what was already running
                try:
                    finish(ref, ih, fut.result(timeout=cfg.run.page_timeout))
                except Exception as e:
                    finish(ref, ih, PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                                f"{ref.path}: not finished when the run stopped ({type(e).__name__})"))

        try:
            with _signals_as_interrupt():
                pool_loop()
        except KeyboardInterrupt:  # SIGINT, or SIGTERM (timeout, SLURM, systemd): stop every worker now
            pool.kill()
            report.stopped = INTERRUPTED
            bar.close()
            ledger.close()
            report.seconds = time.perf_counter() - t0
            report.save()
            raise
        except BaseException:
            pool.close()
            raise
        pool.close()
    bar.close()
    ledger.close()
    report.seconds = time.perf_counter() - t0
    report.save()
    return report


def _lock_out(out_dir: Path):
    """Create OUT, check that it can be written, and lock it for this run (an exclusive ``flock`` on
    OUT/.memo-ocr.lock, held until this process ends): a second run into the same OUT is refused with a
    clear message instead of doing every page twice. Returns the open lock file."""
    import fcntl

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = open(out_dir / ".memo-ocr.lock", "a+")
    except OSError as e:
        raise MemoOcrError(f"{out_dir}: cannot write the output folder ({e.strerror})") from None
    if not os.access(out_dir, os.W_OK):
        lock.close()
        raise MemoOcrError(f"{out_dir}: cannot write the output folder (permission denied)")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise MemoOcrError(f"{out_dir}: another memo-ocr run is writing into this folder (it holds "
                           f"{out_dir / '.memo-ocr.lock'}); wait for it to end, or choose another -o") from None
    return lock


def _run_on_dask(address: str, todo: list[tuple[PageRef, str]], out_dir: Path, cfg: Config, engine_name: str,
                 skew_override: float | None, finish: Callable[[PageRef, str, PageOutcome], None],
                 should_stop: Callable[[int], str], report: RunReport) -> None:
    """The same reel on a Dask distributed cluster: workers run the pages, this process keeps the ledger.

    Inputs and OUT must be at the same path on every worker (a shared file system). A task
    whose worker dies is retried by Dask on another worker; one that kills workers repeatedly
    fails as "worker process died". Dask cannot stop a running task, so on a cluster the
    per-page limit is Tesseract's own ``[tesseract] timeout``, not ``[run] page_timeout``.
    """
    try:
        from distributed import Client, as_completed
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise MemoOcrError("--scheduler needs Dask: pip install 'memo-ocr[dask]'") from None
    from concurrent.futures import CancelledError

    cfg_dict = cfg.to_dict()
    try:
        client = Client(address, timeout=10)
    except (OSError, TimeoutError) as e:
        raise MemoOcrError(f"cannot reach the Dask scheduler at {address} ({e})") from None
    try:
        futures = {}
        for ref, ih in todo:
            fut = client.submit(dask_process_page, ref, str(out_dir.resolve()), skew_override, cfg_dict, engine_name,
                                key=f"memo-ocr-{ref.page_id}-{ih[:12]}", pure=False)
            futures[fut] = (ref, ih)
        remaining = len(futures)
        for fut in as_completed(list(futures)):
            ref, ih = futures[fut]
            remaining -= 1
            try:
                outcome = fut.result()
            except KilledWorker:
                outcome = PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                      f"{ref.path}: worker process died (killed, crashed or out of memory)")
            except CancelledError:
                continue
            except Exception as e:  # the task raised on the worker: record it, go on
                outcome = PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                      f"{ref.path}: task failed on the cluster ({type(e).__name__}: {e})")
            finish(ref, ih, outcome)
            report.stopped = should_stop(remaining)
            if report.stopped:
                client.cancel([f for f in futures if not f.done()])
                break
    finally:
        client.close()
