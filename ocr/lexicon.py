"""Lexicon correction of typed words: a word Tesseract was not sure of, that is no word of the page's
language, becomes the frequent word it differs from by one or two typical typewriter misreadings.

On the EHRI typescripts the fast English model reads a worn "c" as "o" ("oamp", "olerk"), "a" as
"o" ("ond"), "l" as "i" ("hospitai"), and a full stop after a word as "e" ("knowne"). These
confusions, read from the benchmark's edit operations (``CONFUSED``; the German pages add "s" for
"e" in "visle", "sinem", "ä" for "d" in "äurch"), generate the candidates; word frequencies come from
``wordfreq`` (Zipf scale: 3 = once per million words). A word is changed only when it is read below
``MAX_CONF``, is written in small letters or is a capitalised word of ``TITLE_MIN`` letters or more
(a German noun, a sentence's first word: "Seourity", "Gensral"; its capital letter is kept as read,
so a name does not become another name), is no half of a word hyphenated at a line end, is not
itself a word of the language (Zipf < ``UNKNOWN``), and the best candidate is common
(Zipf >= ``COMMON``); short names, headings and rare words stay as read.

German typescripts typed on machines without umlaut keys write "ae", "oe", "ue" for "ä", "ö", "ü"
("Haeftlinge"); such a spelling counts as the word with the umlauts, so it is known as read and is
a candidate for a misreading of it ("Hasftlinge": "s" read for the "e").

Only for Latin-script languages: the confusion table is not measured for Cyrillic type.
"""
from __future__ import annotations

import itertools
import re
from functools import lru_cache

from .engines.base import RawLine, RawWord

# Tesseract language code -> wordfreq language code (Latin-script languages only)
LANGS = {"eng": "en", "deu": "de", "fra": "fr", "ita": "it", "spa": "es", "nld": "nl", "pol": "pl", "ces": "cs",
         "por": "pt", "swe": "sv", "dan": "da", "nor": "nb", "fin": "fi", "hun": "hu"}
# a character as read -> the characters it is often read for (typewritten text, EHRI pages)
CONFUSED = {"o": "cae", "e": "aco", "a": "ose", "c": "eo", "i": "ld", "l": "it", "n": "hum", "m": "n", "w": "m",
            "u": "no", "h": "bn", "b": "h", "r": "n", "t": "f", "f": "t", "s": "ae", "ä": "d", "é": "e"}
MAX_CONF = 0.97
UNKNOWN = 2.5
COMMON = 3.0
MARGIN = 2.0
TITLE_MIN = 6
_WORD = re.compile(r"^([^\w]*)([^\W\d_]{3,})([^\w]*)$")


# word lists for telling a word from a misreading in any script (not for correcting: ``LANGS``)
WORD_LISTS = {**LANGS, "rus": "ru", "ukr": "uk", "bul": "bg", "srp": "sr", "mkd": "mk"}


def known_word(text: str, lang: str, min_letters: int) -> bool:
    """Whether ``text`` (punctuation about it aside) is a word of ``lang`` ("rus", "eng+deu") of at least
    ``min_letters`` letters that is not rare (Zipf >= ``COMMON``)."""
    langs = _wordfreq_langs(lang, WORD_LISTS)
    m = _WORD.match(text)
    if not langs or not m or len(m.group(2)) < min_letters:
        return False
    return _zipf(m.group(2).lower(), langs) >= COMMON


def _wordfreq_langs(lang: str, table: dict[str, str]) -> tuple[str, ...]:
    return tuple(table[c] for c in lang.split("+") if c in table)


def languages(lang: str) -> tuple[str, ...]:
    """The wordfreq languages of a Tesseract language string ("eng+deu") that lexicon correction
    supports, or () where none is."""
    return _wordfreq_langs(lang, LANGS)


# typewriters without umlaut keys: German typed "ae", "oe", "ue" for "ä", "ö", "ü" ("Haeftlinge")
_UMLAUTS = {"de": re.compile(r"(?<!q)(ae|oe|ue)")}
_UMLAUT_OF = {"ae": "ä", "oe": "ö", "ue": "ü"}


@lru_cache(maxsize=200_000)
def _zipf(word: str, langs: tuple[str, ...]) -> float:
    """The word's frequency (Zipf) in the commonest of ``langs``; a German word written with "ae", "oe",
    "ue" for its umlauts counts as the word with them."""
    from wordfreq import zipf_frequency

    z = max(zipf_frequency(word, lg) for lg in langs)
    for lg in langs:
        if lg in _UMLAUTS and _UMLAUTS[lg].search(word):
            z = max(z, zipf_frequency(_UMLAUTS[lg].sub(lambda m: _UMLAUT_OF[m.group(1)], word), lg))
    return z


def warm(lang: str) -> None:
    """Load the word lists now (a worker does it while the others start), not on the first page."""
    langs = languages(lang)
    if langs:
        _zipf("the", langs)


def correct_word(text: str, conf: float, langs: tuple[str, ...]) -> str:
    """``text`` corrected, or as it was."""
    m = _WORD.match(text)
    if not langs or conf >= MAX_CONF or not m:
        return text
    pre, core, post = m.groups()
    # a capitalised word (a sentence's first, a German noun) only when long: short names are too
    # often a misreading away from a common word ("Raad" -> "Road")
    title = len(core) >= TITLE_MIN and core[0].isupper() and core[1:].islower()
    if not (core.islower() or title) or post.startswith("-"):
        return text  # headings and halves of words hyphenated at the line end stay as read
    core = core.lower()
    z0 = _zipf(core, langs)
    if z0 >= UNKNOWN:
        return text
    best, best_z = None, COMMON
    # a capital is read well; changing it turns names into other names ("Buberl" -> "Hubert")
    slots = [i for i, ch in enumerate(core) if ch in CONFUSED and not (title and i == 0)]
    for k in (1, 2) if len(core) >= 6 else (1,):  # two changes in a short word can make any word
        for pos in itertools.combinations(slots, k):
            for subs in itertools.product(*(CONFUSED[core[i]] for i in pos)):
                cand = list(core)
                for i, ch in zip(pos, subs, strict=True):
                    cand[i] = ch
                word = "".join(cand)
                z = _zipf(word, langs)
                if z > best_z:
                    best, best_z = word, z
        if best is not None:
            break  # one change is preferred to two
    # a full stop read as "e" at the end of a word ("knowne" -> "known.")
    if best is None and not title and core.endswith("e") and not post and _zipf(core[:-1], langs) >= COMMON + 0.5:
        best, best_z, post = core[:-1], _zipf(core[:-1], langs), "."
    if best is None or best_z - z0 < MARGIN:
        return text
    return pre + (best.capitalize() if title else best) + post


def correct_lines(blocks: list[list[RawLine]], lang: str) -> tuple[list[list[RawLine]], int]:
    """Blocks with their words corrected, and how many words were changed."""
    langs = languages(lang)
    if not langs:
        return blocks, 0
    changed = 0
    out = []
    for block in blocks:
        new_block = []
        hyphen = False
        for ln in block:
            words = []
            for i, w in enumerate(ln.words):
                # the first word after a line ending in "-" is the end of a word, not a word
                t = w.text if i == 0 and hyphen else correct_word(w.text, w.conf, langs)
                changed += t != w.text
                words.append(w if t == w.text else RawWord(t, w.conf, w.box))
            new_block.append(RawLine(tuple(words), ln.box))
            hyphen = bool(ln.words) and ln.words[-1].text.endswith(("-", "¬"))
        out.append(new_block)
    return out, changed
