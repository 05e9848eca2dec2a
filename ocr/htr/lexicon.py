"""Reading a handwritten line with the language's words: a beam search over the handwriting model's letter
probabilities (CTC) that scores each reading by the model, a letter model of the language and whether its
words are words of the language (wordfreq's list; old spelling looked up as written today).

The model alone reads a letter at a time: "Солнце" comes out "Солицъ" where its "н" looked like "и". The
search keeps the readings the model finds about as likely and prefers those made of words. A reading's
chance is that of its likeliest path through the steps, not the sum over all its paths: where the
network is unsure all along a line (a smear read as a line), the sum favours long strings of the letters
it half sees ("вишишиши..." for its "вишии"). Weights set on the tuning half of the real-handwriting
reels' cut lines (``docs/benchmarks.md``, "Handwriting").
"""
from __future__ import annotations

import heapq
import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ..score.metrics import PRE1918

LETTER_WEIGHT = 0.2  # the letter model's log chance, against the network's
LETTER_BONUS = 0.0  # a reward for each letter read (0.3 saved 5 of 649 edits on the tuning cut lines: not kept)
WORD_BONUS = 2.0  # (log chance) a word of the language's list ...
LISTED_MIN = 3  # ... of this many letters or more (any letter or two is a word somewhere: "я", "т" an initial)
WIDTH = 16  # readings kept at each step (32: 632 edits on the tuning reels' cut lines against 634, at twice the time)
PRUNE = 1e-3  # a letter less likely than this at a step is not tried there (1e-4: the same readings, twice the time)

# old spelling as today's (the score's pre-1918 letters; ъ: only where a letter follows it) and ё as е, for the
# letter model and the word list
_OLD = PRE1918 | str.maketrans("ё", "е")
_NONE = -1e30


class State(NamedTuple):
    """Where a reading stands in its word: the run of letters (today's spelling) the letter model scores, a
    hard sign waiting (dropped at a word's end as today's spelling drops it), the run's letter-model cost so
    far, the run a sign ended in this word, and whether the word is none (a digit in it, letters after a sign)."""

    run: str = ""
    hard: bool = False
    run_cost: float = 0.0
    token: str = ""
    spoilt: bool = False


class Lexicon:
    """The words and letters of ``lang`` (a wordfreq code) for ``best``."""

    def __init__(self, lang: str = "ru"):
        from ..typed.words import letter_model

        self.lang = lang
        self.grams, self.contexts, self.size, self.floor = letter_model(lang)
        self._lp: dict[str, float] = {}

    def _chance(self, context: str, letter: str) -> float:
        key = context + letter
        v = self._lp.get(key)
        if v is None:
            v = self._lp[key] = math.log((self.grams[key] + self.floor) / (self.contexts[context] + self.size * self.floor))
        return v

    def step(self, state: State, ch: str) -> tuple[float, State]:
        """(log chance, next state) of reading ``ch`` after ``state``."""
        run, hard, run_cost, token, spoilt = state
        c = ch.lower().translate(_OLD)
        if c == "ъ":
            return 0.0, State(run, True, run_cost, token, spoilt)
        if c.isalpha():
            cost = 0.0
            if hard:
                cost, run = self._chance(("^^" + run)[-2:], "ъ"), run + "ъ"
            cost += self._chance(("^^" + run)[-2:], c)
            return cost, State(run + c, False, run_cost + cost, token, spoilt or bool(token))
        if c.isspace():
            return self.end(state), State()
        # a sign or a digit ends the run of letters; the word is what stands between spaces, so a letter after
        # it, or a digit in it, makes none ("исто.нено" is not the word "исто")
        cost = 0.0
        if run:
            # an initial or "т.": an abbreviation ends where it likes, and its letters are anyone's
            cost = -run_cost if c == "." and len(run) < LISTED_MIN else self._chance(("^^" + run)[-2:], "$")
        return cost, State("", False, 0.0, token or run, spoilt or c.isdigit())

    def end(self, state: State) -> float:
        """The cost of ending a word here (a space, the line's end): the letter model's end of its run of
        letters, and the list's bonus for a listed word of ``LISTED_MIN`` letters or more."""
        run, _, _, token, spoilt = state
        cost = self._chance(("^^" + run)[-2:], "$") if run else 0.0
        word = token or run
        if not spoilt and len(word) >= LISTED_MIN and _listed(word, self.lang):
            cost += WORD_BONUS / LETTER_WEIGHT
        return cost

    @staticmethod
    def align(probs: np.ndarray, labels: list[int]) -> list[tuple[int, int]]:
        return align(probs, labels)

    def best(self, probs: np.ndarray, chars: dict[int, str]) -> list[int]:
        """The labels (classes, no blanks) of the best reading of ``probs`` (classes x steps, class 0 the
        blank) by the network, the letter model and the word list."""
        logp = np.log(np.maximum(probs, 1e-30))
        # reading -> [its likeliest path ending in a blank, not in a blank (log); letter model; state; letters]
        beams: dict[tuple[int, ...], list] = {(): [0.0, _NONE, 0.0, State(), 0]}
        moves: dict[tuple[State, int], tuple[float, State]] = {}
        for t in range(probs.shape[1]):
            tried = [int(k) for k in np.nonzero(probs[:, t] > PRUNE)[0] if k != 0 and int(k) in chars]
            blank = float(logp[0, t])
            step: dict[tuple[int, ...], list] = {}
            for prefix, (lb, lnb, lm, state, n) in beams.items():
                both = max(lb, lnb)
                e = step.setdefault(prefix, [_NONE, _NONE, lm, state, n])
                e[0] = max(e[0], both + blank)
                if prefix:
                    e[1] = max(e[1], lnb + float(logp[prefix[-1], t]))
                for k in tried:
                    nxt = prefix + (k,)
                    e = step.get(nxt)
                    if e is None:
                        if (state, k) not in moves:  # a reading is extended by the same letter step after step
                            moves[state, k] = self.step(state, chars[k])
                        cost, st = moves[state, k]
                        e = step[nxt] = [_NONE, _NONE, lm + cost, st, n + chars[k].isalpha()]
                    e[1] = max(e[1], (lb if prefix and k == prefix[-1] else both) + float(logp[k, t]))
            if len(step) > WIDTH:  # most steps are blanks between letters: nothing new to prune
                step = dict(heapq.nlargest(WIDTH, step.items(), key=lambda kv: max(kv[1][0], kv[1][1])
                                           + LETTER_WEIGHT * kv[1][2] + LETTER_BONUS * kv[1][4]))
            beams = step
        best = max(beams.items(), key=lambda kv: max(kv[1][0], kv[1][1])
                   + LETTER_WEIGHT * (kv[1][2] + self.end(kv[1][3])) + LETTER_BONUS * kv[1][4])
        return list(best[0])


def _listed(word: str, lang: str) -> bool:
    from ..typed.words import zipf  # cached

    return zipf(word, (lang,)) > 0


def align(probs: np.ndarray, labels: list[int]) -> list[tuple[int, int]]:
    """The steps (first, last) at which each of ``labels`` is read on the likeliest path through ``probs``
    that reads exactly them (CTC's forced alignment: blanks between, a label repeated only across a blank)."""
    n, steps = len(labels), probs.shape[1]
    if n == 0:
        return []
    logp = np.log(np.maximum(probs, 1e-30))
    ext = [0] + [v for lab in labels for v in (lab, 0)]  # blank, l1, blank, l2, ..., blank
    s = len(ext)
    score = np.full(s, -np.inf)
    score[0], score[1] = logp[0, 0], logp[ext[1], 0]
    back = np.zeros((steps, s), np.int8)  # 0: stay, 1: from the state before, 2: from two before
    skip = np.array([k >= 2 and ext[k] != 0 and ext[k] != ext[k - 2] for k in range(s)])
    rows = np.array(ext)
    for t in range(1, steps):
        one = np.concatenate([[-np.inf], score[:-1]])
        two = np.where(skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        choice = np.argmax(np.vstack([score, one, two]), axis=0)
        score = np.vstack([score, one, two])[choice, np.arange(s)] + logp[rows, t]
        back[t] = choice
    k = s - 1 if s < 2 or score[s - 1] >= score[s - 2] else s - 2
    spans: dict[int, list[int]] = {}
    for t in range(steps - 1, -1, -1):
        if k % 2 == 1:
            spans.setdefault(k // 2, [t, t])[0] = t
        k -= int(back[t, k])
    return [tuple(spans.get(i, (0, 0))) for i in range(n)]


class WithLexicon:
    """A handwriting reader (``engines.vgsl_numpy.NumpyRecognizer``) that reads with ``Lexicon``."""

    def __init__(self, reader, lexicon: Lexicon):
        self.reader, self.lexicon = reader, lexicon
        self.name, self.path = reader.name, reader.path
        self.version = f"{reader.version}, words: wordfreq {lexicon.lang}"

    def recognize(self, image: np.ndarray, boxes: list[tuple[int, int, int, int]], scripts: tuple[str, ...] = (),
                  max_height: int = 0):
        return self.reader.recognize(image, boxes, scripts, max_height, lexicon=self.lexicon)

    def read_image(self, image: np.ndarray, scripts: tuple[str, ...] = ()):
        return self.recognize(image, [(0, 0, image.shape[1], image.shape[0])], scripts)[0]


@lru_cache(maxsize=2)
def lexicon(lang: str = "ru") -> Lexicon:
    return Lexicon(lang)


def with_lexicon(reader, tesseract_lang: str):
    """``reader`` reading with the Russian word list where the page's languages (Tesseract's codes, "rus+eng")
    hold Russian and the reader can (the NumPy network gives the letter chances the search needs; kraken's
    PyTorch reader, the fallback, reads as it does); else ``reader``."""
    if "rus" not in tesseract_lang.split("+") or not getattr(reader, "letter_chances", False):
        return reader
    return WithLexicon(reader, lexicon("ru"))
