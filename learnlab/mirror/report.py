"""What a refresh did: per source, per table: rows inserted, updated, deleted, late, recovered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from learnlab.db.turso import PullReport


@dataclass
class TableReport:
    """One table of one source in one refresh.

    ``mode``: ``full`` (first copy), ``reload`` (schema or privacy drift), ``incremental``,
    ``diff`` (a table without cursor, read whole and compared), ``dropped``.
    ``late``: changed rows found inside the safety window, older than the previous
    watermark (their writers committed late). ``recovered``: rows the count check found
    missing and fetched by key (arrived later than even the window allows).
    """

    source: str
    table: str
    mode: str
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    late: int = 0
    recovered: int = 0
    rows: int = 0
    read: int = 0
    quality: int = 0
    seconds: float = 0.0
    watermark: datetime | None = None

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass
class SourceReport:
    name: str
    path: Path
    snapshot_at: datetime | None = None
    pull: PullReport | None = None
    tables: dict[str, TableReport] = field(default_factory=dict)
    drift: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, attr: str) -> int:
        return sum(getattr(t, attr) for t in self.tables.values())


@dataclass
class RefreshReport:
    refresh_id: str
    duckdb_path: Path
    generation: Path | None = None
    started_at: datetime | None = None
    seconds: float = 0.0
    sources: list[SourceReport] = field(default_factory=list)
    replayed: int = 0  # rows copied from the published generation before applying (see catchup)

    @property
    def tables(self) -> dict[str, TableReport]:
        """Table reports by name (``source/table`` when several sources were refreshed)."""
        if len(self.sources) == 1:
            return dict(self.sources[0].tables)
        return {f"{s.name}/{t}": r for s in self.sources for t, r in s.tables.items()}

    def __getitem__(self, table: str) -> TableReport:
        return self.tables[table]

    @property
    def drift(self) -> list[str]:
        return [d for s in self.sources for d in s.drift]

    def total(self, attr: str) -> int:
        return sum(s.total(attr) for s in self.sources)

    def summary(self) -> str:
        """One line: what changed, how long it took, what the pulls brought."""
        parts = [f"{self.total('inserted')} inserted", f"{self.total('updated')} updated",
                 f"{self.total('deleted')} deleted"]
        if self.total("late"):
            parts.append(f"{self.total('late')} late")
        if self.total("recovered"):
            parts.append(f"{self.total('recovered')} recovered")
        pulls = [s.pull for s in self.sources if s.pull is not None]
        pulled = ""
        if pulls:
            pulled = f"; pulled {sum(p.bytes_received for p in pulls)} bytes in {sum(p.seconds for p in pulls):.2f}s"
        return f"refreshed {len(self.tables)} tables in {self.seconds:.2f}s: {', '.join(parts)}{pulled}"


@dataclass
class ProgressEvent:
    """Sent to the ``progress`` callback before and after each table."""

    source: str
    table: str
    index: int
    total: int
    phase: str  # "start" | "done"
    report: TableReport | None = None


Progress = Callable[[ProgressEvent], None]
