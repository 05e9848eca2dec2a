"""Contact sheet of a reel: thumbnails of every page image in a grid, labelled with the page id.

    python scripts/contact_sheet.py scans/reel-083 docs/reel-083-contact-sheet.jpg [--cols 4] [--width 300]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--cols", type=int, default=4)
    ap.add_argument("--width", type=int, default=300)
    args = ap.parse_args()
    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in (".jpg", ".png", ".tif"))
    thumbs = []
    for f in files:
        im = cv2.imread(str(f), cv2.IMREAD_COLOR)
        h = int(im.shape[0] * args.width / im.shape[1])
        t = cv2.resize(im, (args.width, h), interpolation=cv2.INTER_AREA)
        cv2.putText(t, f.stem, (8, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 200), 2)
        thumbs.append(t)
    th = max(t.shape[0] for t in thumbs)
    thumbs = [cv2.copyMakeBorder(t, 4, 4 + th - t.shape[0], 4, 4, cv2.BORDER_CONSTANT, value=(255, 255, 255))
              for t in thumbs]
    blank = np.full_like(thumbs[0], 255)
    rows = [np.hstack(thumbs[i:i + args.cols] + [blank] * (args.cols - len(thumbs[i:i + args.cols])))
            for i in range(0, len(thumbs), args.cols)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 80])


if __name__ == "__main__":
    main()
