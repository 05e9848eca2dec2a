"""The Tesseract back ends: the in-process library (tesserocr) and the command-line program agree,
and each error path gives one clear line."""
from __future__ import annotations

import sys

import pytest
from rapidfuzz.distance import Levenshtein

from ocr.config import Config
from ocr.engines import tesseract as T
from ocr.errors import EngineError, LanguageMissingError

from .conftest import RUSSIAN_LINES, needs_tesseract, render_page


@pytest.fixture(scope="module")
def page():
    return render_page(RUSSIAN_LINES[:4], size=(1500, 700), seed=3, noise=6.0)


def _text(data: dict) -> str:
    return " ".join(str(t).strip() for t in data["text"] if str(t).strip())


@needs_tesseract
def test_api_and_cli_read_the_same_page(page):
    api = T.image_to_data(page, "rus", psm=3, dpi=300, backend="api")
    cli = T.image_to_data(page, "rus", psm=3, dpi=300, backend="cli")
    truth = " ".join(RUSSIAN_LINES[:4])
    for data in (api, cli):
        assert set(data) == set(T.TSV_FIELDS)
        assert len({len(v) for v in data.values()}) == 1  # columns of one length
        assert Levenshtein.normalized_distance(_text(data), truth) < 0.05
    # the two Tesseract versions (library 5.5, Debian's program 5.3) may differ in a character or two
    assert Levenshtein.distance(_text(api), _text(cli)) <= 3
    lines = T.group_tsv(api)
    assert sum(len(b) for b in lines) == 4
    assert [w.text for w in lines[0][0].words][:2] == ["Генеральный", "секретарь"]


@needs_tesseract
def test_engine_reads_with_both_backends():
    img = render_page(RUSSIAN_LINES[4:6], size=(1500, 400))
    for backend in T.BACKENDS:
        cfg = Config().replace("tesseract", backend=backend).tesseract
        eng = T.TesseractEngine("rus", cfg)
        assert eng.version.count(".") >= 1
        words = [w.text for b in eng.recognize(img) for ln in b for w in ln.words]
        assert "возможным" in words and "поездку" in words


@needs_tesseract
def test_api_instance_is_kept_and_its_parameters_restored(page):
    T.image_to_data(page[:200], "rus", psm=6, backend="api")
    api = T._api("rus", 1)
    before = api.GetVariableAsString("tessedit_do_invert")
    T.image_to_data(page[:200], "rus", psm=6, variables={"tessedit_do_invert": 0}, backend="api")
    assert T._api("rus", 1) is api  # loaded once per process
    assert api.GetVariableAsString("tessedit_do_invert") == before


@needs_tesseract
def test_api_timeout_is_an_engine_error(page):
    big = render_page(RUSSIAN_LINES * 4, size=(1700, 2200), spacing=1.2)
    with pytest.raises(EngineError, match="timeout"):
        T.image_to_data(big, "rus", psm=3, dpi=300, timeout=0.001, backend="api")
    # the kept instance still works afterwards
    assert "Генеральный" in _text(T.image_to_data(page, "rus", psm=3, backend="api"))


@needs_tesseract
def test_unknown_parameter_is_an_engine_error(page):
    with pytest.raises(EngineError, match="unknown parameter no_such_param"):
        T.image_to_data(page, "rus", psm=6, variables={"no_such_param": 1}, backend="api")


def test_colour_image_is_refused():
    import numpy as np

    with pytest.raises(EngineError, match="grey 8-bit"):
        T.image_to_data(np.zeros((10, 10, 3), np.uint8), "rus", psm=6)


def test_missing_tesserocr_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "tesserocr", None)  # import fails
    with pytest.raises(EngineError, match=r"pip install tesserocr.*backend = \"cli\""):
        T.tesseract_version("api")


def test_tessdata_prefix_without_models_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    with pytest.raises(LanguageMissingError) as e:
        T.check_languages("rus", "api")
    assert str(tmp_path) in str(e.value) and "\n" not in str(e.value)


@needs_tesseract
def test_missing_language_names_the_package():
    with pytest.raises(LanguageMissingError, match="apt-get install tesseract-ocr-xyz"):
        T.check_languages("rus+xyz", "api")


def test_parse_tsv_keeps_empty_text_and_skips_headers():
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
           "1\t1\t0\t0\t0\t0\t0\t0\t100\t50\t-1\t\n"
           "5\t1\t1\t1\t1\t1\t10\t12\t30\t14\t91.5\tслово\n")
    d = T.parse_tsv(tsv)
    assert d["level"] == [1, 5] and d["text"] == ["", "слово"] and d["conf"] == [-1.0, 91.5]
    assert d["left"][1] == 10 and d["height"][1] == 14


def test_library_messages_stay_off_the_terminal(capfd):
    import os

    with T._stderr_to_file() as f:
        os.write(2, b"Error in boxClipToRectangle: box outside rectangle\n")
    assert b"boxClipToRectangle" in f.read()
    os.write(2, b"after\n")
    err = capfd.readouterr().err
    assert "boxClipToRectangle" not in err and "after" in err


@needs_tesseract
def test_a_page_whose_paper_a_global_otsu_would_split_is_read_with_sauvola():
    import numpy as np

    img = render_page(RUSSIAN_LINES[:6], size=(1500, 900), seed=3).astype(np.float32)
    faint = 235 - (255 - img) * (85 / 255)  # grey typewriter ink (150) on paper 235
    light = np.ones_like(faint)
    light[:, :750] = 0.74  # the left half in shadow: Otsu puts its threshold between the two papers
    light[450:, :] *= 0.9
    page = np.clip(faint * light, 0, 255).astype(np.uint8)
    assert T.otsu_splits_paper(page) and not T.otsu_splits_paper(np.clip(faint, 0, 255).astype(np.uint8))
    eng = T.TesseractEngine("rus", Config().tesseract)
    words = [w.text for b in eng.recognize(page) for ln in b for w in ln.words]
    assert eng.threshold_used == "sauvola" and len(words) >= 30
    otsu = T.group_tsv(T.image_to_data(page, "rus", psm=3, dpi=300, variables=eng.variables))
    assert sum(len(ln.words) for b in otsu for ln in b) < len(words) / 2  # what Tesseract's own Otsu read
    eng.recognize(np.clip(faint, 0, 255).astype(np.uint8))
    assert eng.threshold_used == "otsu"
    fixed = T.TesseractEngine("rus", Config().replace("tesseract", threshold="adaptive-otsu").tesseract)
    fixed.recognize(page)
    assert fixed.threshold_used == "adaptive-otsu"  # only the default Otsu is replaced
