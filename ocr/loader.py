"""Find page images in the inputs and load them, with one-line errors for bad files.

A page is one frame of an image file: PNG, JPEG, TIFF (every frame of a
multi-page TIFF), or, when ``pypdfium2`` is installed, a PDF page. Its id is
the file stem, plus ``_NNNN`` (1-based frame number) for multi-frame files.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".jp2", ".bmp", ".pdf"}
PDF_DPI = 300

Image.MAX_IMAGE_PIXELS = 400_000_000  # a 600 ppi A0 scan still loads; larger is refused


@dataclass(frozen=True)
class PageRef:
    """One page to process: a file and, for multi-frame files, a frame index."""

    page_id: str
    path: Path
    frame: int | None = None


def _frame_count(path: Path) -> int:
    if path.suffix.lower() == ".pdf":
        try:
            import pypdfium2 as pdfium
        except ImportError:
            return 1  # loading will then fail with a clear message
        try:
            return len(pdfium.PdfDocument(str(path)))
        except Exception:
            return 1
    try:
        with Image.open(path) as im:
            try:
                return max(1, getattr(im, "n_frames", 1))
            except Exception:  # a damaged multi-page file: count the frames that can be found
                k = 1
                while True:
                    try:
                        im.seek(k)
                    except EOFError:
                        return k
                    except Exception:  # noqa: BLE001 - frame k is damaged: its page fails with the reason
                        return k + 1
                    k += 1
    except Exception:
        return 1  # the worker reports the real error


def expand_inputs(inputs: list[str | Path]) -> list[PageRef]:
    """Turn files and folders into page references, sorted, with unique ids.

    Folders are searched recursively for files with an image or PDF suffix;
    a file named explicitly is always taken, whatever its suffix, so that a
    wrong format is reported rather than silently skipped.
    """
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            files.append(p)  # missing files are reported per page by the loader
    frames = [(f, _frame_count(f) if _regular(f) else 1) for f in files]
    return _unique_ids(frames)


def _regular(path: Path) -> bool:
    """A regular file we may read (a FIFO, a device or an unreadable file is left to the loader's error)."""
    try:
        return path.is_file() and os.access(path, os.R_OK)
    except OSError:
        return False


def _unique_ids(frames: list[tuple[Path, int]]) -> list[PageRef]:
    """Page ids for (file, frame count) pairs, unique and deterministic. The id is the file's stem (plus
    ``_NNNN``, the 1-based frame, for a multi-frame file). Where two pages would get one id ("a.jpg" beside
    "a.png"; the second frame of "x.tif" beside "x_0002.png"), each of them keeps its file's extension
    ("a_jpg", "a_png", "x_tif_0002"); where that is not enough (one name in two folders), the folder's
    name goes first ("left_a_jpg"); then a counter ("a_jpg~2")."""
    def ids(rule: int, f: Path, n: int) -> list[str]:
        stem = f.stem if rule == 0 else f"{f.stem}_{f.suffix.lstrip('.').lower()}"
        if rule >= 2:
            stem = f"{f.parent.name}_{stem}"
        return [stem] if n == 1 else [f"{stem}_{i + 1:04d}" for i in range(n)]

    rule = [0] * len(frames)
    for level in (1, 2):
        owners: dict[str, set[int]] = {}
        for k, (f, n) in enumerate(frames):
            for pid in ids(rule[k], f, n):
                owners.setdefault(pid, set()).add(k)
        clash = {k for ks in owners.values() if len(ks) > 1 for k in ks}
        for k in clash:
            rule[k] = level
    refs: list[PageRef] = []
    taken: set[str] = set()
    for k, (f, n) in enumerate(frames):
        for i, pid in enumerate(ids(rule[k], f, n)):
            base, c = pid, 1
            while pid in taken:
                c += 1
                pid = f"{base}~{c}"
            taken.add(pid)
            refs.append(PageRef(pid, f, None if n == 1 else i))
    return refs


def load_image(ref: PageRef) -> np.ndarray:
    """Load a page as an 8-bit grey (H, W) or BGR (H, W, 3) array, or raise InputError."""
    path = ref.path
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an image")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file (a FIFO, socket or device)")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied (the file cannot be read)")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file")
    if path.suffix.lower() == ".pdf":
        return _load_pdf(ref)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if ref.frame is not None:
                    im.seek(ref.frame)
                im.load()
                arr = _to_array(im)
    except UnidentifiedImageError:
        if _magic(path):
            raise InputError(f"{path}: corrupt or truncated image ({_magic(path)} header, unreadable data)") from None
        raise InputError(f"{path}: not a supported image format (PNG, JPEG, TIFF, PDF)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{path}: image too large (over {Image.MAX_IMAGE_PIXELS} pixels)") from None
    except EOFError:
        raise InputError(f"{path}: frame {ref.frame} missing (truncated multi-page file?)") from None
    except (OSError, SyntaxError, ValueError, TypeError) as e:  # Pillow: TypeError for a damaged TIFF frame
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"{path}: corrupt or truncated image ({msg})") from None
    if arr.shape[0] < 8 or arr.shape[1] < 8:
        raise InputError(f"{path}: image too small ({arr.shape[1]}x{arr.shape[0]} px)")
    return arr


_MAGIC = {b"\x89PNG": "PNG", b"\xff\xd8": "JPEG", b"II*\x00": "TIFF", b"MM\x00*": "TIFF", b"%PDF": "PDF"}


def _magic(path: Path) -> str | None:
    """The format a file's first bytes announce, if it is one we read."""
    with open(path, "rb") as f:
        head = f.read(8)
    return next((name for sig, name in _MAGIC.items() if head.startswith(sig)), None)


def _to_array(im: Image.Image) -> np.ndarray:
    """8-bit grey for grey images, BGR for colour ones; transparency composited on white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit and float scans: stretch to 8 bits
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        return ((a - lo) * (255.0 / max(hi - lo, 1e-9))).astype(np.uint8)
    if im.mode in ("1", "L"):
        return np.array(im if im.mode == "L" else im.convert("L"), dtype=np.uint8)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im.convert("RGBA"))
    rgb = np.asarray(im if im.mode == "RGB" else im.convert("RGB"), dtype=np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)  # the same pixels as rgb[:, :, ::-1], a tenth of the time


def _load_pdf(ref: PageRef) -> np.ndarray:
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise InputError(f"{ref.path}: PDF input needs pypdfium2 (pip install 'memo-ocr[pdf]')") from None
    try:
        doc = pdfium.PdfDocument(str(ref.path))
        page = doc[ref.frame or 0]
        pil = page.render(scale=PDF_DPI / 72).to_pil()
    except Exception as e:  # pdfium raises its own PdfiumError and plain ones
        raise InputError(f"{ref.path}: cannot render PDF page ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    return _to_array(pil)
