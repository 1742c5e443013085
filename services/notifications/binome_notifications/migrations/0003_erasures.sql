-- Who was erased (GDPR), per tenant: never stored (enrolment, preferences) nor notified again.
CREATE TABLE erased_participants (
    tenant_id      text        NOT NULL,
    participant_id text        NOT NULL,
    erased_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, participant_id)
);
