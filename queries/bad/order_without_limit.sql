-- expect: Q004
-- One worker sorts every row of the result.
SELECT user_id, amount
FROM analytics.events
WHERE year = '2024' AND month = '03'
ORDER BY amount DESC;
