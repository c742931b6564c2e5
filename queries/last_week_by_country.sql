-- Purchases per country in one week. The day partitions bound what Athena scans;
-- the ts range bounds the rows (and, from row-group statistics, the row groups).
-- Athena does not derive partitions from a ts range: without the partition predicate
-- it would open every day's files (lakekit's estimate says so, and advises it).
SELECT country,
       count(*) AS purchases,
       round(sum(amount), 2) AS revenue
FROM analytics.events
WHERE year = '2024' AND month = '03' AND day BETWEEN '18' AND '24'
  AND ts >= TIMESTAMP '2024-03-18 00:00:00'
  AND ts < TIMESTAMP '2024-03-25 00:00:00'
  AND event_type = 'purchase'
GROUP BY country
ORDER BY revenue DESC
LIMIT 10;
