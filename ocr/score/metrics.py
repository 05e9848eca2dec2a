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
    """NFC, BOM removed, whitespace runs collapsed to one space, trimmed (the ``strict`` profile)."""
    text = unicodedata.normalize("NFC", text.replace("\ufeff", ""))
    return _WS.sub(" ", text).strip()


_QUOTES = str.maketrans({c: '"' for c in "„“”«»‟″"} | {c: "'" for c in "‘’‚‛‹›′`´"})
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−"})
_YO = str.maketrans({"ё": "е", "Ё": "Е"})
PRE1918 = str.maketrans({"ѣ": "е", "Ѣ": "Е", "і": "и", "І": "И", "ѳ": "ф", "Ѳ": "Ф", "ѵ": "и", "Ѵ": "И"})
_LATIN_TO_CYR = str.maketrans(dict(zip("AaBCcEeHKMOoPpTXxyY", "АаВСсЕеНКМОоРрТХхуУ", strict=True)))
_CYR_TO_LATIN = str.maketrans(dict(zip("АаВСсЕеНКМОоРрТХхуУ", "AaBCcEeHKMOoPpTXxyY", strict=True)))
_CYR = regex.compile(r"\p{Cyrillic}")
_LAT = regex.compile(r"\p{Latin}")


def _fold_word(word: str) -> str:
    """Look-alike letters of a mixed-script word folded to the word's majority script."""
    cyr, lat = len(_CYR.findall(word)), len(_LAT.findall(word))
    if not cyr or not lat:
        return word
    return word.translate(_LATIN_TO_CYR if cyr >= lat else _CYR_TO_LATIN)
_TOKEN = regex.compile(r"\S+")
_HARD_SIGN_END = regex.compile(r"(?<=\p{Cyrillic})[ъЪ](?=\W|$)")


@dataclass(frozen=True)
class Profile:
    """A named normalisation applied to both sides before comparing (always NFC + whitespace collapse)."""

    name: str
    fold_yo: bool = False  # ё -> е
    fold_quotes: bool = False  # typographic quotes -> " and '
    fold_dashes: bool = False  # hyphen and dash variants -> -
    fold_lookalikes: bool = False  # in mixed-script words, look-alikes -> the word's majority script (A<->А ...)
    pre1918: bool = False  # ѣ->е, і->и, ѳ->ф, ѵ->и, word-final ъ dropped
    casefold: bool = False
    replace: tuple[tuple[str, str], ...] = ()  # further literal replacements, in order

    def apply(self, text: str) -> str:
        text = normalize(text)
        if self.fold_yo:
            text = text.translate(_YO)
        if self.fold_quotes:
            text = text.translate(_QUOTES)
        if self.fold_dashes:
            text = text.translate(_DASHES)
        if self.pre1918:
            text = _HARD_SIGN_END.sub("", text.translate(PRE1918))
        if self.fold_lookalikes:
            text = _TOKEN.sub(lambda m: _fold_word(m.group(0)), text)
        for old, new in self.replace:
            text = text.replace(old, new)
        if self.casefold:
            text = text.casefold()
        return normalize(text)

    def describe(self) -> dict:
        return {"name": self.name, "nfc": True, "collapse_whitespace": True, "fold_yo": self.fold_yo,
                "fold_quotes": self.fold_quotes, "fold_dashes": self.fold_dashes,
                "fold_lookalikes": self.fold_lookalikes, "pre1918": self.pre1918, "casefold": self.casefold,
                "replace": [list(p) for p in self.replace]}


STRICT = Profile("strict")
BUILTIN_PROFILES = {
    "strict": STRICT,
    "archival": Profile("archival", fold_yo=True, fold_quotes=True, fold_dashes=True, fold_lookalikes=True),
    "archival-pre1918": Profile("archival-pre1918", fold_yo=True, fold_quotes=True, fold_dashes=True,
                                fold_lookalikes=True, pre1918=True),
}


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


def char_counts(ref: str, hyp: str, profile: Profile = STRICT) -> Counts:
    return align_counts(graphemes(profile.apply(ref)), graphemes(profile.apply(hyp)))


def word_counts(ref: str, hyp: str, profile: Profile = STRICT) -> Counts:
    return align_counts(words(profile.apply(ref)), words(profile.apply(hyp)))


def cer(ref: str, hyp: str, profile: Profile = STRICT) -> float | None:
    """Character error rate of one text pair (None for an empty reference)."""
    return char_counts(ref, hyp, profile).rate


def wer(ref: str, hyp: str, profile: Profile = STRICT) -> float | None:
    return word_counts(ref, hyp, profile).rate


def fmt_rate(rate: float | None) -> str:
    """A rate as a percentage for tables; an empty reference says so."""
    return "empty ref" if rate is None else f"{100 * rate:.2f} %"
