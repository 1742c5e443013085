-- The messaging core's tables, created in every service's own schema (search_path).

-- Transactional outbox: rows are written in the same transaction as the state change
-- they announce, then relayed to Kafka; sent_at is set only after the broker acknowledged.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id      uuid        NOT NULL UNIQUE,
    topic         text        NOT NULL,
    key           bytea       NOT NULL,
    value         bytea       NOT NULL,
    header_names  text[]      NOT NULL,
    header_values bytea[]     NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at       timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- LISTEN/NOTIFY only wakes the relay early; the relay also polls, since
-- notifications are not stored.
CREATE FUNCTION outbox_wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('binome_outbox_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_wake_relay AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake_relay();

-- Idempotent consumers: one row per message handled, written in the transaction of its
-- effect, so a redelivered message finds its row and has no second effect.
CREATE TABLE processed_messages (
    event_id     uuid        PRIMARY KEY,
    message_type text        NOT NULL,
    outcome      text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Messages that arrived before what they are about (a session report for a pair this
-- service has not seen yet): kept here and replayed when it appears, or dead-lettered
-- after a time-out.
CREATE TABLE parked_messages (
    event_id      uuid        PRIMARY KEY,
    waiting_for   text        NOT NULL,
    reason        text        NOT NULL,
    topic         text        NOT NULL,
    partition     integer     NOT NULL,
    "offset"      bigint      NOT NULL,
    key           bytea,
    value         bytea,
    header_names  text[]      NOT NULL,
    header_values bytea[]     NOT NULL,
    parked_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX parked_messages_waiting_for ON parked_messages (waiting_for);
CREATE INDEX parked_messages_parked_at ON parked_messages (parked_at);
