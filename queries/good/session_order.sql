-- Each buyer's events of one day, in order: the window is partitioned per user, and
-- SELECT * inside EXISTS reads no columns of its own.
SELECT user_id, ts, event_type,
       row_number() OVER (PARTITION BY user_id ORDER BY ts) AS step
FROM analytics.events e
WHERE year = '2024' AND month = '03' AND day = '07'
  AND EXISTS (
    SELECT * FROM analytics.events p
    WHERE p.year = '2024' AND p.month = '03' AND p.day = '07'
      AND p.user_id = e.user_id AND p.event_type = 'purchase'
  );
