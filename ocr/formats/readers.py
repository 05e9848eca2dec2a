"""Read transcriptions (ground truth or another tool's output) from PAGE XML, ALTO or plain text.

A transcription is a list of lines, each with the kind of region it belongs
to (``typewritten``, ``handwritten``, ``stamp`` or ``unknown``), in document order.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..errors import GroundTruthError
from ..model import STAMP_MARKER

SUFFIXES = (".page.xml", ".alto.xml", ".gt.txt", ".xml", ".txt")


@dataclass(frozen=True)
class TLine:
    text: str
    kind: str = "unknown"
    poly: tuple[tuple[int, int], ...] = ()  # in the page image's pixels, where the file gives it
    region: str = ""  # id of the region it belongs to


@dataclass(frozen=True)
class TRegion:
    id: str
    kind: str
    poly: tuple[tuple[int, int], ...]


@dataclass
class Transcription:
    """A page's lines in reading order, its regions and the image it describes (where the file says)."""

    lines: list[TLine]
    regions: list[TRegion]
    image: str = ""
    size: tuple[int, int] | None = None


def parse_points(s: str | None) -> tuple[tuple[int, int], ...]:
    """PAGE ``points`` ("x,y x,y ...") as integer pairs; () if any is malformed."""
    out = []
    for p in (s or "").split():
        try:
            x, y = p.split(",")
            out.append((int(float(x)), int(float(y))))
        except ValueError:
            return ()
    return tuple(out)


def page_id_of(path: Path) -> str | None:
    """The page id a transcription file stands for (its name less a known suffix)."""
    name = path.name
    for suf in SUFFIXES:
        if name.lower().endswith(suf):
            return name[: -len(suf)]
    return None


def index_folder(folder: Path) -> dict[str, Path]:
    """Page id -> transcription file; PAGE XML is preferred over ALTO over text for one id."""
    best: dict[str, tuple[int, Path]] = {}  # page id -> (rank of its suffix in SUFFIXES, file)
    for f in sorted(folder.rglob("*")):
        if not f.is_file() or f.name.startswith("."):
            continue
        pid = page_id_of(f)
        if pid is None or pid.endswith(".legacy"):
            continue
        rank = next(i for i, s in enumerate(SUFFIXES) if f.name.lower().endswith(s))
        if pid not in best or rank < best[pid][0]:
            best[pid] = (rank, f)
    return {pid: f for pid, (_, f) in best.items()}


def region_kind(region: etree._Element) -> str:
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
    return read_page(path).lines


def read_page(path: str | Path) -> Transcription:
    """Lines, regions and image reference of a PAGE XML, ALTO or plain-text file."""
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
    return Transcription([TLine(line[len(STAMP_MARKER):], "stamp") if line.startswith(STAMP_MARKER) else TLine(line)
                          for line in text.splitlines()], [])


def _read_xml(p: Path, raw: bytes) -> Transcription:
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


def _read_page(root: etree._Element, ns: str) -> Transcription:
    def q(tag: str) -> str:
        return f"{{{ns}}}{tag}" if ns else tag

    page = root.find(q("Page"))
    if page is None:
        return Transcription([], [])
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
    regs: list[TRegion] = []
    for rid in order:
        reg = regions[rid]
        kind = region_kind(reg)
        c = reg.find(q("Coords"))
        regs.append(TRegion(rid, kind, parse_points(c.get("points")) if c is not None else ()))
        for line in reg.findall(q("TextLine")):
            text = _line_text_page(line, q)
            if text is not None:
                lc = line.find(q("Coords"))
                out.append(TLine(text, kind, parse_points(lc.get("points")) if lc is not None else (), rid))
    for g in page.iter(q("GraphicRegion")):
        if (g.get("type") or "") == "stamp":
            c = g.find(q("Coords"))
            regs.append(TRegion(g.get("id") or "", "stamp", parse_points(c.get("points")) if c is not None else ()))
    size = None
    if page.get("imageWidth") and page.get("imageHeight"):
        size = (int(page.get("imageWidth")), int(page.get("imageHeight")))
    return Transcription(out, regs, page.get("imageFilename") or "", size)


def _box_attrs(el: etree._Element) -> tuple[tuple[int, int], ...]:
    try:
        x, y = int(float(el.get("HPOS"))), int(float(el.get("VPOS")))
        w, h = int(float(el.get("WIDTH"))), int(float(el.get("HEIGHT")))
    except (TypeError, ValueError):
        return ()
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


def _alto_line_kind(tagrefs: str | None, labels: dict[str, str]) -> str:
    """A line's kind from the labels of its ``TAGREFS``: handwritten, printed (print counts as typewritten, as
    in PAGE's ``production``) or typewritten; an ALTO line without a type label is typewritten."""
    for ref in (tagrefs or "").split():
        label = labels.get(ref, "")
        if "handwrit" in label or "manuscript" in label:
            return "handwritten"
        if "stamp" in label:
            return "stamp"
    return "typewritten"


def _alto_line(line: etree._Element, labels: dict[str, str], block_kind: str, box) -> TLine:
    """One TextLine: its text (String, SP and HYP in order) and kind (its own TAGREFS, else its block's)."""
    kind = _alto_line_kind(line.get("TAGREFS"), labels) if line.get("TAGREFS") else block_kind
    parts: list[str] = []
    for el in line:
        tag = etree.QName(el).localname
        if tag == "String":
            parts.append(el.get("CONTENT", ""))
        elif tag == "SP":
            parts.append(" ")
        elif tag == "HYP":
            parts.append(el.get("CONTENT", ""))
    # with SP elements the spaces are explicit; without them, words are joined by one space
    has_sp = any(etree.QName(el).localname == "SP" for el in line)
    return TLine(("" if has_sp else " ").join(parts), kind, _shape(line) or box(line))


def _shape(el: etree._Element) -> tuple[tuple[int, int], ...]:
    """An ALTO element's outline (``Shape/Polygon@POINTS``: "x y x y ..." or "x,y x,y ..."), where it has one
    of at least three points: eScriptorium's line outlines leave out the neighbouring lines its box takes in."""
    for child in el:
        if etree.QName(child).localname != "Shape":
            continue
        for poly in child:
            if etree.QName(poly).localname == "Polygon":
                try:
                    nums = [int(float(v)) for v in (poly.get("POINTS") or "").replace(",", " ").split()]
                except ValueError:
                    return ()
                pts = tuple(zip(nums[0::2], nums[1::2], strict=False))
                return pts if len(pts) >= 3 and len(nums) % 2 == 0 else ()
    return ()


def _read_alto(root: etree._Element, ns: str) -> Transcription:
    def q(tag: str) -> str:
        return f"{{{ns}}}{tag}" if ns else tag

    out: list[TLine] = []
    regs: list[TRegion] = []
    # eScriptorium's ALTO types lines through TAGREFS to <Tags><OtherTag LABEL="DefaultLine:Handwritten">
    labels = {t.get("ID"): (t.get("LABEL") or "").lower() for t in root.iter(q("OtherTag"))}
    for block in root.iter(q("TextBlock")):
        if any(labels.get(ref) == "rejected" for ref in (block.get("TAGREFS") or "").split()):
            continue  # lines memo-ocr set aside: kept for review, not part of the text
        block_kind = _alto_line_kind(block.get("TAGREFS"), labels)
        regs.append(TRegion(block.get("ID") or "", block_kind, _box_attrs(block)))
        for line in block.iter(q("TextLine")):
            out.append(_alto_line(line, labels, block_kind, _box_attrs))
    fn = root.find(f"{q('Description')}/{q('sourceImageInformation')}/{q('fileName')}")
    page = root.find(f"{q('Layout')}/{q('Page')}")
    size = None
    if page is not None and page.get("WIDTH") and page.get("HEIGHT"):
        try:
            size = (int(float(page.get("WIDTH"))), int(float(page.get("HEIGHT"))))
        except ValueError:
            size = None
    return Transcription(out, regs, (fn.text or "").strip() if fn is not None else "", size)
