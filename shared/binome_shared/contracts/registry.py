"""Lookup from a wire identity (type, major version) to the payload class that reads it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

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

        A newer *minor* version than the one we know is readable (it only adds optional
        fields, which readers ignore); an unknown *major* is not.
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
        return reader

    def current(self, message_type: str) -> type[Message]:
        """The newest major of a type: what handlers receive after upcasting."""
        current = self._current.get(message_type)
        if current is None:
            raise UnknownMessageTypeError(message_type)
        return current

    def upcast(self, message: Message) -> Message:
        """Bring a message read in an older major up to the current class."""
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
