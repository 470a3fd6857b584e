"""learnlab's exceptions: each message says what happened, with which value, and what to do."""

from __future__ import annotations


class LearnlabError(Exception):
    """Base of every error learnlab raises on purpose (the CLI prints it in one line)."""


class ConfigError(LearnlabError):
    """The configuration (environment variables or arguments) is missing or malformed."""


class ValidationError(LearnlabError, ValueError):
    """A value given to learnlab is not acceptable; ``field`` names where it went."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class NotFound(LearnlabError, LookupError):
    """A row that a flow needs does not exist."""


class AccessDenied(LearnlabError, PermissionError):
    """The requesting user may not see or change this data."""


class QuotaExceeded(LearnlabError):
    """A plan's monthly allowance is used up."""


class ConstraintError(LearnlabError):
    """The database refused a write (unique, foreign key or ownership rule)."""


class DatabaseUnavailable(LearnlabError):
    """The configured database cannot be reached or opened."""


class SyncError(LearnlabError):
    """A Turso replica could not pull from or push to its remote."""


class MigrationError(LearnlabError):
    """The schema could not be brought to the expected revision."""


class MirrorError(LearnlabError):
    """The DuckDB mirror could not be refreshed; it is left at its previous refresh."""
