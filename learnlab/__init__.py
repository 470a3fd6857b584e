"""learnlab: the data side of the learning platform.

The Prisma-compatible schema and flows (``learnlab.models``, ``learnlab.db``),
an incremental DuckDB mirror (``learnlab.mirror``) and analytics on top of it.
"""

__version__ = "0.1.0"
