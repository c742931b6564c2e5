-- One regexp_like instead of OR-ed LIKEs; an approximate distinct count.
SELECT country,
       approx_distinct(user_id) AS users,
       count_if(regexp_like(device, 'iphone|ipad|ipod')) AS apple_events
FROM analytics.events
WHERE year = '2024' AND month = '03'
GROUP BY country;
