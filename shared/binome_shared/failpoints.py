"""Named crash points, switched on only by tests through the environment.

Proving "a service killed at any instant loses nothing and does nothing twice" needs a kill
at a precise instant (after the database commit, before the offset commit). Tests set
``BINOME_FAILPOINTS=consumer.after_db_commit`` on a service process; the process then kills
itself with SIGKILL when it reaches that point. Unset, this costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_ACTIVE = frozenset(filter(None, os.environ.get("BINOME_FAILPOINTS", "").split(",")))


def crash_if_armed(name: str) -> None:
    """Die at once, like ``kill -9``, if the failpoint ``name`` is armed."""
    if name in _ACTIVE:
        os.kill(os.getpid(), signal.SIGKILL)
