"""memo-ocr: re-process scanned archival memos into PAGE XML, ALTO and text, and measure accuracy."""

__version__ = "0.1.0"
