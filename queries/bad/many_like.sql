-- expect: Q005
SELECT count(*) AS apple_events
FROM analytics.events
WHERE year = '2024'
  AND (device LIKE '%iphone%' OR device LIKE '%ipad%' OR device LIKE '%ipod%');
