"""Benchmark: memo-ocr vs plain `tesseract` on the real EHRI typescripts (../shared/data/ehri).

Both run in this one process tree on the same pages with the same parallelism
(2 workers, OMP_THREAD_LIMIT=1 each), so their ratio is fair on a shared,
noisy machine. CER is page level: the typewritten lines of each output against
the ALTO ground truth, NFC, whitespace runs collapsed, grapheme clusters,
edit distance / reference length, micro-averaged over all pages.

    python bench/ehri.py [--data ../shared/data/ehri] [--every 1] [--workers 2] [--keep DIR]
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

from ocr import config as cfgmod  # noqa: E402
from ocr.formats.readers import read_transcription  # noqa: E402
from ocr.loader import PageRef  # noqa: E402
from ocr.metrics import Counts, char_counts  # noqa: E402
from ocr.pipeline import run_reel  # noqa: E402

LANGS = {"english": "eng", "german": "deu"}


def plain_tesseract(img: Path, lang: str) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    r = subprocess.run(["tesseract", str(img), "-", "-l", lang], capture_output=True, text=True, env=env, check=True)
    return r.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "ehri")
    ap.add_argument("--every", type=int, default=1, help="take every N-th page (1 = all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here too")
    ap.add_argument("--keep", type=Path, default=None,
                    help="keep memo-ocr's outputs (and plain tesseract's text, *.plain.txt) in this folder, "
                         "one subfolder per language, to look at the errors; default: a temporary folder")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"bench: no EHRI data at {args.data}", file=sys.stderr)
        return 2
    cfg = cfgmod.load(args.config)
    results = {}
    total_pages = 0
    for sub, lang in LANGS.items():
        imgs = sorted((args.data / sub).glob("*.jpg"))[:: args.every]
        total_pages += len(imgs)
        gts = {p.stem: " ".join(ln.text for ln in read_transcription(p.with_suffix(".xml"))) for p in imgs}

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as ex:  # threads: each call is its own tesseract process
            texts = ex.map(plain_tesseract, imgs, [lang] * len(imgs))
            plain = dict(zip([p.stem for p in imgs], texts, strict=True))
        t_plain = time.perf_counter() - t0

        with tempfile.TemporaryDirectory() as tmp:
            out = args.keep / sub if args.keep else Path(tmp)
            out.mkdir(parents=True, exist_ok=True)
            if args.keep:
                for k, text in plain.items():
                    (out / f"{k}.plain.txt").write_text(text, encoding="utf-8")
            t0 = time.perf_counter()
            report = run_reel([PageRef(p.stem, p) for p in imgs], Path(out), cfg.replace("run", lang=lang),
                              workers=args.workers, progress=False)
            t_pipe = time.perf_counter() - t0
            failed = [p.page_id for p in report.failed]
            ours = {}
            for p in imgs:
                f = Path(out) / f"{p.stem}.page.xml"
                lines = read_transcription(f) if f.exists() else []
                ours[p.stem] = " ".join(ln.text for ln in lines if ln.kind == "typewritten")
            stages = {}
            for pg in report.pages:
                for k, v in pg.timings.items():
                    stages[k] = stages.get(k, 0.0) + v
        c_plain = sum((char_counts(gts[k], plain[k]) for k in gts), Counts())
        c_ours = sum((char_counts(gts[k], ours[k]) for k in gts), Counts())
        detail = {k: {"ref": len(gts[k]), "plain_edits": char_counts(gts[k], plain[k]).edits,
                      "memo_ocr_edits": char_counts(gts[k], ours[k]).edits} for k in gts}
        results[sub] = {"pages": len(imgs), "lang": lang, "failed": failed, "detail": detail,
                        "plain": {"edits": c_plain.edits, "ref": c_plain.ref_len, "seconds": t_plain},
                        "memo_ocr": {"edits": c_ours.edits, "ref": c_ours.ref_len, "seconds": t_pipe,
                                     "stage_seconds_per_page": {k: v / len(imgs) for k, v in stages.items()}}}

    def cer(kind):
        e = sum(r[kind]["edits"] for r in results.values())
        n = sum(r[kind]["ref"] for r in results.values())
        return e / n

    def spp(kind):
        return sum(r[kind]["seconds"] for r in results.values()) / total_pages

    counts = ", ".join(f"{k}: {v['pages']}" for k, v in results.items())
    print(f"EHRI pages: {total_pages} ({counts}), "
          f"{args.workers} workers, tesseract fast models as installed")
    print(f"{'':12} {'CER':>8} {'s/page':>8}")
    for kind, name in (("plain", "tesseract"), ("memo_ocr", "memo-ocr")):
        print(f"{name:12} {100 * cer(kind):7.2f}% {spp(kind):8.2f}")
        for sub, r in results.items():
            print(f"  {sub:10} {100 * r[kind]['edits'] / r[kind]['ref']:7.2f}% {r[kind]['seconds'] / r['pages']:8.2f}")
    print(f"ratio memo-ocr/tesseract: CER {cer('memo_ocr') / cer('plain'):.2f}, time {spp('memo_ocr') / spp('plain'):.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
