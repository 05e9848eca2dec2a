"""Train (or fine-tune) the handwriting model with kraken's ``ketos train``, resumably.

``ketos`` saves a checkpoint after every epoch into ``WORK/ckpt``; a later
call with the same WORK resumes from the newest one, so a training run can
span several sessions. The best checkpoint (highest validation accuracy) is
converted to a ``.safetensors`` weights file.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import EngineError
from ..weights import thread_limit

# A small network for CPU training: input height 48, two conv blocks, two 128-wide BiLSTMs (~1.4 M parameters,
# ~40 word images/s on 2 cores; kraken's default network is ~7/s).
DEFAULT_SPEC = ("[1,48,0,1 Cr3,3,32 Do0.1,2 Mp2,2 Cr3,3,64 Do0.1,2 Mp2,2 S1(1x0)1,3 "
                "Lbx128 Do0.1,2 Lbx128 Do]")

# The typewriter model: the same shape at input height 32 (typed letters are regular: twice the lines per second,
# 14/s on 2 cores), wider recurrent layers for four languages' letters and punctuation
TYPED_SPEC = ("[1,32,0,1 Cr3,3,32 Do0.1,2 Mp2,2 Cr3,3,64 Do0.1,2 Mp2,2 S1(1x0)1,3 "
              "Lbx192 Do0.1,2 Lbx192 Do]")

_CKPT = re.compile(r"checkpoint_(\d+)-([0-9.]+)\.ckpt$")


def _ketos() -> str:
    exe = Path(sys.executable).with_name("ketos")
    if exe.exists():
        return str(exe)
    found = shutil.which("ketos")
    if not found:
        raise EngineError("ketos not found: install kraken (bash scripts/setup.sh installs it)")
    return found


def checkpoints(ckpt_dir: Path) -> list[tuple[int, float, Path]]:
    """(epoch, validation accuracy, path) of every checkpoint, oldest first (by epoch, then by time: with
    ``--freq`` below 1 an epoch has several)."""
    out = []
    for p in ckpt_dir.glob("checkpoint_*.ckpt"):
        m = _CKPT.search(p.name)
        if m:
            out.append((int(m.group(1)), p.stat().st_mtime, float(m.group(2).rstrip(".")), p))
    return [(e, acc, p) for e, _, acc, p in sorted(out)]


def newest_state(ckpt_dir: Path) -> Path | None:
    """The checkpoint to resume from: the newest, ``checkpoint_abort.ckpt`` included (ketos writes it when
    stopped, e.g. when a session ends, with the batches trained since the last validation), or None."""
    found = [p for p in ckpt_dir.glob("checkpoint_*.ckpt") if p.stat().st_size > 0]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def ketos_command(work: Path, *, spec: str, epochs: int, batch: int, threads: int, lrate: float,
                  load: Path | None, resume: Path | None, quit: str = "fixed", lag: int = 5,
                  freq: float = 1.0) -> list[str]:
    cmd = [_ketos(), "--workers", "1", "--threads", str(threads), "-d", "cpu", "train",
           "-f", "path", "-o", str(work / "ckpt"), "-B", str(batch), "-N", str(epochs), "-q", quit,
           "--lag", str(lag), "-r", str(lrate), "-u", "NFC", "-F", f"{freq:g}",
           "-t", str(work / "train.lst"), "-e", str(work / "val.lst")]
    if resume is not None:
        cmd += ["--resume", str(resume)]
    elif load is not None:
        cmd += ["-i", str(load), "--resize", "union"]
    else:
        cmd += ["-s", spec]
    return cmd


def ketos_env(cmd: list[str]) -> dict[str, str]:
    """ketos's environment: this one's, with ``OMP_THREAD_LIMIT`` raised to the ``--threads`` it is given.
    A limit below PyTorch's thread count makes its convolutions come out wrong, not slow (see
    ``weights.torch_within_thread_limit``), and Tesseract users often export ``OMP_THREAD_LIMIT=1``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    threads = cmd[cmd.index("--threads") + 1] if "--threads" in cmd[:-1] else ""
    limit = thread_limit(env)
    if threads.isdigit() and limit and limit < int(threads):
        env["OMP_THREAD_LIMIT"] = threads
    return env


def run_ketos(cmd: list[str], log: Path) -> int:
    """Run ketos with its output (progress bars included) appended to ``log``. Returns its exit status."""
    env = ketos_env(cmd)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        return subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, check=False).returncode


def export_best(work: Path, out: Path) -> tuple[Path, int, float]:
    """Convert the checkpoint with the best validation accuracy to weights at ``out``.

    Returns (source checkpoint, epoch, accuracy).
    """
    found = checkpoints(work / "ckpt")
    if not found:
        raise EngineError(f"{work / 'ckpt'}: no training checkpoint to export")
    epoch, acc, path = max(found, key=lambda t: (t[1], t[0]))
    from kraken.models.convert import convert_models

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp" + out.suffix)
    written = convert_models([str(path)], str(tmp), weights_format="safetensors")
    os.replace(written if written else tmp, out)
    return path, epoch, acc
