"""End to end in a real browser (Playwright driving Debian's chromium): review, reload, XSS, traversal, CSRF."""
from __future__ import annotations

import json
import os
import shutil
import signal

import pytest

from .review_fixture import XSS, make_run
from .test_review import R, _start_server, _xml_lines

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")


@pytest.fixture
def served(tmp_path):
    run = make_run(tmp_path)
    proc, url = _start_server(tmp_path)
    yield run, url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(10)


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _queue_texts(page) -> list[str]:
    return page.locator("#queue li .txt").all_text_contents()


def _save(page, line: str, text: str | None, key: str = "Enter") -> None:
    page.wait_for_function("id => document.getElementById('e-where').textContent.endsWith(id)", arg=line)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'e-text'")
    if text is not None:
        page.fill("#e-text", text)
    page.keyboard.press(key)
    page.wait_for_function("id => document.getElementById('message').textContent.startsWith('Saved ' + id)",
                           arg=line)


def test_correct_three_lines_mark_one_illegible_reload_and_find_them_saved(served, browser):
    run, url = served
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_selector("#queue li")
    assert page.locator("#queue li").count() == 6
    # the queue starts with the failed line; Alt+I marks it illegible and moves on
    _save(page, "h001_l004", None, "Alt+i")
    _save(page, "h001_l001", "исполнено")
    _save(page, "h001_l003", "Иванову")
    _save(page, "h001_l002", "к возврату 13.I.56г.")
    # typing right after selecting a line is kept (the details that arrive later never overwrite it)
    page.locator("#queue li").filter(has_text="<script>").click()
    page.keyboard.press("End")
    page.keyboard.type("abc")
    page.wait_for_function("() => document.getElementById('e-status').textContent === 'not reviewed'")
    assert page.input_value("#e-text").endswith("abc")
    page.reload()
    page.wait_for_selector("#queue li")
    todo = _queue_texts(page)
    assert "исполнено" not in todo  # corrected lines leave the to-review queue...
    assert page.locator("#queue li.illegible").count() == 1  # ...the illegible one stays, marked
    page.select_option("#f-status", "done")
    # the to-review queue also has 3 lines: wait for the done list's content, not its length
    page.wait_for_function("""() => { const t = [...document.querySelectorAll('#queue li .txt')].map(e => e.textContent);
                                       return t.length === 3 && t.includes('Иванову'); }""")
    assert sorted(_queue_texts(page)) == sorted(["исполнено", "Иванову", "к возврату 13.I.56г."])
    page.select_option("#f-status", "all")
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 7")
    # the history of a line is shown
    page.locator("#queue li", has_text="исполнено").click()
    page.wait_for_function("() => document.querySelectorAll('#e-history li').length === 1")
    # the crop shown is this line's, never the previous one's while it loads
    page.wait_for_function("() => { const e = document.getElementById('e-crop'); return !e.hidden && e.naturalWidth > 0; }")
    assert "line=h001_l001" in page.get_attribute("#e-crop", "src")
    assert "[corrected] исполнено" in page.text_content("#e-history")
    assert errors == []
    # on disk: ground truth first, the machine reading kept
    xml = _xml_lines(run)
    assert xml["h001_l001"][0][:2] == ("0", "исполнено") and xml["h001_l001"][1][:2] == ("1", "исполн")
    assert xml["h001_l003"][0][1] == "Иванову" and xml["h001_l002"][0][1] == "к возврату 13.I.56г."
    assert "status=illegible" in xml["h001_l004"][0][2]


def test_script_in_a_transcription_is_shown_as_text(served, browser):
    _, url = served
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("#queue li")
    assert XSS in _queue_texts(page)
    page.locator("#queue li").filter(has_text="<script>").click()
    page.wait_for_function("t => document.getElementById('e-machine').textContent === t", arg=XSS)
    page.wait_for_function("t => document.getElementById('e-text').value === t", arg=XSS)
    assert page.evaluate("() => window.pwned") is None  # neither the script nor the onerror ran
    assert page.locator("#queue img, #editor img[src='x']").count() == 0


def test_traversal_and_cross_origin_writes_fail_from_a_browser(served, browser):
    run, url = served
    page = browser.new_page()
    for path in ("files/reel-1/%2e%2e/%2e%2e/scans/p1.png", "files/reel-1/..%2F..%2Fscans%2Fp1.png",
                 "files/reel-1/%2e%2e/review/../../../../etc/passwd"):
        r = page.request.get(url + path)
        assert r.status == 404, path
    # a page of another origin posting to the app: a simple (no-preflight) request with its Origin
    other = browser.new_page()
    other.goto("about:blank")
    status = other.evaluate("""async (u) => {
        try {
          const r = await fetch(u + 'api/save', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'},
            body: JSON.stringify({reel: 'reel-1', page: 'p1', line: 'h001_l001', text: 'pwned'})});
          return r.type;
        } catch (e) { return 'error'; }
    }""", url)
    assert status in ("opaque", "error")
    r = page.request.post(url + "api/save", data=json.dumps({"reel": R, "page": "p1", "line": "h001_l001",
                                                             "text": "pwned"}),
                          headers={"Content-Type": "application/json", "Origin": "http://evil.example"})
    assert r.status == 403
    journal = run / "review" / "journal.jsonl"
    assert not journal.exists() or "pwned" not in journal.read_text(encoding="utf-8")
    assert _xml_lines(run)["h001_l001"][0][1] == "исполн"  # untouched
