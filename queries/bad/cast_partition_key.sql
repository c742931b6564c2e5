-- expect: Q003
-- The cast day is compared with a value only the rows hold, so Athena cannot rule out
-- any day partition from its values: every partition of 2024 is scanned.
SELECT count(*) AS misfiled_events
FROM analytics.events
WHERE year = '2024'
  AND CAST(day AS integer) <> day_of_month(ts);
