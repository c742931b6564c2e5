-- expect: Q003
-- Partition values are zero-padded strings; casting them hides the key from pruning.
SELECT count(*) AS events
FROM analytics.events
WHERE year = '2024'
  AND CAST(month AS integer) BETWEEN 1 AND 3;
