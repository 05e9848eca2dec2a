"""Benchmark: typed lines lost to the handwriting route, on reels with ground truth.

A ground-truth typewritten line is lost when no typed line read covers half its box but a handwritten
line read does: the layout stage took its ink for a note's. Rejected lines are not counted either way
(PAGE keeps them out of the reading order). Run memo-ocr first.

    python bench/typed_lost.py OUT GT [OUT GT ...]     # e.g. work/rh-4700/out work/rh-4700/gt
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.formats.readers import read_page  # noqa: E402

HALF = 0.5  # a read line covers a true line when it holds this share of the true line's box


def _box(poly) -> tuple[int, int, int, int] | None:
    if not poly:
        return None
    xs, ys = [p[0] for p in poly], [p[1] for p in poly]
    return min(xs), min(ys), max(xs), max(ys)


def _covered(box, others) -> bool:
    area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
    for o in others:
        w, h = min(box[2], o[2]) - max(box[0], o[0]), min(box[3], o[3]) - max(box[1], o[1])
        if w > 0 and h > 0 and w * h / area >= HALF:
            return True
    return False


def lost_lines(out: Path, gt: Path) -> tuple[int, list[tuple[str, str, list[str]]]]:
    """(true typed lines, [(page id, true text, the handwritten readings over it)]) of one run."""
    total, lost = 0, []
    for g in sorted(gt.glob("*.page.xml")):
        page_id = g.name[:-len(".page.xml")]
        read = out / g.name
        if not read.exists():
            continue
        ours = read_page(read)
        rejected = {r.id for r in ours.regions if r.kind == "unknown"}
        typed = [b for ln in ours.lines if ln.kind == "typewritten" and ln.region not in rejected
                 for b in [_box(ln.poly)] if b]
        hand = [(b, ln.text) for ln in ours.lines if ln.kind == "handwritten" for b in [_box(ln.poly)] if b]
        for ln in read_page(g).lines:
            box = _box(ln.poly)
            if ln.kind != "typewritten" or box is None:
                continue
            total += 1
            over = [t for b, t in hand if _covered(box, [b])]
            if over and not _covered(box, typed):
                lost.append((page_id, ln.text, over))
    return total, lost


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", nargs="+", type=Path, help="OUT GT pairs: a run's output folder and its ground truth")
    args = ap.parse_args()
    if len(args.pairs) % 2:
        ap.error("give OUT GT pairs")
    all_total = all_lost = 0
    for out, gt in zip(args.pairs[::2], args.pairs[1::2], strict=True):
        total, lost = lost_lines(out, gt)
        all_total, all_lost = all_total + total, all_lost + len(lost)
        print(f"{out}: {len(lost)} of {total} typed lines lost to the handwriting route")
        for page_id, text, over in lost:
            print(f"  {page_id}: {text!r} read as {' | '.join(repr(t) for t in over)}")
    print(f"all: {all_lost} of {all_total} typed lines lost to the handwriting route")
    return 0


if __name__ == "__main__":
    sys.exit(main())
