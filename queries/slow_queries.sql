-- name: slow_queries
-- description: The statements that cost the most database time, with their slow samples (over 20 ms).
-- params: since (timestamp, default 7 days ago), source (text, optional), top (int, default 20)
WITH stats AS (
    SELECT fingerprint,
           any_value(statement) AS statement,
           CAST(sum(calls) AS BIGINT) AS calls,
           sum("totalMs") AS total_ms,
           max("maxMs") AS max_ms,
           max("p95Ms") AS p95_ms,
           CAST(sum(rows) AS BIGINT) AS rows
    FROM "QueryStat"
    WHERE "bucketStart" >= $since AND ($source IS NULL OR source = $source)
    GROUP BY fingerprint
),
slow AS (
    SELECT fingerprint, count(*) AS slow_samples, max("durationMs") AS slowest_ms, arg_max(plan, "durationMs") AS plan
    FROM "SlowQuery"
    WHERE "occurredAt" >= $since AND ($source IS NULL OR source = $source)
    GROUP BY fingerprint
)
SELECT s.fingerprint,
       s.statement,
       s.calls,
       round(s.total_ms, 1) AS total_ms,
       round(s.total_ms / nullif(s.calls, 0), 3) AS mean_ms,
       round(s.p95_ms, 3) AS p95_ms,
       round(s.max_ms, 3) AS max_ms,
       round(100.0 * s.total_ms / nullif(sum(s.total_ms) OVER (), 0), 2) AS pct_of_total_time,
       coalesce(w.slow_samples, 0) AS slow_samples,
       w.slowest_ms,
       w.plan
FROM stats s
LEFT JOIN slow w USING (fingerprint)
ORDER BY s.total_ms DESC
LIMIT $top
