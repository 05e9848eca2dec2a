"""Benchmark: how well a handwritten line's confidence tells the lines read right from those read wrong, and
the fit of ``ocr/layout/hw_conf.py``'s logistic model.

For each reel (``memo-ocr synth ... --real-handwriting``, then ``memo-ocr run REEL/img -o REEL/out``), every
handwritten line of the run's PAGE files is matched with a ground-truth line as the per-kind score matches
them; a line is right when it reads its line without an error (``review_queue.right_lines``: a line read that
matches no ground-truth line is wrong). Its features (``hw_conf.FEATURES``) are computed from its text and
its glyphs' confidences, which are the model's own (the line's ``@conf`` is the calibrated one). Printed per set of reels: lines, lines right, the area
under the ROC curve of the model's mean character confidence and of ``hw_conf.review_conf``, and how many of
the wrong lines the first half of the review queue (handwriting ordered by each) holds.

    python bench/htr_conf.py --tuning work/rh-4200,work/rh-4500 --judging work/rh-4300,... [--fit] [--out out]

``--fit`` fits the logistic model on the tuning reels and prints ``COEF`` and ``INTERCEPT`` for
``hw_conf.py``; the judging reels' figures are then the fitted model's.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.formats.readers import read_page  # noqa: E402
from ocr.layout import hw_conf  # noqa: E402
from ocr.score.metrics import STRICT  # noqa: E402
from review_queue import right_lines  # noqa: E402  (bench/, beside this script)


def reel_lines(reel: Path, out: str) -> list[tuple[list[float], bool]]:
    """(features, read right) of every handwritten line of a reel's run."""
    rows = []
    for gt_file in sorted((reel / "gt").glob("*.page.xml")):
        hyp_file = reel / out / gt_file.name
        if not hyp_file.exists():
            continue
        gt, hyp = read_page(gt_file), read_page(hyp_file)
        refs = [STRICT.apply(ln.text) for ln in gt.lines]
        hyps = [STRICT.apply(ln.text) for ln in hyp.lines]
        right = right_lines(refs, hyps, [ln.kind for ln in gt.lines], [ln.kind for ln in hyp.lines])
        root = etree.parse(str(hyp_file)).getroot()
        ns = {"p": root.nsmap[None]}
        used: set[int] = set()
        for region in root.iterfind(".//p:TextRegion", ns):
            if not (region.get("production") or "").startswith("handwritten"):
                continue
            for line in region.iterfind("p:TextLine", ns):
                text = line.findtext("p:TextEquiv/p:Unicode", default="", namespaces=ns)
                js = [j for j, ln in enumerate(hyp.lines) if ln.kind == "handwritten" and ln.text == text and j not in used]
                if not text.strip() or not js:
                    continue
                j = js[0]
                used.add(j)
                confs = [[float(g.find("p:TextEquiv", ns).get("conf", 0)) for g in word.iterfind("p:Glyph", ns)]
                         for word in line.iterfind("p:Word", ns)]
                rows.append((hw_conf.features(text, confs), right[j]))
    return rows


def auc(score: np.ndarray, right: np.ndarray) -> float:
    """Area under the ROC curve: the chance that a line read right scores above one read wrong."""
    pos, neg = score[right], score[~right]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


THRESHOLDS = (0.85, 0.7)  # the review queue's default --max-conf, and a lower one


def report(label: str, rows, coef: np.ndarray, intercept: float) -> None:
    X = np.array([r[0] for r in rows])
    right = np.array([r[1] for r in rows])
    raw = X[:, 0]
    cal = 1 / (1 + np.exp(-(X @ coef + intercept)))
    wrong = int((~right).sum())
    half = len(rows) // 2

    def first_half_wrong(score):
        return int((~right[np.argsort(score, kind="stable")[:half]]).sum())

    print(f"{label:10} lines {len(rows):4}  right {int(right.sum()):4}  AUC model conf {auc(raw, right):.3f}  "
          f"calibrated {auc(cal, right):.3f}  wrong lines in the queue's first half: {first_half_wrong(raw)} / "
          f"{first_half_wrong(cal)} of {wrong}")
    for t in THRESHOLDS:
        print(f"{'':10} at or above {t}: model conf {int((raw >= t).sum())} lines, {int(((raw >= t) & ~right).sum())} "
              f"wrong; calibrated {int((cal >= t).sum())} lines, {int(((cal >= t) & ~right).sum())} wrong")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tuning", required=True, help="comma-separated reel folders (REEL/gt, REEL/OUT)")
    ap.add_argument("--judging", default="", help="comma-separated reel folders")
    ap.add_argument("--out", default="out", help="the run's output folder in each reel (default: out)")
    ap.add_argument("--fit", action="store_true", help="fit the logistic model on the tuning reels")
    args = ap.parse_args()
    sets = {"tuning": args.tuning, "judging": args.judging}
    for reel in (r for v in sets.values() for r in v.split(",") if r):
        if not (Path(reel) / "gt").is_dir() or not (Path(reel) / args.out).is_dir():
            print(f"bench: {reel}: no {reel}/gt with its ground truth and {reel}/{args.out} with a run's output",
                  file=sys.stderr)
            return 2
    rows = {k: [r for reel in v.split(",") if reel for r in reel_lines(Path(reel), args.out)] for k, v in sets.items()}
    if not rows["tuning"]:
        print("bench: no handwritten line read in the tuning reels' runs", file=sys.stderr)
        return 2
    coef, intercept = np.array(hw_conf.COEF), hw_conf.INTERCEPT
    if args.fit:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        X = np.array([r[0] for r in rows["tuning"]])
        y = np.array([r[1] for r in rows["tuning"]])
        scale = StandardScaler().fit(X)
        m = LogisticRegression(max_iter=1000).fit(scale.transform(X), y)
        coef = m.coef_[0] / scale.scale_
        intercept = float(m.intercept_[0] - (m.coef_[0] * scale.mean_ / scale.scale_).sum())
        print(f"COEF = ({', '.join(f'{c:.4f}' for c in coef)})  # {', '.join(hw_conf.FEATURES)}")
        print(f"INTERCEPT = {intercept:.4f}")
    for k, r in rows.items():
        if r:
            report(k, r, coef, intercept)
    return 0


if __name__ == "__main__":
    sys.exit(main())
