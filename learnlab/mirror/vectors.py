"""Embeddings: little-endian float32 BLOBs -> DuckDB ``FLOAT[dim]`` arrays (vectorised, in Arrow).

DuckDB has no function that reads a float from bytes, so the staged BLOB column goes out
as Arrow, numpy reinterprets the bytes, and the fixed-size list comes back in. A BLOB whose
length is not ``4 * dim`` becomes NULL and sets the column's bad bit (the quality table
then says how many floats it had).
"""

from __future__ import annotations

import uuid
from typing import Any

from learnlab.db.introspect import quote_identifier as q
from learnlab.mirror.convert import BAD
from learnlab.mirror.plan import TablePlan


def guess_dim(lengths: list[tuple]) -> int | None:
    """The most common embedding size among sampled ``(length_in_bytes, count)`` rows."""
    best = [(int(c), int(n)) for n, c in lengths if n is not None and int(n) > 0 and int(n) % 4 == 0]
    return max(best)[1] // 4 if best else None


def vectors(blobs: Any, dim: int) -> tuple[Any, Any]:
    """(FixedSizeList<float>[dim] array, bool array of "wrong size") for an Arrow binary array."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    blobs = blobs.combine_chunks() if isinstance(blobs, pa.ChunkedArray) else blobs
    blobs = blobs.cast(pa.large_binary())
    lengths = pc.binary_length(blobs)
    ok = pc.fill_null(pc.equal(lengths, 4 * dim), False)
    wrong = pc.and_(pc.is_valid(blobs), pc.invert(ok))
    good = pc.filter(blobs, ok)
    if len(good):
        offsets = np.frombuffer(good.buffers()[1], dtype=np.int64)[good.offset: good.offset + len(good) + 1]
        data = np.frombuffer(good.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
        flat = data.view("<f4").astype(np.float32, copy=False)
    else:
        flat = np.zeros(0, dtype=np.float32)
    # Scatter the good vectors back among the NULLs and the wrong-sized ones.
    full = np.zeros((len(blobs), dim), dtype=np.float32)
    mask = ok.to_numpy(zero_copy_only=False)
    full[mask] = flat.reshape(-1, dim)
    arr = pa.FixedSizeListArray.from_arrays(pa.array(full.reshape(-1), pa.float32()), dim, mask=pa.array(~mask))
    return arr, wrong


def convert_stage(con: Any, plan: TablePlan, stage: str) -> str:
    """Replace the staged BLOB embedding columns of ``stage`` by ``FLOAT[dim]``; returns the new stage."""
    cols = plan.embedding_columns
    if not cols:
        return stage
    import numpy as np
    import pyarrow as pa

    dim = plan.embedding_dim
    names = [c.name for c in cols]
    index = {c.name: i for i, c in enumerate(plan.mirrored)}
    tbl = con.execute(f"SELECT rowid AS _r, {', '.join(q(n) for n in names)} FROM {stage}").to_arrow_table()
    arrays = [tbl.column("_r")]
    bad = np.zeros(tbl.num_rows, dtype=np.int64)
    for n in names:
        if dim:
            arr, wrong = vectors(tbl.column(n), dim)
        else:  # no size known yet (no rows had one): keep a variable-length list
            arr, wrong = _lists(tbl.column(n))
        arrays.append(arr)
        bad |= np.where(wrong.to_numpy(zero_copy_only=False), 1 << (index[n] % 63), 0)
    arrays.append(pa.array(bad))
    view = "_learnlab_vec_" + uuid.uuid4().hex[:8]
    con.register(view, pa.Table.from_arrays(arrays, names=["_r", *[f"v_{i}" for i in range(len(names))], "_bad"]))
    out = stage + "_v"
    replace = ", ".join(f"e.v_{i} AS {q(n)}" for i, n in enumerate(names))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT s.* REPLACE ({replace}, s.{BAD} | e._bad AS {BAD}) "
                    f"FROM {stage} s JOIN {view} e ON s.rowid = e._r")
    finally:
        con.unregister(view)
    con.execute(f"DROP TABLE {stage}")
    return out


def _lists(blobs: Any) -> tuple[Any, Any]:
    import numpy as np
    import pyarrow as pa

    py = blobs.to_pylist()
    out = [None if b is None or len(b) % 4 else np.frombuffer(b, "<f4").tolist() for b in py]
    wrong = pa.array([b is not None and len(b) % 4 != 0 for b in py])
    return pa.array(out, pa.list_(pa.float32())), wrong
