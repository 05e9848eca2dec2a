"""Full stops that Tesseract reads as another mark or letter, told apart by the glyph's shape.

Typewriter faces differ in their full stop: on many 1930s-50s machines it is a comma-like hook that
sits on the baseline, or a bold round bullet half an x-height tall. The fast LSTM models read the
first as "," and the second as "e" or "s" at the end of the word ("Gestapoe", "wissen, Ich"), sure of
it (confidence 0.95 and more), so neither the confidence nor a word list can catch it. The glyph can:

- a comma hangs below the baseline (on the EHRI pages by a third of an x-height and more); a full
  stop read as "," does not (median 0.1);
- a small letter is an x-height tall; a full stop read as "e" or "s" is about 0.6 of it. Where the
  page's small letters measure short of the x-height estimate (0.7-0.85 of it: the estimate counts a
  face's tall letters), the bound shrinks with them.

A stop after a word counts where a sentence ends (a capital or the paragraph's end follows), or after
an abbreviation that always takes one ("4 ft. x", "250 grms. daily", ``STOP_ABBREVIATIONS``).

A list item's label at a line's start ("a.", "4.") whose stop was read as a letter or digit ("ae", "4e",
"20", "3,") is two glyphs, the second a dot on the first's baseline, and a gap wider than a word space
follows it: such a label becomes the first glyph and ".".

For each word that ends in such a character, the last ink component inside the word's box is
measured against the word's baseline (in the processed image Tesseract read). A page whose commas do
not hang (a face that does not tell them apart) or whose small letters are short is left as read.
"""
from __future__ import annotations

import re

import numpy as np

from ..engines.base import RawLine, RawWord
from ..preprocess import ink_pieces
from .words import wordfreq_langs, zipf

COMMA_DROP = 0.2  # a "," whose glyph reaches less than this far below the baseline (x-heights) is a "."
STOP_HEIGHT = 0.72  # an "e"/"s" whose glyph is lower than this (x-heights) and sits on the baseline is a "."
MIN_SAMPLES = 5  # page statistics need this many glyphs
# abbreviations a full stop ends whatever follows ("4 ft. x 4 ft.", "250 grms. daily", "Jan. 1945")
STOP_ABBREVIATIONS = frozenset('''ft grms gr kms km lbs jan feb febr apr aug sept sep oct okt nov dec dez
    dr mr mrs etc eg ie pm usw bzw vgl ca resp approx'''.split())


def final_glyph(grey: np.ndarray, box: tuple[int, int, int, int], xh: float) -> tuple[float, float, float] | None:
    """(height, drop below the baseline, width) of the word's last glyph, in x-heights; None when the word
    has no clear baseline or its last glyph touches another one."""
    x0, y0, x1, y1 = box
    h_img, w_img = grey.shape
    top, bottom = max(0, int(y0 - 0.2 * xh)), min(h_img, int(y1 + 0.8 * xh))
    left, right = max(0, x0 - 1), min(w_img, x1 + 2)
    crop = grey[top:bottom, left:right]
    if crop.size == 0 or crop.shape[0] < 4 or crop.shape[1] < 4:
        return None
    min_area = max(3.0, 0.01 * xh * xh)
    comps = [c for c in ink_pieces(crop) if c[4] >= min_area and c[1] > 0 and c[1] + c[3] < crop.shape[0]]
    letters = [c for c in comps if 0.6 * xh <= c[3] <= 1.6 * xh]
    if len(letters) < 2:
        return None
    base = float(np.median([c[1] + c[3] for c in letters]))
    last = max(comps, key=lambda c: c[0] + c[2])
    others = [c for c in comps if c is not last]
    if others and max(c[0] + c[2] for c in others) > last[0] + 0.15 * xh:
        return None  # the last glyph overlaps the one before it: not measurable on its own
    return last[3] / xh, (last[1] + last[3] - base) / xh, last[2] / xh


# a list item's label at a line's start ("a.", "4.") whose full stop was read as a letter or digit ("ae", "4e",
# "Co", "20"): two glyphs, the second a dot on the first's baseline, and a gap after it wider than a word space
LABEL = re.compile(r"^[^\W_][eocs0,]$")
LABEL_DOT = 0.7  # the dot at most this tall and wide (x-heights) ...
LABEL_BASE = 0.3  # ... its foot this near the first glyph's
LABEL_GAP = 1.0  # the next word this many x-heights away at least


def label_stop(grey: np.ndarray, box: tuple[int, int, int, int], xh: float) -> bool:
    """Whether the two glyphs in ``box`` are a letter or digit and a full stop on its baseline."""
    x0, y0, x1, y1 = box
    h_img, w_img = grey.shape
    crop = grey[max(0, int(y0 - 0.2 * xh)):min(h_img, int(y1 + 0.3 * xh)), max(0, x0 - 1):min(w_img, x1 + 2)]
    if crop.size == 0 or min(crop.shape) < 4:
        return False
    comps = sorted((c for c in ink_pieces(crop) if c[4] >= max(3.0, 0.01 * xh * xh)), key=lambda c: c[0])
    if len(comps) != 2:
        return False
    first, dot = comps
    return (first[3] >= 0.6 * xh and dot[3] <= LABEL_DOT * xh and dot[2] <= LABEL_DOT * xh
            and dot[0] >= first[0] + first[2] - 1 and abs((dot[1] + dot[3]) - (first[1] + first[3])) <= LABEL_BASE * xh)


def repair_labels(grey: np.ndarray, blocks: list[list[RawLine]], xh: float | None) -> tuple[list[list[RawLine]], int]:
    """Blocks with list labels at lines' starts whose stop was misread ("ae" -> "a.", "4e" -> "4.") put right."""
    if not xh or xh < 6:
        return blocks, 0

    def fix(words):
        w = words[0] if words else None
        if (w is None or len(words) < 2 or not LABEL.match(w.text) or words[1].box[0] - w.box[2] < LABEL_GAP * xh
                or not label_stop(grey, w.box, xh)):
            return words, 0
        return (RawWord(w.text[0] + ".", w.conf, w.box),) + tuple(words[1:]), 1

    return per_line(blocks, fix)


def repair_stops(grey: np.ndarray, blocks: list[list[RawLine]], xh: float | None
                 ) -> tuple[list[list[RawLine]], int]:
    """Blocks with full stops misread as ",", "e" or "s" at word ends put right, and how many were."""
    if not xh or xh < 6:
        return blocks, 0
    found: dict[tuple[int, int, int], tuple[str, tuple[float, float, float], bool]] = {}
    for b, block in enumerate(blocks):
        words = [(li, wi, w) for li, ln in enumerate(block) for wi, w in enumerate(ln.words)]
        for k, (li, wi, w) in enumerate(words):
            t = w.text
            stem = t[:-1].replace(".", "")  # "e.g" -> "eg"
            abbrev = stem.lower() in STOP_ABBREVIATIONS
            if (len(t) >= 2 and (t[-1] == "," or (t[-1] in "es" and len(t) >= 3))
                    and (t[:-1].isalpha() or (abbrev and stem.isalpha()))):
                g = final_glyph(grey, w.box, xh)
                if g is not None:
                    # a full stop ends a sentence: a capital letter or the end of the paragraph follows
                    nxt = words[k + 1][2].text.lstrip("\"'(„“‘") if k + 1 < len(words) else ""
                    found[(b, li, wi)] = (t[-1], g, nxt[:1].isupper() or not nxt or abbrev)
    # page statistics over every such word: a face whose commas do not hang below the line, or whose
    # small letters measure short, is left alone
    commas = [g[1] for ch, g, _ in found.values() if ch == ","]
    letters = [g[0] for ch, g, _ in found.values() if ch in "es"]
    comma_ok = len(commas) >= MIN_SAMPLES and float(np.median(commas)) >= 1.5 * COMMA_DROP
    letter_med = float(np.median(letters)) if letters else 0.0
    letter_ok = len(letters) >= MIN_SAMPLES and letter_med >= 0.70
    stop_height = STOP_HEIGHT * min(1.0, letter_med / 0.85)
    changed = 0
    out = [[list(ln.words) for ln in block] for block in blocks]
    for (b, li, wi), (ch, (h, drop, width), sentence) in found.items():
        stop = sentence and ((ch == "," and comma_ok and drop < COMMA_DROP and h <= 0.75)
                             or (ch in "es" and letter_ok and h < stop_height and abs(drop) <= 0.2 and width <= 0.75))
        if stop:
            w = out[b][li][wi]
            out[b][li][wi] = RawWord(w.text[:-1] + ".", w.conf, w.box)
            changed += 1
    if changed:
        blocks = [[RawLine(tuple(words), ln.box) for words, ln in zip(wb, block, strict=True)]
                  for wb, block in zip(out, blocks, strict=True)]
    blocks, labels = repair_labels(grey, blocks, xh)
    return blocks, changed + labels


# "Dr.Minz", "20.November", "assen.Bevor", "waren,Ein", "Gold,Schmuck": the fast models often take
# a typed space after a full stop or comma for none (the mark's ink is narrow, the gap after it looks
# like the gap between letters). A "." before a capitalised word and a "," between letters always
# have a space in typed prose; abbreviations ("z.B.", "S.A.", "1.XI.") and numbers ("1,5") do not
# match, nor does a single letter before a comma (a misread word: "F,enoh").
_JOINED = re.compile(r"(?<=[^\W_])\.(?=[A-ZÄÖÜА-ЯЁ][a-zäöüßа-яё]+\b)"
                     r"|(?<=[^\W\d_]{2}),(?=[^\W\d_]{2,})")


def per_line(blocks: list[list[RawLine]], fix) -> tuple[list[list[RawLine]], int]:
    """Blocks with each line's words as ``fix(words) -> (new words, how many changed)`` makes them, and how
    many changed in all; the blocks themselves where nothing changed. The line keeps its box."""
    changed = 0
    out = []
    for block in blocks:
        new_block = []
        for ln in block:
            words, n = fix(ln.words)
            changed += n
            new_block.append(RawLine(tuple(words), ln.box) if n else ln)
        out.append(new_block)
    return (out, changed) if changed else (blocks, 0)


def split_joined(blocks: list[list[RawLine]]) -> tuple[list[list[RawLine]], int]:
    """Blocks with words joined at a full stop or comma ("Dr.Minz") split after the mark, each part
    given its share of the word's box by characters; and how many words were split."""

    def fix(line_words):
        words: list[RawWord] = []
        changed = 0
        for w in line_words:
            cuts = [m.end() for m in _JOINED.finditer(w.text)]
            if not cuts:
                words.append(w)
                continue
            changed += 1
            x0, y0, x1, y1 = w.box
            per = (x1 - x0) / len(w.text)
            for a, b in zip([0, *cuts], [*cuts, len(w.text)], strict=True):
                words.append(RawWord(w.text[a:b], w.conf, (x0 + round(a * per), y0, x0 + round(b * per), y1)))
        return words, changed

    return per_line(blocks, fix)


# a typewriter has straight quotes only: what Tesseract's models read as typographic ones is those
_STRAIGHT = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "‘": "'", "’": "'", "‚": "'", "‛": "'"})


def straighten_quotes(blocks: list[list[RawLine]]) -> tuple[list[list[RawLine]], int]:
    """Blocks with the typographic quotes Tesseract read (“ ” „ ‘ ’ ‚) written as the typewriter's straight
    ones (" and '); « » stay. And how many words changed."""

    def fix(line_words):
        words = [RawWord(w.text.translate(_STRAIGHT), w.conf, w.box) for w in line_words]
        return words, sum(a.text != b.text for a, b in zip(line_words, words, strict=True))

    return per_line(blocks, fix)


QUOTE_SPAN = 60  # words: a quotation opened is closed within this many (a typed quote rarely runs longer)
_TRAIL = ".,;:!?)"


def _quoted_word(text: str, q: str) -> bool:
    return bool(text.strip(q + _TRAIL + "(")) and (text.startswith(q) or text.rstrip(_TRAIL).endswith(q))


def drop_stray_quotes(blocks: list[list[RawLine]], quotes: str = "\"'") -> tuple[list[list[RawLine]], int]:
    """Blocks without the quotes that pair with none (in reading order, within ``QUOTE_SPAN`` words): specks
    and show-through read as a quote at a word's start or end ("'that", "towns'", "\"seite") or as a word
    of its own. A quote opening a word pairs with the next one closing a word if no other opens between;
    apostrophes inside a word ("one's", "o'clock") are not quotes. Straight quotes only
    (``straighten_quotes`` first). And how many quotes were dropped."""
    words = [w.text for block in blocks for ln in block for w in ln.words]
    texts = list(words)
    for q in quotes:
        opens = [i for i, t in enumerate(texts) if t.startswith(q) and _quoted_word(t, q)]
        closes = [i for i, t in enumerate(texts) if t.rstrip(_TRAIL).endswith(q) and _quoted_word(t, q)]
        paired: set[tuple[str, int]] = set()
        for o in opens:
            nxt = [c for c in closes if o <= c <= o + QUOTE_SPAN and ("c", c) not in paired
                   and (c > o or texts[o].count(q) >= 2)]
            if nxt and not any(o < o2 <= nxt[0] for o2 in opens):
                paired |= {("o", o), ("c", nxt[0])}
        for i in opens:
            if ("o", i) not in paired:
                texts[i] = texts[i][1:]
        for i in closes:
            if ("c", i) not in paired:
                t = texts[i]
                end = len(t.rstrip(_TRAIL))
                texts[i] = t[:end - 1] + t[end:]
        texts = ["" if t == q else t for t in texts]
    dropped = sum(len(a) - len(b) for a, b in zip(words, texts, strict=True))
    if not dropped:
        return blocks, 0
    it = iter(texts)
    out = []
    for block in blocks:
        new_block = []
        for ln in block:
            kept = tuple(RawWord(t, w.conf, w.box) for w, t in zip(ln.words, it, strict=False) if t)
            if kept:
                new_block.append(RawLine(kept, ln.box))
        if new_block:
            out.append(new_block)
    return out, dropped


# Words capitalised only at a sentence's start (articles, pronouns, prepositions, conjunctions and adverbs;
# no nouns, no "Sie"/"Ihr"/"I", which are capitalised anywhere): after a comma such a word means the comma was
# a full stop misread (many typewriter faces have a stop Tesseract's models read as ","). Per language.
SENTENCE_STARTS = {
    "deu": frozenset("""der die das den dem des ein eine einen einem einer eines ich wir er es man auf nach bei in im
        mit von vom vor zu zur zum aus für über unter durch gegen ohne um am an ebenso desgleichen dann da auch
        aber so als nun jetzt heute wie dies diese dieser dieses diesem diesen jeder jede jedes alle wenn während
        später schon sonst seit bis dort hier nur noch doch leider endlich viele einige mein meine unser
        unsere""".split()),
    "eng": frozenset("""the a an this that these those there they we he she it his her their our its in on at by for
        from with to of as after before when while since during but and or so then also however therefore thus all
        some many most one two several each every""".split()),
}
_COMMA_AFTER_WORD = re.compile(r"(?<=[^\W\d_]{2}),$")


def stops_before_sentence_starts(blocks: list[list[RawLine]], lang: str) -> tuple[list[list[RawLine]], int]:
    """Blocks with a word's final "," made "." where the next word in its line is one capitalised only at a
    sentence's start (``SENTENCE_STARTS``): "werden, Sie ist" stays, "erforderlich, Ebenso" becomes
    "erforderlich. Ebenso". Within a line only: a letter's salutation ends its line with a comma. Languages
    without a list (``lang`` as Tesseract's, "deu+eng" takes both) are left alone. And how many changed."""
    starts = frozenset().union(*(SENTENCE_STARTS.get(code, frozenset()) for code in lang.split("+")))
    if not starts:
        return blocks, 0

    def fix(line_words):
        words = list(line_words)
        changed = 0
        for i, (w, nxt) in enumerate(zip(words, words[1:], strict=False)):
            t = nxt.text
            if (_COMMA_AFTER_WORD.search(w.text) and t[:1].isupper() and t[1:].islower()
                    and t.rstrip(_TRAIL).lower() in starts):
                words[i] = RawWord(w.text[:-1] + ".", w.conf, w.box)
                changed += 1
        return words, changed

    return per_line(blocks, fix)


# Abbreviations that are also words or that a word list counts common: their "." stays before a small letter.
# English and German only (``STRAY_STOP_LANGS``): Russian typescripts abbreviate before small letters all the
# time ("тыс. рублей", "нач. отдела", "см. приложение"), and no list is measured for them.
STRAY_STOP_LANGS = {"eng": "en", "deu": "de"}
ABBREVIATIONS = frozenset("""etc usw bzw bezw evtl ungef vgl ggf geb gest ehem einschl resp incl approx viz ca co
    ff pp sq ft in dr mr mrs st no nr vs od bd hr fr ie eg cf jun sen jr gen dept ave vol fig ed ibid str tel
    abs kap zt""".split())
STOP_WORD_ZIPF = 3.5  # the word before the stop at least this common (Zipf) ...
NEXT_WORD_ZIPF = 3.0  # ... and the small-letter word after it at least this common


def _small_word(text: str) -> str | None:
    """``text`` as a word in small letters (any script, two or more), a comma or the like after it aside."""
    word = text.rstrip(",;:!?)")
    return word if len(word) >= 2 and word.isalpha() and word.islower() else None


def drop_stray_stops(blocks: list[list[RawLine]], lang: str) -> tuple[list[list[RawLine]], int]:
    """Blocks without the full stops between two words of running prose: a speck or show-through after a
    word Tesseract reads as its "." ("was to be. arrested", "members. of the"; plain Tesseract reads it so
    too). A "." ending a common word in small letters (not an abbreviation, ``ABBREVIATIONS``), before a
    common word in small letters — in its line or the next line of its block — is dropped: a typed
    sentence does not start with a small letter. Other languages than ``STRAY_STOP_LANGS`` are left alone.
    And how many were dropped."""
    langs = wordfreq_langs(lang, STRAY_STOP_LANGS)
    if not langs:
        return blocks, 0
    dropped = 0
    out = []
    for block in blocks:
        words = [w for ln in block for w in ln.words]
        texts = [w.text for w in words]
        before = dropped
        for i in range(len(texts) - 1):
            t, nxt = texts[i], _small_word(texts[i + 1])
            word = _small_word(t[:-1]) if t.endswith(".") else None
            if (nxt is None or word is None or word != t[:-1] or word in ABBREVIATIONS
                    or zipf(word, langs) < STOP_WORD_ZIPF or zipf(nxt, langs) < NEXT_WORD_ZIPF):
                continue
            texts[i] = t[:-1]
            dropped += 1
        if dropped == before:
            out.append(block)
            continue
        it = iter(texts)
        out.append([RawLine(tuple(RawWord(next(it), w.conf, w.box) for w in ln.words), ln.box) for ln in block])
    return (out, dropped) if dropped else (blocks, 0)
