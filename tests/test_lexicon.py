"""Lexicon correction of typed words (Latin-script languages)."""
from __future__ import annotations

import pytest

from ocr.engines.base import RawLine, RawWord
from ocr.typed.lexicon import correct_lines, correct_word, known_word, languages

pytest.importorskip("wordfreq")
EN = ("en",)


@pytest.mark.parametrize("read,fixed", [
    ("oamp", "camp"), ("ond", "and"), ("olerk", "clerk"), ("hospitai", "hospital"), ("oalmly", "calmly"),
    ("(oamp,", "(camp,"), ("knowne", "known."), ("upe", "up."),
])
def test_typewriter_misreadings_become_the_common_word(read, fixed):
    assert correct_word(read, 0.8, EN) == fixed


@pytest.mark.parametrize("read", [
    "Westerberk", "Raad", "OND",  # names and capitals stay
    "camp", "cute", "Hollande",  # words of the language stay
    "conse-",  # the first half of a word hyphenated at the line end
    "xqzv", "12a", "oa",  # nothing common within reach; not a word; too short
])
def test_what_stays_as_read(read):
    assert correct_word(read, 0.8, EN) == read


@pytest.mark.parametrize("read,fixed,lang", [
    ("visle", "viele", "de"), ("sinem", "einem", "de"), ("äurch", "durch", "de"),  # German misreadings
    ("Gensral", "General", "de"), ("Seourity", "Security", "en"),  # capitalised long words, capital kept
    ("Ausohwitz", "Auschwitz", "en"),
    # umlauts typed as "ae", "oe", "ue" (a typewriter without umlaut keys): "as" read for "ae"
    ("Hasftlinge", "Haeftlinge", "de"), ("naschsten", "naechsten", "de"), ("Stusck", "Stueck", "de"),
])
def test_capitalised_and_german_misreadings(read, fixed, lang):
    assert correct_word(read, 0.8, (lang,)) == fixed


@pytest.mark.parametrize("read,lang", [
    ("Buberl", "de"),  # only the capital would make it common ("Hubert"): a name stays
    ("Schlusse", "de"), ("Gegensatze", "de"),  # a capitalised word's final "e" is not a full stop
    ("Raad", "en"),  # a short capitalised word is too often a name
])
def test_capitalised_words_that_stay(read, lang):
    assert correct_word(read, 0.8, (lang,)) == read


@pytest.mark.parametrize("read,fixed,lang", [
    # a word no list knows, one letter of it misread in a way no typical confusion explains
    ("vublic", "public", "en"), ("tellixg", "telling", "en"), ("Bulsarian", "Bulgarian", "en"),
    ("impossipility", "impossibility", "en"), ("Dezepber", "Dezember", "de"),
    ("orematoria", "crematoria", "en"),  # long: a rarer word (Zipf 2-3) will do
])
def test_any_one_letter_of_a_garbled_word(read, fixed, lang):
    assert correct_word(read, 0.8, (lang,)) == fixed


@pytest.mark.parametrize("read", [
    "xome",  # some, home, come: no clear best
    "wallsy",  # short: its neighbour "ballsy" is too rare
    "grms",  # an abbreviation ("250 grms. daily")
    "Feople",  # a capital stays as read
    "sost",  # in the word lists (rare): no garbled word
])
def test_garbled_words_that_stay(read):
    assert correct_word(read, 0.8, EN) == read


@pytest.mark.parametrize("read,fixed", [
    ("Unole", "Uncle"), ("Nagis", "Nazis"), ("Huyan", "Human"),  # short capitalised garbled words, capital kept
    ("diScussion", "discussion"), ("WhoSe", "Whose"), ("JewS", "Jews"),  # a small letter read as its capital
])
def test_short_capitalised_words_and_inner_capitals(read, fixed):
    assert correct_word(read, 0.8, EN) == fixed
    assert correct_word("diScussion", 0.99, EN) == "discussion"  # an inner capital however sure the reading


@pytest.mark.parametrize("read", [
    "Raad", "Hach",  # a known (rare) word, or a capital that would have to change ("Each"): a name may be both
    "McDonald", "DeWitt",  # inner capitals of names: not of the shapes a small letter shares
])
def test_short_capitalised_words_and_inner_capitals_that_stay(read):
    assert correct_word(read, 0.8, EN) == read


def test_umlauts_typed_as_two_letters_are_german_words():
    assert known_word("Haeftlinge", "deu", 3) and known_word("gedraengt", "deu", 3)
    assert correct_word("Haeftlinge", 0.5, ("de",)) == "Haeftlinge"  # a right spelling stays as read
    assert not known_word("Haeftlinge", "eng", 3)  # English has no such spelling
    assert known_word("queue", "eng", 3) and correct_word("quer", 0.5, ("de",)) == "quer"


def test_confident_words_and_unsupported_languages_stay():
    assert correct_word("oamp", 0.98, EN) == "oamp"
    assert languages("rus") == () and languages("eng+deu") == ("en", "de")
    blocks = [[RawLine((RawWord("oamp", 0.5, (0, 0, 10, 10)),), (0, 0, 10, 10))]]
    assert correct_lines(blocks, "rus") == (blocks, 0)


def test_lines_keep_boxes_and_the_end_of_a_hyphenated_word():
    w = lambda t, x: RawWord(t, 0.8, (x, 0, x + 50, 20))  # noqa: E731
    blocks = [[RawLine((w("the", 0), w("ond", 60), w("transpor-", 120)), (0, 0, 170, 20)),
               RawLine((w("tetion", 0), w("oamp", 60)), (0, 30, 110, 50))]]
    out, n = correct_lines(blocks, "eng")
    assert n == 2
    assert [[[x.text for x in ln.words] for ln in b] for b in out] == [
        [["the", "and", "transpor-"], ["tetion", "camp"]]]
    assert out[0][1].words[1].box == (60, 0, 110, 20) and out[0][1].box == (0, 30, 110, 50)


def test_dotless_i_is_a_misread_i():
    w = RawWord("ıch", 0.99, (0, 0, 30, 20))  # read surely: still no letter of German
    out, n = correct_lines([[RawLine((w, RawWord("eın", 0.5, (40, 0, 70, 20))), (0, 0, 70, 20))]], "deu")
    assert n == 2 and [x.text for x in out[0][0].words] == ["ich", "ein"]


def test_known_words_in_any_script():
    assert known_word("исследовательской,", "rus", 7) and known_word("Departments", "eng+deu", 7)
    assert not known_word("Аурмецей", "rus", 7)  # no word
    assert not known_word("монете", "rus", 7)  # too short to count
    assert not known_word("исследовательской", "chi_sim", 7)  # no word list for the language


def test_a_word_no_list_knows_one_letter_from_a_common_word_is_that_word_in_its_case():
    from ocr.typed.lexicon import nearest_word

    ru = ("ru",)
    assert nearest_word("МЕнтРАЛЬный", ru) == "ЦЕНТРАЛЬНЫЙ"  # capitals where most letters were
    assert nearest_word("КПСЕ.", ru) == "КПСС."  # punctuation about it kept
    assert nearest_word("обший", ru) == "общий"
    assert nearest_word("ОТДЕЛ", ru) == "ОТДЕЛ"  # a word: as it is
    assert nearest_word("ОДЕЛ", ru) == "ОДЕЛ"  # a letter left out: no replaced letter makes it a word
    assert nearest_word("ик", ru) == "ик"  # too short: any letter or two is a word somewhere
    assert nearest_word("Петров)", ru) == "Петров)" and nearest_word("46824", ru) == "46824"
    assert nearest_word("КПСЕ", ()) == "КПСЕ"  # no word list
