"""What the synthetic memos say: the seed memo (corrected) and generated memos of the same genre.

Every generated page draws its body words from a real Russian vocabulary
(``wordfreq`` frequencies, ``pymorphy3`` to inflect), so no two pages share
their text and a model cannot learn the reel by heart.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

ROMAN_MONTHS = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
MONTHS_GEN = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
              "октября", "ноября", "декабря"]


@dataclass
class Note:
    """A handwritten note: its lines, kind (PAGE @type) and where on the page it goes."""

    lines: list[str]
    type: str = "marginalia"  # or "signature-mark"
    anchor: str = "top-right"  # top-left, top-right, left, right, bottom-left, bottom-right, signature-N


@dataclass
class Stamp:
    """A rubber stamp: round (text on the arc + centre lines) or rectangular (lines)."""

    shape: str  # "round" | "rect"
    arc: str = ""
    lines: list[str] = field(default_factory=list)
    anchor: str = "bottom-left"
    # the wear real stamps show (``stamp_variety``): a round stamp squeezed into an oval (its width over its
    # height), ink strength, a second fainter strike beside the first (its offset in pixels), a part left
    # uninked (the share of the stamp, from one side, at that angle in degrees)
    squeeze: float = 1.0
    ink: float = 1.0
    double: tuple[int, int] = (0, 0)
    partial: tuple[float, float] = (0.0, 0.0)
    ruled: bool = False  # a rectangular stamp's lines in ruled fields: a rule between each two lines

    @property
    def text_lines(self) -> list[str]:
        return ([self.arc] if self.arc else []) + self.lines


@dataclass
class Memo:
    """A memo's typed blocks (each a list of paragraphs or lines), notes and stamps."""

    heading: list[str]
    paragraphs: list[str]
    signatures: list[tuple[str, str]]  # (position line, typed name) pairs
    footer: list[str]  # date, number
    notes: list[Note]
    stamps: list[Stamp]
    legacy: str | None = None  # the archive's own transcription, where one exists


SEED = Memo(
    heading=["В ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС"],
    paragraphs=[
        "Генеральный секретарь ЦК Народной партии Ирана т. Радманеш обратился в ЦК КПСС с просьбой "
        "о направлении двух членов ЦК НПИ т.т. Ираджа Искандери и Реза Руста в Сталинабад для "
        "ознакомления с положением иранских политэмигрантов, проживающих в Таджикской ССР.",
        "Считали бы возможным удовлетворить просьбу ЦК Народной партии Ирана и разрешить членам ЦК НПИ "
        "т.т. Искандери и Руста поездку в Сталинабад сроком на две недели. Сопровождать их будет "
        "референт Отдела ЦК КПСС т. Волошин Ф.Ф.",
        "Расходы, связанные с поездкой т.т. Искандери и Руста, можно было бы отнести за счет сметы по "
        "приему и обслуживанию зарубежных партийных и общественных деятелей.",
    ],
    signatures=[
        ("Зам. зав. Отделом ЦК КПСС по связям с иностранными компартиями", "(И. Виноградов)"),
        ("Зав. сектором Отдела ЦК КПСС", "(И. Козлов)"),
    ],
    footer=["16 декабря 1955 года", "№ 25-С-2461"],
    notes=[
        Note(["Т.т. Искандери, Руст и Волошин", "выехали в командировку", "13.I.56г."], "marginalia", "top-right"),
        Note(["Решено"], "marginalia", "left"),
        Note(["И. Виноградов"], "signature-mark", "signature-0"),
        Note(["И. Козлов"], "signature-mark", "signature-1"),
        Note(["исполнено", "19.XII.55"], "marginalia", "bottom-right"),
        Note(["к возврату"], "marginalia", "bottom-left"),
    ],
    stamps=[
        Stamp("rect", "", ["ЦК КПСС", "46824", "17 XII 1955", "ОБЩИЙ ОТДЕЛ"], "top-left"),
        Stamp("round", "ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", ["АРХИВ", "№ 5734"], "bottom-center"),
    ],
)


# The archive's own Russian transcription of the seed memo (Wilson Center Digital Archive, document
# 119711), kept verbatim with its errors: "Реаа Руста", "Единогоров", "Сиродия" ...
SEED_LEGACY = """\
В ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС
Генеральный секретарь ЦК Народной партии Ирана т. Радманеш обратился в ЦК КПСС с просьбой о направлении двух членов ЦК НПИ т. т. Ираджа Искандери и Реаа Руста в Сталинабад для ознакомления с положением иранских политэмигрантов, проживающих в Таджикской ССР.
Считали бы возможным удовлетворить просьбу ЦК Народной партии Ирана и разрешить членам ЦК НПИ т. т. Искандери и Руста поездку в Сталинабад сроком на две недели. Сопровождать их будет референт Отдела ЦК КПСС т. Волошин Ф.Ф.
Расходы, связанные с поездкой т. т. Искандери и Руста, можно было бы отнести за счет сметы по приему и обслуживанию зарубежных партийных и общественных деятелей.
Решено
Зам. зав. Отделом ЦК КПСС по связям с иностранными компартиями
И. Единогоров
(И. Единогоров)
Зав. сектором Отдела ЦК КПСС
И. Козлов (И. Козлов)
16 декабря 1955 года
№ 25-С-2461
Сиродия
Т.т. Исаагулов, Рудба и Волошин в командировку в Сталин.
Зав. сектором И. Козлов
13. I 562
к возврату
2.3лк
исполнено.
тов. Единогорову и тов. Волошину
19. XII 55. Балду
Ираджа Искандери
Р. Руста
17. I 562
А. И. 3. 562. А. Единогоров
ИВ
КПСС
лик 5734
хр. 344
ратор
нова Т.К
46824
"""


def seed_legacy_transcription(seed_text: str) -> str:
    """The archive's own Russian transcription: the Russian part of the seed file, before the English one."""
    lines = seed_text.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip().startswith("В ЦЕНТРАЛЬНЫЙ КОМИТЕТ"))
        end = next(i for i, ln in enumerate(lines) if ln.strip().startswith("TO THE CPSU"))
    except StopIteration:
        return ""
    out = [ln.replace("*", "").rstrip() for ln in lines[start:end]]
    return "\n".join(ln for ln in out if ln.strip()) + "\n"


# --- generated memos --------------------------------------------------------------
SURNAMES = ["Волошин", "Козлов", "Виноградов", "Петров", "Смирнов", "Кузнецов", "Соколов", "Попов", "Лебедев",
            "Новиков", "Морозов", "Павлов", "Федоров", "Михайлов", "Орлов", "Захаров", "Зайцев", "Борисов",
            "Яковлев", "Григорьев", "Романов", "Степанов", "Белов", "Тарасов", "Жуков", "Ёлкин", "Щербаков"]
INITIALS = "АБВГДЕЗИКЛМНОПРСТФЮЯ"
ADDRESSEES = ["В ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", "СЕКРЕТАРЮ ЦК КПСС", "В ОТДЕЛ ЦК КПСС ПО СВЯЗЯМ С ИНОСТРАННЫМИ КОМПАРТИЯМИ",
              "В СОВЕТ МИНИСТРОВ СССР", "ЗАВЕДУЮЩЕМУ ОБЩИМ ОТДЕЛОМ ЦК КПСС"]
DEPARTMENTS = ["Отдела ЦК КПСС по связям с иностранными компартиями", "Отдела пропаганды и агитации ЦК КПСС",
               "Международного отдела ЦК КПСС", "Отдела науки и культуры ЦК КПСС", "Общего отдела ЦК КПСС"]
CITIES = ["Москву", "Ленинград", "Киев", "Ташкент", "Сталинабад", "Баку", "Тбилиси", "Минск", "Ригу", "Алма-Ату"]
COUNTRIES = ["Ирана", "Италии", "Франции", "Индии", "Греции", "Финляндии", "Турции", "Австрии", "Бельгии"]
POSITIONS = ["Зав. сектором Отдела ЦК КПСС", "Зам. зав. Отделом ЦК КПСС", "Референт Отдела ЦК КПСС",
             "Инструктор Отдела ЦК КПСС", "Зав. Отделом ЦК КПСС"]
RESOLUTIONS = ["исполнено", "к возврату", "в дело", "Согласен", "Ознакомлен", "Доложено", "В архив",
               "Прошу подготовить ответ", "Снять с контроля", "Переговорить"]
NUMBER_WORDS = ["две недели", "десять дней", "один месяц", "три недели", "пятнадцать дней"]


def roman_date(rng: np.random.Generator, year: int | None = None, style: int | None = None) -> str:
    """A handwritten-style date: 13.I.56г., 19.XII.55, 3/IV-56 ..."""
    d, m = int(rng.integers(1, 29)), int(rng.integers(0, 12))
    y = year if year is not None else int(rng.integers(53, 58))
    style = int(rng.integers(0, 3)) if style is None else style
    return [f"{d}.{ROMAN_MONTHS[m]}.{y}г.", f"{d}.{ROMAN_MONTHS[m]}.{y}", f"{d}/{ROMAN_MONTHS[m]}-{y}"][style]


def person(rng: np.random.Generator) -> str:
    a, b = rng.choice(list(INITIALS), 2)
    return f"{rng.choice(SURNAMES)} {a}.{b}."


def short_person(rng: np.random.Generator) -> str:
    return f"{rng.choice(list(INITIALS))}. {rng.choice(SURNAMES)}"


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, list]:
    """Frequent Russian nouns (inanimate, common), with pymorphy3 parses to inflect them.

    Raises ImportError with an install hint when the ``synth`` extra is missing.
    """
    try:
        import pymorphy3
        from wordfreq import top_n_list
    except ImportError as e:
        raise ImportError(f"memo-ocr synth needs the synth extra (pip install 'memo-ocr[synth]'): {e}") from None
    morph = pymorphy3.MorphAnalyzer()
    nouns, adjs = [], []
    for w in top_n_list("ru", 25000):
        if len(w) < 4 or not all("а" <= c <= "я" or c == "ё" for c in w):
            continue
        p = morph.parse(w)[0]
        if p.score < 0.5 or p.normal_form != w:
            continue
        if p.tag.POS == "NOUN" and "inan" in p.tag and not ({"Name", "Surn", "Patr", "Geox", "Orgn", "Abbr"} & p.tag.grammemes):
            nouns.append(p)
        elif p.tag.POS == "ADJF" and "Qual" not in p.tag and not ({"Apro", "Anum"} & p.tag.grammemes):
            adjs.append(p)
    return {"nouns": nouns, "adjs": adjs}


def _phrase(rng: np.random.Generator, case: str) -> str:
    """An adjective + noun phrase from the vocabulary, inflected to ``case`` (gent, loct, accs ...)."""
    v = vocabulary()
    for _ in range(20):
        n = v["nouns"][int(rng.integers(0, len(v["nouns"])))]
        a = v["adjs"][int(rng.integers(0, len(v["adjs"])))]
        nf = n.inflect({case, "sing"})
        if nf is None:
            continue
        gender = n.tag.gender or "masc"
        af = a.inflect({case, "sing", gender} if gender in ("masc", "femn", "neut") else {case, "sing"})
        if af is None:
            continue
        if case == "accs" and gender == "masc" and "anim" not in n.tag:
            af = a.inflect({"nomn", "sing", "masc"}) or af
        return f"{af.word} {nf.word}"
    return "текущей работы"


def _about(rng: np.random.Generator) -> str:
    """'о' or 'об' + a phrase in the prepositional case."""
    phrase = _phrase(rng, "loct")
    return ("об " if phrase[0] in "аоуэиАОУЭИ" else "о ") + phrase


def generate_memo(rng: np.random.Generator) -> Memo:
    """A memo of the seed's genre with fresh names, dates, numbers and vocabulary."""
    year = int(rng.integers(53, 58))
    month = int(rng.integers(0, 12))
    day = int(rng.integers(1, 29))
    p1, p2, guide = person(rng), person(rng), person(rng)
    country, city = rng.choice(COUNTRIES), rng.choice(CITIES)
    dept = rng.choice(DEPARTMENTS)
    sentences = [
        f"ЦК Коммунистической партии {country} обратился в ЦК КПСС с просьбой о приеме делегации "
        f"(т.т. {p1}, {p2}) для ознакомления с опытом {_phrase(rng, 'gent')} и {_phrase(rng, 'gent')}.",
        f"Считали бы возможным принять указанных товарищей и организовать им поездку в {city} сроком на "
        f"{rng.choice(NUMBER_WORDS)}. Сопровождать их будет референт {dept} т. {guide}".rstrip(".") + ".",
        f"Расходы, связанные с пребыванием делегации, можно было бы отнести за счет сметы по "
        f"{_phrase(rng, 'datv')} и приему зарубежных деятелей.",
        f"В ходе беседы были затронуты вопросы {_about(rng)}, а также {_about(rng)}.",
        f"Просим рассмотреть вопрос {_about(rng)} и сообщить решение до "
        f"{int(rng.integers(1, 29))} {MONTHS_GEN[int(rng.integers(0, 12))]} 19{year} года.",
        f"Проект постановления ЦК КПСС по данному вопросу прилагается. Согласовано с т. {short_person(rng)}.",
    ]
    k = int(rng.integers(3, 6))
    chosen = sorted(rng.choice(len(sentences), size=k, replace=False).tolist())
    paragraphs = [sentences[i] for i in chosen]
    signers = [(str(rng.choice(POSITIONS)), f"({short_person(rng)})") for _ in range(int(rng.integers(1, 3)))]
    number = f"№ {int(rng.integers(10, 99))}-{rng.choice(list('СНКОП'))}-{int(rng.integers(100, 9999))}"
    notes = [Note([n[1:-1]], "signature-mark", f"signature-{i}") for i, (_, n) in enumerate(signers)]
    margins = ["top-right", "left", "bottom-right", "bottom-left"]
    for anchor in rng.choice(margins, size=int(rng.integers(1, 4)), replace=False):
        lines = [str(rng.choice(RESOLUTIONS))]
        if rng.random() < 0.6:
            lines.append(roman_date(rng, year))
        if rng.random() < 0.3:
            lines.insert(0, f"т. {rng.choice(SURNAMES)}")
        notes.append(Note(lines, "marginalia", str(anchor)))
    stamps = []
    if rng.random() < 0.8:
        stamps.append(Stamp("rect", "", ["ЦК КПСС", str(int(rng.integers(10000, 99999))),
                                         f"{day} {ROMAN_MONTHS[month]} 19{year}", "ОБЩИЙ ОТДЕЛ"], "top-left"))
    if rng.random() < 0.7:
        stamps.append(Stamp("round", str(rng.choice(["ЦЕНТРАЛЬНЫЙ КОМИТЕТ КПСС", "ОБЩИЙ ОТДЕЛ ЦК КПСС"])),
                            ["АРХИВ", f"№ {int(rng.integers(100, 9999))}"], str(rng.choice(["bottom-center", "mid-right"]))))
    return Memo(
        heading=[str(rng.choice(ADDRESSEES))],
        paragraphs=paragraphs,
        signatures=signers,
        footer=[f"{day} {MONTHS_GEN[month]} 19{year} года", number],
        notes=notes,
        stamps=stamps,
    )


def stamp_variety(rng: np.random.Generator, stamps: list[Stamp]) -> list[Stamp]:
    """``stamps`` worn as real ones are: round ones often oval, some faint, double-struck or partly uninked;
    half the rectangular ones registry stamps with ruled fields."""
    out = []
    for st in stamps:
        squeeze = float(rng.uniform(0.7, 0.88)) if st.shape == "round" and rng.random() < 0.5 else 1.0
        ink = float(rng.uniform(0.45, 0.7)) if rng.random() < 0.3 else 1.0
        double = (int(rng.integers(4, 12)) * int(rng.choice([-1, 1])), int(rng.integers(3, 10))) \
            if rng.random() < 0.2 else (0, 0)
        partial = (float(rng.uniform(0.2, 0.4)), float(rng.uniform(0, 360))) if rng.random() < 0.25 else (0.0, 0.0)
        out.append(dataclasses.replace(st, squeeze=squeeze, ink=ink, double=double, partial=partial))
    # drawn after the rest, so that a stamp's other wear is what it was before ruled fields were drawn
    return [dataclasses.replace(st, ruled=bool(rng.random() < 0.5)) if st.shape == "rect" else st for st in out]
