"""What a run records: each page's outcome (run.json) and the run's summary."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..formats import atomic
from ..formats.mets import to_mets
from ..loader import PageRef


@dataclass
class PageOutcome:
    """What run.json records of one page."""

    page_id: str
    source: str
    frame: int | None
    status: str = "ok"
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """The error less the page's path that begins it (every page error names its file first): what the
        run's failures are counted by."""
        return self.error.removeprefix(f"{self.source}: ")

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id, "source": self.source, "frame": self.frame, "status": self.status,
            "error": self.error, "timings": {k: round(v, 3) for k, v in self.timings.items()},
            **self.info, "outputs": self.outputs,
        }


# --- reel side -------------------------------------------------------------------
INTERRUPTED = "interrupted (SIGINT or SIGTERM): the pages in flight are done again when the same command runs again"


@dataclass
class RunReport:
    out_dir: Path
    pages: list[PageOutcome]
    started: str
    seconds: float
    meta: dict[str, Any]
    stopped: str = ""  # why the run stopped early ([run] on_error / max_failure_ratio), if it did
    earlier: dict[str, dict] = field(default_factory=dict)  # pages of OUT that earlier runs did, not this one

    @property
    def failed(self) -> list[PageOutcome]:
        return [p for p in self.pages if p.status not in ("ok", "suspect")]

    @property
    def suspect(self) -> list[PageOutcome]:
        """Pages written whose reading the page guard found implausible (``ocr.guard``)."""
        return [p for p in self.pages if p.status == "suspect"]

    def to_dict(self) -> dict[str, Any]:
        done = [p for p in self.pages if p.status in ("ok", "suspect") and not p.info.get("skipped")]
        skipped = [p for p in self.pages if p.info.get("skipped")]
        reasons: dict[str, int] = {}
        for p in self.failed:
            reasons[p.reason] = reasons.get(p.reason, 0) + 1
        return {
            **self.meta,
            "started": self.started,
            "summary": {
                "pages": len(self.pages), "ok": len(self.pages) - len(self.failed) - len(self.suspect),
                "suspect": len(self.suspect), "failed": len(self.failed),
                "engine_errors": sum(p.info.get("engine_errors", 0) for p in self.pages),
                "rejected_lines": sum(p.info.get("rejected_lines", 0) for p in self.pages),
                "rejected_chars": sum(p.info.get("rejected_chars", 0) for p in self.pages),
                "done_now": len(done), "skipped": len(skipped), "failure_reasons": reasons,
                "stopped": self.stopped or None,
                "seconds": round(self.seconds, 2),
                "pages_per_minute": round(60 * len(done) / self.seconds, 2) if self.seconds > 0 and done else None,
            },
            "pages": [p.to_dict() for p in sorted(self.pages, key=lambda p: p.page_id)],
            # run.json describes the whole OUT: pages earlier runs wrote there and this one was not given
            "earlier_pages": [self.earlier[k] for k in sorted(self.earlier)],
        }

    def save(self, final: bool = False) -> None:
        """Write run.json; ``final`` (the run's end, or its interruption) also OUT/mets.xml, which lists every
        page of OUT that has files (``formats.mets``)."""
        data = self.to_dict()
        atomic.write_text(self.out_dir / "run.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        if final:
            atomic.write_bytes(self.out_dir / "mets.xml",
                               to_mets(self.out_dir, data["pages"] + data["earlier_pages"], f"memo-ocr {__version__}"))


def outcome_from_ledger(ref: PageRef, record: dict) -> PageOutcome:
    known = {"page_id", "source", "frame", "status", "error", "timings", "outputs"}
    o = PageOutcome(ref.page_id, str(ref.path), ref.frame, record.get("status", "ok"), record.get("error", ""),
                    dict(record.get("timings", {})), {k: v for k, v in record.items() if k not in known},
                    list(record.get("outputs", [])))
    o.info["skipped"] = True
    return o
