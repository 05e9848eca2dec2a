"""Screenshot of the review screen for the README: `memo-ocr review` on a copy of a run folder.

    .venv/bin/python scripts/review_screenshot.py out/reel-083 docs/review-screenshot.png

Needs Debian's chromium and the playwright package (both installed by .ci/run / the test extra).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(run: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / run.name
        shutil.copytree(run, copy, ignore=shutil.ignore_patterns("review", "ledger.sqlite*"))
        proc = subprocess.Popen([sys.executable, "-m", "ocr", "review", str(copy), "--port", "0", "--user", "anna"],
                                stderr=subprocess.PIPE, text=True)
        try:
            url = None
            while url is None:
                m = re.search(r"(http://127\.0\.0\.1:\d+/)", proc.stderr.readline())
                url = m.group(1) if m else None
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
                page = b.new_page(viewport={"width": 1400, "height": 860})
                page.goto(url)
                page.wait_for_selector("#queue li")
                page.select_option("#f-kind", "handwritten")
                page.wait_for_timeout(500)
                page.locator("#queue li", has_text="memo-0004 · h002_l001").click()
                time.sleep(0.5)
                page.fill("#e-text", "Решено")
                page.keyboard.press("Enter")
                time.sleep(0.5)
                page.locator("#queue li", has_text="memo-0001 · h001_l001").click()
                time.sleep(0.5)
                page.fill("#e-text", "Решено")
                page.wait_for_function("() => ['e-crop', 'e-context'].every(i => { const e = document.getElementById(i);"
                                       " return !e.hidden && e.complete && e.naturalWidth > 0; })")
                page.screenshot(path=str(out))
                b.close()
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
