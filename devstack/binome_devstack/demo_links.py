"""The demo's people clicking the links of their e-mails, as a browser would.

The demo reads the ``.eml`` files the SMTP sink wrote, finds the signed action links
(``…/actions?token=…``) of the kind it wants (the token's ``act`` says what a link does: it
is read, not verified: the service that performs the action verifies it), opens the page
(GET) and submits its form (POST with the token, as the page's ``<form>`` does). Each link is
clicked once; what the page answered (``recorded``, ``already_recorded``, ``refused``…) is
counted.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Final, NamedTuple
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from binome_devstack.demo_platform import DemoError
from binome_shared.contracts.action_names import (
    PAIR_ACCEPT,
    PAIR_DECLINE,
    PULSE_NEED_HELP,
    PULSE_ON_TRACK,
)
from binome_shared.contracts.base import Message
from binome_shared.contracts.hr_commands import AcceptPair
from binome_shared.contracts.pairing_events import (
    CallOffReason,
    PairAccepted,
    PairCalledOff,
    PairConsentRequested,
    PairFormed,
)

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
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return {}
    return claims


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


class LinkKey(NamedTuple):
    """Which consent link a member clicks: the pair, the member (the token's subject), and
    the action (accept or decline)."""

    pair_id: str
    participant_id: str
    action: str


@dataclass(frozen=True, slots=True)
class ConsentPlan:
    """Who answers which consent request, and how, decided before any click."""

    clicks: list[LinkKey]
    """The links to click, in order: the declines first."""
    declined: list[str]
    """The pairs those declines call off."""
    by_platform: list[AcceptPair]
    """The acceptances the HR platform sends instead of a click."""


def plan_consent(asked: Sequence[PairConsentRequested], *, declines: int) -> ConsentPlan:
    """The members asked, in the order of their mentees' ids (the same plan for the same
    requests, whatever order pairing published them in): the first ``declines`` mentees
    decline (their mentor does not answer); then both members of two pairs in three accept
    by their links, and the HR platform accepts the third for both."""
    ordered = sorted(asked, key=lambda request: request.mentee.participant_id)
    declining, accepting = ordered[:declines], ordered[declines:]
    clicks = [
        LinkKey(request.pair_id, request.mentee.participant_id, PAIR_DECLINE)
        for request in declining
    ]
    by_platform: list[AcceptPair] = []
    for index, request in enumerate(accepting):
        members = (request.mentor.participant_id, request.mentee.participant_id)
        if index % 3 == 2:
            by_platform += [
                AcceptPair(pair_id=request.pair_id, participant_id=member) for member in members
            ]
        else:
            clicks += [LinkKey(request.pair_id, member, PAIR_ACCEPT) for member in members]
    return ConsentPlan(
        clicks=clicks,
        declined=[request.pair_id for request in declining],
        by_platform=by_platform,
    )


@dataclass(slots=True)
class ConsentAnswers:
    """What the members asked did: the pairs declined by a click, and the acceptances left
    for the HR platform to send."""

    declined: list[str] = field(default_factory=list)
    by_platform: list[AcceptPair] = field(default_factory=list)


def re_paired(pairing_events: Sequence[Message], declined: set[str]) -> int:
    """Pairs formed, after a decline, for a member of a declined pair (members as the consent
    request named them: PairCalledOff names only the pair)."""
    members = {
        side.participant_id
        for e in pairing_events
        if isinstance(e, PairConsentRequested) and e.pair_id in declined
        for side in (e.mentor, e.mentee)
    }
    return sum(
        isinstance(e, PairFormed)
        and e.pair_id not in declined
        and bool({e.mentor.participant_id, e.mentee.participant_id} & members)
        for e in pairing_events
    )


class EmailReaders:
    """The demo's participants reading their e-mails and clicking some links."""

    def __init__(self, mail_dir: Path) -> None:
        self.clicker = LinkClicker(mail_dir)
        self._http = httpx.AsyncClient(timeout=30)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def answer_consent(
        self, asked: Sequence[PairConsentRequested], *, declines: int = 0
    ) -> ConsentAnswers:
        """The members asked answer as :func:`plan_consent` decides: the clicks are made;
        the acceptances left for the HR platform are returned, with the declined pairs."""
        links: dict[LinkKey, FoundLink] = {}
        # Each member's e-mail carries an accept and a decline link.
        for link in await self._links(PAIR_ACCEPT, PAIR_DECLINE, count=4 * len(asked)):
            links[LinkKey(str(link.target("pair_id")), link.subject, link.action)] = link
        plan = plan_consent(asked, declines=declines)
        for key in plan.clicks:
            await self._click(links, key)
        return ConsentAnswers(declined=plan.declined, by_platform=plan.by_platform)

    async def _click(self, links: dict[LinkKey, FoundLink], key: LinkKey) -> None:
        link = links.get(key)
        if link is None:
            raise DemoError(
                f"no {key.action} link for {key.participant_id} about {key.pair_id} in the e-mails"
            )
        await self.clicker.click(self._http, link)

    async def answer_pulses(self) -> int:
        """The pulse e-mails that arrived: most people click "on track"; the first of each
        batch clicks "we need help" (HR is alerted); every third says nothing. How many
        clicked."""
        asked: dict[tuple[str, str, int], dict[str, FoundLink]] = {}
        for link in self.clicker.take(PULSE_ON_TRACK, PULSE_NEED_HELP):
            key = (str(link.target("pair_id")), link.subject, int(link.target("pulse_number") or 0))
            asked.setdefault(key, {})[link.action] = link
        clicked = 0
        for index, key in enumerate(sorted(asked)):
            answer = PULSE_NEED_HELP if index == 0 else PULSE_ON_TRACK
            if index % 3 != 2 and answer in asked[key]:
                await self.clicker.click(self._http, asked[key][answer])
                clicked += 1
        return clicked

    def figures(self, pairing_events: Sequence[Message]) -> dict[str, Any]:
        """Consent as pairing published it, and what the clicks did (DemoFigures fields)."""
        recorded = self.clicker.recorded
        declined = {
            e.pair_id
            for e in pairing_events
            if isinstance(e, PairCalledOff) and e.reason is CallOffReason.DECLINED
        }
        return {
            "consent_pairs_asked": sum(isinstance(e, PairConsentRequested) for e in pairing_events),
            "consent_accepted": sum(isinstance(e, PairAccepted) for e in pairing_events),
            "consent_declined": len(declined),
            "consent_re_paired": re_paired(pairing_events, declined),
            "pulse_answers": recorded[PULSE_ON_TRACK] + recorded[PULSE_NEED_HELP],
            "link_clicks_recorded": sum(recorded.values()),
            "link_clicks_by_outcome": dict(self.clicker.outcomes),
        }

    async def _links(self, *actions: str, count: int) -> list[FoundLink]:
        """The next ``count`` links doing one of ``actions`` in the sink's e-mails (they
        arrive as notifications sends them)."""
        found: list[FoundLink] = []
        deadline = time.monotonic() + 300
        while len(found) < count:
            found += self.clicker.take(*actions)
            if time.monotonic() > deadline:
                raise DemoError(f"{len(found)} of {count} {'/'.join(actions)} links in the e-mails")
            await asyncio.sleep(0.2)
        return found
