"""Action links for tests: a key pair made for the test, links signed as notifications signs
them, and the settings a service needs to verify them (or to sign them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

from binome_devstack.local_action_keys import new_action_key, private_pem, public_pem
from binome_shared.runtime.action_links import ActionLinkSigner

ISSUER = "binome-notifications"
_OUTCOME = re.compile(r'data-outcome="([a-z0-9_]+)"')


def outcome(page: str | httpx.Response) -> str:
    """What an action page says happened (``(form)`` for the form shown again)."""
    found = _OUTCOME.search(page if isinstance(page, str) else page.text)
    return found.group(1) if found else "(form)"


@dataclass
class ActionLinkIssuer:
    """Plays the sending service: signs links with its own key."""

    key: ed25519.Ed25519PrivateKey = field(default_factory=new_action_key)

    def link(
        self,
        *,
        owner: str,
        tenant: str,
        subject: str,
        action: str,
        target: dict[str, Any],
        language: str = "fr",
        **options: Any,
    ) -> str:
        """A token for one action (``options``: ``lifetime_seconds``, ``now``)."""
        return ActionLinkSigner(key=self.key, issuer=ISSUER).sign(
            owner=owner,
            tenant_id=tenant,
            subject=subject,
            action=action,
            target=target,
            language=language,
            **options,
        )

    def verifying_env(self) -> dict[str, str]:
        """What a service performing actions needs."""
        return {"BINOME_ACTION_LINKS_PUBLIC_KEYS": public_pem(self.key)}

    def signing_env(self) -> dict[str, str]:
        """What the sending service needs (it verifies its own unsubscribe links too)."""
        return {**self.verifying_env(), "BINOME_ACTION_LINKS_SIGNING_KEY": private_pem(self.key)}
