"""The review store: the lines of a finished run worth a human look, and their corrections.

A run folder is what ``memo-ocr run -o OUT`` wrote (``*.page.xml`` and ``run.json``); the
review root is one run folder or a folder of run folders (one per reel).

A correction is kept twice, both written before a save is acknowledged:

* in the run's journal ``<run>/review/journal.jsonl`` (one JSON object per save, appended,
  fsynced): the edit history of every line, never rewritten;
* in the page's PAGE XML, as a ``TextEquiv index="0"`` placed before the machine reading
  (which keeps its text and confidence and gets ``index="1"``), with who, when, the status and
  the revision in its ``comments``. PAGE readers take the lowest index as the main text, so a
  reviewed page is ground truth for ``memo-ocr score``. The file is replaced atomically.

Saves are serialised by an exclusive lock on the journal (``fcntl.flock``), so two browser
tabs, or two servers on one run, never lose an edit; a save whose line changed since the
editor loaded it is still kept (both stay in the history) and reported as a conflict. On
start, journal entries that did not reach the XML (a crash between the two writes) are
applied again.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import sys
import threading
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
from lxml import etree

from ..errors import MemoOcrError
from ..formats import atomic
from . import derived
from .lines import (
    KINDS,
    PARSER,
    STATUSES,
    TAG,
    WORDS_MACHINE,
    LineItem,
    NotFound,
    ReviewError,
    ReviewPage,
    box_of,
    clean_text,
    find_runs,
    kind_of,
    line_image,
    need_of,
    not_xml,
    now_iso,
    parse_comment,
    polygon_of,
    qname,
    split_equivs,
    unicode_of,
)


class ReviewStore:
    """The lines of every page under ROOT and their corrections; thread-safe."""

    def __init__(self, root: str | Path, *, max_conf: float = 0.85, image_dirs: tuple[Path, ...] = ()):
        self.root = Path(root)
        self.runs = find_runs(self.root)
        self.max_conf = max_conf
        self.image_dirs = tuple(Path(d) for d in image_dirs)
        self._pages: dict[tuple[str, str], ReviewPage] = {}
        self._lock = threading.RLock()
        self._images: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        for reel, run in self.runs.items():
            sources = self._sources(run)
            for xml in sorted(run.glob("*.page.xml")):
                pid = xml.name[: -len(".page.xml")]
                src, frame = sources.get(pid, ("", None))
                self._pages[(reel, pid)] = ReviewPage(reel, pid, xml, run, src, frame)
            (run / "review").mkdir(exist_ok=True)
            self.replay(reel)

    # ------------------------------------------------------------------ reading
    @staticmethod
    def _sources(run: Path) -> dict[str, tuple[str, int | None]]:
        try:
            data = json.loads((run / "run.json").read_text(encoding="utf-8"))
            return {p["page_id"]: (p.get("source") or "", p.get("frame")) for p in data.get("pages", [])}
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    def _load(self, page: ReviewPage) -> list[LineItem]:
        mtime = page.xml.stat().st_mtime_ns
        if mtime == page.mtime:
            return page.lines
        try:
            root = etree.parse(str(page.xml), PARSER).getroot()
        except (OSError, etree.XMLSyntaxError) as e:
            raise ReviewError(f"{page.xml}: cannot read PAGE XML ({e})") from None
        pg = root.find(qname("Page"))
        page.image_name = (pg.get("imageFilename") or "") if pg is not None else ""
        items = []
        for reg in root.iter(qname("TextRegion")):
            kind = kind_of(reg)
            kept = (reg.get("type") or "") != "other" or kind == "stamp"
            for ln in reg.findall(qname("TextLine")):
                ours, machine = split_equivs(ln)
                text = unicode_of(machine[0]) if machine else ""
                conf = float(machine[0].get("conf")) if machine and machine[0].get("conf") else None
                custom = ln.get("custom") or ""
                m = re.search(r"error \{reason:(.*?);\}", custom)
                pts = polygon_of(ln)
                item = LineItem(page.reel, page.page_id, ln.get("id") or "", kind, reg.get("type") or "", conf,
                                text, [unicode_of(te) for te in machine[1:]], box_of(pts), pts,
                                m.group(1) if m else "", kept)
                if ours is not None:
                    meta = parse_comment(ours.get("comments")) or {}
                    item.correction = unicode_of(ours)
                    item.status = meta.get("status", "corrected")
                    item.rev = int(meta.get("rev", "1") or 1)
                    item.who, item.at = meta.get("by", ""), meta.get("at", "")
                item.need = need_of(item)
                items.append(item)
        page.lines, page.mtime = items, mtime
        return items

    def pages(self) -> list[dict]:
        with self._lock:
            return [{"reel": p.reel, "page": p.page_id} for p in self._pages.values()]

    def queue(self, *, reel: str = "", page: str = "", kind: str = "", status: str = "todo") -> list[LineItem]:
        """Lines ordered by need. status: todo (not corrected yet, or marked illegible/unclear), done, all.

        ``todo`` leaves out typewritten lines the engine was sure of (confidence above max_conf);
        ``all`` shows every line.
        """
        if status not in ("todo", "done", "all"):
            raise ReviewError(f"status filter {status!r}: use todo, done or all")
        if kind and kind not in KINDS:
            raise ReviewError(f"kind filter {kind!r}: use one of {', '.join(KINDS)}")
        out = []
        with self._lock:
            for p in self._pages.values():
                if (reel and p.reel != reel) or (page and p.page_id != page):
                    continue
                for it in self._load(p):
                    if kind and it.kind != kind:
                        continue
                    if status == "done" and it.status != "corrected":
                        continue
                    if status == "todo":
                        if it.status == "corrected":
                            continue
                        worth = (it.kind in ("handwritten", "stamp") or it.error or it.status
                                 or it.conf is None or it.conf < self.max_conf)
                        if not worth:
                            continue
                    out.append(it)
        out.sort(key=lambda it: (-it.need, it.reel, it.page, it.line))
        return out

    def _page(self, reel: str, page: str) -> ReviewPage:
        p = self._pages.get((reel, page))
        if p is None:
            raise NotFound(f"no page {page!r} in reel {reel!r}")
        return p

    def item(self, reel: str, page: str, line: str) -> LineItem:
        with self._lock:
            for it in self._load(self._page(reel, page)):
                if it.line == line:
                    return it
        raise NotFound(f"no line {line!r} on page {page!r}")

    def history(self, reel: str, page: str, line: str) -> list[dict]:
        """Every save of the line, oldest first (from the journal)."""
        self._page(reel, page)
        return [e for e in self._journal(reel) if e["page"] == page and e["line"] == line]

    def _journal(self, reel: str) -> list[dict]:
        path = self.runs[reel] / "review" / "journal.jsonl"
        out = []
        try:
            with open(path, encoding="utf-8") as f:
                for raw in f:
                    try:
                        out.append(json.loads(raw))
                    except ValueError:
                        continue  # a line torn by a crash mid-append: never acknowledged
        except FileNotFoundError:
            pass
        return out

    # ------------------------------------------------------------------ images
    def _image_path(self, p: ReviewPage) -> Path | None:
        cands = []
        if p.source:
            s = Path(p.source)
            if s.is_absolute():
                cands.append(s)
            else:
                cands.append(Path.cwd() / s)
                cands.extend(parent / s for parent in p.run_dir.resolve().parents)
        self._load(p)  # the PAGE file's imageFilename comes with its lines
        name = p.image_name
        if name:
            cands.append(p.xml.parent / name)
            cands.extend(d / Path(name).name for d in self.image_dirs)
        return next((c for c in cands if c.is_file()), None)

    def image(self, reel: str, page: str) -> np.ndarray:
        """The page's original image (grey or BGR), cached for the last few pages."""
        from ..loader import PageRef, load_image

        with self._lock:
            key = (reel, page)
            if key in self._images:
                self._images.move_to_end(key)
                return self._images[key]
            p = self._page(reel, page)
            path = self._image_path(p)
        if path is None:
            raise ReviewError(f"page {page}: its image ({p.source or 'imageFilename'}) was not found; "
                              "start the review where the run was started, or give --images DIR")
        img = load_image(PageRef(page, path, p.frame))
        with self._lock:
            self._images[key] = img
            while len(self._images) > 4:
                self._images.popitem(last=False)
        return img

    def crop(self, reel: str, page: str, line: str, *, context: bool = False, max_width: int = 1400) -> bytes:
        """JPEG of the line (context: with the lines around it, the line outlined)."""
        it = self.item(reel, page, line)
        img = self.image(reel, page)
        if not context:
            out = line_image(img, it.poly)
        else:
            h, w = img.shape[:2]
            x0, y0, x1, y1 = it.box
            lh = max(12, min(y1 - y0, x1 - x0))
            cx0, cy0, cx1, cy1 = max(0, x0 - 6 * lh), max(0, y0 - 4 * lh), min(w, x1 + 6 * lh), min(h, y1 + 4 * lh)
            if cx1 <= cx0 or cy1 <= cy0:
                raise ReviewError(f"line {line}: its box lies outside the page image")
            out = img[cy0:cy1, cx0:cx1]
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR) if out.ndim == 2 else out.copy()
        if context:
            t = max(2, lh // 12)
            pts = np.array([(x - cx0, y - cy0) for x, y in it.poly], np.int32)
            if len(pts) >= 2:
                cv2.polylines(out, [pts], True, (0, 140, 255), t)
        if out.shape[1] > max_width:
            f = max_width / out.shape[1]
            out = cv2.resize(out, (max_width, max(1, int(out.shape[0] * f))), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 88])
        if not ok:
            raise ReviewError(f"line {line}: the crop could not be encoded")
        return buf.tobytes()

    # ------------------------------------------------------------------ writing
    def save(self, reel: str, page: str, line: str, text: str, *, status: str = "corrected", who: str = "",
             base_rev: int | None = None) -> dict:
        """Record a correction; returns {"rev", "conflict", "item"} once it is in the journal and the XML."""
        if status not in STATUSES:
            raise ReviewError(f"status {status!r}: use one of {', '.join(STATUSES)}")
        if not isinstance(text, str) or "\n" in text or len(text) > 2000:
            raise ReviewError("a correction is one line of text (at most 2,000 characters)")
        if status == "corrected" and not text.strip():
            raise ReviewError("an empty correction: mark the line illegible instead")
        bad = not_xml(text)
        if bad:  # refused before anything is journalled: a journal entry the XML cannot take would stay there
            raise ReviewError(f"the correction holds {bad}, which XML cannot carry")
        p = self._page(reel, page)
        run = self.runs[reel]
        with self._lock, open(run / "review" / "journal.jsonl", "a+", encoding="utf-8") as j:
            fcntl.flock(j, fcntl.LOCK_EX)
            try:
                current = self._current_rev(reel, page, line)
                self.item(reel, page, line)  # the line must exist
                entry = {"page": page, "line": line, "text": text, "status": status, "by": who or "unknown",
                         "at": now_iso(), "rev": current + 1, "base_rev": base_rev}
                j.write(json.dumps(entry, ensure_ascii=False) + "\n")
                j.flush()
                os.fsync(j.fileno())
                self._apply(p, entry)
            finally:
                fcntl.flock(j, fcntl.LOCK_UN)
            item = self.item(reel, page, line)
        conflict = base_rev is not None and base_rev != current
        return {"rev": entry["rev"], "conflict": conflict, "item": item.to_json()}

    def _current_rev(self, reel: str, page: str, line: str) -> int:
        revs = [e.get("rev", 0) for e in self._journal(reel) if e["page"] == page and e["line"] == line]
        return max(revs, default=0)

    def _apply(self, p: ReviewPage, entry: dict) -> None:
        """Write the journal entry into the page's PAGE XML (atomically)."""
        tree = etree.parse(str(p.xml), PARSER)
        root = tree.getroot()
        ln = next((e for e in root.iter(qname("TextLine")) if e.get("id") == entry["line"]), None)
        if ln is None:
            raise ReviewError(f"{p.xml}: no TextLine {entry['line']!r}")
        ours, machine = split_equivs(ln)
        for te in machine:
            if te.get("index") in (None, "0"):
                te.set("index", "1")
        if ours is None:
            ours = etree.Element(qname("TextEquiv"))
            first = machine[0] if machine else None
            if first is not None:
                first.addprevious(ours)
            else:
                after = [c for c in ln if etree.QName(c).localname in ("TextStyle", "UserDefined", "Labels")]
                if after:
                    after[0].addprevious(ours)
                else:
                    ln.append(ours)
            ours.tail = first.tail if first is not None else None
        for child in list(ours):
            ours.remove(child)
        ours.set("index", "0")
        ours.set("comments", f"{TAG}: status={entry['status']}; by={clean_text(entry['by'])}; at={entry['at']}; "
                             f"rev={entry['rev']}")
        uni = etree.SubElement(ours, qname("Unicode"))
        uni.text = entry["text"]
        if ln.find(qname("Word")) is not None and WORDS_MACHINE not in (ln.get("custom") or ""):
            # the line's words and glyphs keep the machine's reading (and boxes); the line's text is the reviewed one
            ln.set("custom", " ".join(filter(None, [ln.get("custom"), WORDS_MACHINE])))
        md = root.find(qname("Metadata"))
        if md is not None and md.find(qname("LastChange")) is not None:
            md.find(qname("LastChange")).text = entry["at"].replace("Z", "+00:00")
        atomic.write_bytes(p.xml, etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
        p.mtime = -1.0
        try:
            derived.update(p.run_dir, p.page_id, p.xml, entry["line"], entry["text"], lambda: self._image_path(p),
                           p.frame)
        except (OSError, etree.LxmlError, MemoOcrError) as e:  # the correction is saved (PAGE, journal) all the same
            print(f"memo-ocr review: {p.page_id}: the .txt, ALTO or hOCR of the page could not be updated: {e}",
                  file=sys.stderr)

    def replay(self, reel: str) -> int:
        """Apply journal entries the XML misses (a crash between the two writes); returns how many. An entry
        that cannot be applied (malformed, or text XML cannot carry, from an older version) is skipped with a
        warning on stderr: the app still starts, and the entry stays in the journal for the record."""
        latest: dict[tuple[str, str], dict] = {}
        for e in self._journal(reel):
            ok = (isinstance(e, dict) and isinstance(e.get("page"), str) and isinstance(e.get("line"), str)
                  and isinstance(e.get("text"), str) and isinstance(e.get("rev"), int) and not not_xml(e["text"])
                  and e.get("status") in STATUSES)
            if not ok:
                print(f"memo-ocr review: {reel}: skipped a journal entry that cannot be applied: "
                      f"{json.dumps(e, ensure_ascii=True)[:200]}", file=sys.stderr)
                continue
            latest[(e["page"], e["line"])] = e
        n = 0
        for (page, line), e in latest.items():
            p = self._pages.get((reel, page))
            if p is None:
                continue
            try:
                it = self.item(reel, page, line)
            except ReviewError:
                continue
            if it.rev != e["rev"]:
                self._apply(p, e)
                n += 1
        return n
