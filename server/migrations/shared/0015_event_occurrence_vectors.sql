-- Search near a point ranks the occurrences in SQL and reads back a page, not every occurrence
-- of the cells around the point (about 700 of a weekend in central Genova at 100,000 events,
-- each crossing from the database to the server as a row). The place of an occurrence is kept
-- as a unit vector from the Earth's centre too: the squared chord to the searched point, sums
-- and products only (SQLite as built here has no trigonometry), grows with the great-circle
-- distance. Filled by the server from lat and lon (`events::store::fill_vectors`) for the rows
-- written before this migration, at every start; a row still without one is not found near a
-- point until then.
ALTER TABLE event_occurrences ADD COLUMN x DOUBLE PRECISION;
ALTER TABLE event_occurrences ADD COLUMN y DOUBLE PRECISION;
ALTER TABLE event_occurrences ADD COLUMN z DOUBLE PRECISION;

-- The near-a-point index covers the vector instead of lat and lon.
DROP INDEX event_occurrences_cell;
CREATE INDEX event_occurrences_cell ON event_occurrences
    (cell, starts_at, event_id, x, y, z, municipality, category, free, accessible);

-- The rows the server still has to fill: none once it has started.
CREATE INDEX event_occurrences_without_vector ON event_occurrences (lat, lon) WHERE x IS NULL;
