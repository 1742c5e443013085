-- Pulse check-ins: the follow-up job also finds the active pairs whose next pulse round is
-- due. The rounds themselves live in the track (state -> 'pulses'); this column only says
-- when the next one is, as stall_due_at does for stalls. NULL: no round will be asked.
ALTER TABLE pairs ADD COLUMN pulse_due_at timestamptz;

-- Pairs already running get their first round at the default rhythm (plans stored before
-- this migration have no pulse settings, hence the defaults: 30 days after the pair's start,
-- its formation or its programme's first day, whichever is later). As in the domain, 30 days
-- after the first day are counted on the programme's calendar (midnight stays midnight across
-- a change of daylight saving time), 30 days after a formation as 720 hours. A round that
-- would fall after the programme's end is never asked: the job sees the pair then, and asks
-- nothing.
WITH running AS (
    SELECT tenant_id, pair_id, formed_at,
           (state #>> '{plan,starts_on}')::date::timestamp AS first_day,
           state #>> '{plan,time_zone}' AS time_zone
    FROM pairs
    WHERE status = 'active'
      AND state #>> '{plan,starts_on}' IS NOT NULL
      AND state #>> '{plan,time_zone}' IS NOT NULL
)
UPDATE pairs
SET pulse_due_at = CASE
        WHEN running.formed_at > running.first_day AT TIME ZONE running.time_zone
            THEN running.formed_at + interval '720 hours'
        ELSE (running.first_day + interval '30 days') AT TIME ZONE running.time_zone
    END
FROM running
WHERE (pairs.tenant_id, pairs.pair_id) = (running.tenant_id, running.pair_id);

CREATE INDEX pairs_pulse_due ON pairs (pulse_due_at) WHERE status = 'active';
