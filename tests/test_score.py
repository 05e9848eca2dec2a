"""Scoring: CER defined once and cross-checked; order-free and per-kind counts; profiles; reports."""
import json
import random
import shutil
import subprocess
import unicodedata

import pytest

from ocr import config as C
from ocr.errors import ConfigError
from ocr.formats.readers import TLine, Transcription
from ocr.score.metrics import BUILTIN_PROFILES, STRICT, char_counts
from ocr.score.pages import pair_inputs, score_pairs, score_transcriptions
from ocr.score.report import build_report, render_html, summary_table, write_reports


# --- an independent CER: its own grapheme split and a plain dynamic programme --------------
def plain_graphemes(text: str) -> list[str]:
    """Base character plus following combining marks (enough for these test strings)."""
    out: list[str] = []
    for ch in text:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def plain_cer(ref: str, hyp: str) -> float | None:
    def norm(s: str) -> str:
        s = unicodedata.normalize("NFC", s.replace("\ufeff", ""))
        return " ".join(s.split())

    r, h = plain_graphemes(norm(ref)), plain_graphemes(norm(hyp))
    if not r:
        return None
    prev = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        cur = [i] + [0] * len(h)
        for j in range(1, len(h) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
        prev = cur
    return prev[-1] / len(r)


EDGE_CASES = [
    ("ёлка", unicodedata.normalize("NFD", "ёлка")),  # NFD input
    ("е\u0308", "ё"),  # combining diaeresis vs precomposed
    ("й", "и\u0306"),
    ("ёжик", "ежик"),  # ё/е is an error under strict
    ("", ""), ("", "лишнее"),  # empty reference
    ("строка\n\nвторая", "строка вторая"),  # empty lines
    ("\ufeffначало", "начало"),  # BOM
    ("a\u0301\u0327b", "ab"),  # two combining marks on one base
    ("Реза Руста", "Реаа Руста"), ("19.XII.55", "19.ХII.55"),  # Latin X vs Cyrillic Х
    ("  пробелы \t внутри ", "пробелы внутри"),
]


def random_pairs(n: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    alphabet = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЁ .,-№XIVabc\u0301\u0308"
    pairs = []
    for _ in range(n):
        ref = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        hyp = list(ref)
        for _ in range(rng.randint(0, 8)):
            op = rng.random()
            pos = rng.randint(0, len(hyp))
            if op < 0.33 and hyp:
                hyp.pop(min(pos, len(hyp) - 1))
            elif op < 0.66:
                hyp.insert(pos, rng.choice(alphabet))
            elif hyp:
                hyp[min(pos, len(hyp) - 1)] = rng.choice(alphabet)
        pairs.append((ref, "".join(hyp)))
    return pairs


def test_cer_equals_an_independent_implementation_on_120_pairs():
    pairs = EDGE_CASES + random_pairs(108)
    assert len(pairs) >= 100
    for ref, hyp in pairs:
        ours = char_counts(ref, hyp).rate
        theirs = plain_cer(ref, hyp)
        if theirs is None:
            assert ours is None
        else:
            assert ours == pytest.approx(theirs, abs=1e-9), (ref, hyp)


def tl(texts, kind="typewritten"):
    return [TLine(t, kind) for t in texts]


def test_order_free_cer_forgives_reading_order():
    gt = Transcription(tl(["первая строка текста", "вторая строка текста"]) + tl(["исполнено"], "handwritten"), [])
    hyp = Transcription(tl(["исполнено", "вторая строка текста", "первая строка текста"]), [])
    ps = score_transcriptions("p", gt, hyp)
    assert ps.chars.rate > 0.3  # page order differs
    assert ps.chars_free.edits == 0
    assert ps.kinds["handwritten"].rate == 0.0


def test_per_kind_counts_and_unmatched_lines():
    gt = Transcription(tl(["Генеральный секретарь"]) + tl(["к возврату"], "handwritten")
                       + tl(["ЦК КПСС"], "stamp"), [])
    hyp = Transcription(tl(["Генеральный секретврь", "~~ ** ~~"]), [])
    ps = score_transcriptions("p", gt, hyp)
    assert ps.kinds["typewritten"].subs == 1
    assert ps.kinds["typewritten"].ins == len("~~ ** ~~")  # unmatched typed hypothesis line
    assert ps.kinds["handwritten"].rate == 1.0 and ps.kinds["stamp"].dels == len("ЦК КПСС")
    assert ps.chars_free.ref_len == ps.chars.ref_len - 2  # joined text has two joining spaces more


def test_a_line_is_paired_with_one_of_its_kind_first():
    # a typed line read took in a stamp's words exactly; the stamp's own reading has one letter wrong
    gt = Transcription(tl(["ОБЩИЙ ОТДЕЛ ЦК КПСС"], "stamp") + tl(["Прошу рассмотреть"]), [])
    hyp = Transcription(tl(["Прошу рассмотреть", "ОБЩИЙ ОТДЕЛ ЦК КПСС"]) + tl(["ОБЩИЙ ОТДЕЛ ЦК КПСG"], "stamp"), [])
    ps = score_transcriptions("p", gt, hyp)
    assert ps.kinds["stamp"].edits == 1 and ps.kinds["stamp"].ins == 0  # its own reading, not the typed line
    assert ps.kinds["typewritten"].ins == len("ОБЩИЙ ОТДЕЛ ЦК КПСС")  # the typed line's extra words
    assert ps.extra_hyp == ["ОБЩИЙ ОТДЕЛ ЦК КПСС"]
    # without a line of its kind, a line is paired with the closest of any kind
    alone = score_transcriptions("p", gt, Transcription(tl(["Прошу рассмотреть", "ОБЩИЙ ОТДЕЛ ЦК КПСС"]), []))
    assert alone.kinds["stamp"].edits == 0 and alone.chars_free.edits == 0


def test_profiles_fold_what_they_say():
    arch = BUILTIN_PROFILES["archival"]
    assert char_counts("«Ёлка» — Старый", '"Елка" - Cтарый', arch).edits == 0  # Latin C in a Cyrillic word
    assert char_counts("«Ёлка» — Старый", '"Елка" - Cтарый', STRICT).edits > 0
    assert char_counts("Paris", "Рaris", arch).edits == 0  # a mostly Latin word folds to Latin
    assert char_counts("XII", "ХII", arch).edits == 0 and char_counts("XII", "ХII", STRICT).edits == 1
    pre = BUILTIN_PROFILES["archival-pre1918"]
    assert pre.apply("мѣсто судъ і") == "место суд и"


def test_custom_profile_from_config(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[score]\nprofile = "mine"\n[score.profiles.mine]\nfold_yo = true\nreplace = { "ѣ" = "е" }\n',
                 encoding="utf-8")
    prof = C.load(p).score.get_profile()
    assert prof.name == "mine" and char_counts("ёѣ", "ее", prof).edits == 0
    p.write_text('[score.profiles.mine]\nfold_yoo = true\n')
    with pytest.raises(ConfigError, match="unknown key fold_yoo"):
        C.load(p)
    p.write_text('[score]\nprofile = "nope"\n')
    with pytest.raises(ConfigError, match="allowed profiles are archival"):
        C.load(p)


def test_empty_reference_never_nan_and_reports_are_strict_json(tmp_path):
    gt = tmp_path / "gt"
    hyp = tmp_path / "hyp"
    gt.mkdir()
    hyp.mkdir()
    (gt / "a.gt.txt").write_text("строка <script>alert(1)</script>\n", encoding="utf-8")
    (gt / "b.gt.txt").write_text("", encoding="utf-8")  # an empty page
    (gt / "c.gt.txt").write_text("потерянная страница\n", encoding="utf-8")  # no hypothesis
    (gt / "a.legacy.txt").write_text("стрк <script>\n", encoding="utf-8")
    (hyp / "a.txt").write_text("строка <script>alert(1)</script>\n", encoding="utf-8")
    (hyp / "b.txt").write_text("шум\n", encoding="utf-8")
    pages = score_pairs(pair_inputs(hyp, gt), STRICT, gt_root=gt)
    assert [p.page_id for p in pages] == ["a", "b", "c"]
    assert pages[1].chars.rate is None and pages[2].chars.rate == 1.0
    assert pages[0].gain is not None and pages[0].gain > 0
    table = summary_table(pages)
    assert "empty ref" in table and "nan" not in table.lower() and "inf" not in table.lower()
    report = write_reports(pages, STRICT, str(hyp), str(gt), tmp_path / "r")
    json.dumps(report, allow_nan=False)
    assert report["profile"]["name"] == "strict" and report["run"]["legacy"]["pages"] == 1
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _console_errors(html_path) -> list[str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium not installed (apt-get install chromium)")
    import tempfile

    for _ in range(3):  # a headless start can fail on a loaded machine: it then prints no DOM at all
        with tempfile.TemporaryDirectory() as prof:
            r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                "--disable-sync", f"--user-data-dir={prof}", "--enable-logging=stderr", "--v=0",
                                "--dump-dom", html_path.as_uri()],
                               capture_output=True, text=True, timeout=120)
        if r.stdout.strip():
            break
    assert r.stdout.strip(), f"chromium printed no DOM: {r.stderr[-500:]}"
    return [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln], r.stdout


def test_html_report_opens_in_chromium_without_console_errors(tmp_path):
    gt = Transcription(tl(["первая строка", "вторая строка"]), [])
    pages = [score_transcriptions("p1", gt, Transcription(tl(["первая строкa"]), []))]
    pages[0].reel = "reel-1"
    report = build_report(pages, STRICT, "hyp", "gt")
    page = tmp_path / "report.html"
    page.write_text(render_html(report, pages, tmp_path), encoding="utf-8")
    errors, dom = _console_errors(page)
    assert errors == [] and "Accuracy report" in dom
    # the harness does see console errors: a page with one is caught
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefinedFunction()</script></body></html>")
    assert _console_errors(bad)[0]


def test_the_report_carries_its_page_images_and_shows_code_points(tmp_path):
    import cv2
    import numpy as np

    scan = tmp_path / "scans" / "p1.png"
    scan.parent.mkdir()
    cv2.imwrite(str(scan), np.full((3000, 2000), 200, np.uint8))
    gt = Transcription(tl(["первая строка"]), [])
    pages = [score_transcriptions("p1", gt, Transcription(tl(["первая строкa"]), []))]  # a Latin "a"
    pages[0].image, pages[0].size = str(scan), (2000, 3000)
    report = build_report(pages, STRICT, "hyp", "gt")
    assert report["confusions"][0] == {"ref": "а", "hyp": "a", "count": 1, "ref_codepoints": "U+0430",
                                       "hyp_codepoints": "U+0061"}
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.html").write_text(render_html(report, pages, out), encoding="utf-8")
    moved = tmp_path / "mailed" / "report"
    shutil.move(str(out), str(moved))
    shutil.rmtree(tmp_path / "scans")  # the scans are not where the report went
    html = (moved / "report.html").read_text(encoding="utf-8")
    assert 'href="images/p1.jpg"' in html and "U+0430" in html and "U+0061" in html
    thumb = cv2.imread(str(moved / "images" / "p1.jpg"))
    assert thumb is not None and thumb.shape[1] == 1400  # copied into the report, at most 1400 px wide
