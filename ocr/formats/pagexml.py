"""PAGE XML 2019-07-15 output, built with lxml from a PageResult."""
from __future__ import annotations

import datetime as _dt
import math

from lxml import etree

from ..model import PageResult, Point, bbox, box_polygon
from . import xml_id

NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _points(poly: tuple[Point, ...] | list[Point]) -> str:
    return " ".join(f"{int(x)},{int(y)}" for x, y in poly)


def _area(poly) -> float:
    pts = list(poly)
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True))) / 2 \
        if pts else 0.0


def _rect(x0: int, y0: int, x1: int, y1: int) -> tuple[Point, ...]:
    """``box_polygon`` of the box, at least one pixel wide and tall."""
    return box_polygon((x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)))


def _solid(poly, within: tuple[int, int, int, int]) -> tuple[Point, ...]:
    """``poly`` where it has an area; else (a handwriting model's glyph cut is often a line one pixel wide) the
    rectangle of its width, at least one pixel, over the height of ``within``, its parent's box."""
    if len(poly) >= 3 and _area(poly) > 0:
        return tuple(poly)
    x0, _, x1, _ = bbox(poly) if poly else (within[0], 0, within[2], 0)
    if max(x1, x0 + 1) > within[2] > within[0]:  # at the parent's right edge: one pixel inside it
        x0, x1 = within[2] - 1, within[2]
    return _rect(x0, within[1], x1, within[3])


def _enclosing(poly, children: list[tuple[int, int, int, int]]) -> tuple[Point, ...]:
    """``poly`` where its box holds every child's box, else the box that holds it and them (a handwriting line
    cut with a margin, a stamp's text read a little beyond its ring): children lie inside their parent."""
    if not poly:
        return poly
    b = bbox(poly)
    if all(c[0] >= b[0] and c[1] >= b[1] and c[2] <= b[2] and c[3] <= b[3] for c in children):
        return tuple(poly)
    return _rect(min([b[0]] + [c[0] for c in children]), min([b[1]] + [c[1] for c in children]),
                 max([b[2]] + [c[2] for c in children]), max([b[3]] + [c[3] for c in children]))


def _inside(poly, parent) -> tuple[Point, ...]:
    """``poly`` clipped to ``parent`` where it sticks out (a word's rectangle over the edge of its slanted
    handwriting line): OCR-D's validator, like other PAGE consumers, wants every child within its parent's
    polygon. Rounded to whole pixels inside the parent's box; left as it is where nothing of it is inside."""
    from shapely.geometry import Polygon
    from shapely.validation import make_valid

    if len(poly) < 3 or len(parent) < 3:
        return tuple(poly)
    pb, cb = bbox(parent), bbox(poly)
    if set(map(tuple, parent)) == set(box_polygon(pb)) and pb[0] <= cb[0] and pb[1] <= cb[1] and cb[2] <= pb[2] \
            and cb[3] <= pb[3]:  # an upright rectangle holding the child's box (most lines and words): no geometry
        return tuple(poly)
    child, outer = make_valid(Polygon(poly)), make_valid(Polygon(parent))
    if child.within(outer.buffer(0.5)):
        return tuple(poly)
    cut = child.intersection(outer)
    parts = [g for g in getattr(cut, "geoms", [cut]) if g.geom_type == "Polygon" and g.area >= 1]
    if not parts:
        return tuple(poly)
    x0, y0, x1, y1 = bbox(parent)
    ring = max(parts, key=lambda g: g.area).exterior.coords[:-1]
    pts = [(min(max(round(x), x0), x1), min(max(round(y), y0), y1)) for x, y in ring]
    pts = [p for i, p in enumerate(pts) if p != pts[i - 1]]
    if len(set(pts)) < 3:
        return tuple(poly)
    if len(pts) == 3:  # a triangle: OCR-D wants four points at least; the middle of its longest side
        i = max(range(3), key=lambda i: math.dist(pts[i], pts[i - 1]))
        (ax, ay), (bx, by) = pts[i - 1], pts[i]
        pts.insert(i, (round((ax + bx) / 2), round((ay + by) / 2)))
    return tuple(pts)


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS}}}{tag}", {k: v for k, v in attrs.items() if v is not None})


def _text_equiv(parent: etree._Element, text: str, conf: float | None, index: int | None = None) -> None:
    attrs = {}
    if index is not None:
        attrs["index"] = str(index)
    if conf is not None:
        attrs["conf"] = f"{min(1.0, max(0.0, conf)):.3f}"
    te = _sub(parent, "TextEquiv", **attrs)
    _sub(te, "Unicode").text = text


def _css(text: str) -> str:
    """A value safe inside PAGE's custom attribute syntax ``key {name:value;}``."""
    return "".join(" " if c in "{};:" else c for c in text)[:200]


def to_pagexml(page: PageResult, creator: str, created: _dt.datetime | None = None,
               metadata: dict[str, str] | None = None) -> bytes:
    """Serialise a page. Regions the recogniser rejected are kept (type ``other``) but left out of the reading order."""
    now = (created or _dt.datetime.now(_dt.timezone.utc)).replace(microsecond=0).isoformat()
    root = etree.Element(f"{{{NS}}}PcGts", nsmap={None: NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{NS} {NS}/pagecontent.xsd")
    root.set("pcGtsId", xml_id(page.page_id))
    md = _sub(root, "Metadata")
    _sub(md, "Creator").text = creator
    _sub(md, "Created").text = now
    _sub(md, "LastChange").text = now
    _sub(md, "Comments").text = "; ".join(f"{k}={v}" for k, v in sorted(page.info.items()) if not isinstance(v, dict))
    for i, step in enumerate(page.steps):
        item = _sub(md, "MetadataItem", type="processingStep", name="preprocessing", value=step)
        labels = _sub(item, "Labels")
        _sub(labels, "Label", value=str(i), type="order")
    for name, version in sorted(page.engines.items()):
        item = _sub(md, "MetadataItem", type="processingStep", name="recognition", value=f"{name} {version}")
        labels = _sub(item, "Labels")
        _sub(labels, "Label", value=name, type="engine")
        _sub(labels, "Label", value=version, type="version")

    for name, value in (metadata or {}).items():
        _sub(md, "MetadataItem", type="other", name=name, value=value)

    pg = _sub(root, "Page", imageFilename=page.image_name, imageWidth=str(page.width), imageHeight=str(page.height))
    if page.orientation:
        pg.set("orientation", f"{page.orientation:.2f}")
    if page.border:
        x0, y0, x1, y1 = page.border
        b = _sub(pg, "Border")
        _sub(b, "Coords", points=_points([(x0, y0), (x1 - 1, y0), (x1 - 1, y1 - 1), (x0, y1 - 1)]))
    kept = [r for r in page.regions if r.kept]
    if kept:
        ro = _sub(pg, "ReadingOrder")
        og = _sub(ro, "OrderedGroup", id="ro_main", caption="typed text, then annotations")
        for i, r in enumerate(kept):
            _sub(og, "RegionRefIndexed", index=str(i), regionRef=r.id)
    for r in page.regions:
        attrs = {"id": r.id, "type": r.type if r.kept else "other"}
        if r.production:
            attrs["production"] = r.production
        if r.note:
            attrs["custom"] = r.note
        reg = _sub(pg, "TextRegion", **attrs)
        _sub(reg, "Coords", points=_points(_enclosing(r.polygon, [bbox(ln.polygon) for ln in r.lines if ln.polygon])))
        for ln in r.lines:
            # a rejected region's lines say why the line decision rejected them; a kept line's note is an error
            kind = "error" if r.kept else "rejected"
            tl = _sub(reg, "TextLine", id=ln.id, custom=f"{kind} {{reason:{_css(ln.note)};}}" if ln.note else None)
            _sub(tl, "Coords", points=_points(ln.polygon))
            if len(ln.baseline) >= 2:
                _sub(tl, "Baseline", points=_points(ln.baseline))
            for j, w in enumerate(ln.words):
                we = _sub(tl, "Word", id=f"{ln.id}_w{j:03d}")
                wpoly = _inside(_solid(w.polygon, bbox(ln.polygon)), ln.polygon)
                _sub(we, "Coords", points=_points(wpoly))
                for k, g in enumerate(w.glyphs):
                    ge = _sub(we, "Glyph", id=f"{ln.id}_w{j:03d}_g{k:03d}")
                    _sub(ge, "Coords", points=_points(_inside(_solid(g.polygon, bbox(wpoly)), wpoly)))
                    _text_equiv(ge, g.text, g.conf)
                _text_equiv(we, w.text, w.conf)
            _text_equiv(tl, ln.text, ln.conf)
        confs = [ln.conf for ln in r.lines if ln.conf is not None]
        region_conf = sum(confs) / len(confs) if confs else None
        _text_equiv(reg, "\n".join(ln.text for ln in r.lines), region_conf)
    for g in page.graphics:
        ge = _sub(pg, "GraphicRegion", id=g.id, type=g.type)
        _sub(ge, "Coords", points=_points(g.polygon))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
