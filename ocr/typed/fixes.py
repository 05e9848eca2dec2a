"""The text fixes on what Tesseract read."""
from __future__ import annotations

from typing import Any

from ..config import Config
from ..engines import Engine
from ..engines.base import RawLine
from ..preprocess import Preprocessed
from . import lexicon, mergedrows, pagenumber, punctuation


def text_steps(pp: Preprocessed, blocks: list[list[RawLine]], engine: Engine,
               cfg: Config) -> tuple[list[list[RawLine]], dict[str, Any], list[str]]:
    """The steps on what Tesseract read, each switched in ``[tesseract]``, in this order: lines it read two rows
    into one, page numbers it passed over, typed lines it passed over, full stops by their shape, spaces after
    marks, full stops before a sentence's first word, stray full stops between words, straight quotes, stray
    quotes, the lexicon. Returns
    the blocks, what run.json records of each step that ran (its count) and the PAGE ``Metadata`` step names."""
    t = cfg.tesseract
    lang = cfg.run.lang
    # (on, run.json key, run it, step name from its count)
    table = [
        (t.merged_rows and hasattr(engine, "read_words"), "merged_rows_read_again",
         lambda b: mergedrows.fix(b, pp.image, engine.read_words),
         lambda n: f"merged-rows({n} lines read again)" if n else ""),
        (t.page_numbers and hasattr(engine, "read_words"), "page_number_found",
         lambda b: pagenumber.add(b, pp.image, pp.xheight, engine.read_words),
         lambda n: "page-number(found outside Tesseract's lines)" if n else ""),
        (t.repair_stops, "repaired_stops", lambda b: punctuation.repair_stops(pp.image, b, pp.xheight),
         lambda n: f"stop-repair({n} words)"),
        (t.space_after_marks, "spaced_after_marks", punctuation.split_joined,
         lambda n: f"space-after-marks({n} words)"),
        (t.sentence_stops, "stops_before_sentence_starts",
         lambda b: punctuation.stops_before_sentence_starts(b, lang), lambda n: f"sentence-stops({n} words)"),
        (t.stray_stops, "stray_stops_dropped", lambda b: punctuation.drop_stray_stops(b, lang),
         lambda n: f"stray-stops({n} dropped)"),
        (t.straight_quotes, "straightened_quotes", punctuation.straighten_quotes,
         lambda n: f"straight-quotes({n} words)"),
        (t.stray_quotes, "stray_quotes_dropped", punctuation.drop_stray_quotes,
         lambda n: f"stray-quotes({n} dropped)"),
        (t.lexicon and bool(lexicon.languages(lang)), "lexicon_corrected_words",
         lambda b: lexicon.correct_lines(b, lang), lambda n: f"lexicon-correction({lang}: {n} words)"),
    ]
    info: dict[str, Any] = {}
    steps: list[str] = []
    for on, key, step, name in table:
        if not on:
            continue
        blocks, info[key] = step(blocks)
        if name(info[key]):
            steps.append(name(info[key]))
    return blocks, info, steps
