"""Reel-scale runs: the ledger (skip, redo, retry), fault isolation, early stop, and resume after SIGKILL."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from ocr.batch.runner import run_reel
from ocr.config import Config
from ocr.loader import expand_inputs

from .conftest import ROOT, RUSSIAN_LINES, needs_tesseract, render_page


def make_reel(folder, n, lines=RUSSIAN_LINES[:3]):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"p{i + 1:02d}.png"), render_page(lines[i % len(lines):] + lines[:i % len(lines)],
                                                                   size=(1000, 700), margin=60, seed=i))
    return folder


def runs(out):
    db = sqlite3.connect(str(out / "ledger.sqlite"))
    try:
        return dict(db.execute("SELECT page_id, runs FROM pages").fetchall())
    finally:
        db.close()


def test_rerun_skips_done_redoes_changed_and_config_changes(tmp_path):
    reel = make_reel(tmp_path / "reel", 3)
    out = tmp_path / "out"
    cfg = Config()
    first = run_reel(expand_inputs([reel]), out, cfg, workers=2, engine_name="null", progress=False)
    assert first.to_dict()["summary"]["done_now"] == 3
    again = run_reel(expand_inputs([reel]), out, cfg, workers=2, engine_name="null", progress=False)
    s = again.to_dict()["summary"]
    assert (s["done_now"], s["skipped"], s["ok"]) == (0, 3, 3)
    assert runs(out) == {"p01": 1, "p02": 1, "p03": 1}
    cv2.imwrite(str(reel / "p02.png"), render_page(["другой текст"], size=(1000, 700), margin=60))
    changed = run_reel(expand_inputs([reel]), out, cfg, workers=2, engine_name="null", progress=False)
    assert changed.to_dict()["summary"]["done_now"] == 1 and runs(out)["p02"] == 2
    (out / "p03.txt").unlink()  # a lost output file is redone too
    other = cfg.replace("preprocess", deskew=False)
    redo = run_reel(expand_inputs([reel]), out, other, workers=2, engine_name="null", progress=False)
    assert redo.to_dict()["summary"]["done_now"] == 3
    assert json.loads((out / "run.json").read_text())["summary"]["skipped"] == 0


def test_pages_are_redone_when_a_model_they_were_read_with_changes_in_place(tmp_path):
    # `memo-ocr train --from-corrections` installs a better model at the path the configuration names
    reel = make_reel(tmp_path / "reel", 2)
    out = tmp_path / "out"
    model = tmp_path / "layout.json"
    model.write_bytes((ROOT / "ocr" / "models" / "layout.json").read_bytes())
    cfg = Config().replace("layout", model=str(model))
    first = run_reel(expand_inputs([reel]), out, cfg, workers=1, engine_name="null", progress=False)
    assert first.to_dict()["summary"]["done_now"] == 2
    again = run_reel(expand_inputs([reel]), out, cfg, workers=1, engine_name="null", progress=False)
    assert again.to_dict()["summary"]["skipped"] == 2
    model.write_bytes(model.read_bytes() + b"\n")  # the same path, other bytes
    redo = run_reel(expand_inputs([reel]), out, cfg, workers=1, engine_name="null", progress=False)
    assert redo.to_dict()["summary"]["done_now"] == 2 and runs(out) == {"p01": 2, "p02": 2}


def test_failed_pages_are_retried_only_when_asked_or_changed(tmp_path):
    reel = make_reel(tmp_path / "reel", 2)
    (reel / "p03.png").write_bytes(b"broken")
    out = tmp_path / "out"
    refs = expand_inputs([reel])
    run_reel(refs, out, Config(), workers=1, engine_name="null", progress=False)
    again = run_reel(refs, out, Config(), workers=1, engine_name="null", progress=False)
    assert again.to_dict()["summary"]["failed"] == 1 and runs(out)["p03"] == 1
    run_reel(refs, out, Config(), workers=1, engine_name="null", progress=False, retry_failed=True)
    assert runs(out)["p03"] == 2
    cv2.imwrite(str(reel / "p03.png"), render_page(["исправлено"], size=(600, 300), margin=40))
    fixed = run_reel(expand_inputs([reel]), out, Config(), workers=1, engine_name="null", progress=False)
    assert fixed.to_dict()["summary"]["failed"] == 0


@pytest.mark.parametrize("engine,message", [
    ("tests.fakes:HangEngine", "timed out after 3 s"),
    ("tests.fakes:CrashEngine", "worker process died"),
    ("tests.fakes:MemoryEngine", "out of memory"),
])
def test_a_bad_page_fails_alone(tmp_path, monkeypatch, engine, message):
    monkeypatch.chdir(ROOT)  # spawned workers import the plugin from the repository root
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    reel = make_reel(tmp_path / "reel", 4)
    cv2.imwrite(str(reel / "p02.png"), np.full((700, 1000), 30, np.uint8))  # the dark page the fakes trip on
    # the fakes read nothing, so the layout stage would take every text line for handwriting: not tested here
    cfg = Config().replace("run", page_timeout=3.0, memory_limit_mb=3072).replace("layout", enabled=False)
    t = time.perf_counter()
    report = run_reel(expand_inputs([reel]), tmp_path / "out", cfg, workers=2, engine_name=engine, progress=False)
    assert time.perf_counter() - t < 60
    status = {p.page_id: p for p in report.pages}
    assert status["p02"].status == "failed" and message in status["p02"].error
    assert all(status[p].status == "ok" for p in ("p01", "p03", "p04"))
    assert json.loads((tmp_path / "out" / "run.json").read_text())["summary"]["failed"] == 1


def test_abort_and_failure_ratio_stop_the_run(tmp_path):
    reel = tmp_path / "reel"
    reel.mkdir()
    for i in range(12):
        (reel / f"b{i:02d}.png").write_bytes(b"not an image")
    report = run_reel(expand_inputs([reel]), tmp_path / "o1", Config().replace("run", on_error="abort"),
                         workers=1, engine_name="null", progress=False)
    assert "on_error" in report.stopped and len(report.pages) < 12
    report = run_reel(expand_inputs([reel]), tmp_path / "o2", Config(), workers=1, engine_name="null",
                         progress=False)
    assert "max_failure_ratio" in report.stopped and 10 <= len(report.pages) < 12


def _strip_times(xml: bytes) -> bytes:
    import re

    return re.sub(rb"<(Created|LastChange)>[^<]*</\1>", b"", xml)


@needs_tesseract
def test_sigkill_mid_reel_then_rerun_matches_an_uninterrupted_run(tmp_path):
    reel = make_reel(tmp_path / "reel", 6, RUSSIAN_LINES)
    cmd = [sys.executable, "-m", "ocr", "run", str(reel), "--lang", "rus", "--workers", "2", "--no-progress"]
    clean = tmp_path / "clean"
    subprocess.run(cmd + ["-o", str(clean)], check=True, capture_output=True, timeout=600)
    out = tmp_path / "out"
    proc = subprocess.Popen(cmd + ["-o", str(out)], start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    done_before = {}
    while time.time() < deadline:
        if (out / "ledger.sqlite").exists():
            try:
                done_before = runs(out)
            except sqlite3.OperationalError:
                done_before = {}
            if len(done_before) >= 2:
                break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 2 <= len(done_before) < 6, "the run was not interrupted part-way"
    r = subprocess.run(cmd + ["-o", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    run = json.loads((out / "run.json").read_text())
    skipped = {p["page_id"] for p in run["pages"] if p.get("skipped")}
    assert set(done_before) <= skipped  # nothing done before the kill was done again
    assert all(n == 1 for n in runs(out).values())  # no page processed twice
    for f in sorted(clean.glob("p*.*")):
        got = (out / f.name).read_bytes()
        want = f.read_bytes()
        if f.name.endswith(".page.xml"):
            got, want = _strip_times(got), _strip_times(want)
        assert got == want, f.name
    assert not list(out.glob(".*.tmp"))  # no half-written files left behind


def test_reel_on_a_dask_local_cluster_keeps_the_ledger(tmp_path):
    distributed = pytest.importorskip("distributed")
    reel = make_reel(tmp_path / "reel", 5)
    (reel / "p06.png").write_bytes(b"broken")
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        report = run_reel(expand_inputs([reel]), out, Config(), engine_name="null", progress=False,
                             scheduler=cl.scheduler_address)
        s = report.to_dict()["summary"]
        assert (s["ok"], s["failed"], s["done_now"]) == (5, 1, 5)
        assert "scheduler" in report.meta
        again = run_reel(expand_inputs([reel]), out, Config(), engine_name="null", progress=False,
                            scheduler=cl.scheduler_address)
        assert again.to_dict()["summary"]["skipped"] == 6
    assert runs(out) == {f"p{i:02d}": 1 for i in range(1, 7)}
    assert (out / "p03.page.xml").exists()


def test_unreachable_scheduler_is_one_clear_error(tmp_path):
    pytest.importorskip("distributed")
    make_reel(tmp_path / "reel", 1)
    r = subprocess.run([sys.executable, "-m", "ocr", "run", str(tmp_path / "reel"), "-o", str(tmp_path / "o"),
                        "--scheduler", "tcp://127.0.0.1:1", "--no-progress"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0 and "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in r.stderr
