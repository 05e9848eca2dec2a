"""Deskew accuracy on a synthetic reel: the angle memo-ocr measured (OUT/run.json) vs the true one (ground truth).

    memo-ocr run scans/reel-083 -o out/reel-083 && python bench/reel_deskew.py out/reel-083 ground_truth/reel-083
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from lxml import etree

NS = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}


def true_skew(gt_file: Path) -> float | None:
    doc = etree.parse(str(gt_file))
    item = doc.find(".//pc:MetadataItem[@name='skew_deg']", NS)
    return None if item is None else float(item.get("value"))


def main() -> int:
    out, gt = Path(sys.argv[1]), Path(sys.argv[2])
    run = json.loads((out / "run.json").read_text())
    errors = []
    print(f"{'page':12} {'true':>7} {'measured':>9} {'applied':>8}")
    for p in run["pages"]:
        f = gt / f"{p['page_id']}.page.xml"
        if p["status"] != "ok" or not f.exists() or (t := true_skew(f)) is None:
            continue
        m = p["deskew_measured_deg"]
        print(f"{p['page_id']:12} {t:7.2f} {m if m is not None else float('nan'):9.2f} {p['deskew_applied_deg']:8.2f}")
        errors.append(abs(t - (m or 0.0)))
    if errors:
        print(f"pages {len(errors)}, mean |error| {sum(errors) / len(errors):.3f} deg, max {max(errors):.3f} deg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
