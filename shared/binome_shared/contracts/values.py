"""Small value types shared by every contract."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from binome_shared.contracts.text import CONTROL_RANGES, free_text

_ADDRESS_ATOM = rf'[^@\s<>()\[\]\\,;:"{CONTROL_RANGES}]+'
EMAIL_PATTERN = rf"^{_ADDRESS_ATOM}@{_ADDRESS_ATOM}\.{_ADDRESS_ATOM}$"
"""Deliberately loose: the HR system of record owns address validity; this catches typos.

It also refuses what would let an address reach beyond its place in an e-mail header or an
SMTP command: white space, control characters, and ``<>()[]\\,;:"`` (quoted local parts are
legal but no HR system issues them)."""

EmailAddress = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=320)]
"""A work e-mail address (320 characters at most, as SMTP allows)."""


POSTGRES_INTEGER_MAX = 2_147_483_647

Count = Annotated[int, Field(ge=0, le=POSTGRES_INTEGER_MAX)]
"""A number of things: never negative, and it fits PostgreSQL's ``integer``."""

Fraction = Annotated[float, Field(ge=0, le=1)]
"""A score or a share in [0, 1] (never NaN nor infinite, which ``jsonb`` cannot hold)."""


class Language(StrEnum):
    """Languages Binôme speaks to people in."""

    FR = "fr"
    EN = "en"


class LocalisedText(BaseModel):
    """A text a person reads, in French and in English (line breaks allowed, no controls)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fr: Annotated[str, free_text(4000, min_length=1)] = Field(
        description="French text.",
        examples=["Lancement et objectifs"],
    )
    en: Annotated[str, free_text(4000, min_length=1)] = Field(
        description="English text.",
        examples=["Kick-off and objectives"],
    )

    def in_language(self, language: Language | str) -> str:
        return self.en if str(language) == Language.EN else self.fr
