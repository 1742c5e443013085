-- Pulse check-ins: the follow-up job also finds the active pairs whose next pulse round is
-- due. The rounds themselves live in the track (state -> 'pulses'); this column only says
-- when the next one is, as stall_due_at does for stalls. NULL: no round will be asked.
ALTER TABLE pairs ADD COLUMN pulse_due_at timestamptz;

-- Pairs already running get their first round at the default rhythm (plans stored before
-- this migration have no pulse settings, hence the defaults: 30 days after the pair's start,
-- its formation or its programme's first day, whichever is later). A round that would fall
-- after the programme's end is never asked: the job sees the pair then, and asks nothing.
UPDATE pairs
SET pulse_due_at = GREATEST(
        formed_at,
        ((state #>> '{plan,starts_on}')::date)::timestamp AT TIME ZONE (state #>> '{plan,time_zone}')
    ) + interval '30 days'
WHERE status = 'active'
  AND state #>> '{plan,starts_on}' IS NOT NULL
  AND state #>> '{plan,time_zone}' IS NOT NULL;

CREATE INDEX pairs_pulse_due ON pairs (pulse_due_at) WHERE status = 'active';
