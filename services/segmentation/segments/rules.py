"""Segment definitions: parse and validate a JSON condition tree, then evaluate it on one profile's features.
Pure: no database, no I/O. `rules_sql` turns the same tree into a SQL condition for full recomputes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

MAX_DEPTH = 10
MAX_NODES = 200
MAX_DAYS = 90
MAX_LIST = 1000
FIELD_OPS = ("eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains", "starts_with", "exists",
             "not_exists")  # fmt: skip
ORDER_OPS = ("gt", "gte", "lt", "lte")
# Scores written by scoring runs into the replica's `scores` column; `cluster` names a cluster segment's id.
SCORES = ("rfm_segment", "rfm_r", "rfm_f", "rfm_m", "clv", "clv_percentile", "p_alive", "expected_purchases",
          "cluster")  # fmt: skip
CLUSTER_OPS = ("eq", "neq", "in", "not_in", "exists", "not_exists")
CLUSTER_KEY = "cluster_segments"  # scores[CLUSTER_KEY] = {cluster segment id: clustering id}
BOUNDS = ("at_least", "at_most", "exactly")
Scalar = str | int | float | bool


class DefinitionInvalid(ValueError):
    """A segment definition that cannot be accepted; `path` names the bad node (e.g. `and[1].or[0].value`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path or '<root>'}: {reason}")
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class FieldCondition:
    """A trait (`source="traits"`), computed trait (`"computed"`) or score (`"scores"`) compared with a value."""

    source: str
    keys: tuple[str, ...]
    op: str
    value: Any = None


@dataclass(frozen=True)
class Behaviour:
    """Did `event` happen at least / at most / exactly `count` times within the last `days` days."""

    event: str
    bound: str
    count: int
    days: int


@dataclass(frozen=True)
class ScoreCondition:
    score: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class SegmentRef:
    segment_id: str


Node = And | Or | Not | FieldCondition | Behaviour | ScoreCondition | SegmentRef


@dataclass(frozen=True)
class Features:
    """What a predicate reads about one profile."""

    traits: Mapping[str, Any] = field(default_factory=dict)
    computed: Mapping[str, Any] = field(default_factory=dict)
    scores: Mapping[str, Any] = field(default_factory=dict)
    memberships: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Dependencies:
    """What a definition reads: top-level trait and computed keys, event names, scores, other segments."""

    traits: frozenset[str] = frozenset()
    computed: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    scores: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()


# ---------------------------------------------------------------- parsing


def parse_definition(raw: Any) -> Node:
    """The condition tree of a raw JSON definition, or `DefinitionInvalid` naming the bad node's path."""
    counter = [0]
    return _parse(raw, "", 1, counter)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _parse(raw: Any, path: str, depth: int, counter: list[int]) -> Node:
    if depth > MAX_DEPTH:
        raise DefinitionInvalid(path, f"nested deeper than {MAX_DEPTH} levels")
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise DefinitionInvalid(path, f"more than {MAX_NODES} conditions")
    if not isinstance(raw, dict):
        raise DefinitionInvalid(path, "a condition must be an object")
    kinds = [k for k in _PARSERS if k in raw]
    if len(kinds) != 1:
        raise DefinitionInvalid(path, f"a condition needs exactly one of {', '.join(_PARSERS)}")
    return _PARSERS[kinds[0]](raw, path, depth, counter)


def _only(raw: dict[str, Any], path: str, allowed: tuple[str, ...]) -> None:
    for key in raw:
        if key not in allowed:
            raise DefinitionInvalid(_join(path, str(key)), "unknown key")


def _parse_group(raw: dict[str, Any], path: str, depth: int, counter: list[int]) -> Node:
    kind = "and" if "and" in raw else "or"
    _only(raw, path, (kind,))
    items = raw[kind]
    if not isinstance(items, list) or not items:
        raise DefinitionInvalid(_join(path, kind), "must be a non-empty list of conditions")
    children = tuple(_parse(item, f"{_join(path, kind)}[{i}]", depth + 1, counter) for i, item in enumerate(items))
    return And(children) if kind == "and" else Or(children)


def _parse_not(raw: dict[str, Any], path: str, depth: int, counter: list[int]) -> Node:
    _only(raw, path, ("not",))
    return Not(_parse(raw["not"], _join(path, "not"), depth + 1, counter))


def _parse_field(raw: dict[str, Any], path: str, depth: int, counter: list[int]) -> Node:
    source = "traits" if "trait" in raw else "computed"
    name = raw["trait" if source == "traits" else "computed"]
    keys = _field_keys(name, _join(path, "trait" if source == "traits" else "computed"))
    op, value = _parse_comparison(raw, path, ("trait", "computed"))
    return FieldCondition(source, keys, op, value)


def _field_keys(name: Any, path: str) -> tuple[str, ...]:
    if not isinstance(name, str) or not name:
        raise DefinitionInvalid(path, "must be a non-empty string")
    keys = tuple(name.split("."))
    for key in keys:
        # JSON paths quote keys in double quotes; an all-digit key would index arrays on PostgreSQL.
        if not key or key.isdigit() or any(c in key for c in '"\\') or not key.isprintable():
            raise DefinitionInvalid(path, f"invalid key {key!r}")
    return keys


def _parse_comparison(raw: dict[str, Any], path: str, subject: tuple[str, ...]) -> tuple[str, Any]:
    _only(raw, path, (*subject, "op", "value"))
    op = raw.get("op")
    if op not in FIELD_OPS:
        raise DefinitionInvalid(_join(path, "op"), f"must be one of {', '.join(FIELD_OPS)}")
    if op in ("exists", "not_exists"):
        if "value" in raw:
            raise DefinitionInvalid(_join(path, "value"), f"'{op}' takes no value")
        return op, None
    if "value" not in raw:
        raise DefinitionInvalid(_join(path, "value"), "is required")
    return op, _check_value(op, raw["value"], _join(path, "value"))


def _check_value(op: str, value: Any, path: str) -> Any:
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not 0 < len(value) <= MAX_LIST:
            raise DefinitionInvalid(path, f"must be a list of 1 to {MAX_LIST} values")
        if len({value_kind(v) for v in value}) != 1 or value_kind(value[0]) is None:
            raise DefinitionInvalid(path, "values must be all strings, all numbers or all booleans")
        return tuple(value)
    if op == "between":
        kinds = {value_kind(v) for v in value} if isinstance(value, list) and len(value) == 2 else set()
        if kinds not in ({"number"}, {"string"}) or value[0] > value[1]:
            raise DefinitionInvalid(path, "must be [low, high]: two numbers or two strings, low <= high")
        return tuple(value)
    kind = value_kind(value)
    if op in ("contains", "starts_with") and (kind != "string" or not value):
        raise DefinitionInvalid(path, "must be a non-empty string")
    if op in ORDER_OPS and kind not in ("number", "string"):
        raise DefinitionInvalid(path, "must be a number or a string")
    if kind is None:
        raise DefinitionInvalid(path, "must be a string, a number or a boolean")
    return value


def value_kind(value: Any) -> str | None:
    """The comparison family of a JSON scalar: booleans are not numbers; NaN and infinities are nothing."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return "number"
    return "string" if isinstance(value, str) else None


def _parse_behaviour(raw: dict[str, Any], path: str, depth: int, counter: list[int]) -> Node:
    _only(raw, path, ("event", *BOUNDS, "within_days"))
    event = raw["event"]
    if not isinstance(event, str) or not event or any(c in event for c in '"\\') or not event.isprintable():
        raise DefinitionInvalid(_join(path, "event"), "must be a non-empty event name")
    bounds = [b for b in BOUNDS if b in raw]
    if len(bounds) != 1:
        raise DefinitionInvalid(path, f"needs exactly one of {', '.join(BOUNDS)}")
    count, days = _whole(raw[bounds[0]]), _whole(raw.get("within_days"))
    if count is None or count < 0:
        raise DefinitionInvalid(_join(path, bounds[0]), "must be a whole number >= 0")
    if days is None or not 1 <= days <= MAX_DAYS:
        raise DefinitionInvalid(_join(path, "within_days"), f"must be a whole number from 1 to {MAX_DAYS}")
    return Behaviour(event, bounds[0], count, days)


def _whole(value: Any) -> int | None:
    """A JSON number that is a whole number (2 or 2.0), as an int; None for anything else."""
    return int(value) if value_kind(value) == "number" and value == int(value) else None


def _parse_score(raw: dict[str, Any], path: str, depth: int, counter: list[int]) -> Node:
    if raw["score"] not in SCORES:
        raise DefinitionInvalid(_join(path, "score"), f"must be one of {', '.join(SCORES)}")
    op, value = _parse_comparison(raw, path, ("score",))
    if raw["score"] == "cluster":
        if op not in CLUSTER_OPS:
            raise DefinitionInvalid(_join(path, "op"), f"must be one of {', '.join(CLUSTER_OPS)} for clusters")
        for item in value if isinstance(value, tuple) else [] if value is None else [value]:
            _field_keys(item, _join(path, "value"))  # a segment id becomes a JSON key
    return ScoreCondition(raw["score"], op, value)


def score_as_field(node: ScoreCondition) -> Node:
    """The score condition as conditions on the `scores` column, so Python and SQL evaluate it like a trait."""
    if node.score != "cluster":
        return FieldCondition("scores", (node.score,), node.op, node.value)
    if node.op in ("exists", "not_exists"):
        return FieldCondition("scores", (CLUSTER_KEY,), node.op)
    ids = node.value if isinstance(node.value, tuple) else (node.value,)
    found = [FieldCondition("scores", (CLUSTER_KEY, str(i)), "exists") for i in ids]
    member = found[0] if len(found) == 1 else Or(tuple(found))
    return Not(member) if node.op in ("neq", "not_in") else member


def _parse_segment(raw: dict[str, Any], path: str, depth: int, counter: list[int]) -> Node:
    _only(raw, path, ("segment",))
    segment_id = raw["segment"]
    if not isinstance(segment_id, str) or not 0 < len(segment_id) <= 64:
        raise DefinitionInvalid(_join(path, "segment"), "must be a segment id")
    return SegmentRef(segment_id)


_PARSERS: dict[str, Callable[[dict[str, Any], str, int, list[int]], Node]] = {
    "and": _parse_group, "or": _parse_group, "not": _parse_not, "trait": _parse_field, "computed": _parse_field,
    "event": _parse_behaviour, "score": _parse_score, "segment": _parse_segment,
}  # fmt: skip


# ---------------------------------------------------------------- references and dependencies


def walk(node: Node, path: str = "") -> Iterator[tuple[str, Node]]:
    """Every node of a tree with its path, parents first."""
    yield path, node
    if isinstance(node, And | Or):
        kind = "and" if isinstance(node, And) else "or"
        for i, child in enumerate(node.children):
            yield from walk(child, f"{_join(path, kind)}[{i}]")
    elif isinstance(node, Not):
        yield from walk(node.child, _join(path, "not"))


def referenced_segments(node: Node) -> set[str]:
    """The ids of the segments a definition's membership conditions name."""
    return {n.segment_id for _, n in walk(node) if isinstance(n, SegmentRef)}


def check_no_cycles(segment_id: str, node: Node, definitions: Mapping[str, Node]) -> None:
    """Raise `DefinitionInvalid` if `node`, as the definition of `segment_id`, would make a segment contain itself."""
    for path, ref in walk(node):
        if isinstance(ref, SegmentRef):
            chain = _chain_to(ref.segment_id, segment_id, definitions, set())
            if chain is not None:
                cycle = " -> ".join([segment_id, *chain])
                raise DefinitionInvalid(_join(path, "segment"), f"membership cycle: {cycle}")


def _chain_to(start: str, target: str, definitions: Mapping[str, Node], seen: set[str]) -> list[str] | None:
    """The chain of references from `start` to `target`, if there is one (unknown segments end a chain)."""
    if start == target:
        return [start]
    if start in seen or start not in definitions:
        return None
    seen.add(start)
    for nxt in sorted(referenced_segments(definitions[start])):
        chain = _chain_to(nxt, target, definitions, seen)
        if chain is not None:
            return [start, *chain]
    return None


def dependencies(node: Node) -> Dependencies:
    """What a change to a profile must touch for this definition's result to possibly change."""
    found: dict[str, set[str]] = {"traits": set(), "computed": set(), "events": set(), "scores": set(),
                                  "segments": set()}  # fmt: skip
    for _, n in walk(node):
        if isinstance(n, FieldCondition):
            found[n.source].add(n.keys[0])
        elif isinstance(n, Behaviour):
            found["events"].add(n.event)
        elif isinstance(n, ScoreCondition):
            found["scores"].add(n.score)
        elif isinstance(n, SegmentRef):
            found["segments"].add(n.segment_id)
    return Dependencies(**{k: frozenset(v) for k, v in found.items()})


# ---------------------------------------------------------------- evaluation

Predicate = Callable[[Features], bool]


def compile_predicate(node: Node, today: date) -> Predicate:
    """A function telling whether one profile's features match the definition on `today`."""
    if isinstance(node, And | Or):
        parts = [compile_predicate(child, today) for child in node.children]
        combine = all if isinstance(node, And) else any
        return lambda f: combine(p(f) for p in parts)
    if isinstance(node, Not):
        inner = compile_predicate(node.child, today)
        return lambda f: not inner(f)
    if isinstance(node, FieldCondition):
        test = compare(node.op, node.value)
        return lambda f: test(lookup(getattr(f, node.source), node.keys))
    if isinstance(node, Behaviour):
        return _compile_behaviour(node, today)
    if isinstance(node, ScoreCondition):
        return compile_predicate(score_as_field(node), today)
    return lambda f: node.segment_id in f.memberships


def lookup(data: Any, keys: tuple[str, ...]) -> Any:
    """The value at a path of keys in nested objects, or None."""
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def window(today: date, days: int) -> tuple[str, str]:
    """The day keys bounding the last `days` days: a key counts when `low < key <= high`."""
    return (today - timedelta(days=days)).isoformat(), today.isoformat()


def event_count(computed: Mapping[str, Any], event: str, low: str, high: str) -> float:
    """How many times `event` happened on the days in (low, high], from `daily_counts`."""
    days = lookup(computed, ("daily_counts", event))
    if not isinstance(days, Mapping):
        return 0
    return sum(n for day, n in days.items() if isinstance(day, str) and low < day <= high and value_kind(n) == "number")


def _compile_behaviour(node: Behaviour, today: date) -> Predicate:
    low, high = window(today, node.days)
    check = {"at_least": lambda n: n >= node.count, "at_most": lambda n: n <= node.count,
             "exactly": lambda n: n == node.count}[node.bound]  # fmt: skip
    return lambda f: check(event_count(f.computed, node.event, low, high))


def compare(op: str, value: Any) -> Callable[[Any], bool]:
    """A test of one JSON value against a condition; a missing or wrongly-typed value fails (bar `not_exists`)."""
    if op == "exists":
        return lambda a: a is not None
    if op == "not_exists":
        return lambda a: a is None
    if op in ("contains", "starts_with"):
        method = str.__contains__ if op == "contains" else str.startswith
        return lambda a: isinstance(a, str) and method(a, value)
    sample = value[0] if op in ("in", "not_in", "between") else value
    kind = value_kind(sample)
    test = _TESTS[op]
    return lambda a: value_kind(a) == kind and test(a, value)


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, v: a == v, "neq": lambda a, v: a != v, "in": lambda a, v: a in v,
    "not_in": lambda a, v: a not in v, "gt": lambda a, v: a > v, "gte": lambda a, v: a >= v,
    "lt": lambda a, v: a < v, "lte": lambda a, v: a <= v, "between": lambda a, v: v[0] <= a <= v[1],
}  # fmt: skip
