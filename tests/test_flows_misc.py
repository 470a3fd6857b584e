"""Batch data migrations by key ranges; field encryption."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import learnlab.models as m
from learnlab.crypto import decrypt_sensitive_data, encrypt_sensitive_data, new_key
from learnlab.errors import ConfigError, ValidationError
from learnlab.flows.batch import migrate_in_batches


def test_batches_visit_every_row_once_even_while_rows_are_added(db):
    with db.transaction() as s:
        s.add_all([m.User(email=f"u{i:03d}@x") for i in range(250)])
    seen: list[str] = []

    def lower_names(s, rows):
        seen.extend(r.id for r in rows)
        s.execute(sa.update(m.User).where(m.User.id.in_([r.id for r in rows])).values(name="migrated"))
        if len(seen) == 100:  # a concurrent writer adds a row behind the cursor
            s.add(m.User(id="00000000000000000000000000", email="early@x"))

    progress = []
    assert migrate_in_batches(db, m.User, lower_names, batch_size=100, progress=progress.append) == 250
    assert len(seen) == len(set(seen)) == 250 and progress == [100, 200, 250]
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).where(m.User.name == "migrated")) == 250


def test_sensitive_data_round_trips_and_is_bound_to_its_field():
    key = new_key()
    token = encrypt_sensitive_data("4111 1111", field="card", key=key)
    assert token.startswith("enc:v1:") and "4111" not in token
    assert token != encrypt_sensitive_data("4111 1111", field="card", key=key)  # fresh nonce
    assert decrypt_sensitive_data(token, field="card", key=key) == "4111 1111"
    with pytest.raises(ValidationError, match="cannot be decrypted"):
        decrypt_sensitive_data(token, field="email", key=key)
    with pytest.raises(ValidationError, match="cannot be decrypted"):
        decrypt_sensitive_data(token, field="card", key=new_key())
    with pytest.raises(ConfigError, match="32 bytes"):
        encrypt_sensitive_data("x", key="short")
