-- The copies of a page of search hits are read with
-- `WHERE record_id IN (...) ORDER BY record_id, library_id, item_id`: an index in that order
-- answers it without a sort. (SQLite's migration 0007 clusters the table itself that way;
-- PostgreSQL has no clustered tables that stay clustered.)
CREATE INDEX catalog_copies_record_order ON catalog_copies (record_id, library_id, item_id);
DROP INDEX catalog_copies_record;
