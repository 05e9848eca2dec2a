"""The text fixes on what Tesseract read: one registry, in the order they run.

Each fix is ``apply(blocks, ctx) -> (blocks, count)`` with its name (PAGE ``Metadata``), the ``[tesseract]``
key that switches it and the ``run.json`` key that records its count, in one place (``FIXES``). A fix that
needs more of the engine than ``recognize`` (reading a piece of the page again) runs only where the engine
has it (``applies``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..config import Config
from ..engines import Engine
from ..engines.base import RawLine
from . import lexicon, mergedrows, pagenumber, punctuation

Blocks = list[list[RawLine]]


@dataclass(frozen=True)
class Context:
    """What a fix may use besides the blocks: the processed page, its x-height (processed pixels), the
    page's Tesseract language(s) and the engine (to read a piece of the page again)."""

    image: np.ndarray
    xheight: float | None
    lang: str
    engine: Engine


@dataclass(frozen=True)
class Fix:
    name: str  # the step in PAGE Metadata
    key: str  # its switch in [tesseract]
    record: str  # its count in run.json
    apply: Callable[[Blocks, Context], tuple[Blocks, Any]]
    describe: Callable[[Any, Context], str]  # the PAGE step for a count; "" lists none
    applies: Callable[[Context], bool] = lambda ctx: True


def _reads_words(ctx: Context) -> bool:
    return hasattr(ctx.engine, "read_words")


FIXES: tuple[Fix, ...] = (
    Fix("merged-rows", "merged_rows", "merged_rows_read_again",
        lambda b, c: mergedrows.fix(b, c.image, c.engine.read_words),
        lambda n, c: f"merged-rows({n} lines read again)" if n else "", _reads_words),
    Fix("page-number", "page_numbers", "page_number_found",
        lambda b, c: pagenumber.add(b, c.image, c.xheight, c.engine.read_words),
        lambda n, c: "page-number(found outside Tesseract's lines)" if n else "", _reads_words),
    Fix("stop-repair", "repair_stops", "repaired_stops",
        lambda b, c: punctuation.repair_stops(c.image, b, c.xheight), lambda n, c: f"stop-repair({n} words)"),
    Fix("space-after-marks", "space_after_marks", "spaced_after_marks",
        lambda b, c: punctuation.split_joined(b), lambda n, c: f"space-after-marks({n} words)"),
    Fix("sentence-stops", "sentence_stops", "stops_before_sentence_starts",
        lambda b, c: punctuation.stops_before_sentence_starts(b, c.lang), lambda n, c: f"sentence-stops({n} words)"),
    Fix("stray-stops", "stray_stops", "stray_stops_dropped",
        lambda b, c: punctuation.drop_stray_stops(b, c.lang), lambda n, c: f"stray-stops({n} dropped)"),
    Fix("straight-quotes", "straight_quotes", "straightened_quotes",
        lambda b, c: punctuation.straighten_quotes(b), lambda n, c: f"straight-quotes({n} words)"),
    Fix("stray-quotes", "stray_quotes", "stray_quotes_dropped",
        lambda b, c: punctuation.drop_stray_quotes(b), lambda n, c: f"stray-quotes({n} dropped)"),
    Fix("lexicon-correction", "lexicon", "lexicon_corrected_words",
        lambda b, c: lexicon.correct_lines(b, c.lang), lambda n, c: f"lexicon-correction({c.lang}: {n} words)",
        lambda c: bool(lexicon.languages(c.lang))),
)


def apply_fixes(blocks: Blocks, ctx: Context, cfg: Config) -> tuple[Blocks, dict[str, Any], list[str]]:
    """Every fix switched on in ``cfg`` that applies here, in ``FIXES`` order. Returns the blocks, what
    run.json records of each fix that ran (its count) and the PAGE ``Metadata`` steps."""
    info: dict[str, Any] = {}
    steps: list[str] = []
    for fix in FIXES:
        if not getattr(cfg.tesseract, fix.key) or not fix.applies(ctx):
            continue
        blocks, info[fix.record] = fix.apply(blocks, ctx)
        if step := fix.describe(info[fix.record], ctx):
            steps.append(step)
    return blocks, info, steps
