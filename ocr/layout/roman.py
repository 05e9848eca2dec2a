"""A date stamp's Roman month read from the shapes of its strokes.

Registry stamps give the month in Roman numerals set in a bold grotesque ("17 XII 1955"). A line reader
trained on words reads the bare strokes badly: "III" as nothing ("18 1954"), "I" glued to the day and the
year ("2111957"), "IX" as "X". Here the date line's ink is cut into its glyphs (connected components,
pieces of one stroke joined), the glyphs into three groups at the two widest gaps (day, month, year), and
each glyph of the middle group told apart by its shape alone: a bar (I), narrow at the foot (V), wide at
head and foot and narrow in the middle (X). Anything else (a fourth word, a glyph of no such shape, typing
behind the stamp) gives no month, and the line's reading stands as it was.
"""
from __future__ import annotations

import re

import cv2
import numpy as np

from .candidates import ink_mask

MIN_HEIGHT = 0.55  # a glyph is at least this share of the line's capital height (75th percentile of heights)
BAR = 0.4  # a bar is at most this share of its height wide ...
BAR_FILL = 0.6  # ... and inked over at least this share of its box
WIDE = (0.55, 1.4)  # V and X are this wide for their height
FOOT = 0.55  # a V's foot is at most this share of its head's width; an X's at least 1 / FOOT of it ...
WAIST = 0.75  # ... and an X's middle narrower than this share of its head and its foot


def _glyphs(ink: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Glyph boxes (x0, y0, x1, y1), left to right: components, those over one another joined (a stroke
    broken by uneven inking), those lower than a glyph (dots, specks) left out."""
    n, _, st, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    boxes = [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, a in st[1:] if a >= 4]
    boxes.sort()
    joined: list[tuple[int, int, int, int]] = []
    for b in boxes:
        if joined:
            p = joined[-1]
            over = min(p[2], b[2]) - max(p[0], b[0])
            if over > 0.5 * min(p[2] - p[0], b[2] - b[0]):
                joined[-1] = (min(p[0], b[0]), min(p[1], b[1]), max(p[2], b[2]), max(p[3], b[3]))
                continue
        joined.append(b)
    if not joined:
        return []
    cap = float(np.percentile([b[3] - b[1] for b in joined], 75))
    return [b for b in joined if b[3] - b[1] >= MIN_HEIGHT * cap]


def _extent(rows: np.ndarray) -> float:
    cols = np.nonzero(rows.any(axis=0))[0]
    return float(cols.max() - cols.min() + 1) if len(cols) else 0.0


def glyph(patch: np.ndarray) -> str | None:
    """"I", "V" or "X" for a glyph's ink (its box), or None for any other shape."""
    h, w = patch.shape
    if h < 6:
        return None
    fill = float(patch.mean())
    if w / h <= BAR:
        return "I" if fill >= BAR_FILL else None
    if not WIDE[0] <= w / h <= WIDE[1]:
        return None
    band = max(1, h // 5)
    head, foot = _extent(patch[:band]), _extent(patch[-band:])
    waist = _extent(patch[h // 2 - band // 2:h // 2 + band // 2 + 1])
    if head <= 0:
        return None
    if foot <= FOOT * head:
        return "V"
    if foot >= head * FOOT and head >= foot * FOOT and waist < WAIST * min(head, foot):
        return "X"
    return None


ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def roman_groups(grey: np.ndarray) -> tuple[int, str] | None:
    """The glyph count of the day and the Roman month of a date line's crop ``grey`` (three groups: a day of
    one or two glyphs, the month, a year of four, or fewer where its digits run together), or None where the
    line is not so."""
    ink = ink_mask(grey) > 0
    boxes = _glyphs(ink)
    if len(boxes) < 4:
        return None
    gaps = [boxes[i + 1][0] - boxes[i][2] for i in range(len(boxes) - 1)]
    first, second = sorted(sorted(range(len(gaps)), key=lambda i: -gaps[i])[:2])
    rest = [g for i, g in enumerate(gaps) if i not in (first, second)]
    if rest and min(gaps[first], gaps[second]) <= max(rest):
        return None
    day, month, year = boxes[:first + 1], boxes[first + 1:second + 1], boxes[second + 1:]
    if not 2 <= len(year) <= 5 or len(day) not in (1, 2):  # a year's digits may run together
        return None
    letters = [glyph(ink[y0:y1, x0:x1]) for x0, y0, x1, y1 in month]
    roman = "".join(c or "?" for c in letters)
    return (len(day), roman) if roman in ROMAN_MONTHS else None


_YEAR_AT_END = re.compile(r"(1[89]\d\d|20\d\d)\D*$")


def shaped_date(grey: np.ndarray, text: str) -> str | None:
    """``text``, a date line read (a day, a month as read or none, a year), written again with the month
    its strokes' shapes give ("18 1954" -> "18 III 1954", "2111957" -> "21 I 1957"); None where the crop is
    not a date line of three groups or the day and year cannot be taken from ``text``."""
    found = roman_groups(grey)
    year = _YEAR_AT_END.search(text)
    if found is None or year is None:
        return None
    day_glyphs, roman = found
    head = text[:year.start()].strip()
    m = re.match(r"(\d{1,2})(?!\d)", head)
    if m and (len(m.group(1)) == day_glyphs or " " in head):
        day = m.group(1)
    elif head.isdigit() and len(head) > day_glyphs and set(head[day_glyphs:]) == {"1"}:  # strokes read as ones
        day = head[:day_glyphs]
    else:
        return None
    if not 1 <= int(day) <= 31 or day.startswith("0"):
        return None
    return f"{int(day)} {roman} {year.group(1)}"
