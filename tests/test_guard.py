"""Never lose a page: coloured typescripts keep their text, rejected lines stay visible, collapsed readings are
flagged (``ocr.guard``), and a letter-spaced typed line is kept."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from lxml import etree

from ocr.batch.runner import run_reel
from ocr.config import Config
from ocr.engines.base import RawLine, RawWord
from ocr.engines.tesseract import TesseractEngine
from ocr.formats.validate import validate
from ocr.guard import judge, letter_centres
from ocr.loader import PageRef
from ocr.model import Line, Region, Word
from ocr.page import recognize_page
from ocr.colour import to_grey
from ocr.score.metrics import cer
from ocr.synth.scan import COLOURS, recolour
from ocr.typed.lines import classify_lines, trim_line

from .conftest import RUSSIAN_LINES, needs_tesseract, render_page
from .test_pipeline import memo_ocr

NS = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}


def _typed(text: str, conf: float, x: int, y: int, h: int = 30, pitch: int = 20) -> RawLine:
    words, cx = [], x
    for w in text.split():
        words.append(RawWord(w, conf, (cx, y, cx + pitch * len(w), y + h)))
        cx += pitch * (len(w) + 1)
    return RawLine.of(words)


@pytest.mark.parametrize("colour", COLOURS)
def test_colour_dropout_keeps_a_coloured_typescripts_text(colour):
    grey = render_page(RUSSIAN_LINES, noise=6, seed=3)
    page = recolour(grey, colour)
    out, plain = to_grey(page), cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    # the text's own ink is never turned to paper, whatever its colour
    assert (out[grey < 128] == plain[grey < 128]).mean() > 0.99


def test_colour_dropout_still_drops_a_stamp_of_another_colour():
    grey = render_page(RUSSIAN_LINES, noise=6, seed=3)
    page = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    cv2.circle(page, (1200, 600), 160, (190, 70, 125), 12)  # a violet ring over black type
    out = to_grey(page)
    assert out[600, 1200 + 160] > 200 and out[600 - 160, 1200] > 200
    # on a violet typescript, a red pencil stroke is another ink: dropped, the text kept
    violet = recolour(grey, "violet")
    cv2.line(violet, (100, 1900), (1500, 1900), (40, 40, 210), 10)
    out, plain = to_grey(violet), cv2.cvtColor(violet, cv2.COLOR_BGR2GRAY)
    assert out[1900, 800] > 200 and (out[grey < 128] == plain[grey < 128]).mean() > 0.99


@needs_tesseract
@pytest.mark.parametrize("colour", COLOURS)
def test_coloured_page_reads_as_well_as_its_grey_version(tmp_path, colour):
    grey = render_page(RUSSIAN_LINES, angle=0.8, noise=8, seed=5)
    ref = "\n".join(RUSSIAN_LINES)
    cfg = Config().replace("run", lang="rus").replace("layout", enabled=False)
    errs = {}
    for name, img in (("grey", grey), (colour, recolour(grey, colour))):
        path = tmp_path / f"{name}.png"
        cv2.imwrite(str(path), img)
        page = recognize_page(PageRef(name, path), cfg, TesseractEngine("rus", cfg.tesseract))
        errs[name] = cer(ref, page.text())
    assert errs["grey"] < 0.05
    assert errs[colour] <= errs["grey"] + 0.01, errs


def test_letter_spaced_line_is_kept():
    body = [_typed("the body of the letter is typed here in full", 0.93, 100, 100 + 50 * i) for i in range(6)]
    spaced = RawLine.of([RawWord("10.", 0.9, (100, 420, 140, 450))]
                        + [RawWord(c, 0.45, (160 + 28 * i, 420, 178 + 28 * i, 450)) for i, c in enumerate("Hirschberger")]
                        + [RawWord("II.,", 0.6, (520, 420, 580, 450)), RawWord("Obere", 0.8, (600, 420, 700, 450))])
    [rows] = classify_lines([body + [spaced]])
    line, ok = rows[-1]
    assert ok and "H i r s c h b e r g e r" in line.text
    # the trimming of specks at a line's ends leaves a letter-spaced word whole
    tail = RawLine.of([RawWord("Name:", 0.9, (100, 420, 200, 450))]
                      + [RawWord(c, 0.3, (220 + 28 * i, 420, 238 + 28 * i, 450)) for i, c in enumerate("Berner")])
    assert trim_line(tail, 0.6).text == "Name: B e r n e r"
    # a short scrap at a line's end is still trimmed
    scrap = RawLine.of(list(tail.words[:1]) + [RawWord("ee", 0.2, (400, 420, 440, 450))])
    assert trim_line(scrap, 0.6).text == "Name:"


def typed_region(text: str, conf: float, box, kept=True) -> Region:
    x0, y0, x1, y1 = box
    poly = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    words = tuple(Word(w, conf, poly) for w in text.split())
    return Region("r1", poly, (Line("r1_l1", text, poly, (), conf, words),), kept=kept)


def test_judge_measures_confidence_and_coverage():
    page = render_page(RUSSIAN_LINES)
    centres = letter_centres(page, 24.0)
    assert len(centres) > 200
    h, w = page.shape
    whole = judge([typed_region("Генеральный секретарь", 0.9, (0, 0, w, h))], centres, (w, h))
    assert whole.conf == pytest.approx(0.9) and whole.cover == 1.0 and not whole.retry_reason()
    top = judge([typed_region("Генеральный секретарь", 0.9, (0, 0, w, 200))], centres, (w, h))
    assert top.cover < 0.3 and "text-like ink" in top.retry_reason()
    unsure = judge([typed_region("ее ее", 0.2, (0, 0, w, h))], centres, (w, h))
    assert "0.20" in unsure.retry_reason() and "0.20" in unsure.suspect_reason()
    nothing = judge([typed_region("ее", 0.2, (0, 0, w, h), kept=False)], centres, (w, h))
    assert nothing.conf is None and nothing.suspect_reason() == "no line read on a page with text-like ink"
    blank = judge([], letter_centres(np.full((800, 600), 255, np.uint8), 20.0), (600, 800))
    assert blank.cover is None and not blank.retry_reason() and not blank.suspect_reason()


def scribbles(seed: int = 7) -> np.ndarray:
    """A page of rows of letter-sized scribbles: text-like ink that no language reads."""
    rng = np.random.default_rng(seed)
    img = np.full((2200, 1700), 255, np.uint8)
    for row in range(14):
        x, y = 150, 200 + row * 120
        while x < 1500:
            pts = np.stack([x + rng.integers(0, 24, 6), y + rng.integers(0, 30, 6)], 1).astype(np.int32)
            cv2.polylines(img, [pts], False, 0, 3)
            x += int(rng.integers(30, 60))
    return img


def test_collapsed_reading_is_suspect_in_run_json(tmp_path):
    cv2.imwrite(str(tmp_path / "p1.png"), render_page(RUSSIAN_LINES))
    out = tmp_path / "out"
    report = run_reel([PageRef("p1", tmp_path / "p1.png")], out, Config().replace("layout", enabled=False),
                      workers=1, engine_name="tests.fakes:GarbleEngine", progress=False)
    assert [p.status for p in report.pages] == ["suspect"] and not report.failed
    run = json.loads((out / "run.json").read_text())
    [page] = run["pages"]
    assert page["status"] == "suspect" and "words read at 0.12" in page["error"]
    # every line was rejected: the plain reading (all lines kept) has more letters, still at 0.12
    assert page["guard"]["retry"] == "no line read on a page with text-like ink" and page["guard"]["kept"] == "plain"
    assert run["summary"]["suspect"] == 1 and run["summary"]["ok"] == 0 and run["summary"]["failed"] == 0
    assert validate(out / "p1.page.xml") == []


@needs_tesseract
def test_collapsed_page_is_flagged_by_the_command(tmp_path):
    reel = tmp_path / "reel"
    reel.mkdir()
    cv2.imwrite(str(reel / "scribbles.png"), scribbles())
    cv2.imwrite(str(reel / "typed.png"), render_page(RUSSIAN_LINES))
    out = tmp_path / "out"
    args = ("run", reel, "-o", out, "--workers", "1", "--no-progress", "--lang", "rus", "--config", _no_layout(tmp_path))
    r = memo_ocr(*args)
    assert r.returncode == 4, r.stderr
    assert "page scribbles suspect" in r.stderr and "1 suspect" in r.stderr and "1 of 2 pages ok" in r.stderr
    status = {p["page_id"]: p["status"] for p in json.loads((out / "run.json").read_text())["pages"]}
    assert status == {"scribbles": "suspect", "typed": "ok"}
    # resuming: a suspect page is done (its files are written), not redone
    r = memo_ocr(*args)
    assert r.returncode == 4 and "2 skipped" in r.stderr


def test_plain_reading_replaces_a_collapsed_one(tmp_path):
    path = tmp_path / "small.png"
    cv2.imwrite(str(path), render_page(RUSSIAN_LINES, font_px=22))  # small type: the pipeline rescales it
    cfg = Config().replace("layout", enabled=False)
    from tests.fakes import RescaleBreaksEngine

    page = recognize_page(PageRef("small", path), cfg, RescaleBreaksEngine(cfg))
    assert page.info["guard"]["kept"] == "plain" and "suspect" not in page.info
    assert any(s.startswith("plain-reading(") for s in page.steps)
    assert "typed words here" in page.text()
    # the collapsed reading's rejected lines stay beside it, marked, not lost
    assert any(not r.kept for r in page.regions)
    off = recognize_page(PageRef("small", path), cfg.replace("run", guard=False), RescaleBreaksEngine(cfg))
    assert "guard" not in off.info or "kept" not in off.info["guard"]
    assert "typed words here" not in off.text()


def test_rejected_lines_stay_in_page_xml_with_their_reason(tmp_path):
    reel = tmp_path / "reel"
    reel.mkdir()
    page = render_page(RUSSIAN_LINES)
    cv2.imwrite(str(reel / "p1.png"), page)
    out = tmp_path / "out"
    report = run_reel([PageRef("p1", reel / "p1.png")], out, Config().replace("layout", enabled=False),
                      workers=1, engine_name="tests.fakes:RescaleBreaksEngine", progress=False)
    [o] = report.pages
    assert o.info["rejected_lines"] >= 1 and o.info["rejected_chars"] >= 2
    assert validate(out / "p1.page.xml") == []
    doc = etree.parse(str(out / "p1.page.xml"))
    rejected = doc.findall(".//pc:TextRegion[@type='other']", NS)
    assert rejected and all(r.get("custom") == "structure {type:rejected;}" for r in rejected)
    reasons = [ln.get("custom") for r in rejected for ln in r.findall("pc:TextLine", NS)]
    assert reasons and all(c.startswith("rejected {reason:") and c.endswith(";}") for c in reasons), reasons
    assert report.to_dict()["summary"]["rejected_lines"] == o.info["rejected_lines"]


def _no_layout(tmp_path):
    p = tmp_path / "no-layout.toml"
    p.write_text("[layout]\nenabled = false\n")
    return p


def test_a_suspect_page_is_marked_in_the_accuracy_table_and_report(tmp_path):
    from ocr.score.pages import pair_inputs, score_pairs
    from ocr.score.report import summary_table, write_reports
    from ocr.score.runs import statuses_from_run

    cv2.imwrite(str(tmp_path / "p1.png"), render_page(RUSSIAN_LINES))
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "p1.gt.txt").write_text("\n".join(RUSSIAN_LINES), encoding="utf-8")
    out = tmp_path / "out"
    run_reel([PageRef("p1", tmp_path / "p1.png")], out, Config().replace("layout", enabled=False), workers=1,
             engine_name="tests.fakes:GarbleEngine", progress=False)
    statuses = statuses_from_run(out)
    assert statuses["p1"].startswith("suspect: words read at 0.12")
    pages = score_pairs(pair_inputs(out, gt), Config().score.get_profile(), statuses=statuses)
    assert "p1 (suspect)" in summary_table(pages)
    report = write_reports(pages, Config().score.get_profile(), str(out), str(gt), tmp_path / "report")
    assert report["pages"][0]["run_status"].startswith("suspect")
    assert 'class="flag"' in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
