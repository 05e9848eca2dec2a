"""The command line: every command documents its exit statuses; -q / -v / -vv say less or more; validate
takes a run's folder; config prints the configuration in effect (read back equal) and the reference."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ocr import config as C
from ocr.cli import main

from .conftest import needs_tesseract
from .test_formats import sample_page

MEMO_OCR = str(Path(sys.executable).with_name("memo-ocr"))


def test_every_command_documents_its_exit_statuses():
    runner = CliRunner()
    for name in main.commands:
        r = runner.invoke(main, [name, "--help"])
        assert r.exit_code == 0 and "Exit status" in r.output, name


@needs_tesseract
def test_quiet_verbose_and_debug_say_less_or_more_on_stderr(page_png, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")

    def run(before: list[str], after: list[str], out: str) -> list[str]:
        r = subprocess.run([MEMO_OCR, *before, "run", *after, str(page_png), str(bad), "-o", str(tmp_path / out),
                            "--lang", "rus", "--workers", "1"], capture_output=True, text=True)
        assert r.returncode == 1, r.stderr  # the bad page failed, the other is written
        return r.stderr.strip().splitlines()

    default = run([], [], "o0")
    assert any("page bad failed: " in ln and str(bad) in ln for ln in default)
    assert any("1 of 2 pages ok" in ln for ln in default) and not any("ok in" in ln for ln in default)
    quiet = run([], ["-q"], "o1")  # errors only: the failed page, no summary
    assert len(quiet) == 1 and "page bad failed: " in quiet[0]
    verbose = run(["-v"], [], "o2")
    assert any(ln.startswith("memo-ocr: page memo ok in ") for ln in verbose)
    assert not any("stages:" in ln for ln in verbose)
    debug = run([], ["-vv"], "o3")
    stages = [ln for ln in debug if ln.startswith("memo-ocr: page memo stages: ")]
    assert len(stages) == 1 and "preprocess" in stages[0] and "recognize" in stages[0]


def test_validate_takes_a_folder_and_names_each_file(tmp_path):
    from ocr.formats.alto import to_alto
    from ocr.formats.pagexml import to_pagexml

    page = sample_page()
    (tmp_path / "p1.page.xml").write_bytes(to_pagexml(page, "t"))
    (tmp_path / "p1.alto.xml").write_bytes(to_alto(page, "t", "0"))
    (tmp_path / "p1.txt").write_text("not XML, not validated")
    r = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert r.exit_code == 0 and r.output.count(": valid") == 2, r.output
    (tmp_path / "p2.page.xml").write_text("<PcGts/>")
    r = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert r.exit_code == 1 and "p2.page.xml: invalid" in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = CliRunner().invoke(main, ["validate", str(empty)])
    assert r.exit_code == 2 and "no PAGE XML, ALTO or METS files" in r.output


def test_config_dump_prints_every_key_and_reads_back_equal(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('[run]\nlang = "rus+eng"\n[tesseract]\nlexicon = false\n'
                    '[score.profiles.mine]\nfold_yo = true\nreplace = { "ѣ" = "е" }\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["config", "-c", str(mine)])
    assert r.exit_code == 0
    dumped = tmp_path / "dumped.toml"
    dumped.write_text(r.output, encoding="utf-8")
    assert C.load(dumped) == C.load(mine)
    assert "merged_rows = true" in r.output and "(advanced)" in r.output  # every key, the advanced ones marked
    r = CliRunner().invoke(main, ["config", "--reference"])
    assert r.exit_code == 0 and r.output == C.reference()
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nworkers = -1\n")
    r = CliRunner().invoke(main, ["config", "-c", str(bad)])
    assert r.exit_code == 3 and "[run] workers" in r.output
