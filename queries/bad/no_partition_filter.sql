-- expect: Q002
-- No predicate on year/month/day: every partition of the table is scanned.
SELECT event_type, count(*) AS events
FROM analytics.events
WHERE amount > 100
GROUP BY event_type;
