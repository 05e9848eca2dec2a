"""A reel's pages on a Dask distributed cluster."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..config import Config
from ..errors import MemoOcrError
from ..loader import PageRef
from .report import PageOutcome, RunReport
from .worker import dask_process_page


def run_on_dask(address: str, todo: list[tuple[PageRef, str]], out_dir: Path, cfg: Config, engine_name: str,
                 skew_override: float | None, finish: Callable[[PageRef, str, PageOutcome], None],
                 should_stop: Callable[[int], str], report: RunReport) -> None:
    """The same reel on a Dask distributed cluster: workers run the pages, this process keeps the ledger.

    Inputs and OUT must be at the same path on every worker (a shared file system). A task
    whose worker dies is retried by Dask on another worker; one that kills workers repeatedly
    fails as "worker process died". Dask cannot stop a running task, so on a cluster the
    per-page limit is Tesseract's own ``[tesseract] timeout``, not ``[run] page_timeout``.
    """
    try:
        from distributed import Client, as_completed
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise MemoOcrError("--scheduler needs Dask: pip install 'memo-ocr[dask]'") from None
    from concurrent.futures import CancelledError

    cfg_dict = cfg.to_dict()
    try:
        client = Client(address, timeout=10)
    except (OSError, TimeoutError) as e:
        raise MemoOcrError(f"cannot reach the Dask scheduler at {address} ({e})") from None
    try:
        futures = {}
        for ref, ih in todo:
            fut = client.submit(dask_process_page, ref, str(out_dir.resolve()), skew_override, cfg_dict, engine_name,
                                key=f"memo-ocr-{ref.page_id}-{ih[:12]}", pure=False)
            futures[fut] = (ref, ih)
        remaining = len(futures)
        for fut in as_completed(list(futures)):
            ref, ih = futures[fut]
            remaining -= 1
            try:
                outcome = fut.result()
            except KilledWorker:
                outcome = PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                      f"{ref.path}: worker process died (killed, crashed or out of memory)")
            except CancelledError:
                continue
            except Exception as e:  # the task raised on the worker: record it, go on
                outcome = PageOutcome(ref.page_id, str(ref.path), ref.frame, "failed",
                                      f"{ref.path}: task failed on the cluster ({type(e).__name__}: {e})")
            finish(ref, ih, outcome)
            report.stopped = should_stop(remaining)
            if report.stopped:
                client.cancel([f for f in futures if not f.done()])
                break
    finally:
        client.close()
