import unicodedata

import pytest

from ocr.score.metrics import Counts, cer, char_counts, fmt_rate, graphemes, normalize, wer, word_counts


def test_exact_values():
    assert cer("abc", "abd") == pytest.approx(1 / 3)
    assert cer("abc", "abc") == 0.0
    assert cer("abc", "") == 1.0
    assert cer("ab", "abcd") == 1.0  # two insertions over two reference characters
    c = char_counts("kitten", "sitting")
    assert (c.subs, c.dels, c.ins, c.ref_len) == (2, 0, 1, 6)


def test_nfc_nfd_and_combining_marks():
    nfc = "ёлка и йод"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc and cer(nfc, nfd) == 0.0
    # a base letter with two combining marks is one grapheme cluster
    assert len(graphemes("е\u0308\u0301")) == 1
    assert cer("е\u0308\u0301x", "ex") == pytest.approx(1 / 2)


def test_whitespace_and_bom_normalised():
    assert normalize("\ufeff a \t b\n\nc ") == "a b c"
    assert cer("a b c", "a  b\nc") == 0.0


def test_empty_reference_is_none_never_nan():
    assert cer("", "") is None and cer("", "x") is None
    assert fmt_rate(None) == "empty ref"
    assert Counts().rate is None


def test_micro_average_sums_counts():
    a, b = char_counts("aaaa", "aaab"), char_counts("bb", "")
    total = a + b
    assert total.rate == pytest.approx((1 + 2) / 6)
    assert total.rate != pytest.approx((a.rate + b.rate) / 2)


def test_wer_words_and_punctuation():
    assert wer("Реза Руста, т. Волошин", "Реаа Руста, т. Волошин") == pytest.approx(1 / 6)
    w = word_counts("19.XII.55 исполнено", "19.XII.55 исполнено")
    assert w.edits == 0 and w.ref_len > 2
