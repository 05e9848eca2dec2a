"""Make a synthetic reel: page images and their PAGE XML ground truth, bit-identical for one seed."""
from __future__ import annotations

import dataclasses
import datetime as _dt
from pathlib import Path

import cv2
import numpy as np

from ..formats import atomic
from ..formats.pagexml import to_pagexml
from ..model import STAMP_TEXT, Graphic, Line, PageResult, Region
from .content import SEED, SEED_LEGACY, generate_memo, stamp_variety
from .render import PAGE_H, PAGE_W, GTLine, GTRegion, render_memo
from .scan import ScanSettings, scan, transform

FIXED_TIME = _dt.datetime(1955, 12, 16, tzinfo=_dt.timezone.utc)  # no wall-clock time in the output: same bytes
PRODUCTION = {"typewritten": "typewritten", "handwritten": "handwritten-cursive", "stamp": "printed"}


def make_page(page_id: str, seed: int, index: int, settings: ScanSettings,
              seed_memo: bool, typed_only: bool = False,
              real_words: list[tuple[np.ndarray, str]] | None = None,
              stamps_worn: bool = False) -> tuple[bytes, bytes, str | None, dict]:
    """One page: (JPEG bytes, PAGE XML bytes, legacy transcription or None, facts). ``stamps_worn``: stamps
    oval, faint, double-struck or partly uninked (``content.stamp_variety``, from a random stream of its
    own: the page is otherwise the same)."""
    rng = np.random.default_rng([seed, index])
    memo = SEED if seed_memo else generate_memo(rng)
    if typed_only:
        memo = dataclasses.replace(memo, notes=[], stamps=[])
    elif stamps_worn:
        memo = dataclasses.replace(memo, stamps=stamp_variety(np.random.default_rng([seed, index, 27]), memo.stamps))
    rendered = render_memo(rng, memo, real_words)
    rendered.regions = [r for r in (_on_page(r) for r in rendered.regions) if r.lines]
    scanned = scan(rng, rendered, settings)
    h, w = scanned.image.shape[:2]
    regions: list[Region] = []
    order = {"typewritten": 0, "handwritten": 1, "stamp": 2}  # typed body first, then annotations
    for r in sorted(rendered.regions, key=lambda r: order[r.kind]):
        lines = tuple(Line(f"{r.id}_l{i:03d}", ln.text, tuple(transform(scanned.to_image, ln.poly, w, h)))
                      for i, ln in enumerate(r.lines, start=1))
        allpts = np.vstack([ln.poly for ln in r.lines])
        x0, y0 = allpts.min(axis=0)
        x1, y1 = allpts.max(axis=0)
        if r.kind == "typewritten":
            poly = transform(scanned.to_image, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]), w, h)
        else:
            poly = _hull(transform(scanned.to_image, allpts, w, h))
        regions.append(Region(r.id, tuple(poly), lines, production=PRODUCTION[r.kind], type=r.type,
                              note=STAMP_TEXT if r.kind == "stamp" else ""))
    graphics = [Graphic(s.id, tuple(transform(scanned.to_image, s.poly, w, h)), "stamp") for s in rendered.stamps]
    facts = {"skew_deg": f"{scanned.skew:.2f}", "grey": str(scanned.grey).lower(),
             "jpeg_quality": str(scanned.jpeg_quality), "seed": f"{seed}/{index}",
             **{f"font_{k}": v for k, v in rendered.fonts_used.items()}}
    page = PageResult(page_id, f"{page_id}.jpg", w, h, regions, graphics=graphics, orientation=-scanned.skew,
                      steps=[], engines={}, info={})
    xml = to_pagexml(page, "memo-ocr synth (ground truth)", created=FIXED_TIME,
                     metadata={k: v for k, v in sorted(facts.items())})
    ok, jpg = cv2.imencode(".jpg", scanned.image, [cv2.IMWRITE_JPEG_QUALITY, scanned.jpeg_quality])
    if not ok:
        raise RuntimeError(f"cannot encode page {page_id}")
    legacy = SEED_LEGACY if seed_memo else None
    return jpg.tobytes(), xml, legacy, facts


def _on_page(region: GTRegion) -> GTRegion:
    """The region with only what is written on the page: a note placed over the page's edge (one written up
    the left margin is as wide as its lines are many) keeps the words whose middle lies on the page, in a
    line box about them; a line with none is left out. Ground truth is what the image shows."""
    lines = []
    for ln in region.lines:
        seen = [(t, p) for t, p in ln.words if 0 <= p[:, 0].mean() < PAGE_W and 0 <= p[:, 1].mean() < PAGE_H]
        if len(seen) == len(ln.words):
            lines.append(ln)
        elif seen:  # the box cut down to the words seen, along the line (its corners: 0 1 across, 0 3 down)
            p0, across, down = ln.poly[0], ln.poly[1] - ln.poly[0], ln.poly[3] - ln.poly[0]
            along = np.linalg.solve(np.column_stack([across, down]), (np.vstack([p for _, p in seen]) - p0).T)[0]
            pad = 3.0 / float(np.linalg.norm(across))  # as the renderer pads a line's box
            a0, a1 = max(0.0, along.min() - pad), min(1.0, along.max() + pad)
            poly = np.array([p0 + a0 * across, p0 + a1 * across, p0 + a1 * across + down, p0 + a0 * across + down])
            lines.append(GTLine(" ".join(t for t, _ in seen), poly, tuple(seen)))
    return dataclasses.replace(region, lines=lines)


def _hull(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    hull = cv2.convexHull(np.array(points, dtype=np.int32)).reshape(-1, 2)
    return [(int(x), int(y)) for x, y in hull]


def make_reel(out: Path, gt_out: Path, pages: int, seed: int, *, prefix: str = "memo",
              with_seed_memo: bool = True, settings: ScanSettings = ScanSettings(), progress=None,
              typed_only: bool = False, real_handwriting: Path | None = None,
              stamps_worn: bool = False) -> list[str]:
    """Write ``pages`` pages (the seed memo first, if asked) and return their ids. ``real_handwriting``: a
    folder of real handwritten word images with ``gt.tsv`` (``../shared/data/htr_ru/train``), whose words of
    the held-out test part (never trained on) write the notes instead of the handwriting fonts."""
    real_words = _real_words(real_handwriting) if real_handwriting else None
    out.mkdir(parents=True, exist_ok=True)
    gt_out.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(pages):
        pid = f"{prefix}-{i + 1:04d}"
        jpg, xml, legacy, _ = make_page(pid, seed, i, settings, with_seed_memo and i == 0, typed_only, real_words,
                                        stamps_worn)
        atomic.write_bytes(out / f"{pid}.jpg", jpg)
        atomic.write_bytes(gt_out / f"{pid}.page.xml", xml)
        if legacy:
            atomic.write_text(gt_out / f"{pid}.legacy.txt", legacy)
        ids.append(pid)
        if progress:
            progress(pid)
    return ids


def _real_words(folder: Path) -> list[tuple[np.ndarray, str]]:
    """Ink coverage and text of the test part of a real handwritten word set (labels as the handwriting
    model's training normalises them)."""
    from ..errors import InputError
    from ..htr.data import read_words
    from .render import word_coverage

    out = []
    for w in read_words(folder):
        if w.split != "test":
            continue
        grey = cv2.imread(str(w.path), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise InputError(f"{w.path}: cannot read image")
        out.append((word_coverage(grey), w.text))
    if not out:
        raise InputError(f"{folder}: no word of the held-out test part found")
    return out
