-- Daily revenue in the first two weeks of March 2024.
-- The partition keys bound the scan to 14 day partitions; only event_type and amount
-- are read. `make demo` runs this with --estimate-cost.
SELECT day,
       count(*) AS purchases,
       round(sum(amount), 2) AS revenue
FROM analytics.events
WHERE year = '2024' AND month = '03' AND day BETWEEN '01' AND '14'
  AND event_type = 'purchase'
GROUP BY day
ORDER BY day
LIMIT 31;
