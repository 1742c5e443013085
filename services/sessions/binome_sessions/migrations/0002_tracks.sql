-- Programmes' session plans (from DefineProgramme), and each pair's track as the domain
-- stores it. Pairs recorded by 0001 before plans existed keep state NULL until their
-- programme is defined, which starts their track.
CREATE TABLE programmes (
    programme_id        text        PRIMARY KEY,
    tenant_id           text        NOT NULL,
    session_plan        jsonb       NOT NULL,
    defined_at          timestamptz NOT NULL,
    defined_by_event_id uuid        NOT NULL
);

ALTER TABLE pairs
    ADD COLUMN state        jsonb,
    ADD COLUMN version      integer     NOT NULL DEFAULT 0,
    ADD COLUMN stall_due_at timestamptz,
    ADD COLUMN closes_at    timestamptz,
    ADD COLUMN updated_at   timestamptz;

-- The follow-up job reads only active pairs that are due (stall) or over (programme end).
CREATE INDEX pairs_stall_due ON pairs (stall_due_at) WHERE status = 'active';
CREATE INDEX pairs_closes_at ON pairs (closes_at) WHERE status = 'active';
-- GDPR erasure finds a person's pairs by either side.
CREATE INDEX pairs_mentor ON pairs (tenant_id, mentor_id);
CREATE INDEX pairs_mentee ON pairs (tenant_id, mentee_id);
