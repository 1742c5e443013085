"""Follow-up over time, run by the durable schedule (once per period across replicas).

- ``follow-up``: closes the pairs whose programme is over (PairCompleted), reports the
  pairs silent for their programme's threshold (PairStalled, once per silence) and opens
  the pulse rounds that are due (PulseCheckRequested, once per pair and round);
- ``progress-report``: publishes each running programme's progress for HR
  (ProgrammeProgressReported), small groups suppressed.
Time is the runner's clock (``uow.now``): simulated in the demo and tests.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from binome_sessions.domain import DEFAULT_SUPPRESSION_THRESHOLD, compute_progress
from binome_sessions.handlers import publish_track_events
from binome_sessions.storage import PairKey, RepositoryFactory
from binome_sessions.translation import progress_report
from binome_shared.contracts.base import Envelope
from binome_shared.messaging.routes import UnitOfWork
from binome_shared.messaging.scheduler import Job

logger = logging.getLogger(__name__)

FOLLOW_UP = "follow-up"
PROGRESS_REPORT = "progress-report"
FOLLOW_UP_EVERY = timedelta(hours=1)
PROGRESS_REPORT_EVERY = timedelta(weeks=1)


class FollowUpJobs:
    """The scheduled jobs of the sessions service."""

    def __init__(
        self,
        *,
        repository: RepositoryFactory,
        batch_size: int = 500,
        suppression_threshold: int = DEFAULT_SUPPRESSION_THRESHOLD,
        report_every: timedelta = PROGRESS_REPORT_EVERY,
    ) -> None:
        self._repository = repository
        self._batch_size = batch_size
        self._threshold = suppression_threshold
        self._report_every = report_every

    async def follow_up(self, job: Job, uow: UnitOfWork) -> None:
        """Close each due pair whose programme ended, else report it if newly stalled and
        open its pulse round if one is due."""
        del job
        tracks = self._repository(uow.conn)
        after: PairKey | None = None
        closed = stalled = pulsed = 0
        while True:
            records = await tracks.due_for_follow_up(uow.now, limit=self._batch_size, after=after)
            # Pairs of every tenant (two may share a pair id): each saved as the record it is.
            for record in records:
                track = record.track
                if track is None:
                    continue
                ended = track.close_if_programme_ended(now=uow.now)
                silent = track.check_stall(now=uow.now)  # False once closed
                pulse = track.ask_pulse_if_due(now=uow.now)  # False once closed
                if ended or silent or pulse:
                    await tracks.save(record, track, now=uow.now)
                    await publish_track_events(uow, track, tenant_id=record.tenant_id)
                closed += ended
                stalled += silent
                pulsed += pulse
            if len(records) < self._batch_size:
                break
            after = (records[-1].tenant_id, records[-1].pair_id)
        if closed or stalled or pulsed:
            logger.info(
                "follow-up: %d pair(s) closed, %d stalled, %d asked for a pulse",
                closed,
                stalled,
                pulsed,
            )

    async def progress_report(self, job: Job, uow: UnitOfWork) -> None:
        """Publish every running programme's progress (and a last one after it ends)."""
        del job
        tracks = self._repository(uow.conn)
        period_start = uow.now - self._report_every
        for programme in await tracks.programmes_to_report(period_start):
            progress = compute_progress(
                programme_id=programme.programme_id,
                tracks=await tracks.tracks_of_programme(
                    programme.tenant_id, programme.programme_id
                ),
                suppression_threshold=self._threshold,
            )
            report = progress_report(
                progress, reported_at=uow.now, period_start=period_start, plan=programme.plan
            )
            await uow.publish(
                Envelope.new(
                    report,
                    source=uow.source,
                    time=uow.now,
                    tenant_id=programme.tenant_id,
                    programme_id=programme.programme_id,
                )
            )
