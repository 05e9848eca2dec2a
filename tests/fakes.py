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
