"""Segment definitions as SQL: the same condition tree as `rules`, as one boolean expression over a table with
`traits` and `computed` JSON columns, on SQLite (JSON1) and PostgreSQL (JSONB). Pure expression building.

Every leaf is made never NULL, so NOT and OR agree with Python's two-valued logic, and a missing or wrongly-typed
value is false. On PostgreSQL a comparison is one strict jsonpath predicate (`jsonb_path_match`), which reads the
value once and treats other types as unknown; elsewhere a `CASE WHEN <json type is right> THEN <comparison> ELSE
false END` (CASE, unlike AND, fixes the evaluation order). Behaviour conditions sum `daily_counts` in a correlated
subquery (json_each / jsonb_each). Score conditions read the `scores` column like traits (`rules.score_as_field`)."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Float, String, Text, and_, case, cast, false, func, literal, not_, or_, select, true
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from services.segmentation.segments.rules import (
    And,
    Behaviour,
    FieldCondition,
    Node,
    Not,
    Or,
    ScoreCondition,
    score_as_field,
    value_kind,
    window,
)

SegmentSQL = Callable[[str], ColumnElement[bool]]
# SQLite's json_type / PostgreSQL's jsonb_typeof names for each comparison family of `rules.value_kind`.
_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "sqlite": {"number": ("integer", "real"), "string": ("text",), "boolean": ("true", "false"), "null": ("null",)},
    "postgresql": {"number": ("number",), "string": ("string",), "boolean": ("boolean",), "null": ("null",)},
}


def to_sql(
    node: Node, table: FromClause, today: date, *, dialect_name: str, member_sql: SegmentSQL | None = None
) -> ColumnElement[bool]:
    """A WHERE condition over `table` selecting the rows whose features match the definition on `today`.

    Membership conditions need `member_sql(segment_id)`, a condition on the same rows (NotImplementedError
    without it); score conditions need a `scores` column."""
    if dialect_name not in _TYPES:
        raise NotImplementedError(f"segment rules on {dialect_name}")
    return _Compiler(table, today, dialect_name, member_sql).node(node)


class _Compiler:
    def __init__(self, table: FromClause, today: date, dialect: str, member_sql: SegmentSQL | None) -> None:
        self.table, self.today, self.dialect, self.member_sql = table, today, dialect, member_sql

    def node(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, And):
            return and_(*(self.node(child) for child in node.children))
        if isinstance(node, Or):
            return or_(*(self.node(child) for child in node.children))
        if isinstance(node, Not):
            return not_(self.node(node.child))
        if isinstance(node, FieldCondition):
            return self.field(node)
        if isinstance(node, Behaviour):
            return self.behaviour(node)
        if isinstance(node, ScoreCondition):
            return self.node(score_as_field(node))
        if self.member_sql is not None:
            return func.coalesce(self.member_sql(node.segment_id), false())
        raise NotImplementedError("segment membership conditions need member_sql")

    def json_type(self, column: Any, keys: tuple[str, ...]) -> ColumnElement[str]:
        """The JSON type name of the value at `keys`, NULL when absent."""
        if self.dialect == "sqlite":
            return func.json_type(column, "$" + "".join(f'."{k}"' for k in keys))
        return func.jsonb_typeof(column[keys])

    def is_kind(self, column: Any, keys: tuple[str, ...], kind: str) -> ColumnElement[bool]:
        names = _TYPES[self.dialect][kind]
        found = self.json_type(column, keys)
        return found == names[0] if len(names) == 1 else found.in_(names)

    def guarded(self, column: Any, keys: tuple[str, ...], kind: str, test: Any) -> ColumnElement[bool]:
        """`test` where the value is of `kind`, false elsewhere (never NULL)."""
        return case((self.is_kind(column, keys, kind), test), else_=false())

    def field(self, node: FieldCondition) -> ColumnElement[bool]:
        column, keys, op, value = self.table.c[node.source], node.keys, node.op, node.value
        if op in ("exists", "not_exists"):
            present = func.coalesce(self.json_type(column, keys), "null") != "null"
            return present if op == "exists" else not_(present)
        if op == "contains":
            position = func.instr if self.dialect == "sqlite" else func.strpos
            found = position(column[keys].as_string(), literal(value, String)) > 0
            return self.guarded(column, keys, "string", found)
        if self.dialect == "postgresql":
            return _path_match(column, keys, op, value)
        return self.sqlite_compare(column, keys, op, value)

    def sqlite_compare(self, column: Any, keys: tuple[str, ...], op: str, value: Any) -> ColumnElement[bool]:
        """SQLite: a type check, then the comparison on the extracted value (BINARY collation: code points)."""
        if op == "starts_with":
            found = func.substr(column[keys].as_string(), 1, len(value)) == literal(value, String)
            return self.guarded(column, keys, "string", found)
        kind = value_kind(value[0] if op in ("in", "not_in", "between") else value)
        if kind == "boolean":  # JSON true/false are two type names to SQLite
            wanted = {value} if op in ("eq", "neq") else set(value)
            names = [
                "true" if v else "false" for v in (({True, False} - wanted) if op in ("neq", "not_in") else wanted)
            ]
            return func.coalesce(self.json_type(column, keys), "").in_(names)
        extracted = column[keys].as_float() if kind == "number" else column[keys].as_string()
        return self.guarded(column, keys, str(kind), _compare(extracted, op, value, str(kind)))

    def behaviour(self, node: Behaviour) -> ColumnElement[bool]:
        low, high = window(self.today, node.days)
        total = self.event_total(node.event, low, high)
        count = literal(node.count, Float)
        return {"at_least": total >= count, "at_most": total <= count, "exactly": total == count}[node.bound]

    def event_total(self, event: str, low: str, high: str) -> ColumnElement[float]:
        """A correlated subquery summing the numeric daily counts of `event` with low < day <= high."""
        computed = self.table.c.computed
        amount, day, numeric = _sqlite_days(computed, event) if self.dialect == "sqlite" else _pg_days(computed, event)
        summed = select(func.coalesce(func.sum(amount), 0.0)).where(numeric, day > low, day <= high)
        return summed.scalar_subquery()


def _sqlite_days(computed: Any, event: str) -> tuple[ColumnElement[Any], ColumnElement[Any], ColumnElement[bool]]:
    """(count, day, count is a number) for each entry of `daily_counts[event]`, via json_each."""
    days = func.json_each(computed, f'$."daily_counts"."{event}"').table_valued("key", "value", "type")
    return days.c.value, days.c.key, days.c.type.in_(("integer", "real"))


def _pg_days(computed: Any, event: str) -> tuple[ColumnElement[Any], ColumnElement[Any], ColumnElement[bool]]:
    """The same via jsonb_each, which raises on a non-object: anything else becomes NULL (no rows) first."""
    counts = computed[("daily_counts", event)]
    days = func.jsonb_each(case((func.jsonb_typeof(counts) == "object", counts), else_=None)).table_valued(
        "key", "value"
    )
    numeric = func.jsonb_typeof(days.c.value) == "number"
    amount = case((numeric, days.c.value.cast(Text).cast(Float)), else_=None)
    return amount, days.c.key.collate("C"), numeric


def _path_match(column: Any, keys: tuple[str, ...], op: str, value: Any) -> ColumnElement[bool]:
    """PostgreSQL: one jsonpath predicate reads the value once (half the cost of a type check plus a cast); in
    strict mode a missing key or a wrongly-typed value makes it `unknown`, i.e. NULL, i.e. not TRUE. The values are
    written into the path as JSON literals (`@@` takes no variables) because with a constant path the planner
    estimates the rows it matches, and picks a parallel scan where a function call would leave it guessing."""
    target = "$" + "".join(f'."{k}"' for k in keys)
    values = list(value) if op in ("in", "not_in", "between") else [value]
    predicate = "strict " + _JSONPATH[op](target, [json.dumps(v) for v in values])
    matched = column.op("@@", return_type=Boolean)(cast(literal(predicate, Text), JSONPATH))
    return matched.is_(true())


def _any_equal(target: str, names: list[str]) -> str:
    return " || ".join(f"{target} == {name}" for name in names)


# JSON null compares (unequal) with anything in jsonpath, where Python finds no value to compare: hence `!= null`.
_JSONPATH: dict[str, Callable[[str, list[str]], str]] = {
    "eq": lambda t, v: f"{t} == {v[0]}", "neq": lambda t, v: f"{t} != {v[0]} && {t} != null",
    "gt": lambda t, v: f"{t} > {v[0]}", "gte": lambda t, v: f"{t} >= {v[0]}", "lt": lambda t, v: f"{t} < {v[0]}",
    "lte": lambda t, v: f"{t} <= {v[0]}", "between": lambda t, v: f"{t} >= {v[0]} && {t} <= {v[1]}",
    "in": _any_equal, "not_in": lambda t, v: f"!({_any_equal(t, v)}) && {t} != null",
    "starts_with": lambda t, v: f"{t} starts with {v[0]}",
}  # fmt: skip


def _compare(extracted: Any, op: str, value: Any, kind: str) -> ColumnElement[bool]:
    """The comparison itself, on an extracted value known to be of `kind`."""
    bind = (lambda v: literal(float(v), Float)) if kind == "number" else (lambda v: literal(v, String))
    if op == "between":
        return and_(extracted >= bind(value[0]), extracted <= bind(value[1]))
    if op in ("in", "not_in"):
        listed = extracted.in_([bind(v) for v in value])
        return listed if op == "in" else not_(listed)
    return _OPERATORS[op](extracted, bind(value))


_OPERATORS = {"eq": operator.eq, "neq": operator.ne, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt,
              "lte": operator.le}  # fmt: skip
