"""Reading ``BINOME_*`` variables strictly: secrets from files, and no typo goes unnoticed.

Two rules every Binôme settings class follows:

- any setting may be given as a file instead of a value: ``BINOME_X_FILE=/path`` reads
  ``BINOME_X`` from that file (the Kubernetes Secret-volume convention, which keeps
  passwords out of ``/proc/<pid>/environ`` and ``kubectl describe``);
- a ``BINOME_*`` variable that no settings class of the process reads is an error that names
  it and suggests the closest known name, instead of being silently ignored (an operator's
  ``BINOME_KAFKA_SECURITY_PROTOCL=SASL_SSL`` would otherwise leave Kafka in plaintext).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

PREFIX: Final = "BINOME_"
FILE_SUFFIX: Final = "_FILE"

PROCESS_WIDE_VARIABLES: Final = frozenset({"BINOME_LANG", "BINOME_FAILPOINTS"})
"""Read by every process outside the settings classes: the language of messages, and the
crash points the exactly-once tests arm."""

OTHER_TOOLS_PREFIXES: Final = ("BINOME_STACK_",)
"""Variables of the local stack's own tool (``binome-stack``), which services inherit when a
developer starts them from the same shell."""


def variable_name(settings: type[BaseSettings], field_name: str) -> str:
    """The environment variable a field is read from (``BINOME_`` + its name, upper case)."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    return f"{prefix}{field_name}".upper()


class FileVariablesSource(PydanticBaseSettingsSource):
    """``BINOME_X_FILE=/path`` gives setting ``x`` the file's content (final newline dropped)."""

    def __init__(
        self, settings_cls: type[BaseSettings], environ: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(settings_cls)
        self._environ = os.environ if environ is None else environ

    def get_field_value(
        self,
        field: FieldInfo,  # noqa: ARG002 - the signature of the base class
        field_name: str,
    ) -> tuple[Any, str, bool]:
        variable = variable_name(self.settings_cls, field_name)
        path = self._environ.get(variable + FILE_SUFFIX)
        if not path:
            return None, field_name, False
        if self._environ.get(variable):
            raise SettingsError(
                f"{variable} and {variable}{FILE_SUFFIX} are both set: keep one / "
                f"{variable} et {variable}{FILE_SUFFIX} sont définies toutes deux : gardez-en une"
            )
        try:
            content = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise SettingsError(
                f"{variable}{FILE_SUFFIX}: cannot read {path} ({error.strerror}) / "
                f"impossible de lire {path}"
            ) from error
        # Files written with `echo` end with a newline that is not part of the secret.
        return content.rstrip("\r\n"), field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, field_name)
            if value is not None:
                values[key] = value
        return values


class BinomeSettings(BaseSettings):
    """Base of every Binôme settings class: ``BINOME_*`` variables, ``…_FILE`` secrets."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            FileVariablesSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )


@dataclass(frozen=True, slots=True)
class UnknownVariable:
    """A ``BINOME_*`` variable nothing reads, and the known name it most resembles."""

    name: str
    suggestion: str | None

    def explain(self) -> str:
        if self.suggestion is None:
            return f"{self.name}: unknown setting / réglage inconnu"
        return (
            f"{self.name}: unknown setting, did you mean {self.suggestion}? / "
            f"réglage inconnu, vouliez-vous dire {self.suggestion} ?"
        )


class UnknownSettingsError(ValueError):
    """Raised at start-up when ``BINOME_*`` variables are set that nothing would read."""

    def __init__(self, unknown: Iterable[UnknownVariable]) -> None:
        self.unknown = tuple(unknown)
        super().__init__("\n".join(variable.explain() for variable in self.unknown))


def known_variables(*settings: type[BaseSettings]) -> frozenset[str]:
    """Every variable the given settings classes read, ``…_FILE`` forms included."""
    names = {variable_name(cls, field) for cls in settings for field in cls.model_fields}
    return frozenset(names | {name + FILE_SUFFIX for name in names} | PROCESS_WIDE_VARIABLES)


def unknown_variables(
    environ: Mapping[str, str], *settings: type[BaseSettings]
) -> list[UnknownVariable]:
    """The ``BINOME_*`` variables of ``environ`` that none of ``settings`` reads, sorted."""
    known = known_variables(*settings)
    unknown = sorted(
        name
        for name in environ
        if name.upper().startswith(PREFIX)
        and name.upper() not in known
        and not name.upper().startswith(OTHER_TOOLS_PREFIXES)
    )
    return [
        UnknownVariable(
            name=name,
            suggestion=next(iter(difflib.get_close_matches(name.upper(), known, n=1)), None),
        )
        for name in unknown
    ]


def reject_unknown_variables(
    *settings: type[BaseSettings], environ: Mapping[str, str] | None = None
) -> None:
    """Raise :class:`UnknownSettingsError` listing every ``BINOME_*`` variable nothing reads.

    Call it at start-up with every settings class the process reads, before reading them.
    """
    unknown = unknown_variables(os.environ if environ is None else environ, *settings)
    if unknown:
        raise UnknownSettingsError(unknown)
