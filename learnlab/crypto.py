"""The seed's ``encryptSensitiveData``: AES-256-GCM for fields that must be stored encrypted.

The key comes from ``LEARNLAB_DATA_KEY`` (32 bytes, URL-safe base64; ``new_key()`` makes
one). Each value gets a fresh 96-bit nonce; the field name is bound as associated data,
so a ciphertext moved to another field does not decrypt.
"""

from __future__ import annotations

import base64
import os

from learnlab.errors import ConfigError, ValidationError

PREFIX = "enc:v1:"


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _aead(key: str | None):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = key or os.environ.get("LEARNLAB_DATA_KEY")
    if not key:
        raise ConfigError("LEARNLAB_DATA_KEY is not set; make one with learnlab.crypto.new_key()")
    try:
        raw = base64.urlsafe_b64decode(key)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError("LEARNLAB_DATA_KEY must be 32 bytes in URL-safe base64")
    return AESGCM(raw)


def encrypt_sensitive_data(data: str, *, field: str = "", key: str | None = None) -> str:
    """``enc:v1:<base64(nonce + ciphertext)>``: text, so it fits any String column."""
    if not isinstance(data, str):
        raise ValidationError(field or "data", "only text can be encrypted")
    nonce = os.urandom(12)
    sealed = _aead(key).encrypt(nonce, data.encode(), field.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_sensitive_data(token: str, *, field: str = "", key: str | None = None) -> str:
    from cryptography.exceptions import InvalidTag

    if not isinstance(token, str) or not token.startswith(PREFIX):
        raise ValidationError(field or "data", "not a value encrypted by learnlab")
    blob = base64.urlsafe_b64decode(token[len(PREFIX):])
    try:
        return _aead(key).decrypt(blob[:12], blob[12:], field.encode()).decode()
    except InvalidTag:
        raise ValidationError(field or "data", "cannot be decrypted: wrong key, wrong field or tampered") from None
