-- Pairs the sessions service follows, as PairFormed announced them (ids and business units
-- only: names and e-mail addresses stay with the services that need them).
CREATE TABLE pairs (
    pair_id            text        PRIMARY KEY,
    tenant_id          text        NOT NULL,
    programme_id       text        NOT NULL,
    mentor_id          text        NOT NULL,
    mentee_id          text        NOT NULL,
    mentor_unit        text        NOT NULL,
    mentee_unit        text        NOT NULL,
    status             text        NOT NULL DEFAULT 'active',
    formed_at          timestamptz NOT NULL,
    formed_by_event_id uuid        NOT NULL
);
CREATE INDEX pairs_programme ON pairs (programme_id);
