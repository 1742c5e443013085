-- What notifications must know to write to people (and nothing more), and the state of
-- each delivery between "planned" and "sent".

-- Programmes as DefineProgramme describes them: name, language, HR contact, reminder lead,
-- time zone, session themes and feedback rules.
CREATE TABLE programmes (
    programme_id          text        PRIMARY KEY,
    tenant_id             text        NOT NULL,
    name                  text        NOT NULL,
    language              text        NOT NULL,
    time_zone             text        NOT NULL,
    contact_name          text        NOT NULL,
    contact_email         text        NOT NULL,
    contact_language      text        NOT NULL,
    reminder_hours_before integer     NOT NULL,
    themes                jsonb       NOT NULL DEFAULT '{}'::jsonb,
    feedback_after_each_session boolean NOT NULL DEFAULT true,
    feedback_delay_hours  integer     NOT NULL DEFAULT 0,
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Participants: only name, e-mail, language and time zone (EraseParticipant deletes the row).
CREATE TABLE people (
    tenant_id      text        NOT NULL,
    programme_id   text        NOT NULL,
    participant_id text        NOT NULL,
    full_name      text        NOT NULL,
    email          text        NOT NULL,
    language       text        NOT NULL,
    time_zone      text        NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (programme_id, participant_id)
);
CREATE INDEX people_tenant_participant ON people (tenant_id, participant_id);

-- Pairs and sessions by id only: who is in a pair, and a session's latest calendar revision
-- (a cancellation carries no date, yet its .ics must name the event it cancels).
CREATE TABLE pairs (
    pair_id      text PRIMARY KEY,
    programme_id text NOT NULL,
    mentor_id    text NOT NULL,
    mentee_id    text NOT NULL
);

CREATE TABLE sessions (
    session_id       text        PRIMARY KEY,
    pair_id          text        NOT NULL,
    session_number   integer     NOT NULL,
    theme_key        text        NOT NULL,
    starts_at        timestamptz NOT NULL,
    duration_minutes integer     NOT NULL,
    location         text        NOT NULL DEFAULT '',
    sequence         integer     NOT NULL
);

-- Opt-outs per kind and channel (null = every kind / every channel).
CREATE TABLE notification_preferences (
    tenant_id      text  NOT NULL,
    participant_id text  NOT NULL,
    opt_outs       jsonb NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (tenant_id, participant_id)
);

-- Delivery state. status: pending → sending (claimed, committed before the send) → sent |
-- failed; or cancelled (superseded reminder), expired (reminder after the session began).
-- A row still 'sending' when its job runs again was interrupted mid-send: "in doubt".
-- message holds the rendered e-mail or webhook until the delivery ends, then is cleared.
ALTER TABLE deliveries
    ADD COLUMN tenant_id       text,
    ADD COLUMN channel         text        NOT NULL DEFAULT 'email',
    ADD COLUMN pair_id         text,
    ADD COLUMN correlation_id  uuid,
    ADD COLUMN send_at         timestamptz,
    ADD COLUMN expires_at      timestamptz,
    ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
    ADD COLUMN in_doubt_resends integer    NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN last_attempt_at timestamptz,
    ADD COLUMN last_outcome    text,
    ADD COLUMN finished_at     timestamptz,
    ADD COLUMN message         jsonb;
CREATE INDEX deliveries_recipient ON deliveries (tenant_id, recipient_id);
CREATE INDEX deliveries_pending_reminders ON deliveries (pair_id, kind) WHERE status = 'pending';
