-- expect: Q002
-- Bounded by the timestamp alone: Athena does not know the day partitions come from ts,
-- so it opens every partition's files. `lakekit lint query --fix` adds the partition
-- predicate the range implies, and the estimate drops to what the advice said.
SELECT country, count(*) AS purchases
FROM analytics.events
WHERE ts >= TIMESTAMP '2024-03-18 00:00:00'  -- one week
  AND ts < TIMESTAMP '2024-03-25 00:00:00'
  AND event_type = 'purchase'
GROUP BY country;
