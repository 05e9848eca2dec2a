"""Handwriting model benchmark: CER of the kraken model and of plain `tesseract` on the same images.

1. The held-out test part (7.5 %, split by path hash; never trained on, never used for model selection)
   of the real handwritten words in ../shared/data/htr_ru/train; labels normalised as in training (ё -> я).
2. The handwritten lines of a synthetic reel (default scans/reel-083, whose pages were never used for
   training), cut from the page image along their ground-truth quadrilaterals and turned upright.
3. The same reel's notes read in their ground-truth regions as the pipeline reads a region it found
   (turned upright, cut into lines, each line read: ``ocr.layout.handwriting.read_handwriting``), scored
   as the per-kind score does (lines matched one to one, lines read and unmatched count as inserted):
   the cutting into lines measured apart from the finding of the regions.
Each read by the model alone (kraken's greedy reading) and as the pipeline reads (``[layout]
handwriting_lexicon``: the NumpyRecognizer with the Russian word list, ``ocr.htr.lexicon``). Also the model's
load time and the time per line on this CPU.

    python bench/htr.py [--model ocr/models/htr-ru.safetensors] [--limit N]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr.engines.kraken_lines import KrakenLines  # noqa: E402
from ocr.engines.vgsl_numpy import NumpyRecognizer  # noqa: E402
from ocr.htr.lexicon import with_lexicon  # noqa: E402
from ocr.htr.data import normalise_label, read_words  # noqa: E402
from ocr.formats.readers import TLine, Transcription, read_page  # noqa: E402
from ocr.layout.handwriting import read_handwriting  # noqa: E402
from ocr.score.metrics import Counts, char_counts, fmt_rate  # noqa: E402
from ocr.score.pages import score_transcriptions  # noqa: E402

NS = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}


def plain_tesseract(img: np.ndarray, lang: str = "rus") -> str:
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x.png")
        cv2.imwrite(p, img)
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        out = subprocess.run(["tesseract", p, "-", "-l", lang, "--psm", "7"], capture_output=True, text=True,
                             env=env, check=False).stdout
    return " ".join(out.split())


def reel_lines(scans: Path, gt: Path) -> list[tuple[np.ndarray, str]]:
    """Upright crops of the ground truth's handwritten lines."""
    out = []
    for gt_file in sorted(gt.glob("*.page.xml")):
        pid = gt_file.name[: -len(".page.xml")]
        page = cv2.imread(str(scans / f"{pid}.jpg"), cv2.IMREAD_GRAYSCALE)
        if page is None:
            continue
        for reg in etree.parse(str(gt_file)).iterfind(".//pc:TextRegion", NS):
            if not (reg.get("production") or "").startswith("handwritten"):
                continue
            for line in reg.iterfind("pc:TextLine", NS):
                pts = np.array([[float(v) for v in p.split(",")] for p in
                                line.find("pc:Coords", NS).get("points").split()], np.float32)
                text = line.findtext("pc:TextEquiv/pc:Unicode", default="", namespaces=NS)
                if len(pts) != 4 or not text.strip():
                    continue
                w = int(np.linalg.norm(pts[1] - pts[0]))
                h = int(np.linalg.norm(pts[3] - pts[0]))
                m = cv2.getAffineTransform(pts[[0, 1, 3]], np.float32([[0, 0], [w, 0], [0, h]]))
                crop = cv2.warpAffine(page, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
                out.append((crop, text))
    return out


XHEIGHT = 22.0  # the typed x-height the layout stage passes on a 300 ppi page


def region_notes(scans: Path, gt: Path, model) -> Counts:
    """Handwritten lines read in the ground truth's handwritten regions, scored against its handwritten lines
    by the per-kind score (``score_transcriptions``)."""
    total = Counts()
    for gt_file in sorted(gt.glob("*.page.xml")):
        pid = gt_file.name[: -len(".page.xml")]
        page = cv2.imread(str(scans / f"{pid}.jpg"), cv2.IMREAD_GRAYSCALE)
        if page is None:
            continue
        truth = read_page(gt_file)
        hyps = []
        for reg in truth.regions:
            if reg.kind == "handwritten" and reg.poly:
                xs, ys = [p[0] for p in reg.poly], [p[1] for p in reg.poly]
                lines, _ = read_handwriting(page, (min(xs), min(ys), max(xs), max(ys)), reg.id, model, XHEIGHT)
                hyps += [TLine(ln.text, "handwritten") for ln in lines]
        hand = Transcription([ln for ln in truth.lines if ln.kind == "handwritten"], [])
        total += score_transcriptions(pid, hand, Transcription(hyps, [])).kinds.get("handwritten", Counts())
    return total


def evaluate(name: str, items: list[tuple[np.ndarray, str]], model: KrakenLines, with_tesseract: bool,
             lexical=None) -> None:
    k, t, x = Counts(), Counts(), Counts()
    secs = 0.0
    for img, ref in items:
        s = time.perf_counter()
        hyp = model.read_image(img).text
        secs += time.perf_counter() - s
        k += char_counts(ref, " ".join(hyp.split()))
        if lexical is not None:
            x += char_counts(ref, " ".join(lexical.read_image(img).text.split()))
        if with_tesseract:
            t += char_counts(ref, plain_tesseract(img))
    line = f"{name}: {len(items)} images, {k.ref_len} chars; kraken model CER {fmt_rate(k.rate)}"
    if lexical is not None:
        line += f"; with the word list (as the pipeline reads) {fmt_rate(x.rate)}"
    if with_tesseract:
        line += f"; plain tesseract (rus, --psm 7) CER {fmt_rate(t.rate)}"
    print(line + f"; {secs / max(len(items), 1) * 1000:.0f} ms per image (model only)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "ocr" / "models" / "htr-ru.safetensors")
    ap.add_argument("--words", type=Path, default=ROOT.parent / "shared" / "data" / "htr_ru" / "train")
    ap.add_argument("--scans", type=Path, default=ROOT / "scans" / "reel-083")
    ap.add_argument("--gt", type=Path, default=ROOT / "ground_truth" / "reel-083")
    ap.add_argument("--limit", type=int, default=0, help="at most this many images per set (0 = all)")
    ap.add_argument("--no-tesseract", action="store_true")
    args = ap.parse_args()
    s = time.perf_counter()
    model = KrakenLines(args.model)
    print(f"model {args.model} ({args.model.stat().st_size / 1e6:.1f} MB), load {time.perf_counter() - s:.2f} s")
    lexical = with_lexicon(NumpyRecognizer(args.model), "rus")
    if args.words.is_dir():
        words = [w for w in read_words(args.words) if w.split == "test"]
        items = [(cv2.imread(str(w.path), cv2.IMREAD_GRAYSCALE), normalise_label(w.text)) for w in words]
        items = [(i, t) for i, t in items if i is not None][: args.limit or None]
        evaluate("real handwritten words (htr_ru test part)", items, model, not args.no_tesseract, lexical)
    else:
        print(f"{args.words}: not found, real words skipped")
    items = reel_lines(args.scans, args.gt)[: args.limit or None]
    evaluate(f"handwritten lines of {args.scans.name} (ground-truth crops)", items, model, not args.no_tesseract,
             lexical)
    c = region_notes(args.scans, args.gt, lexical)
    print(f"notes of {args.scans.name} read in their ground-truth regions (as the pipeline reads): {c.ref_len} chars; "
          f"CER {fmt_rate(c.rate)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
