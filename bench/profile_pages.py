"""Profile of the page path: where a worker's time goes, by stage and by function (cProfile).

Reads the pages in this process, one after another, as a worker does (the engine and models loaded by a
first page that is not counted), and prints the seconds per page of each stage, then the functions of
``ocr/`` by cumulative time and all functions by their own time, per page.

    python bench/profile_pages.py [DIR] [--lang rus] [--top 25] [-c CONFIG]   # default: 20 typed-only synthetic pages, seed 7
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocr.config import load  # noqa: E402
from ocr.engines import get_engine  # noqa: E402
from ocr.loader import expand_inputs  # noqa: E402
from ocr.page import recognize_page  # noqa: E402
from ocr.synth.reel import make_reel  # noqa: E402


def table(stats: pstats.Stats, key: str, n_pages: int, top: int, only_ours: bool) -> list[str]:
    rows = []
    for (file, line, name), (_, ncalls, own, cum, _) in stats.stats.items():
        if only_ours and "/ocr/" not in file:
            continue
        where = f"{file.split('/ocr/', 1)[1] if '/ocr/' in file else Path(file).name}:{line}({name})" if file != "~" \
            else name
        rows.append((cum if key == "cum" else own, ncalls / n_pages, where))
    rows.sort(reverse=True)
    return [f"  {s / n_pages:7.3f} s  {calls:7.1f} calls  {where}" for s, calls, where in rows[:top]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pages", nargs="?", type=Path, help="a folder of page images (default: synthetic typed pages)")
    ap.add_argument("--lang", default="rus")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("-c", "--config", type=Path, help="a config.toml (default: the project's)")
    args = ap.parse_args()
    cfg = load(args.config).replace("run", lang=args.lang)
    engine = get_engine("tesseract", cfg)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.pages
        if folder is None:
            folder = Path(tmp) / "scans"
            make_reel(folder, Path(tmp) / "gt", 21, 7, with_seed_memo=False, typed_only=True)
        refs = expand_inputs([folder])
        if len(refs) < 2:
            ap.error("at least two pages: the first one loads the models and is not counted")
        recognize_page(refs[0], cfg, engine, {}, None)
        stages: dict[str, float] = {}
        prof = cProfile.Profile()
        prof.enable()
        for ref in refs[1:]:
            t: dict[str, float] = {}
            recognize_page(ref, cfg, engine, t, None)
            for k, v in t.items():
                stages[k] = stages.get(k, 0.0) + v
        prof.disable()
    n = len(refs) - 1
    print(f"{n} pages of {folder.name if args.pages else 'typed-only synthetic pages (seed 7)'}, lang {args.lang}, "
          f"one process")
    print("seconds per page by stage: " + ", ".join(f"{k} {v / n:.3f}" for k, v in stages.items())
          + f"; total {sum(stages.values()) / n:.3f}")
    st = pstats.Stats(prof)
    print(f"\nocr/ functions by cumulative time per page (top {args.top}):")
    print("\n".join(table(st, "cum", n, args.top, True)))
    print(f"\nall functions by own time per page (top {args.top}):")
    print("\n".join(table(st, "own", n, args.top, False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
