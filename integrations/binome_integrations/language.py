"""Which language a person at a terminal reads, and how a text is said in it.

Every bilingual text of the integrations and of the demo is a
:class:`~binome_shared.contracts.values.LocalisedText`, kept in tables keyed by what it says
(as pairing's texts are), and said with :func:`localised`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from binome_shared.contracts.values import Language, LocalisedText

LANGUAGE_VARIABLES: Final = ("BINOME_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


def default_language(environ: Mapping[str, str] = os.environ) -> Language:
    """French when ``BINOME_LANG`` (then the first locale variable set) starts with ``fr``,
    as for the local stack's messages; English otherwise."""
    for variable in LANGUAGE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            return Language.FR if value.lower().startswith("fr") else Language.EN
    return Language.EN


def localised(text: LocalisedText, language: Language, /, **values: object) -> str:
    """``text`` in ``language``, its ``{placeholders}`` filled in with ``values``."""
    return text.in_language(language).format(**values)
