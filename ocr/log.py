"""Messages on stderr: one logger, ``memo_ocr``, at the level ``-q`` / ``-v`` / ``-vv`` choose.

Levels: ERROR (``-q``: errors only, no progress bar, no summary); NOTICE (the default: warnings,
pages that failed or are suspect, a command's summary); INFO (``-v``: a line per page); DEBUG
(``-vv``: each page's stage timings, and the libraries' own messages, kraken's included).
Used as a library (no command line), the logger has no handler of its own and Python's last-resort
handler shows warnings and errors.
"""
from __future__ import annotations

import logging
import sys
import warnings

LOG = logging.getLogger("memo_ocr")
NOTICE = 25  # between INFO and WARNING: what a command says by default about what it did
logging.addLevelName(NOTICE, "NOTICE")

LEVELS = {-1: logging.ERROR, 0: NOTICE, 1: logging.INFO}


class _Handler(logging.Handler):
    """One line on stderr, above any progress bar (tqdm redraws it below)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must not raise
            self.handleError(record)


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        who = "memo-ocr" if record.name.startswith(LOG.name) else f"memo-ocr: {record.name}"
        return f"{who}: {record.getMessage()}"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Python warnings (an old configuration key, ...) as one line each, not a file:line dump."""
    LOG.warning("warning: %s", message)


_HANDLER = _Handler()
_HANDLER.setFormatter(_Formatter())


def setup(verbosity: int) -> None:
    """Set the level: -1 quiet, 0 default, 1 verbose, 2 or more debug."""
    level = LEVELS.get(verbosity, logging.DEBUG)
    root = logging.getLogger()
    if _HANDLER not in root.handlers:
        root.addHandler(_HANDLER)
    root.setLevel(max(level, logging.WARNING) if level > logging.DEBUG else logging.DEBUG)  # libraries' chatter: -vv
    LOG.setLevel(level)
    warnings.showwarning = _show_warning


def quiet() -> bool:
    return not LOG.isEnabledFor(NOTICE)


def debug() -> bool:
    return LOG.isEnabledFor(logging.DEBUG)
