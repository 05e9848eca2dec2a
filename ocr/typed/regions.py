"""Typed regions: the blocks of lines Tesseract read, in reading order, mapped back to the original image's
pixels; kept lines as typewritten regions, rejected ones as rejected regions with their reasons."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..config import Config
from ..engines.base import RawLine
from ..model import REJECTED_NOTE, Line, Region, Word
from ..preprocess import Preprocessed
from .lines import classify_lines, page_type_height, rejection_reason


def _quad(pp: Preprocessed, box: tuple[int, int, int, int]) -> tuple[tuple[int, int], ...]:
    x0, y0, x1, y1 = box
    pts = pp.map_points(np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
    return tuple((int(x), int(y)) for x, y in pts)


def _line(pp: Preprocessed, raw: RawLine, lid: str) -> Line:
    words = tuple(Word(w.text, w.conf, _quad(pp, w.box)) for w in raw.words)
    x0, _, x1, y1 = raw.box
    base = pp.map_points(np.array([(x0, y1), (x1, y1)]))
    return Line(lid, raw.text, _quad(pp, raw.box), tuple((int(x), int(y)) for x, y in base), raw.conf, words)


def order_blocks(blocks: list[list[RawLine]], mode: str) -> list[list[RawLine]]:
    """Reading order of blocks: the engine's, or top-down by each block's first line (single-column memos)."""
    blocks = [b for b in blocks if b]
    if mode == "top-down":
        return sorted(blocks, key=lambda b: (min(ln.box[1] for ln in b), min(ln.box[0] for ln in b)))
    return blocks


def build_regions(pp: Preprocessed, blocks: list[list[RawLine]], cfg: Config) -> list[Region]:
    """Regions in reading order; lines classified as noise go to a rejected region per block, each line with the
    reason it was rejected (PAGE ``custom="rejected {reason:...;}"``), so that nothing read is lost unseen."""
    blocks = order_blocks(blocks, cfg.tesseract.reading_order)
    regions: list[Region] = []
    rejected: list[Region] = []
    size = (pp.image.shape[1], pp.image.shape[0])
    median_h = page_type_height(blocks)
    for b, block in enumerate(classify_lines(blocks, size), start=1):
        for ok, out, rid in ((True, regions, f"r{b:03d}"), (False, rejected, f"x{b:03d}")):
            group = [ln for ln, k in block if k == ok]
            if not group:
                continue
            notes = None if ok else [rejection_reason(ln, median_h) for ln in group]
            out.append(typed_region(pp, rid, group, kept=ok, notes=notes))
    return regions + rejected


def typed_region(pp: Preprocessed, rid: str, group: list[RawLine], kept: bool = True,
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
