-- A bulk import wrote every record's normalised JSON twice (the record and its one source
-- record held the same text) and indexed every copy a third time by its source. Now:
--
-- * a source record's `data` is NULL while it is the only source of its record: the record's
--   data is then exactly its data. The import stores it apart as soon as a second source
--   merges into the record (before the merge rewrites the record's data).
-- * the source records are keyed by (library, source id) without a rowid B-tree next to the
--   key (SQLite has no ALTER COLUMN, so the table is rebuilt anyway to drop NOT NULL).
-- * the copies of a source are found through its record (`catalog_copies` is clustered by
--   record), so the (source_library, source_id) index goes: every copy of a source carries the
--   source's current record, and moves with it when a re-import moves the source.
CREATE TABLE catalog_sources_by_key (
    library_id   TEXT NOT NULL REFERENCES libraries (id),
    source_id    TEXT NOT NULL,
    municipality TEXT NOT NULL REFERENCES municipalities (istat_code),
    record_id    TEXT NOT NULL REFERENCES catalog_records (id),
    data         TEXT,            -- this source's normalised record, JSON; NULL: the record's data
    fingerprint  TEXT NOT NULL,   -- SHA-256 of record and copies: unchanged re-imports are no-ops
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (library_id, source_id)
) WITHOUT ROWID;

-- Sources already stored give up their copy of the data on the same terms.
INSERT INTO catalog_sources_by_key
    (library_id, source_id, municipality, record_id, data, fingerprint, updated_at)
SELECT s.library_id, s.source_id, s.municipality, s.record_id,
       CASE WHEN s.data = r.data
             AND (SELECT COUNT(*) FROM catalog_sources o WHERE o.record_id = s.record_id) = 1
            THEN NULL ELSE s.data END,
       s.fingerprint, s.updated_at
FROM catalog_sources s JOIN catalog_records r ON r.id = s.record_id
ORDER BY s.library_id, s.source_id;

DROP TABLE catalog_sources;
ALTER TABLE catalog_sources_by_key RENAME TO catalog_sources;
CREATE INDEX catalog_sources_record ON catalog_sources (record_id);

-- Copies withdrawn before their source moved to another record stayed on the old one: move
-- them to their source's record, so that every copy of a source is found through it.
UPDATE catalog_copies SET record_id = (
    SELECT s.record_id FROM catalog_sources s
    WHERE s.library_id = catalog_copies.source_library AND s.source_id = catalog_copies.source_id)
WHERE EXISTS (
    SELECT 1 FROM catalog_sources s
    WHERE s.library_id = catalog_copies.source_library AND s.source_id = catalog_copies.source_id
      AND s.record_id <> catalog_copies.record_id);

DROP INDEX catalog_copies_source;
