"""Typed or handwritten: typed lines that are a hand's (lone, off the page's character pitch, inked), and
candidates that are type (read surely by Tesseract as a block) or a hand's (on a line Tesseract rejected)."""
from __future__ import annotations

from collections.abc import Set as AbstractSet

import cv2
import numpy as np

from ..config import Config
from ..engines.base import RawLine, RawWord, mean_conf, read_region
from ..errors import EngineError
from ..model import Box, Line, Region, Word, bbox, box_polygon, cover, iou
from ..typed import lines as typed_lines
from ..typed.lexicon import known_word
from ..typed.lines import word_height
from ..typed.pagenumber import page_number_match
from .hand_ink import hand_share

CONFIDENT_WORD = 0.6  # typed words read at least this surely hide their ink from the layout stage


KNOWN_WORD_LETTERS = 7  # ... and so do words of the language this long read with at least KNOWN_WORD_CONF


KNOWN_WORD_CONF = 0.2  # (a signature read as a word, "Виноград" for "Р. Виноградов", comes at 0.0)


def typed_boxes(lines: list[Line], lang: str = "") -> tuple[list[tuple[int, int, int, int]],
                                                            list[tuple[int, int, int, int]]]:
    """(confidently read word boxes, line boxes) of typed lines: what the layout stage leaves out. A long
    word read unsurely but spelt as a word of the page's language (a signature written across it lowers
    Tesseract's confidence, not its reading) is typed too: left in, its ink joins the signature's group."""
    return ([bbox(w.polygon) for ln in lines for w in ln.words
             if w.conf >= CONFIDENT_WORD or (w.conf >= KNOWN_WORD_CONF and known_word(w.text, lang, KNOWN_WORD_LETTERS))],
            [bbox(ln.polygon) for ln in lines])


UNSURE_LETTERS = 4  # a line Tesseract rejected but read with this many letters ...


UNSURE_HAND = 0.2  # ... makes a candidate on it handwriting when the classifier gives it at least this


def unsure_text(cands: list, rejected: list[Line]) -> list:
    """Candidates the classifier called noise that lie on a line Tesseract found but rejected as type, read
    with a few letters, and that the classifier gives some chance of being handwriting: text that is not
    type is handwriting (a one-word note in a small neat hand looks like a speck to the classifier).
    Returns them, made handwritten with their probability of it (below ``min_prob``, which they skip);
    the probabilities are those ``classify`` gave."""
    lines = [bbox(ln.polygon) for ln in rejected if sum(ch.isalpha() for ch in ln.text) >= UNSURE_LETTERS]
    out = []
    for c in cands:
        if c.kind == "noise" and any(iou(c.box, b) >= 0.5 for b in lines):
            p = (c.probs or {}).get("handwritten", 0.0)
            if p >= UNSURE_HAND:
                c.kind, c.prob = "handwritten", p
                out.append(c)
    return out


INKED_WORDS = 4  # a typed region of one line of at most this many words ...


INKED_SHARE = 0.6  # ... each of whose words' ink the ink separation network calls handwriting this much


def inked_lines(image: np.ndarray, typed: list[Region], separator) -> set[str]:
    """Ids of the lines of one-line typed regions of a few words, each word of which the ink separation
    network (``inksep``; ``separator`` gives it, called only when there are such lines) mostly calls
    handwriting: a note in a neat hand Tesseract read as type, surely enough for ``lone_lines`` to pass
    it ("Согласен", 0.96), or of three words. (Each word, not the line: a typed name whose line took in
    the end of a signature beside it is type.)"""
    lines = [r.lines[0] for r in typed if r.kept and len(r.lines) == 1 and 0 < len(r.lines[0].words) <= INKED_WORDS]
    if not lines:
        return set()
    shares = hand_share(image, [bbox(w.polygon) for ln in lines for w in ln.words], separator(),
                        within=[bbox(ln.polygon) for ln in lines for _ in ln.words])  # a line's words seen at once
    out, i = set(), 0
    for ln in lines:
        if min(shares[i:i + len(ln.words)]) >= INKED_SHARE:
            out.add(ln.id)
        i += len(ln.words)
    return out


UNSURE_LINE = 0.5  # a typed line read less surely than this, in any region, ...


UNSURE_INKED = 0.6  # ... whose ink the ink separation network calls handwriting this much, is a hand's


GARBLED_INKED = 0.35  # ... and so is one with no word of three letters read surely (0.6) with this much


def _garbled(ln: Line) -> bool:
    """No word of three letters or more of the line read surely (``CONFIDENT_WORD``)."""
    return not any(w.conf >= CONFIDENT_WORD and sum(ch.isalpha() for ch in w.text) >= 3 for w in ln.words)


def unsure_inked(image: np.ndarray, typed: list[Region], separator, known: AbstractSet[str] = frozenset()) -> set[str]:
    """Ids of kept typed lines read unsurely whose ink the ink separation network mostly calls handwriting:
    a note's lines that Tesseract read as garbage type in the block of a typed line or a stamp ("Я Ио иво
    7727 2узех", 0.08). Their ink goes to the layout stage like the rest of the page's non-typed ink.
    Lines whose ids are in ``known`` (already shown to the layout stage) are not looked at again."""
    lines = [ln for r in typed if r.kept for ln in r.lines
             if ln.conf is not None and ln.conf < UNSURE_LINE and ln.id not in known]
    if not lines:
        return set()
    shares = hand_share(image, [bbox(ln.polygon) for ln in lines], separator())
    return {ln.id for ln, s in zip(lines, shares, strict=True)
            if s >= UNSURE_INKED or (s >= GARBLED_INKED and _garbled(ln))}


LONE_MAX_WORDS = 2  # a typed line of at most this many words ...


LONE_BELOW = 0.95  # ... read less surely than this, with no typed line near it, may be a handwritten note


def lone_lines(lines: list[Line]) -> set[str]:
    """Ids of short, not quite surely read typed lines with no other typed line within two line heights
    above or below them where they stand: a one- or two-word note in a neat hand that Tesseract read as
    type (a typed date or name stands in a block, or is read surely)."""
    boxes = {ln.id: bbox(ln.polygon) for ln in lines}
    out = set()
    for ln in lines:
        if len(ln.words) > LONE_MAX_WORDS or ln.conf is None or ln.conf >= LONE_BELOW:
            continue
        x0, y0, x1, y1 = boxes[ln.id]
        h = y1 - y0
        if not any(o is not ln and boxes[o.id][0] < x1 and boxes[o.id][2] > x0
                   and boxes[o.id][1] < y1 + 2 * h and boxes[o.id][3] > y0 - 2 * h for o in lines):
            out.add(ln.id)
    return out


PITCH_OFF = 0.15  # a typed line whose words' character pitch is this far off the page's may be a neat hand


PITCH_MIN_WORDS = 10  # ... measured when this many words of three characters and more are read surely


def _pitches(ln: Line, min_conf: float = 0.0) -> list[float]:
    """Width per character of each of a line's words of three characters and more read at least this surely."""
    return [(bbox(w.polygon)[2] - bbox(w.polygon)[0]) / len(w.text) for w in ln.words
            if len(w.text) >= 3 and w.conf >= min_conf]


def off_pitch_lines(lines: list[Line]) -> set[str]:
    """Ids of typed lines each of whose words is much wider or narrower per character than the page's
    surely read type: typewriter type has one pitch, so a note in a neat script that Tesseract read as
    type, even surely ("т. Соколов / Снять с контроля", 0.81-0.96), stands out (1.18-1.23 of the page's
    pitch). Every word: a typed line with a signature's stroke read as one more word is still type."""
    sure = [p for ln in lines for p in _pitches(ln, 0.9)]
    if len(sure) < PITCH_MIN_WORDS:
        return set()
    page = float(np.median(sure))
    out = set()
    for ln in lines:
        rel = [p / page - 1 for p in _pitches(ln)]
        if rel and (all(r > PITCH_OFF for r in rel) or all(r < -PITCH_OFF for r in rel)):
            out.add(ln.id)
    return out


RESCUE_BELOW = 0.9  # a "handwritten" candidate less sure than this is first read as type (0.75 left typed


# blocks in uneven type, p 0.8-0.9, as handwriting: on six reels 0.9 made 3 false handwriting regions typed
# text again, 2 of them typed regions found, and lost none)
RESCUE_CONF = 0.75  # ... and is typed text when Tesseract reads it with at least this mean word confidence


SURE_SHARE = 0.7  # ... and this share of its words read surely (``CONFIDENT_WORD``)


def sure_type(words: list[RawWord], type_height: float | None) -> bool:
    """Whether the words Tesseract read in a piece of the page read alone are type: read surely
    (``RESCUE_CONF``, ``SURE_SHARE``), three characters at least, in letters of the page's ``type_height`` (its
    typed words' median) within the line decision's ``MAX_HEIGHT_DEVIATION`` (a neat note in a large hand is
    read surely, in letters twice the type's height)."""
    if sum(len(w.text) for w in words) < 3:
        return False
    if mean_conf(words) < RESCUE_CONF or sum(w.conf >= CONFIDENT_WORD for w in words) < SURE_SHARE * len(words):
        return False
    dev = typed_lines.MAX_HEIGHT_DEVIATION  # (read here, where the line decision reads it)
    return not (type_height and dev and abs(word_height(words) / type_height - 1) > dev)


def typed_rescue(image: np.ndarray, cands: list, cfg: Config, engine,
                 line_boxes: list[tuple[int, int, int, int]] = (),
                 type_height: float | None = None) -> dict[int, Region | None]:
    """Candidates the classifier only weakly took for handwriting, read alone by Tesseract as a block of
    type: when Tesseract is sure of it, the candidate is typed text, not handwriting (id(candidate) -> a
    region of the lines the page-level call missed, or None when it had them all: ``line_boxes``, the
    page's typed lines, are not read twice). Recovers faint typed lines and saves the handwriting model's
    load on typed pages. Its words' median height must be the page's ``type_height`` (its typed words'
    median) within the line decision's ``MAX_HEIGHT_DEVIATION``, as for the line decision: a neat note in a
    large hand is read surely, in letters twice the type's height. An engine that cannot read a piece of the
    page (``read_lines``) rescues none."""
    weak = [c for c in cands if c.kind == "handwritten" and c.prob < RESCUE_BELOW and c.inked is None]
    if not weak or not hasattr(engine, "read_lines"):
        return {}
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    out = {}
    for k, c in enumerate(weak, start=1):
        try:
            raw = read_region(engine, grey, c.box)
        except EngineError:
            continue  # stays a handwriting candidate
        if not sure_type([w for ln in raw for w in ln.words], type_height):
            continue
        raw = [ln for ln in raw if not any(cover(ln.box, b) >= 0.3 or cover(b, ln.box) >= 0.3 for b in line_boxes)]
        if not raw:
            out[id(c)] = None
            continue
        out[id(c)] = raw_region(f"t{k:03d}", c.box, raw)
    return out


def raw_region(rid: str, box: Box, raw: list[RawLine]) -> Region:
    """A typed region of lines a piece of the page was read in alone (``read_region``)."""
    lines = tuple(Line(f"{rid}_l{i:03d}", ln.text, box_polygon(ln.box), ((ln.box[0], ln.box[3]), (ln.box[2], ln.box[3])),
                       mean_conf(ln.words), tuple(Word(w.text, w.conf, box_polygon(w.box)) for w in ln.words))
                  for i, ln in enumerate(raw, start=1))
    return Region(rid, box_polygon(box), lines, production="typewritten", type="paragraph")


def _cover_union(box: Box, boxes: tuple[Box, ...]) -> float:
    """Share of ``box`` inside the union of ``boxes``."""
    w, h = box[2] - box[0], box[3] - box[1]
    inside = np.zeros((max(h, 0), max(w, 0)), bool)
    for b in boxes:
        inside[max(0, b[1] - box[1]):max(0, b[3] - box[1]), max(0, b[0] - box[0]):max(0, b[2] - box[0])] = True
    return float(inside.mean()) if inside.size else 0.0


INKED_IN_HAND = 0.2  # a line read unsurely whose ink is a hand's is a handwriting region's with more than this in it


def hidden_by_handwriting(ln: Line, hands: list[tuple[Box, tuple[Box, ...]]], page_size: tuple[int, int],
                          inked: bool = False, unread_lang: str = "") -> bool:
    """Whether a kept typed line lies in a handwriting region (its ink is the region's, read with it), so
    that it leaves the typed text. ``hands``: each region's outline and the boxes of its parts (the
    candidates joined into the note; empty: the outline alone). In: 80 % of the line inside the parts, or
    inside the outline with less than half its words read surely (a typed line between a note's lines,
    inside its outline, read surely, stays typed text, though a note's stroke across it leaves a word
    unsure). A page number ("- 3 -" where the pipeline keeps one) stays typed text though a note written
    about it makes a handwriting region over it. A line Tesseract read unsurely whose ink the ink separation
    network calls a hand's (``inked``, ``unsure_inked``: its ink was shown to the layout stage) is in with more
    than ``INKED_IN_HAND`` of it inside the outline: the region read that ink, and the line, kept, read it
    twice (as garbage type beside the note's reading). Where handwriting is not read (``unread_lang``, the
    page's languages: no reading replaces Tesseract's), a line whose words are at least half read surely as
    words of those languages stays typed text wherever it lies (an underlined typed heading)."""
    box = bbox(ln.polygon)
    if page_number_match(ln.text, box, page_size) is not None:
        return False
    if inked and any(cover(box, outline) > INKED_IN_HAND for outline, _ in hands):
        return True
    sure = (sum(wd.conf >= CONFIDENT_WORD for wd in ln.words) / len(ln.words) if ln.words
            else float(ln.conf >= CONFIDENT_WORD))
    if unread_lang and ln.words and sum(wd.conf >= CONFIDENT_WORD and known_word(wd.text, unread_lang, 3)
                                        for wd in ln.words) >= 0.5 * len(ln.words):
        return False
    return any(cover(box, outline) >= 0.8 and (sure < 0.5 or not parts or _cover_union(box, parts) >= 0.8)
               for outline, parts in hands)
