-- A deliberate full look at one day, silenced where it is written.
SELECT *  -- noqa: Q001
FROM analytics.events
WHERE year = '2024' AND month = '03' AND day = '07'
LIMIT 20;
