"""Validate PAGE XML, ALTO and METS files against the bundled schemas (offline)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
METS_NS = "http://www.loc.gov/METS/"


class _LocalResolver(etree.Resolver):
    """Serve the W3C XLink schema that ALTO and METS import from the bundled copy."""

    def resolve(self, url, pubid, context):
        if url and url.endswith("xlink.xsd"):
            return self.resolve_filename(str(SCHEMAS / "xlink.xsd"), context)
        return None


@lru_cache(maxsize=None)
def schema(kind: str) -> etree.XMLSchema:
    name = {"page": "pagecontent-2019-07-15.xsd", "alto": "alto-4-4.xsd", "mets": "mets.xsd"}[kind]
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalResolver())
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name), parser))


def kind_of(doc: etree._ElementTree) -> str | None:
    ns = etree.QName(doc.getroot()).namespace
    return {PAGE_NS: "page", ALTO_NS: "alto", METS_NS: "mets"}.get(ns)


def validate(path_or_bytes: str | Path | bytes) -> list[str]:
    """Schema errors of a PAGE 2019, ALTO 4 or METS document ([] when valid), one line each."""
    try:
        if isinstance(path_or_bytes, bytes):
            doc = etree.ElementTree(etree.fromstring(path_or_bytes))
        else:
            doc = etree.parse(str(path_or_bytes))
    except etree.XMLSyntaxError as e:
        return [f"not well-formed XML: {e}"]
    kind = kind_of(doc)
    if kind is None:
        return [f"unknown root element {doc.getroot().tag} (expected PAGE 2019-07-15, ALTO v4 or METS)"]
    s = schema(kind)
    if s.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in s.error_log]
