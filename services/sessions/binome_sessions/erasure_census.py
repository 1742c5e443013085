"""What a GDPR erasure is about to blank in sessions, counted for its proof
(:class:`~binome_shared.contracts.privacy_events.ErasureCompleted`): the free text of every
pair the person is in, whoever wrote it (notes and objectives are the pair's)."""

from __future__ import annotations

from collections.abc import Sequence

from binome_sessions.storage import PairRecord
from binome_shared.contracts.privacy_events import ErasedKind


def erasure_census(pairs: Sequence[PairRecord]) -> dict[ErasedKind, int]:
    """The followed pairs, and the sessions, objectives and feedback holding free text."""
    tracks = [record.track for record in pairs if record.track is not None]
    return {
        ErasedKind.PAIR_TRACKS: len(tracks),
        ErasedKind.SESSION_TEXTS: sum(
            bool(session.notes or session.location)
            for track in tracks
            for session in track.sessions
        ),
        ErasedKind.OBJECTIVES: sum(
            bool(objective.statement) for track in tracks for objective in track.objectives
        ),
        ErasedKind.FEEDBACK: sum(
            bool(given.comment) for track in tracks for given in track.feedback
        ),
    }
