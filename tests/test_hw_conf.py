"""The handwritten line's confidence for review (``ocr/layout/hw_conf.py``)."""
from __future__ import annotations

from ocr.layout.hw_conf import FEATURES, features, review_conf, with_review_conf
from ocr.layout.way_up import modern
from ocr.model import Glyph, Line, Word


def test_old_spelling_is_looked_up_as_written_today():
    assert modern("Цѣною") == "ценою" and modern("италіанскихъ") == "италианских" and modern("ъ") == "ъ"


def test_features_are_the_models_confidences_and_how_word_like_the_reading_is():
    f = dict(zip(FEATURES, features("просим рассмотреть ѣѣ", [[0.9] * 6, [0.5] * 11, [0.7, 0.8]]), strict=True))
    assert abs(f["mean_conf"] - (0.9 * 6 + 0.5 * 11 + 1.5) / 19) < 1e-9 and f["min_word_conf"] == 0.5
    assert f["words"] == 3 and f["chars"] == len("просим рассмотреть ѣѣ")
    assert f["known_share"] == 1.0  # "ѣѣ" is too short to look up
    assert f["letter_logprob"] > -3.5  # words of the language: about -2


def test_a_line_of_words_is_surer_than_a_letter_string_read_as_surely_and_an_empty_line_is_zero():
    words = review_conf("просим рассмотреть вопрос", [[0.95] * 6, [0.95] * 11, [0.95] * 6])
    junk = review_conf("пщлсоы ыэтаьриндчь ъгйщц", [[0.95] * 6, [0.95] * 11, [0.95] * 6])
    assert 0.0 < junk < words < 1.0
    assert review_conf("просим рассмотреть вопрос", [[0.6] * 6, [0.6] * 11, [0.6] * 6]) < words  # less sure letters
    assert review_conf("  ", [[]]) == 0.0 and review_conf("вопрос", []) == 0.0


def test_a_handwritten_line_gets_its_review_confidence_and_keeps_the_models_word_confidences():
    box = ((0, 0), (10, 0), (10, 10), (0, 10))
    word = Word("вопрос", 0.97, box, tuple(Glyph(ch, 0.97, box) for ch in "вопрос"))
    line = Line("h001_l001", "вопрос", box, conf=0.97, words=(word,))
    out = with_review_conf(line)
    assert out.conf == round(review_conf("вопрос", [[0.97] * 6]), 4) and out.conf != 0.97
    assert out.words == line.words and out.text == line.text
    empty = Line("h001_l002", "", box, conf=0.0)
    assert with_review_conf(empty) is empty
