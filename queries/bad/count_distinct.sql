-- expect: Q006
SELECT country, count(DISTINCT user_id) AS users
FROM analytics.events
WHERE year = '2024' AND month = '03'
GROUP BY country;
