"""``binome-export``: one person's data, gathered from the three services into ONE JSON
document (GDPR articles 15 and 20: right of access, portability). Voir docs/privacy.md.

Each service answers ``GET /personal-data?participant_id=…`` for the tenant of the bearer
token (docs/http-api.md); the same token goes to all three, so the document is about one
person in one tenant. It holds ``participant_id``, ``tenant_id``, ``generated_at`` and one
section per service (``pairing``, ``sessions``, ``notifications``), each with the service's
``erased_at`` (null unless the person was erased) and its records by kind. A service that
does not answer 200 fails the whole export: a partial export would look complete.

The token is read from ``BINOME_EXPORT_TOKEN`` or ``--token-file``, never from the command
line (other users of the machine can read a command line).

Exit codes: 0 written; 1 a service refused or could not be reached; 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from binome_integrations.language import default_language, localised
from binome_shared.contracts.values import Language, LocalisedText

PATH = "/personal-data"
SERVICES = ("pairing", "sessions", "notifications")
LOCAL_URLS = {
    "pairing": "http://localhost:8001",
    "sessions": "http://localhost:8002",
    "notifications": "http://localhost:8003",
}
EXIT_WRITTEN, EXIT_SERVICE_FAILED, EXIT_USAGE = 0, 1, 2

_TEXTS = {
    "refused": LocalisedText(
        fr="{service} a répondu {status} : {detail}",
        en="{service} answered {status}: {detail}",
    ),
    "unreachable": LocalisedText(
        fr="{service} injoignable ({url}) : {error}",
        en="{service} unreachable ({url}): {error}",
    ),
    "tenants_differ": LocalisedText(
        fr="les services ne répondent pas pour le même client : {tenants}",
        en="the services answered for different tenants: {tenants}",
    ),
    "no_token": LocalisedText(
        fr="jeton requis : BINOME_EXPORT_TOKEN ou --token-file",
        en="token required: BINOME_EXPORT_TOKEN or --token-file",
    ),
}


class ExportError(Exception):
    """A service did not give its part: the export is not written."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(localised(_TEXTS[key], Language.EN, **values))
        self.key = key
        self.values = values

    def message(self, language: Language) -> str:
        return localised(_TEXTS[self.key], language, **self.values)


async def gather_export(
    participant_id: str,
    *,
    token: str,
    urls: Mapping[str, str],
    client: httpx.AsyncClient,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The export document: every service in ``urls`` asked at once, with the same token."""
    answers = await asyncio.gather(
        *(_ask(client, service, urls[service], participant_id, token) for service in urls)
    )
    tenants = {answer["tenant_id"] for answer in answers}
    if len(tenants) != 1:
        raise ExportError("tenants_differ", tenants=", ".join(sorted(tenants)))
    document: dict[str, Any] = {
        "participant_id": participant_id,
        "tenant_id": tenants.pop(),
        "generated_at": (now or datetime.now(UTC)).isoformat(),
    }
    for service, answer in zip(urls, answers, strict=True):
        document[service] = {"erased_at": answer["erased_at"], **answer["sections"]}
    return document


async def _ask(
    client: httpx.AsyncClient, service: str, url: str, participant_id: str, token: str
) -> dict[str, Any]:
    try:
        response = await client.get(
            f"{url.rstrip('/')}{PATH}",
            params={"participant_id": participant_id},
            headers={"Authorization": f"Bearer {token}"},
        )
    except httpx.HTTPError as error:
        raise ExportError(
            "unreachable", service=service, url=url, error=str(error) or type(error).__name__
        ) from error
    if response.status_code != httpx.codes.OK:
        raise ExportError(
            "refused", service=service, status=response.status_code, detail=response.text[:300]
        )
    answer: dict[str, Any] = response.json()
    return answer


def build_parser() -> argparse.ArgumentParser:
    """The command line, with defaults from the environment."""
    parser = argparse.ArgumentParser(
        prog="binome-export",
        description=(
            "Export what Binôme holds on one person, as one JSON document (GDPR art. 15/20; "
            "see docs/privacy.md). Exporte les données d'une personne (RGPD art. 15/20)."
        ),
    )
    parser.add_argument("participant_id", help="The person's id in the token's tenant.")
    parser.add_argument(
        "--output", type=Path, help="Write the document here (default: standard output)."
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        help="File holding the bearer token (default: env BINOME_EXPORT_TOKEN).",
    )
    for service in SERVICES:
        variable = f"BINOME_{service.upper()}_URL"
        parser.add_argument(
            f"--{service}-url",
            default=os.environ.get(variable, LOCAL_URLS[service]),
            help=f"Base URL of the {service} service (env {variable}).",
        )
    parser.add_argument(
        "--language", choices=("fr", "en"), default=None, help="Language of the messages."
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Gather and write the export; returns the exit code (see the module docstring)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    language = Language(arguments.language or default_language())
    token = (
        arguments.token_file.read_text(encoding="utf-8").strip()
        if arguments.token_file
        else os.environ.get("BINOME_EXPORT_TOKEN", "").strip()
    )
    if not token:
        parser.error(localised(_TEXTS["no_token"], language))
    urls = {service: getattr(arguments, f"{service}_url") for service in SERVICES}
    try:
        document = asyncio.run(_export(arguments.participant_id, token=token, urls=urls))
    except ExportError as error:
        print(error.message(language), file=sys.stderr)
        return EXIT_SERVICE_FAILED
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if arguments.output:
        arguments.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_WRITTEN


async def _export(participant_id: str, *, token: str, urls: Mapping[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as client:
        return await gather_export(participant_id, token=token, urls=urls, client=client)


if __name__ == "__main__":
    sys.exit(main())
