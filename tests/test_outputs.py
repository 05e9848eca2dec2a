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
    """Counts of what PAGE consumers stumble on: glyphs and words of no area, children outside their parent's
    polygon (OCR-D's rule: within it, give or take 1.5 pixels)."""
    from shapely.geometry import Polygon

    ns = {"p": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}

    def poly(e):
        return Polygon([tuple(map(int, p.split(","))) for p in e.find("p:Coords", ns).get("points").split()])

    n = dict.fromkeys(("flat", "outside", "glyphs"), 0)
    for r in etree.parse(str(xml)).iterfind(".//p:TextRegion", ns):
        rp = poly(r).buffer(1.5)
        for ln in r.iterfind("p:TextLine", ns):
            lp = poly(ln)
            n["outside"] += not lp.within(rp)
            for w in ln.iterfind("p:Word", ns):
                wp = poly(w)
                n["flat"] += wp.area == 0
                n["outside"] += not wp.within(lp.buffer(1.5))
                for g in w.iterfind("p:Glyph", ns):
                    n["glyphs"] += 1
                    n["flat"] += poly(g).area == 0
                    n["outside"] += not poly(g).within(wp.buffer(1.5))
    return n


@pytest.fixture(scope="module")
def real_run(tmp_path_factory) -> Path:
    """A demo page with handwriting and stamps, run once for the readers below."""
    from .conftest import ROOT, have_tesseract

    if not have_tesseract("rus"):
        pytest.skip("tesseract with rus not installed")
    out = tmp_path_factory.mktemp("real") / "out"
    r = subprocess.run([sys.executable, "-m", "ocr", "run", str(ROOT / "scans" / "reel-083" / "memo-0001.jpg"),
                        "-o", str(out), "--lang", "rus", "--workers", "1", "--no-progress",
                        "--formats", "page,alto,txt,hocr"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def test_page_of_a_real_page_with_handwriting_is_read_by_kraken_with_consistent_geometry(real_run):
    pytest.importorskip("kraken")
    from kraken.lib.xml import XMLPage

    from .conftest import ROOT

    xml = real_run / "memo-0001.page.xml"
    page = XMLPage(xml)  # kraken's own PAGE reader
    assert len(page.lines) >= 15
    assert Path(page.imagename).resolve() == (ROOT / "scans" / "reel-083" / "memo-0001.jpg").resolve()
    n = _geometry(xml)
    assert n["glyphs"] > 20 and n["flat"] == 0 and n["outside"] == 0, n


# OCR-D's packages pin pydantic 1: .ci/run installs them in a virtual environment of their own
OCRD = Path(__file__).resolve().parent.parent / ".venv-ocrd" / "bin" / "python"
OCRD_CHECK = r"""
import json, os, sys
from ocrd_models import OcrdMets
from ocrd_validators import PageValidator

out = sys.argv[1]
pages = {}
for name in sorted(os.listdir(out)):
    if name.endswith(".page.xml"):
        rep = PageValidator.validate(filename=os.path.join(out, name), page_textequiv_consistency="strict",
                                     page_textequiv_strategy="first", check_coords=True, check_baseline=True)
        pages[name] = [str(e) for e in rep.errors]
mets = OcrdMets(filename=os.path.join(out, "mets.xml"))
groups = {g: [(f.pageId, f.mimetype, os.path.isfile(os.path.join(out, f.local_filename)))
              for f in mets.find_files(fileGrp=g)] for g in mets.file_groups}
print(json.dumps({"pages": pages, "groups": groups, "physical": mets.physical_pages}))
"""


@pytest.mark.skipif(not OCRD.is_file(), reason="OCR-D's validator not installed (.venv-ocrd; .ci/run makes it)")
def test_ocrd_validates_the_page_files_strictly_and_reads_the_mets(real_run):
    """OCR-D's own PageValidator: text of words, lines and regions consistent (strict), every polygon valid
    with four points at least, every child and baseline within its parent; OcrdMets finds every file."""
    import json

    r = subprocess.run([str(OCRD), "-c", OCRD_CHECK, str(real_run)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout)
    assert got["pages"] == {"memo-0001.page.xml": []}, got["pages"]
    assert set(got["groups"]) >= {"OCR-D-IMG", "OCR-D-OCR-PAGE", "OCR-D-OCR-ALTO", "OCR-D-OCR-HOCR", "OCR-D-OCR-TXT"}
    for group, files in got["groups"].items():
        assert [pid for pid, _, _ in files] == ["PHYS_memo-0001"], group
        assert all(there for _, _, there in files), group
    assert got["physical"] == ["PHYS_memo-0001"]
