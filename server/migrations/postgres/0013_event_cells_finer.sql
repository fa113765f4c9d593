-- Event occurrences move from 0.1-degree grid cells (about 11 x 8 km) to 0.01-degree cells
-- (about 1.1 x 0.8 km): a search near a point now reads the cells around it in widening rings
-- and stops at a page, instead of ranking every occurrence of the city in the window.
-- The same formula as `events::grid::cell`.
UPDATE event_occurrences
SET cell = CAST(floor((lat + 90.0) * 100.0) AS BIGINT) * 100000
         + CAST(floor((lon + 180.0) * 100.0) AS BIGINT);
