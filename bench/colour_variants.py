"""Coloured variants of typescript pages: the page's ink recoloured violet, blue or red, or its paper yellowed.

Nothing else changes: each variant is made from the page's grey image by ``ocr.synth.scan.recolour``, as a
ribbon of that colour (or that paper) would have printed it. Used by ``bench/ehri.py --variants``; also a
command:

    python bench/colour_variants.py PAGE.jpg [...] --out DIR
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.synth.scan import COLOURS, recolour  # noqa: E402

VARIANTS = COLOURS


def write_variants(img: Path, out: Path, variants=VARIANTS) -> dict[str, Path]:
    """The page's grey image and its variants as PNG files in ``out``: {"grey": path, variant: path}."""
    grey = cv2.imread(str(img), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise OSError(f"{img}: cannot read the image")
    out.mkdir(parents=True, exist_ok=True)
    paths = {"grey": out / f"{img.stem}.grey.png"}
    cv2.imwrite(str(paths["grey"]), grey)
    for v in variants:
        paths[v] = out / f"{img.stem}.{v}.png"
        cv2.imwrite(str(paths[v]), recolour(grey, v))
    return paths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pages", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    for p in args.pages:
        for v, path in write_variants(p, args.out).items():
            print(f"{v}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
