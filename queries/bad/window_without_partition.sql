-- expect: Q009
SELECT user_id, ts, row_number() OVER (ORDER BY ts) AS n
FROM analytics.events
WHERE year = '2024' AND month = '03' AND day = '07';
