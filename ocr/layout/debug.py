"""The layout debug image: the page with its regions outlined by kind."""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..model import Graphic, Region


def debug_image(image: np.ndarray, regions: list[Region], graphics: list[Graphic]) -> np.ndarray:
    """The page with regions outlined by kind: blue typed, red handwriting, violet stamps, grey rejected."""
    img = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    t = max(2, int(math.ceil(img.shape[1] / 800)))
    for r in regions:
        colour = (200, 80, 0) if r.production == "typewritten" and r.kept else \
            (0, 0, 220) if (r.production or "").startswith("handwritten") else (150, 150, 150)
        cv2.polylines(img, [np.array(r.polygon, np.int32)], True, colour, t)
    for g in graphics:
        cv2.polylines(img, [np.array(g.polygon, np.int32)], True, (180, 40, 160), t + 1)
    return img
