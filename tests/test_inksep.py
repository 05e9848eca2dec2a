"""The ink separation network (ocr/layout/inksep.py): its file checks, what the committed weights tell apart on an
unseen synthetic page, and how the layout stage uses it (signatures across stamps, notes read as type)."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from ocr.config import Config
from ocr.engines.base import NullEngine
from ocr.errors import EngineError
from ocr.layout import inksep, typed_or_hand
from ocr.layout.candidates import FEATURES, Candidate
from ocr.layout.hand_ink import hand_across, hand_only, hand_share
from ocr.layout.stamps import suppress
from ocr.layout.typed_or_hand import UNSURE_LINE, inked_lines, unsure_inked
from ocr.model import Line, Region, Word, bbox
from ocr.train.layout import iou, read_gt_layout

from .conftest import needs_tesseract


def test_the_ink_model_file_is_checked_without_pytorch_and_errors_name_the_file(tmp_path):
    meta = inksep.check(None)
    assert meta["network"] == inksep.NETWORK and "train-inksep" in meta["command"]
    with pytest.raises(EngineError, match="nope.safetensors: ink separation model file not found"):
        inksep.check(tmp_path / "nope.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\xff" * 64)
    with pytest.raises(EngineError, match="junk.safetensors: not an ink separation model"):
        inksep.check(junk)
    other = tmp_path / "other.safetensors"  # a safetensors file of something else (a kraken model, say)
    head = json.dumps({"__metadata__": {"format": "pt"}}).encode()
    other.write_bytes(len(head).to_bytes(8, "little") + head)
    with pytest.raises(EngineError, match="other.safetensors: not an ink separation model of this version"):
        inksep.check(other)
    with pytest.raises(EngineError, match="junk.safetensors"):
        inksep.InkSeparator(junk)
    code = "import sys; from ocr.layout import inksep; inksep.check(None); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


@needs_tesseract
def test_a_run_with_a_missing_ink_model_fails_its_pages_with_the_reason(tmp_path, page_png):
    from ocr.batch.runner import run_reel
    from ocr.loader import expand_inputs

    cfg = Config().replace("layout", ink_model=str(tmp_path / "gone.safetensors"))
    report = run_reel(expand_inputs([page_png]), tmp_path / "out", cfg, workers=1, progress=False)
    rec = json.loads((tmp_path / "out" / "run.json").read_text())
    assert "gone.safetensors: ink separation model file not found" in rec["engine_error"]
    assert [p.status for p in report.pages] == ["failed"] and "gone.safetensors" in report.pages[0].error
    # switched off, the file is not needed
    cfg = cfg.replace("layout", separate_ink=False)
    assert [p.status for p in run_reel(expand_inputs([page_png]), tmp_path / "out2", cfg, workers=1,
                                       progress=False).pages] == ["ok"]


def test_the_committed_network_tells_handwriting_stamp_and_type_apart_on_an_unseen_page():
    from ocr.train.inksep import page_samples

    x, y = page_samples(4242, 3)  # seed 1000 made the training pages
    sep = inksep.load()
    pred = np.stack([sep.forward(sample).argmax(0) for sample in x])
    ink = y > 0
    assert (pred[ink] == y[ink]).mean() >= 0.85
    for cls in (2, 3):  # stamp, handwriting: recall and precision over the ink
        assert (pred[y == cls] == cls).mean() >= 0.8, inksep.CLASSES[cls]
        assert (y[(pred == cls) & ink] == cls).mean() >= 0.8, inksep.CLASSES[cls]


def _page(seed: int, index: int, tmp_path):
    from ocr.synth.reel import make_page
    from ocr.synth.scan import ScanSettings

    jpg, xml, _, _ = make_page("p", seed, index, ScanSettings(), False)
    (tmp_path / "p.jpg").write_bytes(jpg)
    (tmp_path / "gt.page.xml").write_bytes(xml)
    return cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_UNCHANGED), read_gt_layout(tmp_path / "gt.page.xml")


def test_a_signature_written_across_a_stamp_ring_is_found_by_its_ink(tmp_path):
    # seed 13000's memo-0011: "Г. Яковлев" written over the top of a round stamp, on a grey scan
    image, gt = _page(13000, 10, tmp_path)
    stamp = next(s for s in gt.stamp if s[1] > 1500)
    signature = next(h for h in gt.handwritten if iou(h, stamp) > 0.05)
    ring = (stamp[0] - 3, stamp[1] - 3, stamp[2] + 4, stamp[3] + 4)
    found = hand_across(image, [(ring, True)], 23.0, None, inksep.load())  # the page's x-height
    assert any(iou(c.box, signature) >= 0.5 and c.inked[1] == ring and c.kind == "handwritten" for c in found)
    assert all(iou(c.box, stamp) < 0.5 for c in found)  # the stamp's own lettering is not handwriting


@needs_tesseract
def test_a_page_with_a_signature_across_a_stamp_gets_both_regions(tmp_path):
    pytest.importorskip("pymorphy3")
    from ocr.engines import get_engine
    from ocr.loader import PageRef
    from ocr.page import recognize_page

    _, gt = _page(13000, 10, tmp_path)
    stamp = next(s for s in gt.stamp if s[1] > 1500)
    signature = next(h for h in gt.handwritten if iou(h, stamp) > 0.05)
    cfg = Config()
    page = recognize_page(PageRef("p", tmp_path / "p.jpg"), cfg, get_engine("tesseract", cfg))
    pred = read_gt_layout_from(page, tmp_path)
    assert any(iou(h, signature) >= 0.5 for h in pred.handwritten)
    assert any(iou(s, stamp) >= 0.5 for s in pred.stamp)


def read_gt_layout_from(page, tmp_path):
    from ocr.formats.pagexml import to_pagexml

    (tmp_path / "hyp.page.xml").write_bytes(to_pagexml(page, "test"))
    return read_gt_layout(tmp_path / "hyp.page.xml")


def _line(i, x0, words, y0=300):
    ws = tuple(Word(w, 0.9, ((x0 + 150 * k, y0), (x0 + 150 * k + 120, y0), (x0 + 150 * k + 120, y0 + 40),
                             (x0 + 150 * k, y0 + 40))) for k, w in enumerate(words))
    x1 = x0 + 150 * len(words)
    return Line(f"l{i}", " ".join(words), ((x0, y0), (x1, y0), (x1, y0 + 40), (x0, y0 + 40)), (), 0.9, ws)


def test_a_one_line_region_of_a_few_words_all_in_handwritten_ink_is_shown_to_the_classifier(monkeypatch):
    page = np.full((1000, 2000), 255, np.uint8)
    hand_x = 1000  # the fake network: ink left of this is handwriting
    shares = []

    def fake_share(image, boxes, separator, pad=16, within=None):
        out = [1.0 if b[2] <= hand_x else 0.0 for b in boxes]
        shares.append(len(boxes))
        # each word is seen in its line's crop: one network pass a line, not a word
        assert within is not None and all(w[0] <= b[0] and b[2] <= w[2] for b, w in zip(boxes, within, strict=True))
        return out

    monkeypatch.setattr(typed_or_hand, "hand_share", fake_share)
    note = Region("r1", (), (_line(1, 100, ["Прошу", "подготовить", "ответ"]),))
    typed = Region("r2", (), (_line(2, 1200, ["Согласен"]),))
    mixed = Region("r3", (), (_line(3, 700, ["Ф.", "(И.", "Петров)"]),))  # a typed name that took in a signature
    block = Region("r4", (), (_line(4, 100, ["два"], 500), _line(5, 100, ["строки"], 560)))
    long_ = Region("r5", (), (_line(6, 100, ["a", "b", "c", "d", "e"], 700),))
    got = inked_lines(page, [note, typed, mixed, block, long_], lambda: None)
    assert got == {"l1"}
    assert inked_lines(page, [block, long_], lambda: pytest.fail("no line: the network is not loaded")) == set()
    assert shares == [3 + 1 + 3]  # one call, for the words of the three one-line regions of at most 4 words


def test_the_words_of_a_line_seen_in_one_crop_share_one_network_pass_and_keep_their_own_shares():
    page = np.full((400, 1200), 255, np.uint8)
    cv2.putText(page, "left", (100, 200), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 5)
    cv2.putText(page, "right", (700, 200), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 5)

    class Separator:  # calls the left half of the page handwriting, whatever the crop
        def __init__(self):
            self.crops = []

        def probs(self, crop):
            self.crops.append(crop.shape)
            return np.zeros((4, *crop.shape[:2]), np.float32)

    words, line = [(90, 140, 260, 215), (690, 140, 920, 215)], (90, 140, 920, 215)
    alone, together = Separator(), Separator()
    assert hand_share(page, words, alone) == [0.0, 0.0] and len(alone.crops) == 2
    assert hand_share(page, words, together, within=[line, line]) == [0.0, 0.0] and len(together.crops) == 1
    assert together.crops[0][1] > max(c[1] for c in alone.crops)  # the line's crop, wider than a word's

    class Hand(Separator):
        def probs(self, crop):
            self.crops.append(crop.shape)
            return np.ones((4, *crop.shape[:2]), np.float32)

    assert hand_share(page, words, Hand(), within=[line, line]) == [1.0, 1.0]
    assert hand_share(page, [(300, 300, 400, 350)], Hand(), within=[line]) == [0.0]  # no ink: no share


def test_suppress_keeps_a_signature_found_across_a_stamp_and_gives_the_stamp_its_outline():
    feats = np.zeros(len(FEATURES), np.float32)
    ring = (1000, 1000, 1400, 1400)
    group = (1000, 950, 1700, 1400)  # the stamp's ink grouped with the signature's
    stamp = Candidate(group, feats, "stamp", 0.95)
    inked = Candidate((1100, 950, 1700, 1080), feats, "handwritten", 0.9, inked=(0.9, ring))
    part = Candidate((1420, 960, 1700, 1070), feats, "handwritten", 0.95)  # its part outside the ring
    other = Candidate((200, 200, 500, 300), feats, "handwritten", 0.97)
    out = suppress([part, stamp, other, inked])
    assert sorted((c.kind, c.box) for c in out) == [("handwritten", (200, 200, 500, 300)),
                                                   ("handwritten", (1100, 950, 1700, 1080)), ("stamp", ring)]
    # a handwriting candidate holding most of the one found across the stamp: the region grows to both
    wider = Candidate((1050, 940, 1750, 1075), feats, "handwritten", 0.99)
    out = suppress([stamp, inked, wider])
    assert sorted((c.kind, c.box) for c in out) == [("handwritten", (1050, 940, 1750, 1080)), ("stamp", ring)]


def test_inference_needs_no_pytorch_and_gives_what_the_pytorch_network_gives():
    # NumPy's forward pass: a page never imports PyTorch for it (seconds and ~450 MB per worker); the training
    # network (PyTorch) with the same weights gives the same probabilities
    code = ("import sys, numpy as np\n"
            "from ocr.layout import inksep\n"
            "from ocr.train.inksep import page_samples\n"
            "x, y = page_samples(4242, 1)\n"
            "pred = np.stack([inksep.load().forward(s).argmax(0) for s in x])\n"
            "print('torch' in sys.modules, (pred[y > 0] == y[y > 0]).mean())\n")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "False" and float(out[1]) >= 0.85
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    from ocr.train.inksep import page_samples

    net = inksep.build_net()
    net.load_state_dict(load_file(str(inksep.DEFAULT_MODEL)))
    net.eval()
    x, _ = page_samples(4243, 1)
    with torch.inference_mode():
        want = torch.softmax(net(torch.from_numpy(x[:4])), dim=1).numpy()
    got = np.stack([inksep.load().forward(s) for s in x[:4]])
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-3
    odd = np.random.default_rng(0).random((inksep.CHANNELS, 37, 51), dtype=np.float32)  # odd sizes: stride 2
    with torch.inference_mode():
        want = torch.softmax(net(torch.from_numpy(odd)[None]), dim=1)[0].numpy()
    assert np.abs(inksep.load().forward(odd) - want).max() < 1e-3


def test_training_uses_no_more_threads_than_the_thread_limit(tmp_path):
    # asked for 2 threads under OMP_THREAD_LIMIT=1 (common advice for Tesseract), it trains with 1 and says so
    pytest.importorskip("torch")
    code = ("import numpy as np, torch\n"
            "from ocr.layout import inksep\n"
            "from ocr.train.inksep import train\n"
            "rng = np.random.default_rng(0)\n"
            "x = rng.random((20, inksep.CHANNELS, 32, 32), dtype=np.float32)\n"
            "y = rng.integers(0, 4, (20, 32, 32))\n"
            f"train(x, y, __import__('pathlib').Path({str(tmp_path / 'net.safetensors')!r}), steps=2, seed=0, "
            "batch=4, threads=2)\n"
            "print('threads', torch.get_num_threads())\n")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    # without the cap the two training steps did not end in 10 minutes (one thread spinning): hence a timeout
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         timeout=300).stdout
    assert "2 threads asked for, 1 used" in out and out.split()[-1] == "1"


def test_a_typed_line_read_unsurely_whose_ink_is_handwriting_is_shown_to_the_classifier(monkeypatch):
    page = np.full((1000, 2000), 255, np.uint8)
    seen = []

    def fake_share(image, boxes, separator, pad=16, within=None):
        seen.append(list(boxes))
        return [1.0 if b[0] < 1000 else 0.2 for b in boxes]  # the fake network: ink left of x 1000 is a hand's

    monkeypatch.setattr(typed_or_hand, "hand_share", fake_share)

    def line(i, x0, conf, y0=300):
        ln = _line(i, x0, ["Я", "Ио", "иво", "7727"], y0)
        return dataclasses.replace(ln, conf=conf)

    garbage = line(1, 100, UNSURE_LINE - 0.1)  # a note's line read as garbage type in a typed block
    sure = line(2, 100, UNSURE_LINE + 0.1, 400)  # read surely enough: type, whatever its ink
    faint = line(3, 1200, 0.2, 500)  # a faint typed line: unsure, but its ink is type
    block = Region("r1", (), (garbage, sure, faint))
    rejected = Region("r2", (), (line(4, 100, 0.1, 700),), kept=False)  # set aside already
    assert unsure_inked(page, [block, rejected], lambda: None) == {"l1"}
    assert seen == [[bbox(garbage.polygon), bbox(faint.polygon)]]
    assert unsure_inked(page, [Region("r3", (), (sure,))], lambda: pytest.fail("no unsure line: not loaded")) == set()
    # a line already shown to the layout stage (a lone line, say) is not looked at again
    assert unsure_inked(page, [block], lambda: pytest.fail("nothing left to look at"), {"l1", "l3"}) == set()


def test_a_note_over_a_stamp_is_read_without_the_ink_the_network_calls_no_hands():
    rng = np.random.default_rng(7)
    grey = np.clip(rng.normal(235, 4, (400, 1200)), 0, 255).astype(np.uint8)
    cv2.putText(grey, "hand", (100, 200), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 30, 5)
    cv2.putText(grey, "stamp", (700, 200), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 30, 5)
    cv2.putText(grey, "away", (700, 350), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 30, 5)  # outside the note's box
    image = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)

    class Separator:  # calls ink left of the page's x 600 a hand's, the rest a stamp's
        def probs(self, small):
            p = np.zeros((4, *small.shape[:2]), np.float32)
            left = int(round((600 - 80 + 8) * 0.5))  # the crop starts 8 pixels before x 80, at half resolution
            p[3, :, :left], p[2, :, left:] = 1.0, 1.0
            return p

    out = hand_only(image, grey, (80, 120, 1000, 230), Separator())
    assert out is not grey and (grey < 128)[:, :600].sum() == (out < 128)[:, :600].sum()  # the hand's ink kept
    assert (out[100:250, 650:1000] < 128).sum() == 0  # the stamp's painted paper
    assert (out[280:400] == grey[280:400]).all()  # nothing outside the note's box
    assert abs(int(np.median(out[130:220, 650:1000])) - 235) <= 6  # painted the paper's grey

    class Hand(Separator):
        def probs(self, small):
            return np.ones((4, *small.shape[:2]), np.float32)

    assert hand_only(image, grey, (80, 120, 1000, 230), Hand()) is grey  # all a hand's: the page as it was
    assert hand_only(image, grey, (80, 120, 90, 125), Separator()) is grey  # too small to look at


def test_a_garbled_line_with_some_handwritten_ink_is_shown_to_the_classifier(monkeypatch):
    page = np.full((1000, 2000), 255, np.uint8)
    # the fake network: each line's share of a hand's ink is set by where it starts
    monkeypatch.setattr(typed_or_hand, "hand_share",
                        lambda image, boxes, separator, pad=16, within=None: [b[0] / 1000 for b in boxes])

    def line(i, x0, words, y0):  # words: (text, conf)
        ln = _line(i, x0, [t for t, _ in words], y0)
        ws = tuple(dataclasses.replace(w, conf=c) for w, (_, c) in zip(ln.words, words, strict=True))
        return dataclasses.replace(ln, words=ws, conf=0.14)

    garbled = [("пррееееаеьА", 0.0), ("РР.", 0.0), ("04)", 0.48), ("а", 0.64)]  # a note read as type over a heading
    heading = [("В", 0.97), ("ЦЕНТРАЛЬНЫЙ", 0.97), ("КОМИТЕТ.", 0.0), ("КПСС", 0.0)]  # a heading a note crosses
    lines = (line(1, 400, garbled, 100), line(2, 300, garbled, 200),  # 0.4 of it a hand's ink; 0.3
             line(3, 400, heading, 300), line(4, 700, heading, 400))  # 0.4; 0.7
    assert unsure_inked(page, [Region("r1", (), lines)], lambda: None) == {"l1", "l4"}


@needs_tesseract
def test_a_typed_line_under_a_note_is_read_without_the_hands_ink(monkeypatch):
    from ocr.engines import get_engine
    from ocr.engines.base import RawLine, RawWord
    from ocr.htr import lines as hl
    from ocr.layout import typed_under as tu
    from ocr.synth import fonts

    from .conftest import RUSSIAN_LINES, render_page

    page = render_page(RUSSIAN_LINES[1:2], size=(1700, 600), margin=300)  # typed at y 300-340
    typed_ink = page < 128
    hand = np.full(page.shape, 255, np.uint8)
    for k, (y, x) in enumerate([(200, 200), (290, 700)]):  # a note's line above the typed one, one across it
        sample, _ = hl.make_sample(900_300 + k, fonts.handwriting(), None)
        sample = cv2.resize(sample, None, fx=70 / sample.shape[0], fy=70 / sample.shape[0])
        sample = np.where(sample > 160, 255, sample).astype(np.uint8)  # the word image's paper left out
        sh, sw = sample.shape
        hand[y:y + sh, x:x + min(sw, 1650 - x)] = sample[:, :min(sw, 1650 - x)]
    hand_ink = (hand < 128) & ~typed_ink
    grey = np.minimum(page, hand)
    note = (150, 190, 1660, 380)

    class Separator:  # knows each pixel's ink: the crop starts REGION_MARGIN before the note's box
        pass

    def fake_probs(separator, crop, *classes):
        y0, x0 = note[1] - 8, note[0] - 8
        h, w = crop.shape[:2]
        planes = {1: typed_ink, 3: hand_ink}
        return [planes[c][y0:y0 + h, x0:x0 + w].astype(np.float32) for c in classes]

    monkeypatch.setattr(tu, "crop_probs", fake_probs)
    engine = get_engine("tesseract", Config())
    out = tu.typed_under(grey, grey, note, [], engine, Separator(), 17.0, None, "rus")
    assert out is not None and len(out.lines) == 1, out
    assert "КПСС" in out.lines[0].text and "просьбой" in out.lines[0].text
    assert out.note_left  # the note's ink is left to be read as a note
    assert (out.page[300:345] < 128).sum() < (grey[300:345] < 128).sum() / 2  # read without the typed ink
    assert (out.page[hand_ink] == grey[hand_ink]).all()  # ... and with all of its own
    # a line the page's reading has is not read again; too little typed ink left: nothing to read
    assert tu.typed_under(grey, grey, note, [(140, 290, 1660, 350)], engine, Separator(), 17.0, None, "rus") is None
    # all a hand's ink: no type under it; an engine that cannot read a piece of the page, or that fails
    no_type = np.zeros(page.shape, bool)
    monkeypatch.setattr(tu, "crop_probs", lambda s, crop, *c: [np.zeros(crop.shape[:2], np.float32)] * len(c))
    assert tu.typed_under(grey, grey, note, [], engine, Separator(), 17.0, None, "rus") is None
    monkeypatch.setattr(tu, "crop_probs", fake_probs)
    assert tu.typed_under(grey, grey, note, [], NullEngine(), Separator(), 17.0, None, "rus") is None

    class Failing:
        def read_lines(self, grey, psm):
            raise EngineError("tesseract failed")

    assert tu.typed_under(grey, grey, note, [], Failing(), Separator(), 17.0, None, "rus") is None
    # only typed ink under the note's box: the note was type, none is left
    hand_ink[:] = no_type
    alone = tu.typed_under(page, page, note, [], engine, Separator(), 17.0, None, "rus")
    assert alone is not None and not alone.note_left

    # a line read with garbage where the note's strokes cross it keeps the words read surely, where one of
    # them is a word of the page's language; a line of garbage only is not type
    def raw(*words):
        ws = tuple(RawWord(t, c, (100 + 200 * i, 300, 280 + 200 * i, 340)) for i, (t, c) in enumerate(words))
        return RawLine(ws, (100, 300, 100 + 200 * len(ws), 340))

    part = tu._sure_part(raw(("В", 0.97), ("ЦЕНТРАЛЬНЫЙ", 0.93), ("ЖОМИТЕЯ", 0.0), ("кпс-", 0.2)), None, "rus")
    assert part is not None and part.text == "В ЦЕНТРАЛЬНЫЙ" and part.box == (100, 300, 480, 340)
    assert tu._sure_part(raw(("ен", 0.9), ("ЕбВЁТ", 0.0), ("кт", 0.95)), None, "rus") is None
    whole = raw(("Референт", 0.97), ("Отдела", 0.96), ("ЦК", 0.7))
    assert tu._sure_part(whole, None, "rus") is whole
    assert tu._sure_part(whole, 80.0, "rus") is None  # in letters half the page's type height: not type
