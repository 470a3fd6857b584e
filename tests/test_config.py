"""Configuration from the seed's variables; malformed values fail clearly, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from learnlab.config import Settings
from learnlab.errors import ConfigError


def test_default_is_the_seeds_development_database():
    s = Settings.from_env({})
    assert (s.mode, s.database_path, s.is_replica) == ("sqlite", Path("dev.db"), False)


@pytest.mark.parametrize("url, path", [("file:./dev.db", "dev.db"), ("file:/tmp/x.db", "/tmp/x.db"),
                                       ("file:///tmp/y.db", "/tmp/y.db"), ("sqlite:///rel.db", "rel.db"),
                                       ("plain.db", "plain.db")])
def test_database_url_forms(url, path):
    assert Settings.from_env({"DATABASE_URL": url}).database_path == Path(path)


def test_production_config_maps_onto_a_replica():
    s = Settings.from_env({"TURSO_DATABASE_URL": "libsql://db-org.turso.io", "TURSO_AUTH_TOKEN": "t0k3n",
                           "LOCAL_DB_URL": "file:./replica.db", "LEARNLAB_SYNC_INTERVAL": "15"})
    assert (s.mode, s.database_path, s.sync_interval) == ("turso", Path("replica.db"), 15.0)
    assert "t0k3n" not in repr(s) and "t0k3n" not in s.describe()


@pytest.mark.parametrize("env, message", [
    ({"DATABASE_URL": "postgres://host/db"}, "DATABASE_URL='postgres://host/db' is not a local database file"),
    ({"DATABASE_URL": "file:"}, "DATABASE_URL='file:' names no file"),
    ({"TURSO_DATABASE_URL": "libsql://db.turso.io"}, "TURSO_AUTH_TOKEN is not set for libsql://db.turso.io"),
    ({"TURSO_DATABASE_URL": "ftp://x", "TURSO_AUTH_TOKEN": "t"}, "TURSO_DATABASE_URL='ftp://x' is not a Turso URL"),
    ({"TURSO_DATABASE_URL": "libsql://h:99999", "TURSO_AUTH_TOKEN": "t"}, "invalid port"),
    ({"LEARNLAB_SYNC_INTERVAL": "soon"}, "LEARNLAB_SYNC_INTERVAL='soon' is not a number"),
    ({"LEARNLAB_SYNC_INTERVAL": "-1"}, "positive number of seconds"),
    ({"LEARNLAB_DRIVER": "mysql"}, "LEARNLAB_DRIVER='mysql' is not one of sqlite, turso, libsql"),
    ({"LEARNLAB_TIMESTAMP_FORMAT": "unix"}, "LEARNLAB_TIMESTAMP_FORMAT='unix' is not one of iso8601, unixepoch-ms"),
])
def test_malformed_configuration_is_named(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


def test_loopback_sync_server_needs_no_token():
    assert Settings.from_env({"TURSO_DATABASE_URL": "http://127.0.0.1:8080"}).is_replica


def test_libsql_urls_speak_https_to_the_sync_engine():
    from learnlab.db.turso import http_url

    assert http_url("libsql://db-org.turso.io") == "https://db-org.turso.io"
    assert http_url("turso://db-org.turso.io") == "https://db-org.turso.io"
    assert http_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
