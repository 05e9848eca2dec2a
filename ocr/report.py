"""Score a run against ground truth: per page and reel CER/WER, printed as a table."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import GroundTruthError
from .formats.readers import TLine, index_folder, read_transcription
from .metrics import Counts, align_counts, fmt_rate, graphemes, normalize, words

KINDS = ("typewritten", "handwritten", "stamp")


def joined(lines: list[TLine], kinds: tuple[str, ...] | None = None) -> str:
    return normalize(" ".join(ln.text for ln in lines if kinds is None or ln.kind in kinds))


@dataclass
class PageScore:
    page_id: str
    chars: Counts = field(default_factory=Counts)
    words: Counts = field(default_factory=Counts)
    typed_chars: Counts | None = None
    legacy_chars: Counts | None = None
    error: str = ""


def score_texts(ref: str, hyp: str) -> tuple[Counts, Counts]:
    ref, hyp = normalize(ref), normalize(hyp)
    return align_counts(graphemes(ref), graphemes(hyp)), align_counts(words(ref), words(hyp))


def score_page(page_id: str, hyp_path: Path | None, gt_path: Path, legacy_path: Path | None = None) -> PageScore:
    """Page-level scores: all text, typewritten-only (where the GT marks kinds), and the legacy transcription."""
    ps = PageScore(page_id)
    try:
        gt = read_transcription(gt_path)
        hyp = read_transcription(hyp_path) if hyp_path else []
    except GroundTruthError as e:
        ps.error = str(e)
        return ps
    ps.chars, ps.words = score_texts(joined(gt), joined(hyp))
    if any(ln.kind != "unknown" for ln in gt):
        typed_hyp = [ln for ln in hyp if ln.kind in ("typewritten", "unknown")]
        ps.typed_chars = score_texts(joined(gt, ("typewritten",)), joined(typed_hyp))[0]
    if legacy_path is not None:
        try:
            legacy = read_transcription(legacy_path)
            ps.legacy_chars = score_texts(joined(gt), joined(legacy))[0]
        except GroundTruthError as e:
            ps.error = str(e)
    return ps


def find_legacy(gt_path: Path) -> Path | None:
    """The archive's old transcription kept beside the ground truth: ``<page id>.legacy.txt``."""
    pid = gt_path.name.split(".")[0]
    cand = gt_path.with_name(f"{pid}.legacy.txt")
    return cand if cand.exists() else None


def score_run(out_dir: Path, gt_dir: Path, page_ids: list[str]) -> list[PageScore]:
    """Score the PAGE XML outputs of ``page_ids`` against ground truth found in ``gt_dir`` (by page id)."""
    gt_index = index_folder(gt_dir)
    scores = []
    for pid in page_ids:
        if pid not in gt_index:
            continue
        hyp = out_dir / f"{pid}.page.xml"
        scores.append(score_page(pid, hyp if hyp.exists() else None, gt_index[pid], find_legacy(gt_index[pid])))
    return scores


def summary_table(scores: list[PageScore]) -> str:
    """A plain-text table: one row a page, then the micro average over all pages."""
    has_typed = any(s.typed_chars for s in scores)
    has_legacy = any(s.legacy_chars for s in scores)
    head = ["page", "ref chars", "CER", "WER"] + (["typed CER"] if has_typed else []) + (
        ["legacy CER"] if has_legacy else [])
    rows = []
    tot_c, tot_w, tot_t, tot_l = Counts(), Counts(), Counts(), Counts()
    for s in scores:
        if s.error:
            rows.append([s.page_id, "-", "error: " + s.error, "", *([""] * (len(head) - 4))])
            continue
        row = [s.page_id, str(s.chars.ref_len), fmt_rate(s.chars.rate), fmt_rate(s.words.rate)]
        tot_c, tot_w = tot_c + s.chars, tot_w + s.words
        if has_typed:
            row.append(fmt_rate(s.typed_chars.rate) if s.typed_chars else "-")
            tot_t = tot_t + s.typed_chars if s.typed_chars else tot_t
        if has_legacy:
            row.append(fmt_rate(s.legacy_chars.rate) if s.legacy_chars else "-")
            tot_l = tot_l + s.legacy_chars if s.legacy_chars else tot_l
        rows.append(row)
    total = ["ALL (micro)", str(tot_c.ref_len), fmt_rate(tot_c.rate), fmt_rate(tot_w.rate)]
    if has_typed:
        total.append(fmt_rate(tot_t.rate))
    if has_legacy:
        total.append(fmt_rate(tot_l.rate))
    widths = [max(len(str(r[i])) for r in [head, total, *rows]) for i in range(len(head))]

    def fmt(r):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(head), sep, *(fmt(r) for r in rows), sep, fmt(total),
                      "CER/WER: NFC grapheme clusters / words, whitespace collapsed, edits / reference length; "
                      "ALL = total edits / total reference length."])
