-- The runner claims due jobs ORDER BY due_at, job_id: an index in exactly that order lets
-- each claim read its batch and stop, instead of sorting every due job (see db/claims.py).
CREATE INDEX scheduled_jobs_due_order ON scheduled_jobs (due_at, job_id) WHERE done_at IS NULL;
DROP INDEX scheduled_jobs_due;
