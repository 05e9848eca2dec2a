"""Typed errors: each carries an exit code and a one-line message for the user."""
from __future__ import annotations

import sys


class MemoOcrError(Exception):
    """Base of every error a user can cause; ``str(err)`` is one line."""

    exit_code = 2

    def __str__(self) -> str:  # keep the user-facing message on one line
        return " ".join(super().__str__().split())


class ConfigError(MemoOcrError):
    """A configuration file with an unknown key or a bad value."""

    exit_code = 3


class InputError(MemoOcrError):
    """An input that cannot be read as an image: corrupt, truncated, empty, wrong format."""

    exit_code = 4


class EngineError(MemoOcrError):
    """An OCR engine that is missing, misconfigured or failed on a page."""

    exit_code = 5


class LanguageMissingError(EngineError):
    """A Tesseract language pack that is not installed."""


class GroundTruthError(MemoOcrError):
    """A ground-truth or hypothesis file that cannot be parsed."""

    exit_code = 6


def exit_with(err: MemoOcrError) -> None:
    """The command line's end on an error: one line on stderr, the error's exit status."""
    print(f"memo-ocr: error: {err}", file=sys.stderr)
    sys.exit(err.exit_code)
