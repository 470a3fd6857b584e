-- name: challenge_engagement
-- description: Participation, completion, scores and badges per challenge started since a date.
-- params: since (date, default 6 months ago), difficulty (text, optional)
WITH participation AS (
    SELECT uc."challengeId",
           count(*) AS participants,
           count(uc."completedAt") AS completions,
           avg(uc.score) AS avg_score,
           median(uc.score) AS median_score,
           max(uc.score) AS top_score,
           median(date_diff('second', uc."createdAt", uc."completedAt") / 3600.0) AS median_hours_to_complete
    FROM "UserChallenge" uc
    GROUP BY ALL
),
badges AS (
    SELECT b."challengeId", count(ucb.id) AS badges_awarded, count(DISTINCT b.id) AS badges_defined
    FROM "Badge" b
    LEFT JOIN "UserChallengeBadge" ucb ON ucb."badgeId" = b.id
    GROUP BY ALL
)
SELECT c.id AS challenge_id,
       c.title,
       c.difficulty,
       CAST(c."startDate" AS DATE) AS start_date,
       CAST(c."endDate" AS DATE) AS end_date,
       c."isActive" AS is_active,
       coalesce(p.participants, 0) AS participants,
       coalesce(p.completions, 0) AS completions,
       round(coalesce(p.completions, 0) / nullif(p.participants, 0), 4) AS completion_rate,
       round(p.avg_score, 2) AS avg_score,
       p.median_score,
       p.top_score,
       round(p.median_hours_to_complete, 1) AS median_hours_to_complete,
       coalesce(b.badges_awarded, 0) AS badges_awarded,
       coalesce(b.badges_defined, 0) AS badges_defined
FROM "Challenge" c
LEFT JOIN participation p ON p."challengeId" = c.id
LEFT JOIN badges b ON b."challengeId" = c.id
WHERE c."startDate" >= $since
  AND ($difficulty IS NULL OR c.difficulty = $difficulty)
ORDER BY c."startDate" DESC, c.id
