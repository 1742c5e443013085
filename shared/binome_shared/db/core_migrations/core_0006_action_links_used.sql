-- Action links (docs/actions.md) are once-only: the token id (jti) of every link that did
-- its action is recorded here, in the same transaction as the action's effect, so a second
-- click finds it and is told "already recorded". Keyed by tenant like every tenant's data.
CREATE TABLE action_links_used (
    tenant_id  text        NOT NULL,
    token_id   text        NOT NULL,
    action     text        NOT NULL,
    subject    text        NOT NULL,
    event_id   uuid        NOT NULL,
    used_at    timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, token_id)
);
