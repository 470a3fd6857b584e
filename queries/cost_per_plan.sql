-- name: cost_per_plan
-- description: AI cost, subscription revenue and margin per plan and month (plan = the user's current plan).
-- params: since (date, default 12 months ago), plan (text, optional)
WITH months AS (
    SELECT CAST(m AS DATE) AS month
    FROM range(date_trunc('month', $since), date_trunc('month', current_date) + INTERVAL 1 MONTH, INTERVAL 1 MONTH) t(m)
),
usage AS (
    SELECT u.plan, CAST(date_trunc('month', a."createdAt") AS DATE) AS month,
           count(*) AS ai_calls,
           count(DISTINCT a."userId") AS active_users,
           CAST(sum(a."tokensUsed") AS BIGINT) AS tokens,
           sum(a."costInCents") / 100.0 AS ai_cost_usd,
           avg(CASE WHEN a.success THEN 0.0 ELSE 1.0 END) AS failure_rate
    FROM "AIUsage" a
    JOIN "User" u ON u.id = a."userId"
    WHERE a."createdAt" >= $since
    GROUP BY ALL
),
revenue AS (
    -- A subscription pays its amount every month from its start until it was canceled
    -- (or, still live, until now); trials and incomplete checkouts pay nothing.
    SELECT s.plan, m.month, sum(s.amount) / 100.0 AS revenue_usd, count(*) AS paying_subscriptions
    FROM "Subscription" s
    JOIN months m
      ON m.month >= date_trunc('month', s."createdAt")
     AND m.month < coalesce(s."canceledAt", current_date + INTERVAL 1 DAY)
    WHERE s.status NOT IN ('trialing', 'incomplete', 'incomplete_expired')
    GROUP BY ALL
)
SELECT coalesce(u.plan, r.plan) AS plan,
       coalesce(u.month, r.month) AS month,
       coalesce(u.active_users, 0) AS active_users,
       coalesce(u.ai_calls, 0) AS ai_calls,
       coalesce(u.tokens, 0) AS tokens,
       round(coalesce(u.ai_cost_usd, 0), 2) AS ai_cost_usd,
       round(coalesce(r.revenue_usd, 0), 2) AS revenue_usd,
       round(coalesce(r.revenue_usd, 0) - coalesce(u.ai_cost_usd, 0), 2) AS margin_usd,
       round(coalesce(u.ai_cost_usd, 0) / nullif(u.active_users, 0), 4) AS ai_cost_per_active_user_usd,
       round(coalesce(u.failure_rate, 0), 4) AS failure_rate
FROM usage u
FULL OUTER JOIN revenue r ON r.plan = u.plan AND r.month = u.month
WHERE coalesce(u.month, r.month) >= date_trunc('month', $since)
  AND ($plan IS NULL OR coalesce(u.plan, r.plan) = $plan)
ORDER BY month, plan
