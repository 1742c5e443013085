"""Finding java, mvn and the PostgreSQL 15 server binaries, or saying what to install."""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Final

from binome_devstack.errors import MissingToolError
from binome_devstack.messages import text
from binome_devstack.settings import POSTGRES_MAJOR_VERSION

DEBIAN_INSTALL_HINT: Final = "apt-get install openjdk-17-jre-headless maven postgresql-15"
DEBIAN_PG_BINDIR: Final = Path(f"/usr/lib/postgresql/{POSTGRES_MAJOR_VERSION}/bin")
POSTGRES_SERVER_PROGRAMS: Final = ("initdb", "pg_ctl", "postgres")
POSTGRES_SYSTEM_USER: Final = "postgres"

TOOL_JAVA: Final = "java"
TOOL_MAVEN: Final = "mvn"
TOOL_POSTGRES: Final = "postgres"
TOOL_RUNUSER: Final = "runuser"
TOOL_POSTGRES_USER: Final = "postgres_user"
TOOL_OPENSSL: Final = "openssl"

_TOOL_MESSAGE_KEYS: Final = {
    TOOL_JAVA: "tool_java",
    TOOL_MAVEN: "tool_maven",
    TOOL_POSTGRES: "tool_postgres",
    TOOL_RUNUSER: "tool_runuser",
    TOOL_POSTGRES_USER: "tool_postgres_user",
    TOOL_OPENSSL: "tool_openssl",
}


def missing_tools_message(missing: Sequence[str]) -> str:
    """What is missing and the Debian command that installs it."""
    described = ", ".join(text(_TOOL_MESSAGE_KEYS[tool]) for tool in missing)
    return text("missing_tools", tools=described, hint=DEBIAN_INSTALL_HINT)


def missing_tools_error(missing: Sequence[str]) -> MissingToolError:
    """The exception (exit code 2) for the ``missing`` tools."""
    return MissingToolError(missing_tools_message(missing), tools=missing)


def find_java() -> Path:
    """``$JAVA_HOME/bin/java`` if present, else ``java`` on the PATH."""
    java_home = os.environ.get("JAVA_HOME", "")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return Path(java_home) / "bin" / "java"
    found = shutil.which("java")
    if found is None:
        raise missing_tools_error([TOOL_JAVA])
    return Path(found)


def find_openssl() -> Path:
    """``openssl`` on the PATH (the secured stack's certificates)."""
    found = shutil.which("openssl")
    if found is None:
        raise missing_tools_error([TOOL_OPENSSL])
    return Path(found)


def find_maven() -> Path:
    """``mvn`` on the PATH."""
    found = shutil.which("mvn")
    if found is None:
        raise missing_tools_error([TOOL_MAVEN])
    return Path(found)


def postgres_major_version(version_output: str) -> int | None:
    """The major version in ``postgres --version`` output, e.g. 15 for ``(PostgreSQL) 15.14``."""
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", version_output)
    return int(match.group(1)) if match else None


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(result.stdout.strip())


def _installed_major_version(bindir: Path) -> int | None:
    try:
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return postgres_major_version(result.stdout)


def choose_postgres_bindir(
    candidates: Iterable[Path],
    *,
    has_programs: Callable[[Path], bool],
    major_version: Callable[[Path], int | None],
) -> Path | None:
    """The first candidate holding the server programs of the wanted major version."""
    for candidate in candidates:
        if has_programs(candidate) and major_version(candidate) == POSTGRES_MAJOR_VERSION:
            return candidate
    return None


def _has_server_programs(bindir: Path) -> bool:
    return all((bindir / program).is_file() for program in POSTGRES_SERVER_PROGRAMS)


def find_postgres_bindir(explicit: Path | None = None) -> Path:
    """Where initdb/pg_ctl/postgres 15 live: the explicit dir, Debian's, or ``pg_config``'s."""
    if explicit is not None:
        if _has_server_programs(explicit):
            return explicit
        raise missing_tools_error([TOOL_POSTGRES])
    candidates = [DEBIAN_PG_BINDIR]
    from_pg_config = _pg_config_bindir()
    if from_pg_config is not None:
        candidates.append(from_pg_config)
    on_path = shutil.which("postgres")
    if on_path is not None:
        candidates.append(Path(on_path).parent)
    found = choose_postgres_bindir(
        candidates, has_programs=_has_server_programs, major_version=_installed_major_version
    )
    if found is None:
        raise missing_tools_error([TOOL_POSTGRES])
    return found


def running_as_root() -> bool:
    """Whether this process has root's effective uid."""
    return os.geteuid() == 0


def postgres_system_user() -> pwd.struct_passwd:
    """The ``postgres`` account PostgreSQL runs as when we are root."""
    try:
        return pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        raise missing_tools_error([TOOL_POSTGRES_USER]) from None


def as_postgres_user(command: Sequence[str]) -> list[str]:
    """``command`` wrapped to run as the ``postgres`` user (used when we are root)."""
    runuser = shutil.which("runuser")
    if runuser is not None:
        return [runuser, "-u", POSTGRES_SYSTEM_USER, "--", *command]
    su = shutil.which("su")
    if su is not None:
        return [su, "-s", "/bin/sh", POSTGRES_SYSTEM_USER, "-c", shlex.join(command)]
    raise missing_tools_error([TOOL_RUNUSER])
