"""Benchmark: memo-ocr vs plain `tesseract` on real typescripts (../shared/data: EHRI, French typescripts).

Both run in this one process tree on the same pages with the same parallelism (2 workers,
OMP_THREAD_LIMIT=1 each), so their ratio is fair on a shared, noisy machine. Time is given twice: wall
time, and the processor time of the child processes (plain Tesseract's processes, memo-ocr's workers,
their start included), which another job on the machine changes less than the wall time. CER is page level: the
typewritten lines of each output against the ground truth's typewritten lines (ALTO; the French
set's lines typed through TAGREFS, its markers "_" for underlined and "^" for superscript removed),
NFC, whitespace runs collapsed, grapheme clusters, edit distance / reference length, micro-averaged.

Tune on one half, judge on the other: every page belongs to its document (``document``), and a
document to the tuning half or the confirming half by the first hex digit of the SHA-1 of its id
(``half``: even = tuning, odd = confirming). The figures are printed for each half, with the number
of pages whose CER is more than 2 points worse than plain Tesseract's and the pages the pipeline
flagged ``suspect``.

    python bench/ehri.py [--sets ehri,fr] [--half all|tuning|confirming] [--every 1] [--workers 2]
                         [--keep DIR] [--json FILE] [--variants]

``--variants`` also reads each page's coloured variants (``bench/colour_variants.py``: ink violet,
blue, red; yellowed paper) and prints their CER beside the grey page's.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr import config as cfgmod  # noqa: E402
from ocr.batch.runner import run_reel  # noqa: E402
from ocr.formats.readers import read_transcription  # noqa: E402
from ocr.loader import PageRef  # noqa: E402
from ocr.score.metrics import char_counts  # noqa: E402
from ocr.score.halves import document, half  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
# set -> (folder under the data folder, Tesseract language, image suffixes)
SETS = {
    "ehri-english": ("ehri/english", "eng"),
    "ehri-german": ("ehri/german", "deu"),
    "fr": ("fr_typescripts", "fra"),
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
WORSE_BY = 0.02  # a page is "worse than plain" when its CER exceeds plain Tesseract's by more than this


def ground_truth(xml: Path, markers: bool) -> str:
    lines = [ln.text for ln in read_transcription(xml) if ln.kind == "typewritten"]
    text = " ".join(lines)
    if markers:  # eScriptorium's transcription markers: _underlined, ^superscript
        text = re.sub(r"(^|\s)_", r"\1", text).replace("^", "")
    return text


def children_cpu() -> float:
    """Processor seconds (user and system) of this process's ended child processes so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def plain_tesseract(img: Path, lang: str) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    r = subprocess.run(["tesseract", str(img), "-", "-l", lang], capture_output=True, text=True, env=env, check=True)
    return r.stdout


def pages_of(data: Path, sub: str, every: int, which: str) -> list[Path]:
    imgs = sorted(p for p in (data / sub).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.with_suffix(".xml").exists())
    imgs = [p for p in imgs if which == "all" or half(p.stem) == which]
    return imgs[::every]


def run_pipeline(imgs: list[Path], ids: list[str], out: Path, cfg, workers: int):
    """memo-ocr on the images: (typed text per id, status per id, seconds, stage seconds summed)."""
    t0 = time.perf_counter()
    report = run_reel([PageRef(i, p) for i, p in zip(ids, imgs, strict=True)], out, cfg, workers=workers,
                      progress=False)
    seconds = time.perf_counter() - t0
    texts, status, stages = {}, {}, {}
    for pg in report.pages:
        status[pg.page_id] = pg.status
        for k, v in pg.timings.items():
            stages[k] = stages.get(k, 0.0) + v
    for i in ids:
        f = out / f"{i}.page.xml"
        texts[i] = " ".join(ln.text for ln in read_transcription(f) if ln.kind == "typewritten") if f.exists() else ""
    return texts, status, seconds, stages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--sets", default="ehri-english,ehri-german,fr",
                    help=f"comma-separated, of {', '.join(SETS)} (ehri = both EHRI sets)")
    ap.add_argument("--half", choices=("all", "tuning", "confirming"), default="all")
    ap.add_argument("--every", type=int, default=1, help="take every N-th page (1 = all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here too")
    ap.add_argument("--keep", type=Path, default=None,
                    help="keep memo-ocr's outputs (and plain tesseract's text, *.plain.txt) in this folder, "
                         "one subfolder per set; default: a temporary folder")
    ap.add_argument("--variants", action="store_true",
                    help="also read each page's coloured variants and report their CER beside the grey page's")
    args = ap.parse_args()
    names = []
    for s in args.sets.split(","):
        names += [k for k in SETS if k.startswith(s.strip())] if s.strip() == "ehri" else [s.strip()]
    unknown = [s for s in names if s not in SETS]
    if unknown:
        print(f"bench: unknown set(s) {', '.join(unknown)}: use {', '.join(SETS)}", file=sys.stderr)
        return 2
    cfg = cfgmod.load(args.config)
    rows = []  # one per page
    timing = {"plain": 0.0, "memo_ocr": 0.0, "pages": 0, "plain_cpu": 0.0, "memo_ocr_cpu": 0.0}
    stages_all: dict[str, float] = {}
    variant_rows = []
    for name in names:
        sub, lang = SETS[name]
        if not (args.data / sub).is_dir():
            print(f"bench: no data at {args.data / sub}", file=sys.stderr)
            return 2
        imgs = pages_of(args.data, sub, args.every, args.half)
        if not imgs:
            continue
        ids = [p.stem for p in imgs]
        gts = {p.stem: ground_truth(p.with_suffix(".xml"), markers=name == "fr") for p in imgs}
        t0, c0 = time.perf_counter(), children_cpu()
        with ThreadPoolExecutor(args.workers) as ex:  # threads: each call is its own tesseract process
            plain = dict(zip(ids, ex.map(plain_tesseract, imgs, [lang] * len(imgs)), strict=True))
        timing["plain"] += time.perf_counter() - t0
        timing["plain_cpu"] += children_cpu() - c0
        with tempfile.TemporaryDirectory() as tmp:
            out = args.keep / name if args.keep else Path(tmp)
            out.mkdir(parents=True, exist_ok=True)
            if args.keep:
                for k, text in plain.items():
                    (out / f"{k}.plain.txt").write_text(text, encoding="utf-8")
            c0 = children_cpu()
            ours, status, seconds, stages = run_pipeline(imgs, ids, out, cfg.replace("run", lang=lang), args.workers)
            timing["memo_ocr_cpu"] += children_cpu() - c0
            if args.variants:
                variant_rows += variants(imgs, gts, Path(tmp), cfg.replace("run", lang=lang), args.workers, name)
        timing["memo_ocr"] += seconds
        timing["pages"] += len(imgs)
        for k, v in stages.items():
            stages_all[k] = stages_all.get(k, 0.0) + v
        for i in ids:
            if not gts[i].strip():
                continue  # a page with no typewritten line
            cp, co = char_counts(gts[i], plain[i]), char_counts(gts[i], ours[i])
            rows.append({"set": name, "page": i, "document": document(i), "half": half(i), "ref": cp.ref_len,
                         "plain_edits": cp.edits, "memo_ocr_edits": co.edits, "status": status.get(i, "missing")})
    report(rows, timing, stages_all, variant_rows, args.workers)
    if args.json:
        args.json.write_text(json.dumps({"pages": rows, "timing": timing, "stages": stages_all,
                                         "variants": variant_rows}, indent=2))
    return 0


def variants(imgs, gts, tmp: Path, cfg, workers: int, name: str) -> list[dict]:
    """CER of the grey page and of each coloured variant, per page."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from colour_variants import VARIANTS, write_variants

    made = {p.stem: write_variants(p, tmp / "variants") for p in imgs}
    out = []
    for v in ("grey",) + VARIANTS:
        ids = [f"{k}.{v}" for k in made]
        texts, status, _, _ = run_pipeline([made[k][v] for k in made], ids, tmp / f"out-{v}", cfg, workers)
        for k in made:
            if gts[k].strip():
                c = char_counts(gts[k], texts[f"{k}.{v}"])
                out.append({"set": name, "page": k, "variant": v, "ref": c.ref_len, "edits": c.edits,
                            "status": status.get(f"{k}.{v}", "missing")})
    return out


def report(rows, timing, stages, variant_rows, workers) -> None:
    def line(label, sel):
        if not sel:
            return
        ref = sum(r["ref"] for r in sel)
        p, o = sum(r["plain_edits"] for r in sel), sum(r["memo_ocr_edits"] for r in sel)
        worse = sum(1 for r in sel if (r["memo_ocr_edits"] - r["plain_edits"]) / max(r["ref"], 1) > WORSE_BY)
        suspect = sum(1 for r in sel if r["status"] == "suspect")
        print(f"{label:28} {len(sel):5} {100 * p / ref:8.2f}% {100 * o / ref:8.2f}% {o / max(p, 1):6.3f} "
              f"{p:7} {o:7} {worse:6} {suspect:7}")

    print(f"{'':28} {'pages':>5} {'tesseract':>9} {'memo-ocr':>9} {'ratio':>6} {'edits':>7} {'edits':>7} "
          f"{'worse':>6} {'suspect':>7}")
    for h in ("tuning", "confirming"):
        for s in dict.fromkeys(r["set"] for r in rows):
            line(f"{h} {s}", [r for r in rows if r["half"] == h and r["set"] == s])
        line(f"{h} (all sets)", [r for r in rows if r["half"] == h])
    line("all", rows)
    if timing["pages"]:
        sp, so = timing["plain"] / timing["pages"], timing["memo_ocr"] / timing["pages"]
        print(f"time: tesseract {sp:.2f} s/page, memo-ocr {so:.2f} s/page ({workers} workers): {so / sp:.2f}x; "
              f"memo-ocr stages, s/page: " + ", ".join(f"{k} {v / timing['pages']:.2f}" for k, v in stages.items()))
        cp, co = timing["plain_cpu"] / timing["pages"], timing["memo_ocr_cpu"] / timing["pages"]
        print(f"processor time: tesseract {cp:.2f} s/page, memo-ocr {co:.2f} s/page: {co / max(cp, 1e-9):.2f}x")
    worse = [r for r in rows if (r["memo_ocr_edits"] - r["plain_edits"]) / max(r["ref"], 1) > WORSE_BY]
    for r in worse:
        print(f"  worse than plain: {r['set']} {r['page']} ({r['half']}): "
              f"{100 * r['plain_edits'] / r['ref']:.1f} -> {100 * r['memo_ocr_edits'] / r['ref']:.1f} % ({r['status']})")
    if variant_rows:
        print(f"{'colour variant':28} {'pages':>5} {'CER':>9} {'vs grey':>8}")
        grey = {(r["set"], r["page"]): r for r in variant_rows if r["variant"] == "grey"}
        gref = sum(r["ref"] for r in grey.values())
        gcer = sum(r["edits"] for r in grey.values()) / max(gref, 1)
        for v in dict.fromkeys(r["variant"] for r in variant_rows):
            sel = [r for r in variant_rows if r["variant"] == v]
            c = sum(r["edits"] for r in sel) / max(sum(r["ref"] for r in sel), 1)
            print(f"{v:28} {len(sel):5} {100 * c:8.2f}% {100 * (c - gcer):+7.2f}")


if __name__ == "__main__":
    sys.exit(main())
