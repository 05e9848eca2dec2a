"""``OUT/mets.xml``: a METS file for the run folder, following OCR-D's conventions (a file group per kind of
file, one ``mets:file`` with one ``FLocat`` each, the page's files tied together by a physical structure map in
page order), so that OCR-D processors and digital-library ingest take the reel as it is.

It lists every page of the folder that has files (this run's and earlier runs', as run.json does), and only
files that exist; the source images are referenced where they lie, by a path relative to the folder.
"""
from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

from lxml import etree

from . import safe_name

METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
# output file suffix -> (file group, MIME type), in the order the groups are listed
GROUPS = {
    ".page.xml": ("OCR-D-OCR-PAGE", "application/vnd.prima.page+xml"),
    ".alto.xml": ("OCR-D-OCR-ALTO", "application/alto+xml"),
    ".hocr": ("OCR-D-OCR-HOCR", "text/vnd.hocr+html"),
    ".txt": ("OCR-D-OCR-TXT", "text/plain"),
    ".pdf": ("OCR-D-OCR-PDF", "application/pdf"),
}
IMAGE_GROUP = "OCR-D-IMG"
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff",
               ".tiff": "image/tiff", ".pdf": "application/pdf", ".jp2": "image/jp2"}


def _sub(parent, tag: str, **attrs) -> etree._Element:
    return etree.SubElement(parent, f"{{{METS}}}{tag}", {k: str(v) for k, v in attrs.items()})


def to_mets(out_dir: Path, pages: list[dict], creator: str) -> bytes:
    """METS for the run folder ``out_dir`` from run.json page records (``page_id``, ``source``, ``frame``,
    ``outputs``), in page-id order; pages with no file on disk are left out."""
    root = etree.Element(f"{{{METS}}}mets", nsmap={"mets": METS, "xlink": XLINK, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{METS} http://www.loc.gov/standards/mets/mets.xsd")
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    hdr = _sub(root, "metsHdr", CREATEDATE=now)
    agent = _sub(hdr, "agent", TYPE="OTHER", OTHERTYPE="SOFTWARE", ROLE="CREATOR")
    _sub(agent, "name").text = creator
    sec = _sub(root, "fileSec")
    groups: dict[str, etree._Element] = {}

    def group(name: str) -> etree._Element:
        if name not in groups:
            groups[name] = _sub(sec, "fileGrp", USE=name)
        return groups[name]

    group(IMAGE_GROUP)
    for name, _ in GROUPS.values():
        group(name)
    smap = _sub(root, "structMap", TYPE="PHYSICAL")
    seq = _sub(smap, "div", TYPE="physSequence", ID="PHYS_SEQUENCE")
    order = 0
    for rec in sorted(pages, key=lambda r: r["page_id"]):
        pid = safe_name(rec["page_id"])  # (after a group's name, an NCName)
        files: list[str] = []
        for name in rec.get("outputs") or []:
            suffix = next((s for s in GROUPS if name.endswith(s)), None)
            if suffix is None or not (out_dir / name).is_file():
                continue
            grp, mime = GROUPS[suffix]
            fid = f"{grp}_{pid}"
            f = _sub(group(grp), "file", ID=fid, MIMETYPE=mime)
            _sub(f, "FLocat", LOCTYPE="OTHER", OTHERLOCTYPE="FILE").set(f"{{{XLINK}}}href", name)
            files.append(fid)
        if not files:
            continue
        source = Path(rec.get("source") or "")
        if source.is_file():
            fid = f"{IMAGE_GROUP}_{pid}"
            f = _sub(group(IMAGE_GROUP), "file", ID=fid,
                     MIMETYPE=IMAGE_TYPES.get(source.suffix.lower(), "application/octet-stream"))
            href = os.path.relpath(source.resolve(), out_dir.resolve())
            _sub(f, "FLocat", LOCTYPE="OTHER", OTHERLOCTYPE="FILE").set(f"{{{XLINK}}}href", href)
            files.insert(0, fid)
        order += 1
        label = rec["page_id"] if rec.get("frame") is None else f"{rec['page_id']} (frame {rec['frame']})"
        div = _sub(seq, "div", TYPE="page", ID=f"PHYS_{pid}", ORDER=order, ORDERLABEL=label)
        for fid in files:
            _sub(div, "fptr", FILEID=fid)
    for el in list(groups.values()):
        if not len(el):
            sec.remove(el)
    if not len(sec):  # METS wants a file section with a group in it, or none
        root.remove(sec)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
