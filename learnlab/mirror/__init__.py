"""The DuckDB mirror of the operational database: incremental, exact, crash-safe.

>>> from learnlab import mirror
>>> report = mirror.refresh()            # doctest: +SKIP   (the configured database -> analytics.duckdb)
>>> con = mirror.open_reader()           # doctest: +SKIP   (read-only, the last published refresh)
>>> con = mirror.connect()               # doctest: +SKIP   (refresh, then a read connection)

Modules, by stage: ``plan`` (per-table rules: key, cursor or full, privacy per column),
``source`` (one read transaction per source), ``worker`` (SQLite sources read from a child
process), ``cursor`` (the incremental WHERE over every stored DateTime form), ``convert``
(types), ``vectors`` (embeddings), ``apply`` (the DuckDB transaction), ``bulk`` (first
copies of big tables on every core), ``deletes`` (counts, then key-range buckets), ``quality``, ``privacy``, ``drift``, ``state`` (watermarks), ``target``
(generations, atomic publication, readers), ``catchup`` (a reused generation replays what
it missed), ``refresh`` (the public API), ``report``, ``status``, ``watch``, ``verify``,
``bench``, ``cli``.
"""

from learnlab.mirror.plan import MirrorOptions
from learnlab.mirror.refresh import connect, default_duckdb_path, open_reader, refresh
from learnlab.mirror.report import ProgressEvent, RefreshReport, SourceReport, TableReport

__all__ = ["MirrorOptions", "ProgressEvent", "RefreshReport", "SourceReport", "TableReport", "connect",
           "default_duckdb_path", "open_reader", "refresh"]
