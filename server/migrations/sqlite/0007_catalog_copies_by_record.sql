-- Copies stored in record order. Search reads the copies of a page of records at once
-- (`WHERE record_id IN (...) ORDER BY record_id, library_id, item_id`): with the table keyed
-- by (library, item) that was an index probe, a table probe per copy and a sort; clustered by
-- record it is one range read per record, already in order. An import appends in record order
-- too (record ids are time-ordered UUIDs), and the table's former rowid B-tree is gone, one
-- B-tree fewer per copy written. Items stay unique per library through their own index, which
-- is what the upserts name (`ON CONFLICT (library_id, item_id)`).
CREATE TABLE catalog_copies_by_record (
    library_id   TEXT NOT NULL REFERENCES libraries (id),
    item_id      TEXT NOT NULL,
    municipality TEXT NOT NULL REFERENCES municipalities (istat_code),
    source_id    TEXT NOT NULL,   -- the source record that listed it (in the importing library)
    source_library TEXT NOT NULL,
    record_id    TEXT NOT NULL REFERENCES catalog_records (id),
    shelf_mark   TEXT,
    status       TEXT NOT NULL,
    due_date     TEXT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (record_id, library_id, item_id)
) WITHOUT ROWID;

INSERT INTO catalog_copies_by_record
    (library_id, item_id, municipality, source_id, source_library, record_id, shelf_mark, status, due_date, updated_at)
SELECT library_id, item_id, municipality, source_id, source_library, record_id, shelf_mark, status, due_date, updated_at
FROM catalog_copies ORDER BY record_id, library_id, item_id;

DROP TABLE catalog_copies;
ALTER TABLE catalog_copies_by_record RENAME TO catalog_copies;
CREATE UNIQUE INDEX catalog_copies_item ON catalog_copies (library_id, item_id);
CREATE INDEX catalog_copies_source ON catalog_copies (source_library, source_id);
