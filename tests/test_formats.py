import pytest

from ocr.errors import GroundTruthError
from ocr.formats.alto import to_alto
from ocr.formats.pagexml import to_pagexml
from ocr.formats.readers import index_folder, read_transcription
from ocr.formats.validate import validate
from ocr.model import Line, PageResult, Region, Word


def sample_page() -> PageResult:
    def line(lid, words, y):
        ws = tuple(Word(t, 0.9, ((10 + 60 * i, y), (60 + 60 * i, y), (60 + 60 * i, y + 20), (10 + 60 * i, y + 20)))
                   for i, t in enumerate(words))
        return Line(lid, " ".join(words), ((10, y), (400, y), (400, y + 20), (10, y + 20)),
                    ((10, y + 18), (400, y + 18)), 0.9, ws)

    typed = Region("r001", ((5, 5), (405, 5), (405, 60), (5, 60)),
                   (line("r001_l001", ["Реза", "Руста", "<script>&"], 10), line("r001_l002", ["19.XII.55"], 35)))
    junk = Region("x001", ((5, 100), (50, 100), (50, 120), (5, 120)), (line("x001_l001", ["~"], 100),),
                  production=None, kept=False, note="memo-ocr:rejected")
    return PageResult("p1", "p1.png", 500, 700, [typed, junk], border=(0, 0, 480, 690), orientation=-0.5,
                      steps=["deskew(+0.50)"], engines={"tesseract": "5.3.0"}, info={"scale": 1.0})


def test_pagexml_and_alto_validate_and_read_back(tmp_path):
    page = sample_page()
    px, al = to_pagexml(page, "memo-ocr test"), to_alto(page, "memo-ocr", "0")
    assert validate(px) == [] and validate(al) == []
    (tmp_path / "p1.page.xml").write_bytes(px)
    (tmp_path / "p1.alto.xml").write_bytes(al)
    lines = read_transcription(tmp_path / "p1.page.xml")
    assert [ln.text for ln in lines] == ["Реза Руста <script>&", "19.XII.55"]  # rejected region left out
    assert {ln.kind for ln in lines} == {"typewritten"}
    assert [ln.text for ln in read_transcription(tmp_path / "p1.alto.xml")] == ["Реза Руста <script>&", "19.XII.55"]
    assert b'production="typewritten"' in px and b'conf="0.900"' in px and b'type="other"' in px
    assert index_folder(tmp_path) == {"p1": tmp_path / "p1.page.xml"}


def test_alto_has_the_stamps_and_the_lines_set_aside_which_readers_leave_out_of_the_text(tmp_path):
    import dataclasses

    from ocr.model import Graphic

    page = dataclasses.replace(sample_page(), graphics=[Graphic("s001", ((300, 400), (420, 400), (420, 520), (300, 520)))])
    al = to_alto(page, "memo-ocr", "0")
    assert validate(al) == []
    assert b'<Illustration ID="a_s001" TYPE="stamp" HPOS="300" VPOS="400" WIDTH="120" HEIGHT="120"/>' in al
    assert b'LABEL="rejected"' in al and b'TAGREFS="BT_rejected"' in al and b'CONTENT="~"' in al
    (tmp_path / "p1.alto.xml").write_bytes(al)
    assert "~" not in " ".join(ln.text for ln in read_transcription(tmp_path / "p1.alto.xml"))


def test_validate_reports_errors():
    bad = sample_page()
    xml = to_pagexml(bad, "t").replace(b'production="typewritten"', b'production="typed"')
    errors = validate(xml)
    assert errors and "production" in errors[0]
    assert validate(b"<x>")[0].startswith("not well-formed")
    assert "unknown root element" in validate(b"<x/>")[0]


@pytest.mark.parametrize("content,message", [
    (b"", "empty file"), (b"<PcGts><Page>", "malformed XML"), (b"<html/>", "neither PAGE XML nor ALTO"),
])
def test_malformed_ground_truth(tmp_path, content, message):
    p = tmp_path / "g.xml"
    p.write_bytes(content)
    with pytest.raises(GroundTruthError, match=message):
        read_transcription(p)


def test_text_ground_truth_bom_and_bad_encoding(tmp_path):
    p = tmp_path / "g.gt.txt"
    p.write_bytes("\ufeffстрока один\nстрока два\n".encode())
    assert [ln.text for ln in read_transcription(p)] == ["строка один", "строка два"]
    p.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(GroundTruthError, match="not UTF-8"):
        read_transcription(p)
    with pytest.raises(GroundTruthError, match="cannot read"):
        read_transcription(tmp_path / "missing.txt")


def test_a_child_sticking_out_of_its_slanted_parent_is_clipped_to_it_with_four_points_at_least():
    from shapely.geometry import Polygon

    from ocr.formats.pagexml import _inside

    line = ((0, 10), (100, 0), (100, 20), (0, 30))  # a slanted handwriting line
    word = ((0, 0), (40, 0), (40, 30), (0, 30))  # its first word's upright rectangle: corners outside
    clipped = _inside(word, line)
    assert Polygon(clipped).within(Polygon(line).buffer(1.5)) and len(clipped) >= 4
    assert Polygon(clipped).area == pytest.approx(Polygon(word).intersection(Polygon(line)).area, rel=0.05)
    assert _inside(((10, 12), (20, 12), (20, 20), (10, 20)), line) == ((10, 12), (20, 12), (20, 20), (10, 20))
    corner = _inside(((90, -5), (110, -5), (110, 5), (90, 5)), line)  # only a triangle of it is inside
    assert len(corner) == 4 and Polygon(corner).within(Polygon(line).buffer(1.5)) and Polygon(corner).area > 0
    assert _inside(((200, 200), (210, 200), (210, 210), (200, 210)), line) == ((200, 200), (210, 200), (210, 210),
                                                                               (200, 210))  # nothing inside: as it was


def test_the_text_file_marks_each_line_of_stamp_text_and_reads_it_back_as_stamp_text(tmp_path):
    import dataclasses

    from ocr.model import STAMP_MARKER, STAMP_TEXT

    stamp = Region("s001_t", ((300, 400), (420, 400), (420, 520), (300, 520)),
                   (Line("s001_t_l001", "ЦК КПСС", ((300, 400), (420, 400), (420, 430), (300, 430)), (), 0.8),
                    Line("s001_t_l002", "17 XII 1955", ((300, 440), (420, 440), (420, 470), (300, 470)), (), 0.8)),
                   production="printed", type="other", note=STAMP_TEXT + " stamp {date:1955-12-17;}")
    page = dataclasses.replace(sample_page(), regions=sample_page().regions + [stamp])
    assert page.text() == "Реза Руста <script>&\n19.XII.55\nЦК КПСС\n17 XII 1955"  # unmarked: as before
    text = page.text(STAMP_MARKER)
    assert text.splitlines() == ["Реза Руста <script>&", "19.XII.55", "[stamp] ЦК КПСС", "[stamp] 17 XII 1955"]
    (tmp_path / "p1.txt").write_text(text + "\n", encoding="utf-8")
    lines = read_transcription(tmp_path / "p1.txt")
    assert [(ln.text, ln.kind) for ln in lines] == [("Реза Руста <script>&", "unknown"), ("19.XII.55", "unknown"),
                                                    ("ЦК КПСС", "stamp"), ("17 XII 1955", "stamp")]


def test_alto_types_a_stamps_text_as_stamp_text_and_reads_it_back_so(tmp_path):
    import dataclasses

    from ocr.model import STAMP_TEXT, Graphic

    stamp = Region("s001_t", ((300, 400), (420, 400), (420, 520), (300, 520)),
                   (Line("s001_t_l001", "ЦК КПСС", ((300, 400), (420, 400), (420, 430), (300, 430)), (), 0.8),),
                   production="printed", type="other", note=STAMP_TEXT)
    page = dataclasses.replace(sample_page(), regions=sample_page().regions + [stamp],
                               graphics=[Graphic("s001", stamp.polygon)])
    al = to_alto(page, "memo-ocr", "0")
    assert validate(al) == []
    assert b'LABEL="printed:stamp-text"' in al and b'<Illustration ID="a_s001" TYPE="stamp"' in al
    (tmp_path / "p1.alto.xml").write_bytes(al)
    kinds = {ln.text: ln.kind for ln in read_transcription(tmp_path / "p1.alto.xml")}
    assert kinds == {"Реза Руста <script>&": "typewritten", "19.XII.55": "typewritten", "ЦК КПСС": "stamp"}
