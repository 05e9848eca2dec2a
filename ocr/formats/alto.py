"""ALTO 4.4 output: every line with its String words; region kinds in TAGREFS; stamps as ``Illustration``
(TYPE "stamp"); lines the line decision set aside in blocks tagged ``rejected`` (kept for review, as in PAGE;
readers that honour the tag, as memo-ocr's does, leave them out of the text)."""
from __future__ import annotations

from lxml import etree

from ..model import STAMP_TEXT, PageResult, Word, bbox
from . import xml_id

NS = "http://www.loc.gov/standards/alto/ns-v4#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def set_box(el: etree._Element, poly) -> None:
    """An ALTO element's HPOS, VPOS, WIDTH and HEIGHT: the box of ``poly``, at least a pixel each way."""
    x0, y0, x1, y1 = bbox(poly)
    el.set("HPOS", str(x0))
    el.set("VPOS", str(y0))
    el.set("WIDTH", str(max(1, x1 - x0)))
    el.set("HEIGHT", str(max(1, y1 - y0)))


def _sub(parent, tag, **attrs):
    return etree.SubElement(parent, f"{{{NS}}}{tag}", attrs)


REJECTED_LABEL = "rejected"


def _block(parent, r, tagrefs: str) -> None:
    tb = _sub(parent, "TextBlock", ID=f"a_{r.id}", TAGREFS=tagrefs)
    set_box(tb, r.polygon)
    for ln in r.lines:
        if not ln.text.strip():  # (a line an engine failed on: ALTO has no empty TextLine; PAGE keeps it, with why)
            continue
        tl = _sub(tb, "TextLine", ID=f"a_{ln.id}")
        set_box(tl, ln.polygon)
        if len(ln.baseline) >= 2:
            tl.set("BASELINE", " ".join(f"{x},{y}" for x, y in ln.baseline))
        words = ln.words or tuple(Word(t, ln.conf if ln.conf is not None else 1.0, ln.polygon)
                                  for t in ln.text.split())
        for j, w in enumerate(words):
            if j:
                _sub(tl, "SP")
            s = _sub(tl, "String", ID=f"a_{ln.id}_w{j:03d}", CONTENT=w.text, WC=f"{min(1.0, max(0.0, w.conf)):.3f}")
            set_box(s, w.polygon)


def _kind(r) -> tuple[str, str]:
    """A block's (production, type): a stamp's text is typed "stamp-text" (the stamp is the ``Illustration``
    whose ID its own begins with), so that a reader tells it from the letter's print."""
    return r.production or "unknown", "stamp-text" if STAMP_TEXT in r.note else r.type


def to_alto(page: PageResult, creator: str, software_version: str) -> bytes:
    """Serialise a page as ALTO 4.4: its transcribed regions in reading order, then its stamps, then the lines set
    aside (``REJECTED_LABEL``)."""
    root = etree.Element(f"{{{NS}}}alto", nsmap={None: NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{NS} http://www.loc.gov/alto/v4/alto-4-4.xsd")
    desc = _sub(root, "Description")
    _sub(desc, "MeasurementUnit").text = "pixel"
    sii = _sub(desc, "sourceImageInformation")
    _sub(sii, "fileName").text = page.image_name
    proc = _sub(desc, "Processing", ID="proc1")
    _sub(proc, "processingStepDescription").text = "; ".join(page.steps)
    sw = _sub(proc, "processingSoftware")
    _sub(sw, "softwareName").text = creator
    _sub(sw, "softwareVersion").text = software_version
    tags = _sub(root, "Tags")
    kinds = sorted({_kind(r) for r in page.regions if r.kept})
    tag_id = {}
    for i, (prod, typ) in enumerate(kinds):
        tag_id[(prod, typ)] = f"BT{i + 1}"
        _sub(tags, "OtherTag", ID=f"BT{i + 1}", LABEL=f"{prod}:{typ}", DESCRIPTION=f"block type {typ}, production {prod}")
    if any(not r.kept and r.lines for r in page.regions):
        _sub(tags, "OtherTag", ID="BT_rejected", LABEL=REJECTED_LABEL,
             DESCRIPTION="lines the line decision set aside (stamps, hands, specks read as text): not part of the text")
    layout = _sub(root, "Layout")
    pg = _sub(layout, "Page", ID=xml_id(page.page_id), WIDTH=str(page.width), HEIGHT=str(page.height),
              PHYSICAL_IMG_NR="1", PROCESSING="proc1")
    ps = _sub(pg, "PrintSpace", HPOS="0", VPOS="0", WIDTH=str(page.width), HEIGHT=str(page.height))
    for r in page.regions:  # the text, in reading order
        if r.kept and any(ln.text.strip() for ln in r.lines):
            _block(ps, r, tag_id[_kind(r)])
    for g in page.graphics:
        set_box(_sub(ps, "Illustration", ID=f"a_{g.id}", TYPE=g.type), g.polygon)
    for r in page.regions:  # the lines set aside, for review
        if not r.kept and any(ln.text.strip() for ln in r.lines):
            _block(ps, r, "BT_rejected")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
