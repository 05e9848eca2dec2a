"""Signatures and notes: a signature's lines stacked beside typed lines, and the lines of one note joined."""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from ..model import Box, Line, bbox

SIGNATURE_COLUMN = (0.45, 0.72)  # signatures stand centred in this band of the page's width


NOTE_GAP = 2.0  # lines of one note lie at most this many (of the smaller one's) heights apart ...


NOTE_OVERLAP = 0.05  # ... and overlap by at least this share of the narrower one


NOTE_LEVEL = 0.3  # words of one slanted line: side by side, level by this share of the smaller one's height ...


NOTE_WORD_GAP = 2.5  # ... and this many of the taller one's heights apart at most (a hand's words stand
# further apart than its letters' height suggests; docs/benchmarks.md, "What pays"), ...


OUTLINE_WORD_GAP = 1.5  # (where the handwriting is not read, words join within this many of the smaller one's heights)


NOTE_WORD_HEIGHTS = 2.0  # ... the taller at most this many times as tall (else the gap in the smaller's height)


NOTE_STEP = 0.5  # words of a slanted line, level by less: at most this many of the smaller's heights off level
# (and overlapping side by side by at most as much)


def _in_signature_column(box: tuple[int, int, int, int], page_w: int) -> bool:
    return SIGNATURE_COLUMN[0] * page_w <= (box[0] + box[2]) / 2 <= SIGNATURE_COLUMN[1] * page_w



def _under(a: Box, b: Box, page_w: int) -> bool:
    """``b`` a line of the note whose line ``a`` starts higher: close below it and overlapping it."""
    h = min(a[3] - a[1], b[3] - b[1])
    overlap = min(a[2], b[2]) - max(a[0], b[0])
    return (b[1] - a[3] <= NOTE_GAP * h and b[3] > a[3] and overlap >= NOTE_OVERLAP * min(a[2] - a[0], b[2] - b[0])
            and not (_in_signature_column(a, page_w) and _in_signature_column(b, page_w)))


def _beside(a: Box, b: Box, page_w: int = 0, reach_tall: bool = True) -> bool:
    """``a`` and ``b`` words of one line: level, close side by side or overlapping, both wider than the
    smaller one's height. Of like height, the gap is at most ``NOTE_WORD_GAP`` of the taller one's height
    (or with ``reach_tall`` False, ``OUTLINE_WORD_GAP`` of the smaller one's); of unlike height (a word beside a note's lines already joined,
    or beside a line whose two lines the ink grouping took as one) in the smaller one's, and the taller one
    must be wider than tall (a scan's dark edge is not a note). Level: by ``NOTE_LEVEL`` of the smaller one's
    height, or (with ``reach_tall``) a slanted line's words stepping down or up corner to corner, apart
    and off level by at most ``NOTE_STEP`` of it. ``page_w`` is not used: every rule that ``_turned`` turns
    takes it. Boxes that overlap count: a slanted note's words, or a line's words found in two parts, lie
    in boxes that reach into each other."""
    h, tall = min(a[3] - a[1], b[3] - b[1]), max(a[3] - a[1], b[3] - b[1])
    level = min(a[3], b[3]) - max(a[1], b[1])
    side = max(a[0], b[0]) - min(a[2], b[2])  # the gap between them, side by side (< 0: they overlap)
    alike = tall <= NOTE_WORD_HEIGHTS * h
    taller = a if a[3] - a[1] >= b[3] - b[1] else b
    reach = tall if reach_tall and alike else h
    # a slanted line's words step down (or up) one after the other: their boxes level by little or not at
    # all, corner to corner
    stepped = level >= -NOTE_STEP * h and side >= -NOTE_STEP * h
    gap = NOTE_WORD_GAP if reach_tall else OUTLINE_WORD_GAP
    return ((level >= NOTE_LEVEL * h or (reach_tall and stepped)) and side <= gap * reach
            and min(a[2] - a[0], b[2] - b[0]) >= h and (alike or (reach_tall and taller[2] - taller[0] >= tall)))


def _turned(rule, a: Box, b: Box, page_w: int) -> bool:
    """``rule`` as it is, or, for two boxes both taller than wide (a note written up or down a margin), turned."""
    if rule(a, b, page_w):
        return True
    if a[3] - a[1] > a[2] - a[0] and b[3] - b[1] > b[2] - b[0]:
        ta, tb = sorted(((a[1], a[0], a[3], a[2]), (b[1], b[0], b[3], b[2])), key=lambda x: x[1])
        return rule(ta, tb, 0)  # no signature column across a margin
    return False


def _outline(group: list) -> Box:
    return (min(c.box[0] for c in group), min(c.box[1] for c in group), max(c.box[2] for c in group),
            max(c.box[3] for c in group))


def _connected(cands: list, joins) -> list[list]:
    """``cands`` in groups joined where ``joins(upper, lower)`` holds for the boxes of a candidate of each,
    until nothing more joins: the connected groups (single linkage, each pair tried once; a joined group's
    outline, which grows with each join, would reach across the page)."""
    root = list(range(len(cands)))

    def find(k: int) -> int:
        while root[k] != k:
            root[k] = root[root[k]]
            k = root[k]
        return k

    for i, j in itertools.combinations(range(len(cands)), 2):
        if find(i) != find(j) and joins(*sorted((cands[i].box, cands[j].box), key=lambda x: x[1])):
            root[find(j)] = find(i)
    groups: dict[int, list] = {}
    for k, c in enumerate(cands):
        groups.setdefault(find(k), []).append(c)
    return list(groups.values())


def _outlined(cands: list, joins) -> list[list]:
    """``cands`` in groups joined where ``joins(upper, lower)`` holds for the outlines of what is joined,
    each group once against the ones before it."""
    groups = [[c] for c in cands]
    i = 1
    while i < len(groups):
        for j in range(i):
            if joins(*sorted((_outline(groups[j]), _outline(groups[i])), key=lambda x: x[1])):
                groups[j] += groups.pop(i)
                break
        else:
            i += 1
    return groups


def join_note_lines(cands: list, page_w: int, words_apart: bool = True) -> list:
    """Handwriting candidates that are one note joined into one: candidates joined where one is beside or
    under the other, until nothing more joins (a note's first line joins its third through its second).
    Beside: the words of one line found apart (a hand larger than the type leaves wider gaps between its
    words than the ink grouping, scaled to the type, bridges; the gap is measured in the taller word's
    height, a short word such as "и" being only an x-height tall), or a word beside a candidate holding
    a line's two lines. Under: the lines one under the other, close and overlapping: the lines of a note
    written wider apart than the ink grouping bridges, a slanted note's staggered lines (they overlap
    little), a note whose middle line Tesseract took into a typed line (the others stand two line heights
    apart); not in the signature column, where signatures of several signatories stand as close one under
    another (``signature_stack``). A note written up a margin, the same turned. Order is kept, a group
    in its first member's place.

    ``words_apart`` False (pages whose handwriting is not read): words joined only within the smaller
    one's height, nothing turned, by the outlines of what is joined, in one pass; the region is its
    outline (no ``parts``). Joining serves reading; where the regions are not read, a larger one only
    sets more typed lines aside (French typescripts, confirming half: 10.57 -> 10.98 % with it)."""
    hands = sorted((c for c in cands if c.kind == "handwritten"), key=lambda c: c.box[1])
    groups = (_connected(hands, lambda a, b: _turned(_under, a, b, page_w) or _turned(_beside, a, b, page_w))
              if words_apart else
              _outlined(hands, lambda a, b: _under(a, b, page_w) or _beside(a, b, reach_tall=False)))
    order = {id(c): k for k, c in enumerate(cands)}
    joined, absorbed = {}, set()
    for g in groups:
        if len(g) > 1:
            head = min(g, key=lambda c: order[id(c)])
            joined[id(head)] = dataclasses.replace(head, box=_outline(g), prob=min(c.prob for c in g),
                                                 parts=tuple(c.box for c in g) if words_apart else ())
            absorbed |= {id(c) for c in g if c is not head}
    return [joined.get(id(c), c) for c in cands if id(c) not in absorbed]


STACK_LEVEL = 0.5  # a signature is level with a typed line when its middle is at most this many of the


# line's heights above or below it (signatures written between the title lines: 0.3 missed by 2 px)
STACK_BASELINES = 1.0  # ... or how far apart their baselines are at least, in typed lines' heights (their outlines)


STACK_OVERLAP = 0.4  # how much (of the lower line's or upper line's height) stacked signatures may overlap


def signature_stack(lines: list[Line], line_boxes: list[tuple[int, int, int, int]], angle: float,
                    page_size: tuple[int, int]) -> list[list[Line]]:
    """Signatures of several signatories found as one region. A stack when: level lines, each under the
    one before (overlapping it by at most ``STACK_OVERLAP`` of a line's height), centred in the signature
    column (45-72 % of the page width, between the typed titles and the typed names; a note in the right
    margin lies beyond it), and at least one of them level with a typed line (``STACK_LEVEL``). Returns one group per
    signature, or [] when the region is not such a stack (a note of several lines stays one region)."""
    if len(lines) < 2 or abs(angle) >= 45:
        return []
    boxes = [bbox(ln.polygon) for ln in lines]
    if not all(_in_signature_column(b, page_size[0]) for b in boxes):
        return []
    # one under the next: slanted signatures' descenders and flourishes overlap the next by up to 40 % (a third did not split
    # seed 7000's slanted pair, 52 px of a 139 px line);
    # the line cutter's outlines of two signatures a line apart overlapped by half their height: their
    # baselines, a typed line's outline height apart or more (the line pitch), tell them apart too
    typed_h = float(np.median([t[3] - t[1] for t in line_boxes])) if line_boxes else 0.0

    def base(ln: Line, b) -> float:
        return float(np.mean([p[1] for p in ln.baseline])) if ln.baseline else float(b[3])

    if not all(b2[1] >= b1[3] - STACK_OVERLAP * min(b1[3] - b1[1], b2[3] - b2[1])
               or (typed_h and base(l2, b2) - base(l1, b1) >= STACK_BASELINES * typed_h)
               for b1, b2, l1, l2 in zip(boxes, boxes[1:], lines, lines[1:], strict=False)):
        return []

    def level(b, t) -> bool:
        cy, th = (b[1] + b[3]) / 2, t[3] - t[1]
        return t[1] - STACK_LEVEL * th <= cy <= t[3] + STACK_LEVEL * th

    if not any(level(b, t) for b in boxes for t in line_boxes):
        return []
    return [[ln] for ln in lines]
