"""Where the local stack lives and which ports it uses, read from the environment."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from binome_devstack.errors import StackError
from binome_devstack.messages import text

KAFKA_VERSION: Final = "4.1.1"
POSTGRES_MAJOR_VERSION: Final = 15
LOOPBACK: Final = "127.0.0.1"

ENV_STACK_DIR: Final = "BINOME_STACK_DIR"
ENV_KAFKA_PORT: Final = "BINOME_STACK_KAFKA_PORT"
ENV_KAFKA_CONTROLLER_PORT: Final = "BINOME_STACK_KAFKA_CONTROLLER_PORT"
ENV_PG_PORT: Final = "BINOME_STACK_PG_PORT"
ENV_PG_BINDIR: Final = "BINOME_STACK_PG_BINDIR"

ENV_KAFKA_BOOTSTRAP_SERVERS: Final = "BINOME_KAFKA_BOOTSTRAP_SERVERS"
ENV_PG_ADMIN_DSN: Final = "BINOME_PG_ADMIN_DSN"

DEFAULT_KAFKA_PORT: Final = 19092
DEFAULT_PG_PORT: Final = 15432
KAFKA_CLUSTER_SIZES: Final = (1, 3)
NODE_PORT_STRIDE: Final = 2

PG_ADMIN_USER: Final = "binome_admin"
PG_ADMIN_PASSWORD: Final = "binome_admin"  # noqa: S105 - a local throw-away cluster on loopback
PG_DATABASE: Final = "binome"

PROJECT_NAME: Final = "binome"
# sun_path holds 108 bytes; PostgreSQL refuses longer socket paths, so deep checkouts
# fall back to a short directory under the system temp dir.
MAX_SOCKET_PATH: Final = 100
SOCKET_FILE_NAME_LENGTH: Final = len("/.s.PGSQL.65535")


def find_repo_root(start: Path) -> Path | None:
    """The nearest directory from ``start`` upwards whose pyproject.toml names ``binome``."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if not candidate.is_file():
            continue
        try:
            project = tomllib.loads(candidate.read_text(encoding="utf-8")).get("project", {})
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        if isinstance(project, dict) and project.get("name") == PROJECT_NAME:
            return directory
    return None


def parse_port(environ: Mapping[str, str], variable: str, default: int) -> int:
    """The port in ``environ[variable]``, or ``default`` when unset or blank."""
    raw = environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise StackError(text("bad_port", variable=variable, value=raw))
    return port


def default_cache_root(environ: Mapping[str, str]) -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/binome``: shared by every clone on the machine."""
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg else Path(environ.get("HOME") or Path.home()) / ".cache"
    return base / "binome"


def others_can_reach(path: Path) -> bool:
    """Whether a user other than the owner can traverse every directory down to ``path``.

    As root, PostgreSQL runs as the ``postgres`` user, which must reach its data directory:
    a clone in a private folder (``mktemp -d`` makes mode 700) would lock it out.
    """
    current = path.resolve()
    for directory in [current, *current.parents]:
        if not directory.exists():
            continue
        if not directory.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def postgres_dir_for(stack_dir: Path, *, as_root: bool) -> Path:
    """PostgreSQL's directory: ``<stack dir>/postgres``, or, when root runs the stack from a
    folder the ``postgres`` user cannot reach, a per-stack folder under the temp dir."""
    preferred = stack_dir / "postgres"
    if not as_root or others_can_reach(stack_dir):
        return preferred
    digest = hashlib.sha256(str(stack_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"binome-postgres-{digest}"


def socket_dir_for(stack_dir: Path, *, postgres_dir: Path | None = None) -> Path:
    """The PostgreSQL socket directory: inside the stack dir unless the path gets too long."""
    preferred = (postgres_dir or stack_dir / "postgres") / "run"
    if len(str(preferred)) + SOCKET_FILE_NAME_LENGTH <= MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(str(stack_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"binome-pg-{digest}"


@dataclass(frozen=True, kw_only=True)
class StackSettings:
    """Locations and ports of one local stack; build it with :meth:`from_env`."""

    stack_dir: Path
    kafka_port: int = DEFAULT_KAFKA_PORT
    kafka_controller_port: int = DEFAULT_KAFKA_PORT + 1
    pg_port: int = DEFAULT_PG_PORT
    cache_root: Path
    pg_bindir: Path | None = None
    kafka_brokers: int = 1
    """Kafka nodes (combined broker + controller): 1, or 3 for a replicated cluster."""
    kafka_secure: bool = False
    """A SASL_SSL client listener, SCRAM users and ACLs instead of plaintext."""

    def __post_init__(self) -> None:
        if self.kafka_brokers not in KAFKA_CLUSTER_SIZES:
            raise StackError(text("bad_brokers", count=self.kafka_brokers))
        ports = (
            *(self.kafka_node_port(node) for node in self.kafka_nodes),
            *(self.kafka_node_controller_port(node) for node in self.kafka_nodes),
            self.pg_port,
        )
        if len(set(ports)) != len(ports):
            raise StackError(text("same_port", ports=", ".join(map(str, ports))))

    @property
    def kafka_nodes(self) -> range:
        """The node ids of the Kafka cluster: 1, 2, 3…"""
        return range(1, self.kafka_brokers + 1)

    def kafka_node_port(self, node: int) -> int:
        """Client port of ``node``; the nodes of a cluster take every other port from
        ``kafka_port`` (19092, 19094, 19096), leaving the controllers theirs in between."""
        return self.kafka_port + NODE_PORT_STRIDE * (node - 1)

    def kafka_node_controller_port(self, node: int) -> int:
        """Controller port of ``node`` (19093, 19095, 19097 by default)."""
        return self.kafka_controller_port + NODE_PORT_STRIDE * (node - 1)

    def kafka_node_dir(self, node: int) -> Path:
        """``<stack dir>/kafka`` for node 1 (the one-node layout), ``kafka-<n>`` for the others."""
        return self.kafka_dir if node == 1 else self.stack_dir / f"kafka-{node}"

    @property
    def kafka_secrets_dir(self) -> Path:
        """CA, broker key store and SCRAM passwords of a secured stack."""
        return self.kafka_dir / "secrets"

    @classmethod
    def from_env(
        cls, *, environ: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> StackSettings:
        """Read ``BINOME_STACK_*`` variables; the stack dir defaults to ``<repo root>/.stack``."""
        variables = os.environ if environ is None else environ
        here = (cwd or Path.cwd()).resolve()
        explicit_dir = variables.get(ENV_STACK_DIR, "").strip()
        stack_dir = (
            Path(explicit_dir).expanduser().resolve()
            if explicit_dir
            else (find_repo_root(here) or here) / ".stack"
        )
        kafka_port = parse_port(variables, ENV_KAFKA_PORT, DEFAULT_KAFKA_PORT)
        controller_port = parse_port(variables, ENV_KAFKA_CONTROLLER_PORT, kafka_port + 1)
        bindir = variables.get(ENV_PG_BINDIR, "").strip()
        return cls(
            stack_dir=stack_dir,
            kafka_port=kafka_port,
            kafka_controller_port=controller_port,
            pg_port=parse_port(variables, ENV_PG_PORT, DEFAULT_PG_PORT),
            cache_root=default_cache_root(variables),
            pg_bindir=Path(bindir) if bindir else None,
        )

    @property
    def kafka_bootstrap(self) -> str:
        """``host:port[,host:port…]`` of every node, for Kafka clients."""
        return ",".join(f"{LOOPBACK}:{self.kafka_node_port(node)}" for node in self.kafka_nodes)

    @property
    def admin_dsn(self) -> str:
        """Superuser DSN of the ``binome`` database."""
        return self.dsn_for(PG_DATABASE)

    def dsn_for(self, database: str) -> str:
        """Superuser DSN of ``database`` on the local cluster."""
        return (
            f"postgresql://{PG_ADMIN_USER}:{PG_ADMIN_PASSWORD}@{LOOPBACK}:{self.pg_port}/{database}"
        )

    def env_exports(self) -> list[str]:
        """Shell lines that point the services and tests at this stack."""
        return [
            f"export {ENV_KAFKA_BOOTSTRAP_SERVERS}={self.kafka_bootstrap}",
            f"export {ENV_PG_ADMIN_DSN}={self.admin_dsn}",
        ]

    @property
    def kafka_dir(self) -> Path:
        """Kafka's part of the stack dir: config, data, logs, pid file."""
        return self.stack_dir / "kafka"

    @property
    def kafka_jar_cache(self) -> Path:
        """The Maven-filled jar cache shared across clones."""
        return self.cache_root / f"kafka-{KAFKA_VERSION}"

    @property
    def postgres_dir(self) -> Path:
        """PostgreSQL's part of the stack dir: data dir, socket dir, log."""
        return postgres_dir_for(self.stack_dir, as_root=os.geteuid() == 0)

    @property
    def pg_socket_dir(self) -> Path:
        """Where the postmaster puts its unix socket."""
        return socket_dir_for(self.stack_dir, postgres_dir=self.postgres_dir)

    @property
    def lock_file(self) -> Path:
        """Serialises concurrent ``up``/``down`` calls on the same stack dir."""
        return self.stack_dir / ".lock"
