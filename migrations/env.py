"""Alembic environment: runs on the connection ``learnlab.migrate`` hands over.

Prisma's and Alembic's bookkeeping tables are not part of the models, so autogenerate
leaves them alone.
"""

import sqlalchemy as sa
from alembic import context

from learnlab.migrate import include_object
from learnlab.models import metadata

config = context.config


def render_item(type_: str, obj, autogen_context):
    """Migrations declare plain SQL types, so old revisions never depend on today's Python types."""
    from learnlab.db import types as t

    if type_ != "type":
        return False
    if isinstance(obj, t.PrismaDateTime):
        return "sa.DATETIME()"
    if isinstance(obj, t.PrismaBoolean):
        return "sa.BOOLEAN()"
    if isinstance(obj, t.PrismaEnum):
        return "sa.Text()"
    if isinstance(obj, t.PrismaBytes):
        return "sa.LargeBinary()"
    declared = obj.impl if isinstance(obj, sa.types.TypeDecorator) else obj
    if isinstance(declared, t.SQLType):
        autogen_context.imports.add("from learnlab.db.types import SQLType")
        return f"SQLType({declared.name!r})"
    return False


connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=metadata,
    include_object=include_object,
    render_as_batch=True,  # SQLite alters tables by copy-and-rename
    compare_type=True,
    compare_server_default=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
