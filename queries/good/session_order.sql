-- Windows partitioned per user; EXISTS with SELECT * reads no columns.
SELECT user_id, ts, event_type,
       row_number() OVER (PARTITION BY user_id ORDER BY ts) AS step
FROM analytics.events e
WHERE year = '2024' AND month = '03' AND day = '07'
  AND EXISTS (SELECT * FROM analytics.users u WHERE u.user_id = e.user_id);  -- noqa: Q002
