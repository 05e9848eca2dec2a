"""Typed lines read again by the typewriter model (kraken), and per line the reading that is kept.

Tesseract finds the typed lines and reads them; each line's box, cut from the
page's grey image with the margin the model was trained with, is read again by
the typewriter model (``ocr/models/typed.safetensors``, still in training, or
``[tesseract] typed_model``). Which reading a line keeps is ``[tesseract] typed_reader``:

- ``tesseract``: Tesseract's, the model is not run;
- ``model``: the model's, where it read anything;
- ``surer``: the one with the higher mean character confidence;
- ``vote``: the lines Tesseract reads less surely than ``VOTE_BELOW`` are read by the model too, and where
  the two readings differ (aligned word by word) a forest trained on real pages keeps one of them
  (``vote_model``); a line the model reads less surely than ``MODEL_FLOOR`` keeps Tesseract's reading, and
  a word the model reads over another line's like word is that line's (``not_elsewhere``).

The model knows Cyrillic and Latin letters; on a page it reads only those of the page's language
(``lang``: Cyrillic for "rus", Latin for "eng", "fra", both for "rus+eng"), as Tesseract reads only its
language's.

The model's words get their boxes from its character cuts, so ALTO, hOCR and
the PDF text layer stay word-exact.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..engines.base import RawLine, RawWord, mean_conf, scripts
from ..errors import EngineError

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "typed.safetensors"


def model_path(configured: str) -> Path:
    """The typewriter model's file: ``[tesseract] typed_model``, or the bundled one; a one-line error where
    it is not there."""
    p = Path(configured) if configured else DEFAULT_MODEL
    if not p.is_file():
        raise EngineError(f"{p}: typewriter model file not found (train one with 'memo-ocr train --kind typed', "
                          f"or set [tesseract] typed_reader = \"tesseract\")")
    return p


def check(configured: str) -> str:
    """Before a run: kraken installed and the typewriter model usable (without importing PyTorch); kraken's
    version."""
    from ..engines.kraken_lines import check as check_kraken

    return check_kraken(str(model_path(configured)))


def load(configured: str):
    """The typewriter model, loaded once per process."""
    from ..engines.kraken_lines import load as load_kraken

    return load_kraken(str(model_path(configured)))


# the training lines were stored at most this high (``model_data``); a higher line (a 300-600 ppi scan) is read
# scaled down to it, as they were (kraken's line normalisation, most of the model's time, then works on fewer
# pixels)
STORED_HEIGHT = 80


def read_boxes(reader, grey: np.ndarray, boxes: list[tuple[int, int, int, int]], lang: str) -> list:
    """The model's readings (``LineText``) of ``boxes`` of ``grey`` as the pipeline reads typed lines: the page
    language's letters only, a high line scaled down to ``STORED_HEIGHT``."""
    return reader.recognize(grey, boxes, scripts(lang), STORED_HEIGHT)


def read_lines(reader, grey: np.ndarray, lines: list[RawLine], lang: str) -> list:
    """The model's readings of Tesseract's ``lines`` of ``grey``, each cut with the training lines' margin."""
    h, w = grey.shape[:2]
    boxes = []
    for ln in lines:
        mx, my = margin(ln.box)
        boxes.append((max(0, ln.box[0] - mx), max(0, ln.box[1] - my), min(w, ln.box[2] + mx), min(h, ln.box[3] + my)))
    return read_boxes(reader, grey, boxes, lang)


def margin(box: tuple[int, int, int, int]) -> tuple[int, int]:
    """The margin (x, y) the training lines had about their ink: a third of the line's height beside it,
    a twelfth above and below (``model_data.cut``)."""
    h = box[3] - box[1]
    return max(2, h // 3), max(1, h // 12)


def words_of(text: str, confs: list[float], boxes: list[tuple[int, int, int, int]],
             line_box: tuple[int, int, int, int]) -> tuple[RawWord, ...]:
    """The model's line as words: split at spaces, each from its first character's cut to where the next
    character's (the space after it) begins, within the line's box and of its height; its confidence the
    mean of its characters'. A CTC model's cut is often one column wide: a character spans to the next."""
    x0, y0, x1, y1 = line_box
    n = len(text)
    starts = [min(max(boxes[i][0], x0), x1 - 1) if i < len(boxes) else x1 - 1 for i in range(n)]
    out, i = [], 0
    while i < n:
        if text[i] == " ":
            i += 1
            continue
        j = i
        while j < n and text[j] != " ":
            j += 1
        end = starts[j] if j < n else x1
        end = max(end, min(x1, boxes[j - 1][2] if j - 1 < len(boxes) else x1), starts[i] + 1)
        conf = float(np.mean(confs[i:j])) if confs[i:j] else 0.0
        out.append(RawWord(text[i:j], conf, (starts[i], y0, min(end, x1), y1)))
        i = j
    return tuple(out)


# a line Tesseract reads at least this surely (mean confidence) keeps its reading: the model is not asked.
# Set on the tuning half's own time: the largest that keeps the vote within 1.6x plain Tesseract's time a page
# there (0.95: 1.60-1.66x, 4,203 edits; 0.9: 1.54x, 4,302 edits); on the confirming half 0.9 reads 3,081
# edits against 3,077 for 0.95 (3,168 Tesseract's reading), at 1.45x with both halves in one run
VOTE_BELOW = 0.9


def asks_model(tess: tuple[RawWord, ...]) -> bool:
    """``vote``: whether a line Tesseract read as ``tess`` is read by the model too (under ``VOTE_BELOW``)."""
    return mean_conf(tess) < VOTE_BELOW


# a line the model reads less surely than this (mean character confidence) it could not read (a box taking
# in a stamp, a line of another kind): the model has no vote there. Set on the tuning half's readings, where
# below it the model's whole line read better than Tesseract's on 8 of 34 lines (and worse on 17).
MODEL_FLOOR = 0.2


def has_vote(model: tuple[RawWord, ...]) -> bool:
    """``vote``: whether the model's reading of a line (its words) takes part in the vote."""
    return mean_conf(model) >= MODEL_FLOOR


def vote(tess: tuple[RawWord, ...], model: tuple[RawWord, ...], lang: str, chooser=None) -> tuple[RawWord, ...]:
    """Tesseract's and the model's words of one line: where they differ, the stretch the vote model
    (``vote_model``; default: the committed one) keeps; Tesseract's where the model could not read the line
    (``has_vote``)."""
    if not has_vote(model):
        return tess
    from .lexicon import WORD_LISTS
    from .vote_model import choose, load as load_chooser
    from .words import wordfreq_langs

    return choose(tess, model, wordfreq_langs(lang, WORD_LISTS), chooser or load_chooser())


# a word the model reads in a line's box that lies mostly (this share of its box) over a word of another of the
# page's lines which reads alike (at least this normalised similarity) is that line's word, which the box reached
# over (a signature block's "Зам." that Tesseract read as a line of its own, read again at the start of the line
# beside it): it is left out
OVER_OTHER, ALIKE = 0.5, 0.5


def not_elsewhere(words: tuple[RawWord, ...], line: RawLine, blocks: list[list[RawLine]]) -> tuple[RawWord, ...]:
    """``words`` voted for ``line`` without the model's words that another line of the page holds already
    (``OVER_OTHER``, ``ALIKE``); Tesseract's own words of the line stay."""
    from rapidfuzz.distance import Levenshtein

    own = {id(w) for w in line.words}
    if all(id(w) in own for w in words):
        return words
    others = [o for block in blocks for ln in block if ln is not line for o in ln.words]

    def over(w: RawWord, o: RawWord) -> bool:
        (x0, y0, x1, y1), b = w.box, o.box
        inter = max(0, min(x1, b[2]) - max(x0, b[0])) * max(0, min(y1, b[3]) - max(y0, b[1]))
        return inter >= OVER_OTHER * max(1, (x1 - x0) * (y1 - y0))

    def held(w: RawWord) -> bool:
        return any(over(w, o) and Levenshtein.normalized_similarity(w.text, o.text) >= ALIKE for o in others)

    return tuple(w for w in words if id(w) in own or not held(w))


def reread(grey: np.ndarray, blocks: list[list[RawLine]], reader, mode: str,
           lang: str = "rus") -> tuple[list[list[RawLine]], dict]:
    """``blocks`` (Tesseract's lines on ``grey``) with each line's kept reading, and what run.json records:
    lines read by the model, lines where its reading was kept."""
    if mode == "tesseract" or not blocks:
        return blocks, {}
    flat = [(b, i) for b, block in enumerate(blocks) for i in range(len(block))
            if mode != "vote" or asks_model(blocks[b][i].words)]
    chooser = None
    if mode == "vote":
        from .vote_model import load as load_chooser

        chooser = load_chooser()
    results = read_lines(reader, grey, [blocks[b][i] for b, i in flat], lang)
    out = [list(block) for block in blocks]
    kept = failed = 0
    for (b, i), res in zip(flat, results, strict=True):
        line = blocks[b][i]
        if res.error or not res.text.strip():
            failed += bool(res.error)
            continue
        words = words_of(res.text, res.char_confs, res.char_boxes, line.box)
        if not words:
            continue
        if mode == "vote":
            words = not_elsewhere(vote(line.words, words, lang, chooser), line, blocks)
            if [w.text for w in words] != [w.text for w in line.words]:
                out[b][i] = RawLine(words, line.box)
                kept += 1
        elif mode == "model" or mean_conf(words) > line.conf:
            out[b][i] = RawLine(words, line.box)
            kept += 1
    info = {"typed_reader": mode, "model_lines": len(flat), "model_kept": kept}
    if failed:
        info["model_failed"] = failed
    return out, info


TESSERACT_HEIGHT = 48  # a cut line lower than this is upscaled for Tesseract (x-height ~20 px, its best range)


def tesseract_words(grey: np.ndarray, lang: str) -> tuple[RawWord, ...]:
    """A cut typed line read by Tesseract alone (``--psm 7``), small lines (~100 ppi pages) upscaled: its
    words, boxed in the line image."""
    import cv2

    from ..engines.tesseract import image_to_data

    s = 1.0
    if 0 < grey.shape[0] < TESSERACT_HEIGHT:
        s = TESSERACT_HEIGHT / grey.shape[0]
        grey = cv2.resize(grey, (max(1, int(grey.shape[1] * s)), TESSERACT_HEIGHT), interpolation=cv2.INTER_CUBIC)
    d = image_to_data(grey, lang, psm=7)
    out = []
    for t, c, x, y, w, h in zip(d["text"], d["conf"], d["left"], d["top"], d["width"], d["height"], strict=True):
        if str(t).strip():
            box = (int(x / s), int(y / s), int((x + w) / s), int((y + h) / s))
            out.append(RawWord(str(t).strip(), max(float(c), 0.0) / 100.0, box))
    return tuple(out)


def read_line(grey: np.ndarray, lang: str, mode: str, reader=None) -> tuple[str, float]:
    """A cut typed line (grey uint8) read as the pipeline reads typed lines with ``mode``: (text, confidence)."""
    tess = tesseract_words(grey, lang) if mode != "model" else ()
    if mode == "tesseract" or (mode == "vote" and not asks_model(tess)):
        return " ".join(w.text for w in tess), mean_conf(tess)
    res = read_boxes(reader, grey, [(0, 0, grey.shape[1], grey.shape[0])], lang)[0]
    if res.error:
        raise EngineError(res.error)
    h, w = grey.shape[:2]
    ours = words_of(res.text, res.char_confs, res.char_boxes, (0, 0, w, h))
    if mode == "vote":
        ours = vote(tess, ours, lang)
    elif mode == "surer" and mean_conf(tess) >= mean_conf(ours):
        ours = tess
    return " ".join(wd.text for wd in ours), mean_conf(ours)
