"""A reel: its pages in a pool of worker processes (or on a Dask cluster), resumable, one page's failure
recorded and the rest going on."""
from __future__ import annotations

import datetime as _dt
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

from .. import __version__, log
from ..config import Config
from ..engines import get_engine
from ..errors import MemoOcrError
from ..formats import pdf
from ..layout import inksep
from ..layout.classifier import load_model
from ..engines.base import CYRILLIC_LANGS
from ..loader import PageRef
from ..log import LOG
from .dask import run_on_dask
from .ledger import Ledger
from .report import INTERRUPTED, PageOutcome, RunReport, outcome_from_ledger
from .worker import init_worker, process_page, worker_ready


class _signals_as_interrupt:
    """SIGTERM (what timeout, SLURM and systemd send) raised as KeyboardInterrupt, as SIGINT is, while the
    pool runs, so that the run stops its workers and records what it finished; the old handler after."""

    def __enter__(self):
        import signal
        import threading

        self.old = None
        if threading.current_thread() is threading.main_thread():
            def interrupt(signum, frame):
                raise KeyboardInterrupt(f"signal {signum}")

            self.old = signal.signal(signal.SIGTERM, interrupt)
        return self

    def __exit__(self, *exc) -> None:
        import signal

        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)


def model_files(cfg: Config) -> dict[str, str | Path]:
    """The model files a run's pages are read with (configured, or the bundled ones), by name."""
    from ..engines import kraken_lines
    from ..layout import classifier
    from ..typed import model_read, vote_model

    lc, tc = cfg.layout, cfg.tesseract
    out: dict[str, str | Path] = {}
    if lc.enabled:
        out["layout"] = lc.model or classifier.DEFAULT_MODEL
        if lc.separate_ink:
            out["ink"] = lc.ink_model or inksep.DEFAULT_MODEL
        if lc.handwriting:
            out["handwriting"] = lc.handwriting_model or kraken_lines.DEFAULT_MODEL
    if tc.typed_reader != "tesseract":
        out["typed"] = tc.typed_model or model_read.DEFAULT_MODEL
        if tc.typed_reader == "vote":
            out["typed_vote"] = vote_model.DEFAULT_CHOOSER
    return out


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class _Pool:
    """A process pool whose workers can be killed and replaced (hung or crashed pages)."""

    def __init__(self, n: int, cfg: Config, engine_name: str):
        """Starts the workers; ``ready()`` waits for them (the caller can do its own setup meanwhile)."""
        self.args = (n, cfg.to_dict(), engine_name)
        self.ex, self.starting = self._new()

    def _new(self) -> tuple[ProcessPoolExecutor, list]:
        import multiprocessing

        n, cfg_dict, engine = self.args
        # spawn, not fork: a forked child inherits the parent's thread locks (OpenCV, BLAS) and can hang
        ctx = multiprocessing.get_context("spawn")
        ex = ProcessPoolExecutor(n, mp_context=ctx, initializer=init_worker, initargs=(cfg_dict, engine, ctx.Barrier(n), os.getpid()))
        # n tasks that meet at a barrier: every worker starts (and loads its models)
        return ex, [ex.submit(worker_ready, 120.0) for _ in range(n)]

    def ready(self) -> None:
        """Wait until every worker has started, so that no page's clock includes a worker's start."""
        for fut in self.starting:
            try:
                fut.result(timeout=600)
            except Exception:  # noqa: BLE001 - a worker that cannot start shows up on the first page
                break
        self.starting = []

    def _kill_workers(self) -> None:
        # the executor cannot stop one running task: kill its workers (private, but stable since 3.8)
        for proc in list((getattr(self.ex, "_processes", None) or {}).values()):
            try:
                proc.kill()
            except (OSError, AttributeError):
                pass

    def restart(self) -> None:
        self._kill_workers()
        self.ex.shutdown(wait=True, cancel_futures=True)
        self.ex, self.starting = self._new()
        self.ready()

    def close(self) -> None:
        self.ex.shutdown(wait=True, cancel_futures=True)

    def kill(self) -> None:
        """Stop every worker now (a run interrupted by SIGINT or SIGTERM): pages in flight are not recorded,
        so a resumed run does them again; their files were never half-written (atomic writes)."""
        self._kill_workers()
        self.ex.shutdown(wait=False, cancel_futures=True)


def run_reel(refs: list[PageRef], out_dir: Path, cfg: Config, *, workers: int | None = None,
             engine_name: str = "tesseract", progress: bool | None = None,
             on_page: Callable[[PageOutcome], None] | None = None,
             skew_override: float | None = None, argv: list[str] | None = None,
             retry_failed: bool = False, scheduler: str | None = None) -> RunReport:
    """Process pages in parallel; outputs, ``run.json`` and the ledger are written as pages finish.

    Pages already done with the same input and configuration (per ``OUT/ledger.sqlite``) are
    skipped; failed ones too unless ``retry_failed``. A page that exceeds ``[run] page_timeout``
    or whose worker dies is recorded as failed and the reel goes on; ``[run] on_error`` and
    ``max_failure_ratio`` decide when a run stops early.
    """
    lock = _lock_out(out_dir)
    try:
        return _run_reel(refs, out_dir, cfg, workers=workers, engine_name=engine_name, progress=progress,
                         on_page=on_page, skew_override=skew_override, argv=argv, retry_failed=retry_failed,
                         scheduler=scheduler)
    finally:
        lock.close()  # closing the file releases the lock


def _run_reel(refs: list[PageRef], out_dir: Path, cfg: Config, *, workers: int | None, engine_name: str,
              progress: bool | None, on_page: Callable[[PageOutcome], None] | None, skew_override: float | None,
              argv: list[str] | None, retry_failed: bool, scheduler: str | None) -> RunReport:
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from tqdm import tqdm

    scheduler = scheduler or cfg.run.scheduler or None
    n_workers = workers or cfg.run.workers or default_workers()
    n_workers = max(1, min(n_workers, len(refs) or 1))
    # the workers start (and load their models) while this process probes the engines and reads the ledger
    pool = _Pool(n_workers, cfg, engine_name) if refs and not scheduler else None
    try:
        engine_versions: dict[str, str] = {}
        engine_problem = None
        no_htr = ""
        try:
            probe = get_engine(engine_name, cfg)  # fail once, clearly, here rather than in every worker
            engine_versions[probe.name] = probe.version
            if cfg.output.pdf:
                pdf.check()
            if cfg.tesseract.typed_reader != "tesseract":
                from ..typed.model_read import check as check_typed

                engine_versions["kraken"] = check_typed(cfg.tesseract.typed_model)
                if cfg.tesseract.typed_reader == "vote":
                    from ..typed.vote_model import load as load_chooser

                    load_chooser()
            if cfg.layout.enabled:
                load_model(cfg.layout.model or None)
                if cfg.layout.separate_ink:
                    inksep.check(cfg.layout.ink_model or None)
                if cfg.layout.handwriting and set(cfg.run.lang.split("+")) & CYRILLIC_LANGS:
                    from ..engines.kraken_lines import KrakenMissing
                    from ..engines.kraken_lines import check as check_kraken

                    try:
                        engine_versions["kraken"] = check_kraken(cfg.layout.handwriting_model or None)
                    except KrakenMissing as e:  # the typed text does not need it: go on, handwriting unread
                        no_htr = (f"handwriting is not read: {e}; handwritten regions are found and written "
                                  f"without text")
                        LOG.warning("warning: %s", no_htr)
        except MemoOcrError as e:
            engine_problem = str(e)
        ledger = Ledger(out_dir / "ledger.sqlite")
        # pages done without kraken are done again once it is installed, and so are pages read with a model file
        # that changed in place since
        models = {name: ledger.file_hash(Path(p)) for name, p in model_files(cfg).items()}
        chash = cfg.digest(skew_override=skew_override, models=models,
                           **({"handwriting": "kraken missing"} if no_htr else {}))
        meta = {
            "tool": {"name": "memo-ocr", "version": __version__},
            "command": argv or sys.argv,
            "engines": engine_versions,
            "language": cfg.run.lang,
            "workers": n_workers,
            "config": cfg.to_dict(),
            "config_digest": chash,
        }
        if engine_problem:
            meta["engine_error"] = engine_problem
        if no_htr:
            meta["warnings"] = [no_htr]
        started = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
        report = RunReport(out_dir, [], started, 0.0, meta)
        given = {r.page_id for r in refs}
        report.earlier = {k: v for k, v in ledger.records().items() if k not in given}
        for stale in out_dir.glob(".*.tmp"):  # half-written files of a killed run (atomic.write_bytes names)
            stale.unlink(missing_ok=True)
        t0 = time.perf_counter()
        last_save = 0.0

        todo: list[tuple[PageRef, str]] = []
        for ref in refs:
            ih = ledger.file_hash(ref.path) + (f"#{ref.frame}" if ref.frame is not None else "")
            e = ledger.get(ref.page_id)
            if e and e.input_hash == ih and e.config_hash == chash and not engine_problem:
                outputs_there = all((out_dir / name).exists() for name in e.record.get("outputs", []))
                written = e.status in ("ok", "suspect")
                if (written and outputs_there) or (not written and not retry_failed):
                    report.pages.append(outcome_from_ledger(ref, e.record))
                    continue
            todo.append((ref, ih))

    except BaseException:
        if pool is not None:
            pool.close()
        raise
    bar = tqdm(total=len(refs), initial=len(refs) - len(todo), unit="page", desc="memo-ocr", file=sys.stderr,
               disable=True if progress is False or log.quiet() else None, dynamic_ncols=True, mininterval=0.5)
    processed = 0
    failed_now = 0

    def finish(ref: PageRef, ih: str, outcome: PageOutcome) -> None:
        nonlocal processed, failed_now, last_save
        processed += 1
        if outcome.status == "suspect":
            LOG.warning("page %s suspect: %s", outcome.page_id, outcome.error)
        elif outcome.status != "ok":
            failed_now += 1
            LOG.error("page %s failed: %s", outcome.page_id, outcome.error)
        else:
            LOG.info("page %s ok in %.1f s", outcome.page_id, outcome.timings.get("total", 0.0))
        if log.debug() and outcome.timings:
            LOG.debug("page %s stages: %s", outcome.page_id,
                      ", ".join(f"{k} {v:.2f} s" for k, v in outcome.timings.items() if k != "total"))
        # outputs are on disk (atomic writes in the worker) before the ledger says so
        ledger.record(ref.page_id, str(ref.path), ref.frame, ih, chash, outcome.status, outcome.error,
                      outcome.to_dict())
        report.pages.append(outcome)
        if on_page:
            on_page(outcome)
        bar.update(1)
        elapsed = time.perf_counter() - t0
        bar.set_postfix_str(f"{60 * processed / max(elapsed, 1e-9):.1f} pages/min", refresh=False)
        if elapsed - last_save > 2.0:
            report.seconds = elapsed
            report.save()
            last_save = elapsed

    def should_stop(remaining: int) -> str:
        if not remaining:
            return ""
        if failed_now and cfg.run.on_error == "abort":
            return "stopped after a failed page ([run] on_error = \"abort\")"
        if processed >= 10 and failed_now / processed > cfg.run.max_failure_ratio:
            return (f"stopped: {failed_now} of {processed} pages failed, more than [run] max_failure_ratio = "
                    f"{cfg.run.max_failure_ratio}")
        return ""

    if pool is not None and (engine_problem or not todo):
        pool.close()
        pool = None
    if engine_problem:
        for ref, ih in todo:
            finish(ref, ih, PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed", engine_problem))
    elif todo and scheduler:
        meta["scheduler"] = scheduler
        run_on_dask(scheduler, todo, out_dir, cfg, engine_name, skew_override, finish, should_stop, report)
    elif todo and pool is not None:
        pool.ready()
        queue = list(todo)
        retry_alone: list[tuple[PageRef, str]] = []  # in flight when a worker died: re-run one at a time
        in_flight: dict[Any, tuple[PageRef, str, float]] = {}

        def pool_loop() -> None:
            while (queue or retry_alone or in_flight) and not report.stopped:
                limit = 1 if retry_alone else n_workers
                while len(in_flight) < limit and (retry_alone or queue):
                    ref, ih = retry_alone.pop(0) if retry_alone else queue.pop(0)
                    fut = pool.ex.submit(process_page, ref, str(out_dir), skew_override)
                    in_flight[fut] = (ref, ih, time.perf_counter())
                done, _ = wait(list(in_flight), timeout=0.5, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    ref, ih, _ = in_flight.pop(fut)
                    try:
                        finish(ref, ih, fut.result())
                    except BrokenProcessPool:
                        broken = True
                        if limit == 1:  # it died alone: this page is the cause
                            finish(ref, ih, PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                                        f"{ref.path}: worker process died (killed, crashed or "
                                                        f"out of memory)"))
                        else:
                            retry_alone.append((ref, ih))
                now = time.perf_counter()
                hung = [f for f, (_, _, ts) in in_flight.items() if now - ts > cfg.run.page_timeout]
                if broken or hung:
                    for fut, (ref, ih, _) in list(in_flight.items()):
                        if fut in hung:
                            finish(ref, ih, PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                                        f"{ref.path}: timed out after {cfg.run.page_timeout:.0f} s "
                                                        f"([run] page_timeout)"))
                        elif broken and limit > 1:
                            retry_alone.append((ref, ih))
                        else:
                            queue.insert(0, (ref, ih))
                    in_flight.clear()
                    pool.restart()
                report.stopped = should_stop(len(queue) + len(retry_alone))
            for fut, (ref, ih, _) in list(in_flight.items()):  # stopping: record what was already running
                try:
                    finish(ref, ih, fut.result(timeout=cfg.run.page_timeout))
                except Exception as e:
                    finish(ref, ih, PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                                f"{ref.path}: not finished when the run stopped ({type(e).__name__})"))

        try:
            with _signals_as_interrupt():
                pool_loop()
        except KeyboardInterrupt:  # SIGINT, or SIGTERM (timeout, SLURM, systemd): stop every worker now
            pool.kill()
            report.stopped = INTERRUPTED
            bar.close()
            ledger.close()
            report.seconds = time.perf_counter() - t0
            report.save(final=True)
            raise
        except BaseException:
            pool.close()
            raise
        pool.close()
    bar.close()
    ledger.close()
    report.seconds = time.perf_counter() - t0
    report.save(final=True)
    return report


def _lock_out(out_dir: Path):
    """Create OUT, check that it can be written, and lock it for this run (an exclusive ``flock`` on
    OUT/.memo-ocr.lock, held until this process ends): a second run into the same OUT is refused with a
    clear message instead of doing every page twice. Returns the open lock file."""
    import fcntl

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = open(out_dir / ".memo-ocr.lock", "a+")
    except OSError as e:
        raise MemoOcrError(f"{out_dir}: cannot write the output folder ({e.strerror})") from None
    if not os.access(out_dir, os.W_OK):
        lock.close()
        raise MemoOcrError(f"{out_dir}: cannot write the output folder (permission denied)")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        raise MemoOcrError(f"{out_dir}: another memo-ocr run is writing into this folder (it holds "
                           f"{out_dir / '.memo-ocr.lock'}); wait for it to end, or choose another -o") from None
    return lock
