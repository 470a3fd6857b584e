"""RAG: chunking, embeddings stored as Prisma ``Bytes`` (little-endian float32), retrieval with logging."""
