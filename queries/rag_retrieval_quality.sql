-- name: rag_retrieval_quality
-- description: RAG retrieval quality per embedder and week: feedback, scores, latency, weak retrievals.
-- params: since (date, default 3 months ago), min_score (float, default 0.2)
WITH per_query AS (
    SELECT q.id,
           q.embedder,
           CAST(date_trunc('week', q."createdAt") AS DATE) AS week,
           q.feedback,
           q."latencyMs",
           max(r.score) AS top_score,
           max(r.score) - min(r.score) AS score_spread,
           count(r.id) AS results,
           q.k
    FROM "RagQuery" q
    LEFT JOIN "RagQueryResult" r ON r."queryId" = q.id
    WHERE q."createdAt" >= $since
    GROUP BY ALL
)
SELECT embedder,
       week,
       count(*) AS queries,
       round(avg(CASE WHEN feedback IS NOT NULL THEN 1.0 ELSE 0.0 END), 4) AS feedback_rate,
       round(avg(CASE WHEN feedback = 1 THEN 1.0 WHEN feedback = -1 THEN 0.0 END), 4) AS helpful_rate,
       round(avg(top_score), 4) AS avg_top_score,
       round(avg(score_spread), 4) AS avg_score_spread,
       round(avg(CASE WHEN top_score < $min_score OR results = 0 THEN 1.0 ELSE 0.0 END), 4) AS weak_retrieval_rate,
       round(avg(CASE WHEN results < k THEN 1.0 ELSE 0.0 END), 4) AS short_result_rate,
       round(quantile_cont("latencyMs", 0.5), 2) AS latency_p50_ms,
       round(quantile_cont("latencyMs", 0.95), 2) AS latency_p95_ms
FROM per_query
GROUP BY ALL
ORDER BY week, embedder
