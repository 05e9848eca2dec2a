"""End to end with the real Tesseract on small synthetic pages."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from ocr.batch.runner import run_reel
from ocr.batch.worker import init_worker, process_page
from ocr.config import Config
from ocr.formats.readers import read_transcription
from ocr.formats.validate import validate
from ocr.loader import PageRef
from ocr.score.metrics import cer

from .conftest import RUSSIAN_LINES, needs_tesseract, render_page


def memo_ocr(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "ocr", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@needs_tesseract
def test_reel_with_bad_pages_goes_on_and_records_everything(tmp_path):
    reel = tmp_path / "reel"
    reel.mkdir()
    page = render_page(RUSSIAN_LINES, angle=1.5, noise=12, seed=1)
    cv2.imwrite(str(reel / "p1.png"), page)
    (reel / "p2.jpg").write_bytes(b"")
    (reel / "p3.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "p1.gt.txt").write_text("\n".join(RUSSIAN_LINES), encoding="utf-8")
    out = tmp_path / "out"
    r = memo_ocr("run", reel, "-o", out, "--lang", "rus", "--workers", "2", "--gt", gt, "--no-progress")
    assert r.returncode == 1, r.stderr
    # one line per failed page on stderr, naming the file
    fails = [ln for ln in r.stderr.splitlines() if "failed:" in ln]
    assert len(fails) == 2 and any("p2.jpg: empty file" in ln for ln in fails)
    assert any("p3.png" in ln and "corrupt or truncated" in ln for ln in fails)
    run = json.loads((out / "run.json").read_text())
    status = {p["page_id"]: p for p in run["pages"]}
    assert status["p1"]["status"] == "ok" and status["p2"]["status"] == "failed"
    assert status["p1"]["deskew_applied_deg"] == pytest.approx(1.5, abs=0.2)
    assert set(status["p1"]["timings"]) >= {"load", "preprocess", "recognize", "write", "total"}
    assert run["engines"]["tesseract"] and run["config"]["run"]["lang"] == "rus"
    assert run["summary"] == {**run["summary"], "pages": 3, "ok": 1, "failed": 2}
    for name in ("p1.page.xml", "p1.alto.xml"):
        assert validate(out / name) == [], name
    text = (out / "p1.txt").read_text(encoding="utf-8")
    assert cer("\n".join(RUSSIAN_LINES), text) < 0.05, text
    assert "ALL (micro)" in r.stdout and "p1" in r.stdout
    run = json.loads((out / "run.json").read_text())
    assert run["accuracy"]["cer"]["rate"] < 0.05 and (out / "report" / "report.html").exists()
    # line polygons are in the original image's pixel space: each covers ink of the skewed page
    lines = read_transcription(out / "p1.page.xml")
    assert len(lines) == len(RUSSIAN_LINES)
    from lxml import etree

    ns = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
    doc = etree.parse(str(out / "p1.page.xml"))
    for coords in doc.iterfind(".//pc:TextLine/pc:Coords", ns):
        pts = np.array([[int(v) for v in p.split(",")] for p in coords.get("points").split()], np.int32)
        mask = np.zeros(page.shape, np.uint8)
        cv2.fillPoly(mask, [pts], 1)
        ink_fraction = ((page < 128) & (mask > 0)).sum() / mask.sum()
        assert ink_fraction > 0.015, coords.get("points")


@needs_tesseract
def test_missing_language_fails_every_page_with_one_line(tmp_path, page_png):
    out = tmp_path / "out"
    r = memo_ocr("run", page_png, "-o", out, "--lang", "xyz", "--no-progress")
    assert r.returncode == 5
    last = r.stderr.strip().splitlines()[-1]
    assert "Tesseract language xyz is not installed" in last and "tesseract-ocr-xyz" in last
    run = json.loads((out / "run.json").read_text())
    assert [p["status"] for p in run["pages"]] == ["failed"]


def test_config_error_exit_code(tmp_path, page_png):
    bad = tmp_path / "c.toml"
    bad.write_text("[tesseract]\npsm = 42\n")
    r = memo_ocr("run", page_png, "-o", tmp_path / "o", "-c", bad)
    assert r.returncode == 3 and "psm = 42" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_no_inputs_found(tmp_path):
    (tmp_path / "empty").mkdir()
    r = memo_ocr("run", tmp_path / "empty", "-o", tmp_path / "o")
    assert r.returncode == 2 and "no page images" in r.stderr


def test_null_engine_reel_writes_valid_empty_pages(tmp_path, page_png):
    report = run_reel([PageRef("memo", page_png)], tmp_path / "o", Config(), workers=1, engine_name="null",
                      progress=False)
    assert [p.status for p in report.pages] == ["ok"]
    assert validate(tmp_path / "o" / "memo.page.xml") == []
    assert (tmp_path / "o" / "memo.txt").read_text() == ""


def test_unexpected_error_in_a_stage_fails_only_that_page(tmp_path, page_png, monkeypatch):
    import ocr.page

    init_worker(Config().replace("run", memory_limit_mb=0).to_dict(), "null")  # no rlimit on pytest itself

    def boom(*a, **k):
        raise ValueError("synthetic bug")

    monkeypatch.setattr(ocr.page, "preprocess", boom)
    outcome = process_page(PageRef("memo", page_png), str(tmp_path))
    assert outcome.status == "failed" and "internal error ValueError: synthetic bug" in outcome.error


def _worker_threads(cfg_dict):
    """In a fresh worker process: OpenCV's and BLAS's threads after ``init_worker``."""
    import cv2
    from threadpoolctl import threadpool_info

    init_worker(cfg_dict, "null")
    return cv2.getNumThreads(), sorted({i["num_threads"] for i in threadpool_info()})


def test_a_worker_runs_one_thread_of_opencv_and_of_blas():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        cv_threads, blas = ex.submit(_worker_threads, Config().replace("run", memory_limit_mb=0).to_dict()).result()
    assert cv_threads == 1 and blas in ([1], [])


@needs_tesseract
def test_score_command_on_run_output(tmp_path, page_png):
    out = tmp_path / "out"
    assert memo_ocr("run", page_png, "-o", out, "--no-progress").returncode == 0
    gt = tmp_path / "memo.gt.txt"
    gt.write_text("\n".join(RUSSIAN_LINES), encoding="utf-8")
    r = memo_ocr("score", out / "memo.page.xml", "--gt", gt)
    assert r.returncode == 0 and "ALL (micro)" in r.stdout
    r = memo_ocr("score", out, "--gt", tmp_path / "nothing-here")
    assert r.returncode == 2


def test_every_text_fix_has_its_switch_its_record_and_runs_only_when_switched_on():
    import dataclasses

    from ocr.config import TesseractConfig
    from ocr.engines.base import NullEngine, RawLine, RawWord
    from ocr.typed.fixes import FIXES, Context, apply_fixes

    switches = {f.name for f in dataclasses.fields(TesseractConfig)}
    assert all(fix.key in switches for fix in FIXES)
    assert len({fix.key for fix in FIXES}) == len({fix.record for fix in FIXES}) == len({fix.name for fix in FIXES}) \
        == len(FIXES)
    line = RawLine.of([RawWord("“Dr.Minz", 0.9, (10, 10, 90, 30)), RawWord("arrived”", 0.9, (100, 10, 180, 30))])
    ctx = Context(np.full((60, 200), 255, np.uint8), 10.0, "eng", NullEngine())
    blocks, info, steps = apply_fixes([[line]], ctx, Config())
    # the engine reads no piece of the page: the fixes that need one do not run; the others all record a count
    assert set(info) == {fix.record for fix in FIXES if fix.key not in ("merged_rows", "page_numbers")}
    assert blocks[0][0].text == '"Dr. Minz arrived"' and info["spaced_after_marks"] == 1
    assert "space-after-marks(1 words)" in steps
    off = Config().replace("tesseract", space_after_marks=False, straight_quotes=False)
    blocks, info, _ = apply_fixes([[line]], ctx, off)
    assert "spaced_after_marks" not in info and "straightened_quotes" not in info
    assert blocks[0][0].text == "“Dr.Minz arrived”"


@needs_tesseract
def test_a_typed_cyrillic_page_is_read_without_importing_pytorch(tmp_path):
    # PyTorch (2 s and ~450 MB per worker) only for handwriting: the ink separation network runs in NumPy,
    # and a doubtful candidate the network does not call handwriting is not read with the kraken model
    page = tmp_path / "p.png"
    cv2.imwrite(str(page), render_page(RUSSIAN_LINES, angle=0.8, noise=8, seed=3))
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from ocr.config import Config\n"
            "from ocr.engines import get_engine\n"
            "from ocr.loader import expand_inputs\n"
            "from ocr.page import recognize_page\n"
            "cfg = Config().replace('run', lang='rus')\n"
            f"p = recognize_page(expand_inputs([Path({str(page)!r})])[0], cfg, get_engine('tesseract', cfg), {{}}, None)\n"
            "print(len(p.kept_lines()), 'torch' in sys.modules, 'kraken' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines, torch, kraken = out.stdout.split()
    assert int(lines) >= 5 and torch == "False" and kraken == "False"
