"""Benchmark: reel throughput of memo-ocr vs plain `tesseract` with the same parallelism, and worker memory.

Renders N typed-only synthetic pages (300 ppi, `memo-ocr synth --typed-only`), then in
one run times plain `tesseract IMAGE - -l rus` over them with W parallel processes
(OMP_THREAD_LIMIT=1) and `memo-ocr run` with W workers, alternately, --repeat times, and
prints pages per minute for both in the pair with the median ratio, all the ratios, and the
peak resident memory of a memo-ocr worker (from run.json).

    python bench/throughput.py [--pages 20] [--workers 2] [--seed 7] [--repeat 3] [-c config.toml]
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.batch.runner import run_reel  # noqa: E402
from ocr.config import load  # noqa: E402
from ocr.loader import expand_inputs  # noqa: E402
from ocr.synth.reel import make_reel  # noqa: E402


def plain(img: Path) -> None:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    subprocess.run(["tesseract", str(img), "-", "-l", "rus"], capture_output=True, env=env, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-c", "--config", type=Path, help="config.toml for memo-ocr (default: the built-in defaults)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="alternate plain and memo-ocr runs this many times; the median ratio is reported "
                         "(the machine is shared: one pair alone can be off by 10 %%)")
    args = ap.parse_args()
    cfg = load(args.config)
    rows = []  # (plain pages/min, memo-ocr pages/min, run.json) per pair
    with tempfile.TemporaryDirectory() as tmp:
        scans = Path(tmp) / "scans"
        make_reel(scans, Path(tmp) / "gt", args.pages, args.seed, with_seed_memo=False, typed_only=True)
        imgs = sorted(scans.glob("*.jpg"))
        for i in range(args.repeat):
            t = time.perf_counter()
            with ThreadPoolExecutor(args.workers) as ex:
                list(ex.map(plain, imgs))
            t_plain = time.perf_counter() - t
            out = Path(tmp) / f"out{i}"
            t = time.perf_counter()
            report = run_reel(expand_inputs([scans]), out, cfg, workers=args.workers, progress=False)
            t_ours = time.perf_counter() - t
            if report.failed:
                print(f"memo-ocr: {len(report.failed)} pages failed; see {out}/run.json", file=sys.stderr)
                return 1
            rows.append((60 * len(imgs) / t_plain, 60 * len(imgs) / t_ours,
                         json.loads((out / "run.json").read_text())))
    rows.sort(key=lambda r: r[1] / r[0])
    ppm_plain, ppm_ours, run = rows[len(rows) // 2]  # the pair with the median ratio
    worker_rss = max(p.get("worker_peak_rss_mb") or 0 for _, _, r in rows for p in r["pages"])
    stages: dict[str, float] = {}
    for p in run["pages"]:
        for k, v in p["timings"].items():
            stages[k] = stages.get(k, 0.0) + v / len(run["pages"])
    print(f"{len(imgs)} typed-only synthetic pages (300 ppi), {args.workers} workers, tesseract -l rus, "
          f"{args.repeat} alternating pairs of runs")
    print("ratios of the pairs: " + ", ".join(f"{o / p:.2f}" for p, o, _ in rows))
    print(f"plain tesseract  {ppm_plain:6.1f} pages/min   (the median pair)")
    print(f"memo-ocr         {ppm_ours:6.1f} pages/min")
    print(f"throughput ratio memo-ocr/tesseract: {ppm_ours / ppm_plain:.2f} (median)")
    print(f"peak RSS per memo-ocr worker (VmHWM; includes the Tesseract library and its model): {worker_rss:.0f} MB")
    print("memo-ocr seconds per page by stage: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
