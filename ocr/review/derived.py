"""A reviewed line carried into the files derived from the page: the ``.txt`` (the PAGE reading again), the
ALTO line's ``String`` words and the hOCR line's words (the corrected words; where their number is the
machine's, each keeps its box, else the line's box is shared among them by their lengths), and the searchable
PDF, remade from the new hOCR. A file the run did not write is left alone; each is replaced atomically."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from lxml import etree

from ..formats import atomic, xml_id
from ..formats.alto import NS as ALTO_NS
from ..formats.alto import set_box
from ..formats.hocr import XHTML, bbox_title
from ..formats.readers import read_transcription
from ..model import box_polygon
from .lines import PARSER


def _boxes(line_box: tuple[int, int, int, int], old: list[tuple[int, int, int, int] | None],
           words: list[str]) -> list[tuple[int, int, int, int]]:
    """A box for each of ``words``: the machine word's where the counts agree, else a share of the line's."""
    if len(old) == len(words) and all(b is not None for b in old):
        return old  # type: ignore[return-value]
    x0, y0, x1, y1 = line_box
    total = sum(len(w) + 1 for w in words) or 1
    out, x = [], float(x0)
    for w in words:
        step = (x1 - x0) * (len(w) + 1) / total
        out.append((int(round(x)), y0, max(int(round(x)) + 1, int(round(x + step)) - 1), y1))
        x += step
    return out


def _alto(path: Path, line_id: str, text: str) -> None:
    tree = etree.parse(str(path), PARSER)
    q = f"{{{ALTO_NS}}}"
    line = next((e for e in tree.iter(f"{q}TextLine") if e.get("ID") == f"a_{line_id}"), None)
    if line is None:
        return
    def box(e):
        try:
            x, y = int(e.get("HPOS")), int(e.get("VPOS"))
            return (x, y, x + int(e.get("WIDTH")), y + int(e.get("HEIGHT")))
        except (TypeError, ValueError):
            return None
    old = [box(e) for e in line if etree.QName(e).localname == "String"]
    for e in [e for e in line if etree.QName(e).localname in ("String", "SP", "HYP")]:
        line.remove(e)
    words = text.split()
    line_box = box(line) or (0, 0, 1, 1)
    for j, (w, b) in enumerate(zip(words, _boxes(line_box, old, words), strict=True)):
        if j:
            etree.SubElement(line, f"{q}SP")
        set_box(etree.SubElement(line, f"{q}String", ID=f"a_{line_id}_w{j:03d}", CONTENT=w, WC="1.000"),
                 box_polygon(b))
    atomic.write_bytes(path, etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _hocr(path: Path, page_id: str, line_id: str, text: str) -> bytes | None:
    tree = etree.parse(str(path), PARSER)
    q = f"{{{XHTML}}}"
    pid = xml_id(page_id)
    line = next((e for e in tree.iter(f"{q}span") if e.get("id") == f"{pid}_{line_id}"), None)
    if line is None:
        return None

    def box(e):
        title = e.get("title") or ""
        part = next((p.split() for p in title.split(";") if p.strip().startswith("bbox")), None)
        return tuple(int(v) for v in part[1:5]) if part and len(part) >= 5 else None

    old = [box(e) for e in line if e.get("class") == "ocrx_word"]
    for e in list(line):
        line.remove(e)
    line.text = None
    words = text.split()
    for j, (w, b) in enumerate(zip(words, _boxes(box(line) or (0, 0, 1, 1), old, words), strict=True)):
        span = etree.SubElement(line, f"{q}span")
        span.set("class", "ocrx_word")
        span.set("id", f"{pid}_{line_id}_w{j:03d}")
        span.set("title", bbox_title(box_polygon(b), x_wconf=100))
        span.text = w
        if j < len(words) - 1:
            span.tail = " "
    data = etree.tostring(tree, xml_declaration=True, encoding="UTF-8", doctype=tree.docinfo.doctype or None)
    atomic.write_bytes(path, data)
    return data


def _stamp_marker(run: Path) -> str:
    """The mark the run wrote before stamp text in its .txt files (its run.json's configuration; none for a run
    made before there was one, or without a readable run.json)."""
    try:
        cfg = json.loads((run / "run.json").read_text(encoding="utf-8")).get("config") or {}
        marker = (cfg.get("output") or {}).get("stamp_marker", "")
    except (OSError, ValueError, AttributeError):
        return ""
    return marker if isinstance(marker, str) else ""


def update(run: Path, page_id: str, xml: Path, line_id: str, text: str,
           source: Callable[[], Path | None] = lambda: None, frame: int | None = None) -> list[str]:
    """Carry the reviewed ``text`` of line ``line_id`` (PAGE ``xml`` already saved) into the page's derived files
    in ``run``; ``source()`` finds the page image, looked for only where there is a PDF to remake. Returns the
    names of the files rewritten."""
    done = []
    txt = run / f"{page_id}.txt"
    if txt.is_file():
        marker = _stamp_marker(run)
        lines = [(marker if ln.kind == "stamp" else "") + ln.text for ln in read_transcription(xml)]
        atomic.write_text(txt, "\n".join(lines) + ("\n" if lines else ""))
        done.append(txt.name)
    alto = run / f"{page_id}.alto.xml"
    if alto.is_file():
        _alto(alto, line_id, text)
        done.append(alto.name)
    hocr = run / f"{page_id}.hocr"
    data = _hocr(hocr, page_id, line_id, text) if hocr.is_file() else None
    if data is not None:
        done.append(hocr.name)
        pdf = run / f"{page_id}.pdf"
        image = source() if pdf.is_file() else None
        if image is not None:
            from ..formats.pdf import to_pdf
            from ..loader import PageRef, load_image

            ref = PageRef(page_id, image, frame)
            atomic.write_bytes(pdf, to_pdf(data, ref.path, ref.frame, lambda: load_image(ref)))
            done.append(pdf.name)
    return done
