-- Revenue per country and day for one month: partition keys bound, two columns read.
SELECT day, country, sum(amount) AS revenue
FROM analytics.events
WHERE year = '2024' AND month = '03'
GROUP BY day, country
ORDER BY day, revenue DESC
LIMIT 1000;
