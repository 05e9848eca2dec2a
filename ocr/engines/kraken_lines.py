"""Handwriting recognition with a kraken model on line (or word) images.

The model is loaded once per process (``load``, cached by path). Lines of one
image go into one kraken ``Segmentation`` as boxes, so a page's handwritten
lines are recognised in one call. A line that fails is returned empty with the
reason; the others go on.
"""
from __future__ import annotations

import logging
import os
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import EngineError
from ..log import LOG
from ..weights import torch_within_thread_limit
from .base import LineText, in_scripts

if TYPE_CHECKING:
    from .vgsl_numpy import NumpyRecognizer

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "htr-ru.safetensors"


INSTALL = ("install it with pip install 'memo-ocr[htr]' and pip install --no-deps kraken==7.1.1 "
           "(bash scripts/setup.sh does both)")


class KrakenMissing(EngineError):
    """kraken (or PyTorch under it) is not installed: a run goes on without reading handwriting."""


@lru_cache(maxsize=1)
def missing() -> str:
    """Why kraken cannot read here ('' when it is installed), found without importing it (PyTorch takes
    seconds to import)."""
    import importlib.util

    return "" if importlib.util.find_spec("kraken") is not None else f"kraken is not installed; {INSTALL}"


class KrakenLines:
    """A kraken recognition model; ``recognize(image, boxes)`` reads the boxed lines of one image."""

    name = "kraken"

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else DEFAULT_MODEL
        if not self.path.is_file():
            raise EngineError(f"{self.path}: handwriting model file not found (train one with 'memo-ocr train')")
        try:
            logging.getLogger("kraken").setLevel(logging.ERROR)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch_within_thread_limit()
                from kraken.configs import RecognitionInferenceConfig
                from kraken.tasks import RecognitionTaskModel

                self.model = RecognitionTaskModel.load_model(str(self.path))
        except ImportError as e:
            raise KrakenMissing(f"kraken is not installed ({e}); {INSTALL}") from None
        except Exception as e:  # kraken raises many kinds for a file that is not one of its models
            msg = " ".join(str(e).split())[:160]
            raise EngineError(f"{self.path}: not a usable kraken recognition model ({type(e).__name__}: {msg})") from None
        # line images cut in this process: a pool of its own would be a child of a daemon worker (not allowed on
        # Dask, whose workers are daemons) and one more process per worker of the local pool
        self.config = RecognitionInferenceConfig(num_line_workers=0)
        self.version = _kraken_version()

    def recognize(self, image: np.ndarray, boxes: list[tuple[int, int, int, int]],
                  scripts: tuple[str, ...] = (), max_height: int = 0) -> list[LineText]:
        """Read each (x0, y0, x1, y1) box of a grey uint8 image; one result per box, in order. With ``scripts``,
        letters of other scripts are left out of the reading (kraken's decoder cannot be told; the NumPy
        recogniser reads the likeliest allowed character in their place). ``max_height`` is the NumPy
        recogniser's; kraken normalises each line at the page's resolution."""
        from kraken.containers import BBoxLine, Segmentation
        from PIL import Image

        if not boxes:
            return []
        h, w = image.shape[:2]
        im = Image.fromarray(image)
        lines, results = [], {}
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))
            if x1 - x0 < 2 or y1 - y0 < 2:
                results[i] = LineText("", 0.0, error="empty line box")
                continue
            lines.append(BBoxLine(id=f"l{i}", bbox=(x0, y0, x1, y1)))
        if lines:
            seg = Segmentation(type="bbox", imagename="page", text_direction="horizontal-lr",
                               script_detection=False, lines=lines)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    records = list(self.model.predict(im, seg, self.config))
                for line, rec in zip(lines, records, strict=True):
                    keep = [i for i, ch in enumerate(rec.prediction) if in_scripts(ch, scripts)]
                    confs = [float(rec.confidences[i]) for i in keep]
                    cuts = [_cut_box(rec.cuts[i]) for i in keep]
                    text = "".join(rec.prediction[i] for i in keep)
                    results[int(line.id[1:])] = LineText(text, float(np.mean(confs)) if confs else 0.0, confs, cuts)
            except Exception as e:  # one bad batch: fall back to line by line, record each failure
                if len(lines) == 1:
                    results[int(lines[0].id[1:])] = LineText("", 0.0, error=f"{type(e).__name__}: {e}"[:200])
                else:
                    for line in lines:
                        results[int(line.id[1:])] = self.recognize(image, [line.bbox], scripts)[0]
        return [results[i] for i in range(len(boxes))]

    def read_image(self, image: np.ndarray, scripts: tuple[str, ...] = ()) -> LineText:
        """A whole image that holds one line or word."""
        return self.recognize(image, [(0, 0, image.shape[1], image.shape[0])], scripts)[0]


def _cut_box(cut) -> tuple[int, int, int, int]:
    pts = np.asarray(cut, dtype=float).reshape(-1, 2)
    return (int(pts[:, 0].min()), int(pts[:, 1].min()), int(pts[:, 0].max()), int(pts[:, 1].max()))


_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _load(path: str | None, numpy: bool) -> "KrakenLines | NumpyRecognizer":
    if numpy and not missing():
        from .vgsl_numpy import NumpyRecognizer, Unsupported

        try:
            reader = NumpyRecognizer(Path(path) if path else DEFAULT_MODEL)
            reader.version = _kraken_version()
            return reader
        except Unsupported as e:  # also a missing or broken file: kraken's loader says what is wrong with it
            LOG.debug("%s; read with kraken's PyTorch network", e)
    return KrakenLines(path)


def load(path: str | None = None, numpy: bool = True) -> "KrakenLines | NumpyRecognizer":
    """The model at ``path`` (default: the committed one), loaded once per process (thread-safe: a second
    caller waits for the first load instead of starting another). Run in NumPy (``vgsl_numpy``: the same
    readings, no PyTorch) where its layers allow, else by kraken; ``numpy=False``: by kraken."""
    with _LOCK:
        return _load(path, numpy)


def check(path: str | None = None) -> str:
    """Check, without importing PyTorch (seconds per process), that kraken is installed and that the
    file is a kraken recognition model in safetensors form; returns kraken's version. A run's parent
    process calls this; the workers load the model only when a page has handwriting."""
    import json

    from ..weights import safetensors_metadata

    if missing():
        raise KrakenMissing(missing())
    p = Path(path) if path else DEFAULT_MODEL
    if not p.is_file():
        raise EngineError(f"{p}: handwriting model file not found (train one with 'memo-ocr train')")
    why = "not a safetensors file"
    try:
        meta = safetensors_metadata(p)
        tasks = [t for m in json.loads(meta.get("kraken_meta", "{}")).values() for t in m.get("_tasks", [])]
        why = "" if "recognition" in tasks else "no kraken recognition model in its metadata"
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    if why:
        raise EngineError(f"{p}: not a usable kraken recognition model ({why})")
    return _kraken_version()


def _kraken_version() -> str:
    """kraken 7 has no __version__: the installed distribution's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kraken")
    except PackageNotFoundError:
        return "unknown"
