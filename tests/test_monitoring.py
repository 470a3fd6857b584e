"""Query monitoring: every statement counted per fingerprint and bucket; slow ones sampled with a plan."""

from __future__ import annotations

import sqlalchemy as sa

import learnlab.models as m
from learnlab.monitoring import QueryMonitor, analyze_query, fingerprint, normalize


def test_literals_do_not_split_a_query_shape():
    assert normalize("SELECT * FROM t WHERE a = 5 AND b = 'x''y'  AND c IN (1, 2, 3)") == \
        "SELECT * FROM t WHERE a = ? AND b = ? AND c IN (?)"
    assert fingerprint("select 1") == fingerprint("select   2")


def test_statements_are_aggregated_and_slow_ones_sampled(db):
    with db.transaction() as s:
        s.add_all([m.User(email=f"u{i}@x") for i in range(20)])
    slow_seen = []
    with QueryMonitor(db, source="api", slow_ms=0.0, on_slow=lambda sql, ms: slow_seen.append(sql)) as monitor:
        for i in range(5):
            with db.engine.connect() as c:
                c.execute(sa.select(m.User.id).where(m.User.email == f"u{i}@x")).all()
    with db.session() as s:
        stats = s.scalars(sa.select(m.QueryStat).where(m.QueryStat.source == "api")).all()
        slow = s.scalars(sa.select(m.SlowQuery)).all()
    lookup = [st for st in stats if 'FROM "User"' in st.statement]
    assert len(lookup) == 1 and lookup[0].calls == 5 and lookup[0].rows >= 0
    assert lookup[0].maxMs >= lookup[0].p95Ms > 0 and lookup[0].totalMs >= lookup[0].maxMs
    assert any(q.plan and "User_email_key" in q.plan for q in slow)  # the plan shows the index used
    assert len(slow) == len(slow_seen) >= 5
    # the monitor does not measure its own writes, and detaches on exit
    assert not any("QueryStat" in st.statement for st in stats)
    assert monitor.flush() == 0


def test_analyze_query_shows_the_plan(db):
    plan = analyze_query(db, 'SELECT count(*) FROM "AIUsage" WHERE "userId" = ? AND "usageMonth" = ?', ("u", "2024-01"))
    assert any("AIUsage_userId_usageMonth_idx" in line for line in plan)
