"""Recognition engines: a small protocol and a registry (tesseract, and a null engine for tests)."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from ..config import Config
from .base import RawLine


class Engine(Protocol):
    """Reads text lines from a cleaned page image (processed pixel space).

    ``recognize`` is the whole protocol an engine must have. Two more reads, of a piece of the page, are
    used where an engine has them (the stages that need them skip them where it has not):
    ``read_words(image, psm) -> list[RawWord]`` (the text fixes that read a piece again, with the page's
    settings) and ``read_lines(image, psm) -> list[RawLine]`` (the layout stage: a candidate region or a
    stamp read alone, with the engine's defaults). ``psm`` is a Tesseract page segmentation mode: 6 a
    block, 7 a line, 11 sparse text. Boxes are in the piece's pixels.
    """

    name: str
    version: str

    def recognize(self, binary: np.ndarray) -> list[list[RawLine]]:
        """Blocks of lines, in reading order."""
        ...


def get_engine(name: str, cfg: Config) -> Engine:
    """Build an engine by name; raises EngineError where it cannot run here."""
    if name == "tesseract":
        from .tesseract import TesseractEngine

        return TesseractEngine(cfg.run.lang, cfg.tesseract)
    if name == "null":
        from .base import NullEngine

        return NullEngine()
    from ..errors import EngineError

    if ":" in name:  # a plugin: "package.module:Class", built with the configuration
        import importlib

        module, _, cls = name.partition(":")
        try:
            return getattr(importlib.import_module(module), cls)(cfg)
        except (ImportError, AttributeError) as e:
            raise EngineError(f"cannot load engine plugin {name!r}: {e}") from None
    raise EngineError(f"unknown engine {name!r}; allowed engines are 'tesseract', 'null', or 'module:Class'")
