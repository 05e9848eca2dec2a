"""Scoring pages: a transcription against its ground truth, per line, region kind and page; a folder of
them paired with theirs; the reel's totals (micro and macro)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist

from ..errors import GroundTruthError
from ..formats.readers import TLine, Transcription, index_folder, page_id_of, read_page
from .metrics import STRICT, Counts, Profile, align_counts, graphemes, words

KINDS = ("typewritten", "handwritten", "stamp")


@dataclass
class LineScore:
    ref: str
    hyp: str
    kind: str
    counts: Counts
    poly: tuple = ()


@dataclass
class PageScore:
    page_id: str
    reel: str = ""
    gt_path: str = ""
    hyp_path: str = ""
    error: str = ""
    chars: Counts = field(default_factory=Counts)
    words: Counts = field(default_factory=Counts)
    chars_free: Counts = field(default_factory=Counts)
    kinds: dict[str, Counts] = field(default_factory=dict)
    lines: list[LineScore] = field(default_factory=list)
    extra_hyp: list[str] = field(default_factory=list)
    legacy: Counts | None = None
    confusions: Counter = field(default_factory=Counter)
    ref_text: str = ""
    hyp_text: str = ""
    image: str = ""
    size: tuple[int, int] | None = None
    regions: list[tuple[str, tuple]] = field(default_factory=list)
    run_status: str = ""  # from the run's run.json: "suspect: <reason>" for a page the page guard flagged

    @property
    def gain(self) -> float | None:
        """Reprocessing gain: legacy CER minus the new CER (positive = the new run is better)."""
        if self.legacy is None or self.legacy.rate is None or self.chars.rate is None:
            return None
        return self.legacy.rate - self.chars.rate


def _joined(lines: list[TLine], profile: Profile) -> str:
    return profile.apply(" ".join(ln.text for ln in lines))


def match_lines(ref: list[str], hyp: list[str], ref_kinds: list[str] | None = None,
                hyp_kinds: list[str] | None = None) -> list[tuple[int, int]]:
    """One-to-one pairs (ref index, hyp index), greedily by normalised edit distance (< 0.8: at least a fifth in
    common). With the lines' kinds, a line is paired with a line of its own kind before any other: where a
    typed line read also took in a stamp's words, the stamp's true line is paired with the stamp's own reading,
    and the typed line's extra words count as inserted typed text, not as the stamp's."""
    if not ref or not hyp:
        return []
    dist = cdist(ref, hyp, scorer=Levenshtein.normalized_distance)

    def other(i: int, j: int) -> bool:
        return ref_kinds is not None and hyp_kinds is not None and ref_kinds[i] != hyp_kinds[j]

    cands = sorted((other(i, j), float(dist[i, j]), i, j) for i in range(len(ref)) for j in range(len(hyp))
                   if dist[i, j] < 0.8)
    used_r, used_h, pairs = set(), set(), []
    for _, _, i, j in cands:
        if i not in used_r and j not in used_h:
            used_r.add(i)
            used_h.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def confusions(ref: list[str], hyp: list[str]) -> Counter:
    c: Counter = Counter()
    for op in Levenshtein.editops(ref, hyp):
        if op.tag == "replace":
            c[(ref[op.src_pos], hyp[op.dest_pos])] += 1
    return c


def score_transcriptions(page_id: str, gt: Transcription, hyp: Transcription, profile: Profile = STRICT,
                         legacy: Transcription | None = None) -> PageScore:
    ps = PageScore(page_id, image=gt.image or hyp.image, size=gt.size or hyp.size,
                   regions=[(r.kind, r.poly) for r in gt.regions if r.poly])
    ps.ref_text, ps.hyp_text = _joined(gt.lines, profile), _joined(hyp.lines, profile)
    ps.chars = align_counts(graphemes(ps.ref_text), graphemes(ps.hyp_text))
    ps.words = align_counts(words(ps.ref_text), words(ps.hyp_text))
    refs = [profile.apply(ln.text) for ln in gt.lines]
    hyps = [profile.apply(ln.text) for ln in hyp.lines]
    pairs = dict(match_lines(refs, hyps, [ln.kind for ln in gt.lines], [ln.kind for ln in hyp.lines]))
    matched_h = set(pairs.values())
    kinds: dict[str, Counts] = {}
    free = Counts()
    for i, ln in enumerate(gt.lines):
        j = pairs.get(i)
        h = hyps[j] if j is not None else ""
        rg, hg = graphemes(refs[i]), graphemes(h)
        c = align_counts(rg, hg)
        ps.confusions.update(confusions(rg, hg))
        ps.lines.append(LineScore(refs[i], h, ln.kind, c, ln.poly))
        free = free + c
        kinds[ln.kind] = kinds.get(ln.kind, Counts()) + c
    for j, ln in enumerate(hyp.lines):
        if j in matched_h:
            continue
        ins = Counts(0, len(graphemes(hyps[j])), 0, 0, len(graphemes(hyps[j])))
        free = free + ins
        ps.extra_hyp.append(hyps[j])
        if ln.kind in KINDS:
            kinds[ln.kind] = kinds.get(ln.kind, Counts()) + ins
    ps.chars_free, ps.kinds = free, kinds
    if legacy is not None:
        ps.legacy = align_counts(graphemes(ps.ref_text), graphemes(_joined(legacy.lines, profile)))
    return ps


def score_files(page_id: str, hyp_path: Path | None, gt_path: Path, profile: Profile = STRICT,
                legacy_path: Path | None = None) -> PageScore:
    """Score one page from files; an unreadable file gives a PageScore with ``error`` set."""
    try:
        gt = read_page(gt_path)
        hyp = read_page(hyp_path) if hyp_path else Transcription([], [])
        legacy = read_page(legacy_path) if legacy_path else None
    except GroundTruthError as e:
        return PageScore(page_id, gt_path=str(gt_path), hyp_path=str(hyp_path or ""), error=str(e))
    ps = score_transcriptions(page_id, gt, hyp, profile, legacy)
    ps.gt_path, ps.hyp_path = str(gt_path), str(hyp_path or "")
    return ps


def find_legacy(gt_path: Path) -> Path | None:
    """The archive's old transcription kept beside the ground truth: ``<page id>.legacy.txt``."""
    pid = page_id_of(gt_path) or gt_path.stem
    cand = gt_path.with_name(f"{pid}.legacy.txt")
    return cand if cand.exists() else None


def pair_inputs(hyp: Path, gt: Path) -> list[tuple[str, Path | None, Path]]:
    """(page id, hypothesis file or None, ground-truth file) for every ground-truth page.

    A page with ground truth but no hypothesis is scored as an empty output
    (everything deleted): a page the engine lost must not vanish from the totals.
    """
    if hyp.is_file() and gt.is_file():
        return [(page_id_of(gt) or gt.stem, hyp, gt)]
    hyps = index_folder(hyp) if hyp.is_dir() else {page_id_of(hyp) or hyp.stem: hyp}
    gts = index_folder(gt) if gt.is_dir() else {page_id_of(gt) or gt.stem: gt}
    return [(pid, hyps.get(pid), g) for pid, g in sorted(gts.items())]


def score_pairs(pairs: list[tuple[str, Path | None, Path]], profile: Profile, gt_root: Path | None = None,
                images: dict[str, Path] | None = None, statuses: dict[str, str] | None = None) -> list[PageScore]:
    out = []
    for pid, h, g in pairs:
        ps = score_files(pid, h, g, profile, find_legacy(g))
        if gt_root is not None and gt_root.is_dir():
            rel = g.parent.relative_to(gt_root) if g.parent != gt_root else Path(gt_root.name)
            ps.reel = str(rel)
        else:
            ps.reel = g.parent.name
        if images and pid in images:
            ps.image = str(images[pid])
        ps.run_status = (statuses or {}).get(pid, "")
        out.append(ps)
    return out


# --- totals --------------------------------------------------------------------------
def _sum(items) -> Counts:
    total = Counts()
    for c in items:
        total = total + c
    return total


def _macro(rates: list[float | None]) -> float | None:
    vals = [r for r in rates if r is not None]
    return sum(vals) / len(vals) if vals else None


def counts_dict(c: Counts) -> dict[str, Any]:
    return {"rate": c.rate, "ref_len": c.ref_len, "hyp_len": c.hyp_len, "substitutions": c.subs,
            "deletions": c.dels, "insertions": c.ins, "edits": c.edits}


def totals(pages: list[PageScore]) -> dict[str, Any]:
    ok = [p for p in pages if not p.error]
    kinds = {k: _sum(p.kinds[k] for p in ok if k in p.kinds) for k in KINDS}
    legacy_pages = [p for p in ok if p.legacy is not None]
    t = {
        "pages": len(pages), "scored": len(ok), "errors": len(pages) - len(ok),
        "cer": counts_dict(_sum(p.chars for p in ok)),
        "wer": counts_dict(_sum(p.words for p in ok)),
        "cer_order_free": counts_dict(_sum(p.chars_free for p in ok)),
        "cer_macro": _macro([p.chars.rate for p in ok]),
        "wer_macro": _macro([p.words.rate for p in ok]),
        "kinds": {k: counts_dict(v) for k, v in kinds.items() if v.ref_len or v.ins},
    }
    if legacy_pages:
        new = _sum(p.chars for p in legacy_pages)
        old = _sum(p.legacy for p in legacy_pages)
        t["legacy"] = {"pages": len(legacy_pages), "legacy_cer": counts_dict(old), "new_cer": counts_dict(new),
                       "gain": None if old.rate is None or new.rate is None else old.rate - new.rate}
    return t
