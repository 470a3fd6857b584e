"""Configuration in layers: explicit arguments, then environment variables, then defaults.

The variables are the seed's own (``DATABASE_URL``, ``TURSO_DATABASE_URL``,
``TURSO_AUTH_TOKEN``, ``LOCAL_DB_URL``) plus ``LEARNLAB_*`` ones. Secrets are read
from the environment only and never appear in ``repr`` or in error messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Mapping
from urllib.parse import urlsplit

from learnlab.errors import ConfigError

Driver = Literal["sqlite", "turso", "libsql"]
TimestampFormat = Literal["iso8601", "unixepoch-ms"]

DRIVERS: tuple[Driver, ...] = ("sqlite", "turso", "libsql")
TIMESTAMP_FORMATS: tuple[TimestampFormat, ...] = ("iso8601", "unixepoch-ms")
DEFAULT_DATABASE_URL = "file:./dev.db"
DEFAULT_LOCAL_DB_URL = "file:./turso-replica.db"
DEFAULT_SYNC_INTERVAL = 60.0
REMOTE_SCHEMES = ("libsql", "https", "http", "turso", "wss", "ws")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def file_url_to_path(url: str, variable: str) -> Path:
    """``file:./dev.db`` (Prisma's form), ``file:///abs.db``, ``sqlite:///x.db`` or a bare path -> Path."""
    value = url.strip()
    if not value:
        raise ConfigError(f"{variable} is empty; set it to a file URL such as file:./dev.db")
    if value.startswith("file:"):
        rest = value[len("file:"):]
        if rest.startswith("//"):
            rest = urlsplit(value).path
        path = rest.split("?", 1)[0]
    elif value.startswith("sqlite:///"):
        path = value[len("sqlite:///"):]
    elif "://" in value or value.startswith(("libsql:", "postgres", "mysql")):
        raise ConfigError(
            f"{variable}={value!r} is not a local database file; expected file:./dev.db "
            "(remote Turso databases go in TURSO_DATABASE_URL)"
        )
    else:
        path = value
    if not path or path.endswith("/"):
        raise ConfigError(f"{variable}={value!r} names no file; expected something like file:./dev.db")
    return Path(path).expanduser()


def check_remote_url(url: str, variable: str = "TURSO_DATABASE_URL") -> str:
    """Validate a Turso/libSQL remote URL and return it unchanged."""
    parts = urlsplit(url.strip())
    if parts.scheme not in REMOTE_SCHEMES or not parts.hostname:
        raise ConfigError(
            f"{variable}={url!r} is not a Turso URL; expected libsql://<db>-<org>.turso.io "
            "(or http://127.0.0.1:<port> for a local sync server)"
        )
    try:
        parts.port
    except ValueError:
        raise ConfigError(f"{variable}={url!r} has an invalid port") from None
    return url.strip()


@dataclass(frozen=True)
class Settings:
    """Everything learnlab needs to know to open the operational database."""

    database_url: str = DEFAULT_DATABASE_URL
    turso_url: str | None = None
    turso_auth_token: str | None = field(default=None, repr=False)
    local_db_url: str = DEFAULT_LOCAL_DB_URL
    sync_interval: float = DEFAULT_SYNC_INTERVAL
    driver: Driver | None = None
    timestamp_format: TimestampFormat = "iso8601"
    busy_timeout_ms: int = 5000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Read the seed's variables (and ``LEARNLAB_*``) from ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env
        values: dict = {}
        if env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        if env.get("TURSO_DATABASE_URL"):
            values["turso_url"] = env["TURSO_DATABASE_URL"]
        if env.get("TURSO_AUTH_TOKEN"):
            values["turso_auth_token"] = env["TURSO_AUTH_TOKEN"]
        if env.get("LOCAL_DB_URL"):
            values["local_db_url"] = env["LOCAL_DB_URL"]
        interval = env.get("LEARNLAB_SYNC_INTERVAL") or env.get("TURSO_SYNC_INTERVAL")
        if interval:
            try:
                values["sync_interval"] = float(interval)
            except ValueError:
                raise ConfigError(f"LEARNLAB_SYNC_INTERVAL={interval!r} is not a number of seconds") from None
        if env.get("LEARNLAB_DRIVER"):
            values["driver"] = env["LEARNLAB_DRIVER"]
        if env.get("LEARNLAB_TIMESTAMP_FORMAT"):
            values["timestamp_format"] = env["LEARNLAB_TIMESTAMP_FORMAT"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values).validated()

    def validated(self) -> "Settings":
        if self.driver is not None and self.driver not in DRIVERS:
            raise ConfigError(f"LEARNLAB_DRIVER={self.driver!r} is not one of {', '.join(DRIVERS)}")
        if self.timestamp_format not in TIMESTAMP_FORMATS:
            raise ConfigError(
                f"LEARNLAB_TIMESTAMP_FORMAT={self.timestamp_format!r} is not one of "
                f"{', '.join(TIMESTAMP_FORMATS)} (Prisma's timestampFormat option)"
            )
        if not self.sync_interval > 0:
            raise ConfigError(f"sync interval must be a positive number of seconds, got {self.sync_interval!r}")
        if self.turso_url:
            check_remote_url(self.turso_url)
            host = urlsplit(self.turso_url).hostname or ""
            if not self.turso_auth_token and host not in LOOPBACK_HOSTS:
                raise ConfigError(
                    f"TURSO_AUTH_TOKEN is not set for {self.turso_url}; create one with "
                    "`turso db tokens create <db>` and export it"
                )
            file_url_to_path(self.local_db_url, "LOCAL_DB_URL")
        else:
            file_url_to_path(self.database_url, "DATABASE_URL")
        return self

    @property
    def mode(self) -> Driver:
        """Which driver opens the database: explicit ``driver``, else turso when a remote is set."""
        if self.driver:
            return self.driver
        return "turso" if self.turso_url else "sqlite"

    @property
    def is_replica(self) -> bool:
        return bool(self.turso_url)

    @property
    def database_path(self) -> Path:
        """The local file learnlab opens: the replica file with Turso, else DATABASE_URL's file."""
        if self.turso_url:
            return file_url_to_path(self.local_db_url, "LOCAL_DB_URL")
        return file_url_to_path(self.database_url, "DATABASE_URL")

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes).validated()

    def describe(self) -> str:
        """A one-line description safe to print (never the token)."""
        if self.turso_url:
            return f"{self.mode} replica {self.database_path} of {self.turso_url}"
        return f"{self.mode} file {self.database_path}"
