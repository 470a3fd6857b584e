"""Analytics on a real mirror of seeded data: each query's figures agree with the source database."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from learnlab import analytics
from learnlab.cli import app
from learnlab.mirror import open_reader

runner = CliRunner()


@pytest.fixture
def mirrored(seeded_mirror):
    return seeded_mirror


def source(folder, sql, *params):
    return sqlite3.connect(folder / "dev.db").execute(sql, params).fetchone()[0]


def test_cost_per_plan_totals_match_the_source(mirrored):
    with open_reader(mirrored / "analytics.duckdb") as con:
        df = analytics.run("cost_per_plan", con, since="2000-01-01")
    assert set(df["plan"]) <= {"basic", "premium", "pro"} and df.height > 0
    cents = source(mirrored, 'SELECT sum("costInCents") FROM "AIUsage"')
    assert round(df["ai_cost_usd"].sum(), 2) == pytest.approx(cents / 100, abs=0.01 * df.height)
    assert df["ai_calls"].sum() == source(mirrored, 'SELECT count(*) FROM "AIUsage"')
    only_pro = analytics.run("cost_per_plan", open_reader(mirrored / "analytics.duckdb"), since="2000-01-01", plan="pro")
    assert set(only_pro["plan"]) == {"pro"}


def test_challenge_engagement_counts_match_the_source(mirrored):
    with open_reader(mirrored / "analytics.duckdb") as con:
        df = analytics.run("challenge_engagement", con, since="2000-01-01")
    assert df.height == source(mirrored, 'SELECT count(*) FROM "Challenge"')
    assert df["participants"].sum() == source(mirrored, 'SELECT count(*) FROM "UserChallenge"')
    assert df["completions"].sum() == source(mirrored, 'SELECT count("completedAt") FROM "UserChallenge"')
    rates = df["completion_rate"].drop_nulls()
    assert ((rates >= 0) & (rates <= 1)).all()


def test_slow_queries_and_rag_quality_run(mirrored):
    with open_reader(mirrored / "analytics.duckdb") as con:
        slow = analytics.run("slow_queries", con, since="2000-01-01T00:00:00", top=5)
        rag = analytics.run("rag_retrieval_quality", con, since="2000-01-01")
    assert 0 < slow.height <= 5 and slow["total_ms"].is_sorted(descending=True)
    assert rag["queries"].sum() == source(mirrored, 'SELECT count(*) FROM "RagQuery"')
    assert ((rag["helpful_rate"].drop_nulls() >= 0) & (rag["helpful_rate"].drop_nulls() <= 1)).all()


def test_query_command(mirrored):
    env = {"DATABASE_URL": f"file:{mirrored / 'dev.db'}"}
    listing = runner.invoke(app, ["query"], env=env)
    assert listing.exit_code == 0 and "cost_per_plan" in listing.output
    result = runner.invoke(app, ["query", "slow_queries", "-p", "top=3", "-p", "since=2000-01-01", "--format", "json"],
                           env=env)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 3
    bad = runner.invoke(app, ["query", "slow_queries", "-p", "top=many"], env=env)
    assert bad.exit_code == 1 and "slow_queries.top: 'many' is not of type int" in bad.output
