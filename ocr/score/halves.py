"""The development pages' split by document: tune on one half, judge on the other.

Every page belongs to its document (``document``), and a document to the tuning half or the confirming half by
the first hex digit of the SHA-1 of its id (``half``: even = tuning, odd = confirming). ``bench/ehri.py`` reports
both halves; the typewriter model trains on lines of the tuning half only.
"""
from __future__ import annotations

import hashlib
import re


def document(stem: str) -> str:
    """The document a page belongs to: EHRI "EHRI-ET-JMP018_02" -> "EHRI-ET-JMP018"; French
    "12148-btv1b10581912k__16_7e494_default" -> "12148-btv1b10581912k"; "...21574.pdf_page_8" -> "...21574"."""
    m = re.match(r"^(.*?)__\d+_[0-9a-f]+_default$", stem)
    if m:
        return m.group(1)
    stem = re.sub(r"\.pdf_page_\d+$", "", stem)
    m = re.match(r"^(EHRI-.*)_\d{1,3}$", stem)
    return m.group(1) if m else stem


def half(stem: str) -> str:
    """"tuning" or "confirming": the parity of the first hex digit of SHA-1(document id)."""
    return "tuning" if int(hashlib.sha1(document(stem).encode()).hexdigest()[0], 16) % 2 == 0 else "confirming"
