"""RAG: chunking, embeddings as Prisma Bytes, retrieval that finds the right document and is logged."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

import learnlab.models as m
from learnlab.errors import NotFound, ValidationError
from learnlab.rag.chunk import chunk_text
from learnlab.rag.embed import HashingEmbedder, from_bytes
from learnlab.rag.flows import process_document, record_feedback, search

DOCS = {
    "SQL joins": "# Joins\n\nAn inner join returns rows that match in both tables. A left join keeps every row "
                 "of the left table.\n\n```sql\nSELECT * FROM a JOIN b ON a.id = b.a_id;\n```\n\n| join | keeps |\n| inner | matches |",
    "Python lists": "Lists in Python are mutable sequences. Append adds an item; slicing copies a list.",
    "Gardening": "Tomatoes need sun, water and well drained soil. Prune the side shoots weekly.",
}


def test_chunks_are_typed_and_bounded():
    chunks = chunk_text(DOCS["SQL joins"], max_chars=200)
    assert [c.type for c in chunks] == [m.ChunkType.HEADING, m.ChunkType.TEXT, m.ChunkType.CODE, m.ChunkType.TABLE]
    assert [c.index for c in chunks] == [0, 1, 2, 3] and all(len(c.content) <= 200 for c in chunks)
    long = chunk_text("word. " * 1000, max_chars=300)
    assert len(long) > 10 and all(len(c.content) <= 300 for c in long)


def test_embeddings_are_unit_float32_and_similar_texts_are_closer():
    e = HashingEmbedder(64)
    v = e.embed(["inner join rows", "left join rows", "tomato soil"])
    assert v.dtype == np.float32 and np.allclose(np.linalg.norm(v, axis=1), 1)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_documents_are_stored_with_their_chunks_and_retrieval_is_logged(db):
    ids = {title: process_document(db, title=title, content=text).id for title, text in DOCS.items()}
    with db.session() as s:
        chunk = s.scalars(sa.select(m.DocumentChunk).where(m.DocumentChunk.documentId == ids["Python lists"])).one()
    assert chunk.metadata_ == {"model": "hashing-384", "dim": 384, "chars": len(DOCS["Python lists"])}
    assert from_bytes(chunk.embedding, 384).shape == (384,)
    query_id, hits = search(db, "how does a left join keep rows", k=3)
    assert hits[0].document_id == ids["SQL joins"] and [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score
    record_feedback(db, query_id, 1)
    with db.session() as s:
        log = s.get(m.RagQuery, query_id)
        results = s.scalars(sa.select(m.RagQueryResult).where(m.RagQueryResult.queryId == query_id)
                            .order_by(m.RagQueryResult.rank)).all()
    assert (log.k, log.embedder, log.feedback) == (3, "hashing-384", 1) and log.latencyMs > 0
    assert [r.chunkId for r in results] == [h.chunk_id for h in hits]


def test_rag_input_is_validated(db):
    with pytest.raises(ValidationError, match="content"):
        process_document(db, title="t", content="  ")
    with pytest.raises(ValidationError, match="k: must be at least 1"):
        search(db, "q", k=0)
    with pytest.raises(ValidationError, match="feedback"):
        record_feedback(db, "x", 5)
    with pytest.raises(NotFound):
        record_feedback(db, "x", 1)
