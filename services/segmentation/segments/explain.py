"""Why a profile is in a segment or not: the rule tree evaluated for it node by node, with the very predicates that
real-time evaluation uses, each leaf with the profile's actual value (and, for behaviour, the counts per day)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.segmentation.segments.rules import (
    And,
    Behaviour,
    Features,
    FieldCondition,
    Node,
    Not,
    Or,
    ScoreCondition,
    SegmentRef,
    compile_predicate,
    event_count,
    lookup,
    window,
)  # fmt: skip

KINDS = {And: "and", Or: "or", Not: "not", Behaviour: "event", ScoreCondition: "score", SegmentRef: "segment"}
SOURCES = {"traits": "trait", "computed": "computed", "scores": "score"}


@dataclass
class Explained:
    """One node of the tree as evaluated for one profile."""

    path: str
    kind: str
    result: bool
    condition: dict[str, Any] | None = None
    actual: Any = None
    daily_counts: dict[str, int] | None = None
    count: float | None = None
    children: list[Explained] = field(default_factory=list)


def explain(node: Node, raw: Any, features: Features, today: date, path: str = "definition") -> Explained:
    """Evaluate `node` (parsed from `raw`, its JSON) for one profile's features on `today`."""
    result = compile_predicate(node, today)(features)
    kind = SOURCES[node.source] if isinstance(node, FieldCondition) else KINDS[type(node)]
    if isinstance(node, And | Or):
        parts = enumerate(zip(node.children, raw[kind], strict=True))
        children = [explain(child, sub, features, today, f"{path}.{kind}[{i}]") for i, (child, sub) in parts]
        return Explained(path, kind, result, children=children)
    if isinstance(node, Not):
        return Explained(path, kind, result, children=[explain(node.child, raw["not"], features, today, f"{path}.not")])
    leaf = Explained(path, kind, result, condition=raw)
    _fill_leaf(leaf, node, features, today)
    return leaf


def _fill_leaf(leaf: Explained, node: Node, features: Features, today: date) -> None:
    if isinstance(node, FieldCondition):
        leaf.actual = lookup(getattr(features, node.source), node.keys)
    elif isinstance(node, ScoreCondition):
        leaf.actual = lookup(features.scores, (node.score,))
    elif isinstance(node, SegmentRef):
        leaf.actual = node.segment_id in features.memberships
    elif isinstance(node, Behaviour):
        low, high = window(today, node.days)
        days = lookup(features.computed, ("daily_counts", node.event))
        counts = days if isinstance(days, dict) else {}
        leaf.daily_counts = {d: n for d, n in sorted(counts.items()) if isinstance(d, str) and low < d <= high}
        leaf.count = leaf.actual = event_count(features.computed, node.event, low, high)
