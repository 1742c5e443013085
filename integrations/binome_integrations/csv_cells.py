"""Reading and writing the cells of the HR participants CSV, one value type at a time.

Every reader turns a non-empty, stripped cell into a Python value or raises
:class:`CellError` saying what is wrong in French and in English; every writer is its exact
inverse, so a profile written then read back is the same profile.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import time
from enum import StrEnum
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from binome_shared.contracts.participants import (
    LANGUAGE_CODE_PATTERN,
    TOPIC_PATTERN,
    Gender,
    LearningNeed,
    ParticipantRole,
    Skill,
    Weekday,
    WeeklySlot,
    WorkingHours,
)
from binome_shared.contracts.values import EMAIL_PATTERN, Language

LIST_SEPARATOR = "|"
LEVEL_RANGE = range(1, 6)

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


class BilingualError(ValueError):
    """An error whose reason is said in French and in English (``str()`` gives English).

    The two reasons are plain strings rather than a
    :class:`~binome_shared.contracts.values.LocalisedText`: they quote the cell as HR wrote
    it, which may hold control characters or be longer than a LocalisedText allows.
    """

    def __init__(self, *, fr: str, en: str) -> None:
        super().__init__(en)
        self.message_fr = fr
        self.message_en = en

    def message(self, language: Language) -> str:
        """The reason in ``language``."""
        return self.message_fr if language == Language.FR else self.message_en


class CellError(BilingualError):
    """A cell that cannot be read, with the reason in French and in English."""


def fold(text: str) -> str:
    """Lower case, accents removed, runs of anything but letters and digits as one ``_``.

    HR tools spell headers and values freely (``Année de naissance``, ``MENTORÉ``); folding
    makes ``annee_de_naissance`` and ``mentore`` of them.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "_", bare.lower()).strip("_")


def read_text(cell: str) -> str:
    """Free text, as written (the cell is already stripped)."""
    return cell


def read_email(cell: str) -> str:
    """A work e-mail address (loosely checked: HR's system of record owns validity)."""
    if not re.fullmatch(EMAIL_PATTERN, cell):
        raise CellError(
            fr=f"« {cell} » n'est pas une adresse e-mail",
            en=f"'{cell}' is not an e-mail address",
        )
    return cell


def read_integer(cell: str) -> int:
    """A whole number, ``12`` or ``+12``; spaces used as thousands separators are allowed."""
    compact = cell.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not re.fullmatch(r"[+-]?\d{1,9}", compact):
        raise CellError(
            fr=f"« {cell} » n'est pas un nombre entier",
            en=f"'{cell}' is not a whole number",
        )
    return int(compact)


_TRUE = frozenset({"oui", "yes", "true", "vrai", "1", "o", "y"})
_FALSE = frozenset({"non", "no", "false", "faux", "0", "n"})


def read_boolean(cell: str) -> bool:
    """``oui``/``non``, ``yes``/``no``, ``true``/``false``, ``vrai``/``faux``, ``1``/``0``."""
    folded = fold(cell)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise CellError(
        fr=f"« {cell} » n'est pas un booléen (oui/non, yes/no, true/false, 1/0)",
        en=f"'{cell}' is not a boolean (yes/no, oui/non, true/false, 1/0)",
    )


def _alias_table(enum: type[E], aliases: dict[E, tuple[str, ...]]) -> dict[str, E]:
    """Every member by its folded value and by each folded alias HR may write for it."""
    return {fold(member.value): member for member in enum} | {
        fold(alias): member for member, names in aliases.items() for alias in names
    }


def _enum_reader(
    enum: type[E], aliases: dict[E, tuple[str, ...]], *, what_fr: str, what_en: str
) -> Callable[[str], E]:
    table = _alias_table(enum, aliases)
    accepted = ", ".join(member.value for member in enum)

    def read(cell: str) -> E:
        member = table.get(fold(cell))
        if member is None:
            raise CellError(
                fr=f"« {cell} » n'est pas {what_fr} connu ({accepted})",
                en=f"'{cell}' is not a known {what_en} ({accepted})",
            )
        return member

    return read


read_role = _enum_reader(
    ParticipantRole,
    {
        ParticipantRole.MENTEE: ("mentoré", "mentorée", "mentoré(e)"),
        ParticipantRole.MENTOR: ("mentor inversé",),
    },
    what_fr="un rôle",
    what_en="role",
)
"""``mentor``/``mentee``; French ``mentoré``, ``mentorée`` read as mentee."""

read_gender = _enum_reader(
    Gender,
    {
        Gender.FEMALE: ("f", "femme", "woman"),
        Gender.MALE: ("h", "m", "homme", "man"),
        Gender.NON_BINARY: ("non binaire", "nb", "x"),
    },
    what_fr="un genre",
    what_en="gender",
)

read_language = _enum_reader(
    Language,
    {Language.FR: ("français", "francais", "french"), Language.EN: ("anglais", "english")},
    what_fr="une langue de communication",
    what_en="messaging language",
)


def read_time_zone(cell: str) -> str:
    """An IANA time zone such as ``Europe/Paris``."""
    try:
        ZoneInfo(cell)
    except (ZoneInfoNotFoundError, ValueError):
        raise CellError(
            fr=f"« {cell} » n'est pas un fuseau horaire IANA (par exemple Europe/Paris)",
            en=f"'{cell}' is not an IANA time zone (for example Europe/Paris)",
        ) from None
    return cell


def _items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(LIST_SEPARATOR) if item.strip()]


def _read_list(cell: str, read_item: Callable[[str], T], *, key: Callable[[T], str]) -> list[T]:
    """The ``|``-separated items of ``cell``, each read by ``read_item``; the first item
    refused stops the reading, then two items with the same ``key`` refuse the cell."""
    values = [read_item(item) for item in _items(cell)]
    repeated = sorted(name for name, count in Counter(map(key, values)).items() if count > 1)
    if repeated:
        listed = ", ".join(repeated)
        raise CellError(
            fr=f"« {listed} » figure plusieurs fois dans « {cell} »",
            en=f"'{listed}' appears more than once in '{cell}'",
        )
    return values


def _slug(item: str) -> str:
    slug = item.lower()
    if not re.fullmatch(TOPIC_PATTERN, slug):
        raise CellError(
            fr=f"« {item} » n'est pas un identifiant de sujet (minuscules, chiffres, - et _)",
            en=f"'{item}' is not a topic slug (lower-case letters, digits, - and _)",
        )
    return slug


def _language_code(item: str) -> str:
    code = item.lower()
    if not re.fullmatch(LANGUAGE_CODE_PATTERN, code):
        raise CellError(
            fr=f"« {code} » n'est pas un code de langue ISO 639 (fr, en, es…)",
            en=f"'{code}' is not an ISO 639 language code (fr, en, es…)",
        )
    return code


def read_slugs(cell: str) -> list[str]:
    """``photography|sustainability``: topic slugs separated by ``|``."""
    return _read_list(cell, _slug, key=str)


def read_language_codes(cell: str) -> list[str]:
    """``fr|en``: ISO 639 codes separated by ``|``."""
    return _read_list(cell, _language_code, key=str)


def _topic_and_level(item: str, *, what_fr: str, what_en: str) -> tuple[str, int]:
    topic, separator, level_text = item.partition(":")
    if not separator:
        raise CellError(
            fr=f"« {item} » doit s'écrire sujet:{what_fr} (par exemple linkedin:4)",
            en=f"'{item}' must be written topic:{what_en} (for example linkedin:4)",
        )
    level_text = level_text.strip()
    if not level_text.isdigit() or int(level_text) not in LEVEL_RANGE:
        raise CellError(
            fr=f"{what_fr} « {level_text} » de « {topic.strip()} » doit être entre 1 et 5",
            en=f"{what_en} '{level_text}' of '{topic.strip()}' must be between 1 and 5",
        )
    return _slug(topic.strip()), int(level_text)


def _topic(pair: tuple[str, int]) -> str:
    return pair[0]


def read_skills(cell: str) -> list[Skill]:
    """``generative_ai:4|linkedin:3``: topic and level (1–5) pairs separated by ``|``."""
    pairs = _read_list(
        cell, partial(_topic_and_level, what_fr="niveau", what_en="level"), key=_topic
    )
    return [Skill(topic=topic, level=level) for topic, level in pairs]


def read_learning_needs(cell: str) -> list[LearningNeed]:
    """``generative_ai:5|data:3``: topic and priority (1–5) pairs separated by ``|``."""
    pairs = _read_list(
        cell, partial(_topic_and_level, what_fr="priorité", what_en="priority"), key=_topic
    )
    return [LearningNeed(topic=topic, priority=priority) for topic, priority in pairs]


_WEEKDAYS = _alias_table(
    Weekday,
    {
        Weekday.MONDAY: ("mon", "lun", "lundi"),
        Weekday.TUESDAY: ("tue", "mar", "mardi"),
        Weekday.WEDNESDAY: ("wed", "mer", "mercredi"),
        Weekday.THURSDAY: ("thu", "jeu", "jeudi"),
        Weekday.FRIDAY: ("fri", "ven", "vendredi"),
        Weekday.SATURDAY: ("sat", "sam", "samedi"),
        Weekday.SUNDAY: ("sun", "dim", "dimanche"),
    },
)

_TIME = re.compile(r"^(\d{1,2})(?:[:hH](\d{2})?)?(?::(\d{2}))?$")


def _read_time(text: str) -> time:
    match = _TIME.fullmatch(text.strip())
    if match:
        hour, minute, second = (int(group or 0) for group in match.groups())
        if hour <= 23 and minute <= 59 and second <= 59:
            return time(hour, minute, second)
    raise CellError(
        fr=f"« {text.strip()} » n'est pas une heure (HH:MM, par exemple 08:30 ou 8h30)",
        en=f"'{text.strip()}' is not a time of day (HH:MM, for example 08:30)",
    )


def _read_range(text: str) -> tuple[time, time]:
    start_text, separator, end_text = text.partition("-")
    if not separator:
        raise CellError(
            fr=f"« {text} » doit être une plage début-fin (par exemple 09:00-18:00)",
            en=f"'{text}' must be a start-end range (for example 09:00-18:00)",
        )
    start, end = _read_time(start_text), _read_time(end_text)
    if end <= start:
        raise CellError(
            fr=f"dans « {text} », la fin doit être après le début",
            en=f"in '{text}', the end must be later than the start",
        )
    return start, end


def read_availability(cell: str) -> list[WeeklySlot]:
    """``mon 09:00-11:00|thu 08:30-10:00``: weekly slots separated by ``|``.

    Days may be English or French, abbreviated or not (``mon``, ``lundi``, ``jeu``).
    """
    slots: list[WeeklySlot] = []
    for item in _items(cell):
        day_text, _, range_text = item.partition(" ")
        day = _WEEKDAYS.get(fold(day_text))
        if day is None:
            raise CellError(
                fr=f"« {item} » doit commencer par un jour (lun…dim ou mon…sun)",
                en=f"'{item}' must start with a day (mon…sun or lun…dim)",
            )
        start, end = _read_range(range_text.strip())
        slots.append(WeeklySlot(weekday=day, start=start, end=end))
    return slots


def read_working_hours(cell: str) -> WorkingHours:
    """``09:00-18:00``: the usual local working day."""
    start, end = _read_range(cell)
    return WorkingHours(start=start, end=end)


def write_time(value: time) -> str:
    """``08:30``, or ``08:30:15`` when there are seconds."""
    return f"{value:%H:%M:%S}" if value.second else f"{value:%H:%M}"


def write_slot(slot: WeeklySlot) -> str:
    """``mon 08:30-10:00``."""
    return f"{slot.weekday.value[:3]} {write_time(slot.start)}-{write_time(slot.end)}"


def write_working_hours(hours: WorkingHours) -> str:
    """``09:00-18:00``."""
    return f"{write_time(hours.start)}-{write_time(hours.end)}"


def write_boolean(value: bool) -> str:
    """``yes`` or ``no``."""
    return "yes" if value else "no"


def join(items: Iterable[str]) -> str:
    """Items separated by ``|``."""
    return LIST_SEPARATOR.join(items)
