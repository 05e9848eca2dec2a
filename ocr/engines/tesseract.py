"""Tesseract: the only module that talks to Tesseract.

Two back ends read the same TSV (word boxes and confidences) from Tesseract:

- ``api`` (default): the Tesseract library in the worker process through tesserocr. A language
  model is loaded once per process and kept (one ``PyTessBaseAPI`` per language and engine
  mode), the image is handed over in memory, and Tesseract's own deadline enforces the timeout.
  Saves starting a process, loading the model, and writing and reading an image file per page.
- ``cli``: the ``tesseract`` program through pytesseract, one process per call (an uncompressed
  PGM is handed over: far faster to write and read than the PNG pytesseract would make).

Both use the language files of the installed ``tesseract-ocr-*`` packages (``TESSDATA_PREFIX``
or the Debian/Ubuntu/Homebrew locations).
"""
from __future__ import annotations

import contextlib
import glob
import io
import os
import tempfile
import threading

import cv2
import numpy as np

from ..config import TesseractConfig
from ..errors import EngineError, LanguageMissingError
from ..typed.lexicon import warm
from .base import RawLine, RawWord

BACKENDS = ("api", "cli")
TSV_FIELDS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num",
              "left", "top", "width", "height", "conf", "text")
_NOT_INSTALLED = "tesseract is not installed or not on PATH (apt-get install tesseract-ocr)"
_NO_TESSEROCR = "the Tesseract back end 'api' needs tesserocr (pip install tesserocr), or set [tesseract] backend = \"cli\""


def _tesserocr():
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one thread per worker process
    try:
        import tesserocr
    except ImportError:
        raise EngineError(_NO_TESSEROCR) from None
    return tesserocr


def tessdata_dir() -> str:
    """The folder holding the installed ``*.traineddata`` files, or raise LanguageMissingError."""
    env = os.environ.get("TESSDATA_PREFIX")
    if env:  # as Tesseract itself: a prefix that is set is the only place looked at
        places = [env, os.path.join(env, "tessdata")]
    else:
        places = sorted(glob.glob("/usr/share/tesseract-ocr/*/tessdata"), reverse=True)
        places += ["/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata"]
    for d in places:
        if glob.glob(os.path.join(d, "*.traineddata")):
            return d
    where = f"in TESSDATA_PREFIX={env}" if env else "(looked in /usr/share/tesseract-ocr/*/tessdata and /usr/share/tessdata)"
    raise LanguageMissingError(f"no Tesseract language data found {where}; apt-get install tesseract-ocr-rus "
                               "(or -eng, -deu), or set TESSDATA_PREFIX to the folder of *.traineddata files")


def tesseract_version(backend: str = "api") -> str:
    if backend == "api":
        return _tesserocr().tesseract_version().split()[1]
    import pytesseract

    try:
        return str(pytesseract.get_tesseract_version()).split()[0]
    except pytesseract.TesseractNotFoundError:
        raise EngineError(_NOT_INSTALLED) from None


def installed_languages(backend: str = "api") -> set[str]:
    if backend == "api":
        return set(_tesserocr().get_languages(tessdata_dir())[1]) - {"osd"}
    import pytesseract

    try:
        return set(pytesseract.get_languages(config=""))
    except pytesseract.TesseractNotFoundError:
        raise EngineError(_NOT_INSTALLED) from None


def check_languages(lang: str, backend: str = "api") -> None:
    """Raise LanguageMissingError naming the missing packs and the Debian package to install."""
    have = installed_languages(backend)
    missing = [code for code in lang.split("+") if code not in have]
    if missing:
        pkgs = " ".join(f"tesseract-ocr-{m.lower().replace('_', '-')}" for m in missing)
        raise LanguageMissingError(
            f"Tesseract language {'+'.join(missing)} is not installed (installed: {', '.join(sorted(have)) or 'none'}; "
            f"apt-get install {pkgs})"
        )


_APIS: dict[tuple[int, int, str, int], object] = {}


def _api(lang: str, oem: int):
    """This thread's Tesseract instance for ``lang`` (loaded on first use, then kept)."""
    # one per process and thread: an instance inherited through fork is not reused, and one instance
    # must not be used by two threads at once (a Dask worker with several threads)
    key = (os.getpid(), threading.get_ident(), lang, oem)
    api = _APIS.get(key)
    if api is None:
        tesserocr = _tesserocr()
        try:
            api = tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang=lang, oem=oem)
        except RuntimeError as e:
            raise EngineError(f"tesseract cannot load language {lang} ({' '.join(str(e).split())[:160]})") from None
        _APIS[key] = api
    return api


def image_to_data(image: np.ndarray, lang: str, *, psm: int, dpi: int | None = None, variables: dict | None = None,
                  timeout: float = 60.0, oem: int = 1, backend: str = "api") -> dict[str, list]:
    """Tesseract's TSV for a grey uint8 image, as columns (the shape of pytesseract's ``Output.DICT``).

    ``variables``: Tesseract parameters (``-c name=value``); the ones named here are set for this
    call only (the kept instance returns to Tesseract's defaults for them afterwards).
    """
    if image.ndim != 2 or image.dtype != np.uint8:
        raise EngineError("tesseract: a grey 8-bit image is needed")
    variables = dict(variables or {})
    if backend == "cli":
        return _cli_data(image, lang, psm, dpi, variables, timeout, oem)
    api = _api(lang, oem)
    image = np.ascontiguousarray(image)
    h, w = image.shape
    previous = {k: api.GetVariableAsString(k) for k in variables}
    try:
        for k, v in variables.items():
            if not api.SetVariable(k, str(v)):
                raise EngineError(f"tesseract: unknown parameter {k}")
        api.SetPageSegMode(psm)
        api.SetImageBytes(image.tobytes(), w, h, 1, w)
        if dpi:
            api.SetSourceResolution(dpi)
        with _stderr_to_file() as messages:
            ok = api.Recognize(timeout=int(timeout * 1000))
            tsv = api.GetTSVText(0) if ok else ""
        if not ok:
            said = messages.read().decode("utf-8", "replace").strip().splitlines()
            raise EngineError(f"tesseract: recognition stopped after {timeout:.0f} s (timeout) or failed"
                              + (f" ({said[-1][:160]})" if said else ""))
    finally:
        for k, v in previous.items():
            if v is not None:
                api.SetVariable(k, v)
        api.Clear()
    return parse_tsv(tsv)


_STDERR: dict[int, object] = {}


@contextlib.contextmanager
def _stderr_to_file():
    """Tesseract's and Leptonica's messages ("Error in boxClipToRectangle ...", "Empty page!!") go to a
    file rather than the terminal, where they would break the progress bar (the program back end
    keeps them in its own process). Yields that file, rewound, for the caller to read on failure.
    Only on the main thread: file descriptor 2 belongs to the whole process."""
    if threading.current_thread() is not threading.main_thread():
        yield io.BytesIO()
        return
    f = _STDERR.get(os.getpid())
    if f is None:
        f = _STDERR[os.getpid()] = tempfile.TemporaryFile(prefix="memo-ocr-tesseract-")
    f.seek(0)
    f.truncate()
    saved = os.dup(2)
    try:
        os.dup2(f.fileno(), 2)
        yield f
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        f.seek(0)


def parse_tsv(tsv: str) -> dict[str, list]:
    """Columns of Tesseract's TSV rows (no header line, as the library writes them)."""
    data: dict[str, list] = {k: [] for k in TSV_FIELDS}
    for row in tsv.splitlines():
        cells = row.split("\t")
        if len(cells) < 11 or not cells[0].isdigit():
            continue
        cells += [""] * (12 - len(cells))
        for k, v in zip(TSV_FIELDS, cells[:12], strict=True):
            data[k].append(v if k == "text" else float(v) if k == "conf" else int(v))
    return data


def _cli_data(image, lang, psm, dpi, variables, timeout, oem) -> dict[str, list]:
    import pytesseract

    args = f"--oem {oem} --psm {psm}" + (f" --dpi {dpi}" if dpi else "")
    args += "".join(f" -c {k}={v}" for k, v in variables.items())
    with tempfile.TemporaryDirectory(prefix="memo-ocr-") as tmp:
        path = os.path.join(tmp, "page.pgm")
        if not cv2.imwrite(path, image):
            raise EngineError(f"cannot write a temporary page image in {tmp}")
        try:
            return pytesseract.image_to_data(path, lang=lang, config=args, output_type=pytesseract.Output.DICT,
                                             timeout=timeout)
        except RuntimeError as e:  # pytesseract's timeout
            raise EngineError(f"tesseract: {e} after {timeout:.0f} s") from None
        except pytesseract.TesseractNotFoundError:
            raise EngineError(_NOT_INSTALLED) from None
        except pytesseract.TesseractError as e:
            raise EngineError(f"tesseract failed: {' '.join(str(e.message).split())[:200]}") from None


THRESHOLDS = {"otsu": 0, "adaptive-otsu": 1, "sauvola": 2}


class TesseractEngine:
    """Typed-text recognition: one Tesseract call per page, words with confidences grouped into lines."""

    name = "tesseract"

    def __init__(self, lang: str, cfg: TesseractConfig):
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one thread per worker process
        self.version = tesseract_version(cfg.backend)
        check_languages(lang, cfg.backend)
        self.lang = lang
        self.cfg = cfg
        # the image is already cleaned dark-on-light: skip Tesseract's inverted-line retries
        self.variables = {"tessedit_do_invert": 0, "thresholding_method": THRESHOLDS[cfg.threshold]}
        self.threshold_used = cfg.threshold  # of the last page read (``recognize``)

    def warm(self) -> None:
        """Load the language model now (a worker does it while the others start), not on the first page."""
        if self.cfg.backend == "api":
            _api(self.lang, self.cfg.oem)
        if self.cfg.lexicon:
            warm(self.lang)

    def recognize(self, image: np.ndarray) -> list[list[RawLine]]:
        """The page's blocks of lines. ``threshold_used`` then says which of Tesseract's thresholds read it:
        where its global Otsu would take paper for ink (``otsu_splits_paper``), Sauvola's local one."""
        variables = self.variables
        self.threshold_used = self.cfg.threshold
        if self.cfg.threshold == "otsu" and otsu_splits_paper(image):
            variables = {**variables, "thresholding_method": THRESHOLDS["sauvola"]}
            self.threshold_used = "sauvola"
        return group_tsv(image_to_data(image, self.lang, psm=self.cfg.psm, dpi=300, variables=variables,
                                       timeout=self.cfg.timeout, oem=self.cfg.oem, backend=self.cfg.backend))

    def read_words(self, image: np.ndarray, psm: int) -> list[RawWord]:
        """The words of a cut piece of the page (grey uint8) read in page segmentation mode ``psm``; boxes in
        the piece's pixels."""
        data = image_to_data(image, self.lang, psm=psm, dpi=300, variables=self.variables,
                             timeout=self.cfg.timeout, oem=self.cfg.oem, backend=self.cfg.backend)
        return [wd for block in group_tsv(data) for ln in block for wd in ln.words]

    def read_lines(self, image: np.ndarray, psm: int, lang: str | None = None) -> list[RawLine]:
        """The lines of a cut piece of the page (grey uint8) read alone in page segmentation mode ``psm``, with
        Tesseract's own settings (``engines.base.read_region``); boxes in the piece's pixels. ``lang``: another
        language than the page's (a stamp's Roman month read in Latin letters)."""
        data = image_to_data(image, lang or self.lang, psm=psm, dpi=300, timeout=self.cfg.timeout, oem=self.cfg.oem,
                             backend=self.cfg.backend)
        return [ln for block in group_tsv(data) for ln in block]


OTSU_PAPER = 0.25  # a global Otsu threshold that makes this much of the page ink has split the paper's tones


def otsu_splits_paper(image: np.ndarray) -> bool:
    """Whether a global Otsu threshold, as Tesseract's own, would split bright from dark paper rather than ink
    from paper: on a sparsely typed page under uneven light it turns a third of the page black, and Tesseract
    then finds no lines in it (a synthetic page: 13 lines of 30 read; with Sauvola all of them)."""
    from ..preprocess import otsu_ink

    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return float(otsu_ink(grey)[::4, ::4].mean()) > OTSU_PAPER


def group_tsv(data: dict[str, list]) -> list[list[RawLine]]:
    """Group tesseract's TSV word rows into blocks of lines, in tesseract's reading order."""
    blocks: dict[int, dict[tuple[int, int], list[RawWord]]] = {}
    for i, level in enumerate(data["level"]):
        if int(level) != 5:
            continue
        text = str(data["text"][i]).strip()
        if not text:
            continue
        conf = float(data["conf"][i])
        x, y, w, h = (int(data[k][i]) for k in ("left", "top", "width", "height"))
        word = RawWord(text, max(0.0, conf) / 100.0, (x, y, x + w, y + h))
        key = (int(data["par_num"][i]), int(data["line_num"][i]))
        blocks.setdefault(int(data["block_num"][i]), {}).setdefault(key, []).append(word)
    out: list[list[RawLine]] = []
    for _, lines in sorted(blocks.items()):
        block = []
        for _, words in sorted(lines.items()):
            block.append(RawLine.of(words))
        out.append(block)
    return out


def read_line_image(image: np.ndarray, lang: str, psm: int = 7, timeout: float = 60.0,
                    backend: str = "api") -> tuple[str, float]:
    """One cut line or word image (grey uint8) read as a single text line: (text, mean word confidence 0..1)."""
    data = image_to_data(image, lang, psm=psm, timeout=timeout, backend=backend)
    words = [(str(t).strip(), float(c)) for t, c in zip(data["text"], data["conf"], strict=True) if str(t).strip()]
    if not words:
        return "", 0.0
    n = sum(len(t) for t, _ in words)
    return " ".join(t for t, _ in words), sum(max(c, 0) * len(t) for t, c in words) / n / 100.0

