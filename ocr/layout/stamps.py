"""Stamps: candidates grouped with their outlines, handwriting split off a stamp's group, weak stamps that
do not read as print (a stamp's text: ``stamp_text``)."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..engines.base import mean_conf, read_region
from ..errors import EngineError
from ..model import bbox, cover, iou
from .candidates import FEATURES
from .handwriting import crop_angle, rotate
from .ring_strip import ringed

SPLIT_HAND_PROB = 0.8  # how sure the classifier must be of the handwriting split off a stamp's group


FINER_UNCLEAR = 0.5  # a group the classifier gives no kind this surely ...


FINER_HAND = 0.8  # ... is replaced by its tighter parts it calls handwriting at least this surely


def _sure_hand_part(c) -> bool:
    """Whether ``c`` is a tighter part of a group (``Candidate.finer_of``) the classifier surely calls handwriting."""
    return c.finer_of is not None and c.kind == "handwritten" and c.prob >= FINER_HAND


def resolve_finer(cands: list) -> list:
    """The candidates, with a group the classifier cannot name replaced by the parts of it that, regrouped
    more tightly (``Candidate.finer_of``), it calls handwriting surely, as one candidate: the group
    less what is not handwriting (a typed heading's unsurely read word a note ran into). Several
    signatures are split later by their lines (``signature_stack``). Parts lying in a stamp's ring or
    frame are the stamp's lettering, never adopted. Other tighter parts are dropped."""
    outlines = [c.box for c in cands if c.finer_of is None and c.kind == "stamp" and has_outline(c)]
    adopted: dict = {}  # id of the group -> its handwriting parts
    for c in cands:  # a part in a stamp's outline is the stamp's own lettering
        if _sure_hand_part(c) and c.finer_of.prob < FINER_UNCLEAR and all(cover(c.box, o) < 0.5 for o in outlines):
            adopted.setdefault(id(c.finer_of), []).append(c)
    joined = [dataclasses.replace(parts[0], box=bbox([q for p in parts for q in (p.box[:2], p.box[2:])]),
                                  prob=min(p.prob for p in parts)) for parts in adopted.values()]
    return [c for c in cands if c.finer_of is None and id(c) not in adopted] + joined


def noise_parts(cands: list) -> list:
    """The tighter parts that ``resolve_finer`` drops which the classifier surely calls handwriting, of groups
    it surely calls noise, as candidates of their own called noise (their probabilities kept), for
    ``handwriting.written_noise`` to read: a note whose lines Tesseract read as garbage type is one group
    with those lines, which the classifier takes for noise, though each line of it alone looks like a hand;
    a line of it the handwriting model reads surely is handwriting."""
    return [dataclasses.replace(c, kind="noise", prob=1.0 - c.prob, finer_of=None) for c in cands
            if _sure_hand_part(c) and c.finer_of.kind == "noise" and c.finer_of.prob >= FINER_UNCLEAR]


_SOURCE = FEATURES.index("source")  # a candidate's source: above 0 where a ring or a frame was found


def has_outline(c) -> bool:
    """Whether candidate ``c`` is a ring or a frame found in the ink (not ink the classifier alone calls a stamp)."""
    return c.features.size > _SOURCE and c.features[_SOURCE] > 0


def stamp_outlines(cands: list, min_prob: float) -> list[tuple[tuple[int, int, int, int], bool]]:
    """(box, round?) of the ring and frame candidates classified stamp at least ``min_prob`` surely."""
    return [(c.box, bool(c.features[_SOURCE] == 1.0)) for c in cands if c.kind == "stamp" and c.prob >= min_prob
            and c.inked is None and has_outline(c)]


INKED_JOIN = 0.5  # a handwriting candidate lying this much in one found across a stamp is part of it


def suppress(cands: list) -> list:
    """One region per thing: stamps first (most probable first), then what they do not mostly cover.

    A signature written across a stamp is inked into one group with it, which the classifier may call a
    stamp. Where the ink separation network found it (``Candidate.inked``), it is kept though the stamp
    covers it, other handwriting candidates lying mostly in it or holding most of it join it (the region
    grows to hold both), and a stamp that took it in is
    given its outline's box. Else the ink outside the stamp's outline is a candidate of its own
    (``Candidate.split_of``): when that part is handwriting, the stamp is given its outline's box and the
    handwriting is kept."""
    out: list = []
    inked: list = []
    for c in sorted(cands, key=lambda c: (c.kind != "stamp", c.inked is None, -c.prob)):
        if c.inked is not None:
            outline = c.inked[1]
            if any(cover(c.box, o.box) >= 0.8 for o in inked):
                continue
            out = [dataclasses.replace(o, box=outline) if o.kind == "stamp" and o.box != outline
                   and cover(outline, o.box) >= 0.9 and cover(c.box, o.box) >= 0.5 else o for o in out]
            inked.append(c)
            out.append(c)
            continue
        if c.kind == "handwritten" and c.split_of is not None and c.prob >= SPLIT_HAND_PROB:
            group, outline = c.split_of
            out = [dataclasses.replace(o, box=outline) if o.kind == "stamp" and o.box == group else o for o in out]
        if any(o.kind == "stamp" and (cover(c.box, o.box) >= 0.6 or iou(c.box, o.box) >= 0.3) for o in out):
            continue
        if c.kind == "handwritten":
            home = next((o for o in inked if cover(c.box, o.box) >= INKED_JOIN or cover(o.box, c.box) >= INKED_JOIN),
                        None)
            if home is not None:  # a part of a signature found across a stamp: the region grows to hold it
                grown = dataclasses.replace(home, box=bbox([home.box[:2], home.box[2:], c.box[:2], c.box[2:]]))
                out = [grown if o is home else o for o in out]
                inked = [grown if o is home else o for o in inked]
                continue
            if any(o.kind == "handwritten" and cover(c.box, o.box) >= 0.8 for o in out):
                continue
        out.append(c)
    return out


PRINT_BELOW = 0.7  # a stamp candidate classified less surely than this, in which no outline was found ...


PRINT_CONF = 0.4  # ... is a stamp only if Tesseract reads it as print with at least this mean word confidence


PRINT_ASKEW = 4.0  # (read turned upright when its rows lie this many degrees off the horizontal or more)


def unprinted_stamps(image: np.ndarray, grey: np.ndarray, cands: list, engine) -> list:
    """Candidates the classifier weakly called stamps, with no ring or frame found in them, whose ink
    Tesseract cannot read as print: a stamp is printed type (a frameless date stamp reads as print), a
    squat three-line resolution note ("т. Морозов / исполнено / 6.VIII.55") is not, and the classifier,
    seeing its size and place, took it for a stamp. A candidate whose rows lie askew is read turned upright
    (a rectangular stamp set down 15 degrees askew, its frame not found, read as a hand as it lay).
    One whose own crop holds a ring or an oval (``ring_strip.ringed``) stays a stamp: a worn round stamp,
    struck twice or faint, reads as print no better than a hand, and the page's ring search missed its ring.
    Returns them, made handwritten with the probability that they are not noise (``image``: the page, ``grey``
    its grey; an engine that cannot read a piece of the page leaves them stamps)."""
    if not hasattr(engine, "read_lines"):
        return []
    out = []
    for c in cands:
        f = dict(zip(FEATURES, c.features, strict=True))
        if c.kind != "stamp" or c.prob >= PRINT_BELOW or f["perimeter"] > 0 or f["source"] > 0:
            continue
        if ringed(image, c.box):
            continue
        x0, y0, x1, y1 = c.box
        region = grey[y0:y1, x0:x1]
        crop, box = grey, c.box
        # a stamp set down askew is read turned upright (Tesseract reads type 15 degrees off as badly as a hand)
        angle = crop_angle(region)
        if PRINT_ASKEW <= abs(angle) < 45:
            crop = rotate(region, angle, int(np.percentile(region, 90)))[0]
            box = (0, 0, crop.shape[1], crop.shape[0])
        try:
            raw = read_region(engine, crop, box)
        except EngineError:
            continue  # stays a stamp
        if mean_conf([w for ln in raw for w in ln.words]) >= PRINT_CONF:
            continue
        c.kind, c.prob = "handwritten", 1.0 - (c.probs or {}).get("noise", 0.0)
        out.append(c)
    return out
