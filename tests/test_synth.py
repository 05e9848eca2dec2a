"""The synthetic reel: reproducible bytes, valid ground truth that matches the ink, true skew."""
import hashlib

import cv2
import numpy as np
import pytest
from lxml import etree

pytest.importorskip("pymorphy3")
pytest.importorskip("wordfreq")

from ocr.config import PreprocessConfig  # noqa: E402
from ocr.formats.readers import read_transcription  # noqa: E402
from ocr.formats.validate import validate  # noqa: E402
from ocr.preprocess import preprocess  # noqa: E402
from ocr.synth.content import SEED_LEGACY, generate_memo  # noqa: E402
from ocr.synth.reel import make_page, make_reel  # noqa: E402
from ocr.synth.scan import ScanSettings  # noqa: E402

NS = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}


@pytest.fixture(scope="module")
def generated():
    return make_page("memo-0002", 5, 1, ScanSettings(), False)


def test_same_seed_same_bytes_other_seed_other_page(generated):
    again = make_page("memo-0002", 5, 1, ScanSettings(), False)
    assert hashlib.sha256(again[0]).digest() == hashlib.sha256(generated[0]).digest()
    assert again[1] == generated[1]
    other = generate_memo(np.random.default_rng([6, 1]))
    assert other.paragraphs != generate_memo(np.random.default_rng([5, 1])).paragraphs


def test_ground_truth_is_valid_and_has_every_kind(generated, tmp_path):
    jpg, xml, legacy, facts = generated
    assert validate(xml) == []
    doc = etree.fromstring(xml)
    prods = {r.get("production") for r in doc.iterfind(".//pc:TextRegion", NS)}
    assert {"typewritten", "handwritten-cursive"} <= prods
    types = {r.get("type") for r in doc.iterfind(".//pc:TextRegion", NS)}
    assert "signature-mark" in types and "marginalia" in types
    p = tmp_path / "g.page.xml"
    p.write_bytes(xml)
    kinds = {ln.kind for ln in read_transcription(p)}
    assert {"typewritten", "handwritten"} <= kinds
    img = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_UNCHANGED)
    page = doc.find("pc:Page", NS)
    assert (int(page.get("imageWidth")), int(page.get("imageHeight"))) == (img.shape[1], img.shape[0])
    assert legacy is None and float(facts["skew_deg"]) == -float(page.get("orientation", "0"))


def test_seed_memo_content_and_legacy():
    jpg, xml, legacy, _ = make_page("memo-0001", 83, 0, ScanSettings(degrade=False), True)
    text = xml.decode()
    for must in ("Реза Руста", "(И. Виноградов)", "И. Виноградов", "13.I.56г.", "19.XII.55", "исполнено",
                 "к возврату", "№ 25-С-2461", "выехали в командировку"):
        assert must in text, must
    assert "Реаа" not in text and legacy == SEED_LEGACY and "Реаа Руста" in legacy
    assert 'type="stamp"' in text and "stamp-text" in text


def _mask(shape, polys):
    m = np.zeros(shape, np.uint8)
    for poly in polys:
        cv2.fillPoly(m, [np.array(poly, np.int32)], 1)
    return m.astype(bool)


def _polys(doc, xpath):
    out = []
    for c in doc.iterfind(xpath, NS):
        out.append([[int(v) for v in p.split(",")] for p in c.get("points").split()])
    return out


def test_clean_page_ink_lies_in_the_ground_truth_boxes():
    jpg, xml, _, _ = make_page("memo-0003", 9, 2, ScanSettings(degrade=False), False)
    img = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_GRAYSCALE)
    doc = etree.fromstring(xml)
    lines = _polys(doc, ".//pc:TextLine/pc:Coords")
    stamps = _polys(doc, ".//pc:GraphicRegion/pc:Coords")
    ink = img < 160
    for poly in lines:  # every line box holds rendered ink
        m = _mask(img.shape, [poly])
        assert (ink & m).sum() > 0.02 * m.sum(), poly
    covered = _mask(img.shape, lines + stamps)
    covered = cv2.dilate(covered.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    outside = (ink & ~covered).sum() / ink.sum()
    assert outside < 0.01, outside


def test_the_ground_truth_holds_only_the_words_written_on_the_page():
    """A note up the left margin is as wide as its lines are many and may run over the page's edge: the
    ground truth keeps the words whose middle is on the page, in a box cut down to them."""
    from ocr.synth.reel import _on_page
    from ocr.synth.render import GTLine, GTRegion, render_memo

    def box(x0, x1):
        return np.array([[x0, 1000], [x1, 1000], [x1, 1060], [x0, 1060]], float)

    line = GTLine("мимо дела", box(-203, 303), (("мимо", box(-200, -20)), ("дела", box(20, 300))))
    (cut,) = _on_page(GTRegion("r1", "handwritten", "marginalia", [line])).lines
    assert cut.text == "дела" and [w for w, _ in cut.words] == ["дела"]
    assert cut.poly[:, 0].min() == pytest.approx(17, abs=0.5) and cut.poly[:, 0].max() == pytest.approx(303, abs=0.5)
    assert cut.poly[:, 1].tolist() == [1000, 1000, 1060, 1060]
    gone = GTLine("мимо", box(-203, -17), (("мимо", box(-200, -20)),))
    assert _on_page(GTRegion("r2", "handwritten", "marginalia", [gone])).lines == []
    # seed 2, page 0: "т. Федоров" written up the margin with its middle off the page (drawn as placed)
    rng = np.random.default_rng([2, 0])
    note = next(r for r in render_memo(rng, generate_memo(rng)).regions if r.lines[0].text == "т. Федоров")
    assert [ln.text for ln in _on_page(note).lines] == ["Доложено", "20.VI.57г."]
    assert all(len(ln.words) == len(ln.text.split()) for ln in note.lines)
    xml = make_page("memo-0001", 2, 0, ScanSettings(), False)[1].decode()
    assert "Доложено" in xml and "т. Федоров" not in xml


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recorded_skew_matches_the_rendered_one(seed):
    jpg, xml, _, facts = make_page("memo-0004", seed, 3, ScanSettings(), False)
    img = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_GRAYSCALE)
    skew = float(facts["skew_deg"])
    pp = preprocess(img, PreprocessConfig())  # crops the microfilm frame, then measures
    assert pp.skew_measured == pytest.approx(skew, abs=0.25), pp.skew_note


def test_make_reel_writes_images_ground_truth_and_legacy(tmp_path):
    ids = make_reel(tmp_path / "scans", tmp_path / "gt", 2, 7, settings=ScanSettings(degrade=False))
    assert ids == ["memo-0001", "memo-0002"]
    assert (tmp_path / "scans" / "memo-0002.jpg").stat().st_size > 10000
    assert (tmp_path / "gt" / "memo-0001.legacy.txt").read_text(encoding="utf-8") == SEED_LEGACY
    assert validate(tmp_path / "gt" / "memo-0002.page.xml") == []


def test_real_handwriting_writes_the_notes_with_held_out_word_images(tmp_path):
    from ocr.errors import InputError
    from ocr.htr.data import split_of

    words = tmp_path / "words"
    words.mkdir()
    rows, test_texts = [], set()
    rng = np.random.default_rng(1)
    for i in range(120):
        img = np.full((40, 120), 215, np.uint8)
        cv2.putText(img, f"w{i}", (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, int(rng.integers(20, 80)), 2)
        cv2.imwrite(str(words / f"{i}.jpg"), img)
        rows.append(f"{i}.jpg\tслово{i}")
        if split_of(f"{i}.jpg") == "test":
            test_texts.add(f"слово{i}")
    (words / "gt.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert test_texts
    ids = make_reel(tmp_path / "img", tmp_path / "gt", 2, 77, with_seed_memo=False, real_handwriting=words)
    hand = [ln for i in ids for ln in read_transcription(tmp_path / "gt" / f"{i}.page.xml") if ln.kind == "handwritten"]
    real = [ln for ln in hand if ln.text.startswith("слово")]
    assert real  # the notes are written with the words ...
    assert all(w in test_texts for ln in real for w in ln.text.split())  # ... of the held-out part only
    assert any(not ln.text.startswith("слово") for ln in hand)  # signatures still from the fonts
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "gt.tsv").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="no word of the held-out test part"):
        make_reel(tmp_path / "img2", tmp_path / "gt2", 1, 77, with_seed_memo=False, real_handwriting=empty)


def test_worn_stamps_change_only_the_stamps_and_wear_them_as_asked():
    import dataclasses

    from ocr.synth import fonts
    from ocr.synth.content import Stamp, stamp_variety
    from ocr.synth.render import render_stamp

    plain = make_page("memo-0003", 40000, 2, ScanSettings(degrade=False), False)
    worn = make_page("memo-0003", 40000, 2, ScanSettings(degrade=False), False, stamps_worn=True)
    again = make_page("memo-0003", 40000, 2, ScanSettings(degrade=False), False, stamps_worn=True)
    assert worn[0] == again[0] and worn[0] != plain[0]  # seeded; the stamps differ
    def typed(xml):
        return [etree.tostring(r) for r in etree.fromstring(xml).iterfind(".//pc:TextRegion", NS)
                if r.get("production") == "typewritten"]
    assert typed(worn[1]) == typed(plain[1])  # the page is otherwise the same
    # each kind of wear, drawn from its own stream: some of 200 stamps have each
    worn_stamps = stamp_variety(np.random.default_rng(1), [Stamp("round", "ЦК КПСС", ["АРХИВ"])] * 200)
    assert sum(s.squeeze < 1 for s in worn_stamps) > 50 and sum(s.ink < 1 for s in worn_stamps) > 20
    assert sum(s.double != (0, 0) for s in worn_stamps) > 10 and sum(s.partial[0] > 0 for s in worn_stamps) > 20
    assert all(s.squeeze == 1 for s in stamp_variety(np.random.default_rng(1), [Stamp("rect", "", ["ЦК"])] * 50))
    font = str(fonts.require("stamp")[0])
    round_ = Stamp("round", "ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", ["АРХИВ", "№ 5734"])
    cov, boxes, outline = render_stamp(np.random.default_rng(2), round_, font)
    cov_o, boxes_o, outline_o = render_stamp(np.random.default_rng(2), dataclasses.replace(round_, squeeze=0.75), font)
    assert cov_o.shape[0] == cov.shape[0] and abs(cov_o.shape[1] - 0.75 * cov.shape[1]) <= 1  # an oval
    assert np.allclose(outline_o[:, 0], 0.75 * outline[:, 0]) and np.allclose(outline_o[:, 1], outline[:, 1])
    faint, _, _ = render_stamp(np.random.default_rng(2), dataclasses.replace(round_, ink=0.5), font)
    assert faint.sum() == pytest.approx(0.5 * cov.sum(), rel=1e-4)
    half, _, _ = render_stamp(np.random.default_rng(2), dataclasses.replace(round_, partial=(0.4, 0.0)), font)
    w = cov.shape[1]
    assert half[:, : w // 4].sum() < 0.02 * cov[:, : w // 4].sum()  # uninked from the left
    assert half[:, -w // 4:].sum() == pytest.approx(cov[:, -w // 4:].sum(), rel=1e-4)
    twice, _, _ = render_stamp(np.random.default_rng(2), dataclasses.replace(round_, double=(8, 5)), font)
    assert twice.sum() > cov.sum() and (twice >= cov - 1e-6).all()


def test_half_the_worn_rectangular_stamps_have_ruled_fields_drawn_between_their_lines():
    import dataclasses

    from ocr.synth import fonts
    from ocr.synth.content import Stamp, stamp_variety
    from ocr.synth.render import render_stamp

    rect = Stamp("rect", "", ["ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"])
    stamps = [rect, Stamp("round", "ЦК КПСС", ["АРХИВ"])] * 100
    worn = stamp_variety(np.random.default_rng(1), stamps)
    assert 30 < sum(s.ruled for s in worn) < 70 and not any(s.ruled for s in worn if s.shape == "round")
    # the ruling is drawn after the rest of the wear: every stamp's other wear is what the variety gave before
    # ruled fields were drawn (these values are its output for this seed), so older worn reels stay as they were
    six = stamp_variety(np.random.default_rng(1), stamps[:6])
    assert [v for s in six for v in (s.squeeze, s.ink, *s.double, *s.partial)] == pytest.approx([
        1.0, 1.0, 0, 0, 0.3897298894274488, 112.25932272377476,
        0.8489864668876795, 1.0, 0, 0, 0.35070262173496136, 193.73159275894017,
        1.0, 1.0, 0, 0, 0.0, 0.0, 0.7241275055044896, 1.0, 0, 0, 0.0, 0.0,
        1.0, 1.0, 0, 0, 0.0, 0.0, 1.0, 1.0, 0, 0, 0.0, 0.0])
    assert [s.ruled for s in six] == [True, False, True, False, False, False]
    font = str(fonts.require("stamp")[0])
    cov, boxes, _ = render_stamp(np.random.default_rng(2), dataclasses.replace(rect, ruled=True), font)
    rows = (cov > 0.1).mean(axis=1)
    for (_, above), (_, below) in zip(boxes, boxes[1:], strict=False):  # a rule between each two lines
        y0, y1 = int(above[:, 1].max()), int(below[:, 1].min())
        assert y1 > y0 and rows[y0:y1].max() > 0.8
    plain, _, _ = render_stamp(np.random.default_rng(2), rect, font)
    assert (plain > 0.1).mean(axis=1)[20:-20].max() < 0.8  # unruled: no rule inside the frame
