-- Page views and purchases per device for one day: a CTE read twice is two scans (Athena inlines
-- WITH queries), each billed for the columns it reads.
WITH day_events AS (
    SELECT user_id, device, event_type
    FROM analytics.events
    WHERE year = '2024' AND month = '03' AND day = '07'
),
viewers AS (
    SELECT device, count(*) AS events, approx_distinct(user_id) AS users
    FROM day_events
    WHERE event_type = 'page_view'
    GROUP BY device
),
buyers AS (
    SELECT device, count(*) AS events, approx_distinct(user_id) AS users
    FROM day_events
    WHERE event_type = 'purchase'
    GROUP BY device
)
SELECT v.device,
       v.users AS viewers,
       b.users AS buyers,
       round(100.0 * b.events / v.events, 1) AS purchases_per_100_views
FROM viewers v
JOIN buyers b ON b.device = v.device
ORDER BY purchases_per_100_views DESC
LIMIT 10;
