"""``status``: what the published mirror holds, per table, and what the last refreshes did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from learnlab.mirror.refresh import default_duckdb_path
from learnlab.mirror.target import DuckDBTarget


@dataclass
class TableStatus:
    source: str
    table: str
    mode: str
    rows: int
    watermark: datetime | None
    refreshed_at: datetime | None
    seconds: float
    inserted: int
    updated: int
    deleted: int
    late: int
    recovered: int
    quality: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass
class RefreshStatus:
    refresh_id: str
    source: str
    started_at: datetime
    seconds: float
    pull_bytes: int | None
    pull_seconds: float | None
    inserted: int
    updated: int
    deleted: int
    late: int
    recovered: int
    drift: str | None


@dataclass
class MirrorStatus:
    path: Path
    generation: Path | None
    tables: list[TableStatus] = field(default_factory=list)
    refreshes: list[RefreshStatus] = field(default_factory=list)
    quality: int = 0

    def table(self, name: str, source: str | None = None) -> TableStatus:
        return next(t for t in self.tables if t.table == name and (source is None or t.source == source))


def status(duckdb_path: str | Path | None = None, *, last: int = 5) -> MirrorStatus:
    """Per table: rows, watermark, last refresh, its duration and rows changed; the last refreshes
    (with what each Turso pull brought). Reads the published file, never waits for a refresh."""
    target = DuckDBTarget(Path(duckdb_path) if duckdb_path else default_duckdb_path())
    con = target.open_reader()
    try:
        return _read(con, target, last)
    finally:
        con.close()


def _read(con: Any, target: DuckDBTarget, last: int) -> MirrorStatus:
    out = MirrorStatus(target.path, target.published())
    counts = dict(((s, t), n) for s, t, n in con.execute(
        "SELECT source, table_name, count(*) FROM _mirror_quality GROUP BY ALL").fetchall())
    for row in con.execute(
            "SELECT source, table_name, mode, rows, watermark, refreshed_at, seconds, inserted, updated, deleted, "
            "late, recovered FROM _mirror_state ORDER BY source, table_name").fetchall():
        out.tables.append(TableStatus(*row, quality=counts.get((row[0], row[1]), 0)))
    for row in con.execute(
            "SELECT refresh_id, source, started_at, seconds, pull_bytes, pull_seconds, inserted, updated, deleted, "
            "late, recovered, drift FROM _mirror_refresh ORDER BY started_at DESC, source LIMIT ?", [last]).fetchall():
        out.refreshes.append(RefreshStatus(*row))
    out.quality = sum(counts.values())
    return out
