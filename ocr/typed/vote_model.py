"""The vote between Tesseract's and the typewriter model's reading of a typed line: a small forest trained on
real pages decides, stretch by stretch, which reading to keep (``[tesseract] typed_reader = "vote"``).

The two readings of a line are aligned word by word (Levenshtein over the words); between the words both
read alike lie the stretches where they differ. For each such stretch the forest (``models/typed-vote.json``,
``memo-ocr train-vote``) gives the chance that the model's words are closer to the truth than Tesseract's,
from ``FEATURES``: each side's confidence (mean, lowest), the share of its letters in words of the page's
language (``wordfreq``), its words' mean frequency, its length and punctuation, whether it is empty, the
differences, and the two whole lines' confidences. The model's words are kept where that chance is over
``KEEP_MODEL``, unless they would drop most of a stretch Tesseract read surely in words of the language
(``drops_sure_words``).

It is trained on the typed lines of the real pages of the tuning half (``bench/ehri.py``'s document split):
each stretch's label is whether putting the model's words in its place brings the line closer to the page's
ground truth (edits of the line against the closest stretch of the page's typed text).
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..engines.base import RawWord, mean_conf
from ..errors import EngineError

DEFAULT_CHOOSER = Path(__file__).resolve().parent.parent / "models" / "typed-vote.json"
KEEP_MODEL = 0.5  # the model's stretch is kept where the forest gives it at least this chance of being better
KNOWN_ZIPF = 1.5  # a word of the language: wordfreq's Zipf at least this (about once in 30 million words)
_SIDE = ("conf", "min_conf", "known_share", "mean_zipf", "log_chars", "punct_share", "empty")
FEATURES = tuple([f"tess_{n}" for n in _SIDE] + [f"model_{n}" for n in _SIDE]
                 + [f"diff_{n}" for n in _SIDE[:5]] + ["tess_line_conf", "model_line_conf"])


def stretches(tess: tuple[RawWord, ...], model: tuple[RawWord, ...]) -> list[tuple[bool, tuple, tuple]]:
    """The two readings as runs (same, Tesseract's words, the model's words): words read alike, and between
    them the stretches where the readings differ (a stretch may be empty on one side)."""
    from rapidfuzz.distance import Levenshtein

    runs: list[tuple[bool, tuple, tuple]] = []
    for tag, i1, i2, j1, j2 in Levenshtein.opcodes([w.text for w in tess], [w.text for w in model]):
        if tag != "equal" and runs and not runs[-1][0]:
            _, a, b = runs.pop()
            runs.append((False, a + tess[i1:i2], b + model[j1:j2]))
        else:
            runs.append((tag == "equal", tess[i1:i2], model[j1:j2]))
    return runs


def _zipf(text: str, langs: tuple[str, ...]) -> float:
    from .words import zipf

    core = "".join(c for c in text if c.isalpha()).lower()
    return zipf(core, langs) if core and langs else 0.0


def _side(words, langs: tuple[str, ...]) -> list[float]:
    letters = sum(sum(c.isalpha() for c in w.text) for w in words)
    known = sum(sum(c.isalpha() for c in w.text) for w in words if _zipf(w.text, langs) >= KNOWN_ZIPF)
    zs = [_zipf(w.text, langs) for w in words if any(c.isalpha() for c in w.text)]
    chars = sum(len(w.text) for w in words)
    punct = sum(sum(not c.isalnum() for c in w.text) for w in words)
    return [mean_conf(words), min((w.conf for w in words), default=0.0), known / max(letters, 1),
            float(np.mean(zs)) if zs else 0.0, math.log1p(chars), punct / max(chars, 1), float(not words)]


def features(a: tuple, b: tuple, tess: tuple, model: tuple, langs: tuple[str, ...]) -> list[float]:
    """``FEATURES`` of the stretch where Tesseract read ``a`` and the model ``b``, in lines ``tess``, ``model``."""
    fa, fb = _side(a, langs), _side(b, langs)
    return fa + fb + [fa[i] - fb[i] for i in range(5)] + [mean_conf(tess), mean_conf(model)]


@lru_cache(maxsize=2)
def load(path: str = ""):
    """The chooser (a forest, ``layout.classifier.TreeEnsemble``); a one-line error where it is missing or
    was trained on other features."""
    from ..layout.classifier import TreeEnsemble

    p = Path(path) if path else DEFAULT_CHOOSER
    try:
        model = TreeEnsemble(json.loads(p.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise EngineError(f"{p}: vote model file not found (train one with 'memo-ocr train-vote', or set "
                          f"[tesseract] typed_reader to \"tesseract\")") from None
    except (ValueError, KeyError, TypeError) as e:
        raise EngineError(f"{p}: not a memo-ocr vote model ({type(e).__name__}: {e})") from None
    if list(model.features) != list(FEATURES):
        raise EngineError(f"{p}: vote model was trained on other features; retrain with 'memo-ocr train-vote'")
    return model


def choose(tess: tuple[RawWord, ...], model: tuple[RawWord, ...], langs: tuple[str, ...], chooser) -> tuple[RawWord, ...]:
    """The line's words: where the readings differ, the stretch the chooser keeps."""
    runs = stretches(tess, model)
    todo = [(a, b) for same, a, b in runs if not same]
    if not todo:
        return tess
    rows = np.array([features(a, b, tess, model, langs) for a, b in todo])
    p = chooser.predict_proba(rows)
    better = (p[:, chooser.classes.index("1")] >= KEEP_MODEL) & ~np.array([drops_sure_words(a, b, row)
                                                                           for (a, b), row in zip(todo, rows, strict=True)])
    out: list[RawWord] = []
    k = 0
    for same, a, b in runs:
        if same:
            out += a
        else:
            out += b if better[k] else a
            k += 1
    return tuple(out)


SURE_WORDS = 0.8  # a stretch Tesseract read at least this surely (mean), all its letters in words of the language,
DROPPED = 0.5  # ... is never given up for the model's reading of under this share of its characters


def drops_sure_words(tess: tuple, model: tuple, row) -> bool:
    """Whether taking the model's words for Tesseract's would drop most of a stretch Tesseract read surely in
    words of the language (``row``: the stretch's ``features``): text is not dropped on the model's word (a
    line whose box takes in a hand's mark or a stamp, which the model reads as a few signs). On a replay of the tuning half's readings it costs 5 of
    the 709 edits the vote saves there; on the Russian tuning reels it changes nothing."""
    if not tess:
        return False
    conf, known = row[FEATURES.index("tess_conf")], row[FEATURES.index("tess_known_share")]  # the stretch's features
    chars = sum(len(w.text) for w in tess)
    return conf >= SURE_WORDS and known >= 1.0 and sum(len(w.text) for w in model) < DROPPED * chars


def line_edits(text: str, truth: np.ndarray) -> int:
    """Edits of ``text`` against the closest stretch of ``truth`` (code points, uint32): the line's share of its
    page's error, wherever on the page it stands."""
    if not text:
        return 0
    prev = np.zeros(len(truth) + 1, np.int64)
    idx = np.arange(len(truth) + 1, dtype=np.int64)
    for i, ch in enumerate(text, 1):
        cost = (truth != ord(ch)).astype(np.int64)
        step = np.empty_like(prev)
        step[0] = i
        step[1:] = np.minimum(prev[1:] + 1, prev[:-1] + cost)
        prev = idx + np.minimum.accumulate(step - idx)
    return int(prev.min())


def examples(lines: list[tuple[tuple, tuple]], truth: str, langs: tuple[str, ...]) -> tuple[list, list]:
    """(features, gain) of every stretch of a page's lines (Tesseract's words, the model's words), the gain
    the edits saved against the page's typed ``truth`` by taking the model's words there (negative: lost)."""
    code = np.frombuffer(" ".join(truth.split()).encode("utf-32-le"), np.uint32)
    X, gain = [], []
    for tess, model in lines:
        runs = stretches(tess, model)
        base = line_edits(" ".join(w.text for w in tess), code)
        for k, (same, a, b) in enumerate(runs):
            if same:
                continue
            alt = [w for j, (_, x, y) in enumerate(runs) for w in (y if j == k else x)]
            X.append(features(a, b, tess, model, langs))
            gain.append(base - line_edits(" ".join(w.text for w in alt), code))
    return X, gain
