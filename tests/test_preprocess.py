import cv2
import numpy as np
import pytest

from ocr.config import PreprocessConfig
from ocr.preprocess import (
    SPECKLE_MAX_AREA,
    TARGET_XHEIGHT,
    estimate_xheight,
    find_border,
    measure_skew,
    otsu_ink,
    preprocess,
    remove_punch_holes,
    remove_speckles,
    sauvola,
)

from .conftest import RUSSIAN_LINES, render_page

CFG = PreprocessConfig()


@pytest.mark.parametrize("angle", [-3.0, -1.2, 0.7, 2.5])
def test_deskew_measures_rendered_angle(angle):
    page = render_page(RUSSIAN_LINES * 2, angle=angle, spacing=1.5)
    measured, applied, note = measure_skew(otsu_ink(page), 5.0, 5, 1.5)
    assert measured == pytest.approx(angle, abs=0.15), note
    assert applied == measured


def test_deskew_straightens_the_page():
    page = render_page(RUSSIAN_LINES * 2, angle=2.0, spacing=1.5)
    pp = preprocess(page, CFG)
    assert pp.skew_applied == pytest.approx(2.0, abs=0.15)
    again, _, _ = measure_skew(otsu_ink(pp.grey), 5.0, 5, 1.5)
    assert abs(again) <= 0.15


def test_blank_and_sparse_pages_get_no_correction():
    blank = np.full((1500, 1000), 250, np.uint8)
    measured, applied, note = measure_skew(otsu_ink(blank), 5.0, 5, 1.5)
    assert applied == 0.0 and "not corrected" in note or "too little ink" in note
    two_lines = render_page(RUSSIAN_LINES[:2], angle=3.0)
    _, applied, note = measure_skew(otsu_ink(two_lines), 5.0, 5, 1.5)
    assert applied == 0.0 and "text rows" in note


def test_a_dark_edge_left_in_the_page_does_not_stop_the_deskew():
    # a dark band along the page's foot (a scanner edge the border crop left) makes one peak of the profile
    # that dwarfs the text rows: the skew is measured again on letter-sized ink
    page = render_page(RUSSIAN_LINES * 2, angle=2.0, spacing=1.5)
    h, w = page.shape[:2]
    page[h - 120:h - 40, 40:w - 40] = 15
    _, applied, note = measure_skew(otsu_ink(page), 5.0, 5, 1.5)
    assert applied == 0.0 and "text rows" in note  # all the ink: refused
    pp = preprocess(page, PreprocessConfig(crop_border=False))
    assert pp.skew_applied == pytest.approx(2.0, abs=0.15) and "letter-sized ink only" in pp.skew_note


def test_user_angle_overrides_measurement():
    page = render_page(RUSSIAN_LINES, angle=2.0)
    pp = preprocess(page, CFG, skew_override=-1.0)
    assert pp.skew_applied == -1.0 and pp.skew_measured is None and "given by user" in pp.skew_note


def test_border_is_cropped_and_coordinates_map_back():
    page = render_page(RUSSIAN_LINES[:6], size=(1000, 1200), margin=120)
    framed = np.full((1200 + 160, 1000 + 100), 15, np.uint8)  # dark microfilm frame
    framed[100:1300, 40:1040] = page
    x0, y0, x1, y1 = find_border(framed, 90)
    assert 40 <= x0 <= 52 and 100 <= y0 <= 112 and 1028 <= x1 <= 1040 and 1288 <= y1 <= 1300
    pp = preprocess(framed, CFG)
    assert pp.border == (x0, y0, x1, y1)
    # a point of the processed image maps to where it came from in the original
    pts = pp.map_points(np.array([[0, 0], [pp.grey.shape[1] - 1, pp.grey.shape[0] - 1]]))
    assert abs(pts[0][0] - x0) <= 2 and abs(pts[0][1] - y0) <= 2
    assert abs(pts[1][0] - (x1 - 1)) <= 3 and abs(pts[1][1] - (y1 - 1)) <= 3


def test_rescale_upsamples_small_text_only():
    small = render_page(RUSSIAN_LINES, size=(850, 1100), font_px=16, margin=60)
    pp = preprocess(small, CFG)
    assert pp.scale > 1.5 and pp.xheight == pytest.approx(TARGET_XHEIGHT, rel=0.35)
    big = render_page(RUSSIAN_LINES, font_px=44)
    assert preprocess(big, CFG).scale == 1.0


def test_a_stained_grainy_page_is_not_upscaled_for_its_specks():
    page = render_page(RUSSIAN_LINES, font_px=44).astype(np.float32)
    h, w = page.shape
    yy, xx = np.mgrid[0:h, 0:w]
    stain = np.exp(-(((xx - 0.3 * w) / (0.35 * w)) ** 2 + ((yy - 0.35 * h) / (0.3 * h)) ** 2))  # a dark blotch
    rng = np.random.default_rng(5)
    page = np.clip(page - 110 * stain + rng.normal(0, 28, page.shape), 0, 255).astype(np.uint8)
    ink = otsu_ink(page)
    assert ink[::4, ::4].mean() < 0.25  # Otsu's threshold is kept: its ink is mostly the stain's grain ...
    assert estimate_xheight(ink) < TARGET_XHEIGHT / 2  # ... whose specks would ask for a threefold upscale
    pp = preprocess(page, CFG)
    assert pp.scale == 1.0 and pp.xheight > TARGET_XHEIGHT
    clean = render_page(RUSSIAN_LINES, size=(850, 1100), font_px=16, margin=60, noise=8.0)
    assert preprocess(clean, CFG).scale > 1.5  # small type is upscaled, grain or not


def test_punch_holes_erased_from_the_recognised_image():
    page = render_page(RUSSIAN_LINES, margin=200, size=(850, 1100), font_px=16)
    cv2.circle(page, (40, 500), 25, 0, -1)
    pp = preprocess(page, CFG)
    assert pp.removed["punch_hole_px"] > 0
    cx, cy = pp.map_points(np.array([[0, 0]]))[0]  # processed origin in the original
    s = pp.scale
    y, x = int((500 - cy) * s), int((40 - cx) * s)
    assert pp.image[y - 5:y + 5, x - 5:x + 5].min() > 150  # paper where the hole was


def test_punch_holes_removed_text_kept():
    page = render_page(RUSSIAN_LINES, margin=200)
    cv2.circle(page, (60, 700), 45, 0, -1)  # a solid hole
    cv2.circle(page, (60, 1500), 45, 40, 6)  # a ring
    binary = sauvola(page, 31, 0.2)
    xh = estimate_xheight(otsu_ink(page))
    mask = remove_punch_holes(binary, xh)
    assert mask[700, 60] and mask[1500 - 43, 60]
    assert not mask[200:, 190:].any()  # no letter touched


def test_speckles_removed_full_stops_kept():
    page = render_page(["Точка. Запятая, конец."], size=(900, 200), font_px=34, margin=30)
    rng = np.random.default_rng(3)
    for _ in range(60):
        y, x = rng.integers(100, 190), rng.integers(10, 890)
        page[y, x] = 0
    binary = sauvola(page, 31, 0.2)
    xh = estimate_xheight(otsu_ink(page))
    mask = remove_speckles(binary, int(SPECKLE_MAX_AREA * xh * xh), int(0.5 * xh))
    n_before = cv2.connectedComponents((binary == 0).astype(np.uint8))[0]
    binary[mask] = 255
    n_after = cv2.connectedComponents((binary == 0).astype(np.uint8))[0]
    assert n_before - n_after >= 55
    # the full stops and commas of the text line survive
    assert (binary[30:80] == 0).sum() == ((sauvola(page, 31, 0.2)[30:80]) == 0).sum()


def test_colour_ink_dropped_from_grey():
    page = cv2.cvtColor(render_page(RUSSIAN_LINES[:3], size=(1200, 600), margin=60), cv2.COLOR_GRAY2BGR)
    cv2.line(page, (50, 500), (1100, 500), (200, 40, 40), 6)  # blue pencil underline (BGR)
    pp = preprocess(page, PreprocessConfig(recognize_on="binary"))
    row = pp.binary.shape[0] * 500 // 600
    assert (pp.binary[row - 3:row + 4] == 0).sum() < 50
    off = preprocess(page, PreprocessConfig(grayscale=False, recognize_on="binary"))
    assert (off.binary[row - 3:row + 4] == 0).sum() > 1000


def test_sauvola_matches_reference_formula():
    rng = np.random.default_rng(0)
    g = rng.integers(0, 256, (60, 80)).astype(np.uint8)
    b = sauvola(g, 15, 0.2)
    y, x = 30, 40
    win = g[y - 7:y + 8, x - 7:x + 8].astype(np.float64)
    thr = win.mean() * (1 + 0.2 * (win.std() / 128 - 1))
    assert (b[y, x] == 255) == (g[y, x] > thr)
