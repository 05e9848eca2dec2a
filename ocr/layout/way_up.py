"""Which way up a note written up or down a margin reads: it is read both ways up (``read_handwriting``), and
the reading the model is surer of is kept, or, where it is about as sure of both, the more word-like one.
A note read upside down reads as strings of letters no word has ("жфттртоит"), which the model can be
about as sure of as of the upright reading; the letters alone fail on short or badly read notes
("Согасен" against "нознило"), so they decide only where the model's confidence cannot
(``docs/benchmarks.md``, "The model and the way up")."""
from __future__ import annotations

SURE_MARGIN = 0.05  # mean confidences closer than this do not tell the two ways up apart


def surer_way_up(new: tuple[float, float], old: tuple[float, float]) -> bool:
    """Whether a reading scored ``new`` (mean confidence, ``wordlike``) is the right way up rather than
    the one scored ``old``: the one the model is surer of, and where it is about as sure of both, the more
    word-like one."""
    if abs(new[0] - old[0]) >= SURE_MARGIN or new[1] == old[1]:
        return new[0] > old[0]
    return new[1] > old[1]


def modern(text: str) -> str:
    """``text`` lower-cased in today's spelling (the score's ``archival-pre1918`` profile: ѣ as е, і as и, a
    final ъ dropped), for looking its words and letters up in today's word lists."""
    from ..score.metrics import BUILTIN_PROFILES

    return BUILTIN_PROFILES["archival-pre1918"].apply(text).lower()


def wordlike(texts: list[str]) -> float:
    """How much the letters of a reading's lines look like Russian words: their mean log chance under a
    letter model of the Russian word list (``letter_logprob``; old spelling read as today's, ``modern``),
    -inf without letters."""
    from ..typed.words import letter_logprob

    mean, n = letter_logprob(modern(" ".join(texts)), "ru")
    return mean if n else float("-inf")
