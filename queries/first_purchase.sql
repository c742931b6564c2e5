-- Each user's first purchase in a three-day window: a window partitioned per user.
SELECT user_id, ts, amount
FROM (
    SELECT user_id, ts, amount,
           row_number() OVER (PARTITION BY user_id ORDER BY ts) AS n
    FROM analytics.events
    WHERE year = '2024' AND month = '03' AND day IN ('05', '06', '07')
      AND event_type = 'purchase'
) AS purchases
WHERE n = 1
ORDER BY ts
LIMIT 100;
