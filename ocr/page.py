"""One page: load -> preprocess -> typed text -> guard -> layout (handwriting, stamps) -> PageResult -> files."""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, guard
from .config import Config, PreprocessConfig
from .engines import Engine
from .formats import atomic
from .formats.alto import to_alto
from .formats.hocr import to_hocr
from .formats.pagexml import to_pagexml
from .formats.pdf import to_pdf
from .guard import Plausibility
from .layout.debug import debug_image
from .layout.route import route
from .loader import PageRef, load_image
from .model import PageResult, Region
from .preprocess import Preprocessed, preprocess
from .typed.fixes import Context, apply_fixes
from .typed.paragraphs import paragraphs
from .typed.regions import build_regions, order_blocks, typed_region

CREATOR = f"memo-ocr {__version__}"


def recognize_page(ref: PageRef, cfg: Config, engine: Engine, timings: dict[str, float] | None = None,
                   skew_override: float | None = None) -> PageResult:
    """Load, clean and read one page; raises MemoOcrError subclasses on bad input or engine failure."""
    timings = {} if timings is None else timings
    t = time.perf_counter()
    img = load_image(ref)
    timings["load"] = time.perf_counter() - t
    t = time.perf_counter()
    pp = preprocess(img, cfg.preprocess, skew_override=skew_override)
    timings["preprocess"] = time.perf_counter() - t
    t = time.perf_counter()
    blocks = engine.recognize(pp.image)
    typed_info: dict[str, Any] = {}
    model_s = 0.0
    if cfg.tesseract.typed_reader != "tesseract" and getattr(engine, "reads_text", True):
        t_model = time.perf_counter()
        blocks, typed_info = reread_typed(pp.grey, blocks, cfg)
        model_s = timings["typed_model"] = time.perf_counter() - t_model
    blocks, text_info, read_steps = apply_fixes(blocks, Context(pp.image, pp.xheight, cfg.run.lang, engine), cfg)
    timings["recognize"] = time.perf_counter() - t - model_s
    regions = build_regions(pp, blocks, cfg)
    t = time.perf_counter()
    regions, verdict, guard_info, guard_steps = _guard(img, pp, regions, engine, cfg)
    timings["guard"] = time.perf_counter() - t
    graphics: list = []
    engines = {engine.name: engine.version}
    layout_info: dict[str, Any] = {}
    if cfg.layout.enabled:
        t = time.perf_counter()
        xh = None if pp.xheight is None else pp.xheight / pp.scale
        routed = route(img, regions, pp.border, xh, cfg, engine)
        kept = paragraphs([r for r in routed.typed if r.kept], xh, pp.skew_applied)
        rejected = [r for r in routed.typed if not r.kept]
        regions = kept + routed.regions + rejected  # typed text, then handwriting, then stamp text
        graphics = routed.graphics
        if "kraken" in routed.info:
            engines["kraken"] = routed.info["kraken"]
        layout_info = {**routed.info.get("layout", {}),
                       **({"stamp_fields": routed.info["stamp_fields"]} if "stamp_fields" in routed.info else {}),
                       **({"note": routed.info["handwriting_note"]} if "handwriting_note" in routed.info else {}),
                       **({"error": routed.info["handwriting_error"]} if "handwriting_error" in routed.info else {})}
        timings["layout"] = time.perf_counter() - t
    h, w = img.shape[:2]
    info = {
        "deskew_measured_deg": pp.skew_measured, "deskew_applied_deg": pp.skew_applied,
        "deskew_note": pp.skew_note, "scale": round(pp.scale, 3),
        "xheight_px": None if pp.xheight is None else round(pp.xheight / pp.scale, 1),
        "removed": pp.removed, "layout": layout_info,
    }
    steps = list(pp.steps)
    threshold = getattr(engine, "threshold_used", None)
    if threshold and threshold != cfg.tesseract.threshold:
        info["tesseract_threshold"] = threshold
        steps.append(f"tesseract-threshold({threshold}: otsu would split the paper)")
    info.update(text_info)
    if typed_info:
        info["typed_model"] = typed_info
    if guard_info:
        info["guard"] = guard_info
    suspect = verdict.suspect_reason()
    if suspect:
        info["suspect"] = suspect
    steps += read_steps + guard_steps
    page = PageResult(
        page_id=ref.page_id, image_name=ref.path.name if ref.frame is None else f"{ref.path.name}[{ref.frame}]",
        width=w, height=h, regions=regions, border=pp.border if pp.border != (0, 0, w, h) else None,
        orientation=-pp.skew_applied, steps=steps, engines=engines, info=info, graphics=graphics,
    )
    if cfg.layout.debug_image:
        page.debug_image = debug_image(img, regions, graphics)
    return page


PLAIN_PREPROCESS = PreprocessConfig(grayscale=False, crop_border=False, remove_punch_holes=False, deskew=False,
                                    rescale=False, remove_speckles=False, normalize_background=False)


def reread_typed(grey: np.ndarray, blocks: list, cfg: Config) -> tuple[list, dict[str, Any]]:
    """Tesseract's typed lines read again by the typewriter model (``ocr.typed.model_read``)."""
    from .typed import model_read

    reader = model_read.load(cfg.tesseract.typed_model)
    return model_read.reread(grey, blocks, reader, cfg.tesseract.typed_reader, cfg.run.lang)


def read_plain(img: np.ndarray, engine: Engine) -> list[Region]:
    """The page as plain Tesseract reads it: its grey image, nothing removed, rescaled or rotated, every line
    Tesseract returns kept (typewritten), no text step."""
    pp = preprocess(img, PLAIN_PREPROCESS)
    return [typed_region(pp, f"p{b:03d}", block)
            for b, block in enumerate(order_blocks(engine.recognize(pp.image), "top-down"), start=1)]


def _guard(img: np.ndarray, pp: Preprocessed, regions: list[Region], engine: Engine,
           cfg: Config) -> tuple[list[Region], Plausibility, dict[str, Any], list[str]]:
    """The page guard (``ocr.guard``): the regions to keep, their plausibility, what run.json records, steps."""
    import cv2

    if not getattr(engine, "reads_text", True):  # the null engine: nothing to judge
        return regions, Plausibility(None, None, 0.0, 0), {}, []
    grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    centres = guard.letter_centres(grey, None if pp.xheight is None else pp.xheight / pp.scale)
    verdict = guard.judge(regions, centres, (w, h))
    info: dict[str, Any] = {"read": verdict.to_dict()}
    why = verdict.retry_reason() if cfg.run.guard else ""
    if not why:
        return regions, verdict, info, []
    plain = read_plain(img, engine)
    other = guard.judge(plain, centres, (w, h))
    info.update(retry=why, plain=other.to_dict())
    if other.sure_letters > guard.PLAIN_MARGIN * verdict.sure_letters:
        info["kept"] = "plain"
        # our rejected lines stay (rejected) beside the plain reading: nothing read is lost without a trace
        return plain + [r for r in regions if not r.kept], other, info, [f"plain-reading({why})"]
    info["kept"] = "ours"
    return regions, verdict, info, [f"plain-reading-compared({why}; ours kept)"]


def write_outputs(page: PageResult, out_dir: Path, cfg: Config, ref: PageRef | None = None) -> list[str]:
    """Write the page's files atomically (the searchable PDF needs the page's ``ref``); returns their names. With
    ``ref``, the files name the page image by its path from ``out_dir`` (PAGE ``imageFilename``, ALTO
    ``fileName``, hOCR ``image``), so that a reader of the files finds the image."""
    if ref is not None:
        try:
            rel = Path(os.path.relpath(ref.path.resolve(), out_dir.resolve())).as_posix()
        except ValueError:  # another drive (Windows): the absolute path
            rel = ref.path.resolve().as_posix()
        page = dataclasses.replace(page, image_name=rel if ref.frame is None else f"{rel}[{ref.frame}]")
    written = []
    if cfg.output.page_xml:
        atomic.write_bytes(out_dir / f"{page.page_id}.page.xml", to_pagexml(page, CREATOR))
        written.append(f"{page.page_id}.page.xml")
    if cfg.output.alto:
        atomic.write_bytes(out_dir / f"{page.page_id}.alto.xml", to_alto(page, "memo-ocr", __version__))
        written.append(f"{page.page_id}.alto.xml")
    if cfg.output.text:
        text = page.text(cfg.output.stamp_marker)
        atomic.write_text(out_dir / f"{page.page_id}.txt", text + ("\n" if text else ""))
        written.append(f"{page.page_id}.txt")
    if cfg.output.hocr or (cfg.output.pdf and ref is not None):
        hocr = to_hocr(page, CREATOR, cfg.run.lang)
        if cfg.output.hocr:
            atomic.write_bytes(out_dir / f"{page.page_id}.hocr", hocr)
            written.append(f"{page.page_id}.hocr")
        if cfg.output.pdf and ref is not None:
            atomic.write_bytes(out_dir / f"{page.page_id}.pdf", to_pdf(hocr, ref.path, ref.frame, lambda: load_image(ref)))
            written.append(f"{page.page_id}.pdf")
    if page.debug_image is not None:
        import cv2

        ok, buf = cv2.imencode(".jpg", page.debug_image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            atomic.write_bytes(out_dir / f"{page.page_id}.layout.jpg", buf.tobytes())
            written.append(f"{page.page_id}.layout.jpg")
    return written
