"""The one validated configuration object, read from ``config.toml``.

Every key has a type and, where it matters, a set of allowed values or a range;
an unknown key or a bad value raises :class:`ConfigError` naming the key and
what is allowed. The defaults here are the defaults of the bundled
``config.toml``; a test keeps the two in step.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError


def _opt(default, *, choices=None, lo=None, hi=None, doc=""):
    return field(default=default, metadata={"choices": choices, "lo": lo, "hi": hi, "doc": doc})


@dataclass(frozen=True)
class RunConfig:
    lang: str = _opt("rus", doc="Tesseract language(s), e.g. rus, eng, deu or rus+eng")
    workers: int = _opt(0, lo=0, hi=256, doc="worker processes; 0 = one per CPU core")
    page_timeout: float = _opt(900.0, lo=1.0, hi=86400.0)
    memory_limit_mb: int = _opt(8192, lo=0, hi=1048576)
    on_error: str = _opt("skip", choices=("skip", "abort"))
    max_failure_ratio: float = _opt(0.5, lo=0.0, hi=1.0)
    scheduler: str = _opt("", doc="Dask scheduler address, e.g. tcp://host:8786; empty = local process pool")
    guard: bool = _opt(True, doc="read an implausible page again as plain Tesseract would, keep the better reading")


@dataclass(frozen=True)
class PreprocessConfig:
    grayscale: bool = _opt(True)
    crop_border: bool = _opt(True)
    border_dark_level: int = _opt(90, lo=0, hi=255)
    remove_punch_holes: bool = _opt(True)
    remove_speckles: bool = _opt(False)
    speckle_max_area: float = _opt(0.03, lo=0.0, hi=1.0)
    deskew: bool = _opt(True)
    deskew_max_angle: float = _opt(5.0, lo=0.0, hi=45.0)
    deskew_min_text_rows: int = _opt(5, lo=0, hi=10000)
    deskew_min_confidence: float = _opt(1.5, lo=1.0, hi=100.0)
    rescale: bool = _opt(True)
    target_xheight: int = _opt(22, lo=8, hi=80)
    max_scale: float = _opt(3.0, lo=1.0, hi=8.0)
    normalize_background: bool = _opt(False)
    binarize: str = _opt("sauvola", choices=("sauvola", "otsu"))
    recognize_on: str = _opt("grey", choices=("grey", "binary"))
    sauvola_window: int = _opt(31, lo=3, hi=501)
    sauvola_k: float = _opt(0.2, lo=0.0, hi=1.0)


@dataclass(frozen=True)
class TesseractConfig:
    backend: str = _opt("api", choices=("api", "cli"))
    psm: int = _opt(3, choices=(1, 3, 4, 6, 11, 12))
    oem: int = _opt(1, choices=(1, 3))
    timeout: float = _opt(300.0, lo=1.0, hi=86400.0)
    threshold: str = _opt("otsu", choices=("otsu", "adaptive-otsu", "sauvola"))
    reading_order: str = _opt("top-down", choices=("top-down", "engine"))
    min_line_letters: int = _opt(2, lo=0, hi=100)
    trim_edge_word_conf: float = _opt(0.7, lo=0.0, hi=1.0)
    max_height_deviation: float = _opt(0.4, lo=0.0, hi=10.0)
    lexicon: bool = _opt(True)
    repair_stops: bool = _opt(True)
    space_after_marks: bool = _opt(True)
    sentence_stops: bool = _opt(True)
    stray_stops: bool = _opt(True)
    page_numbers: bool = _opt(True)
    merged_rows: bool = _opt(True)
    straight_quotes: bool = _opt(True)
    stray_quotes: bool = _opt(True)


@dataclass(frozen=True)
class LayoutConfig:
    enabled: bool = _opt(True)
    model: str = _opt("", doc="layout classifier (JSON); empty = the bundled ocr/models/layout.json")
    min_prob: float = _opt(0.5, lo=0.0, hi=1.0)
    handwriting: bool = _opt(True)
    handwriting_model: str = _opt("", doc="kraken model; empty = the bundled ocr/models/htr-ru.safetensors")
    separate_ink: bool = _opt(True)
    ink_model: str = _opt("", doc="ink separation network; empty = the bundled ocr/models/inksep.safetensors")
    stamp_text: bool = _opt(False)
    debug_image: bool = _opt(False)


@dataclass(frozen=True)
class OutputConfig:
    page_xml: bool = _opt(True)
    alto: bool = _opt(True)
    text: bool = _opt(True)


@dataclass(frozen=True)
class ScoreConfig:
    profile: str = _opt("strict", doc="normalisation profile: strict, archival, archival-pre1918 or one in profiles")
    profiles: dict = field(default_factory=dict, metadata={"doc": "custom profiles: name -> table"})

    def get_profile(self, name: str | None = None):
        """The named profile (default: ``profile``), built-in or custom; ConfigError if unknown."""
        from .score.metrics import BUILTIN_PROFILES

        name = name or self.profile
        if name in self.profiles:
            return self.profiles[name]
        if name in BUILTIN_PROFILES:
            return BUILTIN_PROFILES[name]
        known = ", ".join(sorted(set(BUILTIN_PROFILES) | set(self.profiles)))
        raise ConfigError(f"unknown normalisation profile {name!r}; allowed profiles are {known}")


@dataclass(frozen=True)
class Config:
    run: RunConfig = field(default_factory=RunConfig)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    tesseract: TesseractConfig = field(default_factory=TesseractConfig)
    layout: LayoutConfig = field(default_factory=LayoutConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)

    def to_dict(self) -> dict[str, Any]:
        """The configuration as config.toml tables (``from_dict`` reads it back)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def digest(self, **extra: Any) -> str:
        """A short hash of what decides a page's output: the configuration less [run] keys that only
        say how to run (workers, limits, scheduler), plus ``extra`` (e.g. a user's deskew angle)."""
        d = self.to_dict()
        d["run"] = {"lang": d["run"]["lang"]}
        blob = json.dumps({**d, **extra}, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def replace(self, section: str, **values: Any) -> "Config":
        """A copy with some keys of one section changed, validated like the file."""
        return dataclasses.replace(self, **{section: from_dict({section: {
            **_plain(getattr(self, section)), **values}}, source="override").__getattribute__(section)})


def _profiles(value: Any, source: str) -> dict:
    """Validate ``[score.profiles.NAME]`` tables into Profile objects."""
    from .score.metrics import BUILTIN_PROFILES, Profile

    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [score] profiles must be tables [score.profiles.NAME]")
    flags = [f.name for f in dataclasses.fields(Profile) if f.name not in ("name", "replace")]
    out = {}
    for name, table in value.items():
        where = f"{source}: [score.profiles.{name}]"
        if name in BUILTIN_PROFILES:
            raise ConfigError(f"{where}: {name!r} is a built-in profile; choose another name")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table of keys")
        kwargs: dict[str, Any] = {}
        for key, v in table.items():
            if key == "replace":
                if not isinstance(v, dict) or not all(isinstance(a, str) and isinstance(b, str) and a
                                                      for a, b in v.items()):
                    raise ConfigError(f"{where} replace: expected a table of non-empty strings, e.g. {{ \"ѣ\" = \"е\" }}")
                kwargs["replace"] = tuple(v.items())
            elif key in flags:
                if not isinstance(v, bool):
                    raise ConfigError(f"{where} {key} = {v!r}: allowed values are true, false")
                kwargs[key] = v
            else:
                raise ConfigError(f"{where}: unknown key {key}; allowed keys are {', '.join(flags + ['replace'])}")
        out[name] = Profile(name, **kwargs)
    return out


def _plain(section_obj: Any) -> dict[str, Any]:
    """A section's keys as they would be written in config.toml (custom profiles back to tables)."""
    out = {}
    for f in dataclasses.fields(section_obj):
        v = getattr(section_obj, f.name)
        if f.name == "profiles":
            v = {n: {**{k: x for k, x in dataclasses.asdict(p).items() if k not in ("name", "replace")},
                     "replace": dict(p.replace)} for n, p in v.items()}
        out[f.name] = v
    return out


def _check(section: str, f: dataclasses.Field, value: Any, source: str) -> Any:
    where = f"{source}: [{section}] {f.name} = {value!r}"
    if f.type in ("dict", dict):
        return _profiles(value, source)
    want = f.type if isinstance(f.type, type) else {"bool": bool, "int": int, "float": float, "str": str}[f.type]
    if want is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: allowed values are true, false")
    elif want is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number")
    elif want is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number")
        value = float(value)
    elif want is str and not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string")
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        allowed = ", ".join(repr(c) if isinstance(c, str) else str(c) for c in meta["choices"])
        raise ConfigError(f"{where}: allowed values are {allowed}")
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and value < lo or hi is not None and value > hi:
        raise ConfigError(f"{where}: allowed range is {lo} to {hi}")
    if section == "run" and f.name == "lang":
        import re

        if not re.fullmatch(r"[A-Za-z_]+(\+[A-Za-z_]+)*", value):
            raise ConfigError(f"{where}: expected language codes joined by '+', e.g. 'rus' or 'rus+eng'")
    return value


# keys earlier versions had: ignored with a warning, so that an older config.toml still runs
REMOVED = {
    ("tesseract", "missed_lines"): "the step did not pay on pages it was not tuned on (docs/benchmarks.md)",
    ("tesseract", "min_line_conf"): "a type-sized line is kept however unsure: the threshold did not pay on pages "
                                    "it was not tuned on (docs/benchmarks.md)",
}


def from_dict(data: dict[str, Any], source: str = "config") -> Config:
    """Build a validated :class:`Config` from a parsed TOML table."""
    sections = {f.name: f for f in dataclasses.fields(Config)}
    built = {}
    for name, value in data.items():
        if name not in sections:
            raise ConfigError(f"{source}: unknown section [{name}]; allowed sections are {', '.join(sections)}")
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table of keys")
    for name, sf in sections.items():
        cls = sf.default_factory  # type: ignore[misc]
        known = {f.name: f for f in dataclasses.fields(cls)}
        given = data.get(name, {})
        kwargs = {}
        for key, value in given.items():
            if (name, key) in REMOVED:  # an older config: the step is gone, the run goes on without it
                warnings.warn(f"{source}: [{name}] {key} is no longer used ({REMOVED[(name, key)]}); ignored",
                              stacklevel=2)
                continue
            if key not in known:
                raise ConfigError(
                    f"{source}: unknown key [{name}] {key}; allowed keys are {', '.join(known)}"
                )
            kwargs[key] = _check(name, known[key], value, source)
        built[name] = cls(**kwargs)
    cfg = Config(**built)
    try:
        cfg.score.get_profile()
    except ConfigError as e:
        raise ConfigError(f"{source}: [score] profile: {e}") from None
    return cfg


def load(path: str | Path | None) -> Config:
    """Read and validate a ``config.toml``; ``None`` gives the defaults."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config file ({e.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: config file is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML ({e})") from None
    return from_dict(data, source=str(p))
