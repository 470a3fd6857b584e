"""The DuckDB mirror on SQLite sources: exact copies, incremental refreshes, deletes, late rows,
stored forms, quality, privacy, drift, several sources, status, CLI (real SQLite, real DuckDB)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

import learnlab.models as m
from learnlab import mirror
from learnlab.cli import app
from learnlab.config import Settings
from learnlab.db.encoding import format_datetime, new_ulid, to_epoch_ms
from learnlab.db.engine import connect
from learnlab.errors import MirrorError
from learnlab.migrate import upgrade
from learnlab.mirror import book
from learnlab.mirror.plan import MirrorOptions
from learnlab.mirror.privacy import hmac_hex, load_key
from learnlab.mirror.status import status
from learnlab.mirror.verify import compare

UTC = timezone.utc
T0 = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
N0 = T0.replace(tzinfo=None)


# -- helpers --------------------------------------------------------------------------------------
def duck(tmp_path: Path) -> Path:
    return tmp_path / "analytics.duckdb"


def run(settings: Settings, tmp_path: Path, **kw):
    return mirror.refresh(settings, duck(tmp_path), **kw)


def equal(settings: Settings, tmp_path: Path, **kw) -> None:
    assert compare(settings.database_path, duck(tmp_path), **kw) == []


def query(tmp_path: Path, sql: str, params=None) -> list[tuple]:
    con = mirror.open_reader(duck(tmp_path))
    try:
        return con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()
    finally:
        con.close()


def raw(settings: Settings) -> sqlite3.Connection:
    conn = sqlite3.connect(settings.database_path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def vec(*xs: float) -> bytes:
    return np.array(xs, dtype="<f4").tobytes()


def populate(db, users: int = 5, at: datetime = T0) -> list[str]:
    """A small platform: users, sessions, passwords, usage, a document with embeddings, a team."""
    ids = []
    with db.transaction() as s:
        team = m.Team(name="Core", createdAt=at, updatedAt=at)
        s.add(team)
        s.flush()
        s.add(m.TeamSettings(teamId=team.id, aiMonthlyBudgetCents=500, createdAt=at, updatedAt=at))
        doc = m.Document(title="Intro", content="hello", createdAt=at, updatedAt=at)
        s.add(doc)
        s.flush()
        for j, e in enumerate([vec(1, 0, 0, 0), vec(0.9, 0.1, 0, 0), vec(0, 0, 1, 0)]):
            s.add(m.DocumentChunk(documentId=doc.id, chunkIndex=j, embedding=e, content=f"c{j}",
                                  metadata_={"model": "test", "dim": 4}, createdAt=at, updatedAt=at))
        for i in range(users):
            t = at + timedelta(minutes=i)
            u = m.User(email=f"user{i}@example.com", name=f"User {i}", plan=m.Plan.pro if i % 2 else m.Plan.basic,
                       isSubscribed=bool(i % 2), createdAt=t, updatedAt=t, lastSeenAt=t)
            s.add(u)
            s.flush()
            ids.append(u.id)
            s.add(m.Password(userId=u.id, hash=f"argon2-secret-{i}"))
            s.add(m.Session(userId=u.id, expirationDate=t + timedelta(days=30), createdAt=t, updatedAt=t))
            s.add(m.TeamMember(userId=u.id, teamId=team.id, joinedAt=t, updatedAt=t))
            for k in range(3):
                s.add(m.AIUsage(userId=u.id, prompt=f"p{i}{k}", response="r", tokensUsed=100 * k, costInCents=k,
                                success=k != 2, usageMonth="2024-05", model="gpt", createdAt=t, updatedAt=t))
    return ids


def usage_rows(conn: sqlite3.Connection, n: int) -> tuple[str, list[tuple]]:
    """One user with ``n`` AIUsage rows a minute apart (ids in time order); returns (user, rows)."""
    user = new_ulid(T0)
    conn.execute('INSERT INTO "User" (id, email, "updatedAt") VALUES (?, ?, ?)', (user, "a@example.com",
                                                                                 format_datetime(T0)))
    rows = [(new_ulid(T0 + timedelta(minutes=i)), user, "p", "2024-05", format_datetime(T0 + timedelta(minutes=i)))
            for i in range(n)]
    conn.executemany('INSERT INTO "AIUsage" (id, "userId", prompt, "usageMonth", "updatedAt") VALUES (?, ?, ?, ?, ?)',
                     rows)
    return user, rows


# -- first refresh --------------------------------------------------------------------------------
def test_first_refresh_copies_every_table_with_exact_types(db, settings, tmp_path):
    populate(db)
    report = run(settings, tmp_path)
    assert report["User"].mode == "full" and report["User"].inserted == 5
    assert report["AIUsage"].rows == 15 and report["DocumentChunk"].rows == 3
    equal(settings, tmp_path)
    types = dict(query(tmp_path, "SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'AIUsage'"))
    assert types["createdAt"] == "TIMESTAMP" and types["success"] == "BOOLEAN" and types["tokensUsed"] == "BIGINT"
    assert dict(query(tmp_path, "DESCRIBE \"DocumentChunk\"") and [(r[0], r[1]) for r in query(
        tmp_path, "DESCRIBE \"DocumentChunk\"")])["embedding"] == "FLOAT[4]"
    assert dict((r[0], r[1]) for r in query(tmp_path, "DESCRIBE \"DocumentChunk\""))["metadata"] == "JSON"
    assert query(tmp_path, "SELECT min(\"createdAt\"), bool_and(success) FROM \"AIUsage\"") == [(N0, False)]
    assert query(tmp_path, "SELECT DISTINCT metadata->>'model' FROM \"DocumentChunk\"") == [("test",)]
    # DuckDB computes similarities on the mirrored vectors.
    ranked = query(tmp_path, "SELECT \"chunkIndex\", round(array_cosine_similarity(embedding, [1, 0, 0, 0]::FLOAT[4]), 3) "
                             "FROM \"DocumentChunk\" ORDER BY 2 DESC")
    assert [r[0] for r in ranked] == [0, 1, 2] and ranked[0][1] == 1.0
    assert "Password" not in {r[0] for r in query(tmp_path, "SHOW TABLES")}


def test_the_fast_utc_cast_gives_what_the_offset_aware_cast_gives():
    """UTC text (``Z``, ``+00:00``, SQLite's ``YYYY-MM-DD HH:MM:SS``) takes DuckDB's plain
    TIMESTAMP cast, which ignores offsets; every other offset must still be applied."""
    from learnlab.mirror.convert import datetime_expr

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    texts = ["2024-05-06T07:08:09.123Z", "2024-05-06T07:08:09.123+00:00", "2024-05-06 07:08:09",
             "2024-05-06 07:08:09.123", "2024-05-06T09:08:09.123+02:00", "2024-05-06T02:08:09-05:00",
             "2024-05-06 09:08+02", "2024-05-06T09:08:09+0200", "2024-05-06 07:08:09.123456789+00:00",
             "2024-05-06", "2024-13-01T00:00:00Z", "infinity", "-infinity", "epoch", "1714979289123", "junk Z",
             # Prisma's shape (29 characters, +00:00), taken by the direct cast: still exact, still checked
             "2024-13-45T99:99:99.999+00:00", " 2024-05-06T07:08:09.12+00:00", "2024-05-06T07:08:09.000+00:00"]
    got = con.execute(f"SELECT t, {datetime_expr('t')}, CASE WHEN t >= '0' AND t < ':' AND contains(t, '-') "
                      "THEN TRY_CAST(t AS TIMESTAMPTZ)::TIMESTAMP END FROM unnest(?::VARCHAR[]) u(t)",
                      [texts]).fetchall()
    assert [(t, fast) for t, fast, _ in got if t[0].isdigit() and "-" in t] == [(t, aware) for t, _, aware in got
                                                                                if t[0].isdigit() and "-" in t]
    by_text = {t: fast for t, fast, _ in got}
    assert by_text["2024-05-06T09:08:09.123+02:00"] == by_text["2024-05-06T07:08:09.123Z"]
    assert by_text["2024-05-06T02:08:09-05:00"] == by_text["2024-05-06 07:08:09"]
    assert by_text["2024-05-06T09:08:09+0200"] == by_text["2024-05-06 07:08:09"]
    assert by_text["2024-05-06 07:08:09.123456789+00:00"].microsecond == 123456
    assert by_text["2024-05-06T07:08:09.123Z"] == datetime(2024, 5, 6, 7, 8, 9, 123000)
    assert by_text["1714979289123"] == datetime(2024, 5, 6, 7, 8, 9, 123000)  # (ms)
    assert [by_text[t] for t in ("2024-13-01T00:00:00Z", "infinity", "-infinity", "epoch", "junk Z",
                                 "2024-13-45T99:99:99.999+00:00", " 2024-05-06T07:08:09.12+00:00")] == [None] * 7
    assert by_text["2024-05-06T07:08:09.000+00:00"] == datetime(2024, 5, 6, 7, 8, 9)


def test_every_stored_datetime_form_converts_to_one_utc_timestamp(db, settings, tmp_path):
    forms = {
        "iso": "2024-05-06T07:08:09.123+00:00", "z": "2024-05-06T07:08:09.123Z",
        "offset": "2024-05-06T09:08:09.123+02:00", "space": "2024-05-06 07:08:09.123",
        "ms": to_epoch_ms(T0), "real": to_epoch_ms(T0) + 0.25,  # REAL ms (a fraction stays REAL)
    }
    conn = raw(settings)
    for name, value in forms.items():
        conn.execute('INSERT INTO "Challenge" (id, title, description, difficulty, "startDate", "endDate", '
                     '"isActive", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
                     (new_ulid(T0), name, "d", "beginner", value, value, 1, value, value))
    conn.execute('INSERT INTO "Challenge" (id, title, description, difficulty, "startDate", "endDate", "updatedAt") '
                 "VALUES ('C-default', 'sql default', 'd', 'expert', 0, 0, CURRENT_TIMESTAMP)")
    assert {r[0] for r in conn.execute('SELECT typeof("startDate") FROM "Challenge"')} == {"text", "integer", "real"}
    run(settings, tmp_path)
    equal(settings, tmp_path)
    got = dict(query(tmp_path, 'SELECT title, "startDate" FROM "Challenge" WHERE title <> \'sql default\''))
    assert got.pop("real") == N0 + timedelta(microseconds=250)
    assert set(got.values()) == {N0}, got
    # CURRENT_TIMESTAMP's form ('YYYY-MM-DD HH:MM:SS', UTC) converts too.
    default = query(tmp_path, "SELECT \"createdAt\" FROM \"Challenge\" WHERE id = 'C-default'")[0][0]
    assert abs(default - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=5)
    mixed = query(tmp_path, "SELECT column_name, stored_value FROM _mirror_quality WHERE table_name = 'Challenge' "
                            "AND row_id IS NULL ORDER BY 1")
    assert [c for c, _ in mixed] == ["createdAt", "endDate", "startDate", "updatedAt"]
    assert all(set(v.split("+")) == {"iso8601", "current_timestamp", "unixepoch-ms"} for c, v in mixed
               if c in ("createdAt", "updatedAt"))


def test_mirror_file_defaults_beside_the_database_and_follows_learnlab_duckdb(db, settings, tmp_path, monkeypatch):
    populate(db, users=1)
    monkeypatch.delenv("LEARNLAB_DUCKDB", raising=False)
    report = mirror.refresh(settings)
    assert report.duckdb_path == settings.database_path.absolute().with_name("analytics.duckdb")
    assert report.duckdb_path.is_symlink() and report.duckdb_path.resolve() == report.generation
    monkeypatch.setenv("LEARNLAB_DUCKDB", str(tmp_path / "other.duckdb"))
    assert mirror.refresh(settings).duckdb_path == tmp_path / "other.duckdb"
    # plain DuckDB readers open the published file through the link
    con = duckdb.connect(str(tmp_path / "other.duckdb"), read_only=True)
    assert con.execute('SELECT count(*) FROM "User"').fetchone() == (1,)
    con.close()


# -- incremental refreshes ---------------------------------------------------------------------------
def test_incremental_refresh_applies_inserts_updates_and_deletes(db, settings, tmp_path):
    ids = populate(db)
    run(settings, tmp_path)
    with db.transaction() as s:
        s.get(m.User, ids[0]).plan = m.Plan.premium
        s.delete(s.get(m.User, ids[1]))  # cascades: its sessions, usage, membership
        s.add(m.User(email="new@example.com"))
    report = run(settings, tmp_path)
    assert report["User"].mode == "incremental"
    assert (report["User"].inserted, report["User"].updated, report["User"].deleted) == (1, 1, 1)
    assert report["AIUsage"].deleted == 3 and report["Session"].deleted == 1 and report["TeamMember"].deleted == 1
    assert report["Team"].changed == 0 and report["DocumentChunk"].changed == 0
    equal(settings, tmp_path)
    # nothing changed: nothing reported
    again = run(settings, tmp_path)
    assert again.total("inserted") == again.total("updated") == again.total("deleted") == 0
    equal(settings, tmp_path)


def test_incremental_refresh_reads_only_changed_rows_through_the_updatedAt_index(db, settings, tmp_path):
    conn = raw(settings)
    user = new_ulid(T0)
    conn.execute('INSERT INTO "User" (id, email, "updatedAt") VALUES (?, ?, ?)', (user, "a@example.com",
                                                                                 format_datetime(T0)))
    rows = []
    for i in range(300):  # one row an hour: nothing but the changed rows is inside the safety window
        t = format_datetime(T0 + timedelta(hours=i))
        rows.append((new_ulid(T0 + timedelta(hours=i)), user, "p", 0, 0, 1, "2024-05", t, t))
    conn.executemany('INSERT INTO "AIUsage" (id, "userId", prompt, "tokensUsed", "costInCents", success, '
                     '"usageMonth", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', rows)
    run(settings, tmp_path)
    later = format_datetime(T0 + timedelta(days=400))
    conn.executemany('UPDATE "AIUsage" SET "tokensUsed" = 7, "updatedAt" = ? WHERE id = ?',
                     [(later, rows[i][0]) for i in (3, 150, 299)])
    seen: list[str] = []
    report = run(settings, tmp_path, tracer=lambda sql, params: seen.append(sql))
    assert report["AIUsage"].read == 3 and report["AIUsage"].updated == 3
    changed_sql = next(s for s in seen if s.startswith('SELECT "id"') and 'FROM "AIUsage" WHERE' in s)
    explained = " ".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + changed_sql).fetchall())
    assert "MULTI-INDEX OR" in explained and "AIUsage_updatedAt_idx" in explained
    assert "SCAN" not in explained and "rowid>?" in explained
    equal(settings, tmp_path)


def test_a_quiet_table_skips_its_safety_window_until_a_row_in_it_changes(db, settings, tmp_path):
    """Rows inside the safety window are re-read only when they differ from what the last refresh
    left: a value changed without a new cursor, a late commit into the window, a late insert."""
    ids = populate(db, users=4)  # users a minute apart: the last one is inside User's window
    last = T0 + timedelta(minutes=3)
    run(settings, tmp_path)  # the first copy digests each window: the next refresh reads nothing
    seen: list[str] = []
    quiet = run(settings, tmp_path, tracer=lambda sql, p: seen.append(sql))
    assert {t.table: t.read for t in quiet.sources[0].tables.values() if t.read} == {}
    assert not any("_learnlab_stage" in s for s in seen)
    conn = raw(settings)
    # the same cursor, another value (two writes in one millisecond): the window shows it
    conn.execute('UPDATE "User" SET username = ? WHERE id = ?', ("same-ms", ids[-1]))
    report = run(settings, tmp_path)
    assert (report["User"].read, report["User"].updated) == (1, 1) and report["AIUsage"].read == 0
    assert run(settings, tmp_path)["User"].read == 0
    # a late commit: a cursor inside the window, older than the watermark
    conn.execute('UPDATE "User" SET username = ?, "updatedAt" = ? WHERE id = ?',
                 ("late", format_datetime(last - timedelta(seconds=5)), ids[1]))
    assert run(settings, tmp_path)["User"].updated == 1
    # a late insert (an old cursor, a new rowid)
    conn.execute('INSERT INTO "User" (id, email, "updatedAt") VALUES (?, ?, ?)',
                 (new_ulid(T0), "late@example.com", format_datetime(T0 - timedelta(days=3))))
    report = run(settings, tmp_path)
    assert report["User"].inserted == 1 and report["User"].late == 1
    # the last rowid moved: the window was digested anew at the end of that refresh, and still shows a change
    assert run(settings, tmp_path)["User"].read == 0
    conn.execute('UPDATE "User" SET username = ? WHERE id = ?', ("same-ms again", ids[-1]))
    assert run(settings, tmp_path)["User"].updated == 1
    names = dict(query(tmp_path, 'SELECT id, username FROM "User"'))
    assert names[ids[-1]] == hmac_hex("same-ms again", load_key(duck(tmp_path)))
    equal(settings, tmp_path)


def test_a_busy_refresh_leaves_out_the_last_windows_rows_only_while_they_are_unchanged(db, settings, tmp_path):
    """Many rows changed elsewhere: the rows the last refresh left in the window are not read again
    when their digest (by rowid, every value) is the kept one; a value rewritten under the same
    cursor among them is still read."""
    conn = raw(settings)
    _user, rows = usage_rows(conn, 300)  # a minute apart: the last row alone is inside the window

    def busy(first: int, day: int) -> None:  # 100 rows updated, a minute apart, a day later
        conn.executemany('UPDATE "AIUsage" SET "tokensUsed" = ?, "updatedAt" = ? WHERE id = ?',
                         [(day, format_datetime(T0 + timedelta(days=day, minutes=i)), r[0])
                          for i, r in enumerate(rows[first:first + 100])])

    run(settings, tmp_path)
    busy(0, 1)
    seen: list[str] = []
    report = run(settings, tmp_path, tracer=lambda sql, p: seen.append(sql))
    assert (report["AIUsage"].read, report["AIUsage"].updated) == (100, 100)
    stage = next(s for s in seen if s.startswith('SELECT "id" AS "id"') and 'FROM "AIUsage"' in s)
    assert stage.endswith("AND rowid NOT IN (300)")  # the last row, left in the window by the first copy
    equal(settings, tmp_path)
    # Again, and the row now alone in the window (rows[99]) is rewritten under its cursor, as a
    # second write in the same millisecond would: it is read (and updated) with the others.
    busy(150, 2)
    conn.execute('UPDATE "AIUsage" SET prompt = ? WHERE id = ?', ("same-ms", rows[99][0]))
    report = run(settings, tmp_path)
    assert (report["AIUsage"].read, report["AIUsage"].updated) == (101, 101)
    assert query(tmp_path, 'SELECT prompt FROM "AIUsage" WHERE id = ?', [rows[99][0]]) == [("same-ms",)]
    equal(settings, tmp_path)
    # Unchanged, it is left out again.
    busy(0, 3)
    assert run(settings, tmp_path)["AIUsage"].read == 100
    equal(settings, tmp_path)


def test_a_quiet_refresh_in_a_fresh_process_does_not_load_arrow(db, settings, tmp_path):
    """A one-shot `learnlab mirror` pays its imports: bookkeeping rows go in as literals, so a
    refresh that reads nothing never imports pyarrow.dataset (~70 ms)."""
    import subprocess
    import sys

    populate(db, users=2)
    for _ in range(3):  # the first copy, then the window digests
        run(settings, tmp_path)
    script = ("import sys; from learnlab import mirror; "
              f"r = mirror.refresh({str(settings.database_path)!r}, {str(duck(tmp_path))!r}, in_process=True); "
              "print(sum(t.read for t in r.tables.values()), 'pyarrow.dataset' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]


def test_a_window_of_more_rows_than_the_digest_takes_is_read_as_before(db, settings, tmp_path, monkeypatch):
    from learnlab.mirror import window

    monkeypatch.setattr(window, "ROWS", 2)  # (seen in this process only: in-process refreshes)
    populate(db, users=2)  # the last user's 3 AIUsage rows share its cursor
    db.close()  # no other SQLite connection in this process during in-process refreshes (see worker)
    run(settings, tmp_path, in_process=True)
    run(settings, tmp_path, in_process=True)
    report = run(settings, tmp_path, in_process=True)
    assert report["AIUsage"].read == 3 and report["User"].read == 0
    equal(settings, tmp_path)


@pytest.mark.parametrize("bound", [datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC),  # 14 h before: the day before
                                   datetime(2024, 5, 6, 19, 8, 9, 123000, tzinfo=UTC)])  # the same day
def test_changed_where_keeps_every_form_at_or_after_the_bound_and_unparsable_values(bound):
    """The clause alone, on SQLite: each stored form just before the bound is left out, at the
    bound kept (offsets from -12:00 to +14:00 move the local date across midnight); text and blobs
    that are no date are always re-read (the quality table reports them)."""
    from learnlab.mirror.cursor import changed_where

    def at(offset_hours: int, delta: timedelta) -> str:
        return (bound + delta).astimezone(timezone(timedelta(hours=offset_hours))).isoformat()

    values = {
        "ms before": to_epoch_ms(bound) - 1, "ms at": to_epoch_ms(bound),
        "iso before": format_datetime(bound - timedelta(seconds=1)), "iso at": format_datetime(bound),
        "z at": bound.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "space before": f"{bound - timedelta(seconds=1):%Y-%m-%d %H:%M:%S}",
        "space after": f"{bound + timedelta(seconds=1):%Y-%m-%d %H:%M:%S}",
        "-12h before": at(-12, -timedelta(seconds=1)), "-12h at": at(-12, timedelta(0)),
        "-5h before": at(-5, -timedelta(seconds=1)), "-5h at": at(-5, timedelta(0)),
        "+14h before": at(14, -timedelta(seconds=1)), "+14h at": at(14, timedelta(0)),
        "iso a day before": format_datetime(bound - timedelta(hours=20)),
        "space a day before": f"{bound - timedelta(hours=20):%Y-%m-%d %H:%M:%S}",
        "junk text": f"{bound:%Y-%m-%d} not a time", "blob": b"\x00\x01", "null": None,
    }
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (name TEXT, at DATETIME)")
    conn.execute("CREATE INDEX t_at ON t (at)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", list(values.items()))
    where = changed_where("at", bound)
    picked = {r[0] for r in conn.execute(f"SELECT name FROM t WHERE {where}")}
    assert picked == {"ms at", "iso at", "z at", "space after", "-12h at", "-5h at", "+14h at", "junk text",
                      "blob", "null"}
    plan = " ".join(r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN SELECT name FROM t WHERE {where}"))
    assert "MULTI-INDEX OR" in plan and "SCAN" not in plan


def test_changed_rows_in_other_stored_forms_are_not_skipped(db, settings, tmp_path):
    """Text comparisons would miss these: INTEGER sorts before TEXT, ' ' before 'T', offsets shift."""
    ids = populate(db, users=4)
    run(settings, tmp_path)
    after = datetime.now(UTC) + timedelta(minutes=1)
    conn = raw(settings)
    conn.execute('UPDATE "User" SET name = ?, "updatedAt" = ? WHERE id = ?', ("ms", to_epoch_ms(after), ids[0]))
    conn.execute('UPDATE "User" SET name = ?, "updatedAt" = ? WHERE id = ?',
                 ("space", f"{after:%Y-%m-%d %H:%M:%S}", ids[1]))
    conn.execute('UPDATE "User" SET name = ?, "updatedAt" = ? WHERE id = ?',
                 ("offset", (after - timedelta(hours=-5)).astimezone(timezone(timedelta(hours=-5))).isoformat(), ids[2]))
    report = run(settings, tmp_path, options=MirrorOptions().with_privacy(**{"User.name": "keep"}))
    assert report["User"].mode == "reload"  # the privacy rule changed: name is mirrored now
    opts = MirrorOptions().with_privacy(**{"User.name": "keep"})
    conn.execute('UPDATE "User" SET name = ?, "updatedAt" = ? WHERE id = ?', ("ms2", to_epoch_ms(after) + 1, ids[0]))
    conn.execute('UPDATE "User" SET name = ?, "updatedAt" = ? WHERE id = ?',
                 ("space2", f"{after + timedelta(seconds=1):%Y-%m-%d %H:%M:%S}", ids[1]))
    offset = (after + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-5))).isoformat()
    conn.execute('UPDATE "User" SET name = ?, "updatedAt" = ? WHERE id = ?', ("offset2", offset, ids[2]))
    report = run(settings, tmp_path, options=opts)
    assert report["User"].updated == 3
    names = dict(query(tmp_path, 'SELECT id, name FROM "User"'))
    assert [names[i] for i in ids[:3]] == ["ms2", "space2", "offset2"]
    equal(settings, tmp_path, options=opts)


def test_late_commits_are_counted_and_rows_hidden_by_reused_rowids_recovered(db, settings, tmp_path):
    populate(db, users=2)
    first = run(settings, tmp_path)
    watermark = first["AIUsage"].watermark.replace(tzinfo=UTC)
    user = query(tmp_path, 'SELECT min(id) FROM "User"')[0][0]
    conn = raw(settings)

    def usage(at: datetime) -> str:
        i = new_ulid(at)
        conn.execute('INSERT INTO "AIUsage" (id, "userId", prompt, "usageMonth", "createdAt", "updatedAt") '
                     "VALUES (?, ?, 'late', '2024-05', ?, ?)", (i, user, format_datetime(at), format_datetime(at)))
        return i

    usage(watermark - timedelta(seconds=10))  # committed after the refresh that passed its time
    report = run(settings, tmp_path)
    assert (report["AIUsage"].inserted, report["AIUsage"].late, report["AIUsage"].recovered) == (1, 1, 0)
    usage(watermark - timedelta(hours=2))  # later than even the window: a new rowid shows it
    report = run(settings, tmp_path)
    assert (report["AIUsage"].inserted, report["AIUsage"].late, report["AIUsage"].recovered) == (1, 1, 0)
    # The last row deleted, then a very late insert takes its rowid, and the counts agree:
    # the changed last row is noticed, key ranges are compared, the row is fetched by key.
    conn.execute('DELETE FROM "AIUsage" WHERE rowid = (SELECT max(rowid) FROM "AIUsage")')
    hidden = usage(watermark - timedelta(days=3))
    assert conn.execute('SELECT rowid = (SELECT max(rowid) FROM "AIUsage") FROM "AIUsage" WHERE id = ?',
                        (hidden,)).fetchone() == (1,)
    report = run(settings, tmp_path)
    assert (report["AIUsage"].recovered, report["AIUsage"].deleted) == (1, 1)
    equal(settings, tmp_path)


def test_rows_re_read_inside_the_safety_window_are_written_once(db, settings, tmp_path):
    """Rows read again because they sit inside the safety window and did not change are not
    written again, beside a new row and a changed one in the same pass."""
    conn = raw(settings)
    user, rows = usage_rows(conn, 50)
    opts = MirrorOptions(safety_window=timedelta(hours=2))  # every row is re-read each time
    run(settings, tmp_path, options=opts)
    conn.execute('INSERT INTO "AIUsage" (id, "userId", prompt, "usageMonth", "updatedAt") VALUES (?, ?, ?, ?, ?)',
                 (new_ulid(T0 + timedelta(minutes=60)), user, "new", "2024-05",
                  format_datetime(T0 + timedelta(minutes=60))))
    conn.execute('UPDATE "AIUsage" SET prompt = \'edited\', "updatedAt" = ? WHERE id = ?',
                 (format_datetime(T0 + timedelta(minutes=61)), rows[10][0]))
    report = run(settings, tmp_path, options=opts)
    assert (report["AIUsage"].read, report["AIUsage"].inserted, report["AIUsage"].updated) == (51, 1, 1)
    assert query(tmp_path, 'SELECT count(*), count(DISTINCT id) FROM "AIUsage"') == [(51, 51)]
    equal(settings, tmp_path)


def test_a_changed_row_whose_key_is_null_is_never_written_twice(db, settings, tmp_path):
    """SQLite lets a TEXT primary key hold NULL; such a row cannot be matched by key, so
    incremental passes never write it (the copy keeps the first refresh's version, once)."""
    conn = raw(settings)
    conn.execute('CREATE TABLE "Tag" (id TEXT PRIMARY KEY, label TEXT, "updatedAt" DATETIME)')
    conn.executemany('INSERT INTO "Tag" VALUES (?, ?, ?)', [("t1", "a", format_datetime(T0)),
                                                           (None, "b", format_datetime(T0))])
    assert run(settings, tmp_path)["Tag"].rows == 2
    for i in (1, 2):
        conn.execute('UPDATE "Tag" SET label = ?, "updatedAt" = ? WHERE id IS NULL OR id = \'t1\'',
                     (f"v{i}", format_datetime(T0 + timedelta(minutes=i))))
        report = run(settings, tmp_path)
        assert (report["Tag"].inserted, report["Tag"].updated) == (0, 1)
    assert query(tmp_path, 'SELECT id, label FROM "Tag" ORDER BY id NULLS LAST') == [("t1", "v2"), (None, "b")]


def test_rows_whose_cursor_is_null_are_never_skipped(db, settings, tmp_path):
    conn = raw(settings)
    conn.execute('CREATE TABLE "Note" (id TEXT NOT NULL PRIMARY KEY, body TEXT, "updatedAt" DATETIME)')
    conn.execute('CREATE INDEX "Note_updatedAt_idx" ON "Note"("updatedAt")')
    conn.executemany('INSERT INTO "Note" VALUES (?, ?, ?)', [("n1", "a", None), ("n2", "b", format_datetime(T0))])
    report = run(settings, tmp_path)
    assert report["Note"].rows == 2
    conn.execute("UPDATE \"Note\" SET body = 'edited' WHERE id = 'n1'")  # still NULL
    report = run(settings, tmp_path)
    assert report["Note"].mode == "incremental" and report["Note"].updated == 1
    assert query(tmp_path, "SELECT body FROM \"Note\" WHERE id = 'n1'") == [("edited",)]
    equal(settings, tmp_path)


def test_a_big_tables_keys_are_read_meanwhile_and_its_refresh_stays_exact(db, settings, tmp_path):
    """Past a row group of rows, an incremental pass reads the table's keys into DuckDB's cache on
    a second connection while SQLite reads the changed rows; the result is the same."""
    from learnlab.mirror.apply import ROW_GROUP_ROWS

    conn = raw(settings)
    conn.execute("BEGIN")
    user, rows = usage_rows(conn, ROW_GROUP_ROWS + 1000)
    conn.execute("COMMIT")
    run(settings, tmp_path)
    later = format_datetime(T0 + timedelta(days=400))
    changed = [(f"edited {i}", later, rows[i][0]) for i in range(0, len(rows), 97)]
    conn.execute("BEGIN")
    conn.executemany('UPDATE "AIUsage" SET prompt = ?, "updatedAt" = ? WHERE id = ?', changed)
    conn.execute("COMMIT")
    seen: list[str] = []
    report = run(settings, tmp_path, tracer=lambda sql, p: seen.append(sql))
    assert report["AIUsage"].updated == len(changed) and report["AIUsage"].rows == len(rows)
    assert [s for s in seen if s.startswith('SELECT max("id"), max("updatedAt") FROM ') and '"AIUsage"' in s]
    assert query(tmp_path, 'SELECT count(*) FROM "AIUsage" WHERE prompt LIKE \'edited %\'') == [(len(changed),)]
    equal(settings, tmp_path)


def test_deletes_anywhere_in_a_large_table_reach_the_mirror(db, settings, tmp_path):
    conn = raw(settings)
    user, rows = usage_rows(conn, 5000)
    opts = MirrorOptions(leaf_rows=200)
    run(settings, tmp_path, options=opts)
    # (not the last row: deleting it lets SQLite reuse its rowid, and then every key is compared)
    gone = [rows[i][0] for i in (0, 17, 2500, 4998)] + [r[0] for r in rows[3000:3300]]
    conn.executemany('DELETE FROM "AIUsage" WHERE id = ?', [(g,) for g in gone])
    seen: list[str] = []
    report = run(settings, tmp_path, options=opts, tracer=lambda sql, p: seen.append(sql))
    assert report["AIUsage"].deleted == len(gone) and report["AIUsage"].rows == 5000 - len(gone)
    # bucket counts first, then only the keys of the buckets whose counts differ
    counted = [s for s in seen if s.startswith("WITH b(i, lo, hi)") and '"AIUsage"' in s]
    compared = [s for s in seen if s.startswith("WITH b(lo, hi)") and 'CROSS JOIN "AIUsage"' in s]
    assert len(counted) == 1 and len(compared) == 1
    assert compared[0].count("), (") + 1 < counted[0].count("), (") + 1  # fewer buckets read than counted
    # the key groups behind the buckets are kept from the first copy on, never regrouped
    assert not [s for s in seen if "GROUP BY g" in s and 'FROM "AIUsage"' in s]
    equal(settings, tmp_path, options=opts)
    # More inserts and deletions: the kept group counts follow (a second search finds them exactly).
    more = [(new_ulid(T0 + timedelta(minutes=6000 + i)), user, "q", "2024-05", format_datetime(T0 + timedelta(
        minutes=6000 + i))) for i in range(50)]
    conn.executemany('INSERT INTO "AIUsage" (id, "userId", prompt, "usageMonth", "updatedAt") VALUES (?, ?, ?, ?, ?)',
                     more)
    run(settings, tmp_path, options=opts)
    conn.executemany('DELETE FROM "AIUsage" WHERE id = ?', [(rows[i][0],) for i in (5, 1200, 4100)] + [(more[3][0],)])
    report = run(settings, tmp_path, options=opts)
    assert report["AIUsage"].deleted == 4
    equal(settings, tmp_path, options=opts)
    kept = query(tmp_path, "SELECT sum(n) FROM _mirror_groups WHERE table_name = 'AIUsage'")
    assert kept == [(5000 - len(gone) + 50 - 4,)]


def test_a_busy_table_is_counted_during_its_apply_and_deletions_among_many_changes_are_found(db, settings,
                                                                                             tmp_path):
    conn = raw(settings)
    user, rows = usage_rows(conn, 400)
    run(settings, tmp_path)
    # More rows changed than the window's digest takes: the table is read for sure, and its
    # count (which finds deletions) is computed by the apply's statement instead of the facts query.
    later = format_datetime(T0 + timedelta(days=2))
    conn.executemany('UPDATE "AIUsage" SET "tokensUsed" = 7, "updatedAt" = ? WHERE id = ?',
                     [(later, r[0]) for r in rows[100:200]])
    conn.executemany('DELETE FROM "AIUsage" WHERE id = ?', [(rows[i][0],) for i in (3, 50, 250, 390)])
    seen: list[str] = []
    report = run(settings, tmp_path, tracer=lambda sql, p: seen.append(sql))
    usage = report["AIUsage"]
    assert (usage.updated, usage.inserted, usage.deleted, usage.rows) == (100, 0, 4, 396)
    facts = next(s for s in seen if s.startswith("SELECT 'AIUsage'"))
    assert 'CASE WHEN w.n <= 64 THEN (SELECT count(*) FROM "AIUsage") END' in facts
    assert seen.count('SELECT count(*) AS n FROM "AIUsage"') == 1
    equal(settings, tmp_path)
    # A row written a day later moves the watermark past the busy rows; then a deletion: the
    # refresh reads at most a window's rows, and the facts query counts (and finds it).
    day = T0 + timedelta(days=3)
    conn.execute('INSERT INTO "AIUsage" (id, "userId", prompt, "usageMonth", "updatedAt") VALUES (?, ?, ?, ?, ?)',
                 (new_ulid(day), user, "p", "2024-05", format_datetime(day)))
    assert run(settings, tmp_path)["AIUsage"].inserted == 1
    conn.execute('DELETE FROM "AIUsage" WHERE id = ?', (rows[10][0],))
    seen.clear()
    report = run(settings, tmp_path, tracer=lambda sql, p: seen.append(sql))
    usage = report["AIUsage"]
    assert (usage.inserted, usage.deleted, usage.updated, usage.rows) == (0, 1, 0, 396)
    assert 'SELECT count(*) AS n FROM "AIUsage"' not in seen
    equal(settings, tmp_path)


def test_the_oldest_rows_deleted_are_found_by_their_keys_without_counting_key_ranges(db, settings, tmp_path):
    """A bulk deletion of the oldest rows (expired sessions, pruned usage: the lowest time-ordered
    keys) is found from the source's smallest key and the keys themselves; deletions elsewhere
    too still go through the key-range counts."""
    from learnlab.flows.users import delete_expired_sessions

    populate(db, users=8)  # one session each, expiring a minute apart, ids in creation order
    conn = raw(settings)
    _, rows = usage_rows(conn, 3000)
    run(settings, tmp_path)
    assert delete_expired_sessions(db, now=T0 + timedelta(days=30, minutes=3)) == 4
    conn.execute('DELETE FROM "AIUsage" WHERE id IN (SELECT id FROM "AIUsage" ORDER BY id LIMIT 700)')
    seen: list[str] = []
    report = run(settings, tmp_path, tracer=lambda sql, p: seen.append(sql))
    assert (report["Session"].deleted, report["Session"].rows) == (4, 4)
    assert (report["AIUsage"].deleted, report["AIUsage"].rows) == (700, 8 * 3 + 2300)  # (populate: 3 rows a user)
    assert not [s for s in seen if s.startswith("WITH b(i, lo, hi)")]
    equal(settings, tmp_path)
    # the oldest rows and one in the middle: the key ranges are counted, every deletion found
    conn.execute('DELETE FROM "AIUsage" WHERE id IN (SELECT id FROM "AIUsage" ORDER BY id LIMIT 5)')
    conn.execute('DELETE FROM "AIUsage" WHERE id = ?', (rows[1500][0],))
    seen.clear()
    report = run(settings, tmp_path, tracer=lambda sql, p: seen.append(sql))
    assert report["AIUsage"].deleted == 6
    assert [s for s in seen if s.startswith("WITH b(i, lo, hi)") and '"AIUsage"' in s]
    equal(settings, tmp_path)


def test_more_oldest_rows_deleted_than_are_checked_by_key_go_through_the_key_ranges(db, settings, tmp_path,
                                                                                     monkeypatch):
    from learnlab.mirror import deletes

    monkeypatch.setattr(deletes, "OLDEST_MAX", 50)  # (seen in this process only: in-process refreshes)
    conn = raw(settings)
    usage_rows(conn, 500)
    conn.close()
    db.close()  # no other SQLite connection in this process during in-process refreshes (see worker)
    run(settings, tmp_path, in_process=True)
    conn = raw(settings)
    conn.execute('DELETE FROM "AIUsage" WHERE id IN (SELECT id FROM "AIUsage" ORDER BY id LIMIT 51)')
    conn.close()
    seen: list[str] = []
    report = run(settings, tmp_path, in_process=True, tracer=lambda sql, p: seen.append(sql))
    assert report["AIUsage"].deleted == 51
    assert [s for s in seen if s.startswith("WITH b(i, lo, hi)") and '"AIUsage"' in s]
    equal(settings, tmp_path)


def test_wrong_kept_key_groups_are_noticed_and_rebuilt(db, settings, tmp_path):
    """Counts kept in _mirror_groups that no longer match the table (an older file, a bug) cost
    one extra comparison, never a wrong mirror."""
    conn = raw(settings)
    _, rows = usage_rows(conn, 3000)
    opts = MirrorOptions(leaf_rows=100)
    run(settings, tmp_path, options=opts)
    run(settings, tmp_path, options=opts)  # both generations hold the groups now
    for gen in (tmp_path / "analytics.duckdb.d").glob("gen-*.duckdb"):  # no refresh is running
        con = duckdb.connect(str(gen))
        # two groups wrong in opposite directions: the total still agrees
        mine = "table_name = 'AIUsage'"
        con.execute(f"UPDATE _mirror_groups SET n = n + 7 WHERE {mine} AND g = (SELECT min(g) FROM _mirror_groups "
                    f"WHERE {mine})")
        con.execute(f"UPDATE _mirror_groups SET n = n - 7 WHERE {mine} AND g = (SELECT max(g) FROM _mirror_groups "
                    f"WHERE {mine})")
        con.close()
    conn.executemany('DELETE FROM "AIUsage" WHERE id = ?', [(rows[i][0],) for i in (10, 1500, 2500)])
    report = run(settings, tmp_path, options=opts)
    assert report["AIUsage"].deleted == 3
    equal(settings, tmp_path, options=opts)
    conn.execute('DELETE FROM "AIUsage" WHERE id = ?', (rows[700][0],))
    report = run(settings, tmp_path, options=opts)  # regrouped: exact again
    assert report["AIUsage"].deleted == 1
    equal(settings, tmp_path, options=opts)
    assert query(tmp_path, "SELECT sum(n), min(n) >= 0 FROM _mirror_groups WHERE table_name = 'AIUsage'"
                 ) == [(3000 - 4, True)]
    truth = query(tmp_path, 'SELECT substr(id, 1, (SELECT any_value(p) FROM _mirror_groups WHERE table_name = '
                            '\'AIUsage\')) AS g, count(*) FROM "AIUsage" GROUP BY g ORDER BY g')
    assert query(tmp_path, "SELECT g, n FROM _mirror_groups WHERE table_name = 'AIUsage' AND n > 0 ORDER BY g") == truth


def test_tables_without_updatedAt_or_without_key_are_compared_whole(db, settings, tmp_path):
    populate(db, users=3)
    conn = raw(settings)
    conn.execute('CREATE TABLE "Tag" (label TEXT, weight REAL)')  # no key at all
    conn.executemany('INSERT INTO "Tag" VALUES (?, ?)', [("a", 0.1 + 0.2), ("a", 0.1 + 0.2), ("b", 1e-300)])
    opts = MirrorOptions().with_privacy(Password="include", **{"Password.hash": "drop"})
    report = run(settings, tmp_path, options=opts)
    assert report["Password"].rows == 3 and report["Tag"].rows == 3
    assert "hash" not in {r[0] for r in query(tmp_path, "DESCRIBE \"Password\"")}
    assert sorted(r[0] for r in query(tmp_path, 'SELECT weight FROM "Tag"'))[-1] == 0.1 + 0.2  # exact REAL
    user = query(tmp_path, 'SELECT min("userId") FROM "Password"')[0][0]
    conn.execute('DELETE FROM "Password" WHERE "userId" = ?', (user,))
    conn.execute("DELETE FROM \"Tag\" WHERE rowid = (SELECT min(rowid) FROM \"Tag\" WHERE label = 'a')")
    conn.execute("INSERT INTO \"Tag\" VALUES ('c', 2)")
    report = run(settings, tmp_path, options=opts)
    assert report["Password"].mode == "diff" and report["Password"].deleted == 1
    assert (report["Tag"].inserted, report["Tag"].deleted) == (1, 1)
    equal(settings, tmp_path, options=opts)


# -- quality ------------------------------------------------------------------------------------------
def test_bad_values_become_null_and_quality_rows_and_never_fail_a_table(db, settings, tmp_path):
    populate(db, users=2)
    conn = raw(settings)
    user = conn.execute('SELECT min(id) FROM "User"').fetchone()[0]
    doc = conn.execute('SELECT id FROM "Document"').fetchone()[0]
    now = format_datetime(T0)
    conn.execute('INSERT INTO "AIUsage" (id, "userId", prompt, "tokensUsed", success, "usageMonth", "createdAt", '
                 '"updatedAt", model) VALUES (\'bad-1\', ?, \'p\', \'lots\', \'maybe\', \'2024-05\', 1715000000, ?, '
                 "CAST(x'ff61' AS TEXT))", (user, now))
    conn.execute('INSERT INTO "AIUsage" (id, "userId", prompt, "costInCents", "usageMonth", "createdAt", "updatedAt") '
                 "VALUES ('bad-2', ?, 'p', 2.5, '2024-05', 'yesterday', ?)", (user, now))
    conn.execute('INSERT INTO "DocumentChunk" (id, "chunkIndex", embedding, metadata, "documentId", content, '
                 '"updatedAt") VALUES (\'bad-3\', 9, ?, \'{oops\', ?, \'x\', ?)', (vec(1, 2), doc, now))
    report = run(settings, tmp_path)
    assert report["AIUsage"].rows == 8 and report["DocumentChunk"].rows == 4
    found = {(t, c, r): (st, v, p) for t, c, r, st, v, p in query(
        tmp_path, "SELECT table_name, column_name, row_id, stored_type, stored_value, problem FROM _mirror_quality "
                  "WHERE row_id IS NOT NULL")}
    assert found[("AIUsage", "tokensUsed", "bad-1")][:2] == ("text", "lots")
    assert found[("AIUsage", "success", "bad-1")][:2] == ("text", "maybe")
    assert found[("AIUsage", "createdAt", "bad-1")][0] == "integer" and "seconds" in found[("AIUsage", "createdAt", "bad-1")][2]
    assert found[("AIUsage", "model", "bad-1")][0] == "text" and "UTF-8" in found[("AIUsage", "model", "bad-1")][2]
    assert found[("AIUsage", "costInCents", "bad-2")][:2] == ("real", "2.5")
    assert found[("AIUsage", "createdAt", "bad-2")][:2] == ("text", "yesterday")
    assert found[("DocumentChunk", "metadata", "bad-3")][:2] == ("text", "{oops")
    assert "8 bytes" in found[("DocumentChunk", "embedding", "bad-3")][2]
    assert query(tmp_path, "SELECT \"tokensUsed\", success, \"createdAt\", model FROM \"AIUsage\" WHERE id = 'bad-1'") == [
        (None, None, None, None)]
    equal(settings, tmp_path)
    # a fixed value loses its quality row
    conn.execute("UPDATE \"AIUsage\" SET \"tokensUsed\" = 5, \"updatedAt\" = ? WHERE id = 'bad-1'",
                 (format_datetime(datetime.now(UTC)),))
    run(settings, tmp_path)
    left = {(c, r) for c, r in query(tmp_path, "SELECT column_name, row_id FROM _mirror_quality WHERE row_id = 'bad-1'")}
    assert ("tokensUsed", "bad-1") not in left and ("success", "bad-1") in left


# -- privacy ------------------------------------------------------------------------------------------
def test_privacy_defaults_keep_secrets_and_emails_out_of_the_file(db, settings, tmp_path, monkeypatch):
    monkeypatch.delenv("LEARNLAB_MIRROR_KEY", raising=False)
    ids = populate(db, users=3)
    report = run(settings, tmp_path)
    key_file = Path(str(duck(tmp_path)) + ".key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = load_key(duck(tmp_path))
    tables = {r[0] for r in query(tmp_path, "SHOW TABLES")}
    assert "Password" not in tables and "Password" in report.sources[0].excluded
    cols = {r[0] for r in query(tmp_path, 'DESCRIBE "User"')}
    assert "name" not in cols and "email" in cols
    emails = {r[0] for r in query(tmp_path, 'SELECT email FROM "User"')}
    assert emails == {hmac_hex(f"user{i}@example.com", key) for i in range(3)}
    sessions = {r[0] for r in query(tmp_path, 'SELECT id FROM "Session"')}
    raw_sessions = {r[0] for r in raw(settings).execute('SELECT id FROM "Session"')}
    assert sessions == {hmac_hex(s, key) for s in raw_sessions}
    # deletes on the hashed-key table still arrive
    with db.transaction() as s:
        s.delete(s.get(m.User, ids[0]))
    assert run(settings, tmp_path)["Session"].deleted == 1
    equal(settings, tmp_path)
    # no plaintext email, name, session id or password hash anywhere in the published file
    data = duck(tmp_path).resolve().read_bytes()
    for secret in [b"user1@example.com", b"User 1", b"argon2-secret-1", *(s.encode() for s in raw_sessions)]:
        assert secret not in data


def test_privacy_rules_and_key_are_configurable(db, settings, tmp_path, monkeypatch):
    populate(db, users=2)
    monkeypatch.setenv("LEARNLAB_MIRROR_KEY", "k3y")
    monkeypatch.setenv("LEARNLAB_MIRROR_PRIVACY", "User.name=keep,User.email=drop")
    run(settings, tmp_path)
    cols = {r[0] for r in query(tmp_path, 'DESCRIBE "User"')}
    assert "email" not in cols and "name" in cols
    assert not Path(str(duck(tmp_path)) + ".key").exists()
    monkeypatch.setenv("LEARNLAB_MIRROR_PRIVACY", "User.name=hash")
    report = run(settings, tmp_path)
    assert report["User"].mode == "reload" and any("User.name" in d for d in report.drift)
    assert {r[0] for r in query(tmp_path, 'SELECT name FROM "User"')} == {hmac_hex(f"User {i}", b"k3y") for i in range(2)}


# -- drift ---------------------------------------------------------------------------------------------
def test_schema_drift_added_column_table_and_dropped_column(db, settings, tmp_path):
    populate(db, users=3)
    run(settings, tmp_path)
    conn = raw(settings)
    conn.execute('ALTER TABLE "AIUsage" ADD COLUMN "latencyMs" INTEGER NOT NULL DEFAULT 42')
    conn.execute('CREATE TABLE "Feedback" (id TEXT NOT NULL PRIMARY KEY, score INTEGER, "updatedAt" DATETIME NOT NULL)')
    conn.execute("INSERT INTO \"Feedback\" VALUES ('f1', 5, ?)", (format_datetime(T0),))
    conn.execute('ALTER TABLE "Team" DROP COLUMN description')
    report = run(settings, tmp_path)
    assert "+ AIUsage.latencyMs INTEGER NOT NULL DEFAULT 42" in report.drift
    assert any(d.startswith("+ table Feedback") for d in report.drift) and "- Team.description" in report.drift
    assert query(tmp_path, 'SELECT DISTINCT "latencyMs" FROM "AIUsage"') == [(42,)]
    assert query(tmp_path, 'SELECT score FROM "Feedback"') == [(5,)]
    assert "description" not in {r[0] for r in query(tmp_path, 'DESCRIBE "Team"')}
    assert {r[0] for r in query(tmp_path, "SELECT DISTINCT table_name FROM _mirror_drift")} >= {"AIUsage", "Feedback", "Team"}
    equal(settings, tmp_path)
    conn.execute('DROP TABLE "Feedback"')
    report = run(settings, tmp_path)
    assert any(d.startswith("- table Feedback") for d in report.drift)
    assert "Feedback" not in {r[0] for r in query(tmp_path, "SHOW TABLES")}
    assert run(settings, tmp_path).drift == []


# -- several sources -------------------------------------------------------------------------------------
def test_several_sources_share_one_mirror_with_their_own_watermarks(tmp_path):
    dbs = {}
    for name in ("eu", "us"):
        s = Settings(database_url=f"file:{tmp_path / (name + '.db')}")
        d = connect(s)
        upgrade(d)
        populate(d, users=2 if name == "eu" else 3)
        dbs[name] = (s, d)
    sources = {n: s for n, (s, _) in dbs.items()}
    report = mirror.refresh(sources, duck(tmp_path))
    assert report.tables["eu/User"].rows == 2 and report.tables["us/User"].rows == 3
    assert query(tmp_path, 'SELECT _source, count(*) FROM "User" GROUP BY 1 ORDER BY 1') == [("eu", 2), ("us", 3)]
    with dbs["us"][1].transaction() as s:
        s.add(m.User(email="late@example.com"))
    report = mirror.refresh(sources, duck(tmp_path))
    assert report.tables["us/User"].inserted == 1 and report.tables["eu/User"].changed == 0
    marks = dict(((s, t), w) for s, t, w in query(tmp_path, "SELECT source, table_name, watermark FROM _mirror_state"))
    assert marks[("us", "User")] > marks[("eu", "User")]
    # refreshing one source alone keeps the other's rows
    mirror.refresh({"eu": sources["eu"]}, duck(tmp_path))
    for name, (s, d) in dbs.items():
        assert compare(s.database_path, duck(tmp_path), source_name=name) == []
        d.close()


def test_sources_holding_the_same_ids_stay_apart_and_a_lone_source_skips_the_source_filter(tmp_path):
    """Two sources with the same row ids (one database copied to another region): an update in
    one replaces that source's row only. A table no other source mirrors is read without
    checking ``_source`` on every row."""
    import shutil

    eu = Settings(database_url=f"file:{tmp_path / 'eu.db'}")
    d = connect(eu)
    upgrade(d)
    populate(d, users=2)
    d.close()
    shutil.copy(tmp_path / "eu.db", tmp_path / "us.db")
    us = Settings(database_url=f"file:{tmp_path / 'us.db'}")
    sources = {"eu": eu, "us": us}
    mirror.refresh(sources, duck(tmp_path))
    conn = raw(us)
    row = conn.execute('SELECT id FROM "AIUsage" ORDER BY id LIMIT 1').fetchone()[0]
    conn.execute('UPDATE "AIUsage" SET prompt = \'us only\', "updatedAt" = ? WHERE id = ?',
                 (format_datetime(datetime.now(UTC)), row))
    seen: list[str] = []
    report = mirror.refresh(sources, duck(tmp_path), tracer=lambda sql, p: seen.append(sql))
    assert report.tables["us/AIUsage"].updated == 1 and report.tables["eu/AIUsage"].changed == 0
    assert query(tmp_path, 'SELECT _source, prompt = \'us only\' FROM "AIUsage" WHERE id = ? ORDER BY 1',
                 [row]) == [("eu", False), ("us", True)]
    for name, s in sources.items():
        assert compare(s.database_path, duck(tmp_path), source_name=name) == []
    probes = [s for s in seen if s.startswith("CREATE TEMP TABLE _learnlab_ops") and '"AIUsage"' in s]
    assert any("_source = 'us'" in s for s in probes) and all("WHERE _source = '" in s for s in probes)
    seen.clear()
    alone = tmp_path / "alone" / "m.duckdb"
    mirror.refresh({"us": us}, alone)
    conn.execute('UPDATE "AIUsage" SET prompt = \'again\', "updatedAt" = ? WHERE id = ?',
                 (format_datetime(datetime.now(UTC)), row))
    report = mirror.refresh({"us": us}, alone, tracer=lambda sql, p: seen.append(sql))
    assert report["AIUsage"].updated == 1
    probes = [s for s in seen if s.startswith("CREATE TEMP TABLE _learnlab_ops") and '"AIUsage"' in s]
    assert probes and not any("_source =" in s for s in probes)
    assert compare(us.database_path, alone, source_name="us") == []


# -- status, progress, readers, CLI ---------------------------------------------------------------------
def test_status_reports_tables_and_refreshes(db, settings, tmp_path):
    populate(db, users=2)
    run(settings, tmp_path)
    with db.transaction() as s:
        s.add(m.User(email="x@example.com"))
    run(settings, tmp_path)
    st = status(duck(tmp_path))
    user = st.table("User")
    assert (user.rows, user.inserted, user.mode) == (3, 1, "incremental") and user.watermark is not None
    assert user.refreshed_at is not None and user.seconds >= 0
    assert len(st.refreshes) == 2 and st.refreshes[0].inserted == 1 and st.refreshes[0].pull_bytes is None


def test_bookkeeping_is_one_narrow_table_behind_the_views_readers_know(db, settings, tmp_path):
    """States and the log are rows of _mirror_book (a commit pays per column touched); the views
    keep their names, columns and types."""
    populate(db, users=2)
    run(settings, tmp_path)
    run(settings, tmp_path)
    con = mirror.open_reader(duck(tmp_path))
    try:
        kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables "
                                 "WHERE table_name IN ('_mirror_book', '_mirror_state', '_mirror_refresh', "
                                 "'_mirror_table_log')").fetchall())
        assert kinds == {"_mirror_book": "BASE TABLE", "_mirror_state": "VIEW", "_mirror_refresh": "VIEW",
                         "_mirror_table_log": "VIEW"}
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = '_mirror_state'").fetchall())
        assert (types["watermark"], types["rows"], types["embedding_dim"], types["seconds"]) == (
            "TIMESTAMP", "BIGINT", "INTEGER", "DOUBLE")
        assert con.execute("SELECT count(*), count(DISTINCT refresh_id) FROM _mirror_refresh").fetchone() == (1 * 2, 2)
        n_tables = con.execute("SELECT count(*) FROM _mirror_state").fetchone()[0]
        assert con.execute("SELECT count(*) FROM _mirror_table_log").fetchone()[0] == 2 * n_tables
        assert con.execute("SELECT value FROM _mirror_meta WHERE key = 'format'").fetchone() == (book.FORMAT,)
    finally:
        con.close()


def test_the_log_keeps_the_last_refreshes_of_each_source(db, settings, tmp_path, monkeypatch):
    import sys

    monkeypatch.setattr(sys.modules["learnlab.mirror.refresh"], "KEEP_REFRESHES", 2)
    populate(db, users=1)
    db.close()  # no other SQLite connection in this process during in-process refreshes (see worker)
    ids = [run(settings, tmp_path, in_process=True).refresh_id for _ in range(4)]
    kept = [r[0] for r in query(tmp_path, "SELECT refresh_id FROM _mirror_refresh ORDER BY refresh_id")]
    assert kept == ids[-2:]  # the last KEEP_REFRESHES, this one included
    logged = {r[0] for r in query(tmp_path, "SELECT DISTINCT refresh_id FROM _mirror_table_log")}
    assert logged == set(ids[-2:])


@pytest.mark.parametrize("generations", [1, 2])
def test_a_mirror_written_in_the_older_format_is_converted_and_keeps_its_watermarks(db, settings, tmp_path,
                                                                                    generations):
    """Format 1 kept states and the log in three tables (and files older still lacked two state
    columns): the next refresh converts them in its file and goes on incrementally, whether the
    older version left one generation or two (the one it would reuse is checked against the
    published one, which has no book yet)."""
    from learnlab.mirror.target import DuckDBTarget

    populate(db, users=3)
    run(settings, tmp_path)
    before = query(tmp_path, "SELECT * FROM _mirror_state ORDER BY source, table_name")
    log_before = query(tmp_path, "SELECT * FROM _mirror_table_log ORDER BY table_name")
    target = DuckDBTarget(duck(tmp_path))
    if generations == 2:
        target.prepare_next()  # (as `learnlab mirror` does once its refresh is published)
    assert len(target.generations()) == generations
    for gen in target.generations():
        con = duckdb.connect(str(gen))
        for view in ("_mirror_state", "_mirror_refresh", "_mirror_table_log"):
            con.execute(f"CREATE TABLE {view}_old AS SELECT * FROM {view}")
            con.execute(f"DROP VIEW {view}")
            con.execute(f"ALTER TABLE {view}_old RENAME TO {view}")
        con.execute("ALTER TABLE _mirror_state DROP COLUMN top_key")
        con.execute("DROP TABLE _mirror_book")
        con.execute("UPDATE _mirror_meta SET value = '1' WHERE key = 'format'")
        con.close()
    with db.transaction() as s:
        s.add(m.User(email="new@example.com"))
    report = run(settings, tmp_path)
    assert report["User"].mode == "incremental" and report["User"].inserted == 1
    after = dict(((r[0], r[1]), r) for r in query(tmp_path, "SELECT * FROM _mirror_state"))
    for row in before:
        if row[1] != "User":
            assert after[(row[0], row[1])][:11] == row[:11]  # plans and watermarks kept
    assert query(tmp_path, "SELECT * FROM _mirror_table_log WHERE refresh_id = ? ORDER BY table_name",
                 [log_before[0][0]]) == log_before
    assert query(tmp_path, "SELECT value FROM _mirror_meta WHERE key = 'format'") == [(book.FORMAT,)]
    assert status(duck(tmp_path)).table("User").rows == 4
    equal(settings, tmp_path)


def test_progress_callback_sees_every_table_and_tracer_every_statement(db, settings, tmp_path):
    populate(db, users=1)
    events, statements = [], []
    report = run(settings, tmp_path, progress=events.append, tracer=lambda sql, p: statements.append(sql))
    done = [e for e in events if e.phase == "done"]
    assert {e.table for e in done} == set(report.tables) and done[-1].index == done[-1].total - 1
    assert any(s.startswith("ATTACH") for s in statements) and any("sqlite_query" in s for s in statements)


def test_connect_refreshes_and_returns_a_read_only_connection(db, settings, tmp_path):
    populate(db, users=2)
    con = mirror.connect(settings, duck(tmp_path))
    assert con.execute('SELECT count(*) FROM "User"').fetchone() == (2,)
    with pytest.raises(duckdb.Error):
        con.execute('DELETE FROM "User"')
    # a reader holding its file does not stop the next refresh (it writes another generation)
    with db.transaction() as s:
        s.add(m.User(email="more@example.com"))
    assert run(settings, tmp_path)["User"].inserted == 1
    assert con.execute('SELECT count(*) FROM "User"').fetchone() == (2,)  # its consistent snapshot
    con.close()
    assert query(tmp_path, 'SELECT count(*) FROM "User"') == [(3,)]


def test_a_failed_refresh_leaves_the_published_mirror_untouched(db, settings, tmp_path):
    ids = populate(db, users=3)
    run(settings, tmp_path)
    before = query(tmp_path, 'SELECT id, plan FROM "User" ORDER BY id')
    with db.transaction() as s:
        s.get(m.User, ids[0]).plan = m.Plan.premium
        s.delete(s.get(m.User, ids[2]))

    def boom(sql, params):
        if "DELETE FROM \"AIUsage\"" in sql:
            raise RuntimeError("simulated crash in the middle of a refresh")

    with pytest.raises(RuntimeError):  # in-process: the tracer runs inside the refresh
        run(settings, tmp_path, tracer=boom, in_process=True)
    assert query(tmp_path, 'SELECT id, plan FROM "User" ORDER BY id') == before
    report = run(settings, tmp_path)
    assert report["User"].updated == 1 and report["User"].deleted == 1
    equal(settings, tmp_path)


def test_watch_refreshes_on_the_interval_and_stops_between_refreshes(db, settings, tmp_path):
    import threading

    from learnlab.mirror.watch import watch

    populate(db, users=1)
    stop, reports = threading.Event(), []

    def on_report(r):
        reports.append(r)
        if len(reports) < 3:
            with db.transaction() as s:
                s.add(m.User(email=f"w{len(reports)}@example.com"))
        else:
            stop.set()

    assert watch(settings, duck(tmp_path), interval=0.05, stop=stop, on_report=on_report) == 3
    assert [r["User"].inserted for r in reports] == [1, 1, 1]
    # Between ticks the watch replayed the second refresh onto the generation the third wrote.
    assert reports[2].generation != reports[1].generation and reports[2].replayed == 0
    assert compare(settings.database_path, duck(tmp_path)) == []


def test_prepare_next_replays_the_published_refresh_ahead_of_the_next_one(db, settings, tmp_path):
    """``prepare_next`` (what ``watch`` runs between ticks) brings the next generation up to the
    published one; the next refresh then replays nothing, and the mirror is the same."""
    from learnlab.mirror.target import DuckDBTarget

    populate(db, users=3)
    target = DuckDBTarget(duck(tmp_path))
    assert target.prepare_next() is None  # no mirror yet
    first = mirror.refresh(settings, target.path)
    assert target.prepare_next() == 0 and len(target.generations()) == 2  # the copy the next refresh needs
    assert target.prepare_next() == 0 and len(target.generations()) == 2  # (once)
    second = mirror.refresh(settings, target.path)
    assert second.replayed == 0 and second.generation != first.generation
    with db.transaction() as s:
        s.add(m.User(email="next@example.com"))
    changed = mirror.refresh(settings, target.path)
    with target.lock():  # another refresh running: nothing is prepared
        assert target.prepare_next() is None
    assert target.prepare_next() == 1
    assert target.prepare_next() == 0  # already up to date
    after = mirror.refresh(settings, target.path)
    assert after.replayed == 0 and after.generation != changed.generation
    assert compare(settings.database_path, target.path) == []


def test_a_prepared_generation_is_taken_on_the_published_note_and_a_stale_note_is_not_trusted(db, settings, tmp_path,
                                                                                          monkeypatch):
    """Each publication first notes which refresh the generation it publishes holds. A generation
    already at that refresh (prepared) is then written without reading the published file; a
    note about another file (a crash before the link moved) or about another refresh is not
    trusted: the published file is read, and the mirror stays exact either way."""
    import json

    from learnlab.mirror import catchup
    from learnlab.mirror.target import NOTE, DuckDBTarget

    populate(db, users=3)
    db.close()  # no other SQLite connection in this process during in-process refreshes (see worker)
    target = DuckDBTarget(duck(tmp_path))
    consulted: list[int] = []
    real = catchup.pending
    monkeypatch.setattr(catchup, "pending", lambda con: consulted.append(1) or real(con))
    days = iter(range(500, 600))

    def refresh_after_a_change() -> mirror.RefreshReport:
        conn = raw(settings)
        conn.execute('UPDATE "User" SET name = ?, "updatedAt" = ? WHERE id = (SELECT min(id) FROM "User")',
                     ["renamed", format_datetime(T0 + timedelta(days=next(days)))])
        conn.close()
        report = run(settings, tmp_path, in_process=True)
        assert report["User"].updated == 1
        return report

    first = run(settings, tmp_path, in_process=True)
    note = target.folder / NOTE
    assert json.loads(note.read_text())["generation"] == first.generation.name
    assert json.loads(note.read_text())["refresh"] == first.refresh_id
    target.prepare_next()
    second = refresh_after_a_change()
    assert consulted == [] and second.replayed == 0
    assert json.loads(note.read_text())["refresh"] == second.refresh_id
    assert target.prepare_next() == 1 and consulted == [1]  # the other generation was behind: read
    equal(settings, tmp_path)

    consulted.clear()  # a note about the generation the next refresh writes (a crash before the link moved)
    next_gen = next(g for g in target.generations() if g != target.published())
    note.write_text(json.dumps({**json.loads(note.read_text()), "generation": next_gen.name}))
    refresh_after_a_change()
    assert consulted == [1]
    equal(settings, tmp_path)

    target.prepare_next()  # a note about the published file, naming another refresh
    consulted.clear()
    note.write_text(json.dumps({**json.loads(note.read_text()), "refresh": "01AAAAAAAAAAAAAAAAAAAAAAAA"}))
    refresh_after_a_change()
    assert consulted == [1]
    note.write_text("not json")
    refresh_after_a_change()
    equal(settings, tmp_path)


def test_adopting_a_plain_mirror_file_forgets_the_publication_note(db, settings, tmp_path):
    """A mirror left as a plain file (an older layout) becomes generation 1; a publication note
    naming that generation was about another file, and goes."""
    import shutil

    from learnlab.mirror.target import NOTE, DuckDBTarget

    populate(db, users=2)
    target = DuckDBTarget(duck(tmp_path))
    run(settings, tmp_path)
    run(settings, tmp_path)  # published: generation 2; the note names it
    plain = tmp_path / "plain.duckdb"
    shutil.copyfile(target.published(), plain)
    target.path.unlink()
    os.replace(plain, target.path)
    (target.folder / NOTE).write_text(json.dumps({**json.loads((target.folder / NOTE).read_text()),
                                                  "generation": "gen-000001.duckdb"}))
    target._adopt_plain_file()
    assert target.published().name == "gen-000001.duckdb" and not (target.folder / NOTE).exists()
    run(settings, tmp_path)
    equal(settings, tmp_path)


def test_a_refresh_through_the_worker_returns_before_the_child_has_exited(db, settings, tmp_path, monkeypatch):
    """``refresh()`` reads SQLite from a child process (``worker``); once the child reports, the
    refresh is published and the child only gives its memory back and exits: it is reaped on a
    thread, not waited for before the report is returned. A failed child is waited for (its exit
    is part of the error)."""
    import subprocess
    import threading

    waits: list[str] = []
    real = subprocess.Popen.wait

    def wait(self, *args, **kwargs):
        waits.append(threading.current_thread().name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "wait", wait)
    populate(db, users=1)
    assert mirror.refresh(settings, duck(tmp_path))["User"].inserted == 1
    for thread in [t for t in threading.enumerate() if t.name == "learnlab-worker-exit"]:
        thread.join()
    assert waits == ["learnlab-worker-exit"]
    equal(settings, tmp_path)
    waits.clear()
    with pytest.raises(MirrorError, match="does not exist"):
        mirror.refresh(tmp_path / "missing.db", duck(tmp_path))
    assert waits == [threading.current_thread().name]


def test_generations_are_written_in_duckdbs_newest_storage_format_and_older_ones_upgraded(db, settings, tmp_path,
                                                                                      monkeypatch):
    """DuckDB still writes v1.0.0's format by default; the mirror writes the newest one (smaller,
    cheaper to write). A generation written in an older format is upgraded by its next refresh,
    and stays readable and exact throughout."""
    from learnlab.mirror import target as target_mod
    from learnlab.mirror.target import DuckDBTarget

    def version(gen: Path) -> str:
        with duckdb.connect(str(gen), read_only=True) as con:
            return con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                               "WHERE database_name = current_database()").fetchone()[0]

    newest = tmp_path / "newest.duckdb"
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{newest}' AS n (STORAGE_VERSION 'latest')")
        con.execute("CREATE TABLE n.t AS SELECT 1 AS x")
    newest_version = version(newest)
    assert newest_version != "v1.0.0+"
    populate(db, users=2)
    db.close()  # no other SQLite connection in this process during in-process refreshes (see worker)
    target = DuckDBTarget(duck(tmp_path))
    monkeypatch.setattr(target_mod, "STORAGE_VERSION", "v1.0.0")  # as DuckDB's default, or an older learnlab
    first = run(settings, tmp_path, in_process=True)
    assert version(first.generation) == "v1.0.0+"
    monkeypatch.undo()
    for _ in range(2):
        report = run(settings, tmp_path, in_process=True)
        assert version(report.generation) == newest_version
    assert {version(g) for g in target.generations()} == {newest_version}
    equal(settings, tmp_path)


def test_cli_mirror_refresh_status_and_errors(db, settings, tmp_path, monkeypatch):
    populate(db, users=2)
    monkeypatch.setenv("DATABASE_URL", f"file:{settings.database_path}")
    runner = CliRunner()
    out = runner.invoke(app, ["mirror", "--duckdb", str(duck(tmp_path))])
    assert out.exit_code == 0, out.output
    assert "refreshed" in out.output and "User: full, +2" in out.output
    out = runner.invoke(app, ["mirror", "--duckdb", str(duck(tmp_path)), "--quiet"])
    assert out.exit_code == 0 and out.output == ""
    out = runner.invoke(app, ["mirror", "status", "--duckdb", str(duck(tmp_path)), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {t["table"] for t in data["tables"]} >= {"User", "AIUsage"} and len(data["refreshes"]) == 2
    out = runner.invoke(app, ["mirror", "status", "--duckdb", str(duck(tmp_path))])
    assert out.exit_code == 0 and "AIUsage" in out.output
    other = tmp_path / "b.db"
    sqlite3.connect(other).close()
    out = runner.invoke(app, ["mirror", "--duckdb", str(tmp_path / "multi.duckdb"), "--source",
                              f"a=file:{settings.database_path}", "--source", f"b=file:{other}", "--full"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["mirror", "status", "--duckdb", str(tmp_path / "none.duckdb")])
    assert out.exit_code == 1 and "run `learnlab mirror` first" in out.output
    out = runner.invoke(app, ["mirror", "--duckdb", str(duck(tmp_path)), "--privacy", "User.id=drop"])
    assert out.exit_code == 1 and "User.id=hash" in out.output


def test_cli_refresh_prepares_the_next_one_once_published(db, settings, tmp_path, monkeypatch):
    """``learnlab mirror`` publishes, prints its report, then replays the refresh onto the file the
    next refresh writes (as ``--watch`` does between ticks): the next refresh replays nothing.
    ``--no-prepare-next`` leaves that to the next refresh."""
    populate(db, users=2)
    monkeypatch.setenv("DATABASE_URL", f"file:{settings.database_path}")
    runner = CliRunner()
    target = ["mirror", "--duckdb", str(duck(tmp_path))]
    for _ in range(2):  # two files now
        assert runner.invoke(app, target).exit_code == 0
    for prepare, replayed_next in ((True, 0), (False, 1)):
        with db.transaction() as s:
            s.add(m.User(email=f"next-{prepare}@example.com"))
        out = runner.invoke(app, target + ([] if prepare else ["--no-prepare-next"]))
        assert out.exit_code == 0, out.output
        assert ("next refresh prepared: 1 rows replayed" in out.output) == prepare
        after = mirror.refresh(settings, duck(tmp_path), in_process=True)
        assert after.replayed == replayed_next
        equal(settings, tmp_path)
    # Only a head start: if preparing fails, the published refresh still stands and the command succeeds.
    from learnlab.mirror.target import DuckDBTarget

    def broken(self):
        raise OSError("disk full")

    monkeypatch.setattr(DuckDBTarget, "prepare_next", broken)
    with db.transaction() as s:
        s.add(m.User(email="unprepared@example.com"))
    out = runner.invoke(app, target)
    assert out.exit_code == 0 and "User: incremental, +1" in out.output and "prepared" not in out.output
    equal(settings, tmp_path)


def test_refusing_a_file_that_is_not_a_mirror(db, settings, tmp_path):
    plain = tmp_path / "plain.duckdb"
    duckdb.connect(str(plain)).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    with pytest.raises(MirrorError, match="not a learnlab mirror"):
        mirror.refresh(settings, plain)
    assert os.path.isfile(plain) and not os.path.islink(plain)


def test_the_schema_is_read_while_the_mirror_opens_and_never_outlives_the_refresh(db, settings, tmp_path,
                                                                                  monkeypatch):
    """The source's schema is read on a thread while the DuckDB file opens: its errors are the
    refresh's, and when the refresh fails first the thread is waited for (its SQLite connection
    must not outlive the refresh)."""
    import threading
    import time

    from learnlab.mirror.source import SqliteSource

    with pytest.raises(MirrorError, match="does not exist"):
        mirror.refresh(tmp_path / "missing.db", duck(tmp_path), in_process=True)
    real = SqliteSource.prepare

    def slow(self):
        time.sleep(0.3)
        real(self)

    monkeypatch.setattr(SqliteSource, "prepare", slow)
    plain = tmp_path / "plain.duckdb"
    duckdb.connect(str(plain)).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    with pytest.raises(MirrorError, match="not a learnlab mirror"):
        mirror.refresh(settings, plain, in_process=True)
    assert not [t for t in threading.enumerate() if t.name == "learnlab-prepare"]
    populate(db, users=1)
    assert mirror.refresh(settings, duck(tmp_path), in_process=True)["User"].rows == 1


def test_without_rowid_tables_are_mirrored_incrementally(db, settings, tmp_path):
    conn = raw(settings)
    conn.execute('CREATE TABLE "Setting" (key TEXT NOT NULL PRIMARY KEY, value TEXT, "updatedAt" DATETIME NOT NULL) '
                 "WITHOUT ROWID")
    conn.executemany('INSERT INTO "Setting" VALUES (?, ?, ?)', [(f"k{i}", "v", format_datetime(T0)) for i in range(5)])
    assert run(settings, tmp_path)["Setting"].rows == 5
    conn.execute("UPDATE \"Setting\" SET value = 'w', \"updatedAt\" = ? WHERE key = 'k1'",
                 (format_datetime(datetime.now(UTC)),))
    conn.execute("DELETE FROM \"Setting\" WHERE key = 'k3'")
    report = run(settings, tmp_path)
    assert (report["Setting"].updated, report["Setting"].deleted) == (1, 1)
    equal(settings, tmp_path)
