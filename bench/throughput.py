"""Benchmark: reel throughput of memo-ocr vs plain `tesseract` with the same parallelism, and worker memory.

Three page mixes, each timed in one run against plain `tesseract IMAGE - -l rus` over the same pages
with W parallel processes (OMP_THREAD_LIMIT=1), alternately, --repeat times:

- typed: N typed-only synthetic pages (300 ppi, `memo-ocr synth --typed-only`, seed S);
- memo: N synthetic memos as the reels hold them: typed text, stamps, handwritten notes and signatures
  (seed S + 1), so the handwriting model is loaded and used;
- demo: the bundled demo reel (scans/reel-083, 12 pages);
- hand: N synthetic memos whose notes are written with real scanned handwritten words (seed S + 2,
  ``memo-ocr synth --real-handwriting``; only where --real-handwriting, by default
  ../shared/data/htr_ru/train, is there).

For each it prints pages per minute of both in the pair with the median ratio, all the ratios, the
seconds per page by stage, and the peak resident memory of a memo-ocr worker (VmHWM, from run.json).

    python bench/throughput.py [--mix typed,memo,demo,hand] [--pages 20] [--workers 2] [--seed 7] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr.batch.runner import run_reel  # noqa: E402
from ocr.config import load  # noqa: E402
from ocr.loader import expand_inputs  # noqa: E402
from ocr.synth.reel import make_reel  # noqa: E402

MIXES = ("typed", "memo", "demo", "hand")
REAL_HANDWRITING = ROOT.parent / "shared" / "data" / "htr_ru" / "train"


def plain(img: Path) -> None:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    subprocess.run(["tesseract", str(img), "-", "-l", "rus"], capture_output=True, env=env, check=True)


def pages_of(mix: str, tmp: Path, n: int, seed: int, real_handwriting: Path) -> Path:
    if mix == "demo":
        return ROOT / "scans" / "reel-083"
    scans = tmp / f"scans-{mix}"
    make_reel(scans, tmp / f"gt-{mix}", n, seed + {"typed": 0, "memo": 1, "hand": 2}[mix], with_seed_memo=False,
              typed_only=mix == "typed", real_handwriting=real_handwriting if mix == "hand" else None)
    return scans


def bench(scans: Path, tmp: Path, mix: str, cfg, workers: int, repeat: int) -> dict:
    imgs = sorted(p for p in scans.iterdir() if p.suffix.lower() in (".jpg", ".png", ".tif", ".tiff"))
    rows = []  # (plain pages/min, memo-ocr pages/min, run.json) per pair
    for i in range(repeat):
        t = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(plain, imgs))
        t_plain = time.perf_counter() - t
        out = tmp / f"out-{mix}-{i}"
        t = time.perf_counter()
        report = run_reel(expand_inputs([scans]), out, cfg, workers=workers, progress=False)
        t_ours = time.perf_counter() - t
        if report.failed:
            raise SystemExit(f"memo-ocr: {len(report.failed)} pages failed; see {out}/run.json")
        rows.append((60 * len(imgs) / t_plain, 60 * len(imgs) / t_ours, json.loads((out / "run.json").read_text())))
    rows.sort(key=lambda r: r[1] / r[0])
    ppm_plain, ppm_ours, run = rows[len(rows) // 2]  # the pair with the median ratio
    stages: dict[str, float] = {}
    for p in run["pages"]:
        for k, v in p["timings"].items():
            stages[k] = stages.get(k, 0.0) + v / len(run["pages"])
    return {"mix": mix, "pages": len(imgs), "plain": ppm_plain, "ours": ppm_ours,
            "ratios": [o / p for p, o, _ in rows],
            "rss": max(p.get("worker_peak_rss_mb") or 0 for _, _, r in rows for p in r["pages"]),
            "stages": stages,
            "kraken": sum(1 for p in run["pages"] if p.get("layout", {}).get("handwritten"))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mix", help=f"comma-separated, of {', '.join(MIXES)} (default: all; hand where its words are)")
    ap.add_argument("--real-handwriting", type=Path, default=REAL_HANDWRITING,
                    help="real handwritten words (gt.tsv) for the hand mix")
    ap.add_argument("--pages", type=int, default=20, help="synthetic pages per mix (the demo reel has 12)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-c", "--config", type=Path, help="config.toml for memo-ocr (default: the built-in defaults)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="alternate plain and memo-ocr runs this many times; the median ratio is reported "
                         "(the machine is shared: one pair alone can be off by 10 %%)")
    args = ap.parse_args()
    has_words = (args.real_handwriting / "gt.tsv").is_file()
    mixes = ([m.strip() for m in args.mix.split(",") if m.strip()] if args.mix else
             [m for m in MIXES if m != "hand" or has_words])
    if "hand" in mixes and not has_words:
        ap.error(f"--mix hand: no real handwritten words at {args.real_handwriting} (gt.tsv)")
    if not mixes or set(mixes) - set(MIXES):
        ap.error(f"--mix takes {', '.join(MIXES)}")
    cfg = load(args.config).replace("run", lang="rus")
    print(f"{args.workers} workers, memo-ocr --lang rus against tesseract -l rus, {args.repeat} alternating pairs "
          f"of runs per mix")
    with tempfile.TemporaryDirectory() as tmp:
        for mix in mixes:
            r = bench(pages_of(mix, Path(tmp), args.pages, args.seed, args.real_handwriting), Path(tmp), mix, cfg,
                      args.workers, args.repeat)
            print(f"\n{mix}: {r['pages']} pages ({r['kraken']} with handwriting found, in the median run)")
            print("  ratios of the pairs: " + ", ".join(f"{x:.2f}" for x in r["ratios"]))
            print(f"  plain tesseract {r['plain']:6.1f} pages/min, memo-ocr {r['ours']:6.1f} pages/min: "
                  f"{r['ours'] / r['plain']:.2f}x (the median pair)")
            print(f"  peak RSS per memo-ocr worker (VmHWM; with the Tesseract library and model): {r['rss']:.0f} MB")
            print("  memo-ocr seconds per page by stage: " + ", ".join(f"{k} {v:.2f}" for k, v in r["stages"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
