-- Ids are namespaced by tenant: two tenants may use the same programme id, participant ids,
-- and so the same pair and session ids. Every table holding a tenant's data is keyed by
-- (tenant_id, ...); tables that had no tenant get it from the table that knows it. A row
-- whose tenant cannot be found (none should exist) keeps '' : kept, but no tenant reads it.

-- Programmes: the tenant was stored but not part of the key, so tenant B's DefineProgramme
-- replaced tenant A's programme of the same id (HR contact included).
ALTER TABLE programmes DROP CONSTRAINT programmes_pkey;
ALTER TABLE programmes ADD PRIMARY KEY (tenant_id, programme_id);
-- An erased participant who was also a programme's HR contact leaves no contact behind.
ALTER TABLE programmes ALTER COLUMN contact_name DROP NOT NULL;
ALTER TABLE programmes ALTER COLUMN contact_email DROP NOT NULL;

ALTER TABLE people DROP CONSTRAINT people_pkey;
ALTER TABLE people ADD PRIMARY KEY (tenant_id, programme_id, participant_id);

-- Pairs: the tenant from their programme (programme ids were unique until now).
ALTER TABLE pairs ADD COLUMN tenant_id text;
UPDATE pairs SET tenant_id = programmes.tenant_id
FROM programmes WHERE programmes.programme_id = pairs.programme_id;
UPDATE pairs SET tenant_id = '' WHERE tenant_id IS NULL;
ALTER TABLE pairs ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE pairs DROP CONSTRAINT pairs_pkey;
ALTER TABLE pairs ADD PRIMARY KEY (tenant_id, pair_id);
-- An erased member's id is removed from their pairs (NULL): the pair stays known, so that
-- later events about it are skipped rather than parked.
ALTER TABLE pairs ALTER COLUMN mentor_id DROP NOT NULL;
ALTER TABLE pairs ALTER COLUMN mentee_id DROP NOT NULL;

-- Sessions: the tenant from their pair.
ALTER TABLE sessions ADD COLUMN tenant_id text;
UPDATE sessions SET tenant_id = pairs.tenant_id FROM pairs WHERE pairs.pair_id = sessions.pair_id;
UPDATE sessions SET tenant_id = '' WHERE tenant_id IS NULL;
ALTER TABLE sessions ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE sessions DROP CONSTRAINT sessions_pkey;
ALTER TABLE sessions ADD PRIMARY KEY (tenant_id, session_id);

-- Deliveries planned before they carried a tenant: from their programme. New delivery keys
-- hash the tenant in, so they (and the sending jobs named after them) never collide.
UPDATE deliveries SET tenant_id = programmes.tenant_id
FROM programmes
WHERE deliveries.tenant_id IS NULL AND programmes.programme_id = deliveries.programme_id;
UPDATE deliveries SET tenant_id = '' WHERE tenant_id IS NULL;
ALTER TABLE deliveries ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_pkey;
ALTER TABLE deliveries ADD PRIMARY KEY (tenant_id, delivery_key);
DROP INDEX deliveries_pending_reminders;
CREATE INDEX deliveries_pending_reminders ON deliveries (tenant_id, pair_id, kind)
    WHERE status = 'pending';
CREATE INDEX deliveries_pair ON deliveries (tenant_id, pair_id) WHERE pair_id IS NOT NULL;

-- The sending jobs not run yet learn their delivery's tenant (the job reads it by both).
UPDATE scheduled_jobs SET payload = payload || jsonb_build_object('tenant_id', d.tenant_id)
FROM deliveries AS d
WHERE scheduled_jobs.job_type = 'deliver' AND scheduled_jobs.done_at IS NULL
  AND d.delivery_key = scheduled_jobs.payload->>'delivery_key';
