"""Dates and times written the way a French or English reader expects, in their time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from binome_shared.contracts.values import Language

_FRENCH_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_FRENCH_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_ENGLISH_WEEKDAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
_ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_day(day: date, language: Language) -> str:
    """« jeudi 3 décembre 2026 », « mardi 1er décembre 2026 » / "Thursday 3 December 2026"."""
    if language is Language.FR:
        day_of_month = "1er" if day.day == 1 else str(day.day)
        weekday = _FRENCH_WEEKDAYS[day.weekday()]
        return f"{weekday} {day_of_month} {_FRENCH_MONTHS[day.month - 1]} {day.year}"
    weekday = _ENGLISH_WEEKDAYS[day.weekday()]
    return f"{weekday} {day.day} {_ENGLISH_MONTHS[day.month - 1]} {day.year}"


def format_clock_time(moment: datetime, language: Language) -> str:
    """« 14 h 00 » / "2:00 PM" (the wall-clock time of ``moment`` as given)."""
    if language is Language.FR:
        return f"{moment.hour} h {moment.minute:02d}"
    hour_on_dial = moment.hour % 12 or 12
    meridiem = "AM" if moment.hour < 12 else "PM"
    return f"{hour_on_dial}:{moment.minute:02d} {meridiem}"


def to_time_zone(moment: datetime, time_zone: str) -> datetime:
    """``moment`` on the wall clock of ``time_zone``; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no meaning across time zones")
    return moment.astimezone(ZoneInfo(time_zone))


def format_moment(moment: datetime, *, language: Language, time_zone: str) -> str:
    """« jeudi 3 décembre 2026 à 14 h 00 (Europe/Paris) » / "Thursday 3 December 2026, 2:00 PM
    (Europe/Paris)", as seen from ``time_zone``."""
    local = to_time_zone(moment, time_zone)
    day = format_day(local.date(), language)
    clock = format_clock_time(local, language)
    if language is Language.FR:
        return f"{day} à {clock} ({time_zone})"
    return f"{day}, {clock} ({time_zone})"
