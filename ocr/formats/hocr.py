"""hOCR 1.2 output: the page's transcribed regions as ``ocr_carea`` / ``ocr_par``, their lines as ``ocr_line``
(``ocr_textfloat`` for handwriting and stamp text: text outside the typed flow), words as ``ocrx_word`` with
``bbox`` and ``x_wconf``, in reading order; rejected lines are left out, as in the text and ALTO. Coordinates
are the original image's pixels."""
from __future__ import annotations

from lxml import etree

from ..model import PageResult, Word, bbox
from ..typed.lexicon import WORD_LISTS
from . import xml_id

XHTML = "http://www.w3.org/1999/xhtml"
CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocr_textfloat ocrx_word ocrp_wconf ocrp_lang"
# Tesseract language -> the document's lang: the word lists' codes, and the era's other archive languages
LANGS = {**WORD_LISTS, "bel": "be", "heb": "he", "yid": "yi", "lav": "lv", "lit": "lt", "est": "et"}


def bbox_title(poly, **props: str | int) -> str:
    """An hOCR ``title``: the ``bbox`` of ``poly`` (at least a pixel each way), then ``props``."""
    x0, y0, x1, y1 = bbox(poly)
    return "; ".join([f"bbox {x0} {y0} {max(x1, x0 + 1)} {max(y1, y0 + 1)}"] + [f"{k} {v}" for k, v in props.items()])


def _el(parent, tag: str, cls: str, eid: str, title: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{XHTML}}}{tag}")
    el.set("class", cls)
    el.set("id", eid)
    el.set("title", title)
    return el


def to_hocr(page: PageResult, creator: str, lang: str = "") -> bytes:
    """Serialise the kept regions of ``page`` as an hOCR 1.2 (XHTML) document; ``lang`` the run's Tesseract
    language(s), the first of which becomes the document's ``lang``."""
    code = LANGS.get(lang.split("+")[0], "") if lang else ""
    html = etree.Element(f"{{{XHTML}}}html", nsmap={None: XHTML})
    if code:
        html.set("lang", code)
        html.set("{http://www.w3.org/XML/1998/namespace}lang", code)
    head = etree.SubElement(html, f"{{{XHTML}}}head")
    etree.SubElement(head, f"{{{XHTML}}}title").text = page.page_id
    for name, content in (("ocr-system", creator), ("ocr-capabilities", CAPABILITIES),
                          ("ocr-number-of-pages", "1")):
        etree.SubElement(head, f"{{{XHTML}}}meta", name=name, content=content)
    etree.SubElement(head, f"{{{XHTML}}}meta", {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"})
    body = etree.SubElement(html, f"{{{XHTML}}}body")
    pid = xml_id(page.page_id)
    pg = _el(body, "div", "ocr_page", pid, f'image "{page.image_name}"; bbox 0 0 {page.width} {page.height}; ppageno 0')
    for r in page.regions:
        if not r.kept or not r.lines:
            continue
        area = _el(pg, "div", "ocr_carea", f"{pid}_{r.id}", bbox_title(r.polygon))
        par = _el(area, "p", "ocr_par", f"{pid}_{r.id}_p", bbox_title(r.polygon))
        line_class = "ocr_line" if r.production in (None, "typewritten", "printed") and r.type == "paragraph" \
            else "ocr_textfloat"
        for ln in r.lines:
            props = {}
            if len(ln.baseline) >= 2:
                (x0, y0), (x1, y1) = ln.baseline[0], ln.baseline[-1]
                lx0, _, _, ly1 = bbox(ln.polygon)
                slope = (y1 - y0) / (x1 - x0) if x1 != x0 else 0.0
                props["baseline"] = f"{slope:.4f} {y0 - ly1 + round(slope * (lx0 - x0))}"
            line = _el(par, "span", line_class, f"{pid}_{ln.id}", bbox_title(ln.polygon, **props))
            words = ln.words or tuple(Word(t, ln.conf if ln.conf is not None else 1.0, ln.polygon)
                                      for t in ln.text.split())
            for j, w in enumerate(words):
                if j:
                    line[-1].tail = " "
                span = _el(line, "span", "ocrx_word", f"{pid}_{ln.id}_w{j:03d}",
                           bbox_title(w.polygon, x_wconf=round(100 * min(1.0, max(0.0, w.conf)))))
                span.text = w.text
    return etree.tostring(html, xml_declaration=True, encoding="UTF-8", pretty_print=True,
                          doctype='<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
                                  '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">')
