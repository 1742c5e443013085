"""Which language a person at a terminal reads: French or English."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final, Literal

Language = Literal["fr", "en"]

LANGUAGE_VARIABLES: Final = ("BINOME_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


def default_language(environ: Mapping[str, str] = os.environ) -> Language:
    """French when ``BINOME_LANG`` (then the first locale variable set) starts with ``fr``,
    as for the local stack's messages; English otherwise."""
    for variable in LANGUAGE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"
