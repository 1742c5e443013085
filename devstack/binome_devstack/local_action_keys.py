"""Action links on a laptop: a local Ed25519 key pair that signs the links of the demo's
e-mails (notifications holds the private half) and verifies them where the action is
performed (every service gets the public half), as docs/actions.md describes.

The key is created once (mode 0600) under the demo's state directory; it signs nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

SIGNING_SERVICE = "notifications"
"""The one service that sends e-mails, hence the one that signs their links."""


def new_action_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def private_pem(key: ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def public_pem(key: ed25519.Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


class LocalActionKeys:
    """The local action-link key pair in ``directory`` (created on first use)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        if not self.private_key_file.exists():
            self._create()

    @property
    def private_key_file(self) -> Path:
        return self.directory / "action-signing-key.pem"

    @property
    def public_key_file(self) -> Path:
        return self.directory / "action-public-key.pem"

    def service_env(self, name: str) -> dict[str, str]:
        """What service ``name`` needs: the public key for all, the private one for the
        service that sends e-mails only."""
        env = {"BINOME_ACTION_LINKS_PUBLIC_KEYS_FILE": str(self.public_key_file)}
        if name == SIGNING_SERVICE:
            env["BINOME_ACTION_LINKS_SIGNING_KEY_FILE"] = str(self.private_key_file)
        return env

    def _create(self) -> None:
        key = new_action_key()
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.private_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as private:
            private.write(private_pem(key))
        self.public_key_file.write_text(public_pem(key), encoding="utf-8")
