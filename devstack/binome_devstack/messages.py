"""Every sentence the local stack shows a person, in English and French.

The language follows ``BINOME_LANG``, then the usual locale variables (``LC_ALL``,
``LC_MESSAGES``, ``LANG``): anything starting with ``fr`` gives French, the rest English.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Final, Literal, TypeAlias

Language = Literal["en", "fr"]

LANGUAGE_VARIABLES: Final = ("BINOME_LANG", "LC_ALL", "LC_MESSAGES", "LANG")

CATALOGUE: Final[Mapping[str, Mapping[Language, str]]] = {
    "missing_tools": {
        "en": "Missing on this machine: {tools}.\nInstall them (Debian/Ubuntu): {hint}",
        "fr": "Absent de cette machine : {tools}.\nInstallez-les (Debian/Ubuntu) : {hint}",
    },
    "tool_java": {"en": "java (a Java 17+ runtime)", "fr": "java (un environnement Java 17+)"},
    "tool_maven": {
        "en": "mvn (Maven, to download the Kafka jars once)",
        "fr": "mvn (Maven, pour télécharger une fois les jars de Kafka)",
    },
    "tool_postgres": {
        "en": "the PostgreSQL 15 server binaries (initdb, pg_ctl, postgres)",
        "fr": "les binaires du serveur PostgreSQL 15 (initdb, pg_ctl, postgres)",
    },
    "tool_runuser": {
        "en": "runuser or su (to run PostgreSQL as the postgres user when root)",
        "fr": "runuser ou su (pour lancer PostgreSQL sous l'utilisateur postgres en root)",
    },
    "tool_postgres_user": {
        "en": "the 'postgres' system user (initdb refuses to run as root)",
        "fr": "l'utilisateur système « postgres » (initdb refuse de tourner en root)",
    },
    "bad_port": {
        "en": "{variable}={value!r} is not a TCP port (1-65535).",
        "fr": "{variable}={value!r} n'est pas un port TCP (1-65535).",
    },
    "same_port": {
        "en": "Kafka, its controller and PostgreSQL need three different ports, got {ports}.",
        "fr": "Kafka, son contrôleur et PostgreSQL demandent trois ports distincts, reçu {ports}.",
    },
    "port_in_use": {
        "en": "Port {port} ({what}) is already used by another process. "
        "Stop it, or choose another port with {variable}=<port>.",
        "fr": "Le port {port} ({what}) est déjà pris par un autre processus. "
        "Arrêtez-le, ou choisissez un autre port avec {variable}=<port>.",
    },
    "port_mismatch": {
        "en": "{component} is already running on port {running}, but the configuration asks "
        "for {wanted}. Run `binome-stack down` first.",
        "fr": "{component} tourne déjà sur le port {running}, mais la configuration demande "
        "{wanted}. Lancez d'abord `binome-stack down`.",
    },
    "not_ready": {
        "en": "{component} did not become ready within {timeout:.0f} s ({reason}).\n"
        "Last lines of {log}:\n{tail}",
        "fr": "{component} n'est pas prêt au bout de {timeout:.0f} s ({reason}).\n"
        "Dernières lignes de {log} :\n{tail}",
    },
    "process_exited": {
        "en": "the process exited with code {code}",
        "fr": "le processus s'est arrêté avec le code {code}",
    },
    "no_answer": {"en": "no answer on port {port}", "fr": "pas de réponse sur le port {port}"},
    "command_failed": {
        "en": "`{command}` failed (exit code {code}):\n{output}",
        "fr": "`{command}` a échoué (code {code}) :\n{output}",
    },
    "not_traversable": {
        "en": "The postgres system user cannot write to {path}: a parent directory is not "
        "traversable for it. Set BINOME_STACK_DIR to a directory it can reach "
        "(e.g. /tmp/binome-stack).",
        "fr": "L'utilisateur système postgres ne peut pas écrire dans {path} : un répertoire "
        "parent lui est fermé. Réglez BINOME_STACK_DIR sur un répertoire accessible "
        "(par ex. /tmp/binome-stack).",
    },
    "pg_version_mismatch": {
        "en": "{path} holds a PostgreSQL {found} cluster, this stack runs PostgreSQL {wanted}. "
        "Remove the directory to start afresh.",
        "fr": "{path} contient un cluster PostgreSQL {found}, la pile utilise PostgreSQL "
        "{wanted}. Supprimez ce répertoire pour repartir de zéro.",
    },
    "jars_downloading": {
        "en": "Downloading the Kafka {version} jars with Maven (first time only)…",
        "fr": "Téléchargement des jars de Kafka {version} avec Maven (une seule fois)…",
    },
    "jars_ready": {
        "en": "Kafka jars ready in {seconds:.1f} s ({path})",
        "fr": "Jars de Kafka prêts en {seconds:.1f} s ({path})",
    },
    "starting": {"en": "Starting {component}…", "fr": "Démarrage de {component}…"},
    "formatting": {
        "en": "Formatting fresh Kafka storage…",
        "fr": "Formatage d'un stockage Kafka neuf…",
    },
    "initdb": {
        "en": "Creating the PostgreSQL cluster in {path}…",
        "fr": "Création du cluster PostgreSQL dans {path}…",
    },
    "ready": {
        "en": "{component} ready in {seconds:.1f} s ({where})",
        "fr": "{component} prêt en {seconds:.1f} s ({where})",
    },
    "stack_up": {
        "en": "Stack up in {seconds:.1f} s ({path})",
        "fr": "Pile prête en {seconds:.1f} s ({path})",
    },
    "reused": {
        "en": "{component} already running and healthy, reused ({where})",
        "fr": "{component} tourne déjà et répond, réutilisé ({where})",
    },
    "stale_pid": {
        "en": "{component}: removed a stale pid file (process {pid} is gone)",
        "fr": "{component} : fichier pid périmé supprimé (le processus {pid} n'existe plus)",
    },
    "stopping": {"en": "Stopping {component}…", "fr": "Arrêt de {component}…"},
    "stopped": {
        "en": "{component} stopped in {seconds:.1f} s",
        "fr": "{component} arrêté en {seconds:.1f} s",
    },
    "killed": {
        "en": "{component} did not stop within {timeout:.0f} s: killed (SIGKILL)",
        "fr": "{component} ne s'est pas arrêté en {timeout:.0f} s : tué (SIGKILL)",
    },
    "wiped": {
        "en": "{component}: data deleted ({path})",
        "fr": "{component} : données supprimées ({path})",
    },
    "stack_reset": {
        "en": "Stack reset: Kafka and PostgreSQL start empty at the next `binome-stack up`",
        "fr": "Pile remise à zéro : Kafka et PostgreSQL repartent vides au prochain "
        "`binome-stack up`",
    },
    "not_running": {"en": "{component} is not running", "fr": "{component} ne tourne pas"},
    "database_created": {
        "en": "Database {name} created",
        "fr": "Base de données {name} créée",
    },
    "status_running": {
        "en": "{component}: running (pid {pid}, {where})",
        "fr": "{component} : en marche (pid {pid}, {where})",
    },
    "status_not_answering": {
        "en": "{component}: process {pid} alive but not answering on {where}",
        "fr": "{component} : processus {pid} vivant mais muet sur {where}",
    },
    "status_stale": {
        "en": "{component}: stopped (stale pid file left by process {pid})",
        "fr": "{component} : arrêté (fichier pid périmé laissé par le processus {pid})",
    },
    "status_stopped": {"en": "{component}: stopped", "fr": "{component} : arrêté"},
    "owner_file_missing": {
        "en": "{path} does not exist: nothing to stop",
        "fr": "{path} n'existe pas : rien à arrêter",
    },
    "no_log": {
        "en": "No {component} log yet ({path})",
        "fr": "Pas encore de journal {component} ({path})",
    },
    "empty_log": {"en": "(empty)", "fr": "(vide)"},
    "stack_locked": {
        "en": "Waiting for another binome-stack command on {path}…",
        "fr": "Attente d'une autre commande binome-stack sur {path}…",
    },
    "tool_openssl": {
        "en": "openssl (to make the secured stack's certificates)",
        "fr": "openssl (pour créer les certificats de la pile sécurisée)",
    },
    "secret_missing": {
        "en": "{path} is missing: the secured Kafka's users were formatted with it. "
        "Run `binome-stack reset`, then `binome-stack up --secure` again.",
        "fr": "{path} est absent : les utilisateurs du Kafka sécurisé ont été créés avec. "
        "Lancez `binome-stack reset`, puis de nouveau `binome-stack up --secure`.",
    },
    "layout_mismatch": {
        "en": "This stack dir holds a Kafka made as {recorded}, not {wanted}: its storage and "
        "users cannot change shape. Run `binome-stack reset` first, or repeat the same options.",
        "fr": "Ce dossier de pile contient un Kafka créé en {recorded}, pas en {wanted} : son "
        "stockage et ses utilisateurs ne changent pas de forme. Lancez d'abord "
        "`binome-stack reset`, ou reprenez les mêmes options.",
    },
    "acls_applied": {
        "en": "Kafka ACLs applied: {count} bindings for {principals} principals "
        "(prefix {prefix!r}).",
        "fr": "ACL Kafka appliquées : {count} règles pour {principals} principaux "
        "(préfixe {prefix!r}).",
    },
    "topics_created": {
        "en": "Kafka topics created: {count} (prefix {prefix!r}; existing ones kept).",
        "fr": "Topics Kafka créés : {count} (préfixe {prefix!r} ; les existants sont gardés).",
    },
    "secure_stack": {
        "en": "Kafka is secured (SASL_SSL, SCRAM-SHA-512): CA {ca}; passwords in {secrets}",
        "fr": "Kafka est sécurisé (SASL_SSL, SCRAM-SHA-512) : AC {ca} ; "
        "mots de passe dans {secrets}",
    },
    "bad_brokers": {
        "en": "--brokers must be 1 or 3, got {count}.",
        "fr": "--brokers vaut 1 ou 3, reçu {count}.",
    },
}


def choose_language(environ: Mapping[str, str] | None = None) -> Language:
    """Pick French when the first locale variable that is set starts with ``fr``."""
    variables = os.environ if environ is None else environ
    for name in LANGUAGE_VARIABLES:
        value = variables.get(name, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def text(key: str, /, *, language: Language | None = None, **values: object) -> str:
    """The sentence ``key`` in the chosen language, with ``values`` filled in."""
    chosen = language or choose_language()
    return CATALOGUE[key][chosen].format(**values)


Reporter: TypeAlias = Callable[[str], None]
"""Receives one progress sentence at a time (the CLI prints them on stderr)."""

_logger = logging.getLogger("binome_devstack")


def log_report(message: str) -> None:
    """The default :data:`Reporter` of the Python API: INFO records on ``binome_devstack``."""
    _logger.info("%s", message)
