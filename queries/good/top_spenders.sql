-- The large table on the left, the small one on the right; a top-N sort.
-- analytics.users is not partitioned: the catalog knows it, and the noqa keeps the
-- query clean where lint runs without a catalog (and assumes year/month/day keys).
SELECT e.user_id, u.signup_date, sum(e.amount) AS spent
FROM analytics.events e
JOIN analytics.users u ON u.user_id = e.user_id  -- noqa: Q002
WHERE e.year = '2024' AND e.month = '03'
GROUP BY e.user_id, u.signup_date
ORDER BY spent DESC
LIMIT 10;
