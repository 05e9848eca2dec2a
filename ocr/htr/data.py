"""The real handwritten words (../shared/data/htr_ru) and the training set made from them and synthetic lines.

Labels of the real words are normalised: NFC, and ё -> я, because the data
set's labellers typed ё for я in most words ("длё" for "для"; ``data/README.md``
of the shared data): in 19th-century cursive a true ё is rare, the quirk is not.
The split is fixed by a hash of each image's relative path: 7.5 % test (never
seen in training, the figure we report), 7.5 % validation (model selection),
85 % training.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from ..synth.render import word_coverage
from . import lines

SPLIT_TEST, SPLIT_VAL = 75, 150  # per mille: [0, 75) test, [75, 150) validation, the rest training


def normalise_label(text: str) -> str:
    """NFC, whitespace collapsed, and the data set's ё-for-я quirk undone."""
    text = " ".join(unicodedata.normalize("NFC", text).split())
    return text.replace("ё", "я").replace("Ё", "Я")


def split_of(rel: str) -> str:
    h = int(hashlib.sha1(rel.encode("utf-8")).hexdigest(), 16) % 1000
    return "test" if h < SPLIT_TEST else "val" if h < SPLIT_VAL else "train"


@dataclass(frozen=True)
class Word:
    path: Path
    text: str
    split: str


def read_words(folder: Path) -> list[Word]:
    """The ``gt.tsv`` of a word data set (``relative/path.jpg<TAB>text``), with each word's split."""
    tsv = folder / "gt.tsv"
    if not tsv.is_file():
        raise InputError(f"{tsv}: no gt.tsv (expected 'relative/path.jpg<TAB>text' per line)")
    out = []
    for n, raw in enumerate(tsv.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        parts = raw.split("\t")
        if len(parts) != 2 or not parts[0].strip():
            raise InputError(f"{tsv}:{n}: expected 'path<TAB>text', got {raw[:60]!r}")
        text = normalise_label(parts[1])
        if text:
            out.append(Word(folder / parts[0], text, split_of(parts[0])))
    return out


def _write(folder: Path, stem: str, img: np.ndarray, text: str) -> Path:
    p = folder / f"{stem}.png"
    cv2.imwrite(str(p), img)
    (folder / f"{stem}.gt.txt").write_text(text + "\n", encoding="utf-8")
    return p


def prepare(work: Path, real: Path | None, synthetic: int, seed: int, fonts: list[str],
            real_copies: int = 1, synthetic_test: int = 500, word_lines: int = 0,
            progress: Callable[[int, int], None] | None = None) -> dict:
    """Write the training set under ``work/data`` and the lists ``work/{train,val,test,synth-test}.lst``.

    ``word_lines``: lines composed of the real words (``lines.word_line``), training lines of training words
    and a 25th as many validation lines of validation words (test words are never composed).

    Skipped when ``work/data/manifest.json`` records the same parameters (training can resume).
    Returns the manifest.
    """
    params = {"real": str(real) if real else None, "synthetic": synthetic, "seed": seed,
              "fonts": [Path(f).name for f in fonts], "real_copies": real_copies,
              "synthetic_test": synthetic_test, "split": [SPLIT_TEST, SPLIT_VAL], "word_lines": word_lines}
    data = work / "data"
    manifest_path = data / "manifest.json"
    if manifest_path.is_file():
        old = json.loads(manifest_path.read_text())
        if old.get("params") == params:
            return old
    lists: dict[str, list[Path]] = {"train": [], "val": [], "test": [], "synth-test": []}
    for sub in lists:
        (data / sub).mkdir(parents=True, exist_ok=True)
    words = read_words(real) if real else []
    train_words = sorted({w.text for w in words if w.split == "train"})
    total = len(words) * (1 + real_copies) + synthetic * 1.04 + synthetic_test + word_lines * 1.04
    done = 0
    pools: dict[str, list] = {"train": [], "val": []}  # the words lines are composed of, by split
    for i, w in enumerate(words):
        grey = cv2.imread(str(w.path), cv2.IMREAD_GRAYSCALE)
        if grey is None:
            raise InputError(f"{w.path}: cannot read image")
        lists[w.split].append(_write(data / w.split, f"real-{i:05d}", grey, w.text))
        if word_lines and w.split in pools:
            pools[w.split].append((word_coverage(grey), w.text))
        if w.split == "train":
            for c in range(real_copies):
                img = lines.augment_real(seed * 1_000_003 + i * 7 + c, grey)
                lists["train"].append(_write(data / "train", f"real-{i:05d}-aug{c}", img, w.text))
        done += 1 + real_copies
        if progress:
            progress(done, int(total))
    n_val = synthetic // 25
    for i in range(synthetic + n_val):
        img, text = lines.make_sample(seed * 10_000_000 + i, fonts, train_words)
        split = "val" if i >= synthetic else "train"
        lists[split].append(_write(data / split, f"syn-{i:06d}", img, text))
        done += 1
        if progress and i % 200 == 0:
            progress(done, int(total))
    if word_lines and words:
        n_val = word_lines // 25
        for i in range(word_lines + n_val):
            split = "val" if i >= word_lines else "train"
            if not pools[split]:
                continue
            img, text = lines.word_line(seed * 10_000_000 + 7_000_000 + i, pools[split])
            lists[split].append(_write(data / split, f"wl-{i:06d}", img, text))
            done += 1
            if progress and i % 200 == 0:
                progress(done, int(total))
    for i in range(synthetic_test):  # a separate seed range: never in training
        img, text = lines.make_sample((seed + 1) * 10_000_000 + 5_000_000 + i, fonts, None)
        lists["synth-test"].append(_write(data / "synth-test", f"syn-test-{i:05d}", img, text))
    for name, paths in lists.items():
        (work / f"{name}.lst").write_text("".join(f"{p.resolve()}\n" for p in paths), encoding="utf-8")
    manifest = {"params": params, "counts": {k: len(v) for k, v in lists.items()},
                "real_counts": {s: sum(1 for w in words if w.split == s) for s in ("train", "val", "test")}}
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


def read_list(path: Path) -> list[tuple[Path, str]]:
    """(image, text) pairs of a list file written by :func:`prepare` (text from the ``.gt.txt`` beside each)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            img = Path(line.strip())
            out.append((img, img.with_suffix(".gt.txt").read_text(encoding="utf-8").strip()))
    return out
