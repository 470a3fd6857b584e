"""Embedders: text -> unit-length float32 vectors, stored as little-endian bytes in ``DocumentChunk.embedding``.

``HashingEmbedder`` needs no model download (none can be fetched here): it hashes words
and word bigrams into a fixed number of signed buckets (the "hashing trick"), so texts
sharing vocabulary are close in cosine similarity. Anything with ``name``, ``dim`` and
``embed(list[str]) -> np.ndarray`` can replace it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


class HashingEmbedder:
    def __init__(self, dim: int = 384):
        if dim < 8:
            raise ValueError(f"dim must be at least 8, got {dim}")
        self.dim = dim
        self.name = f"hashing-{dim}"

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


def to_bytes(vector: np.ndarray) -> bytes:
    """Little-endian float32 bytes, as the schema stores embeddings."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes, dim: int | None = None) -> np.ndarray:
    vec = np.frombuffer(blob, dtype="<f4")
    if dim is not None and vec.size != dim:
        raise ValueError(f"embedding has {vec.size} values, expected {dim}")
    return vec
