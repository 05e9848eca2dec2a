"""The review feedback loop, measured: a simulated reviewer corrects every handwritten line of a run
from the ground truth, then `memo-ocr train --from-corrections` fine-tunes the handwriting model.

    .venv/bin/python bench/review_loop.py out/reel-083 ground_truth/reel-083 [-w work/review-loop] [--epochs 10]

The run folder is copied first (nothing is written into it). A predicted handwritten line takes the
text of the ground-truth handwritten line its box overlaps most (IoU >= 0.3); lines with no match
are left alone. Prints how many lines were corrected, the time per save, and both held-back CERs.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr.engines.kraken_lines import DEFAULT_MODEL  # noqa: E402
from ocr.formats.readers import index_folder, read_page  # noqa: E402
from ocr.model import bbox, iou  # noqa: E402
from ocr.review.store import ReviewStore  # noqa: E402
from ocr.review.training import from_corrections  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("gt", type=Path)
    ap.add_argument("-w", "--work", type=Path, default=ROOT / "work" / "review-loop")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    a = ap.parse_args()

    shutil.rmtree(a.work, ignore_errors=True)
    copy = a.work / "runs" / a.run.name
    shutil.copytree(a.run, copy, ignore=shutil.ignore_patterns("review", "ledger.sqlite*"))
    store = ReviewStore(copy.parent)
    gt = index_folder(a.gt)
    saves, t0 = 0, time.perf_counter()
    for item in store.queue(kind="handwritten", status="all"):
        if item.page not in gt:
            continue
        refs = [ln for ln in read_page(gt[item.page]).lines if ln.kind == "handwritten" and ln.poly]
        best = max(refs, key=lambda ln: iou(bbox(ln.poly), item.box), default=None)
        if best is None or iou(bbox(best.poly), item.box) < 0.3 or not best.text.strip():
            continue
        store.save(item.reel, item.page, item.line, best.text.strip(), who="bench")
        saves += 1
    per_save = (time.perf_counter() - t0) / max(1, saves)
    print(f"simulated review: {saves} handwritten lines corrected, {per_save * 1000:.1f} ms per save")
    t0 = time.perf_counter()
    res = from_corrections(copy.parent, a.work / "train", a.model, a.work / "finetuned-installed.safetensors",
                           epochs=a.epochs)
    print(f"fine-tune: {res['train']} lines trained on, {res['held_back']} held back; held-back CER "
          f"{res['cer_before']:.2%} -> {res['cer_after']:.2%}; installed: {res['installed']}; "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
