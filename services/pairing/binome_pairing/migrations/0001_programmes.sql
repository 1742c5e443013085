-- Programmes and participants as HR defined them, and the pairs rounds produce.
CREATE TABLE programmes (
    programme_id   text        PRIMARY KEY,
    tenant_id      text        NOT NULL,
    definition     jsonb       NOT NULL,
    defined_at     timestamptz NOT NULL,
    defined_by     uuid        NOT NULL
);

CREATE TABLE participants (
    programme_id   text        NOT NULL REFERENCES programmes (programme_id),
    participant_id text        NOT NULL,
    role           text        NOT NULL,
    profile        jsonb,
    status         text        NOT NULL DEFAULT 'enrolled',
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (programme_id, participant_id)
);

CREATE TABLE pairs (
    pair_id        text        PRIMARY KEY,
    programme_id   text        NOT NULL REFERENCES programmes (programme_id),
    round_id       text        NOT NULL,
    mentor_id      text        NOT NULL,
    mentee_id      text        NOT NULL,
    status         text        NOT NULL,
    score          double precision NOT NULL,
    explanation    jsonb       NOT NULL,
    proposed_at    timestamptz NOT NULL,
    decided_at     timestamptz
);
CREATE INDEX pairs_programme_status ON pairs (programme_id, status);
CREATE INDEX pairs_people ON pairs (programme_id, mentor_id, mentee_id);
