-- One row per (recipient, reason): the delivery key is the primary key, so a message is
-- planned at most once however often its cause is delivered.
CREATE TABLE deliveries (
    delivery_key    text        PRIMARY KEY,
    kind            text        NOT NULL,
    recipient_id    text        NOT NULL,
    programme_id    text        NOT NULL,
    subject_id      text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    caused_by       uuid        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX deliveries_pending ON deliveries (created_at) WHERE status = 'pending';
