"""Model files in safetensors form: their metadata, read without PyTorch (importing it takes seconds)."""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path


def safetensors_metadata(path: Path) -> dict[str, str]:
    """The ``__metadata__`` table of a safetensors file; ValueError when the file is not one."""
    try:
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            if not 2 <= n <= 100_000_000:
                raise ValueError("not a safetensors file")
            meta = json.loads(f.read(n)).get("__metadata__", {})
    except (struct.error, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as e:
        raise ValueError("not a safetensors file") from e
    if not isinstance(meta, dict):
        raise ValueError("not a safetensors file")
    return meta


def thread_limit(env=None) -> int | None:
    """``OMP_THREAD_LIMIT`` of ``env`` (this process's environment by default) as a positive number, or None
    where it is unset or no such number. PyTorch must not run more threads than this."""
    limit = (os.environ if env is None else env).get("OMP_THREAD_LIMIT", "")
    return int(limit) if limit.isdigit() and int(limit) > 0 else None


def torch_within_thread_limit():
    """PyTorch, imported, its intra-op threads cut to ``OMP_THREAD_LIMIT`` where that is set (Tesseract's
    engine sets it to 1 in its process). With the limit at 1 and PyTorch's own count at the cores', its
    convolutions come out wrong, not slow: the committed ink network labelled 0.30 of the ink right
    instead of 0.96 when Tesseract had read a page in the same process first. The run's workers set
    both counts; a process reading pages itself (tests, the review server) did not."""
    import torch

    limit = thread_limit()
    if limit and limit < torch.get_num_threads():
        torch.set_num_threads(limit)
    return torch
