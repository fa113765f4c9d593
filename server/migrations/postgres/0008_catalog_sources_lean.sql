-- A source record's `data` is NULL while it is the only source of its record (the record's
-- data is then exactly its data), and the copies of a source are found through its record, so
-- the (source_library, source_id) index goes. See the SQLite migration of the same number.
ALTER TABLE catalog_sources ALTER COLUMN data DROP NOT NULL;
UPDATE catalog_sources s SET data = NULL
FROM catalog_records r
WHERE r.id = s.record_id AND s.data = r.data
  AND NOT EXISTS (SELECT 1 FROM catalog_sources o WHERE o.record_id = s.record_id
                  AND (o.library_id, o.source_id) <> (s.library_id, s.source_id));

-- Copies withdrawn before their source moved to another record stayed on the old one.
UPDATE catalog_copies c SET record_id = s.record_id
FROM catalog_sources s
WHERE s.library_id = c.source_library AND s.source_id = c.source_id AND s.record_id <> c.record_id;

DROP INDEX catalog_copies_source;
