-- March spend per buyer next to the day of their first purchase: the large side
-- (events) on the left of the join, the small aggregate on the right; a top-N sort.
WITH first_purchase AS (
    SELECT user_id, min(day) AS first_day
    FROM analytics.events
    WHERE year = '2024' AND month = '03' AND event_type = 'purchase'
    GROUP BY user_id
)
SELECT e.user_id, f.first_day, sum(e.amount) AS spent
FROM analytics.events e
JOIN first_purchase f ON f.user_id = e.user_id
WHERE e.year = '2024' AND e.month = '03'
GROUP BY e.user_id, f.first_day
ORDER BY spent DESC
LIMIT 10;
