"""Training and test lines for the typewriter model: synthetic typewritten lines and real typed/printed lines.

Synthetic lines are typed character by character on a fixed pitch in one of
the typewriter faces below (baseline and ink jitter per key, uneven ribbon,
overstrikes, underlines, carbon-copy blur, faint and heavy strikes, paper,
microfilm grain and contrast, low scanning resolution, JPEG, sometimes
binarised), with text in Russian, English, German and French from the memo
genre and ``wordfreq`` vocabularies. Two faces (``HELD_OUT``) are never used
in training: lines in them measure what the model does on a face it has not
seen.

Real lines (``real_lines``), from the shared development data, each given a
split by a hash so that the figures we report come from lines never trained
on:

- EHRI and French typescript pages: the typewritten lines of their ALTO,
  cut from the page; pages of the tuning half of ``bench/ehri.py``'s document
  split go to training (5 % of them to validation), the confirming half is
  the test set;
- Russian print lines: by SHA-1 of the file name, half training, half test;
- Komi print lines: 85 % training, 7.5 % validation, 7.5 % test.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import InputError
from .model_read import STORED_HEIGHT, margin

_F = "/usr/share/fonts/"
# (path, Cyrillic too): Debian packages fonts-urw-base35, fonts-cmu, fonts-freefont-ttf, fonts-dejavu-core,
# fonts-go, fonts-anonymous-pro, fonts-hack, fonts-noto-mono, fonts-courier-prime (Latin only)
FACES = [
    (_F + "opentype/urw-base35/NimbusMonoPS-Regular.otf", True),
    (_F + "opentype/urw-base35/NimbusMonoPS-Bold.otf", True),
    (_F + "truetype/cmu/cmuntt.ttf", True),
    (_F + "truetype/cmu/cmunst.ttf", True),
    (_F + "truetype/freefont/FreeMono.ttf", True),
    (_F + "truetype/freefont/FreeMonoBold.ttf", True),
    (_F + "truetype/dejavu/DejaVuSansMono.ttf", True),
    (_F + "fonts-go/Go-Mono.ttf", True),
    (_F + "truetype/anonymous-pro/Anonymous Pro.ttf", True),
    (_F + "truetype/hack/Hack-Regular.ttf", True),
    (_F + "truetype/noto/NotoMono-Regular.ttf", True),
    (_F + "opentype/courier-prime/Courier Prime.otf", False),
    (_F + "opentype/courier-prime/Courier Prime Bold.otf", False),
]
# never trained on: fonts-liberation, fonts-paratype
HELD_OUT = [
    (_F + "truetype/liberation/LiberationMono-Regular.ttf", True),
    (_F + "truetype/paratype/PTM55F.ttf", True),
]
FONT_PACKAGES = ("fonts-urw-base35 fonts-cmu fonts-freefont-ttf fonts-dejavu-core fonts-go fonts-anonymous-pro "
                 "fonts-hack fonts-noto-mono fonts-courier-prime fonts-liberation fonts-paratype")

LANGS = {"rus": 0.45, "eng": 0.2, "deu": 0.2, "fra": 0.15}
_WF = {"rus": "ru", "eng": "en", "deu": "de", "fra": "fr"}
ABBREVIATIONS = {
    "rus": ["т.т.", "тов.", "зав.", "зам.", "№", "г.", "гг.", "т.е.", "и т.д.", "ЦК КПСС", "СССР", "МИД СССР",
            "исх.", "вх.", "экз.", "стр.", "см.", "тыс.", "руб.", "т.н.", "Секретно", "КОПИЯ"],
    "eng": ["Mr.", "Dr.", "Mrs.", "No.", "Re:", "U.S.A.", "etc.", "i.e.", "Sincerely yours,", "Dear Sir,", "Ltd."],
    "deu": ["Herrn", "Dr.", "Nr.", "z.B.", "u.a.", "d.h.", "usw.", "Betr.:", "Hochachtungsvoll", "i.A.", "Abschrift"],
    "fra": ["M.", "Mme", "No", "c.-à-d.", "etc.", "Monsieur,", "Paris, le", "Veuillez agréer"],
}
MONTHS = {
    "eng": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December"],
    "deu": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
            "November", "Dezember"],
    "fra": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
            "novembre", "décembre"],
}
PUNCT_AFTER = [",", ",", ",", ".", ".", ";", ":", "!", "?", ")"]
# the EHRI German transcriptions type Cyrillic ӓ ӧ for ä ö in 172 lines: in Latin-script lines they are ä ö
LATIN_UMLAUTS = str.maketrans("ӓӧӒӦ", "äöÄÖ")
SPLIT_TEST, SPLIT_VAL = 75, 150  # per mille, for the Komi lines and validation picks


def faces(held_out: bool = False) -> list[tuple[str, bool]]:
    """The usable faces of the training (or held-out) set; an error naming the packages when none is there."""
    found = [(p, cyr) for p, cyr in (HELD_OUT if held_out else FACES) if Path(p).exists()]
    if not found or (not held_out and not any(cyr for _, cyr in found)):
        raise InputError(f"no typewriter font with Cyrillic found: apt-get install {FONT_PACKAGES}")
    return found


@lru_cache(maxsize=4)
def _words(lang: str) -> list[str]:
    try:
        from wordfreq import top_n_list
    except ImportError as e:
        raise InputError(f"the typewriter model's training data needs the synth extra "
                         f"(pip install 'memo-ocr[synth]'): {e}") from None
    return [w for w in top_n_list(_WF[lang], 30000) if w.isalpha() or "-" in w or "'" in w]


def _date(rng: np.random.Generator, lang: str) -> str:
    from ..synth import content

    d, m, y = int(rng.integers(1, 32)), int(rng.integers(0, 12)), int(rng.integers(1920, 1990))
    if lang == "rus":
        return [content.roman_date(rng), f"{d} {content.MONTHS_GEN[m]} {y} г.", f"{d:02d}.{m + 1:02d}.{y}",
                f"«{d}» {content.MONTHS_GEN[m]} {y} года"][int(rng.integers(0, 4))]
    month = MONTHS[lang][m]
    return {"eng": [f"{month} {d}, {y}", f"{d}th {month} {y}", f"{d}.{m + 1}.{y}"],
            "deu": [f"{d}. {month} {y}", f"den {d}.{m + 1}.{y}", f"{d}.{m + 1:02d}.{y}"],
            "fra": [f"le {d} {month} {y}", f"{d} {month} {y}", f"{d}/{m + 1}/{y}"]}[lang][int(rng.integers(0, 3))]


def _number(rng: np.random.Generator, lang: str) -> str:
    n = int(rng.integers(1, 100000))
    sign = {"rus": "№", "eng": "No.", "deu": "Nr.", "fra": "No"}[lang]
    return [f"{sign} {n}", f"{n}", f"{n % 1000}/{n % 97}", f"{n % 100}-с" if lang == "rus" else f"({n % 100})",
            f"{n / 100:.2f}".replace(".", "," if lang != "eng" else "."), f"{n % 30}%", f"{n % 12 + 1}."][
        int(rng.integers(0, 7))]


def _word_run(rng: np.random.Generator, lang: str, n: int) -> str:
    words = _words(lang)
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.05:
            w = _number(rng, lang)
        elif r < 0.09:
            w = str(rng.choice(ABBREVIATIONS[lang]))
        else:
            # frequent words more often, the rare tail too: rank ~ exponential
            w = words[min(len(words) - 1, int(rng.exponential(3000)))]
            if (lang == "deu" and rng.random() < 0.3) or rng.random() < 0.08:
                w = w[:1].upper() + w[1:]
        if i == 0 and rng.random() < 0.6:
            w = w[:1].upper() + w[1:]
        if rng.random() < 0.1:
            w += str(rng.choice(PUNCT_AFTER))
        elif rng.random() < 0.03:
            q = {"rus": ("«", "»"), "fra": ("« ", " »"), "deu": ("„", "“"), "eng": ('"', '"')}[lang]
            w = q[0] + w + q[1]
        out.append(w)
    text = " ".join(out)
    if rng.random() < 0.06:
        text = text.upper()
    if rng.random() < 0.25:
        text += str(rng.choice([".", ",", ":", ";", " -", " —"]))
    return text


def sample_text(rng: np.random.Generator, lang: str) -> str:
    """One typed line (or a part of one) of the archival typescript genre in ``lang``."""
    r = rng.random()
    if lang == "rus" and r < 0.25:
        from ..synth import content

        memo = content.generate_memo(rng)
        parts = memo.heading + memo.paragraphs + [s for pair in memo.signatures for s in pair] + memo.footer
        words = str(parts[int(rng.integers(0, len(parts)))]).split()
        a = int(rng.integers(0, max(1, len(words) - 2)))
        return " ".join(words[a:a + int(rng.integers(2, 11))])
    if r < 0.33:
        return f"{_word_run(rng, lang, int(rng.integers(1, 6)))} {_date(rng, lang)}"
    return _word_run(rng, lang, int(rng.integers(2, 12)))


def _font(path: str, pitch: float) -> ImageFont.FreeTypeFont:
    return _sized(path, int(round(100 * pitch / _advance(path))))


@lru_cache(maxsize=64)
def _advance(path: str) -> float:
    return ImageFont.truetype(path, 100).getlength("M")


@lru_cache(maxsize=256)
def _sized(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def type_line(rng: np.random.Generator, text: str, path: str) -> np.ndarray:
    """Ink coverage (float 0..1) of ``text`` typed key by key on a fixed pitch, cropped with a margin."""
    pitch = float(rng.uniform(24, 34))
    font = _font(path, pitch)
    pad = int(pitch)
    w = int(len(text) * pitch + 3 * pad)
    h = int(pitch * 3.2)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    base = pitch * 2.0
    ribbon = float(rng.uniform(0.55, 1.0))
    sx, sy = float(rng.uniform(0.2, 1.2)), float(rng.uniform(0.2, 1.4))
    drift = float(rng.normal(0, 0.01))
    for i, ch in enumerate(text):
        if ch == " ":
            continue
        x = pad + i * pitch + float(rng.normal(0, sx))
        y = base + drift * i * pitch + float(rng.normal(0, sy))
        ink = int(255 * float(np.clip(ribbon * rng.uniform(0.7, 1.15), 0.25, 1.0)))
        draw.text((x, y), ch, font=font, fill=ink, anchor="ls")
        if rng.random() < 0.01:
            draw.text((x + float(rng.uniform(0.5, 2.5)), y), ch, font=font, fill=ink, anchor="ls")
    if rng.random() < 0.05:  # typed underline under a stretch of the line (not part of its text)
        a = int(rng.integers(0, max(1, len(text) - 3)))
        b = int(rng.integers(a + 2, len(text) + 1))
        uy = int(base + pitch * 0.25)
        draw.line([(pad + a * pitch, uy), (pad + b * pitch, uy)], fill=int(255 * ribbon), width=max(1, int(pitch / 12)))
    cov = np.asarray(img, dtype=np.float32) / 255.0
    cov *= rng.uniform(0.75, 1.0, cov.shape).astype(np.float32)  # ribbon grain
    ys, xs = np.nonzero(cov > 0.15)
    if len(xs) == 0:
        return cov[: int(pitch * 2), : int(pitch * 2)]
    m = [int(pitch * rng.uniform(0.1, 0.6)) for _ in range(4)]
    return cov[max(0, ys.min() - m[0]):ys.max() + 1 + m[1], max(0, xs.min() - m[2]):xs.max() + 1 + m[3]]


def scan_line(rng: np.random.Generator, cov: np.ndarray) -> np.ndarray:
    """Ink coverage -> a grey scanned line: carbon blur, faint or heavy strikes, paper, light, grain,
    microfilm contrast, a small rotation, low resolution, JPEG; sometimes binarised."""
    r = rng.random()
    if r < 0.2:
        cov = cv2.dilate(cov, np.ones((2, 2), np.uint8))
    elif r < 0.35:
        cov = cv2.erode(cov, np.ones((2, 2), np.uint8))
    blur = float(rng.uniform(0.8, 2.6)) if rng.random() < 0.25 else float(rng.uniform(0.2, 1.0))  # carbon copy
    cov = cv2.GaussianBlur(cov, (0, 0), blur)
    h, w = cov.shape
    angle = float(rng.normal(0, 0.4))
    if abs(angle) > 0.05:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        cov = cv2.warpAffine(cov, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    paper = float(rng.uniform(140, 250))
    ink = float(rng.uniform(0, max(1.0, min(140, paper - 50))))
    gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * float(rng.uniform(-25, 25))
    img = (paper + gx) * (1 - cov) + ink * cov
    if rng.random() < 0.3:  # show-through or a stain: a soft blob of darker paper
        cx, cy = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        rad = float(rng.uniform(h, 4 * h))
        yy, xx = np.mgrid[0:h, 0:w]
        img -= float(rng.uniform(10, 50)) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rad ** 2)) * (1 - cov)
    img += rng.normal(0, float(rng.uniform(1, 14)), img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    height = int(rng.integers(14, 64))  # ~100 ppi microfilm frames to 300 ppi scans
    img = cv2.resize(img, (max(8, int(round(w * height / h))), height), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.15:
        _, img = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        return img
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else img


def make_sample(seed: int, held_out: bool = False) -> tuple[np.ndarray, str]:
    """Synthetic typed line number ``seed``: (grey uint8 image, its text)."""
    rng = np.random.default_rng([seed, 0x5459])
    langs = list(LANGS)
    lang = langs[int(rng.choice(len(langs), p=list(LANGS.values())))]
    usable = [p for p, cyr in faces(held_out) if cyr or lang != "rus"]
    path = usable[int(rng.integers(0, len(usable)))]
    text = sample_text(rng, lang)
    if len(text) > 70:  # a typed line is at most ~70 characters (pica on A4)
        cut = text.rfind(" ", 0, 70)
        text = text[: cut if cut > 10 else 70]
    return scan_line(rng, type_line(rng, text, path)), text


# ---------------------------------------------------------------------------------------------- real lines


@dataclass(frozen=True)
class RealLine:
    source: str  # ehri-english, ehri-german, fr, ru-print, komi
    key: str  # file (and line) it comes from
    split: str  # train, val, test
    text: str
    image: Path
    poly: tuple[tuple[int, int], ...] = ()  # its outline in the page; empty: the whole image is the line


def normalise(text: str) -> str:
    """NFC, whitespace collapsed, eScriptorium's markers (_underlined, ^superscript) removed."""
    text = re.sub(r"(^|\s)_", r"\1", unicodedata.normalize("NFC", text)).replace("^", "")
    return " ".join(text.split())


def _per_mille(key: str) -> int:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 1000


def _page_lines(folder: Path, source: str) -> Iterator[RealLine]:
    from ..formats.readers import read_transcription
    from ..score.halves import half

    for xml in sorted(folder.glob("*.xml")):
        img = next((xml.with_suffix(s) for s in (".jpg", ".jpeg", ".png", ".tif") if xml.with_suffix(s).exists()), None)
        if img is None:
            continue
        tuning = half(xml.stem) == "tuning"
        for n, ln in enumerate(read_transcription(xml)):
            text = normalise(ln.text).translate(LATIN_UMLAUTS)
            if ln.kind != "typewritten" or not text or len(ln.poly) < 3:
                continue
            key = f"{xml.stem}#{n}"
            split = "test" if not tuning else "val" if _per_mille(key) < 50 else "train"
            yield RealLine(source, key, split, text, img, tuple(ln.poly))


def real_lines(shared: Path) -> list[RealLine]:
    """Every real line of the development data under ``shared`` (``../shared/data``) with its split."""
    out: list[RealLine] = []
    for sub, source in (("ehri/english", "ehri-english"), ("ehri/german", "ehri-german"), ("fr_typescripts", "fr")):
        if (shared / sub).is_dir():
            out += _page_lines(shared / sub, source)
    for sub, source in (("ru_print_lines", "ru-print"), ("komi_print_lines", "komi")):
        for gt in sorted((shared / sub).glob("*.gt.txt")) if (shared / sub).is_dir() else []:
            stem = gt.name[: -len(".gt.txt")]
            img = next((gt.with_name(stem + s) for s in (".png", ".tif", ".jpg") if gt.with_name(stem + s).exists()), None)
            text = normalise(gt.read_text(encoding="utf-8"))
            if img is None or not text:
                continue
            pm = _per_mille(stem)
            if source == "ru-print":
                split = "train" if pm < 500 else "test"
            else:
                split = "test" if pm < SPLIT_TEST else "val" if pm < SPLIT_VAL else "train"
            out.append(RealLine(source, stem, split, text, img))
    return out


def cut(line: RealLine, pages: dict[Path, np.ndarray] | None = None) -> np.ndarray:
    """The grey image of a real line: the whole file, or its box cut from the page with a small margin."""
    page = pages.get(line.image) if pages is not None else None
    if page is None:
        page = cv2.imread(str(line.image), cv2.IMREAD_GRAYSCALE)
        if page is None:
            raise InputError(f"{line.image}: cannot read image")
        if pages is not None:
            pages.clear()
            pages[line.image] = page
    if not line.poly:
        return page
    return cut_polygon(page, np.asarray(line.poly, np.int32))


def cut_polygon(page: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """A line cut from a grey page by its outline: what lies outside the outline (parts of the lines above
    and below, which eScriptorium's outlines leave out) painted the colour of the paper, then the outline's
    box with a small margin."""
    H, W = page.shape
    x0, y0 = max(0, int(poly[:, 0].min())), max(0, int(poly[:, 1].min()))
    x1, y1 = min(W, int(poly[:, 0].max()) + 1), min(H, int(poly[:, 1].max()) + 1)
    dx, dy = margin((x0, y0, x1, y1))
    X0, Y0, X1, Y1 = max(0, x0 - dx), max(0, y0 - dy), min(W, x1 + dx), min(H, y1 + dy)
    crop = page[Y0:Y1, X0:X1].copy()
    if crop.size == 0:
        return crop
    mask = np.zeros(crop.shape, np.uint8)
    cv2.fillPoly(mask, [poly - np.array([X0, Y0], np.int32)], 255)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    crop[mask == 0] = int(np.percentile(crop, 90))
    return crop


def _store(img: np.ndarray, max_height: int = STORED_HEIGHT) -> np.ndarray:
    if img.shape[0] > max_height:  # the high-resolution French scans: kept small, the model reads 48 px
        s = max_height / img.shape[0]
        img = cv2.resize(img, (max(8, int(img.shape[1] * s)), max_height), interpolation=cv2.INTER_AREA)
    return img


def augment(seed: int, grey: np.ndarray) -> np.ndarray:
    """A copy of a real line with a different look: contrast, blur, noise, scale, JPEG."""
    rng = np.random.default_rng([seed, 0x5241])
    g = grey.astype(np.float32)
    lo, hi = np.percentile(g, 1), np.percentile(g, 99)
    cov = np.clip((hi - g) / max(hi - lo, 1.0), 0, 1)
    return scan_line(rng, cov)


def prepare(work: Path, shared: Path | None, synthetic: int, seed: int, real_copies: int = 2,
            synthetic_test: int = 400, progress: Callable[[int, int], None] | None = None) -> dict:
    """Write the training set under ``work/data`` and the lists ``work/{train,val,test,synth-test}.lst``;
    ``work/data/test.json`` records where each real test line comes from. Skipped when the manifest records
    the same parameters (training resumes)."""
    params = {"kind": "typed", "shared": str(shared) if shared else None, "synthetic": synthetic, "seed": seed,
              "real_copies": real_copies, "synthetic_test": synthetic_test,
              "faces": [Path(p).name for p, _ in faces()], "held_out": [Path(p).name for p, _ in faces(True)]}
    data = work / "data"
    manifest_path = data / "manifest.json"
    if manifest_path.is_file() and json.loads(manifest_path.read_text()).get("params") == params:
        return json.loads(manifest_path.read_text())
    lists: dict[str, list[Path]] = {"train": [], "val": [], "test": [], "synth-test": []}
    for sub in lists:
        (data / sub).mkdir(parents=True, exist_ok=True)
    reals = real_lines(shared) if shared else []
    n_val = max(1, synthetic // 40)
    total = len(reals) + synthetic + n_val + synthetic_test
    done = 0
    pages: dict[Path, np.ndarray] = {}
    tests = []

    def write(split: str, stem: str, img: np.ndarray, text: str) -> None:
        p = data / split / f"{stem}.png"
        cv2.imwrite(str(p), img)
        p.with_suffix(".gt.txt").write_text(text + "\n", encoding="utf-8")
        lists[split].append(p)

    for i, ln in enumerate(reals):
        img = _store(cut(ln, pages))
        if img.size == 0 or img.shape[0] < 6:
            continue
        stem = f"{ln.source}-{i:05d}"
        write(ln.split, stem, img, ln.text)
        if ln.split == "test":
            tests.append({"image": f"test/{stem}.png", "source": ln.source, "key": ln.key})
        if ln.split == "train":
            for c in range(real_copies):
                write("train", f"{stem}-aug{c}", augment(seed * 1_000_003 + i * 11 + c, img), ln.text)
        done += 1
        if progress and i % 100 == 0:
            progress(done, total)
    for i in range(synthetic + n_val):
        img, text = make_sample(seed * 10_000_000 + i)
        write("val" if i >= synthetic else "train", f"syn-{i:06d}", img, text)
        done += 1
        if progress and i % 500 == 0:
            progress(done, total)
    for i in range(synthetic_test):  # faces never trained on, a seed range of its own
        img, text = make_sample((seed + 1) * 10_000_000 + 5_000_000 + i, held_out=True)
        write("synth-test", f"syn-held-{i:05d}", img, text)
    for name, paths in lists.items():
        (work / f"{name}.lst").write_text("".join(f"{p.resolve()}\n" for p in paths), encoding="utf-8")
    (data / "test.json").write_text(json.dumps(tests, indent=1), encoding="utf-8")
    manifest = {"params": params, "counts": {k: len(v) for k, v in lists.items()},
                "real": {s: {src: sum(1 for r in reals if r.split == s and r.source == src)
                             for src in sorted({r.source for r in reals})} for s in ("train", "val", "test")}}
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest
