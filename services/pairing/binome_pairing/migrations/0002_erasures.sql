-- Who was erased (GDPR), per tenant: the person, not one enrolment. A later enrolment of
-- that id in any programme of the tenant is refused, and a second erasure changes nothing.
CREATE TABLE erased_participants (
    tenant_id      text        NOT NULL,
    participant_id text        NOT NULL,
    erased_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, participant_id)
);
