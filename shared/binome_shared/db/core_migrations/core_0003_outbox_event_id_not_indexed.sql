-- The outbox's event ids were unique-indexed. That random-UUID index was written on every
-- insert and again on every row marked sent, the relay's largest Postgres cost after the
-- rows themselves, and guarded only against queueing one envelope twice: consumers absorb
-- such a duplicate anyway (processed_messages). Rows are found by id, never by event id.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_event_id_key;
