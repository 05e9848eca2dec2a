"""The ``memo-ocr`` command line."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__, log
from .errors import MemoOcrError, exit_with
from .train.cli import lines, synth, train, train_inksep, train_layout
from .train.vote import train_vote

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


# --formats name -> [output] key
FORMATS = {"page": "page_xml", "alto": "alto", "txt": "text", "hocr": "hocr", "pdf": "pdf"}


def _formats(value: str | None) -> set[str] | None:
    if value is None:
        return None
    names = {v.strip() for v in value.split(",") if v.strip()}
    unknown = sorted(names - set(FORMATS))
    if unknown or not names:
        raise click.BadParameter(f"unknown format {', '.join(unknown) or '(none)'}; allowed formats are "
                                 f"{', '.join(FORMATS)}", param_hint="'--formats'")
    return names


def _verbosity(ctx: click.Context, param: click.Parameter, value) -> None:
    """-v / -vv / -q, before or after the command's name; the last one given wins."""
    if value:
        log.setup(-1 if param.name == "quiet" else value)
        ctx.meta["memo_ocr.verbosity"] = True


VERBOSITY = [
    click.Option(["-v", "--verbose"], count=True, expose_value=False, is_eager=True, callback=_verbosity,
                 help="More on stderr: -v a line per page, -vv also each page's stage timings and debug messages."),
    click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, is_eager=True, callback=_verbosity,
                 help="Only errors on stderr: no progress bar, no summary, no warnings."),
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="memo-ocr")
def main() -> None:
    """Re-process scanned archival memos: PAGE XML, ALTO and text out, accuracy against ground truth."""
    if not click.get_current_context().meta.get("memo_ocr.verbosity"):
        log.setup(0)


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
@click.option("--formats", callback=lambda ctx, param, value: _formats(value),
              help="Files to write for each page, comma-separated, of: page, alto, txt, hocr, pdf (a searchable "
                   "PDF) (default: [output] in the configuration, page,alto,txt).")
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
def run(inputs, out_dir, config_path, lang, workers, gt_dir, deskew_angle, retry_failed, scheduler, formats,
        no_progress):
    """Recognise page images (files or folders; PNG, JPEG, TIFF incl. multi-page, PDF with pypdfium2).

    Each page is written as OUT/<page id>.page.xml (PAGE 2019), OUT/<page id>.alto.xml (ALTO 4.4)
    and OUT/<page id>.txt, and with --formats also .hocr (hOCR 1.2) and .pdf (the scan with a
    searchable text layer); OUT/mets.xml lists every page's files (METS, OCR-D's conventions);
    OUT/run.json records per page status, the reason of any failure, timings per stage, the deskew
    angle, engine versions and the effective configuration. A bad page is recorded as failed and
    the rest of the reel goes on.
    """
    from . import config as cfgmod
    from .batch.runner import run_reel
    from .loader import expand_inputs
    from .score.pages import pair_inputs, score_pairs
    from .score.report import summary_table, write_reports

    try:
        cfg = cfgmod.load(config_path)
        if lang:
            cfg = cfg.replace("run", lang=lang)
        if formats is not None:
            cfg = cfg.replace("output", **{key: name in formats for name, key in FORMATS.items()})
    except MemoOcrError as e:
        exit_with(e)
    refs = expand_inputs(list(inputs))
    if not refs:
        click.echo("memo-ocr: error: no page images found in the inputs", err=True)
        sys.exit(2)
    try:
        report = run_reel(refs, out_dir, cfg, workers=workers, progress=False if no_progress else None,
                          skew_override=deskew_angle, argv=sys.argv, retry_failed=retry_failed, scheduler=scheduler)
    except MemoOcrError as e:
        exit_with(e)
    except KeyboardInterrupt:
        click.echo(f"memo-ocr: interrupted; the pages finished are recorded in {out_dir / 'run.json'} (run the same "
                   f"command again to go on)", err=True)
        sys.exit(130)
    s = report.to_dict()["summary"]
    rate = "-" if s["pages_per_minute"] is None else s["pages_per_minute"]
    log.LOG.log(log.NOTICE, f"{s['ok']} of {s['pages']} pages ok ({s['done_now']} done now, {s['skipped']} skipped as already "
               f"done), {s['suspect']} suspect, {s['failed']} failed, "
               + (f"{s['engine_errors']} lines an engine failed on, " if s["engine_errors"] else "")
               + f"{s['rejected_lines']} lines rejected "
               f"({s['rejected_chars']} characters, in PAGE as rejected regions), {s['seconds']} s ({rate} "
               f"pages/min); details in {out_dir / 'run.json'}")
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
            log.LOG.log(log.NOTICE, f"accuracy report: {out_dir / 'report' / 'report.html'}")
        else:
            log.LOG.warning(f"warning: no ground truth in {gt_dir} matches the page ids of this run")
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
    from .score.pages import pair_inputs, score_pairs
    from .score.report import summary_table, write_reports
    from .score.runs import images_from_folder, images_from_run, statuses_from_run

    try:
        cfg = cfgmod.load(config_path)
        prof = cfg.score.get_profile(profile)
    except MemoOcrError as e:
        exit_with(e)
    pairs = pair_inputs(hyp, gt)
    if not any(h for _, h, _ in pairs):
        click.echo("memo-ocr: error: no page id is found on both sides", err=True)
        sys.exit(2)
    imgs = images_from_folder(images) if images else images_from_run(hyp)
    pages = score_pairs(pairs, prof, gt_root=gt if gt.is_dir() else None, images=imgs,
                        statuses=statuses_from_run(hyp))
    click.echo(summary_table(pages))
    log.LOG.log(log.NOTICE, f"profile: {prof.name}")
    if report_dir:
        write_reports(pages, prof, str(hyp), str(gt), report_dir)
        log.LOG.log(log.NOTICE, f"report: {report_dir / 'report.html'}")
    sys.exit(1 if any(p.error for p in pages) else 0)


@main.command(epilog="""
\b
Exit status: 0 every file valid; 1 some file invalid (each named, with its first error); 2 usage
error (a path that does not exist), or no PAGE, ALTO or METS file in the folders given.
""")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def validate(paths):
    """Validate PAGE XML 2019, ALTO 4 and METS files against the bundled schemas (offline).

    A folder stands for the *.page.xml, *.alto.xml and mets.xml files in it (a run's OUT)."""
    from .formats.validate import validate as check

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted({*p.glob("*.page.xml"), *p.glob("*.alto.xml"), *p.glob("mets.xml")})
        else:
            files.append(p)
    if not files:
        click.echo("memo-ocr: error: no PAGE XML, ALTO or METS files (*.page.xml, *.alto.xml, mets.xml) in "
                   + ", ".join(map(str, paths)), err=True)
        sys.exit(2)
    bad = 0
    for f in files:
        errors = check(f)
        if errors:
            bad += 1
            click.echo(f"{f}: invalid: {errors[0]}" + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""))
        else:
            click.echo(f"{f}: valid")
    sys.exit(1 if bad else 0)


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
              help="Typewritten lines at or above this confidence are left out of the queue (on real "
                   "typescripts 0.85 holds about a third of the typed lines read wrong, 0.95 most of them; "
                   "docs/benchmarks.md).")
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
        exit_with(e)
    who = user or getpass.getuser()
    try:
        serve(store, host, port, who)
    except OSError as e:
        click.echo(f"memo-ocr: error: cannot listen on {host}:{port} ({e.strerror})", err=True)
        sys.exit(2)


@main.command("config", epilog="""
\b
Exit status: 0 printed; 2 usage error; 3 the file given with -c is not a valid configuration.
""")
@click.option("--dump", "what", flag_value="dump", default=True,
              help="Print the configuration in effect, every key, as config.toml (default).")
@click.option("--reference", "what", flag_value="reference", help="Print the reference of every key (Markdown).")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The configuration file to read (default: the built-in defaults).")
def config_command(what, config_path):
    """Print the configuration: every key with its value (the defaults, or a file's with -c), or the reference."""
    from . import config as cfgmod

    if what == "reference":
        click.echo(cfgmod.reference(), nl=False)
        return
    try:
        cfg = cfgmod.load(config_path)
    except MemoOcrError as e:
        exit_with(e)
    click.echo(cfgmod.dump(cfg), nl=False)


for _command in (synth, train, lines, train_layout, train_inksep, train_vote):
    main.add_command(_command)
for _command in [main, *main.commands.values()]:
    _command.params += VERBOSITY
