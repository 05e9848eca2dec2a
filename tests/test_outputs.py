"""The outputs other tools take: hOCR, a searchable PDF (its text layer read back by pdftotext), METS for the
run folder (schema-valid, every file it names on disk), all chosen with ``--formats``."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from lxml import etree

from ocr.formats.hocr import to_hocr
from ocr.formats.mets import to_mets
from ocr.formats.validate import validate

from .conftest import RUSSIAN_LINES, needs_tesseract, render_page
from .test_formats import sample_page

XHTML = "{http://www.w3.org/1999/xhtml}"
METS = "{http://www.loc.gov/METS/}"
XLINK = "{http://www.w3.org/1999/xlink}href"


def _have_pdf() -> bool:
    try:
        import ocrmypdf.fpdf_renderer  # noqa: F401
    except ImportError:
        return False
    return shutil.which("pdftotext") is not None


needs_pdf = pytest.mark.skipif(not _have_pdf(), reason="the pdf extra (OCRmyPDF) or pdftotext is not installed")


def test_hocr_has_the_kept_lines_words_boxes_and_confidences_in_reading_order():
    doc = etree.fromstring(to_hocr(sample_page(), "memo-ocr test", "rus"))
    assert doc.get("lang") == "ru"
    page = doc.find(f".//{XHTML}div[@class='ocr_page']")
    assert page.get("title").startswith('image "p1.png"; bbox 0 0 500 700')
    lines = doc.findall(f".//{XHTML}span[@class='ocr_line']")
    assert ["".join(ln.itertext()).split() for ln in lines] == [["Реза", "Руста", "<script>&"], ["19.XII.55"]]
    words = doc.findall(f".//{XHTML}span[@class='ocrx_word']")
    assert words[0].get("title") == "bbox 10 10 60 30; x_wconf 90"
    assert "baseline" in lines[0].get("title")
    assert "~" not in "".join(doc.itertext())  # the rejected region stays out, as in the text and ALTO


def test_mets_lists_existing_files_per_group_in_page_order_and_validates(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    records = []
    for pid in ("b-0002", "a-0001"):
        (scans / f"{pid}.jpg").write_bytes(b"\xff\xd8")
        for suffix in (".page.xml", ".alto.xml", ".txt"):
            (out / f"{pid}{suffix}").write_text("x")
        records.append({"page_id": pid, "source": str(scans / f"{pid}.jpg"), "frame": None,
                        "outputs": [f"{pid}.page.xml", f"{pid}.alto.xml", f"{pid}.txt", f"{pid}.hocr"]})
    records.append({"page_id": "c-0003", "source": str(scans / "gone.jpg"), "frame": None, "outputs": []})  # failed
    data = to_mets(out, records, "memo-ocr test")
    assert validate(data) == []
    doc = etree.fromstring(data)
    groups = {g.get("USE"): [f.get("ID") for f in g] for g in doc.iter(f"{METS}fileGrp")}
    assert groups == {"OCR-D-IMG": ["OCR-D-IMG_a-0001", "OCR-D-IMG_b-0002"],
                      "OCR-D-OCR-PAGE": ["OCR-D-OCR-PAGE_a-0001", "OCR-D-OCR-PAGE_b-0002"],
                      "OCR-D-OCR-ALTO": ["OCR-D-OCR-ALTO_a-0001", "OCR-D-OCR-ALTO_b-0002"],
                      "OCR-D-OCR-TXT": ["OCR-D-OCR-TXT_a-0001", "OCR-D-OCR-TXT_b-0002"]}  # no .hocr on disk
    pages = doc.findall(f".//{METS}div[@TYPE='page']")
    assert [p.get("ORDERLABEL") for p in pages] == ["a-0001", "b-0002"]
    assert [f.get("FILEID") for f in pages[0]][0] == "OCR-D-IMG_a-0001"
    for loc in doc.iter(f"{METS}FLocat"):
        assert (out / loc.get(XLINK)).resolve().is_file()


@needs_tesseract
@needs_pdf
def test_run_with_every_format_writes_hocr_a_searchable_pdf_and_mets(tmp_path):
    scans = tmp_path / "reel"
    scans.mkdir()
    cv2.imwrite(str(scans / "memo-0001.jpg"), render_page(RUSSIAN_LINES[:4]), [cv2.IMWRITE_JPEG_QUALITY, 90])
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "ocr", "run", str(scans), "-o", str(out), "--lang", "rus",
                        "--formats", "page,alto,txt,hocr,pdf", "--workers", "1", "--no-progress"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} >= {"memo-0001.page.xml", "memo-0001.alto.xml", "memo-0001.txt",
                                              "memo-0001.hocr", "memo-0001.pdf", "mets.xml", "run.json"}
    from ocrmypdf.hocrtransform import HocrParser

    parsed = HocrParser(out / "memo-0001.hocr").parse()  # OCRmyPDF's own reader takes it
    assert parsed.bbox is not None
    text = subprocess.run(["pdftotext", "-layout", str(out / "memo-0001.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "секретарь" in text and "ознакомления" in text  # the Cyrillic text layer, searchable
    mets = out / "mets.xml"
    assert validate(mets) == []
    doc = etree.parse(str(mets))
    hrefs = [loc.get(XLINK) for loc in doc.iter(f"{METS}FLocat")]
    assert len(hrefs) == 6 and all((out / h).resolve().is_file() for h in hrefs)
    # --formats sets the formats for the run: without pdf, no pdf is written
    r = subprocess.run([sys.executable, "-m", "ocr", "run", str(scans), "-o", str(tmp_path / "o2"), "--lang", "rus",
                        "--formats", "txt", "--workers", "1", "--no-progress"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert {p.name for p in (tmp_path / "o2").iterdir() if p.name.startswith("memo")} == {"memo-0001.txt"}


def test_an_unknown_format_is_a_usage_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "ocr", "run", str(tmp_path), "-o", str(tmp_path / "o"),
                        "--formats", "page,docx"], capture_output=True, text=True)
    assert r.returncode == 2 and "docx" in r.stderr and "page, alto, txt, hocr, pdf" in r.stderr


def _geometry(xml) -> dict[str, int]:
    """Counts of what PAGE consumers stumble on: glyphs and words of no area, children outside their parent."""
    from ocr.model import bbox

    ns = {"p": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}

    def poly(e):
        return [tuple(map(int, p.split(","))) for p in e.find("p:Coords", ns).get("points").split()]

    def area(pts):
        return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True))) / 2

    def inside(a, b):
        return a[0] >= b[0] and a[1] >= b[1] and a[2] <= b[2] and a[3] <= b[3]

    n = dict.fromkeys(("flat", "outside", "glyphs"), 0)
    for r in etree.parse(str(xml)).iterfind(".//p:TextRegion", ns):
        rb = bbox(poly(r))
        for ln in r.iterfind("p:TextLine", ns):
            lb = bbox(poly(ln))
            n["outside"] += not inside(lb, rb)
            for w in ln.iterfind("p:Word", ns):
                wb = bbox(poly(w))
                n["flat"] += area(poly(w)) == 0
                n["outside"] += not inside(wb, lb)
                for g in w.iterfind("p:Glyph", ns):
                    n["glyphs"] += 1
                    n["flat"] += area(poly(g)) == 0
                    n["outside"] += not inside(bbox(poly(g)), wb)
    return n


@needs_tesseract
def test_page_of_a_real_page_with_handwriting_is_read_by_kraken_with_consistent_geometry(tmp_path):
    pytest.importorskip("kraken")
    from kraken.lib.xml import XMLPage

    from .conftest import ROOT

    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "ocr", "run", str(ROOT / "scans" / "reel-083" / "memo-0001.jpg"),
                        "-o", str(out), "--lang", "rus", "--workers", "1", "--no-progress"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    xml = out / "memo-0001.page.xml"
    page = XMLPage(xml)  # kraken's own PAGE reader
    assert len(page.lines) >= 15
    assert Path(page.imagename).resolve() == (ROOT / "scans" / "reel-083" / "memo-0001.jpg").resolve()
    n = _geometry(xml)
    assert n["glyphs"] > 20 and n["flat"] == 0 and n["outside"] == 0, n
