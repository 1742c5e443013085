-- Participant consent (issue #17): a pair put to its two members, their answers and the
-- deadline. One row per pair asked, keyed like the pair itself (ids are namespaced by tenant).
-- The pair's status (awaiting_consent → formed | called_off) stays in pairs.status;
-- settled_at is set once the pair no longer awaits answers, so the deadline sweep skips it.
CREATE TABLE pair_consents (
    tenant_id          text        NOT NULL,
    pair_id            text        NOT NULL,
    asked_at           timestamptz NOT NULL,
    respond_by         timestamptz NOT NULL,
    mentor_answer      text,
    mentor_answered_at timestamptz,
    mentee_answer      text,
    mentee_answered_at timestamptz,
    settled_at         timestamptz,
    PRIMARY KEY (tenant_id, pair_id),
    FOREIGN KEY (tenant_id, pair_id) REFERENCES pairs (tenant_id, pair_id)
);
-- The deadline sweep reads every tenant's open consents whose deadline passed, in order.
CREATE INDEX pair_consents_open_by_deadline ON pair_consents (respond_by)
    WHERE settled_at IS NULL;
