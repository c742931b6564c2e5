-- expect: Q010
-- Needs the catalog: the column is event_type.
SELECT evnt_type, count(*) AS events
FROM analytics.events
WHERE year = '2024'
GROUP BY evnt_type;
