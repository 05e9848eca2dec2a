"""The worker side of a run: a process that reads pages one at a time with its own engine."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..config import Config, from_dict
from ..engines import get_engine
from ..errors import MemoOcrError
from ..loader import PageRef
from ..page import recognize_page, write_outputs
from .report import PageOutcome

# --- worker side -----------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _watch_parent(parent: int) -> None:
    """End this worker as soon as the run that started it is gone (kill -9, a crash, the end of a SLURM job):
    on Linux the kernel sends it SIGKILL when its parent dies (``PR_SET_PDEATHSIG``); everywhere, a thread
    checks the parent twice a second. A worker never outlives its run, nor writes a page for a dead one."""
    import threading

    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):  # not Linux: the thread alone
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    if os.getppid() != parent:
        os._exit(3)
    threading.Thread(target=watch, daemon=True, name="memo-ocr-parent-watch").start()


def init_worker(cfg_dict: dict[str, Any], engine_name: str, ready=None, parent: int | None = None) -> None:
    if parent is not None:
        _watch_parent(parent)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    # PyTorch (the kraken handwriting model) likewise: one thread per worker, the pool is the parallelism
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    import cv2

    # one process per core already: OpenCV's own threads would only oversubscribe (and a thread
    # pool inherited through fork from a busy parent can stall)
    cv2.setNumThreads(1)
    # and NumPy's BLAS (the NumPy networks' products): loaded with this module, before the variables above
    # were set, it would run two threads in each worker of a pool as large as the machine
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    cfg = from_dict(cfg_dict, source="run")
    if cfg.run.memory_limit_mb:
        import resource

        limit = cfg.run.memory_limit_mb * 1024 * 1024
        try:
            # the data limit (heap and anonymous maps: images, arrays, model weights), not the address space,
            # which PyTorch's CUDA libraries fill with gigabytes of file mappings they never touch
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        except (ValueError, OSError):  # a hard limit below ours: keep the one we have
            pass
    _WORKER["cfg"] = cfg
    _WORKER["ready"] = ready
    try:
        _WORKER["engine"] = get_engine(engine_name, cfg)
        _WORKER["engine_error"] = None
        getattr(_WORKER["engine"], "warm", lambda: None)()
    except MemoOcrError as e:
        _WORKER["engine"] = None
        _WORKER["engine_error"] = str(e)


def worker_ready(timeout: float) -> int:
    """Waits until n workers wait here (n such tasks then start n workers), at most ``timeout`` s."""
    import threading

    try:
        _WORKER["ready"].wait(timeout)
    except threading.BrokenBarrierError:  # a worker did not start: the pages will show why
        pass
    return os.getpid()


def process_page(ref: PageRef, out_dir: str, skew_override: float | None = None) -> PageOutcome:
    """Worker entry: one page, never raises; failures are recorded in the outcome."""
    cfg: Config = _WORKER["cfg"]
    outcome = PageOutcome(ref.page_id, str(ref.path), ref.frame)
    t0 = time.perf_counter()
    try:
        if _WORKER["engine"] is None:
            raise MemoOcrError(_WORKER["engine_error"])
        page = recognize_page(ref, cfg, _WORKER["engine"], outcome.timings, skew_override)
        t = time.perf_counter()
        outcome.outputs = write_outputs(page, Path(out_dir), cfg, ref)
        outcome.timings["write"] = time.perf_counter() - t
        kept = page.kept_lines()
        rejected = [ln for r in page.regions if not r.kept for ln in r.lines]
        outcome.info = dict(page.info, lines=len(kept), rejected_lines=len(rejected),
                            rejected_chars=sum(len(ln.text) for ln in rejected),
                            mean_line_conf=round(sum(ln.conf for ln in kept) / len(kept), 3) if kept else None)
        # a line an engine failed on (the handwriting model, say) is loud: counted, and the page is suspect
        failures = [ln.note for r in page.regions if r.kept for ln in r.lines if ln.note]
        if failures:
            outcome.info["engine_errors"] = len(failures)
        why = page.info.get("suspect") or (f"{len(failures)} lines failed in an engine ({failures[0]})" if failures else "")
        if why:
            outcome.info["suspect"] = why
            outcome.status, outcome.error = "suspect", f"{ref.path}: suspect reading: {why}"
    except MemoOcrError as e:
        outcome.status, outcome.error = "failed", str(e)
    except MemoryError:
        outcome.status, outcome.error = "failed", f"{ref.path}: out of memory (limit [run] memory_limit_mb)"
    except Exception as e:  # an unexpected bug must not stop the reel; record it with its type
        msg = " ".join(str(e).split())
        msg = msg if len(msg) <= 1000 else msg[:999] + "…"
        outcome.status, outcome.error = "failed", f"{ref.path}: internal error {type(e).__name__}: {msg}"
    outcome.timings["total"] = time.perf_counter() - t0
    outcome.info["worker_peak_rss_mb"] = _peak_rss_mb()
    return outcome


def _peak_rss_mb() -> float | None:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it does not carry a parent's over exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:  # not on Linux
        pass
    return None


def dask_process_page(ref: PageRef, out_dir: str, skew_override: float | None, cfg_dict: dict[str, Any],
                      engine_name: str) -> PageOutcome:
    """Dask task: like ``process_page``, loading the engine once per worker process and configuration."""
    key = json.dumps(cfg_dict, sort_keys=True) + engine_name
    if _WORKER.get("key") != key:
        init_worker(cfg_dict, engine_name)
        _WORKER["key"] = key
    return process_page(ref, out_dir, skew_override)
