-- expect: Q001,Q002,Q004,Q006
-- Two statements in one file; each finding points at its own line.
SELECT *
FROM analytics.events
ORDER BY ts;

SELECT count(DISTINCT user_id) AS users
FROM analytics.events
WHERE year = '2024';
