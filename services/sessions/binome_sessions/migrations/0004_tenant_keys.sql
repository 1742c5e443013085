-- Tenancy: ids are namespaced by tenant. Two tenants may use the same programme id and the
-- same participant ids, hence the same pair ids (derived from programme and people), so every
-- table holding a tenant's data is keyed by (tenant_id, ...): tenant B's DefineProgramme no
-- longer replaces tenant A's session plan, and B's pair no longer collides with A's.
--
-- Every row already carries its tenant (0001 to 0003 stored tenant_id NOT NULL), so nothing
-- needs backfilling; the old keys were unique on the id alone, so the existing rows stay
-- unique under the wider ones.
ALTER TABLE programmes
    DROP CONSTRAINT programmes_pkey,
    ADD PRIMARY KEY (tenant_id, programme_id);

ALTER TABLE pairs
    DROP CONSTRAINT pairs_pkey,
    ADD PRIMARY KEY (tenant_id, pair_id);

ALTER TABLE unfollowed_pairs
    DROP CONSTRAINT unfollowed_pairs_pkey,
    ADD PRIMARY KEY (tenant_id, pair_id);

-- A programme's pairs are looked up within their tenant (its definition starts the waiting
-- ones; the progress figures count them).
DROP INDEX pairs_programme;
CREATE INDEX pairs_programme ON pairs (tenant_id, programme_id);
