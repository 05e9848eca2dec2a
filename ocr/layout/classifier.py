"""The region classifier: a small tree ensemble trained on synthetic reels (``memo-ocr train-layout``; weights
in ``models/layout.json``) labels each candidate ``handwritten``, ``stamp`` or ``noise``."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import EngineError
from .candidates import FEATURES, Candidate

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "layout.json"


KINDS = ("noise", "handwritten", "stamp")


class TreeEnsemble:
    """A random forest exported from scikit-learn to JSON (:func:`export_sklearn`); numpy inference."""

    def __init__(self, spec: dict):
        if spec["kind"] != "forest":
            raise ValueError(f"unknown ensemble kind {spec['kind']!r}")
        self.classes = spec["classes"]
        self.features = spec["features"]
        self.trees = [{k: np.asarray(v) for k, v in t.items()} for t in spec["trees"]]
        self.meta = spec.get("meta", {})

    @staticmethod
    def _leaf(t: dict, x: np.ndarray) -> np.ndarray:
        node = 0
        left, right, feat, thr = t["left"], t["right"], t["feature"], t["threshold"]
        while left[node] != -1:
            node = left[node] if x[feat[node]] <= thr[node] else right[node]
        return t["value"][node]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (columns in ``classes`` order): the mean of the trees' leaf distributions."""
        X = np.atleast_2d(X)
        out = np.zeros((len(X), len(self.classes)))
        for i, x in enumerate(X):
            p = np.mean([self._leaf(t, x) for t in self.trees], axis=0)
            out[i] = p / max(p.sum(), 1e-9)
        return out


@lru_cache(maxsize=2)
def load_model(path: str | None = None) -> TreeEnsemble:
    p = Path(path) if path else DEFAULT_MODEL
    try:
        spec = json.loads(p.read_text(encoding="utf-8"))
        model = TreeEnsemble(spec)
    except FileNotFoundError:
        raise EngineError(f"{p}: layout model file not found (train one with 'memo-ocr train-layout')") from None
    except (ValueError, KeyError, TypeError) as e:
        raise EngineError(f"{p}: not a memo-ocr layout model ({type(e).__name__}: {e})") from None
    if list(model.features) != list(FEATURES):
        raise EngineError(f"{p}: layout model was trained on other features; retrain with 'memo-ocr train-layout'")
    return model


def classify(cands: list[Candidate], model: TreeEnsemble) -> list[Candidate]:
    if not cands:
        return cands
    rest = [c for c in cands if c.inked is None]  # the network's own candidates keep its kind
    if not rest:
        return cands
    probs = model.predict_proba(np.stack([c.features for c in rest]))
    for c, p in zip(rest, probs, strict=True):
        j = int(np.argmax(p))
        c.kind, c.prob = model.classes[j], float(p[j])
        c.probs = {k: float(v) for k, v in zip(model.classes, p, strict=True)}
    return cands


def export_sklearn(clf, features: tuple[str, ...], meta: dict) -> dict:
    """A fitted RandomForestClassifier as the JSON :class:`TreeEnsemble` reads."""
    trees = []
    for est in clf.estimators_:
        t = est.tree_
        trees.append({"left": t.children_left.tolist(), "right": t.children_right.tolist(),
                      "feature": t.feature.tolist(), "threshold": [round(float(v), 6) for v in t.threshold],
                      "value": [[round(float(v), 5) for v in row] for row in t.value[:, 0, :]]})
    return {"kind": "forest", "classes": [str(c) for c in clf.classes_], "features": list(features),
            "trees": trees, "meta": meta}
