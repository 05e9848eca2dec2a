"""Word frequencies (wordfreq) for telling a word of a language from a misreading: shared by the lexicon
correction and the punctuation steps."""
from __future__ import annotations

import re
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
