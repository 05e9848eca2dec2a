"""The typewriter model's training data: synthetic typed lines, real lines and their splits (synthetic, seeded)."""
import json
import os

import cv2
import numpy as np
import pytest

from ocr.errors import InputError
from ocr.htr import train as htr_train
from ocr.score.halves import document, half
from ocr.typed import model_data as md

pytest.importorskip("wordfreq")
needs_faces = pytest.mark.skipif(not any(os.path.exists(p) for p, _ in md.FACES), reason="no typewriter font")


@needs_faces
def test_synthetic_typed_lines_are_reproducible_inked_and_short():
    a_img, a_text = md.make_sample(123)
    b_img, b_text = md.make_sample(123)
    assert a_text == b_text and np.array_equal(a_img, b_img)
    texts = set()
    for seed in range(40):
        img, text = md.make_sample(seed)
        assert img.dtype == np.uint8 and img.ndim == 2 and 14 <= img.shape[0] <= 64
        assert 0 < len(text) <= 70 and text == text.strip()
        assert img.min() < img.max() - 40  # ink on paper, not a blank strip
        texts.add(text)
    assert len(texts) == 40
    # all four languages come up, Cyrillic among them
    joined = " ".join(texts)
    assert any("а" <= c <= "я" for c in joined) and any("a" <= c <= "z" for c in joined)


def test_held_out_faces_are_never_training_faces():
    assert not {p for p, _ in md.HELD_OUT} & {p for p, _ in md.FACES}


def test_no_typewriter_font_is_a_one_line_error_naming_the_packages(monkeypatch):
    monkeypatch.setattr(md, "FACES", [("/nonexistent/Mono.ttf", True)])
    with pytest.raises(InputError, match="apt-get install fonts-urw-base35"):
        md.faces()


def test_markers_of_escriptorium_are_removed():
    assert md.normalise("the _word and 1^er  line") == "the word and 1er line"


def _fake_shared(root):
    """Two EHRI pages of two documents (one in each half), two Russian print lines, forty Komi lines."""
    eng = root / "ehri" / "english"
    eng.mkdir(parents=True)
    docs = {}
    for doc in (f"EHRI-X{i}" for i in range(20)):
        docs.setdefault(half(doc + "_01"), doc)
    assert set(docs) == {"tuning", "confirming"}
    for doc in docs.values():
        img = np.full((200, 400), 230, np.uint8)
        cv2.putText(img, "Dear Sir", (20, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
        cv2.imwrite(str(eng / f"{doc}_01.jpg"), img)
        (eng / f"{doc}_01.xml").write_text(
            '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout><Page WIDTH="400" HEIGHT="200">'
            '<PrintSpace><TextBlock ID="b"><TextLine ID="l" HPOS="15" VPOS="30" WIDTH="200" HEIGHT="40">'
            '<String CONTENT="Dear"/><SP/><String CONTENT="Sir"/></TextLine></TextBlock></PrintSpace></Page>'
            '</Layout></alto>', encoding="utf-8")
    for sub, n, suffix in (("ru_print_lines", 2, ".png"), ("komi_print_lines", 40, ".tif")):
        (root / sub).mkdir()
        for i in range(n):
            cv2.imwrite(str(root / sub / f"line{i}{suffix}"), np.full((30, 120), 255, np.uint8))
            (root / sub / f"line{i}.gt.txt").write_text(f"строка {i}\n", encoding="utf-8")
    return docs


def test_real_lines_follow_the_document_halves(tmp_path):
    docs = _fake_shared(tmp_path)
    lines = md.real_lines(tmp_path)
    ehri = {ln.key.split("#")[0]: ln for ln in lines if ln.source == "ehri-english"}
    assert ehri[f"{docs['confirming']}_01"].split == "test"  # never trained on
    assert ehri[f"{docs['tuning']}_01"].split in ("train", "val")
    assert all(ln.text == "Dear Sir" for ln in ehri.values())
    crop = md.cut(ehri[f"{docs['tuning']}_01"])
    assert 40 <= crop.shape[0] <= 50 and crop.shape[1] > 200
    komi = [ln for ln in lines if ln.source == "komi"]
    assert len(komi) == 40 and {ln.split for ln in komi} <= {"train", "val", "test"}
    assert sum(ln.split == "train" for ln in komi) > 25
    assert document("EHRI-AA-1_01") == "EHRI-AA-1"


@needs_faces
def test_prepare_writes_lists_keeps_test_lines_out_of_training_and_skips_when_unchanged(tmp_path):
    shared = tmp_path / "shared"
    _fake_shared(shared)
    work = tmp_path / "work"
    m = md.prepare(work, shared, synthetic=40, seed=3, real_copies=1, synthetic_test=4)
    assert m["counts"]["synth-test"] == 4 and m["counts"]["val"] >= 1
    train = (work / "train.lst").read_text().split()
    test = (work / "test.lst").read_text().split()
    assert test and not set(train) & set(test)
    for p in train + test:
        assert os.path.exists(p) and os.path.exists(p[:-4] + ".gt.txt")
    sources = {t["source"] for t in json.loads((work / "data" / "test.json").read_text())}
    assert "ehri-english" in sources
    before = (work / "data" / "manifest.json").stat().st_mtime_ns
    md.prepare(work, shared, synthetic=40, seed=3, real_copies=1, synthetic_test=4)
    assert (work / "data" / "manifest.json").stat().st_mtime_ns == before


def test_ketos_checkpoints_several_times_an_epoch_and_resumes_from_the_newest(tmp_path):
    cmd = htr_train.ketos_command(tmp_path, spec=htr_train.TYPED_SPEC, epochs=4, batch=8, threads=2, lrate=1e-3,
                                  load=None, resume=None, freq=0.25) if _has_ketos() else None
    if cmd is not None:
        assert cmd[cmd.index("-F") + 1] == "0.25"
    ck = tmp_path / "ckpt"
    ck.mkdir()
    for i, name in enumerate(("checkpoint_00-0.9000.ckpt", "checkpoint_00-0.8000.ckpt", "checkpoint_01-0.7000.ckpt")):
        (ck / name).write_bytes(b"")
        os.utime(ck / name, (1000 + i, 1000 + i))
    # within an epoch the newest comes last, not the best
    assert [p.name for _, _, p in htr_train.checkpoints(ck)] == [
        "checkpoint_00-0.9000.ckpt", "checkpoint_00-0.8000.ckpt", "checkpoint_01-0.7000.ckpt"]


def _has_ketos() -> bool:
    try:
        htr_train._ketos()
        return True
    except Exception:
        return False


def test_alto_line_outline_is_read_and_the_neighbours_painted_out(tmp_path):
    from ocr.formats.readers import read_transcription

    xml = tmp_path / "p.xml"
    xml.write_text(
        '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout><Page WIDTH="300" HEIGHT="100"><PrintSpace>'
        '<TextBlock ID="b"><TextLine ID="l" HPOS="10" VPOS="10" WIDTH="200" HEIGHT="60">'
        '<Shape><Polygon POINTS="10 30 210 30 210 70 10 70"/></Shape><String CONTENT="x"/></TextLine>'
        '<TextLine ID="m" HPOS="10" VPOS="75" WIDTH="50" HEIGHT="20"><String CONTENT="y"/></TextLine>'
        '</TextBlock></PrintSpace></Page></Layout></alto>', encoding="utf-8")
    a, b = read_transcription(xml)
    assert a.poly == ((10, 30), (210, 30), (210, 70), (10, 70))
    assert b.poly == ((10, 75), (60, 75), (60, 95), (10, 95))  # no outline: its box
    page = np.full((100, 300), 220, np.uint8)
    page[12:20, 20:200] = 0  # the line above, inside the box but outside the outline
    page[40:60, 20:200] = 30  # the line itself
    crop = md.cut_polygon(page, np.asarray(a.poly, np.int32))
    assert crop.shape[0] <= 40 + 2 * 4 and (crop < 100).sum() >= 20 * 180  # the line kept whole
    assert crop[:8].min() > 100  # the line above painted out


class _FakeReader:
    """Reads every box as the given text with per-character confidences and evenly spaced cuts."""

    def __init__(self, text, conf, error=None):
        self.text, self.conf, self.error, self.boxes = text, conf, error, []

    def recognize(self, image, boxes, scripts=(), max_height=0):
        from ocr.engines.kraken_lines import LineText

        self.boxes += boxes
        self.scripts = scripts
        out = []
        for x0, y0, x1, y1 in boxes:
            step = (x1 - x0) / max(1, len(self.text))
            cuts = [(int(x0 + i * step), y0, int(x0 + (i + 1) * step), y1) for i in range(len(self.text))]
            out.append(LineText("" if self.error else self.text, self.conf, [self.conf] * len(self.text), cuts,
                                error=self.error))
        return out


def _blocks():
    from ocr.engines.base import RawLine, RawWord

    return [[RawLine.of([RawWord("пля", 0.6, (100, 50, 160, 80)), RawWord("ПЕОС", 0.7, (170, 50, 250, 80))])]]


def test_model_words_are_boxed_by_their_characters_within_the_line():
    from ocr.typed.model_read import words_of

    text = "для КПСС"
    cuts = [(100 + 10 * i, 40, 108 + 10 * i, 90) for i in range(len(text))]
    words = words_of(text, [0.9] * 8, cuts, (100, 50, 250, 80))
    assert [w.text for w in words] == ["для", "КПСС"]
    assert words[0].box == (100, 50, 130, 80) and words[1].box == (140, 50, 250, 80)
    assert all(100 <= w.box[0] < w.box[2] <= 250 for w in words)


@pytest.mark.parametrize("mode,conf,expected", [
    ("model", 0.5, "для КПСС"),  # the model's reading, whatever its confidence
    ("surer", 0.9, "для КПСС"),  # surer than Tesseract's 0.66
    ("surer", 0.5, "пля ПЕОС"),  # less sure: Tesseract's kept
    ("tesseract", 0.9, "пля ПЕОС"),  # the model not asked
])
def test_reread_keeps_per_line_the_reading_the_mode_asks_for(mode, conf, expected):
    from ocr.typed.model_read import reread

    reader = _FakeReader("для КПСС", conf)
    grey = np.full((200, 400), 200, np.uint8)
    out, info = reread(grey, _blocks(), reader, mode)
    assert out[0][0].text == expected
    if mode == "tesseract":
        assert not reader.boxes and info == {}
    else:
        # the box is the line's with the training lines' margin (a third of its height beside, a twelfth above)
        assert reader.boxes == [(90, 48, 260, 82)]
        assert reader.scripts == ("CYRILLIC",)  # the page's language's letters only (reread's default: rus)
        assert info["model_lines"] == 1 and info["model_kept"] == (expected == "для КПСС")


def test_the_vote_asks_the_model_only_about_the_lines_tesseract_reads_less_surely_than_its_gate():
    from ocr.engines.base import RawLine, RawWord
    from ocr.typed.model_read import VOTE_BELOW, reread

    sure = RawLine.of([RawWord("совещание", 0.97, (100, 100, 250, 130))])
    blocks = _blocks() + [[sure]]
    assert sure.conf >= VOTE_BELOW > blocks[0][0].conf
    reader = _FakeReader("для КПСС", 0.9)
    out, info = reread(np.full((200, 400), 200, np.uint8), blocks, reader, "vote")
    assert reader.boxes == [(90, 48, 260, 82)] and info["model_lines"] == 1
    assert out[1][0] is sure


def test_the_vote_leaves_out_a_word_the_model_read_over_another_lines_word_that_reads_alike():
    from ocr.engines.base import RawLine, RawWord
    from ocr.typed.model_read import not_elsewhere

    # Tesseract read "Зам." as a line of its own; the box of the line beside it reached over it
    title = RawLine.of([RawWord("Зам.", 0.96, (302, 1698, 408, 1735))])
    line = RawLine((RawWord("©", 0.55, (77, 1697, 107, 1719)), RawWord("зав.", 0.96, (453, 1695, 559, 1724))),
                   (77, 1687, 559, 1729))
    voted = (RawWord("-", 0.6, (77, 1687, 150, 1729)), RawWord("Зам.", 0.9, (300, 1687, 410, 1729))) + line.words[1:]
    assert [w.text for w in not_elsewhere(voted, line, [[title], [line]])] == ["-", "зав."]
    # over another line's word that reads otherwise (a note's ink read as type), the model's word stays
    garbage = RawLine.of([RawWord("уте", 0.2, (302, 1698, 408, 1735))])
    assert [w.text for w in not_elsewhere(voted, line, [[garbage], [line]])] == ["-", "Зам.", "зав."]
    # Tesseract's own words of the line always stay
    assert not_elsewhere(line.words, line, [[line, RawLine(line.words, line.box)]]) == line.words


def test_a_line_the_model_fails_on_keeps_tesseracts_reading_and_is_counted():
    from ocr.typed.model_read import reread

    out, info = reread(np.full((200, 400), 200, np.uint8), _blocks(), _FakeReader("x", 0.9, error="boom"), "model")
    assert out[0][0].text == "пля ПЕОС" and info["model_failed"] == 1


def test_a_missing_typewriter_model_is_a_one_line_error_naming_the_way_out(tmp_path):
    from ocr.errors import EngineError
    from ocr.typed.model_read import model_path

    with pytest.raises(EngineError, match=r"gone.safetensors: typewriter model file not found .*typed_reader"):
        model_path(str(tmp_path / "gone.safetensors"))


def test_a_kraken_model_rereads_the_typed_lines_of_a_real_page_with_word_boxes_inside_them(tmp_path):
    """The plumbing with the real engines: Tesseract finds the lines, a kraken model (here the bundled
    handwriting model: any kraken recognition model plugs in) reads them, words boxed from its cuts."""
    pytest.importorskip("kraken")
    from ocr.config import Config
    from ocr.engines import get_engine
    from ocr.engines.kraken_lines import DEFAULT_MODEL
    from ocr.loader import expand_inputs
    from ocr.page import recognize_page

    from .conftest import RUSSIAN_LINES, have_tesseract, render_page

    if not have_tesseract("rus"):
        pytest.skip("tesseract rus missing")
    page = tmp_path / "p.png"
    cv2.imwrite(str(page), render_page(RUSSIAN_LINES[:4], noise=5, seed=1))
    cfg = Config().replace("run", lang="rus").replace("tesseract", typed_reader="model",
                                                        typed_model=str(DEFAULT_MODEL))
    ref = expand_inputs([page])[0]
    res = recognize_page(ref, cfg, get_engine("tesseract", cfg), {}, None)
    info = res.info["typed_model"]
    assert info["typed_reader"] == "model" and info["model_lines"] >= 4 and info["model_kept"] >= 3
    lines = res.kept_lines()
    assert len(lines) >= 4
    for ln in lines:
        xs = [x for x, _ in ln.polygon]
        for w in ln.words:
            wx = [x for x, _ in w.polygon]
            assert min(xs) - 2 <= min(wx) < max(wx) <= max(xs) + 2
    plain = recognize_page(ref, Config().replace("run", lang="rus"), get_engine("tesseract", cfg), {}, None)
    assert "typed_model" not in plain.info


def _ws(*pairs):
    from ocr.engines.base import RawWord

    return tuple(RawWord(t, c, (10 * i, 0, 10 * i + 8, 10)) for i, (t, c) in enumerate(pairs))


def _stump(feature: str, threshold: float) -> dict:
    """A one-tree forest: the model's stretch better (class "1") where ``feature`` is at most ``threshold``."""
    from ocr.typed.vote_model import FEATURES

    tree = {"left": [1, -1, -1], "right": [2, -1, -1], "feature": [FEATURES.index(feature), -2, -2],
            "threshold": [threshold, -2.0, -2.0], "value": [[0.5, 0.5], [0.0, 1.0], [1.0, 0.0]]}
    return {"kind": "forest", "classes": ["0", "1"], "features": list(FEATURES), "trees": [tree], "meta": {}}


def test_the_vote_keeps_per_differing_stretch_the_reading_its_forest_calls_better():
    from ocr.layout.classifier import TreeEnsemble
    from ocr.typed.model_read import vote
    from ocr.typed.vote_model import stretches

    tess = _ws(("пля", 0.9), ("членов", 0.8), ("ЦК", 0.9), ("поли", 0.4), ("тических", 0.4))
    model = _ws(("для", 0.6), ("членов", 0.9), ("ЦК", 0.9), ("политических", 0.9))
    runs = stretches(tess, model)
    assert [(same, [w.text for w in a], [w.text for w in b]) for same, a, b in runs] == [
        (False, ["пля"], ["для"]), (True, ["членов", "ЦК"], ["членов", "ЦК"]),
        (False, ["поли", "тических"], ["политических"])]
    # a forest that keeps the model's stretch where its words are far commoner in the language (Zipf)
    known = TreeEnsemble(_stump("diff_mean_zipf", -1.0))  # "пля" 2.2 against "для" 6.7; "поли тических" 1.8, 4.7
    assert [w.text for w in vote(tess, model, "rus", known)] == ["для", "членов", "ЦК", "политических"]
    # one that keeps the model's stretch only where Tesseract read it at 0.3 or less: none here
    unsure = TreeEnsemble(_stump("tess_conf", 0.3))
    assert [w.text for w in vote(tess, model, "rus", unsure)] == [w.text for w in tess]
    assert vote(tess, tess, "rus", known) == tess  # nothing differs: Tesseract's words as they are
    # a line the model could not read (its mean confidence under MODEL_FLOOR) has no vote, whatever the forest says
    lost = _ws(("1", 0.04))
    assert [w.text for w in vote(tess, lost, "rus", TreeEnsemble(_stump("tess_conf", 2.0)))] == [w.text for w in tess]
    assert [w.text for w in vote(tess, _ws(("1", 0.5)), "rus", TreeEnsemble(_stump("tess_conf", 2.0)))] == ["1"]
    # nor does the model drop most of a stretch Tesseract read surely in words of the language
    always = TreeEnsemble(_stump("tess_conf", 2.0))
    sure = _ws(("решение", 0.97), ("до", 0.97), ("августа", 0.96))
    assert [w.text for w in vote(sure, _ws(("(,", 0.52)), "rus", always)] == ["решение", "до", "августа"]
    assert [w.text for w in vote(sure, _ws(("решение", 0.9), ("до", 0.9), ("август", 0.9)), "rus", always)] == [
        "решение", "до", "август"]  # the model's reading as long: the forest decides
    junk = _ws(("ааыв", 0.97), ("ыщщш", 0.97))  # sure, but not words: the forest decides
    assert [w.text for w in vote(junk, _ws((".", 0.52)), "rus", always)] == ["."]


def test_the_vote_forest_learns_from_stretches_labelled_against_the_page_truth():
    import numpy as np

    from ocr.typed.vote_model import examples, line_edits

    truth = "совещание для членов ЦК КПСС"
    code = np.frombuffer(truth.encode("utf-32-le"), np.uint32)
    assert line_edits("членов ЦК", code) == 0 and line_edits("членов ЦКK", code) == 1 and line_edits("", code) == 0
    tess = _ws(("пля", 0.9), ("членов", 0.8), ("ЦК", 0.9), ("КПСС", 0.9))
    model = _ws(("для", 0.6), ("членов", 0.9), ("ЦК", 0.9), ("ПЕОС", 0.9))
    X, gain = examples([(tess, model)], truth, ("ru",))
    assert len(X) == 2 and all(len(x) == 21 for x in X)
    assert gain == [1, -3]  # "для" saves an edit; "ПЕОС" for "КПСС" costs three


def test_a_missing_or_foreign_vote_model_is_a_one_line_error(tmp_path):
    from ocr.errors import EngineError
    from ocr.typed import vote_model

    with pytest.raises(EngineError, match="gone.json: vote model file not found.*train-vote"):
        vote_model.load(str(tmp_path / "gone.json"))
    other = tmp_path / "other.json"
    spec = _stump("tess_conf", 0.5)
    spec["features"] = ["a"] * len(spec["features"])
    other.write_text(json.dumps(spec))
    with pytest.raises(EngineError, match="trained on other features"):
        vote_model.load(str(other))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(EngineError, match="not a memo-ocr vote model"):
        vote_model.load(str(tmp_path / "bad.json"))


def test_the_bundled_vote_model_is_read_with_its_features():
    from ocr.typed import vote_model

    model = vote_model.load()
    assert list(model.features) == list(vote_model.FEATURES) and model.classes == ["0", "1"]
    assert model.meta["pages"] >= 50 and model.meta["stretches"] > 1000


def test_train_vote_without_tuning_pages_is_a_one_line_usage_error(tmp_path):
    from click.testing import CliRunner

    from ocr.train.vote import train_vote, tuning_pages

    assert tuning_pages(tmp_path) == []
    r = CliRunner().invoke(train_vote, ["--data", str(tmp_path), "-w", str(tmp_path / "w"), "-o",
                                        str(tmp_path / "v.json")])
    assert r.exit_code == 2 and "no page of the tuning half" in r.output


def test_a_reel_for_train_vote_is_its_pages_with_their_truth_and_one_without_is_a_usage_error(tmp_path):
    from click.testing import CliRunner

    from ocr.train.vote import reel_pages, train_vote

    reel = tmp_path / "r"
    (reel / "img").mkdir(parents=True)
    (reel / "gt").mkdir()
    for name in ("memo-0001", "memo-0002"):
        (reel / "img" / f"{name}.jpg").write_bytes(b"x")
    (reel / "gt" / "memo-0002.page.xml").write_text("<x/>")
    assert [(n, p.name, lang, gt.name) for n, p, lang, gt in reel_pages(reel)] == [
        ("r", "memo-0002.jpg", "rus", "memo-0002.page.xml")]
    empty = tmp_path / "e"
    (empty / "img").mkdir(parents=True)
    r = CliRunner().invoke(train_vote, ["--data", str(tmp_path), "--reel", str(empty), "-w", str(tmp_path / "w"),
                                        "-o", str(tmp_path / "v.json")])
    assert r.exit_code == 2 and "no page image" in r.output and "memo-ocr synth" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_lines_kind_typed_reads_as_the_pipeline_and_a_missing_typewriter_model_exits_5(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from .conftest import RUSSIAN_LINES, have_tesseract, render_page

    if not have_tesseract("rus"):
        pytest.skip("tesseract rus missing")
    memo_ocr = str(Path(sys.executable).with_name("memo-ocr"))
    img = tmp_path / "line.png"
    cv2.imwrite(str(img), render_page([RUSSIAN_LINES[1]], size=(1000, 70), margin=10, font_px=30))
    r = subprocess.run([memo_ocr, "lines", "--kind", "typed", "--lang", "rus", str(img)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    path, text, conf = r.stdout.rstrip("\n").split("\t")
    assert path == str(img) and "КПСС" in text and 0.5 < float(conf) <= 1.0
    r = subprocess.run([memo_ocr, "lines", "--kind", "typed", "--reader", "model", "--model",
                        str(tmp_path / "none.safetensors"), str(img)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 5 and "none.safetensors: typewriter model file not found" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_run_asked_for_a_missing_typewriter_model_fails_its_pages_with_the_reason_and_exits_5(tmp_path, page_png):
    import subprocess
    import sys
    from pathlib import Path

    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[tesseract]\ntyped_reader = "vote"\ntyped_model = "{tmp_path / "gone.safetensors"}"\n')
    memo_ocr = str(Path(sys.executable).with_name("memo-ocr"))
    r = subprocess.run([memo_ocr, "run", str(page_png), "-o", str(tmp_path / "out"), "-c", str(cfg)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 5
    assert "gone.safetensors: typewriter model file not found" in r.stderr
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert "typewriter model file not found" in run["engine_error"]
    assert [p["status"] for p in run["pages"]] == ["failed"]


def test_training_resumes_from_the_newest_state_the_abort_checkpoint_included(tmp_path):
    ck = tmp_path / "ckpt"
    assert htr_train.newest_state(ck) is None
    ck.mkdir()
    for i, name in enumerate(("checkpoint_00-0.2627.ckpt", "checkpoint_abort.ckpt")):
        (ck / name).write_bytes(b"x")
        os.utime(ck / name, (2000 + i, 2000 + i))
    assert htr_train.newest_state(ck).name == "checkpoint_abort.ckpt"
    # the best by validation is still among the validated ones only
    assert [p.name for _, _, p in htr_train.checkpoints(ck)] == ["checkpoint_00-0.2627.ckpt"]
