"""A kraken line-recognition model run in NumPy: the same reading as kraken's, without PyTorch.

kraken reads a line one at a time through PyTorch (2 s to import and ~450 MB per worker before the first
line; on this CPU its per-step LSTM calls dominate, ~60 ms a typed line). The committed models are small
VGSL networks of a few layer kinds (``Cr`` convolution + ReLU, ``Mp`` max pooling, ``Do`` dropout, ``S``
reshape, ``Lbx`` bidirectional LSTM along the line, ``O1c`` the CTC output), which this module runs with
NumPy on all the lines of a page at once (padded to the longest; each line's backward LSTM starts at its own
end, as kraken's packed sequences do). The line image is made as kraken makes it for box lines: cut,
centre-normalised to the network's height (``kraken.lib.lineest``'s method, which needs no PyTorch; its slow
measure and column-by-column dewarp done here by equal faster means, ``measure`` and ``normalize``), padded
16 px left and right, scaled to 0..1 and inverted against its own maximum; decoding is kraken's greedy CTC
decoder, with the character cuts and confidences it gives. ``tests/test_htr.py`` checks the text,
confidences and cuts against kraken's, and the normalisation against kraken's own.

A model with another layer kind raises ``Unsupported``; the caller then uses kraken itself.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import EngineError
from .base import LineText, in_scripts

DIM = {0: 0, 1: 2, 2: 3, 3: 1}  # VGSL's dimensions (batch, height, width, depth) in PyTorch's NCHW
PADDING = 16  # kraken's default left/right padding of a line (RecognitionInferenceConfig.padding)


class Unsupported(EngineError):
    """The model has a layer this module does not run."""


def _gauss(sigma: float) -> np.ndarray:
    """scipy.ndimage's Gaussian kernel for ``sigma`` (truncated at 4 sigma, normalised)."""
    r = int(4.0 * float(sigma) + 0.5)
    k = np.exp(-0.5 / (sigma * sigma) * np.arange(-r, r + 1, dtype=np.float64) ** 2)
    return k / k.sum()


def measure(norm, line: np.ndarray) -> None:
    """``kraken.lib.lineest.CenterNormalizer.measure`` (the line's centre per column and its spread), with its
    slow wide Gaussian made as a matrix product down the columns and an FFT convolution along the rows: the
    same zero-padded filter, about seven times faster (on 600 test lines the centres and spreads equal
    kraken's, ``tests/test_htr.py``); the rest is kraken's own code."""
    from scipy.ndimage import gaussian_filter, uniform_filter
    from scipy.signal import fftconvolve

    h, w = line.shape
    ky = _gauss(h * 0.5)
    r = len(ky) // 2
    off = np.arange(h)[None, :] - np.arange(h)[:, None]
    down = np.where(np.abs(off) <= r, ky[np.clip(off + r, 0, 2 * r)], 0.0)
    smoothed = fftconvolve(down @ line, _gauss(h * norm.smoothness)[None, :], mode="same", axes=1)
    smoothed += 0.001 * uniform_filter(smoothed, (h * 0.5, w), mode="constant")
    norm.shape = (h, w)
    a = gaussian_filter(np.argmax(smoothed, axis=0), h * norm.extra)
    norm.center = np.array(a, "i")
    deltas = np.abs(np.arange(h)[:, np.newaxis] - norm.center[np.newaxis, :])
    norm.mad = np.mean(deltas[line != 0])
    norm.r = int(1 + norm.range * norm.mad)


def normalize(norm, img: np.ndarray, cval: float) -> np.ndarray:
    """``CenterNormalizer.normalize`` (after ``measure``): each column cut about its centre, as kraken's
    ``dewarp`` does column by column, in one gather; then kraken's scaling to the network's height."""
    from kraken.lib.lineest import scale_to_h

    h, w = img.shape
    rows = norm.center[None, :] + h + np.arange(-norm.r, norm.r)[:, None]
    if rows.size and (rows.min() < 0 or rows.max() >= 3 * h):  # a cut beyond the padding: kraken's own slicing
        return norm.normalize(img, cval=cval)
    padded = np.vstack([np.full((h, w), cval, np.float64), img, np.full((h, w), cval, np.float64)])
    dewarped = padded[rows, np.arange(w)[None, :]].astype(np.float32)  # norm.r >= 1: never empty
    return scale_to_h(dewarped, norm.target_height, order=1, dtype=np.dtype("f"), cval=cval)


class _Conv:
    def __init__(self, w: np.ndarray, b: np.ndarray):
        self.w, self.b = w.astype(np.float32), b.astype(np.float32)  # (out, in, kh, kw)

    def __call__(self, x: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, c, h, w = x.shape
        o, _, kh, kw = self.w.shape
        ph, pw = kh // 2, kw // 2
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        cols = np.empty((n, c, kh, kw, h, w), np.float32)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = xp[:, :, i:i + h, j:j + w]
        out = np.matmul(self.w.reshape(o, -1), cols.reshape(n, c * kh * kw, h * w))  # a BLAS call a line
        out = out.reshape(n, o, h, w) + self.b[None, :, None, None]
        return np.maximum(out, 0.0, out=out), lens


class _MaxPool:
    def __init__(self, kh: int, kw: int, sh: int, sw: int):
        self.k, self.s = (kh, kw), (sh, sw)

    def __call__(self, x: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        (kh, kw), (sh, sw) = self.k, self.s
        n, c, h, w = x.shape
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        out = np.full((n, c, oh, ow), -np.inf, np.float32)
        for i in range(kh):
            for j in range(kw):
                np.maximum(out, x[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw], out=out)
        return out, np.floor((lens - (kw - 1) - 1) / sw + 1).astype(np.int64)


class _Reshape:
    """kraken's ``S`` layer: split dimension ``src`` into (a, b) and merge a into ``high``, b into ``low``."""

    def __init__(self, src: int, a: int, b: int, high: int, low: int):
        self.src, self.a, self.b, self.high, self.low = src, a, b, high, low

    def __call__(self, x: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        initial = x.shape[3]
        x = x.reshape(x.shape[:self.src] + (self.a, self.b) + x.shape[self.src + 1:])
        dest, src = self.low, self.src
        if self.high != src:
            dest = self.high
        else:
            src += 1
        perm = list(range(x.ndim))
        step = 1 if dest > src else -1
        for i in range(src, dest, step):
            perm[i], perm[i + step] = perm[i + step], perm[i]
        x = x.transpose(perm)
        x = x.reshape(x.shape[:dest] + (x.shape[dest] * x.shape[dest + 1],) + x.shape[dest + 2:])
        return np.ascontiguousarray(x), (lens * (float(initial) / x.shape[3])).astype(np.int64)


class _BiLSTM:
    """A bidirectional LSTM along the width (``Lbx``), PyTorch's gate order (i, f, g, o)."""

    def __init__(self, t: dict[str, np.ndarray]):
        self.dirs = []
        for suf in ("", "_reverse"):
            self.dirs.append((t[f"weight_ih_l0{suf}"].astype(np.float32),
                              np.ascontiguousarray(t[f"weight_hh_l0{suf}"].T, np.float32),
                              (t[f"bias_ih_l0{suf}"] + t[f"bias_hh_l0{suf}"]).astype(np.float32)))
        self.hidden = self.dirs[0][1].shape[0]

    def __call__(self, x: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, c, h, w = x.shape
        if h != 1:
            raise Unsupported(f"an LSTM along lines of height {h} (only 1 is run here)")
        seq = x[:, :, 0, :].transpose(0, 2, 1)  # (n, w, c)
        hd = self.hidden
        out = np.zeros((n, w, 2 * hd), np.float32)
        # the sigmoid gates (i, f, o) as 0.5 (tanh(x / 2) + 1), the cell gate g as tanh(x): one tanh a step
        half = np.full(4 * hd, 0.5, np.float32)
        half[2 * hd:3 * hd] = 1.0
        shortest = int(lens.min())
        for d, (wih, whh, b) in enumerate(self.dirs):
            gates_x = seq @ wih.T + b  # (n, w, 4h)
            hs = np.zeros((n, hd), np.float32)
            cs = np.zeros((n, hd), np.float32)
            steps = range(w) if d == 0 else range(w - 1, -1, -1)
            for t in steps:
                g = np.tanh((gates_x[:, t] + hs @ whh) * half)  # whh stored transposed
                i, f = 0.5 * (g[:, :hd] + 1.0), 0.5 * (g[:, hd:2 * hd] + 1.0)
                gg, o = g[:, 2 * hd:3 * hd], 0.5 * (g[:, 3 * hd:] + 1.0)
                cs = f * cs + i * gg
                hs = o * np.tanh(cs)
                if d == 1 and t >= shortest:  # each line's backward pass starts at its own end, from zero
                    live = (t < lens)[:, None]
                    cs = np.where(live, cs, 0.0)
                    hs = np.where(live, hs, 0.0)
                out[:, t, d * hd:(d + 1) * hd] = hs
        return out.transpose(0, 2, 1)[:, :, None, :], lens


class _Linear:
    def __init__(self, w: np.ndarray, b: np.ndarray):
        self.w, self.b = w.astype(np.float32), b.astype(np.float32)

    def __call__(self, x: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = np.matmul(self.w, x[:, :, 0, :])[:, :, None, :] + self.b[None, :, None, None]
        return y, lens


_BLOCK = re.compile(r"^(?P<kind>Cr|Mp|Do|S|Lbx|O)(?:\{(?P<name>\w+)\})?(?P<args>.*)$")


class NumpyRecognizer:
    """A kraken VGSL recognition model (``.safetensors``) run in NumPy; ``recognize(image, boxes)`` as
    ``KrakenLines``."""

    name = "kraken"
    letter_chances = True  # ``recognize`` can read with a lexicon (``htr.lexicon``)

    def __init__(self, path: str | Path):
        from safetensors import safe_open

        self.path = Path(path)
        try:
            with safe_open(str(self.path), "np") as f:
                meta = json.loads(f.metadata()["kraken_meta"])
                (prefix, m), = meta.items()
                tensors = {k[len(prefix) + 4:]: f.get_tensor(k) for k in f.keys() if k.startswith(prefix + ".nn.")}
        except Unsupported:
            raise
        except Exception as e:  # not one kraken model in safetensors form
            raise Unsupported(f"{self.path}: not a single kraken VGSL model ({type(e).__name__})") from None
        spec = m.get("vgsl", "")
        head = re.match(r"^\[(\d+),(\d+),(\d+),(\d+) (.*)\]$", spec)
        if not head or head.group(1) != "1" or head.group(3) != "0" or head.group(4) != "1":
            raise Unsupported(f"{self.path}: input {spec[:20]!r} (only grey lines of a fixed height are run here)")
        self.height = int(head.group(2))
        codec = m["codec"] if isinstance(m["codec"], dict) else json.loads(m["codec"])
        if any(len(v) != 1 for v in codec.values()):
            raise Unsupported(f"{self.path}: a codec with multi-label characters")
        self.chars = {v[0]: k for k, v in codec.items()}
        try:
            self.layers = self._build(head.group(5).split(), tensors)
        except KeyError as e:
            raise Unsupported(f"{self.path}: no weights {e} for its spec") from None
        self.version = "numpy"
        self._masks: dict[tuple[str, ...], np.ndarray] = {}

    def _build(self, blocks: list[str], tensors: dict[str, np.ndarray]) -> list:
        for block in blocks:
            if not _BLOCK.match(block):
                raise Unsupported(f"{self.path}: layer {block!r} is not run here")
        layers: list = []
        for block in blocks:
            mt = _BLOCK.match(block)
            kind, name, args = mt.group("kind"), mt.group("name"), mt.group("args")
            nums = [int(v) for v in re.findall(r"\d+", args)] if kind != "Do" else []
            if kind == "Cr":
                if nums[:2] != [3, 3] or len(nums) != 3:
                    raise Unsupported(f"{self.path}: convolution {block!r}")
                layers.append(_Conv(tensors[f"{name}.co.weight"], tensors[f"{name}.co.bias"]))
            elif kind == "Mp":
                kh, kw = nums[0], nums[1]
                sh, sw = (nums[2], nums[3]) if len(nums) >= 4 else (kh, kw)
                layers.append(_MaxPool(kh, kw, sh, sw))
            elif kind == "S":
                # S<src>(<a>x<b>)<high>,<low>; a size of 0 is the other part of the dimension
                layers.append(("S", nums))
            elif kind == "Lbx":
                layers.append(_BiLSTM({k[len(name) + 7:]: v for k, v in tensors.items()
                                       if k.startswith(f"{name}.layer.")}))
            elif kind == "O":
                if not re.fullmatch(r"1c\d+", args):
                    raise Unsupported(f"{self.path}: output {block!r} (only a CTC line output is run here)")
                layers.append(_Linear(tensors[f"{name}.lin.weight"], tensors[f"{name}.lin.bias"]))
        return layers

    # --------------------------------------------------------------------------------------------- input

    def line_input(self, crop: Image.Image, max_height: int = 0) -> np.ndarray | None:
        """The network's input for one cut line (PIL 'L'), as kraken's box-line transforms make it:
        (height, width) float32, ink high; None for a blank line. A line higher than ``max_height`` (if set)
        is first scaled down to it, as a model's training lines were stored."""
        from kraken.lib.lineest import CenterNormalizer

        if max_height and crop.height > max_height:
            crop = crop.resize((max(8, round(crop.width * max_height / crop.height)), max_height), Image.BOX)
        line = np.array(crop)
        temp = np.amax(line) - line
        if np.amax(temp) == 0:
            return None
        temp = temp * 1.0 / np.amax(temp)
        norm = CenterNormalizer(self.height)
        measure(norm, temp)
        dewarped = normalize(norm, line, cval=np.amax(line))
        im = Image.frombytes("F", (dewarped.shape[1], dewarped.shape[0]), dewarped.astype(np.float32).tobytes())
        arr = np.asarray(im.convert("L"), dtype=np.float32)
        arr = np.pad(arr, ((0, 0), (PADDING, PADDING)), constant_values=255.0) / 255.0
        arr = arr.max() - arr
        return None if arr.max() == arr.min() else arr

    # --------------------------------------------------------------------------------------------- network

    def _run(self, layers: list, x: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        for layer in layers:
            if isinstance(layer, tuple):  # S: VGSL dimensions (batch, height, width, depth) -> NCHW
                src, a, b, high, low = (DIM[v] if k in (0, 3, 4) else v for k, v in enumerate(layer[1]))
                dim = x.shape[src]
                a, b = (a or dim // b), (b or dim // a)
                x, lens = _Reshape(src, a, b, high, low)(x, lens)
            else:
                x, lens = layer(x, lens)
            if x.ndim == 4 and x.shape[0] > 1:  # beyond a line's end, zeros, as if it were read alone
                for i, n in enumerate(lens):
                    x[i, :, :, max(int(n), 0):] = 0.0
        return x, lens

    def forward(self, inputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities (n, classes, width) of the lines, padded to the longest, and each one's width.
        The layers before the first recurrent one run line by line (no work on padding), the rest on all the
        lines together (an LSTM's steps cost the same for one line as for many)."""
        first = next((k for k, layer in enumerate(self.layers) if isinstance(layer, _BiLSTM)), len(self.layers))
        feats = []
        for a in inputs:
            f, n = self._run(self.layers[:first], a[None, None], np.array([a.shape[1]], np.int64))
            feats.append(f[0, :, :, :max(int(n[0]), 0)])
        lens = np.array([f.shape[2] for f in feats], np.int64)
        x = np.zeros((len(feats),) + feats[0].shape[:2] + (max(1, int(lens.max())),), np.float32)
        for i, f in enumerate(feats):
            x[i, :, :, :f.shape[2]] = f
        x, lens = self._run(self.layers[first:], x, lens)
        logits = x[:, :, 0, :]
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True), lens

    # --------------------------------------------------------------------------------------------- reading

    def allowed(self, scripts: tuple[str, ...]) -> np.ndarray | None:
        """1 for each output class that may be read on a page of ``scripts`` (``base.scripts``; the blank and
        whatever is not a letter always), 0 for the others; None where any may."""
        if not scripts:
            return None
        if scripts not in self._masks:
            n = self.layers[-1].w.shape[0]
            self._masks[scripts] = np.array([lab == 0 or lab not in self.chars or in_scripts(self.chars[lab], scripts)
                                             for lab in range(n)], np.float32)
        return self._masks[scripts]

    def recognize(self, image: np.ndarray, boxes: list[tuple[int, int, int, int]],
                  scripts: tuple[str, ...] = (), max_height: int = 0, lexicon=None) -> list[LineText]:
        """Read each (x0, y0, x1, y1) box of a grey uint8 image; one result per box, in order. With ``scripts``,
        letters of other scripts are never read: the decoder takes the likeliest of the others at each step
        (a letter, or none), with its own probability as its confidence. ``max_height``: see ``line_input``
        (kraken's normalisation of a high line costs most of its reading time). ``lexicon``
        (``htr.lexicon.Lexicon``): the best reading by the network and the language's words and letters,
        not the likeliest letter at each step."""
        mask = self.allowed(scripts)
        h, w = image.shape[:2]
        im = Image.fromarray(image)
        results: dict[int, LineText] = {}
        todo: list[tuple[int, np.ndarray, tuple[int, int, int, int]]] = []
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))
            if x1 - x0 < 2 or y1 - y0 < 2:
                results[i] = LineText("", 0.0, error="empty line box")
                continue
            try:
                arr = self.line_input(im.crop((x0, y0, x1, y1)), max_height)
            except Exception as e:  # kraken records such a line empty; we say why
                results[i] = LineText("", 0.0, error=f"line normalisation failed ({type(e).__name__})")
                continue
            if arr is None:
                results[i] = LineText("", 0.0)
            else:
                todo.append((i, arr, (x0, y0, x1, y1)))
        # lines of similar width together: less padding
        todo.sort(key=lambda t: t[1].shape[1])
        for k in range(0, len(todo), BATCH):
            batch = todo[k:k + BATCH]
            probs, olens = self.forward([a for _, a, _ in batch])
            for (i, arr, box), p, olen in zip(batch, probs, olens, strict=True):
                p = p[:, :int(olen)]
                results[i] = self._decode(p if mask is None else p * mask[:, None], arr.shape[1], box, lexicon)
        return [results[i] for i in range(len(boxes))]

    def _decode(self, probs: np.ndarray, in_width: int, box: tuple[int, int, int, int], lexicon=None) -> LineText:
        """kraken's greedy CTC decoding, with its character cuts (page pixels) and confidences; with a
        ``lexicon``, its reading where it differs, each letter where the likeliest path reading it places it."""
        labels = probs.argmax(axis=0)
        x0, y0, x1, y1 = box
        net_scale = in_width / max(1, probs.shape[1])
        in_scale = (x1 - x0) / (in_width - 2 * PADDING)

        def scale(v: int) -> int:
            return int(round(min(max((v * net_scale - PADDING) * in_scale, 0), (x1 - x0) - 1)))

        spans = []  # (label, first step, last step)
        t, n = 0, len(labels)
        while t < n:
            lab, e = int(labels[t]), t
            while e + 1 < n and labels[e + 1] == lab:
                e += 1
            if lab != 0 and lab in self.chars:
                spans.append((lab, t, e))
            t = e + 1

        def reading(spans: list[tuple[int, int, int]], plain: LineText | None = None) -> LineText:
            cconf = [float(probs[lab, a:b + 1].max()) for lab, a, b in spans]  # the letter's chance along its span
            cuts = [(x0 + scale(a), y0, x0 + scale(b), y1) for _, a, b in spans]
            return LineText("".join(self.chars[lab] for lab, _, _ in spans), float(np.mean(cconf)) if cconf else 0.0,
                            cconf, cuts, plain=plain)

        out = reading(spans)
        if lexicon is not None and (best := lexicon.best(probs, self.chars)) != [lab for lab, _, _ in spans]:
            out = reading([(lab, a, b) for lab, (a, b) in zip(best, lexicon.align(probs, best), strict=True)], out)
        return out

    def read_image(self, image: np.ndarray, scripts: tuple[str, ...] = ()) -> LineText:
        """A whole image that holds one line or word."""
        return self.recognize(image, [(0, 0, image.shape[1], image.shape[0])], scripts)[0]


BATCH = 64  # lines per forward pass (of similar width): the LSTMs' steps are shared by them
