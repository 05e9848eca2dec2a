"""Synthetic scanned Soviet memos with exact ground truth (``memo-ocr synth``)."""
