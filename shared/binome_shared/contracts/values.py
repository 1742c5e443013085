"""Small value types shared by every contract."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
"""Deliberately loose: the HR system of record owns address validity; this catches typos."""


class Language(StrEnum):
    """Languages Binôme speaks to people in."""

    FR = "fr"
    EN = "en"


class LocalisedText(BaseModel):
    """A text a person reads, in French and in English."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fr: str = Field(
        min_length=1,
        max_length=4000,
        description="French text.",
        examples=["Lancement et objectifs"],
    )
    en: str = Field(
        min_length=1,
        max_length=4000,
        description="English text.",
        examples=["Kick-off and objectives"],
    )

    def in_language(self, language: Language | str) -> str:
        return self.en if str(language) == Language.EN else self.fr
