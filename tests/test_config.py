import dataclasses
import tomllib

import pytest

from ocr import config as C
from ocr.errors import ConfigError

from .conftest import ROOT


def test_bundled_config_equals_defaults_and_documents_every_key():
    cfg = C.load(ROOT / "config.toml")
    assert cfg == C.Config()
    data = tomllib.loads((ROOT / "config.toml").read_text())
    text = (ROOT / "config.toml").read_text()
    for section in dataclasses.fields(C.Config):
        keys = {f.name for f in dataclasses.fields(section.default_factory)}
        assert set(data[section.name]) == keys, section.name
        for key in keys:
            # the key is preceded by a comment line
            lines = text.splitlines()
            i = next(i for i, ln in enumerate(lines) if ln.startswith(f"{key} ="))
            assert lines[i - 1].startswith("#"), key


def write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_unknown_key_names_key_and_allowed(tmp_path):
    with pytest.raises(ConfigError) as e:
        C.load(write(tmp_path, "[preprocess]\ndeskw = true\n"))
    msg = str(e.value)
    assert "deskw" in msg and "deskew" in msg and "\n" not in msg


def test_unknown_section(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown section \[prep\]"):
        C.load(write(tmp_path, "[prep]\nx = 1\n"))


def test_bad_choice_lists_allowed_values(tmp_path):
    with pytest.raises(ConfigError, match=r"binarize = 'wolf'.*'sauvola', 'otsu'"):
        C.load(write(tmp_path, '[preprocess]\nbinarize = "wolf"\n'))


def test_bad_type_and_range(tmp_path):
    with pytest.raises(ConfigError, match="allowed values are true, false"):
        C.load(write(tmp_path, '[preprocess]\ndeskew = "yes"\n'))
    with pytest.raises(ConfigError, match="allowed range is 0.0 to 45.0"):
        C.load(write(tmp_path, "[preprocess]\ndeskew_max_angle = 90\n"))
    with pytest.raises(ConfigError, match="expected a whole number"):
        C.load(write(tmp_path, "[run]\nworkers = 1.5\n"))
    with pytest.raises(ConfigError, match="allowed values are 1, 3, 4, 6, 11, 12"):
        C.load(write(tmp_path, "[tesseract]\npsm = 7\n"))


def test_bad_language_code(tmp_path):
    with pytest.raises(ConfigError, match="language codes"):
        C.load(write(tmp_path, '[run]\nlang = "rus eng"\n'))


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        C.load(write(tmp_path, "[run\n"))
    with pytest.raises(ConfigError, match="cannot read config file"):
        C.load(tmp_path / "nope.toml")


def test_replace_validates_and_digest_changes():
    cfg = C.Config()
    other = cfg.replace("run", lang="eng")
    assert other.run.lang == "eng" and other.digest() != cfg.digest()
    with pytest.raises(ConfigError):
        cfg.replace("tesseract", psm=99)


def test_a_key_an_earlier_version_had_is_ignored_with_a_warning():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg = C.from_dict({"tesseract": {"missed_lines": True, "lexicon": False}})
    assert cfg.tesseract.lexicon is False
    assert any("[tesseract] missed_lines is no longer used" in str(w.message) for w in caught)
