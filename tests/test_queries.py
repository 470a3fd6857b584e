"""Every query file: a valid header, DuckDB SQL that parses, declared parameters = used parameters."""

from __future__ import annotations

import re

import pytest
import sqlglot

from learnlab.analytics import QUERIES_DIR, QueryError, all_queries, load, parse
from learnlab.errors import ValidationError

QUERIES = sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def test_there_are_queries_for_each_audience_question():
    assert {"cost_per_plan", "challenge_engagement", "slow_queries", "rag_retrieval_quality"} <= set(QUERIES)


@pytest.mark.parametrize("name", QUERIES)
def test_query_parses_and_declares_what_it_uses(name):
    query = load(name)
    sqlglot.parse_one(query.sql, read="duckdb")  # raises on a syntax error
    used = set(re.findall(r"\$(\w+)", query.sql))
    assert used == {p.name for p in query.params}, name
    assert "{" not in query.sql and "%s" not in query.sql  # values are bound, never formatted in


def test_parameters_are_checked_and_coerced():
    q = load("cost_per_plan")
    bound = q.bind(since="2024-01-15")
    assert str(bound["since"]) == "2024-01-15" and bound["plan"] is None
    assert q.bind()["since"].day == 1  # default: 12 months ago, from the first of that month
    with pytest.raises(ValidationError, match="cost_per_plan.since: 'soon' is not of type date"):
        q.bind(since="soon")
    with pytest.raises(ValidationError, match=r"cost_per_plan.plann: unknown parameter \(declared: since, plan\)"):
        q.bind(plann="pro")
    assert load("slow_queries").bind(top="5")["top"] == 5


def test_a_malformed_query_file_is_named(tmp_path):
    bad = tmp_path / "oops.sql"
    bad.write_text("-- name: other\n-- description: x\nSELECT 1")
    with pytest.raises(QueryError, match="must be the file name 'oops'"):
        parse(bad)
    bad.write_text("-- name: oops\n-- description: x\n-- params: since (datetime)\nSELECT 1")
    with pytest.raises(QueryError, match="not `name"):
        parse(bad)
    with pytest.raises(QueryError, match="no query 'nope'"):
        load("nope")
    assert len(all_queries()) == len(QUERIES)
