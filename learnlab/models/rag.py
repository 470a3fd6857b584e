"""RAG system (``rag.prisma``): documents, chunks with embeddings, retrieval logs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnlab.db.types import PrismaBytes, PrismaEnum, PrismaJson
from learnlab.models.base import Base, fk, idx, now_column, ulid_pk, unique, updated_at
from learnlab.models.enums import ChunkType

if TYPE_CHECKING:  # relationships name these as strings; SQLAlchemy resolves them at mapping time
    from learnlab.models.ai import AIUsage
    from learnlab.models.user import User


class Document(Base):
    __tablename__ = "Document"

    id: Mapped[str] = ulid_pk()
    title: Mapped[str] = mapped_column(sa.Text, nullable=False)
    source: Mapped[str | None] = mapped_column(sa.Text)
    content: Mapped[str] = mapped_column(sa.Text, nullable=False)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    chunks: Mapped[list["DocumentChunk"]] = relationship(
        back_populates="document", passive_deletes=True, order_by="DocumentChunk.chunkIndex"
    )

    __table_args__ = (idx("Document", "updatedAt"),)


class DocumentChunk(Base):
    """``embedding`` is a little-endian float32 vector; its model and dimension are in ``metadata``."""

    __tablename__ = "DocumentChunk"

    id: Mapped[str] = ulid_pk()
    chunkType: Mapped[ChunkType] = mapped_column(
        PrismaEnum(ChunkType), nullable=False, default=ChunkType.TEXT, server_default="TEXT"
    )
    chunkIndex: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    embedding: Mapped[bytes] = mapped_column(PrismaBytes(), nullable=False)
    # ``metadata`` is reserved by SQLAlchemy's declarative classes, hence the attribute name.
    metadata_: Mapped[Any] = mapped_column("metadata", PrismaJson(), nullable=True)
    documentId: Mapped[str] = mapped_column(
        sa.Text, fk("Document.id", "DocumentChunk_documentId_fkey", "CASCADE"), nullable=False
    )
    content: Mapped[str] = mapped_column(sa.Text, nullable=False)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    document: Mapped[Document] = relationship(back_populates="chunks")

    __table_args__ = (
        idx("DocumentChunk", "documentId"),
        idx("DocumentChunk", "documentId", "chunkIndex"),
        idx("DocumentChunk", "updatedAt"),
    )


class RagQuery(Base):
    """One retrieval made for a user; ``feedback`` is 1 helpful, -1 not, NULL none."""

    __tablename__ = "RagQuery"

    id: Mapped[str] = ulid_pk()
    userId: Mapped[str | None] = mapped_column(sa.Text, fk("User.id", "RagQuery_userId_fkey", "SET NULL"))
    aiUsageId: Mapped[str | None] = mapped_column(sa.Text, fk("AIUsage.id", "RagQuery_aiUsageId_fkey", "SET NULL"))
    query: Mapped[str] = mapped_column(sa.Text, nullable=False)
    embedder: Mapped[str] = mapped_column(sa.Text, nullable=False)
    k: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    latencyMs: Mapped[float] = mapped_column(sa.REAL, nullable=False)
    feedback: Mapped[int | None] = mapped_column(sa.Integer)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    results: Mapped[list["RagQueryResult"]] = relationship(
        back_populates="query_", passive_deletes=True, order_by="RagQueryResult.rank"
    )

    user: Mapped["User | None"] = relationship()
    aiUsage: Mapped["AIUsage | None"] = relationship()

    __table_args__ = (
        idx("RagQuery", "userId"),
        idx("RagQuery", "createdAt"),
        idx("RagQuery", "updatedAt"),
    )


class RagQueryResult(Base):
    __tablename__ = "RagQueryResult"

    id: Mapped[str] = ulid_pk()
    queryId: Mapped[str] = mapped_column(sa.Text, fk("RagQuery.id", "RagQueryResult_queryId_fkey", "CASCADE"), nullable=False)
    chunkId: Mapped[str] = mapped_column(
        sa.Text, fk("DocumentChunk.id", "RagQueryResult_chunkId_fkey", "CASCADE"), nullable=False
    )
    rank: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    score: Mapped[float] = mapped_column(sa.REAL, nullable=False)
    createdAt: Mapped[datetime] = now_column("createdAt")
    updatedAt: Mapped[datetime] = updated_at()

    # ``query`` would shadow SQLAlchemy's legacy ``Query`` attribute name; the relation is ``query_``.
    query_: Mapped[RagQuery] = relationship(back_populates="results")

    chunk: Mapped[DocumentChunk] = relationship()

    __table_args__ = (
        unique("RagQueryResult", "queryId", "rank"),
        idx("RagQueryResult", "chunkId"),
        idx("RagQueryResult", "updatedAt"),
    )
