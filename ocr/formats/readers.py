"""Read transcriptions (ground truth or another tool's output) from PAGE XML, ALTO or plain text.

A transcription is a list of lines, each with the kind of region it belongs
to (``typewritten``, ``handwritten``, ``stamp`` or ``unknown``), in document order.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..errors import GroundTruthError

SUFFIXES = (".page.xml", ".alto.xml", ".gt.txt", ".xml", ".txt")


@dataclass(frozen=True)
class TLine:
    text: str
    kind: str = "unknown"


def page_id_of(path: Path) -> str | None:
    """The page id a transcription file stands for (its name less a known suffix)."""
    name = path.name
    for suf in SUFFIXES:
        if name.lower().endswith(suf):
            return name[: -len(suf)]
    return None


def index_folder(folder: Path) -> dict[str, Path]:
    """Page id -> transcription file; PAGE XML is preferred over ALTO over text for one id."""
    found: dict[str, Path] = {}
    rank = {s: i for i, s in enumerate(SUFFIXES)}
    for f in sorted(folder.rglob("*")):
        if not f.is_file() or f.name.startswith("."):
            continue
        pid = page_id_of(f)
        if pid is None or pid.endswith(".legacy"):
            continue
        suf = next(s for s in SUFFIXES if f.name.lower().endswith(s))
        if pid not in found or rank[suf] < rank[next(s for s in SUFFIXES if found[pid].name.lower().endswith(s))]:
            found[pid] = f
    return found


def _kind_from_page_region(region: etree._Element) -> str:
    prod = region.get("production") or ""
    typ = region.get("type") or ""
    custom = region.get("custom") or ""
    if "stamp" in typ or "stamp" in custom:
        return "stamp"
    if prod.startswith("handwritten") or typ in ("marginalia", "signature-mark"):
        return "handwritten"
    if prod in ("typewritten", "printed"):
        return "typewritten"
    return "unknown"


def read_transcription(path: str | Path) -> list[TLine]:
    """Lines of a PAGE XML, ALTO or plain-text file; GroundTruthError if it cannot be read."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise GroundTruthError(f"{p}: cannot read ({e.strerror})") from None
    if p.suffix.lower() == ".xml":
        return _read_xml(p, raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GroundTruthError(f"{p}: not UTF-8 text") from None
    return [TLine(line) for line in text.splitlines()]


def _read_xml(p: Path, raw: bytes) -> list[TLine]:
    if not raw.strip():
        raise GroundTruthError(f"{p}: empty file")
    try:
        root = etree.fromstring(raw, etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=True))
    except etree.XMLSyntaxError as e:
        raise GroundTruthError(f"{p}: malformed XML ({e})") from None
    ns = etree.QName(root).namespace or ""
    local = etree.QName(root).localname
    if local == "PcGts":
        return _read_page(root, ns)
    if local == "alto":
        return _read_alto(root, ns)
    raise GroundTruthError(f"{p}: neither PAGE XML nor ALTO (root element <{local}>)")


def _line_text_page(line: etree._Element, q) -> str | None:
    tes = line.findall(q("TextEquiv"))
    if tes:
        # ground truth first (PAGE: lowest index), then the first
        def key(te):
            idx = te.get("index")
            return int(idx) if idx and idx.lstrip("-").isdigit() else 0
        te = sorted(tes, key=key)[0]
        uni = te.find(q("Unicode"))
        return uni.text or "" if uni is not None else ""
    words = line.findall(q("Word"))
    if words:
        parts = []
        for w in words:
            u = w.find(f"{q('TextEquiv')}/{q('Unicode')}")
            if u is not None and u.text:
                parts.append(u.text)
        return " ".join(parts)
    return None


def _read_page(root: etree._Element, ns: str) -> list[TLine]:
    def q(tag: str) -> str:
        return f"{{{ns}}}{tag}" if ns else tag

    page = root.find(q("Page"))
    if page is None:
        return []
    regions = {r.get("id"): r for r in page.iter(q("TextRegion"))}
    order: list[str] = []
    ro = page.find(q("ReadingOrder"))
    if ro is not None:
        refs = [(int(e.get("index", "0")), e.get("regionRef")) for e in ro.iter(q("RegionRefIndexed"))]
        order = [r for _, r in sorted(refs) if r in regions]
        order += [r for r in (e.get("regionRef") for e in ro.iter(q("RegionRef"))) if r in regions and r not in order]
    # regions outside the reading order come after it, in document order (rejected ones included only if transcribed)
    order += [rid for rid in regions if rid not in order and (regions[rid].get("type") != "other")]
    out: list[TLine] = []
    for rid in order:
        reg = regions[rid]
        kind = _kind_from_page_region(reg)
        for line in reg.findall(q("TextLine")):
            text = _line_text_page(line, q)
            if text is not None:
                out.append(TLine(text, kind))
    return out


def _read_alto(root: etree._Element, ns: str) -> list[TLine]:
    def q(tag: str) -> str:
        return f"{{{ns}}}{tag}" if ns else tag

    out: list[TLine] = []
    for line in root.iter(q("TextLine")):
        parts: list[str] = []
        for el in line:
            tag = etree.QName(el).localname
            if tag == "String":
                parts.append(el.get("CONTENT", ""))
            elif tag == "SP":
                parts.append(" ")
            elif tag == "HYP":
                parts.append(el.get("CONTENT", ""))
        text = "".join(parts) if any(etree.QName(el).localname == "SP" for el in line) else " ".join(
            p for p in parts)
        out.append(TLine(text, "typewritten"))
    return out
