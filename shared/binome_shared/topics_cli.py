"""``binome-topics plan|apply``: the declared topics against a running cluster.

In production the services create no topic (``BINOME_CREATE_TOPICS=false``); the deploy
pipeline runs ``plan`` to show the differences and ``apply`` to make them. Both read the
services' own settings (``BINOME_KAFKA_*`` security, ``BINOME_TOPIC_*`` policy,
``BINOME_TOPIC_PREFIX``), so they see the cluster exactly as the services will.

Exit status, as ``terraform plan -detailed-exitcode``:

- ``0``: the cluster is as declared (after ``apply``: it now is);
- ``1``: an error (settings refused, cluster unreachable, a change refused by Kafka);
- ``2``: changes are pending (``plan``), or remain that need a person (``apply``: a
  replication factor to change by reassigning partitions).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pydantic import Field, ValidationError

from binome_shared.contracts.topics import ALL_TOPICS
from binome_shared.runtime.kafka_security import KafkaSecuritySettings, aiokafka_security
from binome_shared.runtime.settings import LOCAL_KAFKA
from binome_shared.runtime.topic_plan import (
    REPLICATION_REMEDY,
    Difference,
    Plan,
    TopicConfigError,
    TopicPlan,
    apply_plan,
    make_plan,
    settled_plan,
)
from binome_shared.runtime.topic_policy import TopicPolicy, TopicPolicySettings
from binome_shared.runtime.topics import TopicCreationError, planned_topics

EXIT_UP_TO_DATE = 0
EXIT_ERROR = 1
EXIT_CHANGES_PENDING = 2


class TopicsToolSettings(KafkaSecuritySettings, TopicPolicySettings):
    """The settings of the services that decide which topics exist and how (same names)."""

    kafka_bootstrap_servers: str = Field(
        default=LOCAL_KAFKA, description="Kafka bootstrap servers, comma-separated."
    )
    topic_prefix: str = Field(
        default="", description="Prepended to every topic name (several deployments, one cluster)."
    )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="binome-topics",
        description="Binôme topics against a running cluster / les topics face au cluster",
        epilog="exit status: 0 up to date, 1 error, 2 changes pending / "
        "code de sortie : 0 à jour, 1 erreur, 2 changements en attente",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (
        ("plan", "show the differences / montre les différences"),
        ("apply", "create topics, add partitions, set configs / crée, agrandit, configure"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    stream = out or sys.stdout
    try:
        settings = TopicsToolSettings()
    except ValidationError as error:
        print(f"invalid settings / réglages invalides:\n{error}", file=sys.stderr)
        return EXIT_ERROR
    try:
        return asyncio.run(
            _run(settings, apply=args.command == "apply", as_json=args.json, out=stream)
        )
    except (KafkaError, TopicConfigError, TopicCreationError, OSError) as error:
        print(f"Kafka error / erreur Kafka: {error!r}", file=sys.stderr)
        return EXIT_ERROR


async def _run(settings: TopicsToolSettings, *, apply: bool, as_json: bool, out: TextIO) -> int:
    planned = planned_topics(ALL_TOPICS, TopicPolicy.from_settings(settings), settings.topic_prefix)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, **aiokafka_security(settings)
    )
    await admin.start()
    try:
        plan = await make_plan(admin, planned)
        done = await apply_plan(admin, plan) if apply else []
        after = await settled_plan(admin, planned) if done else plan
    finally:
        await admin.close()
    # After ``apply``: what is still not as declared (a replication factor, or a change the
    # brokers do not show yet), so the exit status tells the pipeline the truth.
    pending = not after.up_to_date
    unseen = [topic.wanted.name for topic in after.topics if apply and topic.applicable]
    if as_json:
        print(json.dumps(plan_json(plan, applied=apply) | {"not_yet_visible": unseen}), file=out)
        return EXIT_CHANGES_PENDING if pending else EXIT_UP_TO_DATE
    print(render_plan(plan, applied=apply), file=out)
    if apply:
        print(f"applied / appliqué: {len(done)} topic(s)", file=out)
    if unseen:
        print(
            "applied but not yet shown by the brokers, run plan again / appliqué mais pas "
            f"encore visible, relancez plan: {', '.join(unseen)}",
            file=out,
        )
    return EXIT_CHANGES_PENDING if pending else EXIT_UP_TO_DATE


def _topic_lines(topic: TopicPlan, *, applied: bool) -> list[str]:
    wanted = topic.wanted
    done = "done / fait: " if applied else ""
    if topic.create:
        configs = ", ".join(f"{key}={value}" for key, value in sorted(wanted.config.items()))
        return [
            f"+ {wanted.name}: {done}create / créer ({wanted.partitions} partition(s), "
            f"RF {wanted.replication_factor}, {configs})"
        ]
    if topic.up_to_date:
        return [f"= {wanted.name}: up to date / à jour"]
    lines = [f"~ {wanted.name}:"]
    if topic.partitions:
        lines.append(
            f"    {done}partitions {topic.partitions.current} -> {topic.partitions.declared} "
            "(add / ajouter)"
        )
    for key, difference in sorted(topic.configs.items()):
        lines.append(f"    {done}{key} {difference.current!r} -> {difference.declared!r}")
    if topic.replication:
        lines.append(
            f"    ! replication factor / facteur de réplication {topic.replication.current} "
            f"-> {topic.replication.declared}: not changed here / non modifié ici; "
            f"{REPLICATION_REMEDY}"
        )
    return lines


def render_plan(plan: Plan, *, applied: bool = False) -> str:
    """The plan for a person: ``+`` to create, ``~`` to change, ``=`` up to date."""
    lines = [line for topic in plan.topics for line in _topic_lines(topic, applied=applied)]
    lines += [
        f"  (note) {topic.wanted.name}: {topic.extra_partitions.current} partitions, "
        f"{topic.extra_partitions.declared} declared: more is fine, never lowered / "
        f"{topic.extra_partitions.declared} déclarées : davantage convient, jamais réduit"
        for topic in plan.topics
        if topic.extra_partitions
    ]
    pending = sum(not topic.up_to_date for topic in plan.topics)
    if not pending:
        lines.append("everything is up to date / tout est à jour")
    elif not applied:
        lines.append(f"{pending} topic(s) to change / topic(s) à modifier: binome-topics apply")
    return "\n".join(lines)


def _difference_json(topic: TopicPlan) -> dict[str, Any]:
    return {
        "partitions": topic.partitions and _difference_of(topic.partitions),
        "extra_partitions": topic.extra_partitions and _difference_of(topic.extra_partitions),
        "configs": {key: _difference_of(value) for key, value in sorted(topic.configs.items())},
        "replication_factor": topic.replication and _difference_of(topic.replication),
    }


def _difference_of(difference: Difference) -> dict[str, Any]:
    return {"current": difference.current, "declared": difference.declared}


def plan_json(plan: Plan, *, applied: bool = False) -> dict[str, Any]:
    """The plan for a CI pipeline (``--json``)."""

    def action(topic: TopicPlan) -> str:
        if topic.create:
            return "create"
        if topic.up_to_date:
            return "none"
        return "update" if topic.applicable else "manual"

    return {
        "applied": applied,
        "up_to_date": plan.up_to_date,
        "topics": [
            {
                "name": topic.wanted.name,
                "class": str(topic.wanted.topic_class),
                "action": action(topic),
                "partitions": topic.wanted.partitions,
                "replication_factor": topic.wanted.replication_factor,
                "config": dict(sorted(topic.wanted.config.items())),
                "differences": _difference_json(topic),
                "manual": REPLICATION_REMEDY if topic.replication else None,
            }
            for topic in plan.topics
        ],
    }


if __name__ == "__main__":
    raise SystemExit(main())
