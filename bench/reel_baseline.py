"""Baseline on a synthetic reel: plain `tesseract` CER per region kind, with the ground truth's own regions.

For each ground-truth region (typewritten, handwritten, stamp text) the region's
bounding box is cut from the page image (other ink outside the polygon blanked
to white) and read by plain `tesseract --psm 6`; its text is scored against
the region's transcription. Also the page-level CER of plain `tesseract` on
the whole page against all of the page's text, and against its typed text.

    python bench/reel_baseline.py scans/reel-083 ground_truth/reel-083 [--lang rus]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.formats.readers import read_transcription, region_kind  # noqa: E402
from ocr.score.metrics import Counts, char_counts, fmt_rate  # noqa: E402

NS = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}


def tesseract(img: np.ndarray, lang: str, psm: int) -> str:
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x.png")
        cv2.imwrite(p, img)
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        return subprocess.run(["tesseract", p, "-", "-l", lang, "--psm", str(psm)], capture_output=True,
                              text=True, env=env, check=True).stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scans", type=Path)
    ap.add_argument("gt", type=Path)
    ap.add_argument("--lang", default="rus")
    args = ap.parse_args()
    kinds: dict[str, Counts] = {}
    page_all, page_typed = Counts(), Counts()
    for gt_file in sorted(args.gt.glob("*.page.xml")):
        pid = gt_file.name[: -len(".page.xml")]
        img = cv2.imread(str(args.scans / f"{pid}.jpg"), cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        lines = read_transcription(gt_file)
        whole = tesseract(img, args.lang, 3)
        page_all += char_counts(" ".join(ln.text for ln in lines), whole)
        page_typed += char_counts(" ".join(ln.text for ln in lines if ln.kind == "typewritten"), whole)
        doc = etree.parse(str(gt_file))
        for reg in doc.iterfind(".//pc:TextRegion", NS):
            kind = region_kind(reg)
            pts = np.array([[int(v) for v in p.split(",")] for p in reg.find("pc:Coords", NS).get("points").split()])
            x, y, w, h = cv2.boundingRect(pts)
            mask = np.zeros(img.shape, np.uint8)
            cv2.fillPoly(mask, [pts.astype(np.int32)], 255)
            crop = np.where(mask > 0, img, 255)[y:y + h, x:x + w]
            crop = cv2.copyMakeBorder(crop, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255)
            text = tesseract(crop, args.lang, 6)
            ref = " ".join(
                (tl.find("pc:TextEquiv/pc:Unicode", NS).text or "") for tl in reg.iterfind("pc:TextLine", NS))
            kinds[kind] = kinds.get(kind, Counts()) + char_counts(ref, text)
        print(f"{pid}: page CER {fmt_rate(char_counts(' '.join(ln.text for ln in lines), whole).rate)}",
              file=sys.stderr)
    print(f"plain tesseract -l {args.lang} on {args.scans}")
    print(f"{'region kind':14} {'ref chars':>9} {'CER':>9}")
    for k in ("typewritten", "handwritten", "stamp"):
        if k in kinds:
            print(f"{k:14} {kinds[k].ref_len:9d} {fmt_rate(kinds[k].rate):>9}")
    print(f"{'whole page, all text':24} {fmt_rate(page_all.rate):>9}")
    print(f"{'whole page vs typed text':24} {fmt_rate(page_typed.rate):>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
