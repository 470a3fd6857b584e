"""Data migrations over large tables: the seed's ``migrateUserData``, by key ranges, not OFFSET.

The seed pages with ``skip``/``take``, which re-reads every skipped row (quadratic) and
skips or repeats rows when others write meanwhile. Keyset pagination on the primary key
reads each row once and is stable under concurrent inserts.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import sqlalchemy as sa

from learnlab.flows import validate


def batches(db: Any, model: Any, *, columns: Sequence[Any] | None = None, batch_size: int = 1000,
            where: Any = None) -> Iterator[list[Any]]:
    """Rows of ``model`` in primary-key order, ``batch_size`` at a time (each batch its own read)."""
    validate.integer(batch_size, "batch_size", minimum=1, maximum=1_000_000)
    pk = sa.inspect(model).primary_key[0]
    cols = list(columns) if columns else [model]
    last = None
    while True:
        query = sa.select(*cols, pk.label("_pk") if columns else pk).order_by(pk).limit(batch_size)
        if where is not None:
            query = query.where(where)
        if last is not None:
            query = query.where(pk > last)
        with db.session() as s:
            rows = s.execute(query).all()
        if not rows:
            return
        last = rows[-1][-1]
        yield [r[0] if not columns else r for r in rows]


def migrate_in_batches(db: Any, model: Any, fn: Callable[[Any, list[Any]], None], *, batch_size: int = 1000,
                       columns: Sequence[Any] | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Call ``fn(session, rows)`` per batch, each batch in its own transaction; returns rows processed."""
    done = 0
    for rows in batches(db, model, columns=columns, batch_size=batch_size):
        with db.transaction() as s:
            fn(s, rows)
        done += len(rows)
        if progress:
            progress(done)
    return done
