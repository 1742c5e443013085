"""What a secured local broker needs: a throw-away CA, the broker's certificate, SCRAM users.

Everything is made once per stack dir, under ``<stack dir>/kafka/secrets`` (mode 700), and
kept across ``down``/``up`` like the data: the SCRAM users are written into the storage when
it is formatted, so their passwords must outlive the broker process. ``binome-stack reset``
deletes them with the data.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from binome_devstack.errors import StackError
from binome_devstack.messages import text
from binome_devstack.rendering import SCRAM_MECHANISM
from binome_devstack.settings import StackSettings
from binome_devstack.tools import find_openssl

SUPER_USER: Final = "binome-stack-admin"
"""The broker's own inter-broker identity, also used by the stack's tools and the tests."""
CERT_DAYS: Final = 825
KEY_BITS: Final = 2048
PASSWORD_BYTES: Final = 24
OPENSSL_TIMEOUT: Final = 60.0


@dataclass(frozen=True, kw_only=True)
class KafkaSecrets:
    """The files of one secured stack: CA, broker key store, one password file per user."""

    directory: Path

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients trust (``BINOME_KAFKA_SSL_CA_FILE``)."""
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        """The CA's private key (signs the broker certificate; nothing else reads it)."""
        return self.directory / "ca.key"

    @property
    def keystore(self) -> Path:
        """The broker's PEM key store: its private key, then its certificate chain."""
        return self.directory / "broker-keystore.pem"

    def password_file(self, user: str) -> Path:
        """``<user>.password`` (``BINOME_KAFKA_SASL_PASSWORD_FILE`` of that principal)."""
        return self.directory / f"{user}.password"

    def password(self, user: str) -> str:
        """The SCRAM password of ``user``."""
        try:
            return self.password_file(user).read_text(encoding="utf-8").strip()
        except FileNotFoundError as missing:
            raise StackError(text("secret_missing", path=self.password_file(user))) from missing

    def users(self) -> list[str]:
        """Every user that has a password file, super user included."""
        return sorted(
            path.name.removesuffix(".password") for path in self.directory.glob("*.password")
        )

    def ensure(self, users: Iterable[str]) -> None:
        """Make the CA, the broker certificate and the missing passwords (keep existing ones)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        if not (self.ca_file.is_file() and self.keystore.is_file()):
            self._make_certificates()
        for user in {SUPER_USER, *users}:
            path = self.password_file(user)
            if not path.is_file():
                path.write_text(secrets.token_urlsafe(PASSWORD_BYTES) + "\n", encoding="utf-8")
                path.chmod(0o600)

    def scram_arguments(self) -> list[str]:
        """``--add-scram`` arguments of ``kafka-storage format`` for every user."""
        arguments: list[str] = []
        for user in self.users():
            arguments += [
                "--add-scram",
                f"{SCRAM_MECHANISM}=[name={user},password={self.password(user)}]",
            ]
        return arguments

    def wipe(self) -> None:
        """Delete every secret (with the data they were formatted into)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    def _make_certificates(self) -> None:
        work = self.directory
        broker_key = work / "broker.key"
        request = work / "broker.csr"
        certificate = work / "broker.pem"
        extensions = work / "broker.ext"
        extensions.write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\n"
            "subjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid\n",
            encoding="utf-8",
        )
        run_openssl(
            "req", "-x509", "-newkey", f"rsa:{KEY_BITS}", "-nodes", "-sha256",
            "-keyout", str(self.ca_key), "-out", str(self.ca_file), "-days", str(CERT_DAYS),
            "-subj", "/CN=Binome local stack CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        run_openssl(
            "req", "-newkey", f"rsa:{KEY_BITS}", "-nodes", "-sha256",
            "-keyout", str(broker_key), "-out", str(request), "-subj", "/CN=localhost",
        )  # fmt: skip
        run_openssl(
            "x509", "-req", "-in", str(request), "-CA", str(self.ca_file),
            "-CAkey", str(self.ca_key), "-CAcreateserial", "-sha256",
            "-days", str(CERT_DAYS), "-extfile", str(extensions), "-out", str(certificate),
        )  # fmt: skip
        # Kafka's PEM key store: the (PKCS#8, unencrypted) key, then the chain up to the CA.
        self.keystore.write_text(
            broker_key.read_text(encoding="utf-8")
            + certificate.read_text(encoding="utf-8")
            + self.ca_file.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        self.keystore.chmod(0o600)
        for leftover in (broker_key, request, extensions, work / "ca.srl"):
            leftover.unlink(missing_ok=True)


def run_openssl(*arguments: str) -> None:
    """Run ``openssl`` with ``arguments``; a failure becomes a :class:`StackError`."""
    command: Sequence[str] = [str(find_openssl()), *arguments]
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        command, capture_output=True, text=True, check=False, timeout=OPENSSL_TIMEOUT
    )
    if result.returncode != 0:
        raise StackError(
            text(
                "command_failed",
                command=" ".join(command[:3]),
                code=result.returncode,
                output=(result.stdout + result.stderr).strip(),
            )
        )


def secure_env_exports(settings: StackSettings, *, principal: str) -> list[str]:
    """Shell lines that make a service (or a tool) connect to a secured stack as ``principal``.

    Empty for a plaintext stack. The password stays in its file (``…_PASSWORD_FILE``).
    """
    if not settings.kafka_secure:
        return []
    secrets = KafkaSecrets(directory=settings.kafka_secrets_dir)
    return [
        "export BINOME_KAFKA_SECURITY_PROTOCOL=SASL_SSL",
        f"export BINOME_KAFKA_SASL_MECHANISM={SCRAM_MECHANISM}",
        f"export BINOME_KAFKA_SASL_USERNAME={principal}",
        f"export BINOME_KAFKA_SASL_PASSWORD_FILE={secrets.password_file(principal)}",
        f"export BINOME_KAFKA_SSL_CA_FILE={secrets.ca_file}",
    ]


def secure_stack_lines(settings: StackSettings) -> list[str]:
    """What ``binome-stack status`` adds about a secured stack: the files a service needs."""
    if not settings.kafka_secure:
        return []
    secrets = KafkaSecrets(directory=settings.kafka_secrets_dir)
    lines = [text("secure_stack", ca=secrets.ca_file, secrets=secrets.directory)]
    lines += [f"  {user}: {secrets.password_file(user)}" for user in secrets.users()]
    return lines
