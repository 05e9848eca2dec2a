"""Page cleanup before recognition: grey, border crop, rescale, deskew, binarize, holes, speckles.

Each step is a plain function and can be switched off in ``[preprocess]``.
The result carries the affine transform from the processed image back to the
original one, so every coordinate written out is in the original pixel space.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from .colour import to_grey
from .config import PreprocessConfig


@dataclass
class Preprocessed:
    """The cleaned binary image (ink 0, paper 255), its grey twin and how it was made."""

    binary: np.ndarray | None  # full-resolution binary; None when nothing needed it (recognition on grey)
    grey: np.ndarray
    image: np.ndarray  # what the recogniser reads: ``grey`` or ``binary`` ([preprocess] recognize_on)
    to_original: np.ndarray  # 2x3 affine: processed (x, y, 1) -> original (x, y)
    original_size: tuple[int, int]  # (width, height)
    border: tuple[int, int, int, int]  # crop box in the original image: x0, y0, x1, y1
    scale: float = 1.0
    xheight: float | None = None
    skew_measured: float | None = None  # degrees, counter-clockwise positive
    skew_applied: float = 0.0
    skew_note: str = ""
    steps: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)

    def map_points(self, pts: np.ndarray) -> np.ndarray:
        """Map (N, 2) processed-image points to original-image points, clipped to the image."""
        pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        out = pts @ self.to_original[:, :2].T + self.to_original[:, 2]
        w, h = self.original_size
        out[:, 0] = np.clip(out[:, 0], 0, w - 1)
        out[:, 1] = np.clip(out[:, 1], 0, h - 1)
        return np.rint(out).astype(int)


def _affine(m: np.ndarray) -> np.ndarray:
    return np.vstack([m, [0.0, 0.0, 1.0]])


def find_border(grey: np.ndarray, dark_level: int) -> tuple[int, int, int, int]:
    """The box inside dark scanner or microfilm borders: x0, y0, x1, y1 (exclusive)."""
    h, w = grey.shape
    small = cv2.resize(grey, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    dark = small < dark_level
    rows = dark.mean(axis=1)
    cols = dark.mean(axis=0)

    def inward(profile: np.ndarray) -> int:
        limit = len(profile) // 4  # never crop more than a quarter from one side
        i = 0
        while i < limit and profile[i] > 0.6:
            i += 1
        return i

    top, bottom = inward(rows), inward(rows[::-1])
    left, right = inward(cols), inward(cols[::-1])
    pad = 1  # one more small-image pixel: the blurry edge of the border
    x0 = min(w, (left + pad) * 4) if left else 0
    y0 = min(h, (top + pad) * 4) if top else 0
    x1 = max(x0 + 1, w - (right + pad) * 4) if right else w
    y1 = max(y0 + 1, h - (bottom + pad) * 4) if bottom else h
    return x0, y0, x1, y1


MAX_PIXELS = 40_000_000  # upper bound of a rescaled page
BORDER_DARK_LEVEL = 90  # a scanner or microfilm border: rows and columns mostly darker than this grey level
TARGET_XHEIGHT = 22  # a page is upscaled until its x-height is this many pixels (Tesseract's best) ...
MAX_SCALE = 3.0  # ... by at most this factor (never down)
UPSCALE_MIN = 1.05  # ... and only where that is more than this factor (else it is read as it is)
DESKEW_MAX_ANGLE = 5.0  # the largest skew searched, degrees (an angle at the limit is not applied)
DESKEW_MIN_ROWS = 5  # a page with fewer text rows gets no correction (a blank or frame-only frame)
DESKEW_MIN_CONFIDENCE = 1.5  # the best angle's profile must be this many times sharper than the typical one's
SAUVOLA_WINDOW = 31  # the Sauvola threshold's window (pixels) ...
SAUVOLA_K = 0.2  # ... and k: higher keeps less faint ink
SPECKLE_MAX_AREA = 0.03  # a speck is an isolated piece of ink smaller than this many squared x-heights


TEXTURE_XHEIGHT = 1.5  # letters this many times taller on a local threshold than on Otsu's: Otsu took paper for ink


def measure_text(grey: np.ndarray, upscale_check: bool = True) -> tuple[np.ndarray, float | None]:
    """Ink mask and x-height for measuring (scale, skew): Otsu's ink, or Sauvola's where Otsu finds paper.

    Global Otsu keeps faint typewriter strokes whole, but on a sparsely typed page with a light gradient it
    splits bright from dark paper (a quarter of the page and more comes out as "ink"); a local threshold
    does not. On a stained or grainy page Otsu's "ink" can stay just under that quarter, and its thousands
    of specks measure a few pixels: the page would be read at up to three times its size (25 times the
    time, twice the memory). So with ``upscale_check`` an x-height that asks for upscaling is measured
    again on the local threshold, which is taken where it is ``TEXTURE_XHEIGHT`` times Otsu's. Of 228
    pages (EHRI, French typescripts, synthetic) 61 are checked; on 58 the local measure is 0.5-1.12 of
    Otsu's; on a stained synthetic page it is 3.8 times it (23 against 6 px), on two grainy French
    typescripts 2.0 and 4.7 times, and all three read better for it. Only pages to be upscaled pay.
    """
    ink = otsu_ink(grey)
    if ink[::4, ::4].mean() > 0.25:
        ink = local_ink(grey)
        return ink, estimate_xheight(ink)
    xh = estimate_xheight(ink)
    if upscale_check and xh and TARGET_XHEIGHT / xh > UPSCALE_MIN:
        local = local_ink(grey)
        xl = estimate_xheight(local)
        if xl and xl > TEXTURE_XHEIGHT * xh:
            return local, xl
    return ink, xh


def local_ink(grey: np.ndarray) -> np.ndarray:
    """Boolean ink mask by a local (Sauvola) threshold, for measuring where Otsu's is not to be trusted."""
    return sauvola(grey, 51, 0.3) == 0


def otsu_ink(grey: np.ndarray) -> np.ndarray:
    """Boolean ink mask by Otsu's threshold (quick, for measuring)."""
    _, b = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return b > 0


def ink_pieces(grey: np.ndarray) -> np.ndarray:
    """(x, y, width, height, area) of each connected piece of a grey crop's Otsu ink, a row a piece."""
    _, stats = cv2.connectedComponentsWithStats(otsu_ink(grey).astype(np.uint8), connectivity=8)[1:3]
    return stats[1:]


def estimate_xheight(ink: np.ndarray) -> float | None:
    """Median height of letter-sized connected components, in pixels; None without text."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if n < 2:
        return None
    hts = stats[1:, cv2.CC_STAT_HEIGHT]
    wds = stats[1:, cv2.CC_STAT_WIDTH]
    area = stats[1:, cv2.CC_STAT_AREA]
    ok = (hts >= 4) & (hts <= 200) & (wds >= 2) & (wds <= 3 * hts) & (area >= 6)
    if ok.sum() < 20:
        return None
    return float(np.median(hts[ok]))


LETTER_SIZE = 4.0  # a piece of ink at most this many x-heights tall and wide is a letter (or letters run together)


def letter_ink(ink: np.ndarray, xheight: float) -> np.ndarray:
    """``ink`` less its pieces larger than letters (``LETTER_SIZE``): dark edges, rules, stamp rings, pictures."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    small = (stats[:, cv2.CC_STAT_HEIGHT] <= LETTER_SIZE * xheight) & (stats[:, cv2.CC_STAT_WIDTH] <= LETTER_SIZE * xheight)
    small[0] = False
    return small[labels]


def measure_skew(ink: np.ndarray, max_angle: float, min_rows: int, min_conf: float,
                 xheight: float | None = None) -> tuple[float | None, float, str]:
    """Skew of text lines by projection profiles.

    Returns (measured angle or None, angle to apply, note). The angle is in
    degrees, counter-clockwise positive. A page with too few text rows, or
    whose best angle is not clearly better than the others, gets 0. With the
    page's ``xheight``, a page with too few rows is measured again on its
    letter-sized ink alone (``letter_ink``): a dark scanner edge or a rule left
    in the page makes one peak of the profile that dwarfs the text rows.
    """
    h, w = ink.shape
    f = min(1.0, 1200.0 / max(h, w))
    small = cv2.resize(ink.astype(np.uint8), (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(small)
    if len(ys) < 200:
        return None, 0.0, "too little ink to measure skew"
    xs = xs - small.shape[1] / 2.0
    ys = ys - small.shape[0] / 2.0
    nbins = int(math.hypot(*small.shape)) + 2

    def score(a: float) -> float:
        t = math.radians(a)
        proj = ys * math.cos(t) + xs * math.sin(t)
        hist = np.bincount((proj + nbins / 2).astype(int).clip(0, nbins - 1), minlength=nbins).astype(np.float64)
        return float(np.sum(np.diff(hist) ** 2))

    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5) if max_angle > 0 else np.array([0.0])
    scores = np.array([score(a) for a in coarse])
    best = float(coarse[int(np.argmax(scores))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    fscores = np.array([score(a) for a in fine])
    best = float(fine[int(np.argmax(fscores))])
    conf = float(fscores.max() / max(np.median(scores), 1e-9))
    # text rows: peaks in the profile at the best angle
    t = math.radians(best)
    proj = ys * math.cos(t) + xs * math.sin(t)
    hist = np.bincount((proj + nbins / 2).astype(int).clip(0, nbins - 1), minlength=nbins)
    filled = hist > 0.15 * hist.max()
    rows = int(np.sum(filled[1:] & ~filled[:-1]))
    best = round(best, 2)
    if rows < min_rows:
        if xheight:
            again = measure_skew(letter_ink(ink, xheight), max_angle, min_rows, min_conf)
            if again[1]:
                return again[0], again[1], again[2] + " (letter-sized ink only)"
        return best, 0.0, f"not corrected: {rows} text rows (< {min_rows})"
    if conf < min_conf:
        return best, 0.0, f"not corrected: profile contrast {conf:.2f} (< {min_conf})"
    if abs(best) >= max_angle - 0.05:
        return best, 0.0, f"not corrected: angle at the search limit ({max_angle})"
    return best, best, f"corrected by {best:+.2f} deg ({rows} text rows, contrast {conf:.2f})"


def sauvola(grey: np.ndarray, window: int, k: float, r: float = 128.0) -> np.ndarray:
    """Sauvola binarization (ink 0, paper 255), with box filters: O(pixels), any window."""
    # thr = mean * (1 + k * (std / r - 1)), computed in place: four page-sized float arrays at most, not nine
    # (a 300 ppi A4 page's float copy is 36 MB)
    g = grey.astype(np.float32)
    win = (window | 1, window | 1)
    mean = cv2.boxFilter(g, -1, win, borderType=cv2.BORDER_REFLECT)
    t = cv2.boxFilter(g * g, -1, win, borderType=cv2.BORDER_REFLECT)
    t -= mean * mean
    np.maximum(t, 0, out=t)
    np.sqrt(t, out=t)  # std
    t /= r
    t -= 1
    t *= k
    t += 1
    t *= mean  # thr
    del mean
    return cv2.compare(g, t, cv2.CMP_GT)  # 255 where paper, 0 where ink


def remove_punch_holes(binary: np.ndarray, xheight: float) -> np.ndarray:
    """Mask of round blobs or rings of punch-hole size near the page edges."""
    h, w = binary.shape
    inv = (binary == 0).astype(np.uint8)
    contours, _ = cv2.findContours(inv, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    dmin, dmax = 2.5 * xheight, 12 * xheight
    mask = np.zeros_like(inv)
    for c in contours:
        x, y, cw, ch = cv2.boundingRect(c)
        d = (cw + ch) / 2
        if not (dmin <= d <= dmax) or not (0.75 <= cw / max(ch, 1) <= 1.33):
            continue
        cx, cy = x + cw / 2, y + ch / 2
        near_edge = min(cx, w - cx) < 0.15 * w or min(cy, h - cy) < 0.12 * h
        if not near_edge:
            continue
        (_, _), r = cv2.minEnclosingCircle(c)
        if cv2.contourArea(c) / (math.pi * r * r + 1e-9) < 0.7:
            continue
        cv2.drawContours(mask, [c], -1, 1, thickness=cv2.FILLED)
        cv2.drawContours(mask, [c], -1, 1, thickness=3)
    return mask.astype(bool)


def remove_speckles(binary: np.ndarray, max_area: int, isolation: int) -> np.ndarray:
    """Mask of specks: ink components of at most ``max_area`` pixels with no larger ink within ``isolation`` px.

    Faint typewriter letters binarize into fragments; a small fragment next to
    other ink is part of a letter (or an i-dot, a diacritic) and stays.
    """
    inv = (binary == 0).astype(np.uint8)
    if max_area < 1:
        return np.zeros(inv.shape, bool)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=8)
    small = np.zeros(n, bool)
    small[1:] = stats[1:, cv2.CC_STAT_AREA] <= max_area
    small_mask = small[labels]
    if isolation > 0:
        big = (inv > 0) & ~small_mask
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * isolation + 1, 2 * isolation + 1))
        near = cv2.dilate(big.astype(np.uint8), k).astype(bool)
        touching = np.unique(labels[small_mask & near])
        small[touching] = False
        small[0] = False
        small_mask = small[labels]
    return small_mask


def _binarize(grey: np.ndarray, cfg: PreprocessConfig, window_scale: float = 1.0) -> np.ndarray:
    if cfg.binarize == "sauvola":
        return sauvola(grey, max(3, int(SAUVOLA_WINDOW * window_scale)) | 1, SAUVOLA_K)
    return np.where(otsu_ink(grey), 0, 255).astype(np.uint8)


def flatten_background(grey: np.ndarray, xheight: float | None) -> np.ndarray:
    """Divide by a smooth estimate of the paper, so uneven light and stains go flat."""
    k = int(max(15, 4 * (xheight or 10))) | 1
    small = cv2.resize(grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    ks = max(3, k // 4) | 1
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ks, ks)))
    bg = cv2.resize(cv2.blur(bg, (ks, ks)), (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(grey, np.maximum(bg, 1), scale=255)
    return out


def preprocess(img: np.ndarray, cfg: PreprocessConfig, skew_override: float | None = None) -> Preprocessed:
    """Run the enabled steps on an image as loaded; see the module docstring."""
    h0, w0 = img.shape[:2]
    steps: list[str] = []
    m = np.eye(3)  # processed -> original, built up step by step
    grey = to_grey(img, drop_colour=cfg.grayscale)
    if img.ndim == 3:
        steps.append("grayscale+colour-dropout" if cfg.grayscale else "grayscale")

    border = (0, 0, w0, h0)
    if cfg.crop_border:
        border = find_border(grey, BORDER_DARK_LEVEL)
        if border != (0, 0, w0, h0):
            x0, y0, x1, y1 = border
            grey = grey[y0:y1, x0:x1]
            m = m @ _affine(np.array([[1, 0, x0], [0, 1, y0]], dtype=np.float64))
        steps.append(f"crop-border{list(border)}")

    ink, xh = measure_text(grey, upscale_check=cfg.rescale)
    scale = 1.0
    if cfg.rescale and xh:
        scale = min(MAX_SCALE, max(1.0, TARGET_XHEIGHT / xh))
        # never beyond MAX_PIXELS: a mis-measured page must not become a 100-megapixel one
        scale = min(scale, math.sqrt(MAX_PIXELS / (grey.shape[0] * grey.shape[1])))
        if scale > UPSCALE_MIN:
            xh = xh * scale
        else:
            scale = 1.0
        steps.append(f"rescale(x{scale:.2f})")

    measured, applied, note = None, 0.0, "deskew off"
    if cfg.deskew or skew_override is not None:
        if skew_override is not None:
            measured, applied, note = None, float(skew_override), f"angle given by user: {skew_override:+.2f} deg"
        else:
            # measured before rescaling: the angle does not change with the scale (the profiles are
            # taken on a copy at most 1200 px wide either way)
            measured, applied, note = measure_skew(ink, DESKEW_MAX_ANGLE, DESKEW_MIN_ROWS, DESKEW_MIN_CONFIDENCE,
                                                   xheight=xh)
    # rescale and deskew in one resampling (one interpolation blur, one pass over the pixels)
    h, w = grey.shape
    size = (int(round(w * scale)), int(round(h * scale))) if scale != 1.0 else (w, h)
    warp = np.array([[scale, 0, 0], [0, scale, 0]], dtype=np.float64)
    if applied:
        # rotating the image by -skew straightens lines that rise by +skew
        rot = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), -applied, 1.0)
        warp = rot @ _affine(warp)
        grey = cv2.warpAffine(grey, warp, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    elif scale != 1.0:
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_CUBIC)
    m = m @ np.linalg.inv(_affine(warp))
    if cfg.deskew or skew_override is not None:
        steps.append(f"deskew({applied:+.2f})")

    if cfg.normalize_background:
        grey = flatten_background(grey, xh)
        steps.append("flatten-background")
    need_full_binary = cfg.recognize_on == "binary" or cfg.remove_speckles
    removed: dict[str, int] = {}
    erase = np.zeros(grey.shape, bool)
    binary = _binarize(grey, cfg) if need_full_binary else None
    steps.append(f"binarize({cfg.binarize})")
    if cfg.remove_punch_holes and xh:
        # holes are large: find them on a reduced copy (x-height ~10 px), then scale the mask back
        f = min(1.0, 10.0 / xh)
        small = grey if f == 1.0 else cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        sb = _binarize(small, cfg, window_scale=f) if f < 1.0 or binary is None else binary
        holes = remove_punch_holes(sb, xh * f)
        if holes.shape != grey.shape:
            if holes.any():
                holes = cv2.resize(holes.astype(np.uint8), (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_NEAREST)
                holes = cv2.dilate(holes, np.ones((5, 5), np.uint8)).astype(bool)
            else:
                holes = np.zeros(grey.shape, bool)
        removed["punch_hole_px"] = int(holes.sum())
        erase |= holes
        steps.append("punch-holes")
    if cfg.remove_speckles and xh:
        specks = remove_speckles(binary, int(SPECKLE_MAX_AREA * xh * xh), int(round(0.5 * xh)))
        removed["speckle_px"] = int(specks.sum())
        erase |= specks
        steps.append("speckles")
    if erase.any():
        grow = cv2.dilate(erase.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        if binary is not None:
            binary[erase] = 255
            grow &= binary == 255
        # the grey image loses the same marks, with their soft edges, painted in the paper's tone
        grey = grey.copy()
        grey[grow] = int(np.percentile(grey[::4, ::4], 90))

    return Preprocessed(
        binary=binary,
        grey=grey,
        image=grey if cfg.recognize_on == "grey" else binary,  # type: ignore[arg-type]
        to_original=m[:2].copy(),
        original_size=(w0, h0),
        border=border,
        scale=scale,
        xheight=xh,
        skew_measured=measured,
        skew_applied=applied,
        skew_note=note,
        steps=steps,
        removed=removed,
    )
