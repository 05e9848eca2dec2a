"""Benchmark: the typewriter model against plain Tesseract on typed and printed line images never trained on.

The test lines are those ``memo-ocr train --kind typed`` set aside in its working folder (``WORK/test.lst``,
``WORK/data/test.json``): the typed lines of the EHRI and French pages of the confirming half (``bench/ehri.py``'s
document split), half the Russian print lines and 7.5 % of the Komi lines (by hash), and synthetic lines typed in
two faces never used in training (``WORK/synth-test.lst``). Each line is read by Tesseract in single-line mode
(``--psm 7``, the page's language, lines under 48 px upscaled to 48; cached in ``WORK/tesseract-lines.json``,
since Tesseract does not change), by the model (a ``.safetensors`` model or a ketos checkpoint), and by the
combinations ``[tesseract] typed_reader`` offers: ``surer`` (per line the reading with the higher mean
confidence) and ``vote`` (a line Tesseract reads under ``VOTE_BELOW``: where the readings differ, the stretch the
vote model keeps; ``ocr/typed/vote_model.py``).
CER: NFC, whitespace collapsed, grapheme clusters, edits / reference length, micro-averaged per source.

    python bench/typed_lines.py -w work/typed [--model ocr/models/typed.safetensors | --model CKPT]
                                [--every 1] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402

from ocr.engines.base import RawWord  # noqa: E402
from ocr.typed.model_read import asks_model, mean_conf, tesseract_words, vote, words_of  # noqa: E402
from ocr.score.metrics import char_counts  # noqa: E402

LANG = {"ehri-english": "eng", "ehri-german": "deu", "fr": "fra", "ru-print": "rus", "komi": "rus"}


def synth_lang(text: str) -> str:
    """The language a synthetic test line was typed in, as Tesseract is told it (its best case)."""
    if re.search(r"[А-Яа-яЁё]", text):
        return "rus"
    if re.search(r"[äöüßÄÖÜ„]", text):
        return "deu"
    if re.search(r"[éèàçêâîôûëïœÉÈÀÇ«]", text):
        return "fra"
    return "eng"


def test_lines(work: Path, every: int) -> list[dict]:
    info = {Path(t["image"]).name: t for t in json.loads((work / "data" / "test.json").read_text())}
    out = []
    for lst, synthetic in (("test.lst", False), ("synth-test.lst", True)):
        for raw in (work / lst).read_text(encoding="utf-8").splitlines()[::every]:
            img = Path(raw.strip())
            text = img.with_suffix(".gt.txt").read_text(encoding="utf-8").strip()
            src = "synthetic, held-out faces" if synthetic else info[img.name]["source"]
            lang = synth_lang(text) if synthetic else LANG[src]
            out.append({"image": str(img), "text": text, "source": src, "lang": lang})
    return out


def tesseract_all(lines: list[dict], cache: Path) -> dict[str, list]:
    done = json.loads(cache.read_text()) if cache.is_file() else {}
    todo = [ln for ln in lines if ln["image"] not in done]
    os.environ["OMP_THREAD_LIMIT"] = "1"

    def one(ln):
        return ln["image"], [[w.text, w.conf, list(w.box)] for w in
                             tesseract_words(cv2.imread(ln["image"], cv2.IMREAD_GRAYSCALE), ln["lang"])]

    t0 = time.time()
    with ThreadPoolExecutor(2) as pool:
        for k, text in pool.map(one, todo):
            done[k] = text
    if todo:
        cache.write_text(json.dumps(done, ensure_ascii=False))
        print(f"tesseract: {len(todo)} lines in {time.time() - t0:.0f} s", file=sys.stderr)
    return done


def model_all(lines: list[dict], model: Path) -> tuple[dict[str, list], float]:
    from ocr.engines.kraken_lines import load
    from ocr.typed.model_read import read_boxes

    if model.suffix == ".ckpt":
        from kraken.models.convert import convert_models

        tmp = Path(tempfile.mkdtemp()) / "model.safetensors"
        written = convert_models([str(model)], str(tmp), weights_format="safetensors")
        model = Path(written) if written else tmp
    reader = load(str(model))  # in NumPy (ocr/engines/vgsl_numpy.py): kraken's readings, no PyTorch
    out = {}
    t0 = time.time()
    for ln in lines:
        grey = cv2.imread(ln["image"], cv2.IMREAD_GRAYSCALE)
        res = read_boxes(reader, grey, [(0, 0, grey.shape[1], grey.shape[0])], ln["lang"])[0]  # as the pipeline reads
        words = words_of(res.text, res.char_confs, res.char_boxes, (0, 0, grey.shape[1], grey.shape[0]))
        out[ln["image"]] = [[w.text, w.conf, list(w.box)] for w in words]
    return out, (time.time() - t0) / max(1, len(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-w", "--work", type=Path, required=True, help="the working folder of memo-ocr train --kind typed")
    ap.add_argument("--model", type=Path, help="model (.safetensors) or ketos checkpoint (.ckpt); default: none")
    ap.add_argument("--every", type=int, default=1, help="every n-th line only (quick looks)")
    ap.add_argument("--json", type=Path, help="write the per-line results here")
    a = ap.parse_args()
    lines = test_lines(a.work, a.every)
    tess = tesseract_all(lines, a.work / "tesseract-lines.json")
    mod, per_line = model_all(lines, a.model) if a.model else ({}, 0.0)
    def words(rows):
        return tuple(RawWord(t, c, tuple(b)) for t, c, b in rows)

    def text(ws):
        return " ".join(w.text for w in ws)

    readers = {"Tesseract": lambda ln: text(words(tess[ln["image"]]))}
    if mod:
        readers["model"] = lambda ln: text(words(mod[ln["image"]]))
        readers["surer"] = lambda ln: text(max(words(tess[ln["image"]]), words(mod[ln["image"]]), key=mean_conf))
        def voted(ln):
            t = words(tess[ln["image"]])
            return text(vote(t, words(mod[ln["image"]]), ln["lang"]) if asks_model(t) else t)

        readers["vote"] = voted
    rows: dict[str, dict[str, int]] = {}
    for ln in lines:
        r = rows.setdefault(ln["source"], dict.fromkeys(["lines", "chars", *readers], 0))
        r["lines"] += 1
        r["chars"] += char_counts(ln["text"], "").ref_len
        for name, read in readers.items():
            ln[name] = read(ln)
            r[name] += char_counts(ln["text"], ln[name]).edits
    print(f"{'source':28} {'lines':>6} {'chars':>7} " + " ".join(f"{n:>10}" for n in readers))
    for src, r in sorted(rows.items()):
        cers = " ".join(f"{100 * r[n] / max(1, r['chars']):9.2f}%" for n in readers)
        print(f"{src:28} {r['lines']:6d} {r['chars']:7d} {cers}")
    if mod:
        print(f"model: {1000 * per_line:.0f} ms per line ({a.model}); surer: the reading with the higher mean "
              "confidence; vote: lines Tesseract reads under VOTE_BELOW (0.9), where the readings differ, as the vote model chooses")
    if a.json:
        a.json.write_text(json.dumps(lines, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
