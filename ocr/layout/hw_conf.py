"""A handwritten line's confidence for review: the chance that the handwriting model read the line without an
error, from its character confidences and from how much the reading looks like words of the language.

The model's mean character confidence alone tells a line read right from one read wrong poorly (on the
judging real-handwriting reels, area under the ROC curve 0.70; 0.78 for this model): it is sure of many misread
letters. Words the language knows and a likely letter sequence tell more. A logistic model of ``FEATURES``
(``bench/htr_conf.py --fit``, on the lines read end to end on the tuning reels 4200, 4500, 4600, 4900 and
5000; ``docs/benchmarks.md``) gives the line's ``@conf``, by which the review queue orders the handwriting;
the words and glyphs keep the model's own confidences.

The words are looked up in the Russian word list (``wordfreq``) with the letters of the pre-1918 spelling
written as today (ѣ as е, і as и, a final ъ left out: the score's ``archival-pre1918`` profile, as
``way_up.modern``, which ``way_up.wordlike`` uses too), as the bundled handwriting model reads Russian in both spellings.
"""
from __future__ import annotations

import dataclasses
import math
import re

from .way_up import modern

FEATURES = ("mean_conf", "min_word_conf", "words", "chars", "letter_logprob", "known_share")
# fitted by bench/htr_conf.py --fit (logistic regression, the features as they are), on lines read with the
# word list (``htr.lexicon``, ``[layout] handwriting_lexicon``)
COEF = (5.3521, 2.0744, -0.2827, -0.0251, 0.2485, 2.3496)
INTERCEPT = -7.3077

LANG = "ru"  # the bundled handwriting model's language
KNOWN_ZIPF = 1.5  # a word of the language: wordfreq's Zipf at least this
KNOWN_MIN = 3  # words shorter than this are not looked up (any two letters are a word somewhere)
_WORD = re.compile(r"[^\W\d_]+")


def features(text: str, glyph_confs: list[list[float]]) -> list[float]:
    """``FEATURES`` of a line read as ``text``, its words' glyphs read with ``glyph_confs`` (a list a word)."""
    from ..typed.words import letter_logprob, zipf

    confs = [c for word in glyph_confs for c in word]
    looked = [w for w in _WORD.findall(text) if len(w) >= KNOWN_MIN]
    known = sum(zipf(modern(w), (LANG,)) >= KNOWN_ZIPF for w in looked) / len(looked) if looked else 0.5
    return [sum(confs) / len(confs) if confs else 0.0, min((sum(w) / len(w) for w in glyph_confs if w), default=0.0),
            float(len(glyph_confs)), float(len(text.strip())), letter_logprob(modern(text), LANG)[0], float(known)]


def review_conf(text: str, glyph_confs: list[list[float]]) -> float:
    """The chance (0..1) that the line is read without an error; 0 for an empty reading."""
    if not text.strip() or not any(glyph_confs):
        return 0.0
    z = INTERCEPT + sum(c * f for c, f in zip(COEF, features(text, glyph_confs), strict=True))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def with_review_conf(line):
    """A handwritten ``Line`` (``model.Line``) with its ``review_conf`` as its confidence."""
    if line.conf is None or not line.words:
        return line
    return dataclasses.replace(line, conf=round(review_conf(line.text, [[g.conf for g in w.glyphs] for w in line.words]), 4))
