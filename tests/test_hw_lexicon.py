"""Handwriting read with the language's words (``ocr/htr/lexicon.py``): a beam search over the network's
letter chances that prefers words of the list, where the network finds them about as likely."""
import numpy as np
import pytest

pytest.importorskip("wordfreq")

from ocr.htr.lexicon import Lexicon, align, with_lexicon  # noqa: E402

CHARS = {1: "д", 2: "о", 3: "м", 4: "ь", 5: "а", 6: "ъ", 7: " ", 8: "и", 9: "н", 10: "0", 11: "т", 12: "я", 13: "."}


def _probs(columns: list[dict[str, float]]) -> np.ndarray:
    """Classes x steps: each column's letters with their chances, a blank step after each, the rest blank."""
    index = {ch: k for k, ch in CHARS.items()}
    steps = []
    for col in columns:
        p = np.full(len(CHARS) + 1, 1e-4)
        for ch, v in col.items():
            p[index[ch]] = v
        p[0] = max(1e-4, 1.0 - sum(col.values()))
        steps += [p / p.sum(), np.eye(len(CHARS) + 1)[0] * 0.999 + 1e-4]
    return np.array(steps).T


@pytest.fixture(scope="module")
def lex():
    return Lexicon("ru")


def _read(lex, columns):
    return "".join(CHARS[k] for k in lex.best(_probs(columns), CHARS))


def test_of_letters_about_as_likely_the_word_of_the_language_is_read(lex):
    columns = [{"д": 0.95}, {"о": 0.95}, {"м": 0.95}, {"ь": 0.5, "а": 0.45}]
    assert "".join(CHARS[int(k)] for k in _probs(columns).argmax(0) if k) == "домь"  # the likeliest letters
    assert _read(lex, columns) == "дома"


def test_a_letter_the_network_is_sure_of_stays_though_no_word_is_made(lex):
    assert _read(lex, [{"д": 0.95}, {"о": 0.95}, {"м": 0.95}, {"ь": 0.98, "а": 0.001}]) == "домь"


def test_old_spelling_is_looked_up_as_written_today_and_kept_as_written(lex):
    # "домъ" is "дом" today: a word; "домь" is none
    assert _read(lex, [{"д": 0.95}, {"о": 0.95}, {"м": 0.95}, {"ь": 0.5, "ъ": 0.45}]) == "домъ"
    # both words: the network's choice
    assert _read(lex, [{"д": 0.95}, {"о": 0.95}, {"м": 0.95}, {"ъ": 0.55, "а": 0.4}]) == "домъ"


def test_words_are_judged_one_by_one_between_spaces(lex):
    columns = [{"д": 0.95}, {"о": 0.95}, {"м": 0.95}, {"ь": 0.5, "а": 0.45}, {" ": 0.95},
               {"н": 0.5, "и": 0.45}, {"м": 0.95}, {"и": 0.95}]  # "дома ими": "ими" a word, "нми" none
    assert _read(lex, columns) == "дома ими"


def test_a_letter_or_two_and_words_split_by_a_digit_earn_nothing(lex):
    # an initial: "я" is a word, and so is any letter somewhere; the network's "т." stays
    assert _read(lex, [{"т": 0.5, "я": 0.45}, {".": 0.95}, {" ": 0.95}, {"д": 0.95}, {"о": 0.95},
                       {"м": 0.95}]) == "т. дом"
    # "дом0дом" is not two words "дом": the network's "домодом" stays
    columns = [{"д": 0.95}, {"о": 0.95}, {"м": 0.95}, {"о": 0.7, "0": 0.2}, {"д": 0.95}, {"о": 0.95}, {"м": 0.95}]
    assert _read(lex, columns) == "домодом"


def test_the_alignment_places_each_letter_where_it_is_read():
    p = np.full((len(CHARS) + 1, 9), 1e-3)
    path = [0, 1, 1, 0, 2, 0, 0, 2, 0]  # д д, blank, о, blank blank, о (a doubled letter needs a blank between)
    for t, k in enumerate(path):
        p[k, t] = 0.99
    assert align(p, [1, 2, 2]) == [(1, 2), (4, 4), (7, 7)]
    assert align(p, []) == []


def test_a_reader_without_letter_chances_reads_as_it_does():
    class Kraken:  # kraken's PyTorch reader, the fallback: no letter chances to search
        name, path, version = "kraken", None, "7"

    reader = Kraken()
    assert with_lexicon(reader, "rus") is reader


def test_the_committed_model_reads_with_the_lexicon_and_places_every_letter():
    from pathlib import Path

    from ocr.engines.vgsl_numpy import NumpyRecognizer
    from ocr.htr import lines
    from ocr.synth import fonts as synth_fonts

    model = Path(__file__).resolve().parent.parent / "ocr" / "models" / "htr-ru.safetensors"
    if not model.is_file():
        pytest.skip("no committed handwriting model")
    pytest.importorskip("kraken")
    fonts = synth_fonts.handwriting()
    if not fonts:
        pytest.skip("no handwriting font")
    from ocr.score.metrics import Counts, char_counts

    from ocr.htr.lexicon import WithLexicon

    network = NumpyRecognizer(model)
    assert isinstance(with_lexicon(network, "ukr+rus"), WithLexicon)
    assert with_lexicon(network, "deu") is network  # no Russian word list on a German page
    reader = with_lexicon(NumpyRecognizer(model), "rus")
    plain_edits, read_edits, changed = Counts(), Counts(), 0
    for seed in range(900_300, 900_312):  # e.g. "человеческое украшение", read alone "щеловеческое унерошение"
        img, text = lines.make_sample(seed, fonts, None)
        plain = reader.reader.read_image(img)
        read = reader.read_image(img)
        assert len(read.char_confs) == len(read.char_boxes) == len(read.text)
        assert all(0.0 <= c <= 1.0 for c in read.char_confs)
        assert [b[0] for b in read.char_boxes] == sorted(b[0] for b in read.char_boxes)
        changed += read.text != plain.text
        plain_edits += char_counts(text, plain.text)
        read_edits += char_counts(text, read.text)
    assert 0 < changed < 12  # most lines the network reads as words already
    assert read_edits.edits < plain_edits.edits


def test_a_line_the_network_is_unsure_of_all_along_does_not_grow_letters(lex):
    """A smear read as a line: blank 0.7, "и" 0.17, "ш" 0.12 at every step. Summed over their paths, long
    strings of "иши..." are likelier than any short reading; the likeliest path reads next to nothing."""
    steps = 300
    p = np.full((len(CHARS) + 1, steps), 1e-4)
    p[0], p[8] = 0.7, 0.17
    index = {ch: k for k, ch in CHARS.items()}
    p[index["м"]] = 0.12
    assert len(lex.best(p / p.sum(axis=0), CHARS)) <= 2


def test_a_word_is_what_stands_between_spaces_its_signs_at_the_ends(lex):
    from ocr.htr.lexicon import State

    def bonus(text):  # the list's bonus, as the cost of the text with and without its last space-ended word
        state, total = State(), 0.0
        for ch in text:
            cost, state = lex.step(state, ch)
            total += cost
        return total + lex.end(state)

    assert bonus("дома,") - bonus("дома") == pytest.approx(0.0)  # a sign at the end: the same word
    assert bonus("дома") > bonus("домаа") + 5  # a word of the list against none
    assert bonus("дом.дом") < bonus("дом") + bonus("дом")  # a sign inside: no word, no bonus
    assert bonus("т.") == pytest.approx(0.0)  # an initial: anyone's letter, no letter model
