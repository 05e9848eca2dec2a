"""Paragraphs: the typed regions regrouped by indent, centred headings and line pitch."""
from __future__ import annotations

import math

import numpy as np

from ..model import Line, Region, bbox, box_polygon


def _level_boxes(lines: list[Line], angle: float) -> list[tuple[float, float, float, float]]:
    """Each line's box turned level by ``angle``: of its words' outlines where it has words (a line read from
    a crop of the unrotated page, ``typed_rescue``, has an upright box around its slanted row, which
    turned level is much taller than the row), else of its own. A line of three words or more spans
    its words' median top and bottom: a signature's stroke or a margin note's digit read into it, a
    word twice the others' height, had moved its top by a line's pitch."""
    a = math.radians(angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    out = []
    for ln in lines:
        ws = [np.asarray(w.polygon, float) @ rot.T for w in ln.words] or [np.asarray(ln.polygon, float) @ rot.T]
        p = np.concatenate(ws)
        box = (p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max())
        if len(ws) >= 3:
            box = (box[0], float(np.median([w[:, 1].min() for w in ws])), box[2], float(np.median([w[:, 1].max() for w in ws])))
        out.append(box)
    return out


CENTRED_INSET = 2.5  # a heading's line stands in from both margins by this many paragraph indents ...


CENTRED_SKEW = 0.1  # ... the two insets differing by at most this share of the text column's width ...


CENTRED_RATIO = 0.3  # ... and by at most this share of the larger one (a line that lost its first word is not)


PITCH_PERCENTILE = 25  # the line pitch: this percentile of the distances between lines (the median was a


# paragraph gap on pages of many short paragraphs, and merged them)
SHORT_LINE = 0.5  # an indented line is no new paragraph when it and the line above end in this share of the column


def line_pitch(boxes: list[tuple[float, float, float, float]], h: float) -> float:
    """The distance between typed lines of a paragraph: the ``PITCH_PERCENTILE`` of the distances from each
    line (boxes top-down, lines ``h`` tall) to the nearest line above it that it lies under, overlapping
    it across, more than 0.6 of a line lower. Side by side, the pieces of a slanted row that Tesseract
    cut (on a page whose deskew was refused) lie a fraction of a pitch apart, and had made the pitch a
    fraction of a line's; 2 ``h`` when no line lies under another."""
    pitches = []
    for i, b in enumerate(boxes):
        above = [b[1] - a[1] for a in boxes[:i] if b[1] - a[1] > h * 0.6 and min(a[2], b[2]) > max(a[0], b[0])]
        if above:
            pitches.append(min(above))
    return float(np.percentile(pitches, PITCH_PERCENTILE)) if pitches else h * 2


GAP_HEIGHTS = 4.0  # words of a line this many word heights apart are two lines (a signature block's title and name)


def split_at_gaps(ln: Line) -> list[Line]:
    """A line cut where two of its words stand more than ``GAP_HEIGHTS`` of its median word height apart (Tesseract
    reads a row as one line across a signature: "Зав. Отделом ЦК КПСС ... (Т. Попов)"); every word stays, in
    one of the pieces, each boxed by its words, read at their mean confidence."""
    if len(ln.words) < 2:
        return [ln]
    boxed = sorted(((bbox(w.polygon), w) for w in ln.words), key=lambda bw: bw[0][0])
    h = float(np.median([b[3] - b[1] for b, _ in boxed]))
    pieces, cur, right = [], [boxed[0][1]], boxed[0][0][2]
    for b, w in boxed[1:]:
        if b[0] - right > GAP_HEIGHTS * h:
            pieces.append(cur)
            cur = []
        cur.append(w)
        right = max(right, b[2])
    pieces.append(cur)
    if len(pieces) == 1:
        return [ln]
    out = []
    for k, ws in enumerate(pieces, start=1):
        x0, y0, x1, y1 = bbox([p for w in ws for p in w.polygon])
        confs = [w.conf for w in ws if w.conf is not None]
        out.append(Line(f"{ln.id}_{k}", " ".join(w.text for w in ws), box_polygon((x0, y0, x1, y1)),
                        ((x0, y1), (x1, y1)), float(np.mean(confs)) if confs else ln.conf, tuple(ws), ln.note))
    return out


def paragraphs(regions: list[Region], xheight: float | None, skew: float = 0.0) -> list[Region]:
    """Typed lines regrouped into paragraphs: top-down, a new one at a wide gap, an indented first line, or
    the first line under a centred heading that is not centred and starts well left of its last line.

    Lines are first cut where their words stand far apart (``split_at_gaps``), and their boxes turned level by
    the page's ``skew`` (whichever sign makes them flattest), so that rows of a skewed page do not overlap.
    """
    lines = [piece for r in regions for ln in r.lines for piece in split_at_gaps(ln)]
    if not lines:
        return []
    boxes = min((_level_boxes(lines, a) for a in {skew, -skew}),
                key=lambda bs: float(np.mean([b[3] - b[1] for b in bs])))
    order = sorted(range(len(lines)), key=lambda i: (boxes[i][1], boxes[i][0]))
    # pieces of one row (a line cut in two by a stamp, a name at the right of a signature line) are read
    # left to right: by their tops alone the right piece came first when its top was a pixel higher
    rows: list[list[int]] = []
    for i in order:
        b = boxes[i]
        if rows:
            row = [boxes[j] for j in rows[-1]]
            top, bottom = min(r[1] for r in row), max(r[3] for r in row)
            level = min(bottom, b[3]) - max(top, b[1]) > 0.5 * min(b[3] - b[1], bottom - top)
            # side by side, not one under the other: lines of a tightly spaced column overlap in height too
            beside = all(b[0] >= r[2] or b[2] <= r[0] for r in row)
            if level and beside:
                rows[-1].append(i)
                continue
        rows.append([i])
    order = [i for row in rows for i in sorted(row, key=lambda j: boxes[j][0])]
    row_end = {i: max(boxes[j][2] for j in row) for row in rows for i in row}
    ends = [row_end[i] for i in order]  # where each line's row ends
    lines, boxes = [lines[i] for i in order], [boxes[i] for i in order]
    h = float(np.median([b[3] - b[1] for b in boxes]))
    pitch = line_pitch(boxes, h)
    left = float(np.percentile([b[0] for b in boxes], 20))
    right = float(np.percentile([b[2] for b in boxes], 80))
    indent = 3.0 * (xheight or h / 2)

    def centred(b) -> bool:
        """A heading's line: inset on both sides, by much more than a paragraph's indent, and about equally."""
        li, ri = b[0] - left, right - b[2]
        return (min(li, ri) > CENTRED_INSET * indent and abs(li - ri) < CENTRED_SKEW * (right - left)
                and abs(li - ri) <= CENTRED_RATIO * max(li, ri))
    groups: list[list[int]] = [[0]]
    for i in range(1, len(lines)):
        pj = max(groups[-1], key=lambda j: boxes[j][1])
        prev = boxes[pj]
        gap = boxes[i][1] - prev[1]
        same_row = boxes[i][1] < prev[3] - 0.3 * (prev[3] - prev[1])
        # a paragraph's indented first line after a line at the left margin (not a centred heading's 2nd line)
        indented = boxes[i][0] - left > indent and prev[0] - left < indent
        # ... but not a short line under a short one (a document number under its date, its "№" unread)
        short = max(ends[i], ends[pj]) - left < SHORT_LINE * (right - left)
        indented = indented and not short
        # a centred heading's last line, then a line that is not centred and starts well left of it
        heading_end = centred(prev) and not centred(boxes[i]) and boxes[i][0] < prev[0] - indent
        if same_row or (gap <= pitch * 1.2 and not indented and not heading_end):
            groups[-1].append(i)
        else:
            groups.append([i])
    out = []
    for k, g in enumerate(groups, start=1):
        rid = f"r{k:03d}"
        x0, y0, x1, y1 = bbox([p for i in g for p in lines[i].polygon])
        lns = tuple(Line(f"{rid}_l{j:03d}", lines[i].text, lines[i].polygon, lines[i].baseline, lines[i].conf,
                         lines[i].words, lines[i].note) for j, i in enumerate(g, start=1))
        out.append(Region(rid, box_polygon((x0, y0, x1, y1)), lns, production="typewritten", type="paragraph"))
    return out
