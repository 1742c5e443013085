"""The Kafka classpath: jars Maven copies once into a cache shared by every clone."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from binome_devstack.errors import StackError
from binome_devstack.messages import text
from binome_devstack.processes import exclusive_lock
from binome_devstack.settings import KAFKA_VERSION
from binome_devstack.tools import find_maven

KAFKA_POM: Final = Path(__file__).resolve().parent.parent / "kafka" / "pom.xml"
LOG4J2_CONFIG: Final = KAFKA_POM.parent / "log4j2.xml"
COMPLETE_MARKER: Final = "complete"
MAVEN_TIMEOUT_SECONDS: Final = 900
OUTPUT_TAIL_CHARS: Final = 4000


def pom_digest(pom: Path) -> str:
    """A fingerprint of the POM: a changed dependency list invalidates the cache."""
    return hashlib.sha256(pom.read_bytes()).hexdigest()


class KafkaJarCache:
    """``<cache root>/libs`` filled by ``mvn dependency:copy-dependencies``.

    The marker file is written only after Maven finished and the jars were moved into
    place, so an interrupted download is redone rather than half-used.
    """

    def __init__(self, *, root: Path, pom: Path = KAFKA_POM) -> None:
        self.root = root
        self.pom = pom

    @property
    def libs_dir(self) -> Path:
        """The directory whose ``*`` is the broker's classpath."""
        return self.root / "libs"

    @property
    def marker(self) -> Path:
        """Exists, holding the POM digest, once ``libs_dir`` is complete."""
        return self.root / COMPLETE_MARKER

    def is_complete(self) -> bool:
        """Whether the jars for the current POM are all there."""
        try:
            recorded = self.marker.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return False
        return recorded == pom_digest(self.pom) and any(self.libs_dir.glob("kafka_2.13-*.jar"))

    def ensure(self, *, report: Callable[[str], None]) -> Path:
        """Download the jars unless already complete; return ``libs_dir``."""
        if self.is_complete():
            return self.libs_dir
        # Two clones starting their stacks at once must not download into each other.
        with exclusive_lock(self.root / ".lock"):
            if not self.is_complete():
                self._download(report=report)
        return self.libs_dir

    def _download(self, *, report: Callable[[str], None]) -> None:
        maven = find_maven()
        report(text("jars_downloading", version=KAFKA_VERSION))
        started = time.monotonic()
        partial = self.root / "libs.partial"
        shutil.rmtree(partial, ignore_errors=True)
        self.marker.unlink(missing_ok=True)
        command = [
            str(maven),
            "-q",
            "-B",
            "-f",
            str(self.pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={partial}",
        ]
        try:
            result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
                command,
                capture_output=True,
                text=True,
                check=False,
                timeout=MAVEN_TIMEOUT_SECONDS,
                cwd=self.pom.parent,
            )
        except subprocess.TimeoutExpired as expired:
            raise StackError(
                text("command_failed", command=" ".join(command), code="timeout", output="")
            ) from expired
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-OUTPUT_TAIL_CHARS:]
            raise StackError(
                text(
                    "command_failed",
                    command=" ".join(command),
                    code=result.returncode,
                    output=output,
                )
            )
        shutil.rmtree(self.libs_dir, ignore_errors=True)
        partial.rename(self.libs_dir)
        self.marker.write_text(pom_digest(self.pom) + "\n", encoding="utf-8")
        report(text("jars_ready", seconds=time.monotonic() - started, path=self.libs_dir))
