"""The accuracy report: report.json, the plain-text table and the self-contained report.html."""
from __future__ import annotations

import html
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
from rapidfuzz.distance import Levenshtein

from .. import __version__
from ..formats import atomic, safe_name
from . import __doc__ as DEFINITIONS  # the package's docstring defines every figure
from .metrics import Profile, fmt_rate, graphemes
from .pages import (
    KINDS,
    PageScore,
    counts_dict,
    totals,
)


def codepoints(s: str) -> str:
    """"U+0417" for "З"; a grapheme of several code points gives them all ("U+0435 U+0308")."""
    return " ".join(f"U+{ord(c):04X}" for c in s)


def build_report(pages: list[PageScore], profile: Profile, hyp: str, gt: str) -> dict[str, Any]:
    reels: dict[str, list[PageScore]] = {}
    for p in pages:
        reels.setdefault(p.reel, []).append(p)
    conf = Counter()
    for p in pages:
        conf.update(p.confusions)
    return {
        "tool": {"name": "memo-ocr", "version": __version__},
        "hypothesis": hyp, "ground_truth": gt,
        "profile": profile.describe(),
        "definitions": DEFINITIONS.split("Definitions (also written into every report):")[1].strip(),
        "run": totals(pages),
        "reels": {r: totals(ps) for r, ps in sorted(reels.items())},
        "confusions": [{"ref": a, "hyp": b, "count": n, "ref_codepoints": codepoints(a), "hyp_codepoints": codepoints(b)}
                       for (a, b), n in conf.most_common(50)],
        "pages": [{
            "page_id": p.page_id, "reel": p.reel, "gt": p.gt_path, "hyp": p.hyp_path, "error": p.error,
            "run_status": p.run_status or None,
            "cer": counts_dict(p.chars), "wer": counts_dict(p.words), "cer_order_free": counts_dict(p.chars_free),
            "kinds": {k: counts_dict(v) for k, v in p.kinds.items()},
            "legacy_cer": counts_dict(p.legacy) if p.legacy else None, "reprocessing_gain": p.gain,
            "lines": [{"ref": ln.ref, "hyp": ln.hyp, "kind": ln.kind, **counts_dict(ln.counts)} for ln in p.lines],
            "unmatched_hyp_lines": p.extra_hyp,
        } for p in pages],
    }


# --- text table ----------------------------------------------------------------------
def summary_table(pages: list[PageScore]) -> str:
    """A plain-text table: one row a page, then the micro (and macro) averages."""
    kinds = [k for k in KINDS if any(k in p.kinds for p in pages)]
    has_legacy = any(p.legacy for p in pages)
    head = ["page", "ref chars", "CER", "WER", "order-free"] + [f"{k[:5]} CER" for k in kinds]
    if has_legacy:
        head += ["legacy CER", "gain"]
    rows = []
    for p in pages:
        if p.error:
            rows.append([p.page_id, "-", "error: " + p.error] + [""] * (len(head) - 3))
            continue
        row = [p.page_id + (" (suspect)" if p.run_status.startswith("suspect") else ""), str(p.chars.ref_len),
               fmt_rate(p.chars.rate), fmt_rate(p.words.rate),
               fmt_rate(p.chars_free.rate)]
        row += [fmt_rate(p.kinds[k].rate) if k in p.kinds else "-" for k in kinds]
        if has_legacy:
            row += [fmt_rate(p.legacy.rate) if p.legacy else "-",
                    f"{100 * p.gain:+.2f}" if p.gain is not None else "-"]
        rows.append(row)
    t = totals(pages)

    def r(d):
        return fmt_rate(d["rate"])

    total = ["ALL (micro)", str(t["cer"]["ref_len"]), r(t["cer"]), r(t["wer"]), r(t["cer_order_free"])]
    total += [r(t["kinds"][k]) if k in t["kinds"] else "-" for k in kinds]
    if has_legacy:
        lg = t.get("legacy")
        total += [r(lg["legacy_cer"]) if lg else "-", f"{100 * lg['gain']:+.2f}" if lg and lg["gain"] is not None else "-"]
    macro = ["ALL (macro)", "", fmt_rate(t["cer_macro"]), fmt_rate(t["wer_macro"])] + [""] * (len(head) - 4)
    widths = [max(len(str(x[i])) for x in [head, total, macro, *rows]) for i in range(len(head))]

    def fmt(x):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(x, widths, strict=True)))

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(head), sep, *(fmt(x) for x in rows), sep, fmt(total), fmt(macro),
                      "CER: NFC grapheme clusters, edits / reference length, page reading order; order-free: lines "
                      "matched first; gain: legacy CER - CER in points; micro = total edits / total reference."])


# --- HTML ----------------------------------------------------------------------------
KIND_COLOURS = {"typewritten": "#1f77b4", "handwritten": "#d62728", "stamp": "#9467bd", "unknown": "#7f7f7f"}


CSS = """
.flag { background: #fde2a6; color: #6b3d00; border-radius: 3px; padding: 0 4px; font-size: 85%; }
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}
td:first-child,th:first-child{text-align:left}td{white-space:nowrap}th{background:#eee;cursor:pointer;user-select:none}
th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
.diff{display:grid;grid-template-columns:1fr 1fr;gap:1em;font-family:monospace;white-space:pre-wrap;
  word-break:break-word;border:1px solid #ddd;padding:.5em;max-height:30em;overflow:auto}
.del{background:#f8c6c6;text-decoration:line-through}.ins{background:#c6f0c6}.sub{background:#f9e79f}
.page{border-top:2px solid #999;margin-top:2em;padding-top:.5em}.legend span{display:inline-block;margin-right:1em}
.sw{display:inline-block;width:1em;height:1em;vertical-align:middle;margin-right:.3em}
svg.pageimg{max-width:100%;height:auto;border:1px solid #ccc}.muted{color:#777}
"""


SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var asc=!th.classList.contains('sorted-asc');
      t.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc');});
      th.classList.add(asc?'sorted-asc':'sorted-desc');
      var body=t.tBodies[0], rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[i].getAttribute('data-v')||a.cells[i].textContent,
            y=b.cells[i].getAttribute('data-v')||b.cells[i].textContent;
        var nx=parseFloat(x), ny=parseFloat(y);
        var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);
        return asc?c:-c;});
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
"""


def _e(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _pct(rate: float | None) -> str:
    return "empty ref" if rate is None else f"{100 * rate:.2f} %"


def _histogram(rates: list[float]) -> str:
    """An inline SVG histogram of page CERs (bins of 2 points, the last one open)."""
    bins = [0] * 11
    for r in rates:
        bins[min(10, int(r * 100 // 2))] += 1
    top = max(bins) or 1
    w, h = 440, 175
    bars = []
    for i, n in enumerate(bins):
        bh = (h - 45) * n / top
        x = 30 + i * 37
        label = f"{2 * i}-{2 * i + 2}" if i < 10 else "20+"
        bars.append(f'<rect x="{x}" y="{h - 20 - bh:.1f}" width="32" height="{bh:.1f}" fill="#4c78a8">'
                    f"<title>{label} %: {n} pages</title></rect>"
                    f'<text x="{x + 16}" y="{h - 6}" font-size="9" text-anchor="middle">{label}</text>'
                    f'<text x="{x + 16}" y="{h - 24 - bh:.1f}" font-size="10" text-anchor="middle">{n or ""}</text>')
    return (f'<svg width="{w}" height="{h}" role="img" aria-label="CER distribution">'
            f'<text x="0" y="12" font-size="11">pages per CER bin (%)</text>{"".join(bars)}</svg>')


def _diff_html(ref: str, hyp: str) -> str:
    rg, hg = graphemes(ref), graphemes(hyp)
    left, right = [], []
    for op in Levenshtein.opcodes(rg, hg):
        a, b = _e("".join(rg[op.src_start:op.src_end])), _e("".join(hg[op.dest_start:op.dest_end]))
        if op.tag == "equal":
            left.append(a)
            right.append(b)
        elif op.tag == "delete":
            left.append(f'<span class="del">{a}</span>')
        elif op.tag == "insert":
            right.append(f'<span class="ins">{b}</span>')
        else:
            left.append(f'<span class="sub">{a}</span>')
            right.append(f'<span class="sub">{b}</span>')
    return (f'<div class="diff"><div><b>ground truth</b><br>{"".join(left)}</div>'
            f'<div><b>recognised</b><br>{"".join(right)}</div></div>')


THUMB_WIDTH = 1400  # page images are copied into the report at most this wide (it then works when moved or mailed)


def _thumbnail(img: Path, report_dir: Path, page_id: str) -> str | None:
    """A JPEG copy of the page image in REPORT/images/, at most ``THUMB_WIDTH`` wide; its href, or None."""
    image = cv2.imread(str(img), cv2.IMREAD_COLOR)
    if image is None:
        return None
    scale = min(1.0, THUMB_WIDTH / image.shape[1])
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        return None
    name = f"images/{safe_name(page_id)}.jpg"
    (report_dir / "images").mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(report_dir / name, buf.tobytes())
    return name


def _page_svg(p: PageScore, report_dir: Path) -> str:
    if not p.image or not p.size:
        return '<p class="muted">No page image (pass --images, or score a run folder with run.json).</p>'
    img = Path(p.image)
    if not img.exists():
        return f'<p class="muted">Page image {_e(p.image)} not found.</p>'
    href = _thumbnail(img, report_dir, p.page_id)
    if href is None:  # an image OpenCV cannot read: linked where it lies
        try:
            href = Path(os.path.relpath(img.resolve(), report_dir.resolve())).as_posix()
        except ValueError:
            href = img.resolve().as_uri()
    w, h = p.size
    parts = [f'<svg class="pageimg" viewBox="0 0 {w} {h}" width="{min(w, 700)}" '
             f'xmlns="http://www.w3.org/2000/svg"><image href="{_e(href)}" x="0" y="0" width="{w}" height="{h}"/>']
    for ln in p.lines:
        if ln.poly and ln.counts.rate is not None:
            alpha = min(0.6, 0.08 + ln.counts.rate)
            pts = " ".join(f"{x},{y}" for x, y in ln.poly)
            parts.append(f'<polygon points="{pts}" fill="rgb(220,30,30)" fill-opacity="{alpha:.2f}">'
                         f"<title>{_e(ln.ref)} | CER {_pct(ln.counts.rate)}</title></polygon>")
    stroke = max(2, w // 400)
    for kind, poly in p.regions:
        pts = " ".join(f"{x},{y}" for x, y in poly)
        parts.append(f'<polygon points="{pts}" fill="none" stroke="{KIND_COLOURS.get(kind, "#7f7f7f")}" '
                     f'stroke-width="{stroke}"><title>{_e(kind)}</title></polygon>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: dict[str, Any], pages: list[PageScore], report_dir: Path) -> str:
    run = report["run"]
    kinds = [k for k in KINDS if k in run["kinds"]]
    has_legacy = "legacy" in run
    head = ["page", "reel", "ref chars", "CER", "WER", "order-free"] + [f"{k} CER" for k in kinds]
    if has_legacy:
        head += ["legacy CER", "gain (points)"]
    rows = []
    for p in pages:
        if p.error:
            rows.append(f'<tr><td><a href="#p-{_e(p.page_id)}">{_e(p.page_id)}</a></td><td>{_e(p.reel)}</td>'
                        f'<td colspan="{len(head) - 2}">error: {_e(p.error)}</td></tr>')
            continue
        flag = (f' <span class="flag" title="{_e(p.run_status)}">suspect</span>'
                if p.run_status.startswith("suspect") else "")
        cells = [f'<td><a href="#p-{_e(p.page_id)}">{_e(p.page_id)}</a>{flag}</td>', f"<td>{_e(p.reel)}</td>",
                 f"<td>{p.chars.ref_len}</td>"]
        for c in [p.chars, p.words, p.chars_free] + [p.kinds.get(k) for k in kinds]:
            v = "" if c is None or c.rate is None else f"{c.rate:.6f}"
            cells.append(f'<td data-v="{v}">{_pct(c.rate) if c is not None else "-"}</td>')
        if has_legacy:
            v = "" if p.legacy is None or p.legacy.rate is None else f"{p.legacy.rate:.6f}"
            cells.append(f'<td data-v="{v}">{_pct(p.legacy.rate) if p.legacy else "-"}</td>')
            g = p.gain
            gv, gs = ("", "-") if g is None else (f"{g:.6f}", f"{100 * g:+.2f}")
            cells.append(f'<td data-v="{gv}">{gs}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")

    def tot(name: str, t: dict) -> str:
        c = [f"<td>{_e(name)}</td>", "<td></td>", f'<td>{t["cer"]["ref_len"]}</td>', f'<td>{_pct(t["cer"]["rate"])}</td>',
             f'<td>{_pct(t["wer"]["rate"])}</td>', f'<td>{_pct(t["cer_order_free"]["rate"])}</td>']
        c += [f'<td>{_pct(t["kinds"][k]["rate"]) if k in t["kinds"] else "-"}</td>' for k in kinds]
        if has_legacy:
            lg = t.get("legacy")
            gain = "-" if not lg or lg["gain"] is None else f"{100 * lg['gain']:+.2f}"
            c += [f'<td>{_pct(lg["legacy_cer"]["rate"]) if lg else "-"}</td>', f"<td>{gain}</td>"]
        return "<tr>" + "".join(c) + "</tr>"

    foot = [tot("ALL (micro)", run)] + [tot(f"reel {r}", t) for r, t in report["reels"].items()]
    def vis(ch: str) -> str:
        """The character, then its code points (З U+0417 and 3 U+0033 look alike)."""
        return (f'{_e("␣" if ch == " " else ch)} <span class="muted">{_e(codepoints(ch))}</span>')

    conf_rows = "".join(f"<tr><td>{vis(c['ref'])}</td><td>{vis(c['hyp'])}</td><td>{c['count']}</td></tr>"
                        for c in report["confusions"][:30])
    legend = "".join(f'<span><i class="sw" style="background:{col}"></i>{k}</span>' for k, col in KIND_COLOURS.items())
    sections = []
    for p in pages:
        if p.error:
            continue
        sections.append(
            f'<section class="page" id="p-{_e(p.page_id)}"><h2>{_e(p.page_id)}</h2>'
            f"<p>CER {_pct(p.chars.rate)} (order-free {_pct(p.chars_free.rate)}), WER {_pct(p.words.rate)}; "
            f"substitutions {p.chars.subs}, deletions {p.chars.dels}, insertions {p.chars.ins}"
            + (f"; <b>{_e(p.run_status)}</b>" if p.run_status else "")
            + (f"; legacy CER {_pct(p.legacy.rate)}" if p.legacy else "") + "</p>"
            + _page_svg(p, report_dir) + _diff_html(p.ref_text, p.hyp_text) + "</section>")
    prof = report["profile"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>memo-ocr accuracy report</title>
<style>{CSS}</style></head><body>
<h1>Accuracy report</h1>
<p>Hypothesis: <code>{_e(report["hypothesis"])}</code>; ground truth: <code>{_e(report["ground_truth"])}</code>;
normalisation profile <b>{_e(prof["name"])}</b> (<code>{_e(json.dumps(prof, ensure_ascii=False))}</code>);
memo-ocr {_e(report["tool"]["version"])}.</p>
<p>Run: <b>CER {_pct(run["cer"]["rate"])}</b> (micro; macro {_pct(run["cer_macro"])}), WER {_pct(run["wer"]["rate"])},
order-free CER {_pct(run["cer_order_free"]["rate"])}, {run["scored"]} pages scored, {run["errors"]} unreadable.</p>
{_histogram([p.chars.rate for p in pages if not p.error and p.chars.rate is not None])}
<h2>Pages</h2><p class="muted">Click a column to sort.</p>
<table class="sortable" id="pages"><thead><tr>{"".join(f"<th>{_e(h)}</th>" for h in head)}</tr></thead>
<tbody>{"".join(rows)}</tbody><tfoot>{"".join(foot)}</tfoot></table>
<h2>Most frequent character confusions</h2><p class="muted">Substitutions in matched lines, each with its code points; ␣ is a space.</p>
<table><thead><tr><th>ground truth</th><th>recognised</th><th>count</th></tr></thead><tbody>{conf_rows}</tbody></table>
<h2>Definitions</h2><pre>{_e(report["definitions"])}</pre>
<p class="legend">Region outlines: {legend} Lines are shaded red by their CER.</p>
{"".join(sections)}
<script>{SORT_JS}</script>
</body></html>
"""


def write_reports(pages: list[PageScore], profile: Profile, hyp: str, gt: str, out_dir: Path) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    report = build_report(pages, profile, hyp, gt)
    atomic.write_text(out_dir / "report.json", json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    atomic.write_text(out_dir / "report.html", render_html(report, pages, out_dir))
    return report
