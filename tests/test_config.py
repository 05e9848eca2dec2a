import dataclasses
import tomllib

import pytest

from ocr import config as C
from ocr.errors import ConfigError

from .conftest import ROOT


def test_bundled_config_holds_the_user_keys_at_their_defaults_each_with_a_comment():
    cfg = C.load(ROOT / "config.toml")
    assert cfg == C.Config()
    data = tomllib.loads((ROOT / "config.toml").read_text())
    lines = (ROOT / "config.toml").read_text().splitlines()
    assert len(lines) <= 120
    user = 0
    for section in dataclasses.fields(C.Config):
        keys = {f.name for f in dataclasses.fields(section.default_factory) if f.metadata.get("user")}
        assert set(data.get(section.name, {})) == keys, section.name
        user += len(keys)
        for key in keys:  # each preceded by a comment line
            i = next(i for i, ln in enumerate(lines) if ln.startswith(f"{key} ="))
            assert lines[i - 1].startswith("#"), key
    assert 15 <= user <= 25


def test_every_key_is_documented_and_the_reference_is_up_to_date():
    for section in dataclasses.fields(C.Config):
        for f in dataclasses.fields(section.default_factory):
            assert f.metadata.get("doc"), f"[{section.name}] {f.name} has no doc"
    assert (ROOT / "docs" / "config-reference.md").read_text(encoding="utf-8") == C.reference(), \
        "regenerate it: python -m ocr.config > docs/config-reference.md"


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
    with pytest.raises(ConfigError, match="allowed range is 0.0 to 1.0"):
        C.load(write(tmp_path, "[run]\nmax_failure_ratio = 1.5\n"))
    with pytest.raises(ConfigError, match="expected a number"):
        C.load(write(tmp_path, '[tesseract]\ntimeout = "long"\n'))
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
        cfg = C.from_dict({"tesseract": {"missed_lines": True, "lexicon": False, "max_height_deviation": 0.6},
                           "preprocess": {"target_xheight": 30}})
    assert cfg.tesseract.lexicon is False and cfg == C.Config().replace("tesseract", lexicon=False)
    said = [str(w.message) for w in caught]
    assert any("[tesseract] missed_lines is no longer a setting" in m for m in said)
    assert any("[tesseract] max_height_deviation is no longer a setting" in m and "MAX_HEIGHT_DEVIATION" in m
               for m in said)
    assert any("[preprocess] target_xheight is no longer a setting" in m for m in said)
