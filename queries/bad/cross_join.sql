-- expect: Q008
SELECT e.event_id, u.signup_date
FROM analytics.events e, analytics.users u
WHERE e.year = '2024' AND e.month = '03';
