"""Schema drift between refreshes: what changed in the source since the mirror last saw it.

Compared per table: the columns the mirror recorded last time (``_mirror_state``) against
the plan made from the source's schema now. Any change to what is mirrored makes the
table reload (in the same transaction); every refresh that sees drift reports it.
"""

from __future__ import annotations

from learnlab.mirror.plan import ColumnPlan, TablePlan
from learnlab.mirror.state import TableState


def _describe(c: ColumnPlan) -> str:
    return c.describe() + ("" if c.rule == "keep" else f" [{c.rule}]")


def table_changes(plan: TablePlan, state: TableState) -> list[str]:
    """Lines like ``+ AIUsage.latencyMs REAL NOT NULL DEFAULT 0`` / ``- User.name`` / ``~ ...``."""
    before = {c.name: c for c in state.columns}
    now = {c.name: c for c in plan.columns}
    out = []
    for name, c in now.items():
        if name not in before:
            out.append(f"+ {plan.name}.{name} {_describe(c)}")
        elif (before[name].declared, before[name].rule) != (c.declared, c.rule):
            out.append(f"~ {plan.name}.{name} {_describe(before[name])} -> {_describe(c)}")
    out += [f"- {plan.name}.{name}" for name in before if name not in now]
    if state.key and tuple(state.key) != plan.key:
        out.append(f"~ {plan.name} key ({', '.join(state.key)}) -> ({', '.join(plan.key)})")
    if state.embedding_dim and plan.embedding_dim and state.embedding_dim != plan.embedding_dim:
        out.append(f"~ {plan.name} embedding size {state.embedding_dim} -> {plan.embedding_dim}")
    return out


def new_table(plan: TablePlan) -> str:
    return f"+ table {plan.name} ({len(plan.columns)} columns, {plan.mode})"


def dropped_table(name: str, why: str = "") -> str:
    return f"- table {name}{' (' + why + ')' if why else ''}"
