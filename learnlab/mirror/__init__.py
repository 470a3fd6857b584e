"""The DuckDB mirror of the operational database: incremental, exact, crash-safe.

>>> from learnlab import mirror
>>> report = mirror.refresh()            # doctest: +SKIP   (the configured database -> analytics.duckdb)
>>> con = mirror.open_reader()           # doctest: +SKIP   (read-only, the last published refresh)
>>> con = mirror.connect()               # doctest: +SKIP   (refresh, then a read connection)

Modules, by stage: ``plan`` (per-table rules), ``source`` (one read transaction),
``cursor`` (the incremental WHERE), ``convert`` (types), ``vectors`` (embeddings),
``apply`` (the DuckDB transaction), ``deletes``, ``quality``, ``privacy``, ``drift``,
``state``, ``target`` (generations, publication), ``refresh`` (the public API),
``status``, ``watch``, ``bench``, ``cli``.
"""

from learnlab.mirror.plan import MirrorOptions
from learnlab.mirror.refresh import connect, default_duckdb_path, open_reader, refresh
from learnlab.mirror.report import ProgressEvent, RefreshReport, SourceReport, TableReport

__all__ = ["MirrorOptions", "ProgressEvent", "RefreshReport", "SourceReport", "TableReport", "connect",
           "default_duckdb_path", "open_reader", "refresh"]
