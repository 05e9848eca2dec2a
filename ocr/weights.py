"""Model files in safetensors form: their metadata, read without PyTorch (importing it takes seconds)."""
from __future__ import annotations

import json
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
