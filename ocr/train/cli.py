"""The ``memo-ocr`` commands that make training data and train the models: synth, train, lines, train-layout,
train-inksep."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import MemoOcrError, exit_with
from ..log import LOG, NOTICE


@click.command(epilog="""
\b
Exit status: 0 written; 2 usage error, or the synth extra (fonts, word lists) missing.
""")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the page images (<prefix>-NNNN.jpg).")
@click.option("--gt-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the ground truth (<prefix>-NNNN.page.xml, and the seed memo's .legacy.txt); default: OUT.")
@click.option("--pages", type=click.IntRange(min=1), default=12, show_default=True, help="Number of pages.")
@click.option("--seed", type=int, default=83, show_default=True, help="Random seed: the same seed gives identical files.")
@click.option("--prefix", default="memo", show_default=True, help="Page id prefix.")
@click.option("--seed-memo/--no-seed-memo", default=True, show_default=True,
              help="Make page 1 the archival seed memo (RGANI f. 5, op. 28, d. 347, reel 83).")
@click.option("--clean", is_flag=True, help="No scanning effects and no skew: for checking the ground truth itself.")
@click.option("--max-skew", type=click.FloatRange(0, 15), default=3.0, show_default=True,
              help="Largest page skew in degrees (either way).")
@click.option("--typed-only", is_flag=True, help="Typed text only: no handwritten notes, signatures or stamps.")
@click.option("--worn-stamps", is_flag=True,
              help="Stamps as worn as real ones: round ones often oval, some faint, struck twice or partly "
                   "uninked, half the rectangular ones with ruled fields (the pages are otherwise those of the "
                   "same seed).")
@click.option("--real-handwriting", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Write the notes with real scanned handwritten words instead of fonts: a folder of word "
                   "images with gt.tsv (e.g. ../shared/data/htr_ru/train; its held-out test part is used, "
                   "never trained on). The images are not ours to redistribute: keep such a reel outside the "
                   "repository.")
def synth(out_dir, gt_dir, pages, seed, prefix, seed_memo, clean, max_skew, typed_only, worn_stamps,
          real_handwriting):
    """Render synthetic scanned Soviet memos with exact PAGE XML ground truth.

    Each page has typed Russian text, handwritten notes and signatures, and rubber stamps,
    scanned with paper texture, stains, uneven light, skew, blur, noise, dark microfilm borders
    and JPEG artefacts. The ground truth transcribes every line, gives every region its kind
    (typewritten / handwritten-cursive / stamp) and records the true skew angle.
    Needs the synth extra: pip install 'memo-ocr[synth]'.
    """
    from ..synth.reel import make_reel
    from ..synth.scan import ScanSettings

    settings = ScanSettings(degrade=not clean, max_skew=max_skew)
    try:
        ids = make_reel(out_dir, gt_dir or out_dir, pages, seed, prefix=prefix, with_seed_memo=seed_memo,
                        settings=settings, progress=lambda pid: LOG.log(NOTICE, "synth: %s", pid),
                        typed_only=typed_only, real_handwriting=real_handwriting, stamps_worn=worn_stamps)
    except (ImportError, RuntimeError) as e:
        click.echo(f"memo-ocr: error: {e}", err=True)
        sys.exit(2)
    except MemoOcrError as e:
        exit_with(e)
    LOG.log(NOTICE, f"{len(ids)} pages in {out_dir}, ground truth in {gt_dir or out_dir}")


@click.command(epilog="""
\b
Examples:
  memo-ocr train --real ../shared/data/htr_ru/train -w work/htr --epochs 30 -o ocr/models/htr-ru.safetensors
  memo-ocr train -w work/htr --epochs 40 -o ocr/models/htr-ru.safetensors     # resume, 10 more epochs
  memo-ocr train -w work/htr --export-only -o ocr/models/htr-ru.safetensors   # best checkpoint so far
  memo-ocr train --from-corrections out/reel-083 -w work/ft -o ocr/models/htr-ru.safetensors
  memo-ocr train --kind typed --real ../shared/data --seed 7 -w work/typed --epochs 20 --freq 0.25 \
      -o ocr/models/typed.safetensors                                  # the typewriter model (resumable)

--from-corrections OUT: the handwritten lines corrected in `memo-ocr review OUT` (not those marked
illegible or unclear) are cut out upright into WORK/lines; 20 % of them (fixed by a hash of
reel/page/line) are held back; the model (--load, default the committed one) is fine-tuned on
the rest for --epochs (default 10, learning rate 3e-4 unless --lrate), and written to OUT only
if its CER on the held-back lines is lower than the current model's. Both CERs are printed.
Needs at least 5 corrected lines.
\b
Exit status: 0 trained (or nothing better to write); 2 usage error, or too few lines to train on; 4 an
unreadable input; 5 the handwriting extra (kraken, PyTorch) or a model file missing or broken.
""")
@click.option("-w", "--work", "work", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Working folder: training data, ketos checkpoints, train.log. Re-using it resumes.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the best model goes (.safetensors).")
@click.option("--kind", type=click.Choice(["handwritten", "typed"]), default="handwritten", show_default=True,
              help="handwritten: the handwriting model (real words + script fonts); typed: the typewriter model "
                   "(real typed and printed lines + typewriter faces).")
@click.option("--real", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="handwritten: real word images with gt.tsv (e.g. ../shared/data/htr_ru/train), split 85/7.5/7.5 "
                   "by path hash. typed: the development data folder (../shared/data): typed lines of the EHRI and "
                   "French pages of the tuning half (bench/ehri.py's split), Russian print lines by hash (half), "
                   "Komi print lines (85 %).")
@click.option("--synthetic", type=click.IntRange(min=0), default=None,
              help="Synthetic lines to render (default 20000 handwritten: memo vocabulary, 5 script fonts; "
                   "24000 typed: 4 languages, 13 typewriter faces).")
@click.option("--word-lines", type=click.IntRange(min=0), default=8000, show_default=True,
              help="handwritten: lines composed of 1-4 of the --real word images (training words only; a 25th as "
                   "many validation lines of validation words), cut with parts of the lines above and below.")
@click.option("--seed", type=int, default=5, show_default=True, help="Seed of the synthetic lines and augmentations.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Train until this epoch (counted from the start, also when resuming). Default 30; 10 with "
                   "--from-corrections.")
@click.option("--spec", default=None, help="VGSL network spec (default: a small CPU network, input height 48; "
              "typed: 32).")
@click.option("--freq", type=float, default=1.0, show_default=True,
              help="Checkpoint and validate every FREQ epochs (e.g. 0.25: four times an epoch, for long epochs).")
@click.option("--batch", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--lrate", type=float, default=None, help="Learning rate (default 1e-3; 3e-4 with --from-corrections).")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True,
              help="PyTorch threads of ketos; its OMP_THREAD_LIMIT is raised to this where set lower "
                   "(a lower limit makes PyTorch compute wrong).")
@click.option("--load", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Fine-tune this model instead of training from scratch (its codec grows to the new data).")
@click.option("--export-only", is_flag=True, help="Only convert the best checkpoint in WORK to OUT.")
@click.option("--from-corrections", "corrections", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Fine-tune on the lines corrected in this reviewed run folder (see below).")
def train(work, out, kind, real, synthetic, word_lines, seed, epochs, spec, freq, batch, lrate, threads, load,
          export_only, corrections):
    """Train the handwriting or the typewriter (kraken) model on real and synthetic lines; resumable.

    Runs kraken's ketos on the CPU, a checkpoint per epoch (or per --freq) in WORK/ckpt; a later call with the
    same WORK resumes from the newest checkpoint. The best checkpoint by validation accuracy is
    written to OUT. Training never runs in CI: the committed model is the result of this command.
    """
    from ..htr import data
    from ..htr import train as htr_train
    from ..synth import fonts

    if corrections is not None:
        from ..engines.kraken_lines import DEFAULT_MODEL
        from ..review.training import from_corrections

        work.mkdir(parents=True, exist_ok=True)
        try:
            from_corrections(corrections, work, load or DEFAULT_MODEL, out, epochs=epochs or 10, lrate=lrate or 3e-4,
                             threads=threads, seed=seed, log=lambda m: click.echo(f"memo-ocr train: {m}"))
        except MemoOcrError as e:
            exit_with(e)
        return
    epochs, lrate = epochs or 30, lrate or 1e-3
    try:
        if not export_only:
            work.mkdir(parents=True, exist_ok=True)
            bar = None

            def progress(done: int, total: int) -> None:
                nonlocal bar
                if bar is None:
                    from tqdm import tqdm
                    bar = tqdm(total=total, desc="training data", unit="img", file=sys.stderr)
                bar.update(done - bar.n)

            if kind == "typed":
                from ..typed import model_data

                manifest = model_data.prepare(work, real.resolve() if real else None,
                                              24000 if synthetic is None else synthetic, seed, progress=progress)
            else:
                manifest = data.prepare(work, real, 20000 if synthetic is None else synthetic, seed,
                                        fonts.handwriting_training(), word_lines=word_lines if real else 0,
                                        progress=progress)
            if bar is not None:
                bar.close()
            LOG.log(NOTICE, f"train: data {manifest['counts']}")
            done = htr_train.checkpoints(work / "ckpt")
            resume = done[-1][2] if done else None
            if resume is not None and done[-1][0] + 1 >= epochs:
                LOG.log(NOTICE, f"train: {resume.name} already reached epoch {epochs}")
            else:
                resume = htr_train.newest_state(work / "ckpt") or resume
                default_spec = htr_train.TYPED_SPEC if kind == "typed" else htr_train.DEFAULT_SPEC
                cmd = htr_train.ketos_command(work, spec=spec or default_spec, epochs=epochs, batch=batch,
                                              threads=threads, lrate=lrate, load=load, resume=resume, freq=freq)
                rc = htr_train.run_ketos(cmd, work / "train.log")
                if rc != 0:
                    LOG.warning(f"train: ketos exited {rc} (log: {work / 'train.log'}); exporting the best "
                                "checkpoint so far")
        src, epoch, acc = htr_train.export_best(work, out)
    except MemoOcrError as e:
        exit_with(e)
    click.echo(f"memo-ocr train: {out} <- {src.name} (epoch {epoch}, validation accuracy {acc:.4f})")


@click.command(epilog="""
\b
Examples:
  memo-ocr lines note-*.png                          # handwriting: the bundled kraken model
  memo-ocr lines --kind typed --lang rus lines/      # typed lines, read as the pipeline reads them
  memo-ocr lines --kind typed --reader model a.png   # typed, the typewriter model alone
\b
Output: one line per image, PATH<TAB>TEXT<TAB>CONFIDENCE (0..1, 3 decimals). An image that cannot be
read prints PATH<TAB><TAB>0.000 and its reason on stderr; the rest go on (exit status 1 at the end).
\b
Exit status: 0 all read, 1 some images failed, 5 engine or model problem (e.g. a missing model file).
""")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(["handwritten", "typed"]), default="handwritten", show_default=True,
              help="handwritten: the handwriting model; typed: the pipeline's typed-line reader (--reader).")
@click.option("--reader", type=click.Choice(["tesseract", "model", "surer", "vote"]), default=None,
              help="typed: who reads ([tesseract] typed_reader; default: its default): Tesseract, the "
                   "typewriter model, per line the surer of the two, or where they differ as the vote model "
                   "chooses (vote).")
@click.option("--engine", type=click.Choice(["kraken", "tesseract"]), default=None,
              help="Force one engine: kraken (the --model, default the handwriting model) or Tesseract in "
                   "single-line mode (--psm 7).")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path),
              help="Kraken model (default: ocr/models/htr-ru.safetensors; with --kind typed "
                   "ocr/models/typed.safetensors).")
@click.option("--lang", default="rus", show_default=True,
              help="the lines' language: Tesseract's (Tesseract or --kind typed); with rus, handwriting is read "
                   "with the Russian word list ([layout] handwriting_lexicon).")
def lines(images, kind, reader, engine, model, lang):
    """Recognise already-cut line or word images (files or folders of them)."""
    import cv2

    from ..config import Config
    from ..loader import expand_inputs, load_image

    if engine == "kraken" or (engine is None and kind == "handwritten"):
        mode = "kraken"
    elif engine == "tesseract":
        mode = "tesseract"
    else:
        mode = reader or Config().tesseract.typed_reader
    try:
        kraken = None
        if mode == "kraken":
            from ..engines.kraken_lines import load as load_kraken

            kraken = load_kraken(str(model) if model else None)
            if Config().layout.handwriting_lexicon:
                from ..htr.lexicon import with_lexicon

                kraken = with_lexicon(kraken, lang)
        elif mode in ("model", "surer", "vote"):
            from ..typed import model_read

            kraken = model_read.load(str(model) if model else "")
            if mode == "vote":
                from ..typed.vote_model import load as load_chooser

                load_chooser()
        if mode != "kraken" and mode != "model":
            from ..engines.tesseract import check_languages

            check_languages(lang)
        refs = expand_inputs(list(images))
    except MemoOcrError as e:
        exit_with(e)
    from ..typed.model_read import read_line

    failed = 0
    for ref in refs:
        try:
            img = load_image(ref)
            grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            if mode == "kraken":
                res = kraken.read_image(grey)
                text, conf = res.text, res.conf
                if res.error:
                    raise MemoOcrError(f"{ref.path}: {res.error}")
            elif mode == "tesseract" and kind == "handwritten":
                from ..engines.tesseract import read_line_image

                text, conf = read_line_image(grey, lang)
            else:
                text, conf = read_line(grey, lang, mode, kraken)
        except MemoOcrError as e:
            failed += 1
            click.echo(f"memo-ocr: {e}", err=True)
            text, conf = "", 0.0
        click.echo(f"{ref.path}\t{text}\t{conf:.3f}")
    sys.exit(1 if failed else 0)


@click.command("train-layout", epilog="""
\b
Example (the bundled model):
  memo-ocr train-layout -w work/layout --pages 120 --seed 1000 -o ocr/models/layout.json
\b
Exit status: 0 written; 2 usage error, or the synth extra missing; 5 Tesseract or its language missing.
""")
@click.option("-w", "--work", "work", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Working folder: the synthetic training reel and its cached features.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the classifier goes (JSON).")
@click.option("--pages", type=click.IntRange(min=2), default=30, show_default=True)
@click.option("--seed", type=int, default=1000, show_default=True,
              help="Seed of the training reel (keep it apart from the reels you measure on).")
@click.option("--lang", default="rus", show_default=True)
@click.option("--worn-pages", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also this many pages whose stamps are as worn as real ones (oval, faint, struck twice, partly "
                   "uninked: `memo-ocr synth --worn-stamps`), a reel of their own at seed + 1.")
def train_layout(work, out, pages, seed, lang, worn_pages):
    """Train the region classifier (handwritten / stamp / noise) on a synthetic reel's ground truth."""
    import json

    import numpy as np

    from .. import config as config_mod
    from ..engines import get_engine
    from ..formats import atomic
    from ..layout.classifier import KINDS, TreeEnsemble
    from . import layout as layout_train

    cfg = config_mod.Config().replace("layout", enabled=False).replace("run", lang=lang)
    try:
        engine = get_engine("tesseract", cfg)
        X, y = _reel_features(work, pages, seed, False, cfg, engine)
        if worn_pages:
            Xw, yw = _reel_features(work / "worn", worn_pages, seed + 1, True, cfg, engine)
            X, y = np.concatenate([X, Xw]), np.concatenate([y, yw])
    except MemoOcrError as e:
        exit_with(e)
    counts = {k: int((y == k).sum()) for k in KINDS}
    spec = layout_train.fit(X, y, seed, {"train_reel_seed": seed, "pages": pages, "worn_pages": worn_pages,
                                         "counts": counts,
                                         "command": f"memo-ocr train-layout -w WORK --pages {pages} --seed {seed}"
                                                    + (f" --worn-pages {worn_pages}" if worn_pages else "")})
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out, json.dumps(spec, separators=(",", ":")))
    model = TreeEnsemble(spec)
    acc = float((np.array(model.classes)[model.predict_proba(X).argmax(1)] == y).mean())
    click.echo(f"train-layout: {len(y)} candidates {counts}; training accuracy {acc:.3f}; written {out}")


def _reel_features(work: Path, pages: int, seed: int, worn: bool, cfg, engine):
    """The candidates' features and ground-truth kinds of a synthetic reel rendered in ``work`` (``reel/``,
    ``gt/``), both cached there: a reel of other pages or another seed is rendered again, and features of
    another version of the candidates computed again."""
    import shutil

    import numpy as np

    from ..layout.candidates import FEATURES, candidates
    from ..layout.typed_or_hand import typed_boxes
    from ..loader import PageRef, load_image
    from ..page import recognize_page
    from ..synth.reel import make_reel
    from . import layout as layout_train

    reel, gt = work / "reel", work / "gt"
    done, cache = work / "reel.done", work / "features.npz"
    reel_of = [str(pages), str(seed)] + (["worn"] if worn else [])
    if not done.exists() or done.read_text().split() != reel_of:
        # a reel of other pages or another seed (or none yet): render it, and forget its features
        cache.unlink(missing_ok=True)
        shutil.rmtree(reel, ignore_errors=True)
        shutil.rmtree(gt, ignore_errors=True)
        make_reel(reel, gt, pages, seed, with_seed_memo=False, stamps_worn=worn,
                  progress=lambda pid: LOG.log(NOTICE, "train-layout: rendered %s", pid))
        done.write_text(" ".join(reel_of) + "\n")

    def page_features(img_path: Path):
        ref = PageRef(img_path.stem, img_path)
        page = recognize_page(ref, cfg, engine)
        xh = page.info.get("xheight_px")
        LOG.log(NOTICE, "train-layout: %s", img_path.stem)
        words, line_boxes = typed_boxes(page.kept_lines(), cfg.run.lang)
        return candidates(load_image(ref), words, page.border, xh, line_boxes, split=False, finer=False)

    z = np.load(cache) if cache.exists() else None
    if z is not None and list(z.get("features", [])) == list(FEATURES):
        return z["X"], z["y"]
    # none cached yet, or features of another version of the candidates
    X, y = layout_train.collect([(p, gt / f"{p.stem}.page.xml") for p in sorted(reel.glob("*.jpg"))], page_features)
    np.savez(cache, X=X, y=y, features=np.array(FEATURES))
    return X, y


@click.command("train-inksep", epilog="""
\b
Example (the bundled model; about 5 min of rendering and 4 min of training on 2 cores):
  memo-ocr train-inksep -w work/inksep --pages 150 --seed 1000 --steps 3000 -o ocr/models/inksep.safetensors
\b
Exit status: 0 written; 2 usage error, or the synth or handwriting extra (PyTorch) missing.
""")
@click.option("-w", "--work", "work", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Working folder: the cached training patches (re-used for the same pages and seed).")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the network goes (safetensors).")
@click.option("--pages", type=click.IntRange(min=2), default=150, show_default=True,
              help="Synthetic pages rendered for training patches.")
@click.option("--seed", type=int, default=1000, show_default=True,
              help="Seed of the training pages (keep it apart from the reels you measure on).")
@click.option("--steps", type=click.IntRange(min=1), default=3000, show_default=True, help="Training steps (batches of 16).")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True,
              help="PyTorch threads; at most OMP_THREAD_LIMIT where that is set (above it PyTorch computes wrong "
                   "or hangs).")
def train_inksep(work, out, pages, seed, steps, threads):
    """Train the ink separation network (typed / stamp / handwriting per pixel) on synthetic pages."""
    from tqdm import tqdm

    from . import inksep as inksep_train

    try:
        bar = tqdm(total=pages, desc="training pages", unit="page", file=sys.stderr)
        x, y = inksep_train.build_data(seed, pages, work / f"patches-{seed}-{pages}.npz", progress=bar.update)
        bar.close()
        command = f"memo-ocr train-inksep -w WORK --pages {pages} --seed {seed} --steps {steps}"
        meta = inksep_train.train(x, y, out, steps, seed, threads=threads, about={"pages": pages, "command": command},
                                  log=lambda m: LOG.log(NOTICE, "train-inksep: %s", m))
    except ImportError as e:  # the synth or handwriting extra is not installed
        click.echo(f"memo-ocr: error: train-inksep needs the synth and htr extras "
                   f"(pip install 'memo-ocr[synth,htr]'): {e}", err=True)
        sys.exit(2)
    click.echo(f"train-inksep: {meta['patches']} patches; held-out ink accuracy {meta['ink_acc']:.3f}, "
               f"handwriting recall {meta['recall_handwritten']:.3f} precision {meta['precision_handwritten']:.3f}; "
               f"written {out}")
