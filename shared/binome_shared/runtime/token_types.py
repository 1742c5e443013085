"""The JOSE ``typ`` that tells an action link from a bearer token (RFC 8725 §3.11, explicit
typing): the bearer verifier refuses it, the action-link verifier requires it."""

from __future__ import annotations

from typing import Final

ACTION_TOKEN_TYPE: Final = "binome-action+jwt"  # noqa: S105 - a media type, not a secret
