"""Keyed hashes for the mirror's privacy rules: HMAC-SHA256, computed inside DuckDB.

The key comes from ``LEARNLAB_MIRROR_KEY``; without it one is generated once and kept in
``<duckdb file>.key`` (mode 0600) beside the DuckDB file, so hashes stay stable from one
refresh to the next and joins on hashed columns keep working. The key never enters the
DuckDB file; only a fingerprint of it does (a new key makes the hashed tables reload).

HMAC is spelled in SQL with DuckDB's ``sha256`` so hashing stays vectorised:
``sha256(K ^ opad || unhex(sha256(K ^ ipad || message)))``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Mapping

from learnlab.errors import ConfigError

KEY_VARIABLE = "LEARNLAB_MIRROR_KEY"
BLOCK = 64


def key_path(duckdb_path: Path) -> Path:
    return Path(str(duckdb_path) + ".key")


def load_key(duckdb_path: Path, env: Mapping[str, str] | None = None) -> bytes:
    """The HMAC key: ``LEARNLAB_MIRROR_KEY``, else the key file beside the DuckDB file (created if absent)."""
    env = os.environ if env is None else env
    if env.get(KEY_VARIABLE):
        return env[KEY_VARIABLE].encode()
    path = key_path(duckdb_path)
    if path.exists():
        key = path.read_text().strip().encode()
        if not key:
            raise ConfigError(f"the mirror key file {path} is empty; delete it to generate a new key")
        return key
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.decode() + "\n")
    return key


def fingerprint(key: bytes) -> str:
    """Identifies a key without revealing it (stored in the mirror to notice a key change)."""
    return hashlib.sha256(b"learnlab-mirror-key:" + key).hexdigest()[:16]


def pads(key: bytes) -> tuple[str, str]:
    """Hex of ``K ^ ipad`` and ``K ^ opad`` (RFC 2104), for the SQL form of HMAC."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()


def hmac_sql(expr: str, key: bytes) -> str:
    """A DuckDB expression: the HMAC-SHA256 (hex) of the UTF-8 text ``expr``, NULL stays NULL."""
    ipad, opad = pads(key)
    return (f"sha256(unhex('{opad}') || unhex(sha256(unhex('{ipad}') || encode({expr}))))")


def hmac_hex(value: str, key: bytes) -> str:
    """The same hash in Python (tests, and anyone joining against the mirror)."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
