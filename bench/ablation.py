"""Which steps pay on pages they were not tuned on: each step switched off in turn, CER per half.

Every page of ``bench/ehri.py``'s sets (the same documents, the same tuning/confirming halves) is read
once with everything on and once with each variant below; Tesseract's reads are cached per page (by
the image's bytes), so a variant that changes only what happens after a read costs no second read. A
step pays when switching it off raises the edits; it stays only where it pays on the confirming half.

    python bench/ablation.py [--sets ehri,fr] [--every 1] [--workers 2] [--only KEY,...] [--json FILE]
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ehri import SETS, SHARED, ground_truth, half, pages_of  # noqa: E402

from ocr.config import Config  # noqa: E402
from ocr.score.metrics import char_counts  # noqa: E402

# variant name -> (section, key, value): what is switched off; a section "code:MODULE" names a module whose
# constant KEY (a tuning constant of the line decision, no setting) is set to VALUE for that reading
VARIANTS = {
    "guard": ("run", "guard", False),
    "layout": ("layout", "enabled", False),
    "merged_rows": ("tesseract", "merged_rows", False),
    "page_numbers": ("tesseract", "page_numbers", False),
    "repair_stops": ("tesseract", "repair_stops", False),
    "space_after_marks": ("tesseract", "space_after_marks", False),
    "sentence_stops": ("tesseract", "sentence_stops", False),
    "stray_stops": ("tesseract", "stray_stops", False),
    "straight_quotes": ("tesseract", "straight_quotes", False),
    "stray_quotes": ("tesseract", "stray_quotes", False),
    "lexicon": ("tesseract", "lexicon", False),
    "trim_edge_words": ("code:ocr.typed.lines", "EDGE_WORD_CONF", 0.0),
    "height_check": ("code:ocr.typed.lines", "MAX_HEIGHT_DEVIATION", 0.0),
    "split_at_gaps": ("code:ocr.typed.paragraphs", "GAP_HEIGHTS", float("inf")),
}


class CachingEngine:
    """A Tesseract engine whose reads are remembered by the image's bytes (one page's variants share them)."""

    def __init__(self, engine):
        self.engine, self.cache = engine, {}
        self.name, self.version = engine.name, engine.version

    def _key(self, *parts) -> str:
        h = hashlib.sha1()
        for p in parts:
            h.update(p.tobytes() if hasattr(p, "tobytes") else repr(p).encode())
            if hasattr(p, "shape"):
                h.update(repr(p.shape).encode())
        return h.hexdigest()

    @property
    def threshold_used(self):
        return self.engine.threshold_used

    def recognize(self, image):
        k = self._key("page", image)
        if k not in self.cache:
            self.cache[k] = (self.engine.recognize(image), self.engine.threshold_used)
        blocks, self.engine.threshold_used = self.cache[k]
        return blocks

    def read_words(self, image, psm):
        k = self._key("words", image, psm)
        if k not in self.cache:
            self.cache[k] = self.engine.read_words(image, psm)
        return self.cache[k]

    def read_lines(self, image, psm):
        k = self._key("lines", image, psm)
        if k not in self.cache:
            self.cache[k] = self.engine.read_lines(image, psm)
        return self.cache[k]


def one_page(task) -> dict:
    """Typed-text edits of one page for the baseline and each variant."""
    import os

    os.environ["OMP_THREAD_LIMIT"] = "1"
    from ocr.engines.tesseract import TesseractEngine
    from ocr.loader import PageRef
    from ocr.page import recognize_page

    img, lang, gt, names = task
    base = Config().replace("run", lang=lang)
    engine = CachingEngine(TesseractEngine(lang, base.tesseract))
    out = {}
    for name in ["all on"] + names:
        section, key, value = VARIANTS.get(name, ("run", "guard", True))
        cfg, module, saved = base, None, None
        if name == "all on":
            pass
        elif section.startswith("code:"):
            module = importlib.import_module(section[len("code:"):])
            saved = getattr(module, key)
            setattr(module, key, value)
        else:
            cfg = base.replace(section, **{key: value})
        try:
            page = recognize_page(PageRef(img.stem, img), cfg, engine)
            text = " ".join(ln.text for r in page.regions if r.kept and r.production == "typewritten"
                            for ln in r.lines)
        except Exception as e:  # noqa: BLE001 - a page that fails counts as empty, and says so
            print(f"ablation: {img.name} with {name} off: {type(e).__name__}: {e}", file=sys.stderr)
            text = ""
        finally:
            if module is not None:
                setattr(module, key, saved)
        out[name] = char_counts(gt, text).edits
    return {"page": img.stem, "half": half(img.stem), "ref": len(gt), "edits": out}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--sets", default="ehri-english,ehri-german,fr")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated variants (default: all): " + ", ".join(VARIANTS))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(VARIANTS)
    bad = [n for n in names if n not in VARIANTS]
    if bad:
        print(f"ablation: unknown variant(s) {', '.join(bad)}", file=sys.stderr)
        return 2
    tasks = []
    for s in args.sets.split(","):
        for name in ([k for k in SETS if k.startswith("ehri")] if s == "ehri" else [s]):
            sub, lang = SETS[name]
            for p in pages_of(args.data, sub, args.every, "all"):
                gt = ground_truth(p.with_suffix(".xml"), markers=name == "fr")
                if gt.strip():
                    tasks.append((p, lang, gt, names))
    rows = []
    with ProcessPoolExecutor(args.workers) as ex:
        for i, r in enumerate(ex.map(one_page, tasks), start=1):
            rows.append(r)
            print(f"ablation: {i}/{len(tasks)} {r['page']}", file=sys.stderr, flush=True)
    print(f"{'switched off':20} {'tuning edits':>14} {'change':>8} {'confirming edits':>17} {'change':>8}  verdict")
    tot = {h: sum(r["edits"]["all on"] for r in rows if r["half"] == h) for h in ("tuning", "confirming")}
    print(f"{'(nothing: all on)':20} {tot['tuning']:14} {'':8} {tot['confirming']:17} {'':8}")
    for n in names:
        e = {h: sum(r["edits"][n] for r in rows if r["half"] == h) for h in ("tuning", "confirming")}
        d = {h: e[h] - tot[h] for h in e}
        verdict = "pays on both" if d["tuning"] > 0 and d["confirming"] > 0 else \
            "pays on confirming only" if d["confirming"] > 0 else "does not pay on confirming"
        print(f"{n:20} {e['tuning']:14} {d['tuning']:+8} {e['confirming']:17} {d['confirming']:+8}  {verdict}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
