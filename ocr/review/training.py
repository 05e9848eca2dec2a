"""Corrections back into the handwriting model (``memo-ocr train --from-corrections``).

The reviewed handwritten lines of a run (status ``corrected``; illegible and unclear ones are
left out) are cut out of their pages upright and written as ketos training pairs
(``NAME.png`` + ``NAME.gt.txt``). A fixed part of them, chosen by a hash of the line's key, is
held back; the model is fine-tuned on the rest (plus augmented copies), and the fine-tuned
model replaces the current one only if its CER on the held-back lines is lower.
"""
from __future__ import annotations

import hashlib
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import MemoOcrError
from ..score.metrics import Counts, char_counts
from .lines import line_image
from .store import ReviewStore

HELD_BACK = 0.2
MIN_LINES = 5


@dataclass(frozen=True)
class Pair:
    key: str  # reel/page/line
    image: Path
    text: str


def _rank(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def split(pairs: list[Pair], share: float = HELD_BACK) -> tuple[list[Pair], list[Pair]]:
    """(train, held back): the ceil(share * n) pairs with the lowest hash of their key are held back.

    Fixed for a given set of corrections, whatever order they come in; exactly the share, also for
    small sets (a per-key threshold gave 1 of 37 lines in a real run)."""
    ranked = sorted(pairs, key=lambda p: _rank(p.key))
    n = math.ceil(share * len(pairs)) if pairs else 0
    held = {p.key for p in ranked[:n]}
    return [p for p in pairs if p.key not in held], [p for p in pairs if p.key in held]


def export(root: Path, dest: Path, kinds: tuple[str, ...] = ("handwritten",)) -> list[Pair]:
    """Write every corrected line of those kinds under ROOT as DEST/NAME.png + NAME.gt.txt."""
    store = ReviewStore(root)
    dest.mkdir(parents=True, exist_ok=True)
    pairs = []
    for it in store.queue(status="done"):
        if it.kind not in kinds or not (it.correction or "").strip():
            continue
        crop = line_image(_grey(store.image(it.reel, it.page)), it.poly, pad=0.1)
        key = f"{it.reel}/{it.page}/{it.line}"
        stem = key.replace("/", "__")
        path = dest / f"{stem}.png"
        cv2.imwrite(str(path), crop)
        path.with_suffix(".gt.txt").write_text(it.correction.strip() + "\n", encoding="utf-8")
        pairs.append(Pair(key, path, it.correction.strip()))
    return sorted(pairs, key=lambda p: p.key)


def evaluate(model_path: Path, pairs: list[Pair]) -> Counts:
    """Character error counts of a kraken model on the pairs."""
    from ..engines.kraken_lines import KrakenLines

    model = KrakenLines(model_path)
    total = Counts()
    for p in pairs:
        res = model.read_image(cv2.imread(str(p.image), cv2.IMREAD_GRAYSCALE))
        total = total + char_counts(p.text, res.text)
    return total


def write_training_lists(work: Path, train: list[Pair], copies: int, seed: int) -> tuple[Path, Path]:
    """train.lst (the lines and ``copies`` augmented copies of each) and val.lst (the lines as they are).

    Checkpoints are chosen on the training lines themselves: the held-back lines stay unseen for the
    final comparison."""
    from ..htr.lines import augment_real

    aug = work / "augmented"
    aug.mkdir(parents=True, exist_ok=True)
    rows = [str(p.image.resolve()) for p in train]
    for i, p in enumerate(train):
        grey = cv2.imread(str(p.image), cv2.IMREAD_GRAYSCALE)
        for k in range(copies):
            out = aug / f"{p.image.stem}__a{k}.png"
            cv2.imwrite(str(out), augment_real(seed * 100_003 + i * 101 + k, grey))
            out.with_suffix(".gt.txt").write_text(p.text + "\n", encoding="utf-8")
            rows.append(str(out.resolve()))
    (work / "train.lst").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (work / "val.lst").write_text("\n".join(str(p.image.resolve()) for p in train) + "\n", encoding="utf-8")
    return work / "train.lst", work / "val.lst"


def ketos_finetune(work: Path, base: Path, epochs: int, lrate: float, threads: int) -> Path:
    """Fine-tune BASE with ketos on WORK's lists; the best checkpoint, as weights, at WORK/finetuned.safetensors."""
    from ..htr import train as htr_train

    shutil.rmtree(work / "ckpt", ignore_errors=True)
    cmd = htr_train.ketos_command(work, spec=htr_train.DEFAULT_SPEC, epochs=epochs, batch=8, threads=threads,
                                  lrate=lrate, load=base, resume=None)
    rc = htr_train.run_ketos(cmd, work / "train.log")
    if not htr_train.checkpoints(work / "ckpt"):
        raise MemoOcrError(f"ketos exited {rc} without a checkpoint (log: {work / 'train.log'})")
    out = work / "finetuned.safetensors"
    htr_train.export_best(work, out)
    return out


def from_corrections(root: Path, work: Path, base: Path, out: Path, *, epochs: int = 10, lrate: float = 3e-4,
                     threads: int = 2, copies: int = 4, seed: int = 1,
                     finetune: Callable[[Path, Path, int, float, int], Path] = ketos_finetune,
                     log: Callable[[str], None] = print) -> dict:
    """Export, fine-tune, compare on the held-back lines, and install the new model at OUT only if better."""
    pairs = export(root, work / "lines")
    train, held = split(pairs)
    if len(pairs) < MIN_LINES or not held or not train:
        raise MemoOcrError(f"{root}: {len(pairs)} corrected handwritten line(s), {len(held)} of them held back: "
                           f"need at least {MIN_LINES}, some in each part (correct more lines with 'memo-ocr review')")
    log(f"corrections: {len(pairs)} handwritten lines, {len(train)} to train on, {len(held)} held back")
    before = evaluate(base, held)
    write_training_lists(work, train, copies, seed)
    candidate = finetune(work, base, epochs, lrate, threads)
    after = evaluate(candidate, held)
    better = after.rate is not None and before.rate is not None and after.rate < before.rate
    log(f"held-back CER: current model {before.rate:.2%} ({base}), fine-tuned {after.rate:.2%}")
    if better:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        shutil.copyfile(candidate, tmp)
        tmp.replace(out)
        log(f"installed the fine-tuned model at {out}")
    else:
        log(f"kept the current model: the fine-tuned one is not better on the held-back lines ({candidate} left "
            "for inspection)")
    return {"lines": len(pairs), "train": len(train), "held_back": len(held), "cer_before": before.rate,
            "cer_after": after.rate, "installed": better, "candidate": str(candidate)}


def _grey(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
