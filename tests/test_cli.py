"""The command line: every command documents its exit statuses; validate takes a run's folder; config prints
the configuration in effect (read back equal) and the reference."""
from __future__ import annotations

from click.testing import CliRunner

from ocr import config as C
from ocr.cli import main

from .test_formats import sample_page


def test_every_command_documents_its_exit_statuses():
    runner = CliRunner()
    for name in main.commands:
        r = runner.invoke(main, [name, "--help"])
        assert r.exit_code == 0 and "Exit status" in r.output, name


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
