"""Train and measure the layout classifier on synthetic reels (their PAGE ground truth has every region's kind)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from lxml import etree

from ..layout.candidates import FEATURES, Candidate
from ..layout.classifier import export_sklearn
from ..model import Box, bbox, cover, iou  # noqa: F401 - cover and iou re-exported for bench/ and tests

NS = "{http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15}"


@dataclass
class GTLayout:
    typed: list[Box]
    handwritten: list[Box]
    stamp: list[Box]


def _points(el) -> Box | None:
    c = el.find(f"{NS}Coords")
    if c is None or not c.get("points"):
        return None
    pts = [tuple(int(float(v)) for v in p.split(",")) for p in c.get("points").split()]
    return bbox(pts)


def read_gt_layout(path: Path) -> GTLayout:
    """Region boxes by kind from a synthetic reel's PAGE XML (stamps: the GraphicRegion outlines)."""
    root = etree.parse(str(path)).getroot()
    out = GTLayout([], [], [])
    for reg in root.iter(f"{NS}TextRegion"):
        b = _points(reg)
        prod = reg.get("production") or ""
        if b is None:
            continue
        if prod == "typewritten":
            out.typed.append(b)
        elif prod.startswith("handwritten"):
            out.handwritten.append(b)
    for g in root.iter(f"{NS}GraphicRegion"):
        b = _points(g)
        if b is not None and g.get("type") == "stamp":
            out.stamp.append(b)
    return out


def label(box: Box, gt: GTLayout) -> str:
    """The kind of the ground-truth region that holds most of ``box`` (at least half), else noise."""
    best, kind = 0.5, "noise"
    for k, boxes in (("handwritten", gt.handwritten), ("stamp", gt.stamp)):
        for b in boxes:
            c = cover(box, b)
            if c >= best:
                best, kind = c, k
    return kind


def match(pred: list[Box], gt: list[Box], threshold: float = 0.5) -> tuple[int, int, int]:
    """Greedy one-to-one matching at IoU >= threshold: (true positives, predicted, ground truth)."""
    pairs = sorted(((iou(p, g), i, j) for i, p in enumerate(pred) for j, g in enumerate(gt)), reverse=True)
    used_p, used_g, tp = set(), set(), 0
    for v, i, j in pairs:
        if v < threshold:
            break
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        tp += 1
    return tp, len(pred), len(gt)


def collect(pages: Iterable[tuple[Path, Path]], page_features: Callable[[Path], list[Candidate]]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of every candidate on (image, ground truth) pages."""
    X, y = [], []
    for img, gt_path in pages:
        gt = read_gt_layout(gt_path)
        for c in page_features(img):
            X.append(c.features)
            y.append(label(c.box, gt))
    return np.stack(X) if X else np.zeros((0, len(FEATURES)), np.float32), np.array(y)


def fit(X: np.ndarray, y: np.ndarray, seed: int, meta: dict) -> dict:
    from sklearn.ensemble import RandomForestClassifier

    clf = RandomForestClassifier(n_estimators=80, max_depth=12, min_samples_leaf=2, class_weight="balanced",
                                 random_state=seed, n_jobs=1)
    clf.fit(X, y)
    return export_sklearn(clf, FEATURES, meta)
