"""Region classification on a synthetic reel not used for training: precision and recall per kind, and the
typed-text CER on pages where a stamp overlaps the typed text against pages where none does.

A predicted region matches a ground-truth region of the same kind at IoU >= 0.5 (boxes, one-to-one, greedy).
Kinds: typewritten (TextRegion@production), handwritten (handwritten-cursive), stamp (GraphicRegion@type).

    python bench/layout.py                      # renders work/bench-layout (seed 2000, 20 pages), runs, scores
    python bench/layout.py --reel DIR --gt DIR  # an existing reel
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr.layout_train import cover, match, read_gt_layout  # noqa: E402
from ocr.metrics import Counts, fmt_rate  # noqa: E402
from ocr.score import score_files  # noqa: E402


def stamp_over_text(gt_path: Path) -> bool:
    gt = read_gt_layout(gt_path)
    return any(cover(t, s) > 0.02 or cover(s, t) > 0.02 for s in gt.stamp for t in gt.typed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reel", type=Path)
    ap.add_argument("--gt", type=Path)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=ROOT / "work" / "bench-layout" / "out")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("-c", "--config", type=Path, help="config.toml for the run")
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("memo-ocr"))
    reel, gt = args.reel, args.gt
    if reel is None:
        reel, gt = ROOT / "work" / "bench-layout" / "reel", ROOT / "work" / "bench-layout" / "gt"
        if not (reel / f"memo-{args.pages:04d}.jpg").exists():
            subprocess.run([exe, "synth", "-o", str(reel), "--gt-dir", str(gt), "--pages", str(args.pages),
                            "--seed", str(args.seed), "--no-seed-memo"], check=True)
    t = time.perf_counter()
    shutil.rmtree(args.out, ignore_errors=True)  # a fresh run: the ledger would skip pages done by older code
    cmd = [exe, "run", str(reel), "-o", str(args.out), "--workers", str(args.workers), "--no-progress"]
    subprocess.run(cmd + (["-c", str(args.config)] if args.config else []), check=False)
    elapsed = time.perf_counter() - t
    totals = {k: [0, 0, 0] for k in ("typewritten", "handwritten", "stamp")}
    typed = {True: Counts(), False: Counts()}
    hand = Counts()
    for gt_path in sorted(gt.glob("*.page.xml")):
        pid = gt_path.name[: -len(".page.xml")]
        hyp = args.out / f"{pid}.page.xml"
        if not hyp.exists():
            print(f"{pid}: no output")
            continue
        g, p = read_gt_layout(gt_path), read_gt_layout(hyp)
        for kind, pb, gb in (("typewritten", p.typed, g.typed), ("handwritten", p.handwritten, g.handwritten),
                             ("stamp", p.stamp, g.stamp)):
            tp, n_p, n_g = match(pb, gb)
            for i, v in enumerate((tp, n_p, n_g)):
                totals[kind][i] += v
        ps = score_files(pid, hyp, gt_path)
        typed[stamp_over_text(gt_path)] += ps.kinds.get("typewritten", Counts())
        hand += ps.kinds.get("handwritten", Counts())
    print(f"reel {reel} ({len(list(gt.glob('*.page.xml')))} pages), memo-ocr run {elapsed:.1f} s")
    print(f"{'kind':<12} {'precision':>9} {'recall':>7} {'tp':>4} {'pred':>5} {'gt':>4}")
    for kind, (tp, n_p, n_g) in totals.items():
        prec = tp / n_p if n_p else float("nan")
        rec = tp / n_g if n_g else float("nan")
        print(f"{kind:<12} {prec:9.3f} {rec:7.3f} {tp:4d} {n_p:5d} {n_g:4d}")
    print(f"typed CER, pages with a stamp over the text: {fmt_rate(typed[True].rate)} "
          f"({typed[True].ref_len} chars); without: {fmt_rate(typed[False].rate)} ({typed[False].ref_len} chars)")
    print(f"handwritten CER (end to end, found regions): {fmt_rate(hand.rate)} ({hand.ref_len} chars)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
