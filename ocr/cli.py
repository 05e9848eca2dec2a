"""The ``memo-ocr`` command line."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import MemoOcrError

EXIT_HELP = """
\b
Exit status:
  0  every page succeeded
  1  some pages failed (each is named on stderr and recorded in OUT/run.json)
  4  no page failed, but some are suspect: written, but their reading looks collapsed even after the
     plain re-read of the page guard ([run] guard); each is named on stderr, with its reason in run.json
  2  usage error (bad option or argument), or the Dask scheduler cannot be reached
  3  bad configuration (the message names the key and the allowed values)
  5  engine problem before any page ran (e.g. tesseract missing)
  7  the run stopped early ([run] on_error = "abort", or more failures than [run] max_failure_ratio)
130  interrupted by SIGINT (Ctrl+C) or SIGTERM: the workers are stopped at once, the pages finished
     are recorded, the ones in flight are done again by the same command

\b
Re-running the same command resumes: pages done with the same input file and configuration
(OUT/ledger.sqlite) are skipped, changed ones are redone, failed ones are retried with
--retry-failed. Output files are written atomically; the ledger is updated after them.
"""


def _fail(err: MemoOcrError) -> None:
    click.echo(f"memo-ocr: error: {err}", err=True)
    sys.exit(err.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="memo-ocr")
def main() -> None:
    """Re-process scanned archival memos: PAGE XML, ALTO and text out, accuracy against ground truth."""


@main.command(epilog=EXIT_HELP)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: <page>.page.xml, <page>.alto.xml, <page>.txt and run.json.")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="config.toml to use (default: built-in defaults, the same as the bundled config.toml).")
@click.option("--lang", help="Tesseract language(s), e.g. rus, eng, deu, rus+eng (overrides [run] lang).")
@click.option("--workers", type=click.IntRange(min=0), help="Worker processes (default: [run] workers; 0 = one per core).")
@click.option("--gt", "gt_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Ground-truth folder (PAGE XML, ALTO or .txt by page id): print the accuracy table after "
                   "the run and write OUT/report/report.html and report.json (as `memo-ocr score`).")
@click.option("--deskew-angle", type=float, default=None,
              help="Override the measured skew for every page (degrees, counter-clockwise positive).")
@click.option("--retry-failed", is_flag=True, help="Retry pages that failed in an earlier run into OUT.")
@click.option("--scheduler", help="Dask scheduler address (tcp://HOST:8786): run the pages on that cluster.")
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
def run(inputs, out_dir, config_path, lang, workers, gt_dir, deskew_angle, retry_failed, scheduler, no_progress):
    """Recognise page images (files or folders; PNG, JPEG, TIFF incl. multi-page, PDF with pypdfium2).

    Each page is written as OUT/<page id>.page.xml (PAGE 2019), OUT/<page id>.alto.xml (ALTO 4.4)
    and OUT/<page id>.txt; OUT/run.json records per page status, the reason of any failure,
    timings per stage, the deskew angle, engine versions and the effective configuration.
    A bad page is recorded as failed and the rest of the reel goes on.
    """
    from . import config as cfgmod
    from .loader import expand_inputs
    from .pipeline import run_reel
    from .score import pair_inputs, score_pairs, summary_table, write_reports

    try:
        cfg = cfgmod.load(config_path)
        if lang:
            cfg = cfg.replace("run", lang=lang)
    except MemoOcrError as e:
        _fail(e)
    refs = expand_inputs(list(inputs))
    if not refs:
        click.echo("memo-ocr: error: no page images found in the inputs", err=True)
        sys.exit(2)
    try:
        report = run_reel(refs, out_dir, cfg, workers=workers, progress=False if no_progress else None,
                          skew_override=deskew_angle, argv=sys.argv, retry_failed=retry_failed, scheduler=scheduler)
    except MemoOcrError as e:
        _fail(e)
    except KeyboardInterrupt:
        click.echo(f"memo-ocr: interrupted; the pages finished are recorded in {out_dir / 'run.json'} (run the same "
                   f"command again to go on)", err=True)
        sys.exit(130)
    s = report.to_dict()["summary"]
    rate = "-" if s["pages_per_minute"] is None else s["pages_per_minute"]
    click.echo(f"{s['ok']} of {s['pages']} pages ok ({s['done_now']} done now, {s['skipped']} skipped as already "
               f"done), {s['suspect']} suspect, {s['failed']} failed, "
               + (f"{s['engine_errors']} lines an engine failed on, " if s["engine_errors"] else "")
               + f"{s['rejected_lines']} lines rejected "
               f"({s['rejected_chars']} characters, in PAGE as rejected regions), {s['seconds']} s ({rate} "
               f"pages/min); details in {out_dir / 'run.json'}", err=True)
    if report.stopped:
        click.echo(f"memo-ocr: error: {report.stopped}; {len(refs) - len(report.pages)} pages not started "
                   f"(run the same command again to go on)", err=True)
    if gt_dir:
        ids = {p.page_id: Path(p.source) for p in report.pages}
        pairs = [(pid, h, g) for pid, h, g in pair_inputs(out_dir, gt_dir) if pid in ids]
        if pairs:
            prof = cfg.score.get_profile()
            suspect = {p.page_id: f"suspect: {p.info['suspect']}" for p in report.suspect}
            pages = score_pairs(pairs, prof, gt_root=gt_dir, images=ids, statuses=suspect)
            click.echo(summary_table(pages))
            scored = write_reports(pages, prof, str(out_dir), str(gt_dir), out_dir / "report")
            report.meta["accuracy"] = {"profile": prof.name, **scored["run"], "report": "report/report.html"}
            report.save()
            click.echo(f"accuracy report: {out_dir / 'report' / 'report.html'}", err=True)
        else:
            click.echo(f"memo-ocr: no ground truth in {gt_dir} matches the page ids of this run", err=True)
    if "engine_error" in report.meta:
        click.echo(f"memo-ocr: error: {report.meta['engine_error']}", err=True)
        sys.exit(5)
    sys.exit(7 if report.stopped else 1 if report.failed else 4 if report.suspect else 0)


@main.command(epilog="""
\b
Exit status: 0 scored; 1 some files could not be read (named in the table); 2 usage error,
or no page id found on both sides; 3 bad configuration or unknown profile.
""")
@click.argument("hyp", type=click.Path(exists=True, path_type=Path))
@click.option("--gt", "gt", required=True, type=click.Path(exists=True, path_type=Path),
              help="Ground truth: a file or a folder (PAGE XML, ALTO or text, matched by page id).")
@click.option("-o", "--out", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write report.json and report.html (opens from disk) to this folder.")
@click.option("--profile", help="Normalisation profile: strict, archival, archival-pre1918 or one of config.toml.")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="config.toml with [score] profile and custom profiles.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of page images for the HTML report (default: the sources in HYP/run.json).")
def score(hyp, gt, report_dir, profile, config_path, images):
    """Score transcriptions (PAGE XML, ALTO or text; a file or a folder) against ground truth.

    Prints CER/WER per page (page reading order and order-free), per region kind, the
    archive's legacy transcription where a <page id>.legacy.txt lies beside the ground truth,
    and micro and macro averages. A ground-truth page without a hypothesis counts as empty output.
    """
    from . import config as cfgmod
    from .score import (images_from_folder, images_from_run, pair_inputs, score_pairs, statuses_from_run,
                        summary_table, write_reports)

    try:
        cfg = cfgmod.load(config_path)
        prof = cfg.score.get_profile(profile)
    except MemoOcrError as e:
        _fail(e)
    pairs = pair_inputs(hyp, gt)
    if not any(h for _, h, _ in pairs):
        click.echo("memo-ocr: error: no page id is found on both sides", err=True)
        sys.exit(2)
    imgs = images_from_folder(images) if images else images_from_run(hyp)
    pages = score_pairs(pairs, prof, gt_root=gt if gt.is_dir() else None, images=imgs,
                        statuses=statuses_from_run(hyp))
    click.echo(summary_table(pages))
    click.echo(f"profile: {prof.name}", err=True)
    if report_dir:
        write_reports(pages, prof, str(hyp), str(gt), report_dir)
        click.echo(f"report: {report_dir / 'report.html'}", err=True)
    sys.exit(1 if any(p.error for p in pages) else 0)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(files):
    """Validate PAGE XML 2019 and ALTO 4 files against the bundled schemas (offline)."""
    from .formats.validate import validate as check

    bad = 0
    for f in files:
        errors = check(f)
        if errors:
            bad += 1
            click.echo(f"{f}: invalid: {errors[0]}" + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""))
        else:
            click.echo(f"{f}: valid")
    sys.exit(1 if bad else 0)


@main.command()
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
def synth(out_dir, gt_dir, pages, seed, prefix, seed_memo, clean, max_skew, typed_only):
    """Render synthetic scanned Soviet memos with exact PAGE XML ground truth.

    Each page has typed Russian text, handwritten notes and signatures, and rubber stamps,
    scanned with paper texture, stains, uneven light, skew, blur, noise, dark microfilm borders
    and JPEG artefacts. The ground truth transcribes every line, gives every region its kind
    (typewritten / handwritten-cursive / stamp) and records the true skew angle.
    Needs the synth extra: pip install 'memo-ocr[synth]'.
    """
    from .synth.reel import make_reel
    from .synth.scan import ScanSettings

    settings = ScanSettings(degrade=not clean, max_skew=max_skew)
    try:
        ids = make_reel(out_dir, gt_dir or out_dir, pages, seed, prefix=prefix, with_seed_memo=seed_memo,
                        settings=settings, progress=lambda pid: click.echo(f"synth: {pid}", err=True),
                        typed_only=typed_only)
    except (ImportError, RuntimeError) as e:
        click.echo(f"memo-ocr: error: {e}", err=True)
        sys.exit(2)
    click.echo(f"{len(ids)} pages in {out_dir}, ground truth in {gt_dir or out_dir}", err=True)


@main.command(epilog="""
\b
Examples:
  memo-ocr train --real ../shared/data/htr_ru/train -w work/htr --epochs 30 -o ocr/models/htr-ru.safetensors
  memo-ocr train -w work/htr --epochs 40 -o ocr/models/htr-ru.safetensors     # resume, 10 more epochs
  memo-ocr train -w work/htr --export-only -o ocr/models/htr-ru.safetensors   # best checkpoint so far
  memo-ocr train --from-corrections out/reel-083 -w work/ft -o ocr/models/htr-ru.safetensors

--from-corrections OUT: the handwritten lines corrected in `memo-ocr review OUT` (not those marked
illegible or unclear) are cut out upright into WORK/lines; 20 % of them (fixed by a hash of
reel/page/line) are held back; the model (--load, default the committed one) is fine-tuned on
the rest for --epochs (default 10, learning rate 3e-4 unless --lrate), and written to OUT only
if its CER on the held-back lines is lower than the current model's. Both CERs are printed.
Needs at least 5 corrected lines.
""")
@click.option("-w", "--work", "work", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Working folder: training data, ketos checkpoints, train.log. Re-using it resumes.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the best model goes (.safetensors).")
@click.option("--real", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Real word images with gt.tsv (e.g. ../shared/data/htr_ru/train); split 85/7.5/7.5 by path hash.")
@click.option("--synthetic", type=click.IntRange(min=0), default=20000, show_default=True,
              help="Synthetic handwritten lines to render (memo vocabulary, 5 script fonts, strong augmentation).")
@click.option("--seed", type=int, default=5, show_default=True, help="Seed of the synthetic lines and augmentations.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Train until this epoch (counted from the start, also when resuming). Default 30; 10 with "
                   "--from-corrections.")
@click.option("--spec", default=None, help="VGSL network spec (default: a small CPU network, input height 48).")
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
def train(work, out, real, synthetic, seed, epochs, spec, batch, lrate, threads, load, export_only, corrections):
    """Train the handwriting (kraken) model on real words and synthetic memo lines; resumable.

    Runs kraken's ketos on the CPU, one checkpoint per epoch in WORK/ckpt; a later call with the
    same WORK resumes from the newest checkpoint. The best checkpoint by validation accuracy is
    written to OUT. Training never runs in CI: the committed model is the result of this command.
    """
    from .htr import data, train as htr_train
    from .synth import fonts

    if corrections is not None:
        from .engines.kraken_lines import DEFAULT_MODEL
        from .review.training import from_corrections

        work.mkdir(parents=True, exist_ok=True)
        try:
            from_corrections(corrections, work, load or DEFAULT_MODEL, out, epochs=epochs or 10, lrate=lrate or 3e-4,
                             threads=threads, seed=seed, log=lambda m: click.echo(f"memo-ocr train: {m}"))
        except MemoOcrError as e:
            _fail(e)
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

            manifest = data.prepare(work, real, synthetic, seed, fonts.handwriting_training(), progress=progress)
            if bar is not None:
                bar.close()
            click.echo(f"memo-ocr train: data {manifest['counts']}", err=True)
            done = htr_train.checkpoints(work / "ckpt")
            resume = done[-1][2] if done else None
            if resume is not None and done[-1][0] + 1 >= epochs:
                click.echo(f"memo-ocr train: {resume.name} already reached epoch {epochs}", err=True)
            else:
                cmd = htr_train.ketos_command(work, spec=spec or htr_train.DEFAULT_SPEC, epochs=epochs,
                                              batch=batch, threads=threads, lrate=lrate, load=load, resume=resume)
                rc = htr_train.run_ketos(cmd, work / "train.log")
                if rc != 0:
                    click.echo(f"memo-ocr train: ketos exited {rc} (log: {work / 'train.log'}); exporting the best "
                               "checkpoint so far", err=True)
        src, epoch, acc = htr_train.export_best(work, out)
    except MemoOcrError as e:
        _fail(e)
    click.echo(f"memo-ocr train: {out} <- {src.name} (epoch {epoch}, validation accuracy {acc:.4f})")


@main.command(epilog="""
\b
Output: one line per image, PATH<TAB>TEXT<TAB>CONFIDENCE (0..1, 3 decimals). An image that cannot be
read prints PATH<TAB><TAB>0.000 and its reason on stderr; the rest go on (exit status 1 at the end).
\b
Exit status: 0 all read, 1 some images failed, 5 engine or model problem (e.g. a missing model file).
""")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--engine", type=click.Choice(["kraken", "tesseract"]), default="kraken", show_default=True,
              help="kraken: the handwriting model; tesseract: Tesseract in single-line mode (--psm 7).")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path),
              help="Kraken model (default: the committed ocr/models/htr-ru.safetensors).")
@click.option("--lang", default="rus", show_default=True, help="Tesseract language (with --engine tesseract).")
def lines(images, engine, model, lang):
    """Recognise already-cut line or word images (files or folders of them)."""
    import cv2

    from .loader import expand_inputs, load_image

    try:
        if engine == "kraken":
            from .engines.kraken_lines import load as load_kraken

            reader = load_kraken(str(model) if model else None)
        else:
            from .engines.tesseract import check_languages, read_line_image

            check_languages(lang)
        refs = expand_inputs(list(images))
    except MemoOcrError as e:
        _fail(e)
    failed = 0
    for ref in refs:
        try:
            img = load_image(ref)
            grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            if engine == "kraken":
                res = reader.read_image(grey)
                text, conf = res.text, res.conf
                if res.error:
                    raise MemoOcrError(f"{ref.path}: {res.error}")
            else:
                text, conf = read_line_image(grey, lang)
        except MemoOcrError as e:
            failed += 1
            click.echo(f"memo-ocr: {e}", err=True)
            text, conf = "", 0.0
        click.echo(f"{ref.path}\t{text}\t{conf:.3f}")
    sys.exit(1 if failed else 0)


@main.command("train-layout", epilog="""
\b
Example (the bundled model):
  memo-ocr train-layout -w work/layout --pages 120 --seed 1000 -o ocr/models/layout.json
""")
@click.option("-w", "--work", "work", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Working folder: the synthetic training reel and its cached features.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the classifier goes (JSON).")
@click.option("--pages", type=click.IntRange(min=2), default=30, show_default=True)
@click.option("--seed", type=int, default=1000, show_default=True,
              help="Seed of the training reel (keep it apart from the reels you measure on).")
@click.option("--lang", default="rus", show_default=True)
def train_layout(work, out, pages, seed, lang):
    """Train the region classifier (handwritten / stamp / noise) on a synthetic reel's ground truth."""
    import json
    import shutil

    import numpy as np

    from . import config as config_mod
    from . import layout, layout_train
    from .engines import get_engine
    from .formats import atomic
    from .loader import PageRef, load_image
    from .pipeline import recognize_page
    from .routing import typed_boxes
    from .synth.reel import make_reel

    cfg = config_mod.Config().replace("layout", enabled=False).replace("run", lang=lang)
    reel, gt = work / "reel", work / "gt"
    try:
        done, cache = work / "reel.done", work / "features.npz"
        if not done.exists() or done.read_text().split() != [str(pages), str(seed)]:
            # a reel of other pages or another seed (or none yet): render it, and forget its features
            cache.unlink(missing_ok=True)
            shutil.rmtree(reel, ignore_errors=True)
            shutil.rmtree(gt, ignore_errors=True)
            make_reel(reel, gt, pages, seed, with_seed_memo=False,
                      progress=lambda pid: click.echo(f"train-layout: rendered {pid}", err=True))
            done.write_text(f"{pages} {seed}\n")
        engine = get_engine("tesseract", cfg)

        def page_features(img_path: Path):
            ref = PageRef(img_path.stem, img_path)
            page = recognize_page(ref, cfg, engine)
            xh = page.info.get("xheight_px")
            click.echo(f"train-layout: {img_path.stem}", err=True)
            words, line_boxes = typed_boxes(page.kept_lines(), cfg.run.lang)
            return layout.candidates(load_image(ref), words, page.border, xh, line_boxes, split=False, finer=False)

        z = np.load(cache) if cache.exists() else None
        if z is not None and list(z.get("features", [])) == list(layout.FEATURES):
            X, y = z["X"], z["y"]
        else:  # none cached yet, or features of another version of the candidates
            pairs = [(p, gt / f"{p.stem}.page.xml") for p in sorted(reel.glob("*.jpg"))]
            X, y = layout_train.collect(pairs, page_features)
            np.savez(cache, X=X, y=y, features=np.array(layout.FEATURES))
    except MemoOcrError as e:
        _fail(e)
    counts = {k: int((y == k).sum()) for k in layout.KINDS}
    spec = layout_train.fit(X, y, seed, {"train_reel_seed": seed, "pages": pages, "counts": counts,
                                         "command": f"memo-ocr train-layout -w WORK --pages {pages} --seed {seed}"})
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out, json.dumps(spec, separators=(",", ":")))
    model = layout.TreeEnsemble(spec)
    acc = float((np.array(model.classes)[model.predict_proba(X).argmax(1)] == y).mean())
    click.echo(f"train-layout: {len(y)} candidates {counts}; training accuracy {acc:.3f}; written {out}")


@main.command("train-inksep", epilog="""
\b
Example (the bundled model; about 5 min of rendering and 4 min of training on 2 cores):
  memo-ocr train-inksep -w work/inksep --pages 150 --seed 1000 --steps 3000 -o ocr/models/inksep.safetensors
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

    from . import inksep_train

    bar = tqdm(total=pages, desc="training pages", unit="page", file=sys.stderr)
    x, y = inksep_train.build_data(seed, pages, work / f"patches-{seed}-{pages}.npz", progress=bar.update)
    bar.close()
    command = f"memo-ocr train-inksep -w WORK --pages {pages} --seed {seed} --steps {steps}"
    meta = inksep_train.train(x, y, out, steps, seed, threads=threads, about={"pages": pages, "command": command},
                              log=lambda m: click.echo(f"train-inksep: {m}", err=True))
    click.echo(f"train-inksep: {meta['patches']} patches; held-out ink accuracy {meta['ink_acc']:.3f}, "
               f"handwriting recall {meta['recall_handwritten']:.3f} precision {meta['precision_handwritten']:.3f}; "
               f"written {out}")


@main.command(epilog="""
\b
The queue lists, most needed first: lines that failed, lines marked illegible or unclear,
handwriting, stamps, then typewritten lines below --max-conf. Keys: Enter saves and moves on,
Alt+I illegible, Alt+U unclear, Alt+Down / Alt+Up next / previous, Esc back to the machine text.
\b
Corrections go into each page's PAGE XML as TextEquiv index="0" (the machine reading stays, as
index="1") and into OUT/review/journal.jsonl, the history of every line; both are on disk before
the browser is told "saved". A reviewed PAGE XML is ground truth for `memo-ocr score`, and
`memo-ocr train --from-corrections OUT` fine-tunes the handwriting model on it.
\b
Exit status: 0 stopped with Ctrl+C, 2 bad folder or the port is taken.
""")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (keep localhost unless the network is trusted: there is no login).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="0: any free port.")
@click.option("--user", default=None, help="Reviewer name stored with each correction (default: the login name).")
@click.option("--max-conf", default=0.85, show_default=True, type=click.FloatRange(0, 1),
              help="Typewritten lines at or above this confidence are left out of the queue.")
@click.option("--images", "image_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to look for page images in, when run.json's paths do not resolve from here.")
def review(out, host, port, user, max_conf, image_dirs):
    """Review and correct the lines of a finished run OUT (or of a folder of runs) in a browser."""
    import getpass

    from .review.server import serve
    from .review.store import ReviewStore

    try:
        store = ReviewStore(out, max_conf=max_conf, image_dirs=tuple(image_dirs))
    except MemoOcrError as e:
        _fail(e)
    who = user or getpass.getuser()
    try:
        serve(store, host, port, who)
    except OSError as e:
        click.echo(f"memo-ocr: error: cannot listen on {host}:{port} ({e.strerror})", err=True)
        sys.exit(2)
