"""Region classification on synthetic reels not used for training: precision and recall per kind, and the
typed-text CER on pages where a stamp overlaps the typed text against pages where none does.

A predicted region matches a ground-truth region of the same kind at IoU >= 0.5 (boxes, one-to-one, greedy).
Kinds: typewritten (TextRegion@production), handwritten (handwritten-cursive), stamp (GraphicRegion@type).

    python bench/layout.py                        # renders work/bench-layout (seed 2000, 20 pages), runs, scores
    python bench/layout.py --reel DIR --gt DIR    # an existing reel
    python bench/layout.py --seeds 13000,14000    # a fresh reel per seed (rendered once into
                                                  # work/bench-layout/seed-N), each scored, then all pooled
    python bench/layout.py --seeds 40000 --worn-stamps   # stamps oval, faint, struck twice, partly uninked
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr.score.metrics import Counts, fmt_rate  # noqa: E402
from ocr.score.pages import score_files  # noqa: E402
from ocr.train.layout import cover, match, read_gt_layout  # noqa: E402

KINDS = ("typewritten", "handwritten", "stamp")


@dataclass
class Tally:
    pages: int = 0
    seconds: float = 0.0
    regions: dict = field(default_factory=lambda: {k: [0, 0, 0] for k in KINDS})  # kind -> [tp, predicted, gt]
    typed: dict = field(default_factory=lambda: {True: Counts(), False: Counts()})  # stamp over the text?
    hand: Counts = field(default_factory=Counts)

    def __iadd__(self, other: "Tally") -> "Tally":
        self.pages += other.pages
        self.seconds += other.seconds
        for k in KINDS:
            self.regions[k] = [a + b for a, b in zip(self.regions[k], other.regions[k], strict=True)]
        for s in (True, False):
            self.typed[s] += other.typed[s]
        self.hand += other.hand
        return self


def stamp_over_text(gt_path: Path) -> bool:
    gt = read_gt_layout(gt_path)
    return any(cover(t, s) > 0.02 or cover(s, t) > 0.02 for s in gt.stamp for t in gt.typed)


def render(exe: str, reel: Path, gt: Path, pages: int, seed: int, worn: bool = False) -> None:
    if not (reel / f"memo-{pages:04d}.jpg").exists():
        subprocess.run([exe, "synth", "-o", str(reel), "--gt-dir", str(gt), "--pages", str(pages),
                        "--seed", str(seed), "--no-seed-memo"] + (["--worn-stamps"] if worn else []), check=True)


def run_reel(exe: str, reel: Path, gt: Path, out: Path, workers: int, config: Path | None) -> Tally:
    t = time.perf_counter()
    shutil.rmtree(out, ignore_errors=True)  # a fresh run: the ledger would skip pages done by older code
    cmd = [exe, "run", str(reel), "-o", str(out), "--workers", str(workers), "--no-progress"]
    subprocess.run(cmd + (["-c", str(config)] if config else []), check=False)
    tally = Tally(seconds=time.perf_counter() - t)
    for gt_path in sorted(gt.glob("*.page.xml")):
        pid = gt_path.name[: -len(".page.xml")]
        tally.pages += 1
        hyp = out / f"{pid}.page.xml"
        if not hyp.exists():
            print(f"{pid}: no output")
            continue
        g, p = read_gt_layout(gt_path), read_gt_layout(hyp)
        for kind, pb, gb in (("typewritten", p.typed, g.typed), ("handwritten", p.handwritten, g.handwritten),
                             ("stamp", p.stamp, g.stamp)):
            tally.regions[kind] = [a + b for a, b in zip(tally.regions[kind], match(pb, gb), strict=True)]
        ps = score_files(pid, hyp, gt_path)
        tally.typed[stamp_over_text(gt_path)] += ps.kinds.get("typewritten", Counts())
        tally.hand += ps.kinds.get("handwritten", Counts())
    return tally


def report(title: str, tally: Tally) -> None:
    print(f"{title} ({tally.pages} pages), memo-ocr run {tally.seconds:.1f} s")
    print(f"{'kind':<12} {'precision':>9} {'recall':>7} {'tp':>4} {'pred':>5} {'gt':>4}")
    for kind, (tp, n_p, n_g) in tally.regions.items():
        prec = tp / n_p if n_p else float("nan")
        rec = tp / n_g if n_g else float("nan")
        print(f"{kind:<12} {prec:9.3f} {rec:7.3f} {tp:4d} {n_p:5d} {n_g:4d}")
    print(f"typed CER, pages with a stamp over the text: {fmt_rate(tally.typed[True].rate)} "
          f"({tally.typed[True].ref_len} chars); without: {fmt_rate(tally.typed[False].rate)} "
          f"({tally.typed[False].ref_len} chars)")
    print(f"handwritten CER (end to end, found regions): {fmt_rate(tally.hand.rate)} ({tally.hand.ref_len} chars)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reel", type=Path)
    ap.add_argument("--gt", type=Path)
    ap.add_argument("--seeds", help="comma-separated seeds: a fresh reel each, scored alone and pooled")
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=ROOT / "work" / "bench-layout" / "out")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("-c", "--config", type=Path, help="config.toml for the run")
    ap.add_argument("--worn-stamps", action="store_true",
                    help="with --seeds: stamps oval, faint, double-struck or partly uninked (`memo-ocr synth "
                         "--worn-stamps`; reels in work/bench-layout/worn-N)")
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("memo-ocr"))
    if args.seeds:
        if args.reel or args.gt:
            ap.error("--seeds renders its own reels: give either --seeds or --reel/--gt")
        try:
            seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        except ValueError:
            ap.error(f"--seeds: comma-separated whole numbers expected, got {args.seeds!r}")
        pooled = Tally()
        for seed in seeds:
            base = ROOT / "work" / "bench-layout" / (f"worn-{seed}" if args.worn_stamps else f"seed-{seed}")
            render(exe, base / "reel", base / "gt", args.pages, seed, args.worn_stamps)
            tally = run_reel(exe, base / "reel", base / "gt", args.out / f"seed-{seed}", args.workers, args.config)
            report(f"seed {seed}: reel {base / 'reel'}", tally)
            print()
            pooled += tally
        report(f"all {len(seeds)} reels pooled (seeds {','.join(map(str, seeds))})", pooled)
        return 0
    reel, gt = args.reel, args.gt
    if reel is None:
        reel, gt = ROOT / "work" / "bench-layout" / "reel", ROOT / "work" / "bench-layout" / "gt"
        render(exe, reel, gt, args.pages, args.seed)
    report(f"reel {reel}", run_reel(exe, reel, gt, args.out, args.workers, args.config))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
