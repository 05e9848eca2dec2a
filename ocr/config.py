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


def _opt(default, *, choices=None, lo=None, hi=None, doc="", user=False):
    """A key: its default, allowed values, a one-line ``doc`` (the reference and config.toml show it) and whether
    it is a ``user`` key (in the bundled config.toml) or an advanced one (docs/config-reference.md only)."""
    return field(default=default, metadata={"choices": choices, "lo": lo, "hi": hi, "doc": doc, "user": user})


@dataclass(frozen=True)
class RunConfig:
    """How a reel is run."""

    lang: str = _opt("rus", user=True, doc="Tesseract language(s): rus, eng, deu, fra, ... or several joined by "
                     "'+' (rus+eng); `--lang` overrides it")
    workers: int = _opt(0, lo=0, hi=256, user=True, doc="worker processes; 0 = one per CPU core; `--workers` overrides it")
    page_timeout: float = _opt(900.0, lo=1.0, hi=86400.0, user=True,
                               doc="seconds a page may take; a page that takes longer is recorded as failed and the "
                                   "reel goes on")
    memory_limit_mb: int = _opt(8192, lo=0, hi=1048576, user=True,
                                doc="memory a worker may take, in MB (0 = no limit); a page that needs more fails with "
                                    "'out of memory'")
    on_error: str = _opt("skip", choices=("skip", "abort"), user=True,
                         doc="a failed page: 'skip' records it and goes on, 'abort' stops the run")
    max_failure_ratio: float = _opt(0.5, lo=0.0, hi=1.0, user=True,
                                    doc="stop the run when more than this share of its pages failed (checked from the "
                                        "10th page; 1.0 never stops)")
    scheduler: str = _opt("", user=True, doc="a Dask scheduler's address (tcp://host:8786) to run the pages on that "
                          "cluster; empty = this machine; `--scheduler` overrides it")
    guard: bool = _opt(True, user=True, doc="read a page whose reading looks collapsed again as plain Tesseract "
                       "would and keep the better reading; a page still implausible is flagged 'suspect'")


@dataclass(frozen=True)
class PreprocessConfig:
    """Page cleanup before recognition (ocr/preprocess.py; its constants are in the code)."""

    grayscale: bool = _opt(True, doc="colour scans: turn ink of another colour than the typed text's to paper")
    crop_border: bool = _opt(True, doc="crop dark scanner or microfilm borders")
    remove_punch_holes: bool = _opt(True, doc="erase punch holes near the page's edges")
    remove_speckles: bool = _opt(False, doc="erase isolated specks (off: it erased parts of faint letters)")
    deskew: bool = _opt(True, user=True, doc="measure the skew of the text lines and rotate it away (recorded in "
                        "run.json and PAGE); `--deskew-angle` gives the angle instead")
    rescale: bool = _opt(True, doc="upscale low-resolution scans to Tesseract's best x-height (never down)")
    normalize_background: bool = _opt(False, doc="divide the page by a smooth estimate of the paper")
    binarize: str = _opt("sauvola", choices=("sauvola", "otsu"), doc="the binarization for cleanup (and for "
                         "recognition with recognize_on = 'binary')")
    recognize_on: str = _opt("grey", choices=("grey", "binary"), doc="what Tesseract reads: the cleaned grey page "
                             "(its LSTM uses grey levels) or the binarized one")


@dataclass(frozen=True)
class TesseractConfig:
    """Typed text: how Tesseract is called and which fixes run on what it read (ocr/typed/fixes.py)."""

    backend: str = _opt("api", choices=("api", "cli"), user=True,
                        doc="'api': Tesseract's library in each worker (faster); 'cli': the tesseract program")
    timeout: float = _opt(300.0, lo=1.0, hi=86400.0, user=True,
                          doc="seconds before a page's Tesseract call is stopped and the page recorded as failed")
    psm: int = _opt(3, choices=(1, 3, 4, 6, 11, 12), doc="page segmentation mode (tesseract --help-psm)")
    oem: int = _opt(1, choices=(1, 3), doc="engine mode: 1 = LSTM, 3 = the traineddata's default")
    threshold: str = _opt("otsu", choices=("otsu", "adaptive-otsu", "sauvola"),
                          doc="Tesseract's own binarization; with 'otsu', a page whose paper Otsu would split is "
                              "read with 'sauvola' (run.json says so)")
    reading_order: str = _opt("top-down", choices=("top-down", "engine"),
                              doc="order of the text blocks: by their tops, or Tesseract's own")
    merged_rows: bool = _opt(True, doc="read again, as a block, a line Tesseract read two rows into one")
    page_numbers: bool = _opt(True, doc="find page numbers ('- 3 -') that Tesseract's layout analysis passed over")
    repair_stops: bool = _opt(True, doc="full stops misread as ',' 'e' 's' told apart by their shape")
    space_after_marks: bool = _opt(True, doc="put back a typed space after '.' or ',' ('Dr.Minz' -> 'Dr. Minz')")
    sentence_stops: bool = _opt(True, doc="a ',' before a sentence's first word is a misread '.' (deu, eng)")
    stray_stops: bool = _opt(True, doc="drop a '.' between two words of running prose, a speck read as a stop "
                             "(deu, eng)")
    straight_quotes: bool = _opt(True, doc="write typographic quotes as the typewriter's straight ones")
    stray_quotes: bool = _opt(True, doc="drop quotes that pair with none (specks read as quotes)")
    lexicon: bool = _opt(True, doc="correct unsure words that are no word of the language by typical typewriter "
                         "misreadings (Latin-script languages)")
    typed_reader: str = _opt("tesseract", choices=("tesseract", "model", "surer", "vote"), user=True,
                             doc="who reads the typed lines Tesseract found: 'tesseract'; 'model': the typewriter "
                                 "model (ocr/models/typed.safetensors); 'surer': per line the reading with the "
                                 "higher confidence; 'vote': lines Tesseract reads under 0.9 are read by the model "
                                 "too, and where the readings differ a model trained on real pages "
                                 "(ocr/models/typed-vote.json) keeps one")
    typed_model: str = _opt("", doc="the typewriter model for typed_reader 'model', 'surer' or 'vote'; empty = the bundled "
                            "ocr/models/typed.safetensors")


@dataclass(frozen=True)
class LayoutConfig:
    """Handwriting and stamps: found, classified, read (ocr/layout/)."""

    enabled: bool = _opt(True, user=True, doc="find handwriting and stamps outside the typed lines and route them "
                         "(false: typed text only)")
    handwriting: bool = _opt(True, user=True, doc="read handwriting regions with the kraken model (false: found and "
                             "written, text empty)")
    handwriting_model: str = _opt("", user=True, doc="the kraken handwriting model, e.g. one retrained from your "
                                  "corrections; empty = the bundled ocr/models/htr-ru.safetensors")
    handwriting_lexicon: bool = _opt(True, doc="on Russian pages (lang with rus), read handwriting with the "
                                     "Russian word list and letter model (a beam search over the model's letter "
                                     "chances that prefers words of the language; old spelling looked up as "
                                     "written today; htr/lexicon.py); false: the model's likeliest letter at each "
                                     "step")
    stamp_text: bool = _opt(True, user=True, doc="read the stamps' text: a round stamp's ring text unwrapped into a "
                            "strip, before its straight lines; other stamps turned upright and read as a block (kept "
                            "where it reads more than the page's reading did); dates read again in Latin letters")
    debug_image: bool = _opt(False, user=True, doc="write <page>.layout.jpg, the page with its regions outlined by kind")
    model: str = _opt("", doc="the region classifier (JSON, from 'memo-ocr train-layout'); empty = the bundled "
                      "ocr/models/layout.json")
    separate_ink: bool = _opt(True, doc="tell a signature's ink from a stamp's where it crosses the stamp (the ink "
                              "separation network)")
    ink_model: str = _opt("", doc="the ink separation network (from 'memo-ocr train-inksep'); empty = the bundled "
                          "ocr/models/inksep.safetensors")


@dataclass(frozen=True)
class OutputConfig:
    """The files written for each page."""

    page_xml: bool = _opt(True, user=True, doc="write <page>.page.xml (PAGE XML 2019)")
    alto: bool = _opt(True, user=True, doc="write <page>.alto.xml (ALTO 4.4)")
    text: bool = _opt(True, user=True, doc="write <page>.txt (the kept lines in reading order)")
    stamp_marker: str = _opt("[stamp] ", user=True, doc="written before each line of stamp text in <page>.txt, so "
                             "that an index can tell a registry stamp from the letter (\"\": none; memo-ocr score "
                             "reads the default one back as stamp text)")
    hocr: bool = _opt(False, user=True, doc="write <page>.hocr (hOCR 1.2: words with bbox and x_wconf)")
    pdf: bool = _opt(False, user=True, doc="write <page>.pdf, a searchable PDF: the scan with an invisible text "
                     "layer (needs the pdf extra)")


@dataclass(frozen=True)
class ScoreConfig:
    """Accuracy against ground truth (memo-ocr score, run --gt)."""

    profile: str = _opt("strict", user=True, doc="normalisation of both sides before CER/WER: 'strict', 'archival', "
                        "'archival-pre1918' or one of profiles; `memo-ocr score --profile` overrides it")
    profiles: dict = field(default_factory=dict, metadata={
        "doc": "your own normalisation profiles, one table each: [score.profiles.NAME]", "user": True,
        "choices": None, "lo": None, "hi": None})

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


# tuning constants earlier versions had as keys -> where they are fixed in the code now
CONSTANTS = {
    ("preprocess", "border_dark_level"): "ocr/preprocess.py BORDER_DARK_LEVEL",
    ("preprocess", "speckle_max_area"): "ocr/preprocess.py SPECKLE_MAX_AREA",
    ("preprocess", "deskew_max_angle"): "ocr/preprocess.py DESKEW_MAX_ANGLE",
    ("preprocess", "deskew_min_text_rows"): "ocr/preprocess.py DESKEW_MIN_ROWS",
    ("preprocess", "deskew_min_confidence"): "ocr/preprocess.py DESKEW_MIN_CONFIDENCE",
    ("preprocess", "target_xheight"): "ocr/preprocess.py TARGET_XHEIGHT",
    ("preprocess", "max_scale"): "ocr/preprocess.py MAX_SCALE",
    ("preprocess", "sauvola_window"): "ocr/preprocess.py SAUVOLA_WINDOW",
    ("preprocess", "sauvola_k"): "ocr/preprocess.py SAUVOLA_K",
    ("tesseract", "min_line_letters"): "ocr/typed/lines.py MIN_LINE_LETTERS",
    ("tesseract", "trim_edge_word_conf"): "ocr/typed/lines.py EDGE_WORD_CONF",
    ("tesseract", "max_height_deviation"): "ocr/typed/lines.py MAX_HEIGHT_DEVIATION",
    ("layout", "min_prob"): "ocr/layout/route.py MIN_PROB",
}
# keys earlier versions had: ignored with a warning naming the key, so that an older config.toml still runs
REMOVED = {
    ("tesseract", "missed_lines"): "the step did not pay on pages it was not tuned on (docs/benchmarks.md)",
    ("tesseract", "min_line_conf"): "a type-sized line is kept however unsure: the threshold did not pay on pages "
                                    "it was not tuned on (docs/benchmarks.md)",
    **{key: f"a tuning constant, now fixed in the code ({where})" for key, where in CONSTANTS.items()},
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
                warnings.warn(f"{source}: [{name}] {key} is no longer a setting: {REMOVED[(name, key)]}; ignored",
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


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(x)}" for k, x in v.items()) + " }" \
            if v else "{}"
    return json.dumps(v, ensure_ascii=False)


def dump(cfg: Config) -> str:
    """Every key of ``cfg`` as config.toml text, each with its one-line doc (``memo-ocr config --dump``);
    ``load`` reads it back to an equal configuration."""
    out = ["# memo-ocr configuration: every key, with the value in effect (memo-ocr config --dump)."]
    for sf in dataclasses.fields(Config):
        section = getattr(cfg, sf.name)
        values = _plain(section)
        out += ["", f"[{sf.name}]"]
        for f in dataclasses.fields(section):
            value = values[f.name]
            out += [f"# {f.metadata.get('doc', '')}" + ("" if f.metadata.get("user") else " (advanced)"),
                    f"{f.name} = {_toml_value(value)}"]
    return "\n".join(out) + "\n"


def reference() -> str:
    """docs/config-reference.md: every section and key, from the dataclasses' own metadata (a test keeps the file
    equal to this; regenerate it with ``python -m ocr.config > docs/config-reference.md``)."""
    out = ["# Configuration reference", "",
           "Generated from `ocr/config.py` (`python -m ocr.config > docs/config-reference.md`); a test fails when "
           "this file is out of date.", "",
           "Every key is optional: a missing key takes its default. The bundled `config.toml` holds the keys a user "
           "changes (marked *config.toml* here); the others are for experiments and benchmarks, and the tuning "
           "constants of each stage live in its code. An unknown section or key, or a value outside what is "
           "allowed, stops the run with an error naming the key and the allowed values; a key of an earlier "
           "version that is no longer a setting is ignored with a warning naming it (the table at the end).", ""]
    for sf in dataclasses.fields(Config):
        cls = sf.default_factory  # type: ignore[misc]
        out += [f"## [{sf.name}]", "", (cls.__doc__ or "").strip(), "",
                "| key | default | allowed | where | what it does |", "|---|---|---|---|---|"]
        for f in dataclasses.fields(cls):
            m = f.metadata
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            if m.get("choices"):
                allowed = ", ".join(f"`{c!r}`" if isinstance(c, str) else f"`{c}`" for c in m["choices"])
            elif m.get("lo") is not None:
                allowed = f"{m['lo']} to {m['hi']}"
            else:
                allowed = {"bool": "true, false", "str": "text", "dict": "tables"}.get(str(f.type), str(f.type))
            shown = "`" + json.dumps(default, ensure_ascii=False) + "`"
            where = "*config.toml*" if m.get("user") else "advanced"
            out.append(f"| `{f.name}` | {shown} | {allowed} | {where} | {m.get('doc', '')} |")
        out.append("")
    out += ["## Keys of earlier versions", "", "Ignored with a warning naming the key.", "",
            "| key | why |", "|---|---|"]
    out += [f"| `[{sec}] {key}` | {why} |" for (sec, key), why in REMOVED.items()]
    return "\n".join(out) + "\n"


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


if __name__ == "__main__":
    print(reference(), end="")
