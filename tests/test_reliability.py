"""Reel-scale reliability: what real reels hold and real operators do never costs a page, a file or a worker."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
from PIL import Image

from ocr.batch import worker
from ocr.batch.ledger import Ledger
from ocr.batch.report import INTERRUPTED
from ocr.batch.runner import _lock_out, run_reel
from ocr.batch.worker import _WORKER, process_page
from ocr.config import Config
from ocr.errors import InputError
from ocr.formats.validate import validate
from ocr.loader import PageRef, expand_inputs, load_image

from .conftest import ROOT, RUSSIAN_LINES, needs_tesseract, render_page


def _page(path: Path, seed: int = 0) -> None:
    cv2.imwrite(str(path), render_page(RUSSIAN_LINES[:2], size=(600, 400), margin=40, seed=seed))


def test_scanner_file_names_give_valid_page_and_alto(tmp_path):
    reel = tmp_path / "reel"
    reel.mkdir()
    for name in ("0001.png", "00017.png", "scan 7 (back).png"):
        _page(reel / name)
    out = tmp_path / "out"
    report = run_reel(expand_inputs([reel]), out, Config(), workers=1, engine_name="null", progress=False)
    assert sorted(p.page_id for p in report.pages) == ["0001", "00017", "scan 7 (back)"]  # file names keep the stem
    for pid in ("0001", "00017", "scan 7 (back)"):
        for kind in ("page", "alto"):
            assert validate(out / f"{pid}.{kind}.xml") == [], (pid, kind)


def test_inputs_that_share_a_stem_get_distinct_deterministic_ids(tmp_path):
    reel = tmp_path / "reel"
    (reel / "left").mkdir(parents=True)
    (reel / "right").mkdir()
    for name in ("a.jpg", "a.png", "a.tif", "x_0002.png", "b.png", "left/c.png", "right/c.png"):
        _page(reel / name)
    frames = [Image.fromarray(render_page(RUSSIAN_LINES[:1], size=(600, 300), margin=30, seed=i)) for i in range(2)]
    frames[0].save(reel / "x.tif", save_all=True, append_images=frames[1:])
    refs = expand_inputs([reel])
    ids = [r.page_id for r in refs]
    assert len(set(ids)) == len(ids) == 9
    assert set(ids) == {"a_jpg", "a_png", "a_tif", "b", "left_c_png", "right_c_png", "x_0002_png", "x_tif_0001",
                        "x_tif_0002"}
    by_file = {(r.path.name, r.frame): r.page_id for r in refs}
    assert by_file[("a.jpg", None)] == "a_jpg" and by_file[("b.png", None)] == "b"  # no clash: the stem alone
    assert by_file[("x.tif", 1)] == "x_tif_0002" and by_file[("x_0002.png", None)] == "x_0002_png"
    assert [r.page_id for r in expand_inputs([reel])] == ids  # the same every time
    out = tmp_path / "out"
    report = run_reel(refs, out, Config(), workers=2, engine_name="null", progress=False)
    assert len({o for p in report.pages for o in p.outputs}) == 3 * len(refs)  # nobody's files overwritten


def test_unreadable_and_special_files_fail_their_page_only(tmp_path, monkeypatch):
    reel = tmp_path / "reel"
    reel.mkdir()
    _page(reel / "good.png")
    _page(reel / "secret.png")
    fifo = reel / "pipe.png"
    os.mkfifo(fifo)
    # the ledger's hash of a file it may not read is no crash (root reads every file: the denial is simulated)
    real_open = open

    def deny(path, *a, **k):
        if str(path).endswith("secret.png"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    ledger = Ledger(tmp_path / "l.sqlite")
    monkeypatch.setattr("builtins.open", deny)
    assert ledger.file_hash(reel / "secret.png") == "unreadable:13"
    monkeypatch.undo()
    assert ledger.file_hash(fifo) == "special"  # never opened: a FIFO would block
    ledger.close()
    monkeypatch.setattr(os, "access", lambda p, mode: not str(p).endswith("secret.png"))
    with pytest.raises(InputError, match="secret.png: permission denied"):
        load_image(PageRef("secret", reel / "secret.png"))
    monkeypatch.undo()
    with pytest.raises(InputError, match="pipe.png: not a regular file"):
        load_image(PageRef("pipe", fifo))
    out = tmp_path / "out"
    report = run_reel(expand_inputs([reel / "good.png", fifo]), out, Config(), workers=1, engine_name="null",
                         progress=False)
    status = {p.page_id: (p.status, p.error) for p in report.pages}
    assert status["good"][0] == "ok" and status["pipe"][0] == "failed" and "not a regular file" in status["pipe"][1]


def test_a_truncated_multipage_tiff_keeps_its_good_frames_and_fails_the_rest(tmp_path):
    frames = [Image.fromarray(render_page(RUSSIAN_LINES[i:i + 1], size=(600, 300), margin=30, seed=i)) for i in range(3)]
    whole = tmp_path / "whole.tif"
    frames[0].save(whole, save_all=True, append_images=frames[1:])
    data = whole.read_bytes()
    damaged = tmp_path / "reel" / "film.tif"
    damaged.parent.mkdir()
    damaged.write_bytes(data[: int(len(data) * 0.4)])
    refs = expand_inputs([damaged])
    assert [r.page_id for r in refs] == ["film_0001", "film_0002", "film_0003"]
    report = run_reel(refs, tmp_path / "out", Config(), workers=1, engine_name="null", progress=False)
    status = {p.page_id: (p.status, p.error) for p in report.pages}
    assert status["film_0001"][0] == "ok"
    assert all(status[k][0] == "failed" and "corrupt or truncated" in status[k][1] for k in ("film_0002", "film_0003"))


RUNNER = """
import sys
from pathlib import Path
from ocr.config import Config
from ocr.loader import expand_inputs
from ocr.batch.runner import run_reel
run_reel(expand_inputs([Path(sys.argv[1])]), Path(sys.argv[2]), Config(), workers=2,
         engine_name="tests.fakes:SlowEngine", progress=False)
"""


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] not in "ZX"
    except (OSError, IndexError):
        return False


def _start_busy_run(tmp_path, n=8):
    reel = tmp_path / "reel"
    reel.mkdir()
    for i in range(n):
        _page(reel / f"p{i:02d}.png", seed=i)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(reel), str(out)], cwd=ROOT, start_new_session=True)
    deadline = time.time() + 120
    workers: set[int] = set()
    while time.time() < deadline:  # until the workers run pages (spawn, import, then 2 s a page)
        workers = {c for c in _children(proc.pid) if _alive(c)}
        if len(workers) >= 2 and (out / "run.json").exists():
            break
        time.sleep(0.2)
    assert len(workers) >= 2, "the workers did not start"
    return proc, workers, out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_run_leaves_no_worker_behind(tmp_path, sig):
    proc, workers, out = _start_busy_run(tmp_path)
    os.kill(proc.pid, sig)  # the main process alone, as timeout, SLURM or systemd do
    proc.wait(timeout=30)
    deadline = time.time() + 5
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "a worker outlived its run"
    if sig == signal.SIGTERM:
        run = json.loads((out / "run.json").read_text())
        assert run["summary"]["stopped"] == INTERRUPTED
    written = {p.name for p in out.glob("*.page.xml")}
    time.sleep(2.5)  # a worker that outlived its parent would write the next page now
    assert {p.name for p in out.glob("*.page.xml")} == written


@needs_tesseract
def test_handwriting_is_read_on_a_dask_cluster_as_on_the_local_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("kraken")
    page = ROOT / "scans" / "reel-083" / "memo-0001.jpg"
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        report = run_reel([PageRef("memo-0001", page)], out, Config(), progress=False,
                             scheduler=cl.scheduler_address)
    [o] = report.pages
    assert o.status == "ok", o.error
    assert "engine_errors" not in o.info
    from ocr.formats.readers import read_transcription

    hand = [ln for ln in read_transcription(out / "memo-0001.page.xml") if ln.kind == "handwritten"]
    assert hand and sum(len(ln.text) for ln in hand) > 10
    assert b"error {reason" not in (out / "memo-0001.page.xml").read_bytes()


def test_a_second_run_into_the_same_out_is_refused_and_run_json_covers_the_whole_out(tmp_path):
    reel = tmp_path / "reel"
    reel.mkdir()
    for i in range(3):
        _page(reel / f"p{i}.png", seed=i)
    out = tmp_path / "out"
    run_reel(expand_inputs([reel]), out, Config(), workers=1, engine_name="null", progress=False)
    # one page again (a re-run of a page a reviewer questioned): run.json keeps the others
    report = run_reel(expand_inputs([reel / "p1.png"]), out, Config(), workers=1, engine_name="null",
                         progress=False)
    run = json.loads((out / "run.json").read_text())
    assert [p["page_id"] for p in run["pages"]] == ["p1"]
    assert sorted(p["page_id"] for p in run["earlier_pages"]) == ["p0", "p2"]
    assert report.to_dict()["summary"]["pages"] == 1
    # while one run holds OUT, another is refused with one clear line, before touching anything
    lock = _lock_out(out)
    try:
        from ocr.errors import MemoOcrError

        with pytest.raises(MemoOcrError, match="another memo-ocr run is writing into this folder"):
            run_reel(expand_inputs([reel]), out, Config(), workers=1, engine_name="null", progress=False)
    finally:
        lock.close()
    r = subprocess.run([sys.executable, "-m", "ocr", "run", str(reel), "-o", str(out), "--no-progress"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "Traceback" not in r.stderr


def test_an_output_folder_that_cannot_be_written_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    _page(tmp_path / "p.png")
    r = subprocess.run([sys.executable, "-m", "ocr", "run", str(tmp_path / "p.png"), "-o", str(blocker / "out"),
                        "--no-progress"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "cannot write the output folder" in r.stderr


def test_a_long_failure_reason_is_kept_whole(tmp_path, monkeypatch):
    msg = "x" * 600 + " the end"

    def boom(*a, **k):
        raise RuntimeError(msg)

    monkeypatch.setattr(worker, "recognize_page", boom)
    _WORKER.update(cfg=Config(), engine=object(), engine_error=None)
    try:
        o = process_page(PageRef("p", tmp_path / "p.png"), str(tmp_path))
    finally:
        _WORKER.clear()
    assert o.status == "failed" and o.error.endswith("the end")


@needs_tesseract
def test_lines_an_engine_failed_on_make_the_page_suspect_and_are_counted(tmp_path):
    from ocr.engines import get_engine

    from .test_layout import memo_with_a_broken_handwriting_model

    _, cfg = memo_with_a_broken_handwriting_model(tmp_path)
    _WORKER.update(cfg=cfg, engine=get_engine("tesseract", cfg), engine_error=None)
    try:
        o = process_page(PageRef("p", tmp_path / "p.jpg"), str(tmp_path))
    finally:
        _WORKER.clear()
    assert o.status == "suspect" and o.info["engine_errors"] >= 1
    assert "lines failed in an engine" in o.error and "fake.safetensors" in o.error
    assert (tmp_path / "p.page.xml").exists()  # written all the same: the typed text is there


def test_failures_are_counted_by_their_reason_whatever_the_file_is_called(tmp_path):
    reel = tmp_path / "reel: 1955"  # a colon and a space in a folder's name, as archives name them
    reel.mkdir()
    for name in ("0001.png", "0002: back.png"):
        (reel / name).write_bytes(b"")
    _page(reel / "0003.png")
    report = run_reel(expand_inputs([reel]), tmp_path / "out", Config(), workers=1, engine_name="null",
                      progress=False)
    summary = json.loads((tmp_path / "out" / "run.json").read_text())["summary"]
    assert summary["failed"] == 2 and summary["failure_reasons"] == {"empty file": 2}
    assert [p.reason for p in report.failed] == ["empty file", "empty file"]
