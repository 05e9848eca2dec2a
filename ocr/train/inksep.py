"""Train the ink separation network (``ocr.layout.inksep``) on synthetic pages, whose ink is known per pixel.

Each page is rendered and scanned as the synthetic reel's are (``ocr.synth``); its typed, stamp and
handwriting coverage layers go through the scan's own affine map, so the labels lie on the scanned
image's pixels. Patches are cut around the stamps (where signatures cross them) and anywhere else with
ink, at the layout stage's half resolution. A pixel is handwritten where the hand layer covers it, else
stamp, else typed (coverage > 0.25); the loss counts ink pixels fully and the paper at a tenth.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from ..layout import inksep
from ..layout.candidates import SCALE
from ..weights import thread_limit

PATCH = 96
LABEL_COVER = 0.25


def page_samples(seed: int, index: int, per_stamp: int = 6, elsewhere: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Patches of one synthetic page: (n x CHANNELS x PATCH x PATCH inputs, n x PATCH x PATCH labels)."""
    from ..synth.content import generate_memo
    from ..synth.render import render_memo
    from ..synth.scan import ScanSettings, scan, transform

    rng = np.random.default_rng([seed, index])
    rendered = render_memo(rng, generate_memo(rng))
    scanned = scan(rng, rendered, ScanSettings())
    h, w = scanned.image.shape[:2]
    small = cv2.resize(scanned.image, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
    x = inksep.inputs(small)
    hs, ws = small.shape[:2]
    labels = np.zeros((hs, ws), np.uint8)
    for cls, name in ((1, "typed"), (2, "stamp"), (3, "hand")):  # later layers win: hand over stamp over type
        cov = cv2.warpAffine(rendered.layers[name].astype(np.float32), scanned.to_image, (w, h), flags=cv2.INTER_LINEAR)
        cov = cv2.resize(cov, (ws, hs), interpolation=cv2.INTER_AREA)
        labels[cov > LABEL_COVER] = cls
    prng = np.random.default_rng([seed, index, 7])
    centres = []
    for s in rendered.stamps:
        pts = np.array(transform(scanned.to_image, s.poly, w, h), float) * SCALE
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        for _ in range(per_stamp):  # around the stamp, reaching beyond its outline
            centres.append((prng.uniform(x0 - 30, x1 + 30), prng.uniform(y0 - 20, y1 + 20)))
    for mask in (labels == 3, labels > 0):  # on handwriting, and on any ink
        ys, xs = np.nonzero(mask)
        if len(xs):
            for i in prng.integers(0, len(xs), elsewhere // 2):
                centres.append((xs[i], ys[i]))
    xb, yb = [], []
    for cx, cy in centres:
        px = int(np.clip(cx - PATCH / 2, 0, ws - PATCH))
        py = int(np.clip(cy - PATCH / 2, 0, hs - PATCH))
        xb.append(x[:, py:py + PATCH, px:px + PATCH])
        yb.append(labels[py:py + PATCH, px:px + PATCH])
    return np.stack(xb), np.stack(yb)


def build_data(seed: int, pages: int, cache: Path, progress: Callable[[int], None] | None = None,
               workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """All pages' patches, cached in ``cache`` (an .npz named by seed and page count)."""
    if cache.is_file():
        d = np.load(cache)
        return d["x"], d["y"]
    xs, ys = [], []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for x, y in pool.map(page_samples, [seed] * pages, range(pages)):
            xs.append(x)
            ys.append(y)
            if progress:
                progress(1)
    x, y = np.concatenate(xs), np.concatenate(ys)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, x=x, y=y)
    return x, y


def train(x: np.ndarray, y: np.ndarray, out: Path, steps: int, seed: int, batch: int = 16, lrate: float = 3e-3,
          threads: int = 2, log: Callable[[str], None] = print, about: dict | None = None) -> dict:
    """Train from scratch, keep the weights of the best held-out ink accuracy, write them to ``out``."""
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    # no more threads than OMP_THREAD_LIMIT allows: above it PyTorch's convolutions come out wrong
    limit = thread_limit()
    if limit and limit < threads:
        log(f"train-inksep: {threads} threads asked for, {limit} used (OMP_THREAD_LIMIT={limit})")
        threads = limit
    torch.set_num_threads(threads)
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = max(1, len(x) // 10)
    val, tr = order[:n_val], order[n_val:]
    xv, yv = torch.from_numpy(x[val]), torch.from_numpy(y[val]).long()
    net = inksep.build_net()
    opt = torch.optim.Adam(net.parameters(), lr=lrate)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lrate, total_steps=steps)
    weight = torch.tensor([0.1, 1.0, 1.0, 1.0])
    rng = np.random.default_rng(seed + 1)
    best, best_state, t0 = -1.0, None, time.perf_counter()

    def evaluate() -> dict:
        net.eval()
        with torch.inference_mode():
            pred = torch.cat([net(xv[i:i + 64]).argmax(1) for i in range(0, len(xv), 64)])
        net.train()
        ink = yv > 0
        res = {"ink_acc": float((pred[ink] == yv[ink]).float().mean())}
        for c in (2, 3):
            m = yv == c
            res[f"recall_{inksep.CLASSES[c]}"] = float((pred[m] == c).float().mean()) if m.any() else float("nan")
            p = (pred == c) & ink
            res[f"precision_{inksep.CLASSES[c]}"] = float((yv[p] == c).float().mean()) if p.any() else float("nan")
        return res

    for step in range(1, steps + 1):
        idx = tr[rng.integers(0, len(tr), batch)]
        xb = torch.from_numpy(x[idx].copy())
        if rng.random() < 0.3:  # a colour scan seen as grey: the network must not need colour
            xb[:, 1:] = 0
        yb = torch.from_numpy(y[idx]).long()
        if rng.random() < 0.5:  # mirrored: slant and letter shapes either way
            xb, yb = torch.flip(xb, dims=[3]), torch.flip(yb, dims=[2])
        loss = torch.nn.functional.cross_entropy(net(xb), yb, weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == steps:
            res = evaluate()
            log(f"step {step}/{steps} loss {float(loss.detach()):.3f} " + " ".join(f"{k} {v:.3f}" for k, v in res.items())
                + f" ({time.perf_counter() - t0:.0f} s)")
            if res["ink_acc"] > best:
                best, best_res = res["ink_acc"], res
                best_state = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    meta = {**(about or {}), "network": inksep.NETWORK, "steps": steps, "seed": seed, "patches": len(x), "held_out": n_val, **best_res}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(best_state, str(out), metadata={"memo_ocr": json.dumps(meta)})
    return meta
