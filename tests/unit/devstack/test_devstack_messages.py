"""Every sentence exists in English and French, with the same blanks to fill."""

from __future__ import annotations

import string

import pytest

from binome_devstack.messages import CATALOGUE, choose_language, text

pytestmark = pytest.mark.unit


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_both_languages_fill_the_same_blanks(key: str) -> None:
    english, french = CATALOGUE[key]["en"], CATALOGUE[key]["fr"]

    assert english
    assert french
    assert english != french or not _fields(english)
    assert _fields(english) == _fields(french)


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"BINOME_LANG": "en", "LANG": "fr_FR.UTF-8"}, "en"),
        ({"LC_ALL": "fr_CA.UTF-8", "LANG": "en_GB.UTF-8"}, "fr"),
        ({"BINOME_LANG": "", "LANG": "fr_BE"}, "fr"),
    ],
)
def test_language_follows_binome_lang_then_the_locale(
    environ: dict[str, str], language: str
) -> None:
    assert choose_language(environ) == language


def test_text_fills_in_values() -> None:
    assert text("ready", language="en", component="Kafka", seconds=6.24, where="h:1") == (
        "Kafka ready in 6.2 s (h:1)"
    )
    assert text("ready", language="fr", component="Kafka", seconds=6.24, where="h:1") == (
        "Kafka prêt en 6.2 s (h:1)"
    )
