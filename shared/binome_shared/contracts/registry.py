"""Lookup from a wire identity (type, major version) to the payload class that reads it."""

from __future__ import annotations

import functools
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from pydantic.config import ExtraValues

from binome_shared.contracts.base import Message, SchemaVersion


class UnknownMessageTypeError(LookupError):
    """No class in the catalogue has this type."""


class UnknownSchemaVersionError(LookupError):
    """The type is known, but not in this major version (or in a minor from the future)."""


@dataclass(slots=True)
class Registry:
    """Every message class the platform knows, current and superseded majors alike."""

    _by_type: dict[str, dict[int, type[Message]]] = field(default_factory=dict)
    _current: dict[str, type[Message]] = field(default_factory=dict)
    """The newest major of each type, kept by :meth:`add`: looked up for every message read."""

    @classmethod
    def of(cls, classes: Iterable[type[Message]]) -> Registry:
        registry = cls()
        for message_class in classes:
            registry.add(message_class)
        return registry

    def add(self, message_class: type[Message]) -> None:
        versions = self._by_type.setdefault(message_class.message_type, {})
        major = message_class.schema_version.major
        if major in versions:
            raise ValueError(f"{message_class.message_type} v{major} is registered twice")
        versions[major] = message_class
        self._current[message_class.message_type] = versions[max(versions)]
        if message_class.supersedes is not None:
            self.add(message_class.supersedes)

    def reader_for(self, message_type: str, version: SchemaVersion) -> type[Message]:
        """The class that parses this type and version's body.

        A newer *minor* version than the one we know is readable: it only adds optional
        fields, so fields this code does not know are ignored, at any depth, even in commands
        (which otherwise refuse them). At the known minor or an older one, a field the
        class forbids stays forbidden. An unknown *major* is not readable.
        """
        versions = self._by_type.get(message_type)
        if versions is None:
            raise UnknownMessageTypeError(message_type)
        reader = versions.get(version.major)
        if reader is None:
            known = ", ".join(str(major) for major in sorted(versions))
            raise UnknownSchemaVersionError(
                f"{message_type} has no major version {version.major} (known: {known})"
            )
        if version.minor > reader.schema_version.minor:
            return _newer_minor_reader(reader)
        return reader

    def current(self, message_type: str) -> type[Message]:
        """The newest major of a type: what handlers receive after upcasting."""
        current = self._current.get(message_type)
        if current is None:
            raise UnknownMessageTypeError(message_type)
        return current

    def upcast(self, message: Message) -> Message:
        """Bring a message read in an older major up to the current class."""
        if isinstance(message, ReadsNewerMinor):
            message = message.as_declared()
        current = self.current(message.message_type)
        if type(message) is current:
            return message
        chain: list[type[Message]] = []
        step: type[Message] | None = current
        while step is not None and step is not type(message):
            chain.append(step)
            step = step.supersedes
        for newer in reversed(chain):
            message = newer.upcast(message)
        return message

    def __iter__(self) -> Iterator[type[Message]]:
        for versions in self._by_type.values():
            yield from versions.values()

    def knows(self, message_type: str) -> bool:
        return message_type in self._current

    def types(self) -> list[str]:
        return sorted(self._by_type)


class ReadsNewerMinor(Message):
    """Base of the readers :meth:`Registry.reader_for` gives for a newer minor version:
    unknown fields are ignored at every depth, and what is read is handed on as an instance
    of the declared class (:meth:`as_declared`), which is what routes and upcasts expect."""

    declared: ClassVar[type[Message]]

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: ExtraValues | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        del extra  # a newer minor's fields are ignored, whatever the declared class says
        return super().model_validate_json(
            json_data,
            strict=strict,
            extra="ignore",
            context=context,
            by_alias=by_alias,
            by_name=by_name,
        )

    def as_declared(self) -> Message:
        """The same values as an instance of the declared class (already validated)."""
        return self.declared.model_construct(
            _fields_set=self.model_fields_set,
            **{name: getattr(self, name) for name in type(self).model_fields},
        )


@functools.cache
def _newer_minor_reader(declared: type[Message]) -> type[Message]:
    """A reader of ``declared``'s type in a newer minor version, built once per class."""
    return types.new_class(
        f"{declared.__name__}NewerMinorReader",
        (ReadsNewerMinor, declared),
        exec_body=lambda namespace: namespace.update(
            {"__module__": declared.__module__, "declared": declared}
        ),
    )
