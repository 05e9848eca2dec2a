import cv2
import numpy as np
import pytest
from PIL import Image

from ocr.errors import InputError
from ocr.loader import PageRef, expand_inputs, load_image

from .conftest import render_page


def test_png_jpeg_and_multipage_tiff_ids(tmp_path):
    page = render_page(["abc"], size=(300, 200), font_px=20, margin=20)
    cv2.imwrite(str(tmp_path / "a.png"), page)
    cv2.imwrite(str(tmp_path / "b.jpg"), page)
    frames = [Image.fromarray(page), Image.fromarray(255 - page), Image.fromarray(page)]
    frames[0].save(tmp_path / "reel.tif", save_all=True, append_images=frames[1:])
    (tmp_path / "notes.xml").write_text("<x/>")  # not an image: not taken from a folder
    refs = expand_inputs([tmp_path])
    assert [r.page_id for r in refs] == ["a", "b", "reel_0001", "reel_0002", "reel_0003"]
    second = load_image(refs[3])
    assert second.shape == (200, 300) and second.dtype == np.uint8
    assert abs(float(second.mean()) - float(255 - page.mean())) < 1


def test_colour_and_alpha_become_bgr(tmp_path):
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., 0] = 255  # red, fully transparent: composited on white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    arr = load_image(PageRef("t", tmp_path / "t.png"))
    assert arr.shape == (20, 30, 3) and (arr == 255).all()


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("empty.png", b"", "empty file"),
        ("text.png", b"this is not an image at all", "not a supported image format"),
        ("tiny.png", None, "image too small"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, name, content, message):
    p = tmp_path / name
    if content is None:
        cv2.imwrite(str(p), np.zeros((4, 4), np.uint8))
    else:
        p.write_bytes(content)
    with pytest.raises(InputError) as e:
        load_image(PageRef("x", p))
    assert message in str(e.value) and str(p) in str(e.value) and "\n" not in str(e.value)


def test_truncated_jpeg_and_png(tmp_path):
    page = render_page(["truncated"], size=(400, 300), font_px=20, margin=20, noise=20)
    for ext in ("jpg", "png"):
        full = tmp_path / f"full.{ext}"
        cv2.imwrite(str(full), page)
        cut = tmp_path / f"cut.{ext}"
        cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
        with pytest.raises(InputError, match="corrupt or truncated"):
            load_image(PageRef("cut", cut))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_image(PageRef("x", tmp_path / "nope.png"))
    with pytest.raises(InputError, match="is a folder"):
        load_image(PageRef("x", tmp_path))


def test_pdf_pages(tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    page = Image.fromarray(render_page(["pdf page"], size=(600, 800), font_px=30, margin=40))
    page.save(tmp_path / "doc.pdf", save_all=True, append_images=[page], resolution=100)
    refs = expand_inputs([tmp_path / "doc.pdf"])
    assert [r.page_id for r in refs] == ["doc_0001", "doc_0002"]
    arr = load_image(refs[1])
    assert arr.ndim in (2, 3) and min(arr.shape[:2]) > 100
    assert pdfium  # imported


def test_broken_pdf(tmp_path):
    pytest.importorskip("pypdfium2")
    p = tmp_path / "bad.pdf"
    p.write_bytes(b"%PDF-1.4\nnot really")
    with pytest.raises(InputError, match="cannot render PDF page"):
        load_image(expand_inputs([p])[0])


def test_duplicate_stems_get_distinct_ids(tmp_path):
    for d in ("r1", "r2"):
        (tmp_path / d).mkdir()
        cv2.imwrite(str(tmp_path / d / "p.png"), np.full((20, 20), 255, np.uint8))
    ids = [r.page_id for r in expand_inputs([tmp_path])]
    assert len(set(ids)) == 2
