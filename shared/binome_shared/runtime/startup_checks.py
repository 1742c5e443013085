"""The checks a service makes before building anything: its settings, read strictly.

In order: no ``BINOME_*`` variable that nothing reads (a typo would silently leave a
default, Kafka in plaintext for one), every setting valid, and in production nothing
unsafe. Each refusal is one message naming every problem, for a person or a log collector,
and the process exits with :data:`EXIT_BAD_SETTINGS` instead of a traceback.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import SettingsError

from binome_shared.runtime.environment import UnknownSettingsError, reject_unknown_variables
from binome_shared.runtime.production_guard import (
    UnsafeProductionError,
    refuse_unsafe_production,
)
from binome_shared.runtime.settings import ServiceSettings

EXIT_BAD_SETTINGS = 2
"""The exit status of a refused configuration (as for a command-line usage error)."""

S = TypeVar("S", bound=ServiceSettings)


class BadSettingsError(Exception):
    """The settings were refused; the message lists every reason, in French and English."""


def _explain_invalid(error: ValidationError, settings_class: type[ServiceSettings]) -> str:
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        variable = f"{prefix}{where}".upper() if where else "settings"
        lines.append(f"  - {variable}: {problem['msg']}")
    return "invalid settings / réglages invalides:\n" + "\n".join(lines)


def read_settings(settings_class: type[S]) -> S:
    """The service's settings from the environment, or :class:`BadSettingsError`."""
    try:
        reject_unknown_variables(settings_class)
        settings = settings_class()
        refuse_unsafe_production(settings)
    except UnknownSettingsError as error:
        raise BadSettingsError(
            "unknown variables / variables inconnues:\n"
            + "\n".join(f"  - {variable.explain()}" for variable in error.unknown)
        ) from error
    except ValidationError as error:
        raise BadSettingsError(_explain_invalid(error, settings_class)) from error
    except SettingsError as error:
        raise BadSettingsError(f"unreadable settings / réglages illisibles: {error}") from error
    except UnsafeProductionError as error:
        raise BadSettingsError(str(error)) from error
    return settings
