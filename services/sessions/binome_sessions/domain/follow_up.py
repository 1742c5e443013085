"""Follow-up over time, run from a durable schedule with the clock passed in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from binome_sessions.domain.track import PairTrack


def detect_stalls(tracks: Iterable[PairTrack], now: datetime) -> list[PairTrack]:
    """Record PairStalled on every pair silent for its programme's threshold; return those changed.

    A pair already stalled is left alone until a held session ends its stall, so running this
    as often as wanted records one PairStalled per silence.
    """
    return [track for track in tracks if track.check_stall(now=now)]


def close_expired(tracks: Iterable[PairTrack], now: datetime) -> list[PairTrack]:
    """Complete every still-running pair whose programme's last day is over; return those changed.

    Each pair gets PairCompleted with reason ``programme_ended``, after SessionCancelled for any
    appointment still open.
    """
    return [track for track in tracks if track.close_if_programme_ended(now=now)]
