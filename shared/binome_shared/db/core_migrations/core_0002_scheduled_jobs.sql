-- Durable schedule: time-driven work (reminders, stall checks, retries) that survives
-- restarts and runs once across replicas (claimed with FOR UPDATE SKIP LOCKED).
CREATE TABLE scheduled_jobs (
    job_id      text        PRIMARY KEY,
    job_type    text        NOT NULL,
    due_at      timestamptz NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    repeat_every interval,
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    done_at     timestamptz,
    outcome     text
);
CREATE INDEX scheduled_jobs_due ON scheduled_jobs (due_at) WHERE done_at IS NULL;
