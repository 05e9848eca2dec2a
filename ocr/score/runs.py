"""What a run folder says about its pages: their images and statuses (run.json), for the report."""
from __future__ import annotations

import json
from pathlib import Path


def _run_pages(hyp: Path, earlier: bool = False) -> list[dict]:
    """The page entries of a memo-ocr run folder's run.json ([] without one); with ``earlier``, also those of the
    pages earlier runs wrote into the folder."""
    rj = hyp / "run.json" if hyp.is_dir() else hyp.parent / "run.json"
    try:
        run = json.loads(rj.read_text(encoding="utf-8"))
        pages = run.get("pages", []) + (run.get("earlier_pages", []) if earlier else [])
        return [p for p in pages if isinstance(p, dict)]
    except (OSError, ValueError, TypeError, AttributeError):
        return []


def images_from_run(hyp: Path) -> dict[str, Path]:
    """Page id -> source image, from a memo-ocr run folder's run.json (if there is one)."""
    return {p["page_id"]: Path(p["source"]) for p in _run_pages(hyp)
            if p.get("frame") is None and "page_id" in p and "source" in p}


def statuses_from_run(hyp: Path) -> dict[str, str]:
    """Page id -> "suspect: <reason>" for the pages a memo-ocr run flagged, from its run.json (if any)."""
    return {p["page_id"]: f"suspect: {p.get('suspect', '')}" for p in _run_pages(hyp, earlier=True)
            if p.get("status") == "suspect" and "page_id" in p}


def images_from_folder(folder: Path) -> dict[str, Path]:
    from ..loader import IMAGE_SUFFIXES

    return {f.stem: f for f in sorted(folder.rglob("*")) if f.suffix.lower() in IMAGE_SUFFIXES - {".pdf"}}
