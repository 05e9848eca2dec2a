"""Benchmark: how many of the lines read wrong the review queue holds, and how many lines read right it asks
about, at several thresholds (``memo-ocr review --max-conf``; the queue holds handwriting and stamp text
whatever their confidence: for them the figures say what a threshold would hold).

The lines are the review app's own (``ReviewStore`` over a run folder), with the confidence it orders and
filters them by (the lines of the page's text; rejected lines are left out). Each page's lines of one kind are matched with its ground-truth lines of that kind as the
per-kind score matches them (``score.pages.match_lines``); a line is right when it reads its line without
an error, wrong otherwise (a line that matches no ground-truth line is wrong). Pages are counted by the
half of the document split they belong to (``score.halves``), so that a threshold can be chosen on one
half and judged on the other.

    python bench/review_queue.py OUT GT [OUT GT ...] [--kind typewritten] [--max-conf 0.85,0.9,0.95] [--markers]

GT: a folder of ground truth by page id (``ID.page.xml``, ``ID.xml`` or ``ID.alto.xml``). ``--markers``
removes eScriptorium's transcription markers (``_`` underlined, ``^`` superscript) from it, as
``bench/ehri.py`` does for the French typescripts.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.errors import MemoOcrError  # noqa: E402
from ocr.formats.readers import read_transcription  # noqa: E402
from ocr.review.store import ReviewStore  # noqa: E402
from ocr.score.halves import half  # noqa: E402
from ocr.score.metrics import STRICT, align_counts, graphemes  # noqa: E402
from ocr.score.pages import match_lines  # noqa: E402


def truth_file(gt: Path, page: str) -> Path | None:
    return next((p for p in (gt / f"{page}.page.xml", gt / f"{page}.xml", gt / f"{page}.alto.xml") if p.is_file()),
                None)


def right_lines(refs: list[str], hyps: list[str], ref_kinds: list[str], hyp_kinds: list[str]) -> list[bool]:
    """Per line read (``hyps``, STRICT-normalised), whether it reads its ground-truth line (``refs``) without an
    error, the lines matched as the per-kind score matches them; a line matched with none is wrong."""
    pairs = {j: i for i, j in match_lines(refs, hyps, ref_kinds, hyp_kinds)}
    return [j in pairs and align_counts(graphemes(refs[pairs[j]]), graphemes(h)).edits == 0 for j, h in enumerate(hyps)]


def judged_lines(out: Path, gt: Path, kind: str, markers: bool) -> list[tuple[str, float | None, bool]]:
    """(half, the queue's confidence, read right) of every line of ``kind`` the review app shows in ``out``."""
    store = ReviewStore(out)
    by_page: dict[str, list] = {}
    for item in store.queue(status="all", kind=kind):
        if item.kept:  # a rejected line is not in the page's text
            by_page.setdefault(item.page, []).append(item)
    rows = []
    for page, items in by_page.items():
        f = truth_file(gt, page)
        if f is None:
            continue
        refs = [STRICT.apply(ln.text) for ln in read_transcription(f) if ln.kind == kind]
        if markers:
            refs = [re.sub(r"(^|\s)_", r"\1", r).replace("^", "") for r in refs]
        hyps = [STRICT.apply(it.machine) for it in items]
        for it, right in zip(items, right_lines(refs, hyps, [kind] * len(refs), [kind] * len(hyps)), strict=True):
            rows.append((half(page), it.conf, right))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", nargs="+", type=Path, help="OUT GT [OUT GT ...]")
    ap.add_argument("--kind", default="typewritten", help="typewritten, handwritten or stamp")
    ap.add_argument("--max-conf", default="0.85,0.9,0.95", help="comma-separated thresholds")
    ap.add_argument("--markers", action="store_true", help="remove _ and ^ transcription markers from the truth")
    args = ap.parse_args()
    if len(args.pairs) % 2:
        print("bench: give an output folder and its ground-truth folder, in pairs", file=sys.stderr)
        return 2
    rows = []
    for out, gt in zip(args.pairs[::2], args.pairs[1::2], strict=True):
        if not gt.is_dir():
            print(f"bench: {gt}: no ground-truth folder", file=sys.stderr)
            return 2
        try:
            rows += judged_lines(out, gt, args.kind, args.markers)
        except MemoOcrError as e:
            print(f"bench: {out}: {e}", file=sys.stderr)
            return 2
    if not rows:
        print(f"bench: no {args.kind} line with its ground truth", file=sys.stderr)
        return 2
    thresholds = [float(t) for t in args.max_conf.split(",")]
    for h in ("tuning", "confirming"):
        sel = [(c, r) for hh, c, r in rows if hh == h]
        if not sel:
            continue
        wrong = sum(not r for _, r in sel)
        print(f"{h}: {len(sel)} {args.kind} lines, {wrong} read wrong, {len(sel) - wrong} right")
        for t in thresholds:
            queued = [(c, r) for c, r in sel if c is None or c < t]
            caught = sum(not r for _, r in queued)
            print(f"  --max-conf {t}: the queue holds {len(queued)} lines: {caught} of the {wrong} wrong "
                  f"({100 * caught / max(wrong, 1):.0f} %), {len(queued) - caught} of the {len(sel) - wrong} right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
