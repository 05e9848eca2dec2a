"""Layout: candidate regions, the tree-ensemble classifier, routing, paragraphs, and a synthetic page end to end."""
from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest

from ocr.config import Config
from ocr.engines import get_engine
from ocr.engines.base import NullEngine
from ocr.errors import EngineError
from ocr.layout.candidates import FEATURES, Candidate, candidates
from ocr.layout.classifier import KINDS, TreeEnsemble, classify, export_sklearn, load_model
from ocr.layout.handwriting import rotate, upright_angle, written_noise
from ocr.layout.note_lines import line_bands, note_lines, side_by_side
from ocr.layout.rings import (
    MIN_RING_PERIMETER,
    _outer_ring,
    find_circles,
    find_frames,
    find_sided_frames,
    refine_ring,
    ring_perimeter,
)
from ocr.layout.signatures import _beside, join_note_lines
from ocr.layout.stamps import FINER_HAND, noise_parts, resolve_finer, suppress
from ocr.layout.typed_or_hand import hidden_by_handwriting, lone_lines, off_pitch_lines, typed_boxes, unsure_text
from ocr.model import Line, Region, Word, bbox
from ocr.train.layout import cover, iou, match, read_gt_layout
from ocr.typed.paragraphs import line_pitch, paragraphs

from .conftest import needs_tesseract


def test_tree_ensemble_json_reproduces_sklearn():
    sklearn = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, len(FEATURES))).astype(np.float32)
    y = np.where(X[:, 0] + X[:, 3] > 0.5, "stamp", np.where(X[:, 1] > 0, "handwritten", "noise"))
    clf = sklearn.RandomForestClassifier(n_estimators=7, max_depth=5, random_state=0).fit(X, y)
    spec = json.loads(json.dumps(export_sklearn(clf, FEATURES, {})))
    model = TreeEnsemble(spec)
    np.testing.assert_allclose(model.predict_proba(X[:50]), clf.predict_proba(X[:50]), atol=1e-4)


def test_layout_model_errors_name_the_file(tmp_path):
    with pytest.raises(EngineError, match="missing.json: layout model file not found"):
        load_model(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(EngineError, match="bad.json: not a memo-ocr layout model"):
        load_model(str(bad))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"kind": "forest", "classes": ["noise"], "features": ["w"], "trees": []}))
    with pytest.raises(EngineError, match="trained on other features"):
        load_model(str(other))


def test_bundled_layout_model_loads():
    model = load_model(None)
    assert set(model.classes) == set(KINDS) and len(model.trees) > 0


def test_a_long_word_of_the_language_read_unsurely_still_hides_its_ink():
    pytest.importorskip("wordfreq")

    def word(text, conf, x):
        return Word(text, conf, ((x, 100), (x + 300, 100), (x + 300, 140), (x, 140)))

    words = (word("исследовательской", 0.34, 100),  # a signature written across it: a real word, unsure
             word("Виноград", 0.0, 500),  # a signature read as a word at 0.0: its ink is the signature's
             word("монете.", 0.3, 900),  # a word of the language, but short
             word("Аурмецей", 0.4, 1300),  # no word
             word("Отдела", 0.9, 1700))  # read surely
    line = Line("l1", "", ((100, 100), (2000, 100), (2000, 140), (100, 140)), (), 0.7, words)
    boxes, lines = typed_boxes([line], "rus")
    assert boxes == [(100, 100, 400, 140), (1700, 100, 2000, 140)] and lines == [(100, 100, 2000, 140)]
    assert typed_boxes([line], "") == ([(1700, 100, 2000, 140)], lines)  # no word list: by confidence


def test_a_page_number_in_a_handwriting_region_stays_typed_text():
    def line(text, x0, y0, x1, y1):
        return Line("l1", text, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), (), 0.9, ())

    size = (2000, 3000)
    hand = [((800, 50, 1300, 260), ())]  # a note written about the page number
    assert not hidden_by_handwriting(line("- 3 -", 950, 100, 1050, 140), hand, size)
    assert hidden_by_handwriting(line("tho", 950, 100, 1050, 140), hand, size)  # other text goes
    # a number in the middle of the page is no page number
    assert hidden_by_handwriting(line("- 3 -", 950, 1500, 1050, 1540), [((800, 1450, 1300, 1600), ())], size)
    assert not hidden_by_handwriting(line("text", 100, 1500, 700, 1540), hand, size)  # outside it
    # a note joined of two lines: a typed line between them, inside the note's outline, read surely, stays
    # typed text; read unsurely, or across both parts of a line of the note (its words found apart), it is
    # the note's
    note = [((100, 100, 700, 300), ((100, 100, 700, 160), (100, 240, 700, 300)))]
    assert not hidden_by_handwriting(line("text", 120, 180, 680, 220), note, size)
    assert hidden_by_handwriting(dataclasses.replace(line("text", 120, 180, 680, 220), conf=0.1), note, size)
    apart = [((100, 100, 900, 160), ((100, 100, 620, 160), (600, 100, 900, 160)))]
    assert hidden_by_handwriting(line("tho", 300, 110, 900, 150), apart, size)
    # a line read unsurely whose ink is a hand's (its ink shown to the layout stage) is the note's with more than
    # a fifth of it inside the note's outline; another line, or less of it inside, stays typed text
    garbage = line("722 ие,", 500, 270, 1100, 310)  # a quarter of it inside the note's box
    assert not hidden_by_handwriting(garbage, note, size)
    assert hidden_by_handwriting(garbage, note, size, inked=True)
    assert not hidden_by_handwriting(line("722 ие,", 650, 270, 1250, 310), note, size, inked=True)  # a sixteenth


def test_a_heading_read_surely_stays_typed_where_handwriting_is_not_read():
    def line(*words):
        ws = tuple(Word(t, c, ((100 + 300 * i, 100), (380 + 300 * i, 100), (380 + 300 * i, 140), (100 + 300 * i, 140)))
                   for i, (t, c) in enumerate(words))
        return Line("l1", " ".join(t for t, _ in words), ((100, 100), (1000, 100), (1000, 140), (100, 140)), (),
                    0.7, ws)

    size = (2000, 3000)
    hand = [((80, 80, 1100, 160), ((80, 80, 1100, 160),))]  # an underlined heading taken for a note
    heading = line(("REMISE", 0.96), ("DES", 0.91), ("REFCOMPFNSES:", 0.0))
    assert hidden_by_handwriting(heading, hand, size)  # the note's reading replaces it
    assert not hidden_by_handwriting(heading, hand, size, unread_lang="fra")  # nothing replaces it: it stays
    # a line of no word of the language, or words read unsurely, is still the note's
    assert hidden_by_handwriting(line(("WOIAS-210", 0.9), ("(s)", 0.9)), hand, size, unread_lang="fra")
    assert hidden_by_handwriting(line(("REMISE", 0.3), ("DES", 0.3)), hand, size, unread_lang="fra")


def test_box_overlap_measures():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert cover((0, 0, 10, 10), (5, 0, 100, 100)) == 0.5
    assert match([(0, 0, 10, 10), (20, 20, 30, 30)], [(1, 1, 10, 10), (50, 50, 60, 60)]) == (1, 2, 2)


def _text_mask(lines=3, angle=0.0):
    img = np.zeros((200, 420), np.uint8)
    for i in range(lines):
        cv2.putText(img, "memo text here", (10, 50 + 55 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 1, 3)
    if angle:
        img, _ = rotate(img, angle, 0)
    return img


@pytest.mark.parametrize("angle", [0.0, 8.0, 90.0, -84.0])
def test_upright_angle_undoes_a_rotation(angle):
    found = upright_angle(_text_mask(angle=angle))
    diff = (found + angle + 180) % 360 - 180  # rotating back by ``found`` must cancel ``angle`` (or turn it 180)
    assert min(abs(diff), abs(abs(diff) - 180)) <= 2.5


def test_ink_wider_than_tall_of_strongly_slanted_strokes_is_read_across():
    m = np.zeros((130, 420), np.uint8)
    for row, y in enumerate((10, 70)):  # two rows of long, strongly slanted strokes (a bold slanted hand)
        for x in range(20 + 10 * row, 380, 22):
            cv2.line(m, (x, y + 50), (x + 14, y), 1, 4)
    assert abs(upright_angle(m)) < 45  # the profile turned upright is sharper, but it is two lines
    # (text up a margin, taller than wide, is still turned upright: test_upright_angle_undoes_a_rotation)


def test_line_bands_split_lines():
    bands = line_bands(_text_mask(lines=3), min_h=10)
    assert len(bands) == 3
    assert all(b[1] < c[1] for b, c in zip(bands, bands[1:], strict=False))


def _line(i, x0, y0, text="слово"):
    return Line(f"l{i}", text, ((x0, y0), (x0 + 900, y0), (x0 + 900, y0 + 30), (x0, y0 + 30)), (), 0.9)


def test_paragraphs_split_at_indents_and_gaps_not_at_centred_headings():
    lines = [_line(0, 600, 100), _line(1, 500, 150),  # a centred heading of two lines
             _line(2, 330, 260), _line(3, 200, 310), _line(4, 200, 360),  # indented first line, then two
             _line(5, 330, 410), _line(6, 200, 460),  # next paragraph: indented, no extra gap
             _line(7, 200, 620)]  # after a wide gap
    regions = [Region("r1", (), tuple(lines))]
    out = paragraphs(regions, xheight=20)
    assert [[ln.text and int(ln.id.split("_l")[1]) for ln in r.lines] for r in out] == [[1, 2], [1, 2, 3], [1, 2], [1]]
    assert all(r.production == "typewritten" for r in out)


def test_a_typed_line_is_cut_where_its_words_stand_far_apart_and_no_word_is_lost():
    """A signature block typed on one row, the title at the left and the name at the right with a signature
    between: two lines of one paragraph, read left to right (and whatever Tesseract read of the signature
    a third); word gaps and a tab of a few letters stay one line."""
    from ocr.model import Word
    from ocr.typed.paragraphs import GAP_HEIGHTS, split_at_gaps

    def w(t, x0, x1, h=40, conf=0.9):
        return Word(t, conf, ((x0, 100), (x1, 100), (x1, 100 + h), (x0, 100 + h)))

    row = (w("Зав.", 300, 400), w("Отделом", 420, 640), w("ЦК", 660, 720), w("КПСС", 740, 900),
           w("Я,", 1600, 1610, 4, 0.1), w("(Т.", 1930, 2000), w("Попов)", 2045, 2215))
    line = Line("r1_l001", " ".join(x.text for x in row), ((300, 100), (2215, 100), (2215, 140), (300, 140)),
                ((300, 140), (2215, 140)), 0.8, row)
    pieces = split_at_gaps(line)
    assert [ln.text for ln in pieces] == ["Зав. Отделом ЦК КПСС", "Я,", "(Т. Попов)"]
    assert [x for ln in pieces for x in ln.words] == list(row)
    assert pieces[0].polygon == ((300, 100), (900, 100), (900, 140), (300, 140)) and abs(pieces[1].conf - 0.1) < 1e-9
    out = paragraphs([Region("r1", (), (line,))], xheight=20)
    assert [[ln.text for ln in r.lines] for r in out] == [["Зав. Отделом ЦК КПСС", "Я,", "(Т. Попов)"]]
    tab = (w("Москва", 300, 500), w("12", 500 + int(GAP_HEIGHTS * 40) - 10, 560 + int(GAP_HEIGHTS * 40)))
    one = Line("l", "Москва 12", (), (), 0.9, tab)
    assert split_at_gaps(one) == [one] and split_at_gaps(_line(9, 0, 0)) == [_line(9, 0, 0)]


def test_paragraphs_end_a_centred_heading_at_the_text_under_it_at_line_pitch():
    def span(i, x0, x1, y0):
        return Line(f"l{i}", "слово", ((x0, y0), (x1, y0), (x1, y0 + 30), (x0, y0 + 30)), (), 0.9)

    # the heading's first line is wide (inset less than a heading's), its second centred; the paragraph
    # under it comes at the line pitch, with no wider gap, and is indented
    lines = [span(0, 300, 1000, 100), span(1, 500, 800, 150),
             span(2, 330, 1100, 200), span(3, 200, 1100, 250), span(4, 200, 1100, 300), span(5, 200, 700, 350)]
    out = paragraphs([Region("r1", (), tuple(lines))], xheight=20)
    assert [[ln.polygon[0][0] for ln in r.lines] for r in out] == [[300, 500], [330, 200, 200, 200]]
    # a body line whose first word Tesseract lost stands in from both margins too, but not equally
    # (the row above it in two pieces, the right one lower: a skewed line Tesseract cut)
    body = [span(0, 200, 2100, 100), span(1, 200, 1000, 150), span(2, 1050, 2100, 155), span(3, 380, 1780, 200),
            span(4, 200, 600, 250)]
    assert len(paragraphs([Region("r1", (), tuple(body))], xheight=20)) == 1


def test_paragraphs_keep_a_short_indented_line_under_a_short_line():
    def span(i, x0, x1, y0):
        return Line(f"l{i}", "слово", ((x0, y0), (x1, y0), (x1, y0 + 30), (x0, y0 + 30)), (), 0.9)

    body = [span(i, 200, 1100, 100 + 50 * i) for i in range(4)]
    # a paragraph's short last line, then the next one's indented first line, cut in two pieces by
    # Tesseract (its row reaches the margin: a new paragraph); then a date and its document number,
    # whose "№" Tesseract did not read, so that it starts right of the date (one block)
    lines = body + [span(4, 200, 600, 300), span(5, 330, 520, 350), span(6, 540, 1100, 350),
                    span(7, 200, 1100, 400), span(8, 200, 560, 600), span(9, 400, 530, 650)]
    out = paragraphs([Region("r1", (), tuple(lines))], xheight=20)
    assert [[ln.polygon[0][1] for ln in r.lines] for r in out] == [[100, 150, 200, 250, 300], [350, 350, 400],
                                                                   [600, 650]]


def test_paragraphs_read_the_pieces_of_one_row_left_to_right():
    def piece(i, x0, y0, text):
        return Line(f"l{i}", text, ((x0, y0), (x0 + 400, y0), (x0 + 400, y0 + 30), (x0, y0 + 30)), (), 0.9)

    # a typed line cut in two by a stamp, its right piece two pixels higher, then the next line
    lines = [piece(0, 800, 298, "вопросы о национальной"), piece(1, 200, 300, "В ходе беседы были за"),
             piece(2, 200, 350, "последовательности")]
    out = paragraphs([Region("r1", (), tuple(lines))], xheight=15)
    assert [ln.text for r in out for ln in r.lines] == ["В ходе беседы были за", "вопросы о национальной",
                                                         "последовательности"]


def test_paragraphs_measure_the_line_pitch_where_most_gaps_are_paragraph_gaps():
    def span(y0):
        return Line(f"l{y0}", "слово", ((200, y0), (1100, y0), (1100, y0 + 30), (200, y0 + 30)), (), 0.9)

    # a signature block: a two-line paragraph, then lines a blank line apart (title, name, date), then a
    # date and its number: more of the distances are paragraph gaps than line pitches
    lines = [span(y) for y in (100, 150, 230, 310, 390, 440)]
    out = paragraphs([Region("r1", (), tuple(lines))], xheight=15)
    assert [[ln.polygon[0][1] for ln in r.lines] for r in out] == [[100, 150], [230], [310], [390, 440]]


def test_the_line_pitch_is_measured_between_lines_one_under_the_other_not_between_pieces_of_a_row():
    # seed 23000 memo-0010, a page left slanted (its deskew refused): Tesseract cut its rows in pieces,
    # a fraction of a pitch apart side by side; the pitch had come out at 39 px, every row a paragraph
    boxes = [(1023, 478, 1528, 515), (475, 626, 2118, 669), (1182, 723, 2172, 757), (392, 770, 1134, 804),
             (332, 789, 386, 821), (996, 826, 2188, 862), (334, 870, 991, 900), (340, 981, 565, 1020),
             (494, 1085, 1988, 1121), (440, 1183, 2045, 1216), (350, 1222, 431, 1256), (1071, 1266, 1908, 1309),
             (353, 1300, 1068, 1332), (359, 1406, 676, 1447)]
    assert 75 <= line_pitch(boxes, 35.0) <= 115  # the rows lie 100-110 px apart
    assert line_pitch([(200, 100 + 50 * i, 1100, 130 + 50 * i) for i in range(5)], 30.0) == 50.0
    assert line_pitch([(200, 100, 600, 130), (700, 100, 1100, 130)], 30.0) == 60.0  # one row: 2 h


def test_paragraphs_place_a_line_by_its_words_not_by_an_upright_box_around_a_slanted_row():
    def span(y0, words=()):
        return Line(f"l{y0}", "слово", ((200, y0), (1100, y0), (1100, y0 + 30), (200, y0 + 30)), (), 0.9, words)

    # a line read from a crop of the unrotated page (typed_rescue): its box reaches 40 px above and below
    # its words; by the box it joined the paragraph above and left the one it begins
    words = tuple(Word("слово", 0.9, ((x, 270), (x + 150, 270), (x + 150, 300), (x, 300))) for x in range(200, 1100, 200))
    rescued = Line("rescued", "слово", ((200, 230), (1100, 230), (1100, 340), (200, 340)), (), 0.9, words)
    lines = [span(100), span(150), span(200), rescued, span(320), span(370)]
    out = paragraphs([Region("r1", (), tuple(lines))], xheight=15)
    assert [len(r.lines) for r in out] == [3, 3] and out[1].lines[0].words == words


def test_paragraphs_place_a_line_by_its_words_middle_not_by_a_tall_word_in_it():
    def words(y0, tall=False):
        out = [Word("слово", 0.9, ((x, y0), (x + 150, y0), (x + 150, y0 + 30), (x, y0 + 30))) for x in range(300, 1100, 200)]
        if tall:  # a signature's stroke read as a word, 2.5 lines tall, reaching up into the line above
            out.append(Word("Я", 0.8, ((1100, y0 - 45), (1140, y0 - 45), (1140, y0 + 30), (1100, y0 + 30))))
        return tuple(out)

    lines = [Line(f"l{i}", "слово", (), (), 0.9, words(y, tall=i == 2)) for i, y in enumerate((100, 150, 200, 250))]
    lines = [dataclasses.replace(ln, polygon=tuple(p for w in ln.words for p in w.polygon)) for ln in lines]
    out = paragraphs([Region("r1", (), tuple(lines))], xheight=15)
    assert [[ln.words[0].polygon[0][1] for ln in r.lines] for r in out] == [[100, 150, 200, 250]]


@needs_tesseract
def test_synthetic_page_gets_stamps_and_handwriting_routed(tmp_path):
    pytest.importorskip("pymorphy3")
    from ocr.engines import get_engine
    from ocr.formats.pagexml import to_pagexml
    from ocr.formats.validate import validate
    from ocr.loader import PageRef
    from ocr.page import recognize_page, write_outputs
    from ocr.synth.reel import make_page
    from ocr.synth.scan import ScanSettings

    jpg, gt_xml, _, _ = make_page("p", 4242, 0, ScanSettings(), False)  # a seed no training reel used
    (tmp_path / "p.jpg").write_bytes(jpg)
    (tmp_path / "p.gt.xml").write_bytes(gt_xml)
    cfg = Config().replace("layout", debug_image=True)  # handwriting read with the committed kraken model
    page = recognize_page(PageRef("p", tmp_path / "p.jpg"), cfg, get_engine("tesseract", cfg))
    assert "kraken" in page.engines
    xml = to_pagexml(page, "test")
    assert validate(xml) == []
    hand = [r for r in page.regions if r.production == "handwritten-cursive"]
    glyphs = [g for r in hand for ln in r.lines for w in ln.words for g in w.glyphs]
    assert glyphs and all(0 <= g.conf <= 1 for g in glyphs)
    assert b"<Glyph" in xml
    (tmp_path / "p.page.xml").write_bytes(xml)
    gt, got = read_gt_layout(tmp_path / "p.gt.xml"), read_gt_layout(tmp_path / "p.page.xml")
    assert match(got.stamp, gt.stamp)[0] >= 1
    assert match(got.handwritten, gt.handwritten)[0] >= 1
    assert match(got.typed, gt.typed)[0] >= len(gt.typed) - 2
    kinds = [r.production for r in page.regions if r.kept]
    first_hand = kinds.index("handwritten-cursive")
    assert all(k == "typewritten" for k in kinds[:first_hand])  # typed body first, then annotations
    assert "typewritten" not in kinds[first_hand:]
    written = write_outputs(page, tmp_path, cfg)
    assert "p.layout.jpg" in written and cv2.imread(str(tmp_path / "p.layout.jpg")) is not None


def test_a_stamp_ring_is_found_and_scores_as_a_ring_and_dense_text_does_not():
    page = np.zeros((700, 900), np.uint8)
    for i in range(12):  # dense "typed" rows
        cv2.putText(page, "ooooo ooooo ooooo oooo", (20, 40 + 50 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1, 2)
    cv2.circle(page, (620, 380), 110, 1, 4)  # a stamp ring over the text
    found = find_circles(page, page.shape[1])
    near = [c for c in found if abs(c[0] - 620) < 12 and abs(c[1] - 380) < 12 and abs(c[2] - 110) < 12]
    assert near, found
    assert ring_perimeter(page, near[0]) >= MIN_RING_PERIMETER
    text_only = page.copy()
    cv2.circle(text_only, (620, 380), 110, 0, 6)
    assert ring_perimeter(text_only, (260.0, 300.0, 110.0)) < MIN_RING_PERIMETER


def test_the_ring_search_takes_a_worn_ring_at_any_resolution_and_no_circle_in_dense_letters():
    rng = np.random.default_rng(3)
    for scale in (1.0, 0.4):  # a 300 ppi half-resolution page, and one scanned at 120 ppi
        w, h = int(1260 * scale), int(1750 * scale)
        page = np.zeros((h, w), np.uint8)
        rows = 60 if scale == 1.0 else 12  # dense rows of round letters (at 120 ppi, above the stamp only)
        for i in range(rows):
            y = int((60 + 26 * i) * scale)
            for x in range(int(40 * scale), w - int(40 * scale), max(6, int(16 * scale))):
                cv2.circle(page, (x, y), max(2, int(6 * scale)), 1, 1)
        r, cx, cy = int(95 * scale), int(900 * scale), int(1200 * scale)
        ring = np.zeros_like(page)
        cv2.circle(ring, (cx, cy), r, 1, max(2, int(5 * scale)))
        worn = ring & (rng.random(ring.shape) < 0.75)  # unevenly inked
        worn[:, :cx - int(0.6 * r)] = 0  # a fifth of the ring left uninked
        found = find_circles(page | worn, w)
        assert any(abs(c[0] - cx) < 0.15 * r and abs(c[1] - cy) < 0.15 * r for c in found), (scale, found)
        if scale == 1.0:  # no proposal in the letters
            assert all(abs(c[0] - cx) < r and abs(c[1] - cy) < r for c in found), found


def test_a_rectangular_stamp_frame_is_found():
    ink = np.zeros((1200, 1000), np.uint8)
    cv2.rectangle(ink, (100, 100), (400, 260), 1, 4)
    cv2.putText(ink, "CK 1955", (130, 200), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 1, 3)
    boxes = find_frames(ink, ink.shape[1], ink.shape[0])
    assert any(abs(b[0] - 100) < 6 and abs(b[2] - 401) < 6 for b in boxes), boxes


def _frame(ink: np.ndarray, corners: list[tuple[int, int]], thickness: int = 4) -> None:
    for p, q in zip(corners, corners[1:] + corners[:1], strict=True):
        cv2.line(ink, p, q, 1, thickness)


def test_a_frame_broken_at_a_corner_and_crossed_by_a_note_is_found_by_its_sides():
    ink = np.zeros((1200, 1000), np.uint8)
    turned = [(120, 130), (410, 80), (438, 240), (148, 290)]  # turned by 10 degrees
    _frame(ink, turned)
    cv2.putText(ink, "CK 1955", (170, 220), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 1, 3)
    ink[110:150, 100:160] = 0  # its top left corner not inked
    pts = np.array([[380, 60], [420, 150], [470, 90], [520, 170], [560, 110]], np.int32)
    cv2.polylines(ink, [pts], False, 1, 3)  # a scrawl across its top right corner, running on beside it
    assert not any(b[0] < 160 for b in find_frames(ink, ink.shape[1], ink.shape[0]))  # no four-sided contour
    boxes = find_sided_frames(ink, ink.shape[1], ink.shape[0])
    assert len(boxes) == 1, boxes
    x0, y0, x1, y1 = boxes[0]
    assert abs(x0 - 120) < 10 and abs(y0 - 80) < 10 and abs(x1 - 438) < 10 and abs(y1 - 290) < 10, boxes


def test_a_registry_stamp_is_found_whole_not_as_its_ruled_fields():
    ink = np.zeros((1200, 1000), np.uint8)
    _frame(ink, [(100, 100), (400, 100), (400, 280), (100, 280)])
    for y in (160, 220):  # two ruled fields
        cv2.line(ink, (100, y), (400, y), 1, 4)
    ink[90:110, 380:410] = 0  # its top right corner not inked: no four-sided contour round it
    cv2.line(ink, (60, 250), (160, 330), 1, 3)  # a stroke across its bottom left corner, a side's length
    boxes = find_sided_frames(ink, ink.shape[1], ink.shape[0])
    assert len(boxes) == 1 and abs(boxes[0][1] - 100) < 8 and abs(boxes[0][3] - 280) < 8, boxes


def test_typed_lines_between_two_rules_are_not_a_frame():
    rng = np.random.default_rng(3)
    ink = np.zeros((1200, 1000), np.uint8)
    cv2.line(ink, (100, 100), (420, 100), 1, 3)
    cv2.line(ink, (100, 300), (420, 300), 1, 3)
    for y in range(140, 300, 40):  # lines of type between them, from under the rules' left end to their right
        words = "".join(rng.choice(list("ABCDEFGHIKLMNOPRSTUVW   ")) for _ in range(12))
        cv2.putText(ink, words, (115, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1, 2)
    assert find_sided_frames(ink, ink.shape[1], ink.shape[0]) == []
    _frame(ink, [(100, 100), (420, 100), (420, 300), (100, 300)], 3)  # with upright sides it is one
    assert len(find_sided_frames(ink, ink.shape[1], ink.shape[0])) == 1


@needs_tesseract
def test_handwriting_is_not_read_as_cyrillic_on_pages_in_other_languages(tmp_path):
    pytest.importorskip("pymorphy3")
    from ocr.engines import get_engine
    from ocr.loader import PageRef
    from ocr.page import recognize_page
    from ocr.synth.reel import make_page
    from ocr.synth.scan import ScanSettings

    jpg, _, _, _ = make_page("p", 4242, 0, ScanSettings(), False)
    (tmp_path / "p.jpg").write_bytes(jpg)
    cfg = Config().replace("run", lang="eng")
    page = recognize_page(PageRef("p", tmp_path / "p.jpg"), cfg, get_engine("tesseract", cfg))
    hand = [r for r in page.regions if r.production == "handwritten-cursive"]
    assert hand and all(ln.text == "" for r in hand for ln in r.lines)
    assert "Cyrillic" in page.info["layout"]["note"] and "kraken" not in page.engines


def _fake_kraken_file(path):
    """A safetensors file whose metadata claims a kraken recognition model, with no weights in it."""
    import json
    import struct

    head = json.dumps({"__metadata__": {"kraken_meta": json.dumps({"m": {"_tasks": ["recognition"]}})}}).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head)
    return path


def test_the_run_checks_the_handwriting_model_without_loading_pytorch(tmp_path):
    import subprocess
    import sys

    from ocr.engines.kraken_lines import DEFAULT_MODEL, check
    from ocr.errors import EngineError

    assert check(None)[0].isdigit() and check(str(DEFAULT_MODEL)) == check(None)
    with pytest.raises(EngineError, match="nope.safetensors: handwriting model file not found"):
        check(str(tmp_path / "nope.safetensors"))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\xff" * 64)
    with pytest.raises(EngineError, match="junk.safetensors: not a usable kraken recognition model"):
        check(str(junk))
    other = tmp_path / "other.safetensors"
    head = b'{"__metadata__": {"format": "pt"}}'
    other.write_bytes(len(head).to_bytes(8, "little") + head)
    with pytest.raises(EngineError, match="no kraken recognition model in its metadata"):
        check(str(other))
    code = "import sys; from ocr.engines.kraken_lines import check; check(None); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def memo_with_a_broken_handwriting_model(tmp_path):
    """A synthetic memo with handwriting (tmp_path/p.jpg) and a configuration whose handwriting model is a file
    that claims to be a kraken model but holds no weights: (image path, configuration)."""
    pytest.importorskip("pymorphy3")
    from ocr.synth.reel import make_page
    from ocr.synth.scan import ScanSettings

    jpg, _, _, _ = make_page("p", 4242, 0, ScanSettings(), False)
    (tmp_path / "p.jpg").write_bytes(jpg)
    fake = _fake_kraken_file(tmp_path / "fake.safetensors")
    return tmp_path / "p.jpg", Config().replace("layout", handwriting_model=str(fake))


def test_a_handwriting_model_that_fails_to_load_leaves_lines_empty_with_the_reason(tmp_path):
    from ocr.engines import get_engine
    from ocr.loader import PageRef
    from ocr.page import recognize_page

    _, cfg = memo_with_a_broken_handwriting_model(tmp_path)
    page = recognize_page(PageRef("p", tmp_path / "p.jpg"), cfg, get_engine("tesseract", cfg))
    hand = [ln for r in page.regions if r.production == "handwritten-cursive" for ln in r.lines]
    assert hand and all(ln.text == "" and "fake.safetensors: not a usable kraken" in ln.note for ln in hand)
    assert "fake.safetensors" in page.info["layout"]["error"]  # run.json says so too
    assert any(r.production == "typewritten" and r.lines for r in page.regions)  # the page goes on


def _ln(box, text="x"):
    from ocr.model import Line

    x0, y0, x1, y1 = box
    return Line("l", text, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), (), 0.5)


def test_stacked_signatures_are_split_and_a_note_of_several_lines_is_not():
    from ocr.layout.signatures import signature_stack

    page = (2480, 3500)
    sigs = [_ln((1450, 1380, 1780, 1460)), _ln((1420, 1480, 1770, 1590))]
    typed = [(330, 1490, 2230, 1580)]  # the second signatory's title ... name line
    assert [len(g) for g in signature_stack(sigs, typed, 0.0, page)] == [1, 1]
    assert signature_stack(sigs, [], 0.0, page) == []  # level with no typed line
    # written between the title lines, the lower one's middle 2 px beyond 0.3 of a line under the title
    between = [_ln((1184, 1387, 1716, 1502)), _ln((1234, 1547, 1662, 1667))]
    assert [len(g) for g in signature_stack(between, [(302, 1523, 2210, 1586), (303, 1681, 2210, 1738)], 0.0,
                                            (2486, 3543))] == [1, 1]
    assert signature_stack(between, [(302, 1523, 2210, 1556)], 0.0, (2486, 3543)) == []  # far from any
    margin = [_ln((60, 1380, 400, 1460)), _ln((60, 1480, 400, 1590))]
    assert signature_stack(margin, [(60, 1490, 400, 1580)], 0.0, page) == []  # a note in the margin
    slanted = [_ln((1450, 1380, 1780, 1500)), _ln((1420, 1480, 1770, 1590))]  # overlapping by 20 px of 110
    assert [len(g) for g in signature_stack(slanted, typed, 0.0, page)] == [1, 1]
    deep = [_ln((1500, 1680, 1845, 1838)), _ln((1300, 1786, 1770, 1925))]  # 52 px of 139: seed 7000's pair
    assert [len(g) for g in signature_stack(deep, [(330, 1820, 2230, 1900)], 0.0, page)] == [1, 1]
    touching = [_ln((1450, 1380, 1780, 1520)), _ln((1420, 1470, 1770, 1590))]
    assert signature_stack(touching, typed, 0.0, page) == []  # lines of one note overlap by more than 40 %
    right = [_ln((1800, 1380, 2130, 1460)), _ln((1780, 1480, 2120, 1590))]
    assert signature_stack(right, typed, 0.0, page) == []  # a note in the right margin (centre at 79 %)
    assert signature_stack(sigs, typed, 90.0, page) == []  # written up the margin
    assert signature_stack(sigs[:1], typed, 0.0, page) == []


def test_stacked_signatures_whose_outlines_overlap_are_told_apart_by_their_baselines():
    from ocr.layout.signatures import signature_stack
    from ocr.model import Line

    page = (2546, 3508)
    typed = [(311, 1494, 1528, 1580), (306, 1653, 2208, 1766)]  # outlines 86 and 113 px tall: median 99.5

    def sig(box, base_y):
        x0, y0, x1, y1 = box
        return Line("l", "x", ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), ((x0, base_y), (x1, base_y)), 0.5)

    # seed 30000's pair: the line cutter's outlines overlap by 54 px of 125 (43 %), the baselines lie 104 px apart
    pair = [sig((1403, 1557, 1819, 1682), 1649), sig((1373, 1628, 1774, 1794), 1753)]
    assert [len(g) for g in signature_stack(pair, typed, 0.0, page)] == [1, 1]
    # a signature and its flourish under it: baselines closer than a typed line's outline
    flourish = [sig((1403, 1557, 1819, 1682), 1649), sig((1373, 1628, 1774, 1794), 1720)]
    assert signature_stack(flourish, typed, 0.0, page) == []


@needs_tesseract
def test_a_typed_line_weakly_taken_for_handwriting_is_read_as_type_and_handwriting_is_not():
    from types import SimpleNamespace

    from ocr.htr import lines as hl
    from ocr.layout.typed_or_hand import typed_rescue
    from ocr.synth import fonts

    from .conftest import RUSSIAN_LINES, render_page

    page = render_page(RUSSIAN_LINES[:2], size=(1700, 900), margin=150)
    hand, _ = hl.make_sample(900_200, fonts.handwriting(), None)
    hand = cv2.resize(hand, None, fx=60 / hand.shape[0], fy=60 / hand.shape[0])
    hh, hw = hand.shape
    page[600:600 + hh, 150:150 + hw] = hand
    typed_box = (140, 140, 1650, 200)
    hand_box = (150, 600, 150 + hw, 600 + hh)
    cands = [SimpleNamespace(kind="handwritten", prob=0.6, box=typed_box, inked=None),
             SimpleNamespace(kind="handwritten", prob=0.6, box=hand_box, inked=None),
             SimpleNamespace(kind="handwritten", prob=0.95, box=typed_box, inked=None),  # sure: not tried
             SimpleNamespace(kind="handwritten", prob=0.85, box=typed_box, inked=None),  # a typed date block in uneven type
             # found by the ink separation network across a stamp: its ink is handwriting, not tried as type
             SimpleNamespace(kind="handwritten", prob=0.6, box=typed_box, inked=(0.6, typed_box))]
    cfg = Config()
    engine = get_engine("tesseract", cfg)
    out = typed_rescue(page, cands, cfg, engine)
    assert typed_rescue(page, cands, cfg, NullEngine()) == {}  # an engine that reads no piece rescues none
    assert list(out) == [id(cands[0]), id(cands[3])]
    region = out[id(cands[0])]
    assert region.production == "typewritten" and "секретарь" in region.lines[0].text
    assert all(w.conf >= 0 for w in region.lines[0].words) and region.lines[0].words
    # a line the page-level Tesseract call already read is not read twice: the candidate is type, nothing new
    again = typed_rescue(page, cands[:1], cfg, engine, [(150, 145, 1600, 195)])
    assert again == {id(cands[0]): None}
    # read surely but in letters twice the page's type height, it is a neat hand, not type
    h = float(np.median([bbox(w.polygon)[3] - bbox(w.polygon)[1] for w in region.lines[0].words]))
    assert list(typed_rescue(page, cands[:1], cfg, engine, type_height=h * 1.1)) == [id(cands[0])]
    assert typed_rescue(page, cands[:1], cfg, engine, type_height=h / 2) == {}


@needs_tesseract
def test_a_weak_stamp_without_outline_that_does_not_read_as_print_is_handwriting():
    from ocr.htr import lines as hl
    from ocr.layout.stamps import unprinted_stamps
    from ocr.synth import fonts

    from .conftest import RUSSIAN_LINES, render_page

    page = render_page(RUSSIAN_LINES[:3], size=(1700, 1300), margin=150)  # printed lines: a frameless stamp
    y = 700
    for seed in (900_301, 900_302, 900_303):  # a squat three-line note
        hand, _ = hl.make_sample(seed, fonts.handwriting(), None)
        hand = cv2.resize(hand, None, fx=60 / hand.shape[0], fy=60 / hand.shape[0])[:, :700]
        page[y:y + hand.shape[0], 150:150 + hand.shape[1]] = np.minimum(page[y:y + hand.shape[0], 150:150 + hand.shape[1]], hand)
        y += 80
    printed_box, note_box = (140, 140, 1650, 260), (140, 690, 860, y + 10)

    def cand(box, prob, **feats):
        f = dict.fromkeys(FEATURES, 0.0) | feats
        return Candidate(box, np.array([f[k] for k in FEATURES], np.float32), "stamp", prob,
                                probs={"stamp": prob, "handwritten": 0.3, "noise": 0.05})

    # the printed lines again, set down 15 degrees askew (a stamp whose frame was not found), below the note
    block = page[printed_box[1]:printed_box[3], printed_box[0]:printed_box[2]]
    turned = rotate(block, 15, 255)[0]
    page = np.vstack([page, np.full((turned.shape[0] + 40, page.shape[1]), 255, np.uint8)])
    page[y + 40:y + 40 + turned.shape[0], 100:100 + turned.shape[1]] = turned
    askew_box = (100, y + 40, 100 + turned.shape[1], y + 40 + turned.shape[0])

    note, printed, askew = cand(note_box, 0.65), cand(printed_box, 0.65), cand(askew_box, 0.65)
    ringed, sure = cand(note_box, 0.65, perimeter=0.5), cand(note_box, 0.9)  # an outline found; classifier sure
    out = unprinted_stamps(page, page, [note, printed, askew, ringed, sure], get_engine("tesseract", Config()))
    assert out == [note]
    assert note.kind == "handwritten" and note.prob == pytest.approx(0.95)
    assert printed.kind == askew.kind == ringed.kind == sure.kind == "stamp"


@needs_tesseract
def test_train_layout_writes_a_loadable_model_and_renders_a_new_reel_for_other_pages(tmp_path):
    from click.testing import CliRunner

    from ocr.cli import main

    out = tmp_path / "layout.json"
    runner = CliRunner()
    r = runner.invoke(main, ["train-layout", "-w", str(tmp_path / "w"), "--pages", "2", "--seed", "7", "-o", str(out)])
    assert r.exit_code == 0, r.output
    model = load_model(str(out))
    assert set(model.classes) <= set(KINDS) and list(model.features) == list(FEATURES)
    assert model.meta["pages"] == 2 and sum(model.meta["counts"].values()) > 0
    assert len(list((tmp_path / "w" / "reel").glob("*.jpg"))) == 2
    # other pages: the cached reel and its features are not reused
    r = runner.invoke(main, ["train-layout", "-w", str(tmp_path / "w"), "--pages", "3", "--seed", "7", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "w" / "reel").glob("*.jpg"))) == 3
    assert (tmp_path / "w" / "reel.done").read_text().split() == ["3", "7"]
    # features cached by a version of the candidates with other features are computed again
    cache = tmp_path / "w" / "features.npz"
    np.savez(cache, X=np.zeros((4, 3), np.float32), y=np.array(["noise"] * 4), features=np.array(["w", "h", "old"]))
    r = runner.invoke(main, ["train-layout", "-w", str(tmp_path / "w"), "--pages", "3", "--seed", "7", "-o", str(out)])
    assert r.exit_code == 0, r.output
    load_model.cache_clear()
    assert list(load_model(str(out)).features) == list(FEATURES)
    assert list(np.load(cache)["features"]) == list(FEATURES) and "train-layout: memo-0001" in r.output
    plain = load_model(str(out)).meta["counts"]
    # a reel of worn stamps beside it: rendered in its own folder at the next seed, its candidates added
    r = runner.invoke(main, ["train-layout", "-w", str(tmp_path / "w"), "--pages", "3", "--seed", "7",
                             "--worn-pages", "1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "w" / "worn" / "reel.done").read_text().split() == ["1", "8", "worn"]
    assert len(list((tmp_path / "w" / "worn" / "reel").glob("*.jpg"))) == 1
    load_model.cache_clear()
    mixed = load_model(str(out)).meta
    assert mixed["worn_pages"] == 1 and "--worn-pages 1" in mixed["command"]
    assert sum(mixed["counts"].values()) > sum(plain.values())


def test_a_note_touching_a_stamp_ring_becomes_a_candidate_of_its_own():
    page = np.full((1400, 2480), 255, np.uint8)
    cv2.circle(page, (1200, 800), 130, 0, 8)  # the stamp's ring, with text inside
    cv2.putText(page, "ARCHIVE", (1110, 815), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 0, 4)
    for i, word in enumerate(("approved", "see me")):  # a two-line note written against the ring's top right
        cv2.putText(page, word, (1300, 640 + 60 * i), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.8, 0, 4)
    note = (1300, 605, 1525, 705)
    cands = candidates(page, [], None, 20.0, [])
    boxes = [c.box for c in cands]
    assert any(iou(b, note) >= 0.5 for b in boxes)  # the note alone
    assert any(cover(note, b) >= 0.9 and cover((1070, 670, 1330, 930), b) >= 0.9 for b in boxes)  # and as grouped
    # the training reel's candidates are taken without the split
    assert not any(iou(c.box, note) >= 0.5 for c in candidates(page, [], None, 20.0, [], split=False))
    # without a ring next to it, no ink group is split
    alone = np.full((1400, 2480), 255, np.uint8)
    for i, word in enumerate(("approved", "see me")):
        cv2.putText(alone, word, (1300, 640 + 60 * i), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.8, 0, 4)
    assert len(candidates(alone, [], None, 20.0, [], finer=False)) == 1
    # regrouped more tightly, its two lines are parts of the group (what ``resolve_finer`` uses)
    group, *parts = candidates(alone, [], None, 20.0, [])
    assert len(parts) == 2 and all(p.finer_of is group and cover(p.box, group.box) == 1.0 for p in parts)
    assert iou(bbox([q for p in parts for q in (p.box[:2], p.box[2:])]), group.box) >= 0.9


def test_a_short_unsure_line_alone_is_shown_to_the_classifier():
    def ln(i, x0, y0, words, conf):
        ws = tuple(Word(w, conf, ((x0, y0), (x0 + 100, y0), (x0 + 100, y0 + 40), (x0, y0 + 40))) for w in words)
        return Line(f"l{i}", " ".join(words), ((x0, y0), (x0 + 300, y0), (x0 + 300, y0 + 40), (x0, y0 + 40)), (), conf,
                    ws)

    block = [ln(i, 300, 400 + 60 * i, ["typed", "memo", "text"], 0.95) for i in range(3)]
    note = ln(10, 1900, 2100, ["Доложено"], 0.91)  # one word in the margin, far from any typed line
    assert lone_lines([*block, note]) == {"l10"}
    assert lone_lines([*block, ln(10, 1900, 2100, ["Доложено"], 0.97)]) == set()  # read surely
    assert lone_lines([*block, ln(10, 300, 580, ["28", "марта"], 0.9)]) == set()  # under the block
    assert lone_lines([*block, ln(10, 1900, 2100, ["a", "long", "note"], 0.9)]) == set()  # 3 words


def test_a_line_whose_every_word_is_off_the_typewriter_pitch_is_shown_to_the_classifier():
    def ln(i, words, conf, pitch=20.0, y=400, wide=None):  # wide: words of another pitch
        ws, x = [], 300
        for w in words:
            x1 = x + int((wide or {}).get(w, pitch) * len(w))
            ws.append(Word(w, conf, ((x, y), (x1, y), (x1, y + 40), (x, y + 40))))
            x = x1 + 20
        return Line(f"l{i}", " ".join(words), ((300, y), (x, y), (x, y + 40), (300, y + 40)), (), conf, tuple(ws))

    block = [ln(i, ["typed", "memo", "text", "of", "one", "pitch"], 0.95, y=400 + 60 * i) for i in range(3)]
    script = ln(10, ["Снять", "с", "контроля"], 0.96, pitch=24.0, y=900)  # read surely, but 1.2 of the pitch
    narrow = ln(11, ["71277"], 0.97, pitch=14.0, y=1000)  # a stamp's number in a narrower face
    signed = ln(12, ["typed", "name", "Серый"], 0.7, y=1100, wide={"Серый": 36.0})  # a signature read as a word
    near = ln(13, ["almost", "same"], 0.9, pitch=22.0, y=1200)  # 1.1: within 15 %
    assert off_pitch_lines([*block, script, narrow, signed, near]) == {"l10", "l11"}
    assert off_pitch_lines([block[0], script]) == set()  # too few surely read words to know the pitch


def test_the_outer_ring_of_a_double_ring_stamp_gives_its_size():
    ink = np.zeros((400, 400), np.uint8)
    cv2.circle(ink, (200, 200), 60, 1, 3)  # the inner ring, which the Hough search may find
    assert _outer_ring(ink, 200.0, 200.0, 60.0) == 60.0  # a single ring: as found
    cv2.circle(ink, (200, 200), 90, 1, 3)
    assert abs(_outer_ring(ink, 200.0, 200.0, 60.0) - 90) <= 4  # the stamp's outer edge
    cv2.putText(ink, "TEXT", (150, 210), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1, 3)  # text inside changes nothing
    assert abs(_outer_ring(ink, 200.0, 200.0, 60.0) - 90) <= 4


def test_a_ring_found_off_centre_through_the_lettering_is_put_on_the_stamp_outer_ring():
    ink = np.zeros((500, 500), np.uint8)
    cv2.circle(ink, (240, 250), 80, 1, 3)  # a double ring with lettering between the rings
    cv2.circle(ink, (240, 250), 115, 1, 3)
    for a in range(0, 360, 24):  # letters round the band between them
        x, y = 240 + 97 * np.cos(np.radians(a)), 250 + 97 * np.sin(np.radians(a))
        cv2.rectangle(ink, (int(x) - 5, int(y) - 7), (int(x) + 5, int(y) + 7), 1, -1)
    # the Hough search's coarse circle: off the centre, between the rings
    cx, cy, r, sharp = refine_ring(ink, 262.0, 256.0, 98.0)
    assert sharp and abs(cx - 240) <= 4 and abs(cy - 250) <= 4 and abs(r - 115) <= 4
    # no ring near a circle in dense type: left as found (and its outer ring measured as before)
    text = np.zeros((500, 500), np.uint8)
    for i in range(14):
        cv2.putText(text, "ooooo oooo ooooo", (10, 30 + 32 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 1, 2)
    assert refine_ring(text, 250.0, 250.0, 90.0) == (250.0, 250.0, _outer_ring(text, 250.0, 250.0, 90.0),
                                                             False)


def test_a_signature_over_a_double_ring_stamp_keeps_the_part_just_outside_the_ring():
    page = np.full((1400, 2480), 255, np.uint8)
    for rad in (120, 170):
        cv2.circle(page, (1200, 800), rad, 0, 8)
    for a in range(0, 360, 20):  # lettering between the rings
        x, y = 1200 + 145 * np.cos(np.radians(a)), 800 + 145 * np.sin(np.radians(a))
        cv2.putText(page, "K", (int(x) - 10, int(y) + 10), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 3)
    cv2.putText(page, "I. Ivanovich", (1290, 670), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.4, 0, 5)  # across the ring
    sig = (1291, 623, 1635, 670)
    cands = candidates(page, [], None, 20.0, [])
    rings = [c for c in cands if c.features[FEATURES.index("source")] == 1.0]
    assert any(iou(c.box, (1026, 626, 1374, 974)) >= 0.85 for c in rings), [c.box for c in rings]  # the outer ring
    # the ink outside the ring (only the ring's width cut away, not 1.2 radii) is the signature
    assert any(iou(c.box, sig) >= 0.8 for c in cands), [c.box for c in cands]


def test_a_band_too_tall_for_one_line_is_cut_at_a_deep_valley_only():
    # two slanted signatures one under the other: their rows overlap (a flourish joins them), so the
    # profile never falls to the band threshold between them, but it falls deep
    ink = np.zeros((140, 300), np.uint8)
    ink[5:60, 20:280] = 1  # the first signature (5.5 x-heights with its loops: as tall as one line can be)
    ink[60:75, 120:160] = 1  # a flourish reaching into the next
    ink[75:135, 30:270] = 1
    bands = line_bands(ink, min_h=10)
    assert len(bands) == 2 and bands[0][1] < 10 and 55 < bands[0][3] < 85 and 45 < bands[1][1] < 80  # (padded)
    # the same height with a shallow dip (one tall signature with a gap in its strokes) stays one band
    ink[60:75, 20:200] = 1
    assert len(line_bands(ink, min_h=10)) == 1
    # and a line shorter than SPLIT_MIN_H x-heights is never cut
    short = np.zeros((60, 300), np.uint8)
    short[2:20, 20:280] = 1
    short[20:26, 120:160] = 1
    short[26:45, 20:280] = 1
    assert len(line_bands(short, min_h=10)) == 1


def test_a_few_strokes_between_two_lines_join_the_nearer_line_and_a_short_word_line_stays():
    ink = np.zeros((220, 300), np.uint8)
    ink[10:60, 20:280] = 1  # a signature
    ink[72:86, 100:160] = 1  # a flourish's tail between the two, nearer the lower one
    ink[96:156, 30:270] = 1
    bands = line_bands(ink, min_h=20)
    assert len(bands) == 2 and bands[1][1] <= 72  # the mark went with the lower line
    ink[180:210, 30:90] = 1  # a short word on a line of its own: over an x-height tall, so a line
    assert len(line_bands(ink, min_h=20)) == 3


def _wandering_note():
    """Two lines of six "words" (letters joined by a stroke: one component a word), 30 px tall and 30 px
    apart, written on an arch: each line's level rises and falls by 45 px across the note, so the rows
    of the two lines overlap and no rotation makes them straight."""
    rng = np.random.default_rng(3)
    ink = np.zeros((220, 900), np.uint8)
    words = []
    for line, base in enumerate((110, 170)):
        x = 20
        for _ in range(6):
            w = int(rng.integers(80, 110))
            y = base - int(45 * np.sin(np.pi * (x + w / 2 - 20) / 780))
            for sx in range(x, x + w - 6, 12):
                ink[y - 30:y, sx:sx + 6] = 1
            ink[y - 6:y, x:x + w - 6] = 1
            words.append((line, (x, y - 30, x + w - 6, y)))
            x += w + 35
    return ink, words


def test_a_note_whose_words_wander_is_cut_into_its_lines_each_word_whole():
    ink, words = _wandering_note()
    lines = note_lines(ink, min_h=14)
    assert len(lines) == 2
    for line, (x0, y0, x1, y1) in words:  # each word wholly in its own line's mask, none in the other's
        assert lines[line][y0:y1, x0:x1].sum() == ink[y0:y1, x0:x1].sum()
        assert lines[1 - line][y0:y1, x0:x1].sum() == 0
    # the row profile alone cuts through them: some word is split between two of its bands
    bands = line_bands(ink, min_h=14)
    assert any(sum(1 for b in bands if b[1] < y1 and b[3] > y0) > 1 or
               not any(b[1] <= y0 and b[3] >= y1 for b in bands) for _, (x0, y0, x1, y1) in words)


def test_note_lines_cut_a_frame_along_the_lines_and_leave_out_the_scans_edge_and_far_specks():
    ink, words = _wandering_note()
    clean = note_lines(ink, min_h=14)
    ink[2:5, :] = 1  # the scan's dark edge along the top: no line
    ink[20:215, 748:752] = 1  # a stamp's frame just beside, as tall as both lines: cut along them
    ink[214:217, 400:403] = 1  # a speck far below the last line: left out
    lines = note_lines(ink, min_h=14)
    assert len(lines) == 2
    for a, b in zip(lines, clean, strict=True):
        assert (a[:, :745] == b[:, :745]).all()  # the words' lines as without them
    assert not any(m[2:5].any() or m[214:217].any() for m in lines)
    assert all(m[:, 748:752].any() for m in lines)  # each line took the frame's piece beside it


def test_a_lines_words_at_two_heights_stay_one_line_and_lines_one_under_another_two():
    def word(x0, x1, y):  # a word's strokes, 30 px high, its foot at y
        m = np.zeros((200, 1200), bool)
        m[y - 30:y, x0:x1:6] = True
        m[y - 30:y - 26, x0:x1] = m[y - 4:y, x0:x1] = True
        return m

    left, right = word(20, 500, 100), word(560, 800, 125)  # the second word 25 px lower, beside the first
    assert len(side_by_side([left, right], 36.0)) == 1
    assert (side_by_side([left, right], 36.0)[0] == (left | right)).all()
    below = word(20, 400, 170)  # a line under the first, overlapping it
    assert len(side_by_side([left, below], 36.0)) == 2
    far = word(1100, 1190, 130)  # beside, but more than three line heights along the row
    assert len(side_by_side([right, far], 36.0)) == 2
    assert len(side_by_side([left, word(560, 800, 150)], 36.0)) == 2  # beside, but more than a line lower
    # in the cutting: the two words are one line
    assert len(note_lines((left | right).astype(np.uint8), min_h=14)) == 1


def test_a_line_is_read_without_the_ink_of_the_lines_above_and_below():
    from ocr.layout.handwriting import _alone

    ink, words = _wandering_note()
    img = np.where(ink > 0, 20, 235).astype(np.uint8)
    lines = note_lines(ink, min_h=14)
    alone = _alone(img, lines[0], lines[0] | lines[1], 235)
    assert (alone[lines[0]] == 20).all() and (alone[lines[1]] == 235).all()
    assert _alone(img, lines[0], lines[0], 235) is img  # a note of one line is read as it is


def test_a_typed_line_between_a_notes_lines_is_not_read_with_the_note():
    from ocr.engines.kraken_lines import LineText
    from ocr.layout.handwriting import read_handwriting

    class Reader:  # records the darkest ink it was shown in each line image
        def __init__(self):
            self.seen = []

        def recognize(self, image, boxes):
            self.seen.append(image.copy())
            return [LineText("x", 0.9, [0.9], [tuple(b)]) for b in boxes]

    page = np.full((600, 1200), 240, np.uint8)
    for y in (100, 300):  # the note's two lines, its candidates
        for x in range(200, 900, 20):
            page[y:y + 50, x:x + 8] = 30
    page[190:230, 250:850] = 90  # a typed line between them that stays typed text (a different grey)
    parts = ((200, 100, 900, 150), (200, 300, 900, 350))
    reader = Reader()
    read_handwriting(page, (200, 100, 900, 350), "h1", reader, 20.0, parts, [(250, 190, 850, 230)])
    assert reader.seen and not any((img == 90).any() for img in reader.seen)
    # without the typed words (or a region of one candidate), the crop is read as it is
    reader = Reader()
    read_handwriting(page, (200, 100, 900, 350), "h1", reader, 20.0, parts, [])
    assert any((img == 90).any() for img in reader.seen)
    reader = Reader()
    read_handwriting(page, (200, 100, 900, 350), "h1", reader, 20.0, (), [(250, 190, 850, 230)])
    assert any((img == 90).any() for img in reader.seen)


def test_a_line_written_downhill_is_read_level_and_placed_where_it_is_written(monkeypatch):
    import ocr.layout.handwriting as hw
    from ocr.engines.kraken_lines import LineText

    class Reader:  # the tilt of the ink it is shown, and one glyph over the whole line box
        def __init__(self):
            self.tilts = []

        def recognize(self, image, boxes):
            b = boxes[0]
            ys, xs = np.nonzero(image[b[1]:b[3], b[0]:b[2]] < 128)
            self.tilts.append(float(np.degrees(np.arctan(np.cov(xs, ys, bias=True)[0, 1] / np.var(xs)))))
            return [LineText("x", 0.9, [0.9], [tuple(b)])]

    page = np.full((800, 1400), 240, np.uint8)
    for x in range(300, 1100, 16):  # a level line, and under it one running 8 degrees downhill
        page[200:230, x:x + 6] = 20
        y = int(320 + np.tan(np.radians(8)) * (x - 300))
        page[y:y + 30, x:x + 6] = 20
    reader = Reader()
    lines, _ = hw.read_handwriting(page, (300, 200, 1106, 463), "h1", reader, 20.0)
    assert len(lines) == 2 and max(abs(t) for t in reader.tilts) < 2.0  # each read level
    (gx0, gy0), _, (gx1, gy1), _ = lines[1].words[0].glyphs[0].polygon  # the downhill line's glyph, on the page
    assert gx0 < 320 and gx1 > 1080 and 300 < gy0 < 340 and gy1 > 420
    monkeypatch.setattr(hw, "LINE_TILT", 90.0)  # not levelled: the downhill line is read as it runs
    reader = Reader()
    hw.read_handwriting(page, (300, 200, 1106, 463), "h1", reader, 20.0)
    assert max(abs(t) for t in reader.tilts) > 4.0


def test_a_signature_inked_with_a_stamp_into_one_group_keeps_its_own_region():
    page = np.full((1400, 2480), 255, np.uint8)
    cv2.circle(page, (1200, 800), 130, 0, 8)
    cv2.putText(page, "ARCHIVE", (1110, 815), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 0, 4)
    for i, word in enumerate(("approved", "see me")):
        cv2.putText(page, word, (1300, 640 + 60 * i), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.8, 0, 4)
    note = (1300, 605, 1525, 705)
    cands = candidates(page, [], None, 20.0, [])
    part = next(c for c in cands if iou(c.box, note) >= 0.5)
    group = next(c for c in cands if c is not part and cover(note, c.box) >= 0.9 and c.split_of is None
                 and c.features[FEATURES.index("source")] == 0)
    assert part.split_of is not None and part.split_of[0] == group.box
    ring = part.split_of[1]
    assert iou(ring, (1070, 670, 1330, 930)) >= 0.8
    # the classifier calls the whole group a stamp: with the part surely handwriting, the stamp is its ring
    group.kind, group.prob, part.kind = "stamp", 0.9, "handwritten"
    part.prob = 0.95
    kept = suppress([group, part])
    assert [(c.kind, c.box) for c in kept] == [("stamp", ring), ("handwritten", part.box)]
    part.prob = 0.6  # not sure enough: the group stays the stamp and covers the part
    assert [(c.kind, c.box) for c in suppress([group, part])] == [("stamp", group.box)]


def test_ink_split_off_a_false_ring_inside_a_rectangular_stamp_is_not_taken_for_a_signature():
    page = np.full((1400, 2480), 255, np.uint8)
    cv2.rectangle(page, (900, 500), (1500, 900), 0, 8)  # a rectangular stamp ...
    cv2.circle(page, (1300, 700), 150, 0, 6)  # ... with a ring inside (stands for a false Hough ring)
    for i, word in enumerate(("CENTRAL", "COMMITTEE", "1955")):
        cv2.putText(page, word, (930, 600 + 90 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 4)
    cands = candidates(page, [], None, 20.0, [])
    assert any(c.features[FEATURES.index("source")] == 2 for c in cands)  # the rectangle was found
    assert all(c.split_of is None or cover(c.box, (900, 500, 1500, 900)) < 0.5 for c in cands)


def test_a_ring_struck_twice_scores_low_on_its_perimeter_and_keeps_the_kind_the_classifier_gives_it():
    page = np.full((1400, 1400), 235, np.uint8)
    for dx, dy in ((0, 0), (14, 10)):  # the stamp struck twice, a few pixels apart
        cv2.circle(page, (700 + dx, 700 + dy), 190, 90, 5)
        cv2.circle(page, (700 + dx, 700 + dy), 130, 90, 4)
        for i, word in enumerate(("ARCHIVE", "No 8739")):
            cv2.putText(page, word, (590 + dx, 690 + 60 * i + dy), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 90, 3)
    src, perim = FEATURES.index("source"), FEATURES.index("perimeter")
    rings = [c for c in candidates(page, [], None, 20.0, []) if c.features[src] == 1]
    assert rings and all(c.features[perim] < MIN_RING_PERIMETER for c in rings)  # ink beside the ring: the twin

    class Model:  # the classifier's forest: a stamp, fairly surely
        classes = ["noise", "handwritten", "stamp"]

        def predict_proba(self, x):
            return np.array([[0.2, 0.05, 0.75] for _ in x])

    classify(rings, Model())
    assert all(c.kind == "stamp" and c.prob == pytest.approx(0.75) for c in rings)


def test_noise_on_a_line_tesseract_rejected_but_read_with_letters_is_handwriting():
    class Model:  # gives every candidate the probabilities of its first feature's row
        classes = ["noise", "handwritten", "stamp"]

        def predict_proba(self, x):
            return np.array([[1 - r[0], r[0], 0.0] for r in x])

    def cand(box, p_hand):
        features = np.zeros(len(FEATURES), np.float32)
        features[0] = p_hand
        return Candidate(box, features)

    rejected = [_ln((370, 2220, 590, 2260), "чсполиейо"), _ln((370, 2400, 590, 2440), "ч.с")]
    on_word, weak, on_short, elsewhere = (cand((378, 2228, 588, 2256), 0.25), cand((378, 2228, 588, 2256), 0.08),
                                          cand((378, 2405, 588, 2436), 0.4), cand((900, 900, 1100, 950), 0.4))
    classify([on_word, weak, on_short, elsewhere], Model())  # all noise, with their probabilities
    found = unsure_text([on_word, weak, on_short, elsewhere], rejected)
    assert found == [on_word] and on_word.kind == "handwritten" and on_word.prob == pytest.approx(0.25)
    assert weak.kind == on_short.kind == elsewhere.kind == "noise"


def test_an_unclear_group_is_replaced_by_its_parts_that_are_surely_handwriting():
    def cand(box, kind, p, of=None):
        return Candidate(box, np.zeros(1, np.float32), kind, p, finer_of=of)

    # a note whose last line ran into an unsurely read typed heading: the group is no kind surely
    group = cand((800, 200, 2300, 520), "stamp", 0.4)
    lines = cand((1400, 240, 2260, 420), "handwritten", 0.9, group), cand((1300, 440, 1680, 516), "handwritten", 0.85, group)
    heading = cand((800, 460, 1250, 520), "noise", 0.9, group)
    # a group the classifier is sure of keeps its place, whatever its parts are called
    sure = cand((300, 1500, 900, 1600), "handwritten", 0.95)
    sure_part = cand((300, 1500, 500, 1600), "handwritten", 0.99, sure)
    # an unclear group whose parts are not surely handwriting stays as it is (the rules after it decide)
    unclear = cand((300, 2000, 900, 2200), "noise", 0.45)
    weak = cand((300, 2000, 600, 2100), "handwritten", FINER_HAND - 0.01, unclear)
    # a signature beside a stamp, grouped with it: the stamp's lettering, inside its ring, is no part of it
    f = np.zeros(len(FEATURES), np.float32)
    f[FEATURES.index("source")] = 1.0
    ring = Candidate((1116, 2352, 1481, 2717), f, "stamp", 0.95)
    with_stamp = cand((1116, 2352, 1804, 2717), "noise", 0.45)
    signature = cand((1459, 2432, 1800, 2525), "handwritten", 0.9, with_stamp)
    lettering = cand((1226, 2480, 1380, 2582), "handwritten", 0.85, with_stamp)
    out = resolve_finer([group, *lines, heading, sure, sure_part, unclear, weak, ring, with_stamp, signature,
                                 lettering])
    assert [(c.box, c.kind, c.prob) for c in out] == [(sure.box, "handwritten", 0.95), (unclear.box, "noise", 0.45),
                                                      (ring.box, "stamp", 0.95), ((1300, 240, 2260, 516), "handwritten", 0.85),
                                                      (signature.box, "handwritten", 0.9)]
    assert out[-2].finer_of is group and lines[0].box == (1400, 240, 2260, 420)  # inputs untouched


def test_the_surely_handwritten_parts_of_a_group_surely_noise_are_offered_to_the_handwriting_model():
    def cand(box, kind, p, of=None):
        return Candidate(box, np.zeros(1, np.float32), kind, p, finer_of=of,
                         probs={"handwritten": p if kind == "handwritten" else 0.1})

    # a note whose lines Tesseract read as garbage type: the group with those lines is noise (0.6), each
    # line of it alone looks like a hand (real-handwriting reel 4500, p. 3)
    group = cand((212, 1886, 1512, 2190), "noise", 0.6)
    line1 = cand((510, 1886, 846, 1946), "handwritten", 0.81, group)
    line2 = cand((212, 1968, 1088, 2080), "handwritten", 0.83, group)
    weak = cand((892, 1912, 1512, 1978), "handwritten", FINER_HAND - 0.01, group)
    # a group surely noise whose parts are not surely handwriting, an unclear group (``resolve_finer``
    # replaces it), and a stamp's group, are not offered
    specks = cand((100, 100, 400, 200), "noise", 0.9)
    speck = cand((100, 100, 200, 200), "handwritten", FINER_HAND - 0.1, specks)
    unclear = cand((300, 2000, 900, 2200), "noise", 0.45)
    part = cand((300, 2000, 600, 2100), "handwritten", 0.9, unclear)
    stamp = cand((1000, 300, 1400, 700), "stamp", 0.9)
    lettering = cand((1100, 400, 1300, 500), "handwritten", 0.9, stamp)
    cands = [group, line1, line2, weak, specks, speck, unclear, part, stamp, lettering]
    parts = noise_parts(cands)
    assert [(c.box, c.kind, c.finer_of) for c in parts] == [(line1.box, "noise", None), (line2.box, "noise", None)]
    assert parts[0].probs["handwritten"] == 0.81 and line1.kind == "handwritten"  # the chance kept; inputs untouched
    assert noise_parts([specks, speck]) == []


def test_the_lines_of_a_note_found_apart_are_joined_but_signatures_one_under_another_are_not():
    def hand(box, p=0.9):
        return Candidate(box, np.zeros(1, np.float32), "handwritten", p)

    stamp = Candidate((300, 200, 700, 600), np.zeros(1, np.float32), "stamp", 0.99)
    line1, line2 = hand((1986, 222, 2328, 296)), hand((1970, 328, 2220, 380), 0.8)  # a note at the top right
    far = hand((1970, 600, 2220, 660))  # another note further down
    sig1, sig2 = hand((1300, 1500, 1700, 1600)), hand((1320, 1620, 1720, 1720))  # two signatories' signatures
    out = join_note_lines([stamp, line1, sig1, line2, far, sig2], 2480)
    assert [c.box for c in out] == [stamp.box, (1970, 222, 2328, 380), sig1.box, far.box, sig2.box]
    assert out[1].prob == 0.8 and line1.box == (1986, 222, 2328, 296)  # the less sure one's; inputs untouched
    # lines side by side, not one above the other, stay apart
    assert len(join_note_lines([hand((1800, 320, 2000, 400)), hand((2010, 440, 2240, 500))], 2480)) == 2
    # ... but the words of a slanted line step down corner to corner, level by little or not at all
    # (real-handwriting reel 4200, p. 9: "недѣлали одного только")
    slope = join_note_lines([hand((826, 164, 1490, 296)), hand((1530, 318, 1890, 412)), hand((1960, 410, 2238, 498))],
                            2480)
    assert [c.box for c in slope] == [(826, 164, 2238, 498)]
    # a slanted note's lines overlap little (here a tenth of the narrower line), and where a typed line
    # took its middle line in, its other lines stand two line heights apart: still one note
    staggered = join_note_lines([hand((1810, 324, 2046, 396)), hand((2024, 420, 2236, 478))], 2480)
    assert [c.box for c in staggered] == [(1810, 324, 2236, 478)]
    apart = join_note_lines([hand((2080, 188, 2288, 260)), hand((1980, 364, 2152, 420))], 2480)
    assert [c.box for c in apart] == [(1980, 188, 2288, 420)]
    # the words of one slanted line found apart are one line; a scan's dark edge beside a note is not
    # joined to it (it would make one region of the page), nor are two notes a page's width apart
    words = join_note_lines([hand((402, 2856, 862, 2940)), hand((918, 2830, 1052, 2876))], 2480)
    assert [c.box for c in words] == [(402, 2830, 1052, 2940)]
    edge = join_note_lines([hand((8, 48, 70, 1608)), hand((92, 588, 440, 662))], 2480)
    assert len(edge) == 2
    assert len(join_note_lines([hand((300, 2500, 900, 2600)), hand((1700, 2520, 2300, 2620))], 2480)) == 2
    # a line of four words of a large hand, found one by one: the gap beside the short "и" (an x-height
    # tall) is measured in the taller word's height
    line = [hand((1216, 2274, 1690, 2330)), hand((868, 2284, 1160, 2338)), hand((692, 2302, 796, 2348)),
            hand((460, 2304, 632, 2346))]
    assert [c.box for c in join_note_lines(line, 2480)] == [(460, 2274, 1690, 2348)]
    # where handwriting is not read, words join only within the smaller one's height
    assert len(join_note_lines(line, 2480, words_apart=False)) == 2
    # a hand's words stand wide apart: two words 60 px tall, 130 px apart, are one line (2.5 heights at most),
    # not 160 px apart; where the handwriting is not read, not even 130 (1.5 heights at most)
    pair = [hand((400, 1000, 700, 1060)), hand((830, 1004, 1100, 1060))]
    assert [c.box for c in join_note_lines(pair, 2480)] == [(400, 1000, 1100, 1060)]
    assert len(join_note_lines([pair[0], hand((860, 1004, 1130, 1060))], 2480)) == 2
    assert len(join_note_lines(pair, 2480, words_apart=False)) == 2
    # a slanted line's words in boxes that reach into each other are one line (side by side, overlapping)
    slanted = join_note_lines([hand((1516, 2049, 1906, 2141)), hand((1761, 2060, 2199, 2130))], 2480)
    assert [c.box for c in slanted] == [(1516, 2049, 2199, 2141)]
    # lines one under the other, each reaching the other's side, are not words of one line
    assert not _beside((369, 2273, 1020, 2340), (369, 2372, 1000, 2443))
    # a note's first line, too far above the third, joins it through the second (the joining repeats until
    # nothing more joins); a line that only the joined outline would reach does not
    note = [hand((600, 0, 900, 60)), hand((500, 100, 1000, 170)), hand((100, 200, 550, 270))]
    assert [c.box for c in join_note_lines(note, 2480)] == [(100, 0, 1000, 270)]
    note = [hand((600, 0, 900, 60)), hand((100, 100, 550, 170)), hand((400, 200, 1000, 270))]
    assert len(join_note_lines(note, 2480)) == 2
    # a word beside a candidate the ink grouping made of a line's two lines (more than twice its height,
    # wider than tall), and a word under that word, are one note with it (real-handwriting reel 4500, p. 11)
    two = join_note_lines([hand((1692, 2844, 2266, 2998)), hand((1298, 2858, 1700, 2922)),
                           hand((1422, 2968, 1636, 3018))], 2575)
    assert [c.box for c in two] == [(1298, 2844, 2266, 3018)]
    # ... but not a word beside a dark scan edge wider than the word is tall
    assert len(join_note_lines([hand((0, 0, 150, 3000)), hand((160, 500, 500, 560))], 2480)) == 2
    # the notes across a page's top, a note up its margin and two signatures (reel 4600, p. 8): the outline
    # of the notes joined at the top would reach the margin note and the signatures; the notes do not
    page8 = [hand(b) for b in ((6, 388, 302, 536), (492, 338, 946, 408), (10, 266, 216, 310), (1404, 1844, 1744, 1918),
                               (1436, 1958, 1758, 2048), (590, 2704, 792, 2756), (32, 1452, 114, 1850),
                               (348, 536, 992, 628), (366, 2710, 532, 2750), (1042, 408, 1714, 526),
                               (1042, 626, 2166, 776))]
    joined = [c.box for c in join_note_lines(page8, 2575)]
    assert all(b[3] < 1000 or b[1] > 1000 for b in joined)  # none from the top notes down to the signatures
    assert (32, 1452, 114, 1850) in joined and (366, 2704, 792, 2756) in joined
    # the two lines of a note written up the left margin, side by side: one note; a column of the
    # scan's edge beside it is not
    up = join_note_lines([hand((166, 1392, 256, 1750)), hand((96, 1674, 140, 1740))], 2480)
    assert [c.box for c in up] == [(96, 1392, 256, 1750)]
    assert len(join_note_lines([hand((166, 1392, 256, 1750)), hand((0, 200, 30, 3000))], 2480)) == 2


def test_noise_the_handwriting_model_reads_surely_is_handwriting_and_the_model_loads_only_when_needed():
    from ocr.engines.kraken_lines import LineText

    class Reader:  # reads every line box of a crop as one word, as surely as the page says
        def __init__(self, conf):
            self.conf, self.calls = conf, 0

        def recognize(self, image, boxes):
            self.calls += 1
            return [LineText("исполнено", self.conf, [self.conf] * 9, [(b[0], b[1], b[2], b[3])] * 9) for b in boxes]

    page = np.full((600, 900), 255, np.uint8)
    cv2.putText(page, "ispolneno", (100, 300), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.0, 0, 4)
    box = (90, 240, 520, 320)

    def cand(p_hand, kind="noise"):
        return Candidate(box, np.zeros(len(FEATURES), np.float32), kind, 0.6,
                                probs={"noise": 0.6, "handwritten": p_hand, "stamp": 0.4 - p_hand})

    sure = Reader(0.9)
    note, unlikely, stamp = cand(0.3), cand(0.1), cand(0.3, "stamp")
    weak, kept = cand(0.45, "handwritten"), cand(0.45, "handwritten")
    weak.prob, kept.prob = 0.45, 0.55  # below min_prob (dropped unless confirmed), and kept anyway
    reads = {}
    assert written_noise(page, [note, unlikely, stamp, weak, kept], lambda: sure, 20.0, 0.5, reads) == [note, weak]
    assert list(reads) == [box] and reads[box][0][0].text == "исполнено"  # route does not read them again
    assert note.kind == "handwritten" and note.prob == pytest.approx(0.3) and unlikely.kind == "noise"
    assert sure.calls >= 1
    unsure = cand(0.3)
    assert written_noise(page, [unsure], lambda: Reader(0.7), 20.0) == [] and unsure.kind == "noise"
    # no candidate asks for the model: it is not loaded; a model that does not load leaves the noise as it is
    asked = []
    assert written_noise(page, [cand(0.1)], lambda: asked.append(1), 20.0) == [] and asked == []
    assert written_noise(page, [cand(0.3)], lambda: None, 20.0) == []
    # ink the ink separation network does not call handwriting is not read: the model is not even loaded
    assert written_noise(page, [cand(0.3)], lambda: asked.append(1), 20.0, ink_share=lambda b: 0.2) == []
    assert asked == []
    assert written_noise(page, [ok := cand(0.3)], lambda: sure, 20.0, ink_share=lambda b: 0.9) == [ok]


@needs_tesseract
def test_a_stamps_legible_text_is_read_through_the_pages_engine():
    from ocr.layout.stamp_text import read_stamp

    from .conftest import RUSSIAN_LINES, render_page

    page = render_page(RUSSIAN_LINES[:1], size=(1700, 300), margin=100)
    ((text, conf),), raw, round_, *_ = read_stamp(page, (80, 60, 1650, 240), get_engine("tesseract", Config()))
    assert not round_
    assert "секретарь" in text.lower() and 0.3 <= conf <= 1.0 and "секретарь" in " ".join(raw).lower()
    assert read_stamp(page, (80, 60, 1650, 240), NullEngine())[:2] == ([], [])  # an engine that reads no piece


@needs_tesseract
def test_a_round_stamps_ring_text_is_unwrapped_and_read_in_order_then_its_centre():
    from ocr.layout.ring_strip import find_ring
    from ocr.layout.stamp_text import read_stamp
    from ocr.synth import fonts
    from ocr.synth.content import Stamp
    from ocr.synth.render import render_stamp

    stamp = Stamp("round", arc="ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", lines=["АРХИВ", "№ 5734"])
    cov, _, _ = render_stamp(np.random.default_rng(5), stamp, str(fonts.require("stamp")[0]))
    h, w = cov.shape
    page = np.full((h + 200, w + 300, 3), (226, 232, 236), np.uint8)  # paper
    violet = np.array([150, 60, 90], np.float32)  # BGR
    region = page[100:100 + h, 150:150 + w].astype(np.float32)
    page[100:100 + h, 150:150 + w] = (region * (1 - cov[..., None] * 0.85) + violet * cov[..., None] * 0.85).astype(np.uint8)
    box = (150, 100, 150 + w, 100 + h)
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    assert find_ring(grey[box[1]:box[3], box[0]:box[2]]) is not None
    assert find_ring(np.full((300, 300), 230, np.uint8)) is None  # no ring: none
    lines, _, round_, *_ = read_stamp(page, box, get_engine("tesseract", Config()))
    assert round_ and len(lines) >= 2 and all(0.1 <= c <= 1.0 for _, c in lines)
    ring = lines[0][0]
    # read from where the text begins (the widest gap in the ring's ink), not from angle 0
    assert "ЦЕНТРАЛЬНЫЙ" in ring and "КОМИТЕТ" in ring and ring.index("ЦЕНТРАЛЬНЫЙ") < ring.index("КОМИТЕТ"), ring
    assert any("АРХИВ" in t for t, _ in lines[1:]) and any("5734" in t for t, _ in lines[1:]), lines


def test_a_stamps_registry_number_and_date_are_fields_roman_months_and_look_alikes_included():
    from ocr.layout.stamp_text import fields

    assert fields(["ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"]) == {"number": "46824", "date": "1955-12-17"}
    assert fields(["АРХИВ", "№ 5734"]) == {"number": "5734"}
    assert fields(["17.12.1955"]) == {"date": "1955-12-17"}
    # a Russian model's readings of Roman months, and Latin ones read loosely
    assert fields(["| 17 ХН 1955"])["date"] == "1955-12-17" and fields(["6 Vil 1954"])["date"] == "1954-07-06"
    assert fields(["1955"]) == {}  # a year alone is not a registry number
    assert fields(["32 XII 1955"]) == {} and fields(["3 XIV 1955"]) == {}  # no such day, no such month
    assert fields(["ОБЩИЙ ОТДЕЛ"]) == {}


@needs_tesseract
def test_a_rectangular_stamp_turned_upright_gives_its_number_and_date():
    from ocr.layout.stamp_text import fields, read_stamp
    from ocr.synth import fonts
    from ocr.synth.content import Stamp
    from ocr.synth.render import render_stamp

    stamp = Stamp("rect", "", ["ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"])
    cov, _, _ = render_stamp(np.random.default_rng(3), stamp, str(fonts.require("stamp")[0]))
    h, w = cov.shape
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), 8, 1.0)  # struck askew
    cov = cv2.warpAffine(cov, rot, (w, h))
    page = np.full((h + 200, w + 200), 232, np.uint8)
    page[100:100 + h, 100:100 + w] = (232 - cov * 170).astype(np.uint8)
    lines, raw, *_ = read_stamp(page, (100, 100, 100 + w, 100 + h), get_engine("tesseract", Config()))
    assert any("КПСС" in t for t, _ in lines), lines
    assert fields([t for t, _ in lines] + raw) == {"number": "46824", "date": "1955-12-17"}, raw


def test_a_note_up_a_margin_is_kept_the_way_up_the_model_is_surer_of_or_if_about_as_sure_that_reads_as_words():
    import ocr.layout.handwriting as hw
    from ocr.engines.kraken_lines import LineText

    class Reader:  # the first way up tried reads ``first`` on each of the note's two lines, the second ``second``
        def __init__(self, first, second):
            self.calls, self.readings = 0, (first, second)

        def recognize(self, image, boxes):
            self.calls += 1
            text, conf = self.readings[0] if self.calls <= 2 else self.readings[1]
            return [LineText(text, conf, [conf] * len(text), [tuple(boxes[0])] * len(text))]

    page = np.full((1200, 600), 240, np.uint8)
    for x in (200, 300):  # two lines written up the margin
        for y in range(150, 1000, 22):
            page[y:y + 10, x:x + 40] = 25

    def kept(first, second):
        reader = Reader(first, second)
        lines, angle = hw.read_handwriting(page, (190, 140, 350, 1010), "h1", reader, 20.0)
        assert abs(angle) > 45 and reader.calls == 4  # read both ways up, two lines each
        return {ln.text for ln in lines}

    words, letters = ("распущен", 0.80), ("жфттртоит", 0.82)  # about as sure of both: the words
    assert kept(words, letters) == kept(letters, words) == {"распущен"}
    words, letters = ("распущен", 0.70), ("жфттртоит", 0.95)  # far surer of the letters
    assert kept(words, letters) == kept(letters, words) == {"жфттртоит"}

    class Lexical(Reader):  # read with a lexicon (htr.lexicon): the way up by the network's own reading
        def recognize(self, image, boxes):
            own = super().recognize(image, boxes)[0]
            word, conf = ("распущен", 0.5) if own.text == "распущен" else ("пущен", 0.99)  # words either way up
            return [LineText(word, conf, [conf] * len(word), own.char_boxes[:1] * len(word), plain=own)]

    for first, second in (((words[0], 0.95), ("жфттртоит", 0.6)), (("жфттртоит", 0.6), (words[0], 0.95))):
        reader = Lexical(first, second)
        lines, _ = hw.read_handwriting(page, (190, 140, 350, 1010), "h1", reader, 20.0)
        assert {ln.text for ln in lines} == {"распущен"}  # the lexicon's reading of the way up the network chose


def test_the_letter_model_tells_words_from_letter_strings():
    from ocr.typed.words import letter_logprob

    words, n = letter_logprob("и я распущен", "ru")
    junk, m = letter_logprob("пеятй я", "ru")
    assert n == 10 + 3 and m == 6 + 2 and words > -3.0 > -4.0 > junk  # a word's end counts as a letter
    assert letter_logprob("— 17, 1955 —", "ru") == (0.0, 0)
    assert letter_logprob("ещё", "ru") == letter_logprob("еще", "ru")
