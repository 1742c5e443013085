-- A record the broker can never take (over its size limit, for an invalid topic, refused as
-- corrupt) is set aside with the reason instead of being retried for ever: it would otherwise
-- hold back every row behind it. Set-aside rows stay (they are not sent, so never pruned)
-- until an operator re-queues or deletes them; see docs/messaging-core.md.
ALTER TABLE outbox
    ADD COLUMN set_aside_at     timestamptz,
    ADD COLUMN set_aside_reason text;

-- The relay's claim walks this index in id order: set-aside rows leave it as sent rows do.
DROP INDEX outbox_unsent;
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND set_aside_at IS NULL;
CREATE INDEX outbox_set_aside ON outbox (id) WHERE set_aside_at IS NOT NULL;
