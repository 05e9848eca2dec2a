"""``memo-ocr train-vote``: the vote model (``ocr/typed/vote_model.py``) trained on the real typescript pages of
the tuning half: each page read as the pipeline reads it up to the typed lines' second reading (loaded,
cleaned, Tesseract's lines, each line less sure than ``VOTE_BELOW`` read by the typewriter model too), the
two readings' stretches labelled against the page's ground truth, a forest fitted to them. Synthetic Russian
reels with their ground truth (``--reel``; ``memo-ocr synth``) add typed Cyrillic, which the real pages lack."""
from __future__ import annotations

import hashlib
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import click

from ..errors import MemoOcrError, exit_with

# the real page sets of the development data: (folder under it, Tesseract language)
PAGE_SETS = {"ehri-english": ("ehri/english", "eng"), "ehri-german": ("ehri/german", "deu"),
             "fr": ("fr_typescripts", "fra")}
TREES, DEPTH, LEAF = 100, 10, 3  # the forest (set a priori; 9 sizes compared in docs/benchmarks.md)


def tuning_pages(data: Path) -> list[tuple[str, Path, str, Path]]:
    """(set, image, language, ground truth) of every page of the tuning half with its ground truth."""
    from ..score.halves import half

    out = []
    for name, (sub, lang) in PAGE_SETS.items():
        folder = data / sub
        for xml in sorted(folder.glob("*.xml")) if folder.is_dir() else []:
            img = next((xml.with_suffix(s) for s in (".jpg", ".jpeg", ".png", ".tif") if xml.with_suffix(s).exists()),
                       None)
            if img is not None and half(xml.stem) == "tuning":
                out.append((name, img, lang, xml))
    return out


REEL_LANG = "rus"  # the synthetic reels are Russian memos


def reel_pages(reel: Path) -> list[tuple[str, Path, str, Path]]:
    """(reel, image, language, ground truth) of every page of a synthetic reel (``memo-ocr synth -o REEL/img
    --gt-dir REEL/gt``) with its ground truth; a one-line error where the reel is not so laid out."""
    from ..loader import IMAGE_SUFFIXES

    imgs = sorted(p for p in (reel / "img").glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    out = [(reel.name, p, REEL_LANG, reel / "gt" / f"{p.stem}.page.xml") for p in imgs]
    out = [o for o in out if o[3].is_file()]
    if not out:
        raise MemoOcrError(f"{reel}: no page image in {reel / 'img'} with its ground truth in {reel / 'gt'} "
                         f"(make one with memo-ocr synth -o {reel / 'img'} --gt-dir {reel / 'gt'})")
    return out


@lru_cache(maxsize=4)
def _engine(lang: str):
    """Tesseract for ``lang``, made once per worker (it checks the installation when made)."""
    from ..config import Config
    from ..engines import get_engine

    return get_engine("tesseract", Config().replace("run", lang=lang))


def page_readings(img: Path, lang: str, model: str) -> list[list]:
    """Per line less sure than ``VOTE_BELOW``: [Tesseract's words, the model's words], each [text, conf, box]."""
    from ..config import Config
    from ..loader import PageRef, load_image
    from ..preprocess import preprocess
    from ..typed import model_read

    cfg = Config().replace("run", lang=lang)
    pp = preprocess(load_image(PageRef(img.stem, img)), cfg.preprocess)
    blocks = _engine(lang).recognize(pp.image)
    lines = [ln for block in blocks for ln in block if model_read.asks_model(ln.words)]
    out = []
    for ln, res in zip(lines, model_read.read_lines(model_read.load(model), pp.grey, lines, lang), strict=True):
        if res.error or not res.text.strip():
            continue
        words = model_read.words_of(res.text, res.char_confs, res.char_boxes, ln.box)
        out.append([[[wd.text, wd.conf, list(wd.box)] for wd in ln.words], [[wd.text, wd.conf, list(wd.box)] for wd in words]])
    return out


def _one(job: tuple[str, str, str, str]) -> tuple[str, list | str]:
    img, lang, model, cache = job
    try:
        lines = page_readings(Path(img), lang, model)
    except MemoOcrError as e:
        return img, str(e)
    Path(cache).write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    return img, lines


@click.command("train-vote", epilog="""
\b
Example (the bundled model):
  memo-ocr train-vote --data ../shared/data -w work/vote -o ocr/models/typed-vote.json
With synthetic Russian reels (memo-ocr synth -o work/rh-4200/img --gt-dir work/rh-4200/gt ...):
  memo-ocr train-vote --data ../shared/data --reel work/rh-4200 --reel work/rh-4500 -w work/vote -o vote.json
\b
Exit status: 0 written; 2 usage error (no tuning page under --data, a --reel without its pages and their
ground truth); 5 Tesseract, its language or
kraken missing.
""")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The development data folder (../shared/data): its EHRI and French pages of the tuning half.")
@click.option("--reel", "reels", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A synthetic Russian reel to learn from too (REEL/img, its ground truth in REEL/gt); repeatable.")
@click.option("-w", "--work", "work", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Working folder: each page's two readings are kept there (a second run reads no page again).")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", default="", help="The typewriter model (default: ocr/models/typed.safetensors).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def train_vote(data, reels, work, out, model, workers, seed):
    """Train the vote between Tesseract's and the typewriter model's readings of typed lines on real pages."""
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier

    from ..engines.base import RawWord
    from ..formats.readers import read_transcription
    from ..layout.classifier import export_sklearn
    from ..typed import model_read, vote_model
    from ..typed.lexicon import WORD_LISTS
    from ..typed.model_data import normalise
    from ..typed.words import wordfreq_langs

    pages = tuning_pages(data)
    try:
        for reel in reels:
            pages += reel_pages(reel)
    except MemoOcrError as e:
        exit_with(e)
    if not pages:
        click.echo(f"memo-ocr: train-vote: no page of the tuning half with ground truth under {data}", err=True)
        sys.exit(2)
    try:
        model_read.check(model)
    except MemoOcrError as e:
        exit_with(e)
    folder = work / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    weights = model_read.model_path(model)
    # readings of other weights, or read otherwise, are not reused
    key = hashlib.sha1(weights.read_bytes() + f"{model_read.VOTE_BELOW} {model_read.STORED_HEIGHT}".encode()).hexdigest()[:12]
    readings: dict[str, list] = {}
    todo = []
    for name, img, lang, _ in pages:
        cache = folder / f"{name}-{img.stem}.{key}.json" if name not in PAGE_SETS else folder / f"{img.stem}.{key}.json"
        if cache.is_file():
            readings[str(img)] = json.loads(cache.read_text(encoding="utf-8"))
        else:
            todo.append((str(img), lang, model, str(cache)))
    with ProcessPoolExecutor(workers) as ex:
        for n, (img, lines) in enumerate(ex.map(_one, todo), start=1):
            if isinstance(lines, str):
                click.echo(f"memo-ocr: train-vote: {lines}", err=True)
                continue
            readings[img] = lines
            click.echo(f"memo-ocr: train-vote: read {n} of {len(todo)} pages", err=True)
    X, gain = [], []
    for _, img, lang, xml in pages:
        if str(img) not in readings:
            continue
        truth = normalise(" ".join(ln.text for ln in read_transcription(xml)
                                   if ln.kind == "typewritten"))
        lines = [tuple(tuple(RawWord(t, c, tuple(b)) for t, c, b in side) for side in ln) for ln in readings[str(img)]]
        lines = [(tess, ours) for tess, ours in lines if model_read.has_vote(ours)]  # as the vote is asked
        x, g = vote_model.examples(lines, truth, wordfreq_langs(lang, WORD_LISTS))
        X += x
        gain += g
    X, gain = np.array(X), np.array(gain)
    sel = gain != 0  # a stretch either way as good teaches nothing
    if sel.sum() < 20 or len(set((gain[sel] > 0).tolist())) < 2:
        click.echo(f"memo-ocr: train-vote: too few stretches where the readings differ ({int(sel.sum())})", err=True)
        sys.exit(2)
    clf = RandomForestClassifier(n_estimators=TREES, max_depth=DEPTH, min_samples_leaf=LEAF, random_state=seed,
                                 n_jobs=1)
    clf.fit(X[sel], (gain[sel] > 0).astype(int), sample_weight=np.abs(gain[sel]))
    meta = {"pages": len(readings), "stretches": int(len(gain)), "model_better": int((gain > 0).sum()),
            "tesseract_better": int((gain < 0).sum()), "edits_to_gain": int(gain[gain > 0].sum()),
            "typed_model": weights.name, "typed_model_sha1": key, "seed": seed,
            "reels": [r.name for r in reels], "model_floor": model_read.MODEL_FLOOR}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(export_sklearn(clf, vote_model.FEATURES, meta)), encoding="utf-8")
    click.echo(f"memo-ocr: train-vote: {out} from {meta['stretches']} stretches of {meta['pages']} pages "
               f"(the model's words better in {meta['model_better']}, Tesseract's in {meta['tesseract_better']})")
