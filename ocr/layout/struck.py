"""A stamp struck twice: the fainter copy found and painted paper before the stamp is read.

A stamp that bounced, or was pressed a second time, leaves a second, usually fainter copy of its rings,
frame and letters a few pixels beside the first: its letters read as doubled strokes ("62731" over
"62731") and Tesseract reads little of them (worn tuning reel 40000: four such stamps, 115 of its 368 stamp
edits). The copy is a shifted echo of the stamp's own ink, so it is found as one: for each small shift d,
the share of the ink that is a fainter echo of the ink d before it (darker than paper, at most
``ECHO_FAINT`` as dark as that ink). An edge's soft pixels are such an echo of the stroke beside them in
both directions alike; a second strike in one direction only. Where the echo one way exceeds the echo the
other way by ``ECHO_ASYM`` of the ink, the echo's pixels are painted paper. Two strikes equally dark are
left as they are: no shade tells them apart.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..colour import to_grey

ECHO_REACH = 14  # shifts looked for, in pixels either way (300 ppi): a bounce of up to about a millimetre

ECHO_LEAST = 6  # ... and of at least this many: a copy nearer than a stroke's width is not told from the stroke's
# soft edge, which can be fainter on one side than on the other (a stamp rendered without blur: 0.13-0.15 at 2-4 px)

ECHO_FAINT = 0.75  # a pixel is the fainter copy's where it is at most this share as dark as the ink d before it

ECHO_ASYM = 0.14  # a second strike: the echo one way exceeds the echo the other way by this share of the ink
# (tuning reels 40000 and 44000: the ten stamps struck twice 0.18-0.31, the others 0.06 at most; a stamp whose
# ink fades across it echoes itself one way too: up to 0.09 on the tests' stamps, rendered without blur)

STRONG = 0.5  # ink, in shares of the stamp's darkest (its 90th percentile), whose echo is looked for

FAINTEST = 0.08  # darkness (share of the paper's grey) that counts as ink when the echo is looked for


def _before(dark: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``dark`` at q - (dx, dy) for each pixel q (zero beyond the edge)."""
    h, w = dark.shape
    out = np.zeros_like(dark)
    out[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)] = \
        dark[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    return out


def _echo(dark: np.ndarray, src: np.ndarray, least: float = 0.2, faintest: float = FAINTEST) -> np.ndarray:
    """The pixels of ``dark`` (darker than ``faintest``) that are a fainter echo (``least`` .. ``ECHO_FAINT`` as
    dark) of strong ink in ``src`` (the ink a shift before each pixel)."""
    return (src > STRONG) & (dark > faintest) & (dark >= least * src) & (dark <= ECHO_FAINT * src)


def second_strike(dark: np.ndarray, reach: int, least: int) -> tuple[tuple[int, int], float]:
    """The shift (dx, dy) of a second strike in ``dark`` (darkness 0..1, the stamp's ink about 1) and by how much
    of the ink its echo exceeds the echo the other way; shifts of at least ``least`` pixels either way."""
    inked = max(1, int((dark > 0.25).sum()))
    share = {(dx, dy): _echo(dark, _before(dark, dx, dy)).sum() / inked
             for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1) if max(abs(dx), abs(dy)) >= least}
    best = max(share, key=lambda d: share[d] - share[-d[0], -d[1]])
    return best, float(share[best] - share[-best[0], -best[1]])


def fainter_copy(grey: np.ndarray, paper: int) -> np.ndarray | None:
    """The pixels of a stamp's crop (``grey``, paper's grey ``paper``) that are a second, fainter strike of it
    (a mask), or None where the stamp was struck once (or twice alike). The shift is looked for at half
    resolution (a sixteenth of the work), then to the pixel about it at full resolution; the mask takes the
    echo's soft edges too (every pixel as faint against the ink about the shifted pixel)."""
    if min(grey.shape[:2]) < 32:
        return None
    dark = np.clip((paper - grey.astype(np.float32)) / max(paper, 1), 0.0, 1.0)
    ink = dark[dark > FAINTEST]
    if ink.size < 100:
        return None
    dark = np.clip(dark / max(1e-3, float(np.percentile(ink, 90))), 0.0, 1.0)
    half = cv2.resize(dark, (dark.shape[1] // 2, dark.shape[0] // 2), interpolation=cv2.INTER_AREA)
    (dx, dy), asym = second_strike(half, ECHO_REACH // 2, ECHO_LEAST // 2)
    if asym < ECHO_ASYM:
        return None
    near = [(2 * dx + ex, 2 * dy + ey) for ey in (-1, 0, 1) for ex in (-1, 0, 1)]
    fx, fy = max(near, key=lambda d: int(_echo(dark, _before(dark, *d)).sum()))
    return _echo(dark, cv2.dilate(_before(dark, fx, fy), np.ones((3, 3), np.uint8)), least=0.0,
                 faintest=FAINTEST / 4)


def struck_once(crop: np.ndarray, paper: int) -> np.ndarray:
    """``crop`` (grey or BGR) with a second strike's fainter copy painted paper; ``crop`` itself where there
    is none."""
    mask = fainter_copy(to_grey(crop, drop_colour=False), paper)
    if mask is None:
        return crop
    crop = crop.copy()
    crop[mask] = paper
    return crop
