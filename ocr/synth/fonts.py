"""Fonts for the synthetic memos: typewriter faces from Debian, handwriting from Debian and PyPI.

Each list is searched in order; missing fonts are skipped, so the set found on
a machine is part of what makes a reel (recorded in its ground truth).
"""
from __future__ import annotations

import importlib
import os
from functools import lru_cache
from pathlib import Path

TYPEWRITER = [
    "/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Regular.otf",  # fonts-urw-base35 (Courier clone)
    "/usr/share/fonts/truetype/cmu/cmuntt.ttf",  # fonts-cmu, CMU Typewriter Text
    "/usr/share/fonts/truetype/freefont/FreeMono.ttf",  # fonts-freefont-ttf
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",  # fonts-dejavu-core
]
STAMP = [
    "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
]


def _fontpkg(module: str, name: str) -> str | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    p = Path(mod.__file__).parent / "files" / name
    return str(p) if p.exists() else None


@lru_cache(maxsize=1)
def handwriting() -> list[str]:
    cands = [
        _fontpkg("fontpkg_caveat", "Caveat[wght].ttf"),  # PyPI fontpkg-caveat
        "/usr/share/fonts/opentype/urw-base35/Z003-MediumItalic.otf",  # fonts-urw-base35
        _fontpkg("fontpkg_great_vibes", "GreatVibes-Regular.ttf"),  # PyPI fontpkg-great-vibes
    ]
    return [c for c in cands if c and os.path.exists(c)]


@lru_cache(maxsize=1)
def handwriting_training() -> list[str]:
    """The handwriting fonts the reel uses plus two more Cyrillic scripts (PyPI fontpkg-pacifico, -lobster)."""
    extra = [_fontpkg("fontpkg_pacifico", "Pacifico-Regular.ttf"), _fontpkg("fontpkg_lobster", "Lobster-Regular.ttf")]
    return handwriting() + [c for c in extra if c and os.path.exists(c)]


def available(paths: list[str]) -> list[str]:
    return [p for p in paths if os.path.exists(p)]


def require(kind: str) -> list[str]:
    """The usable fonts of a kind, or a clear error naming the packages to install."""
    found = {"typewriter": available(TYPEWRITER), "stamp": available(STAMP), "handwriting": handwriting()}[kind]
    if not found:
        hint = {"typewriter": "apt-get install fonts-urw-base35 fonts-cmu fonts-freefont-ttf",
                "stamp": "apt-get install fonts-freefont-ttf",
                "handwriting": "pip install fontpkg-caveat fontpkg-great-vibes, or apt-get install fonts-urw-base35"}[kind]
        raise RuntimeError(f"no {kind} font found ({hint})")
    return found
