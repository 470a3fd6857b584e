"""Deterministic seed data for the learning platform: ``learnlab seed`` and ``python -m seeds.bench``.

>>> from learnlab.db.engine import connect
>>> from seeds import seed
>>> with connect() as db:                              # doctest: +SKIP
...     report = seed(db, scale="small", seed=42)      # ~1k users, ~20 AIUsage rows each
...     print(report.summary())

The same seed, size and ``until`` date give byte-identical tables. Seeded users can sign in
with ``seeds.vocabulary.DEV_PASSWORD`` (their hashes are real argon2id hashes of it).
"""

from seeds.run import SeedError, SeedReport, seed
from seeds.scales import DEFAULT_SEED, DEFAULT_UNTIL, SCALES

__all__ = ["seed", "SeedError", "SeedReport", "SCALES", "DEFAULT_SEED", "DEFAULT_UNTIL"]
