"""The seed's RAG flows: process a document into embedded chunks; retrieve and log what was retrieved."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from learnlab.errors import NotFound, ValidationError
from learnlab.flows import validate
from learnlab.models import Document, DocumentChunk, RagQuery, RagQueryResult
from learnlab.rag.chunk import chunk_text
from learnlab.rag.embed import Embedder, HashingEmbedder, from_bytes, to_bytes

BATCH = 2048


def process_document(
    db: Any, *, title: str, content: str, source: str | None = None, embedder: Embedder | None = None,
    max_chars: int = 1200,
) -> Document:
    """Create the document and its chunks with embeddings, in one transaction."""
    title = validate.text(title, "title", max_len=500)
    content = validate.text(content, "content", max_len=5_000_000)
    embedder = embedder or HashingEmbedder()
    chunks = chunk_text(content, max_chars)
    vectors = embedder.embed([c.content for c in chunks])
    with db.transaction() as s:
        doc = Document(title=title, content=content, source=source)
        s.add(doc)
        s.flush()
        s.add_all(
            DocumentChunk(
                documentId=doc.id, chunkIndex=c.index, chunkType=c.type, content=c.content, embedding=to_bytes(v),
                metadata_={"model": embedder.name, "dim": embedder.dim, "chars": len(c.content)},
            )
            for c, v in zip(chunks, vectors)
        )
    return doc


@dataclass(frozen=True)
class Hit:
    rank: int
    chunk_id: str
    document_id: str
    score: float
    content: str


def search(
    db: Any, query: str, *, k: int = 5, user_id: str | None = None, ai_usage_id: str | None = None,
    embedder: Embedder | None = None,
) -> tuple[str, list[Hit]]:
    """Top-``k`` chunks by cosine similarity (streamed in batches), logged as a RagQuery with its results."""
    query = validate.text(query, "query", max_len=10_000)
    validate.integer(k, "k", minimum=1, maximum=100)
    embedder = embedder or HashingEmbedder()
    started = time.perf_counter()
    q = embedder.embed([query])[0]
    best_ids: list[str] = []
    best_scores = np.empty(0, dtype=np.float32)
    with db.engine.connect() as c:
        result = c.execution_options(stream_results=True, yield_per=BATCH).execute(
            sa.select(DocumentChunk.id, DocumentChunk.embedding)
        )
        for rows in result.partitions(BATCH):
            ids = [r[0] for r in rows]
            vecs = [from_bytes(r[1]) for r in rows]
            ok = [i for i, v in enumerate(vecs) if v.size == q.size]  # other embedders' chunks don't compare
            if not ok:
                continue
            scores = np.stack([vecs[i] for i in ok]) @ q
            best_ids += [ids[i] for i in ok]
            best_scores = np.concatenate([best_scores, scores])
            if len(best_ids) > k:
                keep = np.argpartition(-best_scores, k)[:k]
                best_ids = [best_ids[i] for i in keep]
                best_scores = best_scores[keep]
    order = np.argsort(-best_scores, kind="stable")
    latency = (time.perf_counter() - started) * 1000
    with db.transaction() as s:
        log = RagQuery(userId=user_id, aiUsageId=ai_usage_id, query=query, embedder=embedder.name, k=k,
                       latencyMs=latency)
        s.add(log)
        s.flush()
        chunks = {ch.id: ch for ch in s.scalars(sa.select(DocumentChunk).where(DocumentChunk.id.in_(best_ids)))}
        hits = []
        for rank, i in enumerate(order, start=1):
            chunk = chunks[best_ids[i]]
            s.add(RagQueryResult(queryId=log.id, chunkId=chunk.id, rank=rank, score=float(best_scores[i])))
            hits.append(Hit(rank, chunk.id, chunk.documentId, float(best_scores[i]), chunk.content))
    return log.id, hits


def record_feedback(db: Any, query_id: str, feedback: int | None) -> None:
    """The user's judgement of the answer built on a retrieval: 1 helpful, -1 not, None withdrawn."""
    if feedback not in (1, -1, None):
        raise ValidationError("feedback", f"must be 1, -1 or None, got {feedback!r}")
    with db.transaction() as s:
        log = s.get(RagQuery, query_id)
        if log is None:
            raise NotFound(f"no RAG query {query_id}")
        log.feedback = feedback
