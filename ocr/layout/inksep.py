"""Whose ink is it: a small fully convolutional network that labels each ink pixel typed, stamp or handwritten.

A signature written across a round stamp is inked into one group with the stamp's ring and lettering; by
grey level or colour the two inks are not separable on most scans (the layout benchmark's largest miss), by
shape they are: a stamp's ink is rings, frames and small even print, a signature's is long cursive strokes.
The network sees the page at the layout stage's half resolution: the ink's darkness relative to the local
paper and, on colour scans, its Lab a*/b* (zero on grey scans), and gives four classes per pixel
(background, typed, stamp, handwritten). It is trained by ``memo-ocr train-inksep`` on synthetic pages,
whose ink layers are known per pixel (``ocr.train.inksep``); the weights are committed
(``ocr/models/inksep.safetensors``).
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from ..errors import EngineError
from ..weights import safetensors_metadata

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "inksep.safetensors"
CLASSES = ("background", "typed", "stamp", "handwritten")
CHANNELS = 4  # darkness, a*, b*, colour scan
WIDTHS = (16, 24, 24, 32, 32)  # the first layer at full (half-page) resolution, the others at half of it
DILATIONS = (1, 1, 2, 4, 8)  # receptive field about 90 half-resolution pixels: a signature's letters and links
NETWORK = f"inksep-c{CHANNELS}-w{'.'.join(map(str, WIDTHS))}-d{'.'.join(map(str, DILATIONS))}"  # in the file's metadata


def build_net():
    import torch.nn as nn
    import torch.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            convs, c = [], CHANNELS
            for i, (w, d) in enumerate(zip(WIDTHS, DILATIONS, strict=True)):
                convs.append(nn.Conv2d(c, w, 3, padding=d, dilation=d, stride=2 if i == 1 else 1))
                c = w
            self.convs = nn.ModuleList(convs)
            self.head = nn.Conv2d(c, len(CLASSES), 1)

        def forward(self, x):
            h = x
            for conv in self.convs:
                h = F.relu(conv(h))
            return F.interpolate(self.head(h), size=x.shape[2:], mode="bilinear", align_corners=False)

    return Net()


def inputs(small: np.ndarray) -> np.ndarray:
    """The network's input planes (CHANNELS x H x W float32) of a half-resolution page or crop (grey or BGR)."""
    colour = small.ndim == 3 and small.shape[2] >= 3
    grey = cv2.cvtColor(small[:, :, :3], cv2.COLOR_BGR2GRAY) if colour else small
    from .candidates import relative_grey

    dark = np.clip(1.0 - relative_grey(grey, max_k=31), 0.0, 1.0)
    out = np.zeros((CHANNELS, *grey.shape), np.float32)
    out[0] = dark * 2.0
    if colour:
        lab = cv2.cvtColor(small[:, :, :3], cv2.COLOR_BGR2Lab).astype(np.float32)
        out[1] = (lab[:, :, 1] - 128.0) / 32.0
        out[2] = (lab[:, :, 2] - 128.0) / 32.0
        out[3] = 1.0
    return out


def check(path: str | Path | None = None) -> dict:
    """Check, without importing PyTorch, that the file is an ink separation network of this version;
    returns what its training recorded. A run's parent process calls this before the workers start."""
    p = Path(path) if path else DEFAULT_MODEL
    if not p.is_file():
        raise EngineError(f"{p}: ink separation model file not found (train one with 'memo-ocr train-inksep')")
    try:
        meta = json.loads(safetensors_metadata(p).get("memo_ocr", "null"))
    except (OSError, ValueError) as e:
        raise EngineError(f"{p}: not an ink separation model ({e})") from e
    if not isinstance(meta, dict) or meta.get("network") != NETWORK:
        raise EngineError(f"{p}: not an ink separation model of this version (network {NETWORK} expected)")
    return meta


def _conv(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, dilation: int, stride: int) -> np.ndarray:
    """PyTorch's Conv2d(kernel 3, padding = dilation) of ``x`` (C x H x W float32), as one matrix product per
    block of output rows (the image columns of a block, not of the whole crop, are held at once)."""
    cin, h, w = x.shape
    cout = weight.shape[0]
    d = dilation
    xp = np.pad(x, ((0, 0), (d, d), (d, d)))
    ho, wo = (h - 1) // stride + 1, (w - 1) // stride + 1
    kernel = weight.reshape(cout, cin * 9)
    out = np.empty((cout, ho, wo), np.float32)
    rows = max(1, (1 << 22) // (cin * 9 * wo))  # at most 16 MB of image columns
    for r0 in range(0, ho, rows):
        r1 = min(ho, r0 + rows)
        cols = np.empty((cin, 9, r1 - r0, wo), np.float32)
        for ky in range(3):
            for kx in range(3):
                y0, x0 = r0 * stride + ky * d, kx * d
                cols[:, ky * 3 + kx] = xp[:, y0:y0 + (r1 - r0 - 1) * stride + 1:stride,
                                          x0:x0 + (wo - 1) * stride + 1:stride]
        out[:, r0:r1] = (kernel @ cols.reshape(cin * 9, -1) + bias[:, None]).reshape(cout, r1 - r0, wo)
    return out


class InkSeparator:
    """The trained network; ``probs`` gives each class's probability per pixel of a half-resolution crop.

    Inference is NumPy's (a few small convolutions): a page of typed text and stamps never imports PyTorch,
    which takes seconds and about 450 MB per worker; training builds the same network in PyTorch
    (``build_net``), and a test holds the two to the same output."""

    def __init__(self, path: str | Path | None = None):
        from safetensors.numpy import load_file

        self.path = Path(path) if path else DEFAULT_MODEL
        self.meta = check(self.path)
        try:
            w = load_file(str(self.path))
            self.layers = [(w[f"convs.{i}.weight"].astype(np.float32), w[f"convs.{i}.bias"].astype(np.float32), d,
                            2 if i == 1 else 1) for i, d in enumerate(DILATIONS)]
            self.head = (w["head.weight"].astype(np.float32).reshape(len(CLASSES), -1),
                         w["head.bias"].astype(np.float32))
            c = CHANNELS
            for (weight, bias, _, _), width in zip(self.layers, WIDTHS, strict=True):
                if weight.shape != (width, c, 3, 3) or bias.shape != (width,):
                    raise ValueError(f"a layer of shape {weight.shape}, ({width}, {c}, 3, 3) expected")
                c = width
            if self.head[0].shape != (len(CLASSES), c):
                raise ValueError(f"a head of shape {self.head[0].shape}")
        except Exception as e:  # a truncated file, weights of another shape
            raise EngineError(f"{self.path}: not an ink separation model of this version ({e})") from e

    def probs(self, small: np.ndarray) -> np.ndarray:
        """len(CLASSES) x H x W probabilities of a half-resolution crop (grey or BGR uint8)."""
        return self.forward(inputs(small))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The probabilities (len(CLASSES) x H x W) of one crop's input planes (``inputs``: CHANNELS x H x W)."""
        h = x
        for weight, bias, d, stride in self.layers:
            h = np.maximum(_conv(h, weight, bias, d, stride), 0.0)
        c, hh, ww = h.shape
        logits = (self.head[0] @ h.reshape(c, -1) + self.head[1][:, None]).reshape(len(CLASSES), hh, ww)
        # PyTorch's bilinear interpolation with align_corners=False is OpenCV's linear resize
        up = cv2.resize(np.ascontiguousarray(logits.transpose(1, 2, 0)), (x.shape[2], x.shape[1]),
                        interpolation=cv2.INTER_LINEAR)
        up = up.reshape(x.shape[1], x.shape[2], len(CLASSES)).transpose(2, 0, 1)
        e = np.exp(up - up.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)


def crop_probs(separator, crop: np.ndarray, *classes: int) -> list[np.ndarray]:
    """The probabilities of ``classes`` (indices into ``CLASSES``) at each pixel of ``crop`` (grey or BGR), the
    network (``separator``: an ``InkSeparator``) run at half the crop's resolution."""
    h, w = crop.shape[:2]
    p = separator.probs(cv2.resize(crop, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA))
    return [cv2.resize(p[k], (w, h), interpolation=cv2.INTER_LINEAR) for k in classes]


_CACHE: dict[str, InkSeparator] = {}


def load(path: str | Path | None = None) -> InkSeparator:
    key = str(path or DEFAULT_MODEL)
    if key not in _CACHE:
        _CACHE[key] = InkSeparator(path)
    return _CACHE[key]
