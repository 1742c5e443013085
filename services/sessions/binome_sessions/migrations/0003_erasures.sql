-- Who was erased (GDPR), per tenant: such a person's pairs are never followed again.
CREATE TABLE erased_participants (
    tenant_id      text        NOT NULL,
    participant_id text        NOT NULL,
    erased_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, participant_id)
);

-- Pairs announced with an erased member: never followed, and the session commands about
-- them (parked ones included, once replayed) are dropped rather than stored.
CREATE TABLE unfollowed_pairs (
    pair_id        text        PRIMARY KEY,
    tenant_id      text        NOT NULL,
    unfollowed_at  timestamptz NOT NULL
);
