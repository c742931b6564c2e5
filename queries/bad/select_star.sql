-- expect: Q001
-- Reads all nine columns of every March partition to use two of them.
SELECT *
FROM analytics.events
WHERE year = '2024' AND month = '03';
