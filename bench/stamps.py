"""Benchmark: stamps' text (CER) and registry fields (number, date) read exactly, on reels with ground truth.

The ground truth's stamp text regions (``structure {type:stamp-text;}``) give each page's true numbers
and dates (through the same ``fields`` parser, on exact text); the run's ``run.json`` gives what
memo-ocr read (``layout.stamp_fields``). Per field: recall (true values read exactly) and precision
(values read that are true), over all pages; stamp text CER is the scorer's per-kind figure (`memo-ocr
score`'s stamp column), typed CER beside it. Run memo-ocr first.

    python bench/stamps.py OUT GT            # e.g. OUT from `memo-ocr run work/bench-layout/reel -o OUT`
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.formats.readers import read_transcription  # noqa: E402
from ocr.score.metrics import STRICT  # noqa: E402
from ocr.score.pages import pair_inputs, score_pairs, totals  # noqa: E402
from ocr.layout.stamp_text import fields  # noqa: E402


def true_fields(gt: Path) -> list[dict[str, str]]:
    """Each ground-truth stamp's fields (its lines, as one stamp per region)."""
    by_region: dict[str, list[str]] = {}
    for ln in read_transcription(gt):
        if ln.kind == "stamp":
            by_region.setdefault(ln.region, []).append(ln.text)
    return [f for f in (fields(texts) for texts in by_region.values()) if f]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="a memo-ocr run's output folder (its run.json)")
    ap.add_argument("gt", type=Path, help="the ground-truth folder (PAGE XML by page id)")
    args = ap.parse_args()
    run = json.loads((args.out / "run.json").read_text())
    tally = {k: [0, 0, 0] for k in ("number", "date")}  # true read, read, true
    for page in run["pages"]:
        gt = args.gt / f"{page['page_id']}.page.xml"
        if not gt.exists():
            continue
        want = true_fields(gt)
        got = (page.get("layout") or {}).get("stamp_fields", [])
        for k, t in tally.items():
            w = [f[k] for f in want if k in f]
            g = [f[k] for f in got if k in f]
            left = list(g)
            hits = 0
            for v in w:
                if v in left:
                    left.remove(v)
                    hits += 1
            t[0] += hits
            t[1] += len(g)
            t[2] += len(w)
    print(f"{args.out} against {args.gt}: {len(run['pages'])} pages")
    kinds = totals(score_pairs(pair_inputs(args.out, args.gt), STRICT))["kinds"]
    for k in ("stamp", "typewritten"):
        c = kinds.get(k) or {}
        if c.get("ref_len"):
            print(f"  {k} text CER {100 * c['rate']:.2f} % ({c['edits']} edits on {c['ref_len']} characters)")
    for k, (hit, read, true) in tally.items():
        print(f"  {k:6}  recall {hit}/{true} = {hit / true if true else 0:.2f}   precision {hit}/{read} = "
              f"{hit / read if read else 0:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
