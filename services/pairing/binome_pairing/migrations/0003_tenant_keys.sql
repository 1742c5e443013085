-- Ids are namespaced by tenant: two tenants may use the same programme id and the same
-- participant ids, hence the same pair ids (derived from programme and people). Every key
-- therefore leads with tenant_id; rows already stored take their programme's tenant.

-- The foreign keys name programmes (programme_id) alone: they go before its key changes.
ALTER TABLE participants DROP CONSTRAINT participants_programme_id_fkey;
ALTER TABLE reporting_lines DROP CONSTRAINT reporting_lines_programme_id_fkey;
ALTER TABLE pairs DROP CONSTRAINT pairs_programme_id_fkey;

ALTER TABLE programmes DROP CONSTRAINT programmes_pkey;
ALTER TABLE programmes ADD PRIMARY KEY (tenant_id, programme_id);

ALTER TABLE participants ADD COLUMN tenant_id text;
UPDATE participants AS p SET tenant_id = g.tenant_id
FROM programmes AS g WHERE g.programme_id = p.programme_id;
ALTER TABLE participants ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE participants DROP CONSTRAINT participants_pkey;
ALTER TABLE participants ADD PRIMARY KEY (tenant_id, programme_id, participant_id);
ALTER TABLE participants ADD FOREIGN KEY (tenant_id, programme_id)
    REFERENCES programmes (tenant_id, programme_id);
-- An erasure looks the person up in every programme of the tenant.
CREATE INDEX participants_person ON participants (tenant_id, participant_id);

ALTER TABLE reporting_lines ADD COLUMN tenant_id text;
UPDATE reporting_lines AS l SET tenant_id = g.tenant_id
FROM programmes AS g WHERE g.programme_id = l.programme_id;
ALTER TABLE reporting_lines ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE reporting_lines DROP CONSTRAINT reporting_lines_pkey;
ALTER TABLE reporting_lines ADD PRIMARY KEY (tenant_id, programme_id, employee_id);
ALTER TABLE reporting_lines ADD FOREIGN KEY (tenant_id, programme_id)
    REFERENCES programmes (tenant_id, programme_id);

ALTER TABLE pairs ADD COLUMN tenant_id text;
UPDATE pairs AS p SET tenant_id = g.tenant_id
FROM programmes AS g WHERE g.programme_id = p.programme_id;
ALTER TABLE pairs ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE pairs DROP CONSTRAINT pairs_pkey;
ALTER TABLE pairs ADD PRIMARY KEY (tenant_id, pair_id);
ALTER TABLE pairs ADD FOREIGN KEY (tenant_id, programme_id)
    REFERENCES programmes (tenant_id, programme_id);
DROP INDEX pairs_programme_status;
DROP INDEX pairs_mentor;
DROP INDEX pairs_mentee;
CREATE INDEX pairs_programme_status ON pairs (tenant_id, programme_id, status);
CREATE INDEX pairs_mentor ON pairs (tenant_id, programme_id, mentor_id);
CREATE INDEX pairs_mentee ON pairs (tenant_id, programme_id, mentee_id);
