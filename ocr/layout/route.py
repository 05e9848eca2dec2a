"""The layout stage: find, classify and read what is not typed text on a page (handwriting, stamps)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..config import Config
from ..engines.base import CYRILLIC_LANGS
from ..engines.kraken_lines import missing as kraken_missing
from ..errors import EngineError
from ..model import REJECTED_NOTE, STAMP_TEXT, Graphic, Line, Region, Word, bbox, box_polygon, cover
from ..typed.lexicon import WORD_LISTS
from ..typed.words import wordfreq_langs
from . import inksep
from .candidates import candidates
from .classifier import classify, load_model
from .hand_ink import hand_across, hand_only, hand_share
from .handwriting import read_handwriting, written_noise
from .hw_conf import with_review_conf
from .signatures import join_note_lines, signature_stack
from .stamp_text import (
    capitals,
    dates_again,
    fields as stamp_fields,
    legible,
    read_stamp,
    set_in_capitals,
    with_roman_month,
)
from .stamps import has_outline, noise_parts, resolve_finer, stamp_outlines, suppress, unprinted_stamps
from .typed_or_hand import (
    hidden_by_handwriting,
    inked_lines,
    lone_lines,
    off_pitch_lines,
    raw_region,
    typed_boxes,
    typed_rescue,
    unsure_inked,
    unsure_text,
)
from .typed_under import typed_under

MIN_PROB = 0.5  # a candidate is handwriting or a stamp when the classifier is this sure of it (else noise)


@dataclass
class Routed:
    typed: list[Region] = field(default_factory=list)  # the typed regions less the lines that lie on stamps
    regions: list[Region] = field(default_factory=list)
    graphics: list[Graphic] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def route(image: np.ndarray, typed: list[Region], border, xheight: float | None, cfg: Config, engine) -> Routed:
    """Find, classify and read the non-typed regions of a page (original image, BGR or grey); ``engine`` (the
    page's) reads the pieces of the page the layout stage asks about (``engines.base.read_region``)."""
    lc = cfg.layout
    out = Routed()
    kept_lines = [ln for r in typed if r.kept for ln in r.lines]
    line_boxes = [bbox(ln.polygon) for ln in kept_lines]
    # lone lines' ink is shown to the classifier: a short note Tesseract read as type may be handwriting
    lone = lone_lines(kept_lines) | off_pitch_lines(kept_lines)
    cyrillic = bool(set(cfg.run.lang.split("+")) & CYRILLIC_LANGS)
    # handwriting is read only in a Cyrillic language, with kraken and the model: elsewhere its regions stay
    # empty, and typed text found inside them is set aside with the reason
    unread = ("[layout] handwriting = false" if not lc.handwriting else
              f"the handwriting model reads Cyrillic; lang is {cfg.run.lang}" if not cyrillic else kraken_missing())
    hand_read = not unread

    def separator():
        """The ink separation network, loaded (PyTorch imported) on first use."""
        return inksep.load(lc.ink_model or None)

    inked: set[str] = set()  # typed lines read unsurely whose ink is a hand's
    if lc.separate_ink and cyrillic:  # trained on Cyrillic typescripts, it takes some Latin type for a hand
        lone |= inked_lines(image, typed, separator)
        if hand_read:
            inked = unsure_inked(image, typed, separator, lone)
            lone |= inked
    words, shown_boxes = typed_boxes([ln for ln in kept_lines if ln.id not in lone], cfg.run.lang)
    cands = candidates(image, words, border, xheight, shown_boxes)
    classify(cands, load_model(lc.model or None))
    cands = resolve_finer(cands) + (noise_parts(cands) if hand_read else [])
    outlines = stamp_outlines(cands, MIN_PROB) if lc.separate_ink else []
    if outlines:
        cands += hand_across(image, outlines, xheight, border, separator())
    unsure = unsure_text(cands, [ln for r in typed if not r.kept for ln in r.lines])
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    unprinted = unprinted_stamps(image, grey, [c for c in cands if c.prob >= MIN_PROB], engine)
    kraken: dict = {}

    def reader():
        """The handwriting model, loaded on first use (None, with the reason recorded, when it does not load)."""
        if "reader" not in kraken:
            from ..engines.kraken_lines import load as load_kraken

            try:
                kraken["reader"] = load_kraken(lc.handwriting_model or None)
                if lc.handwriting_lexicon:
                    from ..htr.lexicon import with_lexicon

                    kraken["reader"] = with_lexicon(kraken["reader"], cfg.run.lang)
                out.info["kraken"] = kraken["reader"].version
            except EngineError as e:  # the run checked the file, but it does not load: the lines say why
                kraken["reader"], kraken["error"] = None, str(e)
                out.info["handwriting_error"] = str(e)
        return kraken["reader"]

    reads: dict = {}  # handwriting regions already read (written_noise), by box
    ink_share = (lambda box: hand_share(image, [box], separator())[0]) if lc.separate_ink else None
    written = (written_noise(grey, cands, reader, xheight or 20.0, MIN_PROB, reads, ink_share)
               if hand_read else [])
    unsure_ids = {id(c) for c in unsure + written}  # kept below min_prob (not compared by value: features are arrays)
    keep = suppress([c for c in cands if c.kind != "noise" and (c.prob >= MIN_PROB or id(c) in unsure_ids)])
    heights = [b[3] - b[1] for b in (bbox(w.polygon) for ln in kept_lines for w in ln.words)]
    type_height = float(np.median(heights)) if heights else None
    rescued = typed_rescue(image, keep, cfg, engine, line_boxes, type_height)
    if rescued:
        keep = [c for c in keep if id(c) not in rescued]
        out.typed.extend(r for r in rescued.values() if r is not None)
    keep = join_note_lines(keep, image.shape[1], words_apart=hand_read)
    stamps = [c.box for c in keep if c.kind == "stamp"]
    # typed text between a note's lines or words, inside the joined note's outline, read surely, is typed
    # text (and its words are not read with the note: ``typed_words``)
    hands = [(c.box, c.parts) for c in keep if c.kind == "handwritten"]
    page_size = (image.shape[1], image.shape[0])
    stamp_lines = []
    typed_words = []  # the boxes of the words of the typed lines that stay typed text
    for r in typed:
        # typed lines that lie on a stamp are the stamp's text; ones inside handwriting were handwriting
        # read as type (the kraken model reads them again with their region)
        inside = [ln for ln in r.lines if r.kept and any(cover(bbox(ln.polygon), b) >= 0.6 for b in stamps)]
        in_hand = [ln for ln in r.lines if r.kept and ln not in inside
                   and hidden_by_handwriting(ln, hands, page_size, ln.id in inked,
                                                                     "" if hand_read else cfg.run.lang)]
        stamp_lines += inside
        rest = tuple(ln for ln in r.lines if ln not in inside and ln not in in_hand)
        typed_words += [bbox(w.polygon) for ln in rest if r.kept for w in ln.words]
        if rest:
            out.typed.append(r if len(rest) == len(r.lines) else
                             Region(r.id, box_polygon(bbox([p for ln in rest for p in ln.polygon])), rest, r.production,
                                    r.type, r.kept, r.note))
        if in_hand and not hand_read:  # no reading replaces Tesseract's: it stays, set aside with the reason
            why = f"in a handwriting region, not read ({unread})"
            rid = f"{r.id}h"
            out.typed.append(Region(rid, box_polygon(bbox([p for ln in in_hand for p in ln.polygon])),
                                    tuple(dataclasses.replace(ln, id=f"{rid}_l{j:03d}", note=why)
                                          for j, ln in enumerate(in_hand, start=1)), None, "paragraph",
                                    False, REJECTED_NOTE))
    # typed lines under a note (a heading it is written across) are read without the hand's ink
    under: dict = {}
    if lc.separate_ink and hand_read and cyrillic:
        staying = [bbox(ln.polygon) for r in out.typed if r.kept for ln in r.lines] + [
            bbox(ln.polygon) for ln in stamp_lines]
        for c in keep:
            if c.kind == "handwritten" and (u := typed_under(image, grey, c.box, staying, engine, separator(),
                                                             xheight or 20.0, type_height, cfg.run.lang)):
                under[c.box] = u
                staying += [ln.box for ln in u.lines]
                out.typed.append(raw_region(f"u{len(under):03d}", bbox([p for ln in u.lines for p in
                                                                        box_polygon(ln.box)]), u.lines))
        keep = [c for c in keep if c.box not in under or under[c.box].note_left]
    if lc.handwriting and unread:
        out.info["handwriting_note"] = f"handwriting regions not read: {unread}"
    model = reader() if hand_read and any(c.kind == "handwritten" for c in keep) else None
    load_error = kraken.get("error", "")
    h_page = image.shape[0]
    n_h = n_s = 0
    stamp_info: list[dict] = []  # each stamp's registry fields
    word_langs = wordfreq_langs(cfg.run.lang, WORD_LISTS)  # a stamp ring's words are spelt by these lists
    for c in sorted(keep, key=lambda c: (c.kind != "handwritten", c.box[1], c.box[0])):
        if c.kind == "handwritten":
            # a note written over a stamp is cut into lines and read without the stamp's ink (``hand_only``)
            over_stamp = lc.separate_ink and c.box not in reads and any(cover(c.box, b) > 0 for b in stamps)
            page_grey = (hand_only(image, grey, c.box, separator()) if over_stamp else
                         under[c.box].page if c.box in under else grey)
            lines, angle = reads.get(c.box) or read_handwriting(page_grey, c.box, f"h{n_h + 1:03d}", model,
                                                                xheight or 20.0, c.parts, typed_words)
            lines = [with_review_conf(ln) for ln in lines]
            if load_error:
                lines = [dataclasses.replace(ln, note=load_error) for ln in lines]
            note = f"memo-ocr {{layout-prob:{c.prob:.2f}; upright-angle:{angle:.1f};}}"
            stacked = signature_stack(lines, line_boxes, angle, (image.shape[1], h_page))
            for group in stacked or [lines]:
                n_h += 1
                rid = f"h{n_h:03d}"
                box = c.box if not stacked else bbox([p for ln in group for p in ln.polygon])
                group = [dataclasses.replace(ln, id=f"{rid}_l{i:03d}") for i, ln in enumerate(group, start=1)]
                cy = (box[1] + box[3]) / 2
                beside_typed = any(t[1] - 20 <= cy <= t[3] + 20 for t in line_boxes)
                signature = bool(stacked) or (len(group) <= 1 and abs(angle) < 45 and cy > 0.5 * h_page
                                              and beside_typed)
                out.regions.append(Region(rid, box_polygon(box), tuple(group), production="handwritten-cursive",
                                          type="signature-mark" if signature else "marginalia", kept=True, note=note))
        else:
            n_s += 1
            sid = f"s{n_s:03d}"
            out.graphics.append(Graphic(sid, box_polygon(c.box), "stamp"))
            # the stamp's straight lines Tesseract already read as typed text
            on_stamp = [ln for ln in stamp_lines if cover(bbox(ln.polygon), c.box) >= 0.6]
            raw = []
            if lc.stamp_text:
                on_stamp, raw, block = _stamp_text(image, grey, c.box, engine, on_stamp, outlined=has_outline(c),
                                                   separator=separator if lc.separate_ink else None,
                                                   langs=word_langs)
                if block:
                    out.typed = _less_stamp_words(out.typed, c.box, [ln.text for ln in on_stamp])
            lines = tuple(dataclasses.replace(ln, id=f"{sid}_t_l{i:03d}") for i, ln in enumerate(on_stamp, start=1))
            found = stamp_fields([ln.text for ln in lines] + raw)  # registry number and date
            if found:
                stamp_info.append({"id": sid, **found})
            if lines:
                note = STAMP_TEXT + (
                    " stamp {" + "".join(f"{k}:{v};" for k, v in found.items()) + "}" if found else "")
                out.regions.append(Region(f"{sid}_t", box_polygon(c.box), lines, production="printed", type="other",
                                          kept=True, note=note))
    out.regions = _stamps_in_capitals(out.regions)
    out.info["layout"] = {"candidates": len(cands), "handwritten": n_h, "stamps": n_s, "typed_rescued": len(rescued),
                          "unsure_text_as_handwriting": len(unsure), "read_as_handwriting": len(written),
                          "typed_under_notes": sum(len(u.lines) for u in under.values()),
                          "unprinted_stamps_as_handwriting": len(unprinted)}
    if stamp_info:
        out.info["stamp_fields"] = stamp_info
    return out


def _stamps_in_capitals(regions: list[Region]) -> list[Region]:
    """The page's stamps' lines, their words and letters, in capitals where most of their letters, the page's
    stamps taken together, are read so (``stamp_text.set_in_capitals``): a ring read in small letters beside
    its centre and a registry stamp read in capitals is set in capitals as they are."""
    stamps = [r for r in regions if STAMP_TEXT in r.note]
    if not set_in_capitals([ln.text for r in stamps for ln in r.lines]):
        return regions

    def word(w: Word) -> Word:
        return dataclasses.replace(w, text=capitals(w.text),
                                   glyphs=tuple(dataclasses.replace(g, text=capitals(g.text)) for g in w.glyphs))

    def line(ln: Line) -> Line:
        return dataclasses.replace(ln, text=capitals(ln.text), words=tuple(map(word, ln.words)))

    return [dataclasses.replace(r, lines=tuple(map(line, r.lines))) if STAMP_TEXT in r.note else r for r in regions]


def _shift(box: tuple[int, int, int, int], dx: int, dy: int) -> tuple[int, int, int, int]:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def _stamp_text(image: np.ndarray, grey: np.ndarray, box: tuple[int, int, int, int], engine,
                typed: list[Line], outlined: bool = True, separator=None,
                langs: tuple[str, ...] = ()) -> tuple[list[Line], list[str], bool]:
    """The lines of the stamp at ``box``, every line as read (``read_stamp``), and whether the stamp's own
    reading replaced the page's (its words then not kept twice). ``typed``: the lines the page's reading
    found on it, their dates read again where they hold a year but give none. A round stamp's ring text
    (read only here) comes first, then its
    centre: the page's lines there or the stamp's own reading of it, whichever has more legible letters;
    another stamp is read as a block, and that reading kept where it has more legible letters (the page's
    reading often finds a turned stamp's lines in pieces). Its words are taken out of the typed lines
    beside it only where the stamp has an outline (``outlined``: a ring or a frame was found; ink the
    classifier alone calls a stamp may be typing, as on a French typescript whose typed words went so).
    ``separator``: the ink separation network's loader, with which a colour stamp is read without the
    typing behind it; ``langs``: the word lists (wordfreq codes) a ring's words are spelt by."""
    x0, y0 = box[:2]
    typed = list(typed)
    for i, again in dates_again(engine, grey[y0:box[3], x0:box[2]], [
            (ln.text, _shift(bbox(ln.polygon), -x0, -y0)) for ln in typed]).items():
        typed[i] = dataclasses.replace(typed[i], text=again, words=())
    for i, ln in enumerate(typed):
        if (written := with_roman_month(ln.text)) != ln.text:
            typed[i] = dataclasses.replace(ln, text=written, words=())
    reading = read_stamp(image, box, engine, separator, langs)
    read = [Line("", t, box_polygon(box), (), conf) for t, conf in reading.lines]
    if reading.round:  # the ring, then the centre: the page's lines there or the stamp's, whichever reads more
        ring, centre = read[:reading.ring_lines], read[reading.ring_lines:]
        inside = [ln for ln in typed if cover(bbox(ln.polygon), reading.centre) >= 0.6]
        if legible([ln.text for ln in inside]) >= legible([ln.text for ln in centre]):
            centre = inside
        return ring + centre + [ln for ln in typed if ln not in inside], reading.raw, False
    if typed and legible([ln.text for ln in typed]) >= legible([t for t, _ in reading.lines]):
        return typed, reading.raw, False
    return read, reading.raw, outlined


def _key(word: str) -> str:
    return "".join(ch for ch in word.casefold() if ch.isalnum())


def _less_stamp_words(regions: list[Region], box: tuple[int, int, int, int], stamp: list[str]) -> list[Region]:
    """``regions`` less the words that lie on the stamp at ``box`` and are read in its text too, where the
    stamp's own reading replaced the page's: the page's reading joins a stamp's line to the typed words beside
    it ("31460 77. Гири"), and the stamp's reading has that line again. A line whose words and text do not
    match one to one is left as it is."""
    seen = {_key(w) for t in stamp for w in t.split() if len(_key(w)) >= 2}
    out = []
    for r in regions:
        lines = []
        for ln in r.lines:
            tokens = ln.text.split()
            drop = {i for i, w in enumerate(ln.words) if _key(w.text) in seen and cover(bbox(w.polygon), box) >= 0.6}
            if not drop or len(tokens) != len(ln.words) or not r.kept:
                lines.append(ln)
            elif len(drop) < len(tokens):
                words = tuple(w for i, w in enumerate(ln.words) if i not in drop)
                lines.append(dataclasses.replace(ln, text=" ".join(t for i, t in enumerate(tokens) if i not in drop),
                                                 words=words, polygon=box_polygon(bbox([p for w in words
                                                                                         for p in w.polygon]))))
        if len(lines) == len(r.lines) and all(a is b for a, b in zip(lines, r.lines, strict=True)):
            out.append(r)
        elif lines:
            out.append(dataclasses.replace(r, lines=tuple(lines)))
    return out
