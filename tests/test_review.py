"""The review store and web app: queue, saves into PAGE XML and the journal, security, crashes."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from lxml import etree

from ocr.errors import InputError
from ocr.formats.readers import read_page
from ocr.formats.validate import validate
from ocr.review import training
from ocr.review.lines import PAGE_NS, ReviewError, line_image
from ocr.review.server import create_app
from ocr.review.store import ReviewStore

from .review_fixture import HAND, XSS, make_run

R = "reel-1"


@pytest.fixture
def run(tmp_path) -> Path:
    return make_run(tmp_path)


def _xml_lines(run: Path) -> dict[str, list[tuple[str | None, str, str | None]]]:
    """line id -> [(index, text, comments)] of its TextEquivs, in document order."""
    root = etree.parse(str(run / "p1.page.xml")).getroot()
    ns = {"p": PAGE_NS}
    return {ln.get("id"): [(te.get("index"), te.findtext("p:Unicode", namespaces=ns), te.get("comments"))
                           for te in ln.findall("p:TextEquiv", ns)]
            for ln in root.iterfind(".//p:TextLine", ns)}


def test_queue_puts_failures_handwriting_and_stamps_before_unsure_typing_and_leaves_out_sure_typing(run):
    store = ReviewStore(run.parent)
    todo = [it.line for it in store.queue()]
    assert todo == ["h001_l004", "h001_l001", "h001_l003", "h001_l002", "s001_t_l001", "r001_l002"]
    assert "r001_l001" in [it.line for it in store.queue(status="all")]  # conf 0.96: only under "every line"
    assert [it.line for it in store.queue(kind="stamp")] == ["s001_t_l001"]
    assert store.queue(reel="nope") == [] and store.queue(page="nope") == []
    with pytest.raises(ReviewError, match="kind filter 'x'"):
        store.queue(kind="x")
    with pytest.raises(ReviewError, match="status filter"):
        store.queue(status="later")


def test_a_run_folder_or_a_folder_of_runs_and_clear_errors_for_anything_else(tmp_path, run):
    assert list(ReviewStore(run).runs) == [R]
    assert list(ReviewStore(run.parent).runs) == [R]
    with pytest.raises(InputError, match="no such folder"):
        ReviewStore(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a memo-ocr run folder"):
        ReviewStore(tmp_path / "empty")


def test_a_save_adds_ground_truth_before_the_machine_reading_and_keeps_it(run):
    store = ReviewStore(run.parent)
    res = store.save(R, "p1", "h001_l001", "исполнено", who="anna")
    assert res["rev"] == 1 and not res["conflict"]
    tes = _xml_lines(run)["h001_l001"]
    assert tes[0][:2] == ("0", "исполнено") and re.match(r"memo-ocr review: status=corrected; by=anna; at=\S+Z; rev=1",
                                                         tes[0][2])
    assert tes[1][:2] == ("1", "исполн")  # the machine reading stays, second
    assert validate(run / "p1.page.xml") == []
    # a reviewed page is ground truth: PAGE readers take the lowest index
    assert "исполнено" in [ln.text for ln in read_page(run / "p1.page.xml").lines]
    # the journal has it, and the word-level machine text is untouched
    journal = [json.loads(x) for x in (run / "review" / "journal.jsonl").read_text().splitlines()]
    assert journal[0]["text"] == "исполнено" and journal[0]["by"] == "anna"
    it = store.item(R, "p1", "h001_l001")
    assert (it.correction, it.status, it.rev, it.machine) == ("исполнено", "corrected", 1, "исполн")
    assert "h001_l001" not in [i.line for i in store.queue()]  # done: out of the to-review queue
    assert "h001_l001" in [i.line for i in store.queue(status="done")]


def test_illegible_stays_in_the_queue_and_bad_saves_are_refused(run):
    store = ReviewStore(run.parent)
    store.save(R, "p1", "h001_l002", "к возврату ...", status="illegible")
    q = store.queue()
    assert q[1].line == "h001_l002" and q[1].status == "illegible"  # marked lines come right after failures
    with pytest.raises(ReviewError, match="empty correction"):
        store.save(R, "p1", "h001_l001", "  ")
    with pytest.raises(ReviewError, match="status 'maybe'"):
        store.save(R, "p1", "h001_l001", "x", status="maybe")
    with pytest.raises(ReviewError, match="one line of text"):
        store.save(R, "p1", "h001_l001", "a\nb")
    with pytest.raises(ReviewError, match="no line 'zzz'"):
        store.save(R, "p1", "zzz", "x")
    with pytest.raises(ReviewError, match="no page 'p9'"):
        store.save(R, "p9", "h001_l001", "x")
    assert len((run / "review" / "journal.jsonl").read_text().splitlines()) == 1  # refused saves leave no trace


def test_two_tabs_editing_one_line_keep_both_edits_in_the_history(run):
    store = ReviewStore(run.parent)
    a = store.save(R, "p1", "h001_l003", "Иванову", base_rev=0, who="tab1")
    b = store.save(R, "p1", "h001_l003", "Иванову И.", base_rev=0, who="tab2")  # loaded before tab1 saved
    assert not a["conflict"] and b["conflict"] and b["rev"] == 2
    assert [h["text"] for h in store.history(R, "p1", "h001_l003")] == ["Иванову", "Иванову И."]
    assert _xml_lines(run)["h001_l003"][0][1] == "Иванову И."


def test_concurrent_saves_to_one_page_lose_nothing(run):
    store = ReviewStore(run.parent)
    lines = ["h001_l001", "h001_l002", "h001_l003", "s001_t_l001", "r001_l002"]
    errors = []

    def worker(k: int) -> None:
        try:
            for j in range(4):
                store.save(R, "p1", lines[k], f"{lines[k]} v{j}", who=f"t{k}")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(lines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    xml = _xml_lines(run)
    for ln in lines:
        assert xml[ln][0][1] == f"{ln} v3"
        assert [h["rev"] for h in store.history(R, "p1", ln)] == [1, 2, 3, 4]
    assert validate(run / "p1.page.xml") == []


def test_a_crash_between_journal_and_xml_is_repaired_on_start_and_a_torn_entry_ignored(run):
    ReviewStore(run.parent).save(R, "p1", "h001_l001", "исполнено")
    with open(run / "review" / "journal.jsonl", "a", encoding="utf-8") as f:  # acknowledged? no: the XML misses it
        f.write(json.dumps({"page": "p1", "line": "h001_l002", "text": "к возврату", "status": "corrected",
                            "by": "x", "at": "2026-01-01T00:00:00Z", "rev": 1, "base_rev": 0}) + "\n")
        f.write('{"page": "p1", "line": "h001_l0')  # torn by the crash
    store = ReviewStore(run.parent)
    assert store.item(R, "p1", "h001_l002").correction == "к возврату"
    assert store.item(R, "p1", "h001_l001").correction == "исполнено"
    assert validate(run / "p1.page.xml") == []


def test_line_crops_are_upright_also_for_notes_written_up_the_margin(run):
    store = ReviewStore(run.parent)
    it = store.item(R, "p1", "h001_l003")
    x0, y0, x1, y1 = it.box
    assert y1 - y0 > 2 * (x1 - x0)  # on the page: tall and narrow
    crop = cv2.imdecode(np.frombuffer(store.crop(R, "p1", "h001_l003"), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert crop.shape[1] > 2 * crop.shape[0]  # in the review: a line
    ctx = cv2.imdecode(np.frombuffer(store.crop(R, "p1", "h001_l003", context=True), np.uint8), cv2.IMREAD_COLOR)
    assert ctx.shape[0] > crop.shape[0]
    # line_image keeps the reading direction: the first letter at the left
    page = cv2.imread(str(run.parent / "scans" / "p1.png"), cv2.IMREAD_GRAYSCALE)
    up = line_image(page, it.poly, pad=0)
    assert up.shape[1] == pytest.approx(y1 - y0, abs=2)
    with pytest.raises(ReviewError, match="outside the page image"):
        line_image(page, [(5000, 5000), (5100, 5000), (5100, 5050)])


def test_a_missing_page_image_is_a_clear_error(run):
    (run.parent / "scans" / "p1.png").unlink()
    store = ReviewStore(run.parent)
    with pytest.raises(ReviewError, match="image .* was not found.*--images"):
        store.crop(R, "p1", "h001_l001")


# ---------------------------------------------------------------------- the web app, in-process


@pytest.fixture
def client(run):
    app = create_app(ReviewStore(run.parent), user="anna")
    return app.test_client()


def test_api_queue_line_crop_and_save(client):
    q = client.get("/api/queue").get_json()
    assert q["count"] == 6 and q["items"][0]["line"] == "h001_l004"
    r = client.get("/api/crop", query_string={"reel": R, "page": "p1", "line": "h001_l001"})
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data[:2] == b"\xff\xd8"
    r = client.post("/api/save", json={"reel": R, "page": "p1", "line": "h001_l001", "text": "исполнено",
                                       "base_rev": 0})
    assert r.status_code == 200 and r.get_json()["item"]["who"] == "anna"
    line = client.get("/api/line", query_string={"reel": R, "page": "p1", "line": "h001_l001"}).get_json()
    assert [h["text"] for h in line["history"]] == ["исполнено"]
    assert client.get("/api/line", query_string={"reel": R, "page": "p1", "line": "nope"}).status_code == 404
    r = client.post("/api/save", json={"reel": R, "page": "p1", "line": "h001_l001", "text": ""})
    assert r.status_code == 400 and "illegible" in r.get_json()["error"]
    r = client.post("/api/save", json={"reel": R, "page": "p1"})
    assert r.status_code == 400 and "missing field 'line'" in r.get_json()["error"]


def test_page_text_is_data_never_markup(client):
    r = client.get("/")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]  # no inline script can run
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    items = client.get("/api/queue").get_json()["items"]
    assert XSS in [it["machine"] for it in items]  # served as a JSON string; the page sets it as text
    assert client.get("/api/queue").mimetype == "application/json"


@pytest.mark.parametrize("path", ["/files/reel-1/../../scans/p1.png", "/files/reel-1/%2e%2e/%2e%2e/etc/passwd",
                                  "/files/reel-1/..%2f..%2fscans%2fp1.png", "/files/reel-1//etc/passwd",
                                  "/files/reel-1/review/../../scans/p1.png", "/files/nope/run.json"])
def test_path_traversal_is_refused(client, path):
    r = client.get(path, follow_redirects=True)  # werkzeug merges "//" with a redirect: follow it
    assert r.status_code == 404 and r.data[:2] != b"\x89P"


def test_files_inside_the_run_are_served(client):
    r = client.get("/files/reel-1/p1.page.xml")
    assert r.status_code == 200 and b"PcGts" in r.data


def test_writes_from_other_origins_or_not_json_are_refused(client, run):
    body = {"reel": R, "page": "p1", "line": "h001_l001", "text": "x"}
    assert client.post("/api/save", json=body, headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/api/save", json=body, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    r = client.post("/api/save", data="reel=reel-1&page=p1&line=h001_l001&text=x",
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    assert not (run / "review" / "journal.jsonl").exists() or (run / "review" / "journal.jsonl").read_text() == ""
    ok = client.post("/api/save", json=body, headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200


def test_a_foreign_host_name_is_refused_when_serving(run):
    app = create_app(ReviewStore(run.parent))
    app.config.update(REVIEW_PORT=8765, REVIEW_HOSTS={"localhost", "127.0.0.1"})
    c = app.test_client()
    assert c.get("/api/queue", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    assert c.get("/api/queue", headers={"Host": "attacker.example:8765"}).status_code == 403  # DNS rebinding
    assert c.get("/api/queue", headers={"Host": "127.0.0.1:9999"}).status_code == 403


# ---------------------------------------------------------------------- the real server


def _start_server(root: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "ocr", "review", str(root), "--port", "0", "--user", "tester",
                             *extra], stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stderr.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if m:
            return proc, m.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"the review server did not start: {line}")


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url + "api/save", json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_killing_the_server_during_saves_loses_no_acknowledged_save(run):
    proc, url = _start_server(run.parent)
    acked: dict[str, int] = {}
    lines = ["h001_l001", "h001_l002", "h001_l003", "s001_t_l001"]
    stop = threading.Event()
    lock = threading.Lock()

    def worker(ln: str) -> None:
        j = 0
        while not stop.is_set():
            try:
                res = _post(url, {"reel": R, "page": "p1", "line": ln, "text": f"{ln} {j}"})
            except (urllib.error.URLError, ConnectionError, OSError, http.client.HTTPException):
                return  # the server died before answering (a reply cut off: not acknowledged)
            with lock:
                acked[ln] = res["rev"]
            j += 1

    threads = [threading.Thread(target=worker, args=(ln,)) for ln in lines]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while sum(acked.values()) < 40 and time.time() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-save, most likely
    stop.set()
    for t in threads:
        t.join(10)
    proc.wait(10)
    assert sum(acked.values()) >= 40
    assert validate(run / "p1.page.xml") == []  # never a half-written file
    journal = [json.loads(x) for x in (run / "review" / "journal.jsonl").read_text().splitlines() if x.endswith("}")]
    xml = _xml_lines(run)
    for ln, rev in acked.items():
        revs = [e["rev"] for e in journal if e["line"] == ln]
        assert revs == list(range(1, len(revs) + 1)) and revs[-1] >= rev  # every acknowledged save is there
        xml_rev = int(re.search(r"rev=(\d+)", xml[ln][0][2]).group(1))
        assert xml_rev >= rev
    # a restart makes the XML agree with the journal (a save written to the journal but not the XML)
    store = ReviewStore(run.parent)
    for ln in acked:
        assert store.item(R, "p1", ln).rev == max(e["rev"] for e in journal if e["line"] == ln)


def test_the_port_in_use_is_a_one_line_error(run):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "ocr", "review", str(run.parent), "--port", str(port)],
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "cannot listen on 127.0.0.1" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_review_of_a_folder_that_is_no_run_is_a_one_line_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "ocr", "review", str(tmp_path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 4 and "not a memo-ocr run folder" in r.stderr


# ---------------------------------------------------------------------- corrections -> training pairs


def _correct_all(run: Path) -> ReviewStore:
    store = ReviewStore(run.parent)
    store.save(R, "p1", "h001_l001", HAND[0])
    store.save(R, "p1", "h001_l002", HAND[1])
    store.save(R, "p1", "h001_l003", HAND[2])
    store.save(R, "p1", "h001_l004", "", status="illegible")
    store.save(R, "p1", "r001_l002", "Typed line two")
    return store


def test_export_writes_upright_handwritten_pairs_only(run, tmp_path):
    _correct_all(run)
    pairs = training.export(run.parent, tmp_path / "lines")
    assert [p.text for p in pairs] == HAND  # not the illegible line, not the typed one
    for p in pairs:
        img = cv2.imread(str(p.image), cv2.IMREAD_GRAYSCALE)
        assert img.shape[1] > 2 * img.shape[0] and img.min() < 100  # a line with ink
        assert p.image.with_suffix(".gt.txt").read_text(encoding="utf-8").strip() == p.text


def test_held_back_part_is_a_fifth_fixed_by_the_keys_not_their_order():
    pairs = [training.Pair(f"r/p{i}/l{j}", Path("x.png"), "t") for i in range(7) for j in range(4)]
    train, held = training.split(pairs)
    assert len(held) == 6 and len(train) == 22  # ceil(0.2 * 28)
    train2, held2 = training.split(list(reversed(pairs)))
    assert {p.key for p in held2} == {p.key for p in held}
    assert training.split(pairs[:1]) == ([], pairs[:1])


def test_too_few_corrections_is_a_clear_error(run, tmp_path):
    _correct_all(run)
    with pytest.raises(Exception, match="3 corrected handwritten line.*need at least 5"):
        training.from_corrections(run.parent, tmp_path / "w", Path("m"), tmp_path / "out.safetensors",
                                  log=lambda m: None)


def test_the_fine_tuned_model_is_installed_only_if_better_on_the_held_back_lines(tmp_path, monkeypatch):
    pairs = [training.Pair(f"r/p/l{i}", tmp_path / f"{i}.png", "слово") for i in range(12)]
    monkeypatch.setattr(training, "export", lambda root, dest: pairs)
    monkeypatch.setattr(training, "write_training_lists", lambda *a, **k: None)
    cer = {"base": 0.5, "good": 0.2, "bad": 0.7}
    monkeypatch.setattr(training, "evaluate",
                        lambda model, ps: training.Counts(10, 10, int(cer[Path(model).stem] * 10), 0, 0))
    out = tmp_path / "model.safetensors"
    for name, installed in (("bad", False), ("good", True)):
        cand = tmp_path / f"{name}.safetensors"
        cand.write_bytes(name.encode())
        logs = []
        res = training.from_corrections(tmp_path, tmp_path / "w", tmp_path / "base.safetensors", out,
                                        finetune=lambda *a, c=cand: c, log=logs.append)
        assert res["installed"] is installed and res["cer_before"] == 0.5 and res["cer_after"] == cer[name]
        assert any("held-back CER: current model 50.00%" in m for m in logs)
        assert res["held_back"] + res["train"] == 12 and res["held_back"] >= 1
    assert out.read_bytes() == b"good"


def test_a_correction_xml_cannot_carry_is_refused_before_the_journal(client, run):
    journal = run / "review" / "journal.jsonl"
    before = journal.read_bytes() if journal.exists() else b""
    r = client.post("/api/save", json={"reel": R, "page": "p1", "line": "h001_l001", "text": "ис\u0001полнено"})
    assert r.status_code == 400 and "U+0001" in r.get_json()["error"]
    assert (journal.read_bytes() if journal.exists() else b"") == before  # nothing journalled
    r = client.post("/api/save", json={"reel": R, "page": "p1", "line": "h001_l001", "text": "x", "base_rev": "a"})
    assert r.status_code == 400 and "base_rev" in r.get_json()["error"]


def test_the_app_starts_with_a_bad_journal_entry_and_skips_it(run, capsys):
    (run / "review").mkdir(exist_ok=True)
    with open(run / "review" / "journal.jsonl", "a", encoding="utf-8") as f:  # written by an older version
        f.write(json.dumps({"page": "p1", "line": "h001_l001", "text": "a\u0001b", "status": "corrected",
                            "by": "x", "at": "2026-01-01T00:00:00Z", "rev": 1, "base_rev": 0}) + "\n")
        f.write(json.dumps({"page": "p1", "line": "h001_l002", "text": "к возврату", "status": "corrected",
                            "by": "x", "at": "2026-01-01T00:00:00Z", "rev": 1, "base_rev": 0}) + "\n")
    store = ReviewStore(run.parent)
    assert "skipped a journal entry" in capsys.readouterr().err
    assert store.item(R, "p1", "h001_l002").correction == "к возврату"
    assert store.item(R, "p1", "h001_l001").correction in (None, "")
    assert validate(run / "p1.page.xml") == []


def test_a_huge_request_is_refused_unread_and_a_nul_in_a_path_is_a_404(client):
    r = client.post("/api/save", data=b"{" + b" " * (2 * 1024 * 1024) + b"}", content_type="application/json")
    assert r.status_code == 413
    assert client.get("/files/reel-1/p1.page.xml%00").status_code == 404


def test_a_correction_reaches_the_text_the_alto_and_the_hocr_and_marks_the_words_as_machine(tmp_path):
    from ocr.formats.readers import read_transcription

    run = make_run(tmp_path, derived=True)
    store = ReviewStore(run.parent)
    store.save(R, "p1", "h001_l002", "к возврату 13.I.56г.", who="anna")  # 3 words as the machine's 3: boxes kept
    store.save(R, "p1", "h001_l001", "исполнено тов. Ивановым", who="anna")  # 3 words for 1: the line's box shared
    text = (run / "p1.txt").read_text(encoding="utf-8").splitlines()
    assert "к возврату 13.I.56г." in text and "исполнено тов. Ивановым" in text and "исполн" not in text
    assert [ln.text for ln in read_transcription(run / "p1.alto.xml")] == \
        [ln.text for ln in read_transcription(run / "p1.page.xml") if ln.text]  # (ALTO has no empty line)
    assert validate(run / "p1.alto.xml") == []
    alto = etree.parse(str(run / "p1.alto.xml"))
    words = [s for s in alto.iter("{http://www.loc.gov/standards/alto/ns-v4#}String")
             if s.get("ID").startswith("a_h001_l001_")]
    assert [w.get("CONTENT") for w in words] == ["исполнено", "тов.", "Ивановым"]
    assert all(w.get("WC") == "1.000" for w in words)
    xs = [int(w.get("HPOS")) for w in words]
    assert xs == sorted(xs) and len(set(xs)) == 3  # the line's box shared among them, left to right
    hocr = (run / "p1.hocr").read_text(encoding="utf-8")
    assert "исполнено</span> <span" in hocr and "x_wconf 100" in hocr and ">исполн<" not in hocr
    page = (run / "p1.page.xml").read_text(encoding="utf-8")
    assert page.count("review {words:machine;}") == 0  # these lines had no Word elements to mark


def test_a_reviewed_line_with_words_says_they_are_the_machine_reading(run):
    tree = etree.parse(str(run / "p1.page.xml"))
    ns = {"p": PAGE_NS}
    line = tree.find(".//p:TextLine[@id='r001_l001']", ns)
    word = etree.Element(f"{{{PAGE_NS}}}Word", id="r001_l001_w001")
    etree.SubElement(word, f"{{{PAGE_NS}}}Coords", points="255,255 400,255 400,300 255,300")
    etree.SubElement(etree.SubElement(word, f"{{{PAGE_NS}}}TextEquiv"), f"{{{PAGE_NS}}}Unicode").text = "Typed"
    line.find("p:TextEquiv", ns).addprevious(word)
    tree.write(str(run / "p1.page.xml"), xml_declaration=True, encoding="UTF-8")
    ReviewStore(run.parent).save(R, "p1", "r001_l001", "Typed line 1", who="anna")
    line = etree.parse(str(run / "p1.page.xml")).find(".//p:TextLine[@id='r001_l001']", ns)
    assert "review {words:machine;}" in line.get("custom")
    assert line.find("p:Word/p:TextEquiv/p:Unicode", ns).text == "Typed"  # the machine's word, kept
    assert validate(run / "p1.page.xml") == []


def test_a_correction_keeps_the_runs_mark_before_stamp_text_in_the_text_file(tmp_path):
    from ocr.formats.pagexml import to_pagexml
    from ocr.model import STAMP_TEXT, Line, PageResult, Region
    from ocr.review.derived import update

    box = ((300, 400), (420, 400), (420, 430), (300, 430))
    page = PageResult("p1", "p1.png", 500, 700, [
        Region("r001", box, (Line("r001_l001", "Прошу", box, (), 0.9),)),
        Region("s001_t", box, (Line("s001_t_l001", "ЦК КПСС", box, (), 0.8),), production="printed", type="other",
               note=STAMP_TEXT)])
    run = tmp_path / "reel"
    run.mkdir()
    (run / "p1.page.xml").write_bytes(to_pagexml(page, "memo-ocr test"))
    (run / "p1.txt").write_text("Прошу\n# ЦК КПСС\n", encoding="utf-8")
    (run / "run.json").write_text(json.dumps({"config": {"output": {"stamp_marker": "# "}}}), encoding="utf-8")
    assert update(run, "p1", run / "p1.page.xml", "r001_l001", "Прошу") == ["p1.txt"]
    assert (run / "p1.txt").read_text(encoding="utf-8") == "Прошу\n# ЦК КПСС\n"
    (run / "run.json").write_text("{", encoding="utf-8")  # unreadable: no mark (as a run made before there was one)
    update(run, "p1", run / "p1.page.xml", "r001_l001", "Прошу")
    assert (run / "p1.txt").read_text(encoding="utf-8") == "Прошу\nЦК КПСС\n"
