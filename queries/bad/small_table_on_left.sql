-- expect: Q007
-- Needs the catalog's sizes: users (small) is on the left, events (large) on the right.
SELECT u.country, sum(e.amount) AS revenue
FROM analytics.users u
JOIN analytics.events e ON e.user_id = u.user_id
WHERE e.year = '2024' AND e.month = '03'
GROUP BY u.country;
