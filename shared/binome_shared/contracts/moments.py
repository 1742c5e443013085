"""Dates, instants and time zones every service can compute with.

Python's dates stop at the years 1 and 9999: a programme ending on 9999-12-31 made the
sessions service overflow when it computed the day after, and a session at year 1 with a
``+01:00`` offset overflowed on conversion to UTC, while the pairing service had stored both.
So contracts bound every date and instant to years no service's arithmetic can leave:

- what **commands** carry (programme dates, session times, objectives' target dates) lies in
  the years :data:`MIN_YEAR`–:data:`LAST_COMMAND_YEAR`;
- what **events and envelopes** carry lies in :data:`FIRST_EVENT_YEAR`–:data:`MAX_YEAR`: a
  year of room on each side for what services derive from a command — the same instant
  written in UTC (2000-01-01T00:00+14:00 is 1999-12-31T10:00Z), a session's end, a last due
  date — which is never a year away.

Every arithmetic a service does (session targets up to 24 × 12 weeks after a pair forms,
reminders up to two weeks before a session, stall deadlines up to a year after the last
session, the day after a programme ends) then stays centuries inside Python's and
PostgreSQL's ranges.

The year is read as written (in the value's own offset). Every instant carries an offset:
a naive time means a different moment in each service's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

MIN_YEAR = 2000
LAST_COMMAND_YEAR = 2199
FIRST_EVENT_YEAR = 1999
MAX_YEAR = 2200


@dataclass(frozen=True, slots=True)
class YearRange:
    """``Annotated`` metadata for a ``date`` or aware ``datetime``: its year within bounds."""

    first: int
    last: int

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, value: date) -> date:
        if not self.first <= value.year <= self.last:
            raise PydanticCustomError(
                "year_out_of_range",
                "year {year} is outside {first}–{last}, the years Binôme computes with",
                {"year": value.year, "first": self.first, "last": self.last},
            )
        return value

    @property
    def pattern(self) -> str:
        """The ISO 8601 spellings of those years, for JSON Schema readers."""
        if (self.first, self.last) == (MIN_YEAR, LAST_COMMAND_YEAR):
            return r"^(20|21)[0-9]{2}-"
        if (self.first, self.last) == (FIRST_EVENT_YEAR, MAX_YEAR):
            return r"^(1999|(20|21)[0-9]{2}|2200)-"
        raise NotImplementedError(f"no pattern written for years {self.first}–{self.last}")

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


_EVENT_YEARS = YearRange(first=FIRST_EVENT_YEAR, last=MAX_YEAR)
_COMMAND_YEARS = YearRange(first=MIN_YEAR, last=LAST_COMMAND_YEAR)

Moment = Annotated[AwareDatetime, _EVENT_YEARS]
"""An instant in an event or an envelope: with an offset, in the years 1999–2200."""

Day = Annotated[date, _EVENT_YEARS]
"""A calendar day in an event: in the years 1999–2200."""

CommandMoment = Annotated[AwareDatetime, _COMMAND_YEARS]
"""An instant a command asks for: with an offset, in the years 2000–2199."""

CommandDay = Annotated[date, _COMMAND_YEARS]
"""A calendar day a command sets: in the years 2000–2199."""


def _known_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(f"unknown IANA time zone {name!r}") from error
    return name


TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+\-/]*$"),
    AfterValidator(_known_time_zone),
]
"""An IANA time zone name (``Europe/Paris``), known to the tz database of every service."""
