"""Word frequencies (wordfreq) for telling a word of a language from a misreading: shared by the lexicon
correction and the punctuation steps; and a letter model of a language made from them, for telling a
reading from the letter strings a line read upside down gives."""
from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache


def wordfreq_langs(lang: str, table: dict[str, str]) -> tuple[str, ...]:
    """The wordfreq codes ``table`` gives the Tesseract languages of ``lang`` ("eng+deu")."""
    return tuple(table[c] for c in lang.split("+") if c in table)


# typewriters without umlaut keys: German typed "ae", "oe", "ue" for "ä", "ö", "ü" ("Haeftlinge")
UMLAUTS = {"de": re.compile(r"(?<!q)(ae|oe|ue)")}
UMLAUT_OF = {"ae": "ä", "oe": "ö", "ue": "ü"}


@lru_cache(maxsize=200_000)
def zipf(word: str, langs: tuple[str, ...]) -> float:
    """The word's frequency (Zipf) in the commonest of ``langs``; a German word written with "ae", "oe",
    "ue" for its umlauts counts as the word with them."""
    from wordfreq import zipf_frequency

    z = max(zipf_frequency(word, lg) for lg in langs)
    for lg in langs:
        if lg in UMLAUTS and UMLAUTS[lg].search(word):
            z = max(z, zipf_frequency(UMLAUTS[lg].sub(lambda m: UMLAUT_OF[m.group(1)], word), lg))
    return z


LETTER_ORDER = 3  # a letter's chance is taken given the two before it (word starts and ends included)
LETTER_WORDS = 50_000  # the commonest words of the language the letter model is counted from
_FLOOR = 1e-7  # the share of a context's weight each letter gets for nothing (one never seen there)
_LETTERS = re.compile(r"[^\W\d_]+")
_YO = str.maketrans("ё", "е")  # read as е: word lists and transcriptions write ё rarely, the model often


def _grams(word: str):
    """(context, letter-gram) pairs of ``word``: each letter and its word's end with the letters before it."""
    s = "^" * (LETTER_ORDER - 1) + word + "$"
    for i in range(LETTER_ORDER - 1, len(s)):
        yield s[i - LETTER_ORDER + 1:i], s[i - LETTER_ORDER + 1:i + 1]


@lru_cache(maxsize=4)
def _letter_counts(lang: str) -> tuple[Counter, Counter, int]:
    from wordfreq import get_frequency_dict, top_n_list

    freq = get_frequency_dict(lang)
    grams: Counter = Counter()
    contexts: Counter = Counter()
    alphabet: set[str] = set()
    for word in top_n_list(lang, LETTER_WORDS):
        if not _LETTERS.fullmatch(word):
            continue
        f = freq[word]
        word = word.translate(_YO)
        alphabet.update(word)
        for context, gram in _grams(word):
            grams[gram] += f
            contexts[context] += f
    return grams, contexts, len(alphabet) + 1


def letter_model(lang: str) -> tuple[Counter, Counter, int, float]:
    """The letter model of ``letter_logprob``: letter-gram and context counts, the alphabet's size and the
    share each letter gets for nothing."""
    return (*_letter_counts(lang), _FLOOR)


def letter_logprob(text: str, lang: str) -> tuple[float, int]:
    """The mean log chance of the letters of ``text``'s words (lower-cased, ё as е) under a letter model of the
    wordfreq language ``lang`` (each letter given the ones before it in its word, the word's end
    counted as a letter), and how many letters that is; (0.0, 0) for a text without letters. Words
    of the language score about -2, the letter strings of a line read upside down -4 and lower."""
    grams, contexts, size = _letter_counts(lang)
    total, n = 0.0, 0
    for word in _LETTERS.findall(text.lower().translate(_YO)):
        for context, gram in _grams(word):
            total += math.log((grams[gram] + _FLOOR) / (contexts[context] + size * _FLOOR))
            n += 1
    return (total / n if n else 0.0), n
