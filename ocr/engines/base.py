"""Engine-neutral raw results, and the null engine used by tests."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RawWord:
    text: str
    conf: float  # 0..1
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the processed image


@dataclass(frozen=True)
class RawLine:
    words: tuple[RawWord, ...]
    box: tuple[int, int, int, int]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def conf(self) -> float:
        return mean_conf(self.words)

    @classmethod
    def of(cls, words) -> "RawLine":
        """A line of ``words`` (at least one), boxed by them."""
        words = tuple(words)
        return cls(words, (min(w.box[0] for w in words), min(w.box[1] for w in words),
                           max(w.box[2] for w in words), max(w.box[3] for w in words)))


@dataclass
class LineText:
    text: str
    conf: float  # mean character confidence, 0..1 (0 for an empty line)
    char_confs: list[float] = field(default_factory=list)
    char_boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # x0, y0, x1, y1 per character
    error: str | None = None
    plain: "LineText | None" = None  # the network's own reading, where one with a lexicon reads otherwise


def mean_conf(words) -> float:
    """Mean confidence of words (anything with ``text`` and ``conf``: words, lines), weighted by their length;
    0 for none, and a missing confidence counts as 0."""
    if not words:
        return 0.0
    n = sum(len(w.text) for w in words)
    return sum((w.conf or 0.0) * len(w.text) for w in words) / max(n, 1)


# the Tesseract languages written in Cyrillic and in Latin letters: a model that knows both scripts reads a page
# only in its language's (``scripts``)
CYRILLIC_LANGS = {"rus", "ukr", "bel", "bul", "srp", "mkd", "kaz", "kir", "tgk", "uzb_cyrl", "mon"}
LATIN_LANGS = {"afr", "aze", "bos", "bre", "cat", "ceb", "ces", "cos", "cym", "dan", "deu", "deu_latf", "enm", "eng",
               "epo", "est", "eus", "fao", "fil", "fin", "fra", "frk", "frm", "fry", "gla", "gle", "glg", "hat",
               "hrv", "hun", "ind", "isl", "ita", "ita_old", "jav", "lat", "lav", "lit", "ltz", "mlt", "mri", "msa",
               "nld", "nor", "oci", "pol", "por", "que", "ron", "slk", "slv", "spa", "spa_old", "sqi", "srp_latn",
               "swa", "swe", "tgl", "ton", "tur", "uzb", "vie", "wln", "yor"}


def scripts(lang: str) -> tuple[str, ...]:
    """The scripts (Unicode name prefixes, "CYRILLIC", "LATIN") the letters of ``lang`` ("rus", "eng+deu") are
    written in; () where a language of it is neither, and any letter may be read."""
    out: set[str] = set()
    for code in lang.split("+"):
        if code in CYRILLIC_LANGS:
            out.add("CYRILLIC")
        elif code in LATIN_LANGS:
            out.add("LATIN")
        else:
            return ()
    return tuple(sorted(out))


def in_scripts(ch: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``ch`` may be read on a page of ``allowed`` scripts: anything not a letter, or a letter of one."""
    import unicodedata

    return not allowed or not ch.isalpha() or unicodedata.name(ch, "").startswith(allowed)


REGION_MARGIN = 8  # a region is read with this many pixels of the page about it


def read_region(engine, grey: np.ndarray, box: tuple[int, int, int, int], psm: int = 6) -> list[RawLine]:
    """Lines of one region of a page (grey uint8, page pixels) read alone by ``engine`` (``read_lines``; none
    where the engine has no such read); boxes in page pixels."""
    read = getattr(engine, "read_lines", None)
    h, w = grey.shape[:2]
    m = REGION_MARGIN
    x0, y0, x1, y1 = max(0, box[0] - m), max(0, box[1] - m), min(w, box[2] + m), min(h, box[3] + m)
    if read is None or x1 - x0 < 8 or y1 - y0 < 8:
        return []
    out = []
    for ln in read(grey[y0:y1, x0:x1], psm):
        words = tuple(RawWord(wd.text, wd.conf, (wd.box[0] + x0, wd.box[1] + y0, wd.box[2] + x0, wd.box[3] + y0))
                      for wd in ln.words)
        b = ln.box
        out.append(RawLine(words, (b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0)))
    return out


class NullEngine:
    """Finds nothing; for tests and for timing everything but recognition."""

    name = "null"
    version = "0"
    reads_text = False  # the page guard (ocr.guard) does not judge what it "read"

    def recognize(self, binary: np.ndarray) -> list[list[RawLine]]:
        return []
