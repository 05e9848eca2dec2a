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

A word that no word list knows at all (Zipf <= ``GARBLED``) and that no typical confusion explains is
tried with each of its letters replaced by any letter: a worn or blurred type misreads in ways of its
own ("vublic", "Bulsarian", "Sentember", "orematoria"). The candidate must be common (``ANY_COMMON``; a
word of ``ANY_LONG`` letters or more, whose one-letter neighbours are few, ``ANY_COMMON_LONG``) and
clearly the commonest of them (``ANY_MARGIN``: "xome" could be "some", "home" or "come" and stays).
A capitalised word shorter than ``TITLE_MIN`` is corrected only so, garbled and with its capital kept
("Unole" -> "Uncle", "Nagis" -> "Nazis"). A small letter whose capital has its shape read as that
capital inside a word ("diScussion", "WhoSe") is written small where that makes a common word, however
sure the reading.

German typescripts typed on machines without umlaut keys write "ae", "oe", "ue" for "ä", "ö", "ü"
("Haeftlinge"); such a spelling counts as the word with the umlauts, so it is known as read and is
a candidate for a misreading of it ("Hasftlinge": "s" read for the "e").

Turkish's dotless "ı", which the fast models put into German and English words ("ıch", "eın"), is no
letter of these languages (``LANGS`` has no Turkish): it is written "i" whatever the confidence.

Only for Latin-script languages: the confusion table is not measured for Cyrillic type.
"""
from __future__ import annotations

import itertools
import re
from functools import lru_cache

from ..engines.base import RawLine, RawWord
from .punctuation import STOP_ABBREVIATIONS
from .words import UMLAUT_OF, UMLAUTS, wordfreq_langs, zipf

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
# a word that no list knows (Zipf <= GARBLED) is a misreading; where no typical confusion explains it, any one
# letter replaced may (a worn or blurred type misreads in ways of its own: "vublic", "Bulsarian", "orematoria"):
# the candidate must be common, less so for a long word, whose one-letter neighbours are few
# (Zipf >= ANY_COMMON, ANY_COMMON_LONG from ANY_LONG letters), and clearly the best of them (ANY_MARGIN)
GARBLED = 0.5
ANY_MIN = 4
ANY_COMMON = 3.0
ANY_COMMON_LONG = 2.0
ANY_LONG = 8
ANY_MARGIN = 0.5
# the letters a replaced letter can be, per wordfreq language (small letters; ASCII's for all)
EXTRA_LETTERS = {"de": "äöüß", "fr": "àâçéèêëîïôûùœ", "it": "àèéìòù", "es": "áéíñóúü", "pl": "ąćęłńóśźż",
                 "cs": "áčďéěíňóřšťúůýž", "pt": "áâãàçéêíóôõú", "sv": "åäö", "da": "æøå", "nb": "æøå",
                 "fi": "äö", "hu": "áéíóöőúüű", "nl": "", "ru": "абвгдежзийклмнопрстуфхцчшщъыьэюя"}
# a small letter whose capital has its shape read as the capital inside a word ("diScussion", "hectOgraph",
# "WhoSe"): the word is written in small letters (its first letter as read) where that is a common word
_INNER_CAPITAL = re.compile(r"^[^\W\d_][a-zäöüß]+[COSVWXZ][a-zäöüß]*$")
_WORD = re.compile(r"^([^\w]*)([^\W\d_]{3,})([^\w]*)$")


# word lists for telling a word from a misreading in any script (not for correcting: ``LANGS``)
WORD_LISTS = {**LANGS, "rus": "ru", "ukr": "uk", "bul": "bg", "srp": "sr", "mkd": "mk"}


def known_word(text: str, lang: str, min_letters: int) -> bool:
    """Whether ``text`` (punctuation about it aside) is a word of ``lang`` ("rus", "eng+deu") of at least
    ``min_letters`` letters that is not rare (Zipf >= ``COMMON``)."""
    return common_word(text, wordfreq_langs(lang, WORD_LISTS), min_letters)


def common_word(text: str, langs: tuple[str, ...], min_letters: int) -> bool:
    """``known_word`` for wordfreq languages (``langs``: "ru", "de")."""
    m = _WORD.match(text)
    if not langs or not m or len(m.group(2)) < min_letters:
        return False
    return zipf(m.group(2).lower(), langs) >= COMMON


def languages(lang: str) -> tuple[str, ...]:
    """The wordfreq languages of a Tesseract language string ("eng+deu") that lexicon correction
    supports, or () where none is."""
    return wordfreq_langs(lang, LANGS)


@lru_cache(maxsize=None)
def _vocabulary(lg: str) -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict(lg)


def _listed(word: str, langs: tuple[str, ...]) -> bool:
    """Whether a word list has ``word`` (small letters; German "ae" for "ä" too): a quick test before
    ``zipf``, which tokenises."""
    for lg in langs:
        if word in _vocabulary(lg):
            return True
        if lg in UMLAUTS and UMLAUTS[lg].search(word) and \
                UMLAUTS[lg].sub(lambda m: UMLAUT_OF[m.group(1)], word) in _vocabulary(lg):
            return True
    return False


def warm(lang: str) -> None:
    """Load the word lists now (a worker does it while the others start), not on the first page."""
    langs = languages(lang)
    if langs:
        zipf("the", langs)
        for lg in langs:
            _vocabulary(lg)


def correct_word(text: str, conf: float, langs: tuple[str, ...]) -> str:
    """``text`` corrected, or as it was."""
    m = _WORD.match(text)
    if not langs or not m:
        return text
    pre, core, post = m.groups()
    if _INNER_CAPITAL.match(core) and zipf(core.lower(), langs) >= COMMON:  # however sure the reading
        return pre + core[0] + core[1:].lower() + post
    if conf >= MAX_CONF:
        return text
    # a capitalised word (a sentence's first, a German noun) only when long: short names are too
    # often a misreading away from a common word ("Raad" -> "Road")
    capitalised = core[0].isupper() and core[1:].islower()
    title = len(core) >= TITLE_MIN and capitalised
    if post.startswith("-") or not (core.islower() or capitalised):
        return text  # headings and halves of words hyphenated at the line end stay as read
    core = core.lower()
    z0 = zipf(core, langs)
    if z0 >= UNKNOWN:
        return text
    if capitalised and not title:  # short: only a garbled one ("Unole", "Nagis"), its capital kept
        best, best_z = _any_letter(core, langs, skip_first=True) if z0 <= GARBLED and len(core) >= ANY_MIN \
            else (None, 0.0)
        return text if best is None or best_z - z0 < MARGIN else pre + best.capitalize() + post
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
                z = zipf(word, langs)
                if z > best_z:
                    best, best_z = word, z
        if best is not None:
            break  # one change is preferred to two
    # a full stop read as "e" at the end of a word ("knowne" -> "known.")
    if best is None and not title and core.endswith("e") and not post and zipf(core[:-1], langs) >= COMMON + 0.5:
        best, best_z, post = core[:-1], zipf(core[:-1], langs), "."
    # (an abbreviation typed with its stop, "grms.", is no misreading)
    if best is None and z0 <= GARBLED and len(core) >= ANY_MIN and core not in STOP_ABBREVIATIONS:
        best, best_z = _any_letter(core, langs, skip_first=title)
    if best is None or best_z - z0 < MARGIN:
        return text
    return pre + (best.capitalize() if title else best) + post


def _any_letter(core: str, langs: tuple[str, ...], skip_first: bool) -> tuple[str | None, float]:
    """The common word one replaced letter away from ``core`` (small letters), if one is clearly the commonest
    (``ANY_MARGIN``), and its Zipf; the first letter stays where ``skip_first``."""
    letters = "abcdefghijklmnopqrstuvwxyz" + "".join(EXTRA_LETTERS.get(lg, "") for lg in langs)
    floor = ANY_COMMON_LONG if len(core) >= ANY_LONG else ANY_COMMON
    found = sorted(((zipf(w, langs), w) for i in range(int(skip_first), len(core)) for ch in letters
                    if ch != core[i] for w in (core[:i] + ch + core[i + 1:],) if _listed(w, langs)), reverse=True)
    found = [(z, w) for z, w in found if z >= floor]
    if not found or (len(found) > 1 and found[0][0] - found[1][0] < ANY_MARGIN):
        return None, 0.0
    return found[0][1], found[0][0]


def nearest_word(text: str, langs: tuple[str, ...]) -> str:
    """``text`` (a word, punctuation about it), where its letters make no word the lists know well (Zipf <
    ``UNKNOWN``), written as the common word one replaced letter away that is clearly the commonest
    (``_any_letter``), in capitals where most of its letters were; as it was otherwise, and where it has
    fewer than ``ANY_MIN`` letters. For text read without a language model's help: a stamp's ring."""
    m = _WORD.match(text)
    if not langs or not m or len(m.group(2)) < ANY_MIN:
        return text
    pre, core, post = m.groups()
    z0 = zipf(core.lower(), langs)
    if z0 >= UNKNOWN:
        return text
    best, best_z = _any_letter(core.lower(), langs, skip_first=False)
    if best is None or best_z - z0 < MARGIN:
        return text
    return pre + (best.upper() if 2 * sum(ch.isupper() for ch in core) >= len(core) else best) + post


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
                t = w.text.replace("ı", "i")  # Turkish's dotless i, no letter of these languages: a misread "i"
                t = t if i == 0 and hyphen else correct_word(t, w.conf, langs)
                changed += t != w.text
                words.append(w if t == w.text else RawWord(t, w.conf, w.box))
            new_block.append(RawLine(tuple(words), ln.box))
            hyphen = bool(ln.words) and ln.words[-1].text.endswith(("-", "¬"))
        out.append(new_block)
    return out, changed
