"""Fake engines for the reel tests, loaded by workers as plugins ("tests.fakes:HangEngine").

Each misbehaves only on a page whose image is mostly dark (the tests make one such page),
and finds nothing on the others.
"""
import os
import signal
import time

import numpy as np


class _Fake:
    name = "fake"
    version = "0"
    reads_text = False  # finds nothing on purpose: the page guard leaves it alone

    def __init__(self, cfg):
        self.cfg = cfg

    def recognize(self, image: np.ndarray):
        if float(image.mean()) < 100:
            self.misbehave()
        return []


class HangEngine(_Fake):
    def misbehave(self):
        time.sleep(120)


class CrashEngine(_Fake):
    def misbehave(self):
        os.kill(os.getpid(), signal.SIGKILL)


class MemoryEngine(_Fake):
    def misbehave(self):
        bytearray(6 * 1024 ** 3)  # beyond the worker's address-space limit


def _rows(image: np.ndarray, conf: float, text: str):
    """One line per row of ink on the page, read as ``text`` at ``conf`` (boxes where the ink is)."""
    from ocr.engines.base import RawLine, RawWord

    ink = (image < 128).any(axis=1)
    lines, y = [], 0
    while y < len(ink):
        if ink[y]:
            y0 = y
            while y < len(ink) and ink[y]:
                y += 1
            cols = np.nonzero((image[y0:y] < 128).any(axis=0))[0]
            box = (int(cols[0]), y0, int(cols[-1]) + 1, y)
            lines.append(RawLine((RawWord(text, conf, box),), box))
        y += 1
    return [lines] if lines else []


class GarbleEngine(_Fake):
    """Reads every row of ink as an unsure scrap: a page whose reading collapsed."""

    reads_text = True

    def recognize(self, image: np.ndarray):
        return _rows(image, 0.12, "ee")


class RescaleBreaksEngine(_Fake):
    """Reads rows surely on an image of the original's size (the plain route), as scraps on a rescaled one."""

    width = 1700
    reads_text = True

    def recognize(self, image: np.ndarray):
        if image.shape[1] == self.width:
            return _rows(image, 0.93, "typed words here")
        return _rows(image, 0.12, "ee")


class SlowEngine(_Fake):
    """Takes two seconds a page and finds nothing: a run that is still busy when it is killed."""

    def recognize(self, image: np.ndarray):
        time.sleep(2.0)
        return []
