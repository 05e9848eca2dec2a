"""Character and word error rates, defined once.

- Text is NFC-normalised and whitespace runs collapse to one space (the
  ``strict`` profile); lines are joined with a space.
- Characters are extended grapheme clusters (Unicode UAX #29, via ``regex``'s
  ``\\X``), so a letter with a combining mark counts once, as in dinglehopper.
- Words are the runs of word characters and the single non-space symbols
  between them (UAX #29 word boundaries, approximated by ``regex``).
- CER = (substitutions + deletions + insertions) / reference length. An empty
  reference gives ``None`` (reported as "empty reference"), never NaN or inf.
- Batches are micro-averaged: total edits / total reference length.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex
from rapidfuzz.distance import Levenshtein

_WS = regex.compile(r"\s+")
_GRAPHEME = regex.compile(r"\X")
_WORD = regex.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]", regex.UNICODE)


def normalize(text: str) -> str:
    """NFC, BOM removed, whitespace runs collapsed to one space, trimmed."""
    text = unicodedata.normalize("NFC", text.replace("\ufeff", ""))
    return _WS.sub(" ", text).strip()


def graphemes(text: str) -> list[str]:
    return _GRAPHEME.findall(text)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


@dataclass(frozen=True)
class Counts:
    """Edit counts of one comparison; add them up for micro averages."""

    ref_len: int = 0
    hyp_len: int = 0
    subs: int = 0
    dels: int = 0
    ins: int = 0

    @property
    def edits(self) -> int:
        return self.subs + self.dels + self.ins

    @property
    def rate(self) -> float | None:
        """Error rate, or None for an empty reference."""
        if self.ref_len == 0:
            return None
        return self.edits / self.ref_len

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.ref_len + other.ref_len, self.hyp_len + other.hyp_len,
                      self.subs + other.subs, self.dels + other.dels, self.ins + other.ins)


def align_counts(ref: list[str], hyp: list[str]) -> Counts:
    """Levenshtein alignment of two token lists, as substitution/deletion/insertion counts."""
    subs = dels = ins = 0
    for op in Levenshtein.editops(ref, hyp):
        if op.tag == "replace":
            subs += 1
        elif op.tag == "delete":
            dels += 1
        else:
            ins += 1
    return Counts(len(ref), len(hyp), subs, dels, ins)


def char_counts(ref: str, hyp: str) -> Counts:
    return align_counts(graphemes(normalize(ref)), graphemes(normalize(hyp)))


def word_counts(ref: str, hyp: str) -> Counts:
    return align_counts(words(normalize(ref)), words(normalize(hyp)))


def cer(ref: str, hyp: str) -> float | None:
    """Character error rate of one text pair (None for an empty reference)."""
    return char_counts(ref, hyp).rate


def wer(ref: str, hyp: str) -> float | None:
    return word_counts(ref, hyp).rate


def fmt_rate(rate: float | None) -> str:
    """A rate as a percentage for tables; an empty reference says so."""
    return "empty ref" if rate is None else f"{100 * rate:.2f} %"
