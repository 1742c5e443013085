-- Programmes and participants as HR defined them, and the pairs rounds produce.
CREATE TABLE programmes (
    programme_id   text        PRIMARY KEY,
    tenant_id      text        NOT NULL,
    definition     jsonb       NOT NULL,
    defined_at     timestamptz NOT NULL,
    rounds_run     integer     NOT NULL DEFAULT 0
);

-- profile is NULL once the person is erased (GDPR): the id stays, for pair history only.
CREATE TABLE participants (
    programme_id   text        NOT NULL REFERENCES programmes (programme_id),
    participant_id text        NOT NULL,
    role           text        NOT NULL,
    profile        jsonb,
    status         text        NOT NULL DEFAULT 'enrolled',
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (programme_id, participant_id)
);

-- The org chart beyond the enrolled people: managers' managers, team leads.
CREATE TABLE reporting_lines (
    programme_id   text        NOT NULL REFERENCES programmes (programme_id),
    employee_id    text        NOT NULL,
    manager_id     text        NOT NULL,
    PRIMARY KEY (programme_id, employee_id)
);

-- status: proposed → formed | rejected | superseded; formed → dissolved.
CREATE TABLE pairs (
    pair_id        text        PRIMARY KEY,
    programme_id   text        NOT NULL REFERENCES programmes (programme_id),
    round_id       text        NOT NULL,
    mentor_id      text        NOT NULL,
    mentee_id      text        NOT NULL,
    mentor_unit    text        NOT NULL,
    mentee_unit    text        NOT NULL,
    mentor_trained boolean     NOT NULL,
    status         text        NOT NULL,
    score          double precision NOT NULL,
    explanation    jsonb       NOT NULL,
    proposed_at    timestamptz NOT NULL,
    decided_at     timestamptz
);
CREATE INDEX pairs_programme_status ON pairs (programme_id, status);
CREATE INDEX pairs_mentor ON pairs (programme_id, mentor_id);
CREATE INDEX pairs_mentee ON pairs (programme_id, mentee_id);
