"""The demo's people clicking the links of their e-mails, as a browser would.

The demo reads the ``.eml`` files the SMTP sink wrote, finds the signed action links
(``…/actions?token=…``) of the kind it wants (the token's ``act`` says what a link does: it
is read, not verified: the service that performs the action verifies it), opens the page
(GET) and submits its form (POST with the token, as the page's ``<form>`` does). Each link is
clicked once; what the page answered (``recorded``, ``already_recorded``, ``refused``…) is
counted.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import httpx

ACTION_URL: Final = re.compile(r"https?://[^\s<>\"']+/actions\?token=[A-Za-z0-9_\-.%]+")
_OUTCOME: Final = re.compile(r'data-outcome="([a-z_]+)"')


@dataclass(frozen=True, slots=True)
class FoundLink:
    """An action link of an e-mail: where it goes and what its token says."""

    url: str
    token: str
    claims: dict[str, Any]

    @property
    def action(self) -> str:
        return str(self.claims.get("act", ""))

    @property
    def subject(self) -> str:
        return str(self.claims.get("sub", ""))

    @property
    def token_id(self) -> str:
        return str(self.claims.get("jti", ""))

    def target(self, name: str) -> Any:
        target = self.claims.get("tgt")
        return target.get(name) if isinstance(target, dict) else None


def unverified_claims(token: str) -> dict[str, Any]:
    """What a JWT says, unchecked (only to choose which link to click)."""
    try:
        payload = token.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def links_in(path: Path) -> list[FoundLink]:
    """The action links of one ``.eml`` file's plain-text part, in order."""
    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    found = []
    for url in ACTION_URL.findall(text):
        token = parse_qs(urlsplit(url).query).get("token", [""])[0]
        found.append(FoundLink(url=url, token=token, claims=unverified_claims(token)))
    return found


class LinkClicker:
    """Finds new links in the mail folder and clicks each one once, counting the answers."""

    def __init__(self, mail_dir: Path) -> None:
        self._mail_dir = mail_dir
        self._read: set[Path] = set()
        self._clicked: set[str] = set()
        self._pool: list[FoundLink] = []
        self.outcomes: Counter[str] = Counter()
        """What the pages answered, by ``data-outcome``."""
        self.recorded: Counter[str] = Counter()
        """Recorded clicks, by action."""

    def take(self, *actions: str) -> list[FoundLink]:
        """The links doing one of ``actions`` in e-mails not read before (the mail folder is
        read again for new files); each link is taken once, clicked or not."""
        for path in sorted(self._mail_dir.glob("*.eml")):
            if path not in self._read:
                self._read.add(path)
                self._pool.extend(links_in(path))
        taken = [link for link in self._pool if link.action in actions]
        self._pool = [link for link in self._pool if link.action not in actions]
        return taken

    async def click(self, client: httpx.AsyncClient, link: FoundLink) -> str:
        """Open the page, then send its form, once per link; the page's outcome."""
        if link.token_id in self._clicked:
            return "skipped"
        self._clicked.add(link.token_id)
        page = await client.get(link.url)
        page.raise_for_status()
        action_url = link.url.split("?", 1)[0]
        answer = await client.post(action_url, data={"token": link.token})
        found = _OUTCOME.search(answer.text)
        outcome = found.group(1) if found else f"http_{answer.status_code}"
        self.outcomes[outcome] += 1
        if outcome == "recorded":
            self.recorded[link.action] += 1
        return outcome
