"""Output writers (PAGE XML, ALTO, text), ground-truth readers and schema validation."""
from __future__ import annotations

import re


def safe_name(page_id: str) -> str:
    """The page id with every character an NCName (or a careful file name) cannot hold written as ``_``."""
    return re.sub(r"[^\w.\-]", "_", page_id)


def xml_id(page_id: str) -> str:
    """A valid ``xs:ID`` (an NCName) for a page id, whatever the file was called ("0001", "scan 7"): the prefix
    ``page_``, then ``safe_name``. File names keep the page id itself."""
    return "page_" + safe_name(page_id)
