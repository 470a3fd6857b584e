"""Database access: value encoding (Prisma's forms), SQLAlchemy types, engines, Turso sync."""
