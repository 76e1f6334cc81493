"""Segment definitions: validation paths, the Python predicate, cycles, and SQL pushdown agreeing with Python."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, select

from services.segmentation.segments.explain import explain
from services.segmentation.segments.rules import (
    Behaviour,
    DefinitionInvalid,
    Dependencies,
    Features,
    check_no_cycles,
    compile_predicate,
    dependencies,
    parse_definition,
    referenced_segments,
)
from services.segmentation.segments.rules_sql import to_sql
from shared.db import JSONType, make_engine

TODAY = date(2026, 11, 22)


def matches(definition: dict[str, Any], features: Features, today: date = TODAY) -> bool:
    return compile_predicate(parse_definition(definition), today)(features)


def trait(op: str, value: Any = None, name: str = "x", **features: Any) -> bool:
    leaf = {"trait": name, "op": op} | ({} if value is None else {"value": value})
    return matches(leaf, Features(traits=features))


def daily(event: str, *days_ago_counts: tuple[int, Any]) -> Features:
    counts = {(TODAY - timedelta(days=ago)).isoformat(): n for ago, n in days_ago_counts}
    return Features(computed={"daily_counts": {event: counts}})


class TestParseErrors:
    @pytest.mark.parametrize(
        ("raw", "path"),
        [
            ([], ""),
            (
                {"and": [{"trait": "a", "op": "eq", "value": 1}, {"or": [{"trait": "b", "op": "eq"}]}]},
                "and[1].or[0].value",
            ),
            ({"and": [{"trait": "a", "op": "nope", "value": 1}]}, "and[0].op"),
            ({"or": []}, "or"),
            ({"not": {"and": [{"segment": 5}]}}, "not.and[0].segment"),
            ({"trait": "a", "op": "exists", "value": 1}, "value"),
            ({"trait": "a", "op": "between", "value": [3, 1]}, "value"),
            ({"trait": "a", "op": "between", "value": [1, "z"]}, "value"),
            ({"trait": "a", "op": "in", "value": []}, "value"),
            ({"trait": "a", "op": "in", "value": [1, "a"]}, "value"),
            ({"trait": "a", "op": "gt", "value": True}, "value"),
            ({"trait": "a", "op": "eq", "value": None}, "value"),
            ({"trait": "a", "op": "contains", "value": ""}, "value"),
            ({"trait": "a..b", "op": "exists"}, "trait"),
            ({"computed": "items.0", "op": "exists"}, "computed"),
            ({"trait": "a", "op": "exists", "extra": 1}, "extra"),
            ({"trait": "a", "segment": "s"}, ""),
            ({"or": [{"event": "Order Completed", "at_least": 1, "within_days": 91}]}, "or[0].within_days"),
            ({"or": [{"event": "Order Completed", "at_least": -1, "within_days": 9}]}, "or[0].at_least"),
            ({"or": [{"event": "Order Completed", "at_least": 1.5, "within_days": 9}]}, "or[0].at_least"),
            ({"or": [{"event": "Order Completed", "at_least": 1, "exactly": 1, "within_days": 9}]}, "or[0]"),
            ({"event": "", "exactly": 1, "within_days": 9}, "event"),
            ({"score": "ltv", "op": "gt", "value": 1}, "score"),
        ],
    )
    def test_names_the_bad_node(self, raw: Any, path: str) -> None:
        with pytest.raises(DefinitionInvalid) as caught:
            parse_definition(raw)
        assert caught.value.path == path
        assert isinstance(caught.value, ValueError)

    def test_refuses_deep_trees(self) -> None:
        raw: dict[str, Any] = {"segment": "s"}
        for _ in range(10):
            raw = {"not": raw}
        with pytest.raises(DefinitionInvalid) as caught:
            parse_definition(raw)
        assert caught.value.path == ".".join(["not"] * 10)

    def test_refuses_too_many_nodes(self) -> None:
        leaves = [{"segment": f"s{i}"} for i in range(200)]
        with pytest.raises(DefinitionInvalid) as caught:
            parse_definition({"or": leaves})
        assert caught.value.path == "or[199]"  # the root plus 199 leaves is the limit

    def test_accepts_the_limits(self) -> None:
        raw: dict[str, Any] = {"segment": "s"}
        for _ in range(9):
            raw = {"not": raw}
        parse_definition(raw)
        parse_definition({"or": [{"segment": f"s{i}"} for i in range(199)]})

    def test_reads_behaviour(self) -> None:
        node = parse_definition({"event": "Order Completed", "at_most": 2, "within_days": 90})
        assert node == Behaviour("Order Completed", "at_most", 2, 90)


class TestTraitOperators:
    @pytest.mark.parametrize(
        ("op", "value", "actual", "expected"),
        [
            ("eq", "Lyon", "Lyon", True),
            ("eq", "Lyon", "lyon", False),
            ("eq", 3, 3.0, True),
            ("eq", True, True, True),
            ("eq", 1, True, False),
            ("eq", True, 1, False),
            ("eq", "3", 3, False),
            ("neq", "Lyon", "Paris", True),
            ("neq", "Lyon", "Lyon", False),
            ("neq", "Lyon", 4, False),
            ("in", ["a", "b"], "b", True),
            ("in", ["a", "b"], "c", False),
            ("in", [1, 2], 2.0, True),
            ("not_in", ["a", "b"], "c", True),
            ("not_in", ["a", "b"], "a", False),
            ("not_in", ["a", "b"], 1, False),
            ("gt", 3, 4, True),
            ("gt", 3, 3, False),
            ("gte", 3, 3, True),
            ("lt", 3, 2.5, True),
            ("lte", 3, 3.5, False),
            ("gt", "2026-01-01", "2026-03-01T00:00:00", True),
            ("lt", 3, "2", False),
            ("between", [1, 3], 1, True),
            ("between", [1, 3], 3, True),
            ("between", [1, 3], 3.01, False),
            ("between", ["a", "c"], "b", True),
            ("contains", "gmail", "bob@gmail.com", True),
            ("contains", "Gmail", "bob@gmail.com", False),
            ("contains", "1", 12, False),
            ("starts_with", "bob", "bob@gmail.com", True),
            ("starts_with", "gmail", "bob@gmail.com", False),
            ("exists", None, 0, True),
            ("exists", None, None, False),
            ("not_exists", None, None, True),
            ("not_exists", None, "", False),
        ],
    )
    def test_compares(self, op: str, value: Any, actual: Any, expected: bool) -> None:
        assert trait(op, value, x=actual) is expected

    @pytest.mark.parametrize("op", ["eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains",
                                    "starts_with", "exists"])  # fmt: skip
    def test_missing_value_never_matches(self, op: str) -> None:
        value = {"in": ["a"], "not_in": ["a"], "between": [1, 2], "exists": None}.get(op, "a")
        assert trait(op, value) is False
        assert trait(op, value, x=None) is False

    @pytest.mark.parametrize("op", ["eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "between", "contains",
                                    "starts_with"])  # fmt: skip
    def test_wrongly_typed_value_never_matches(self, op: str) -> None:
        value = {"in": ["a"], "not_in": ["a"], "between": ["a", "b"]}.get(op, "a")
        assert trait(op, value, x=[1]) is False
        assert trait(op, value, x={"a": 1}) is False
        assert trait(op, value, x=True) is False

    def test_not_of_a_missing_value_matches(self) -> None:
        assert matches({"not": {"trait": "x", "op": "eq", "value": "a"}}, Features()) is True

    def test_reads_nested_computed_keys(self) -> None:
        features = Features(computed={"last_utm": {"source": "google"}, "orders": 3})
        assert matches({"computed": "last_utm.source", "op": "eq", "value": "google"}, features)
        assert not matches({"computed": "orders.source", "op": "exists"}, features)

    def test_combines_with_and_or_not(self) -> None:
        definition = {"and": [{"trait": "city", "op": "eq", "value": "Lyon"},
                              {"or": [{"computed": "orders", "op": "gte", "value": 3},
                                      {"not": {"computed": "revenue", "op": "lt", "value": 100}}]}]}  # fmt: skip
        assert matches(definition, Features(traits={"city": "Lyon"}, computed={"orders": 3}))
        assert matches(definition, Features(traits={"city": "Lyon"}, computed={"revenue": 150}))
        assert not matches(definition, Features(traits={"city": "Lyon"}, computed={"revenue": 50}))
        assert not matches(definition, Features(traits={"city": "Paris"}, computed={"orders": 5}))


class TestScoresAndMemberships:
    def test_compares_scores(self) -> None:
        features = Features(scores={"rfm_segment": "champions", "clv": 120.5, "p_alive": 0.8})
        assert matches({"score": "rfm_segment", "op": "in", "value": ["champions", "loyal"]}, features)
        assert matches({"score": "clv", "op": "gt", "value": 100}, features)
        assert matches({"score": "p_alive", "op": "between", "value": [0.5, 1]}, features)

    def test_cluster_names_a_cluster_segment(self) -> None:
        features = Features(scores={"cluster_segments": {"seg2": "clustering1"}})
        assert matches({"score": "cluster", "op": "eq", "value": "seg2"}, features)
        assert not matches({"score": "cluster", "op": "eq", "value": "seg3"}, features)
        assert matches({"score": "cluster", "op": "not_in", "value": ["seg3", "seg4"]}, features)
        assert not matches({"score": "cluster", "op": "exists"}, Features())

    def test_cluster_takes_only_equality_and_segment_ids(self) -> None:
        for definition, path in (({"score": "cluster", "op": "gt", "value": "a"}, "op"),
                                 ({"score": "cluster", "op": "eq", "value": 'a"b'}, "value")):  # fmt: skip
            with pytest.raises(DefinitionInvalid) as caught:
                parse_definition(definition)
            assert caught.value.path == path

    def test_satisfaction_picks_detractors(self) -> None:
        detractors = {"and": [{"computed": "satisfaction_kind", "op": "eq", "value": "nps"},
                              {"computed": "satisfaction", "op": "lte", "value": 6}]}  # fmt: skip
        assert matches(detractors, Features(computed={"satisfaction": 4, "satisfaction_kind": "nps"}))
        assert not matches(detractors, Features(computed={"satisfaction": 4, "satisfaction_kind": "csat"}))
        assert not matches(detractors, Features(computed={"satisfaction": 9, "satisfaction_kind": "nps"}))
        assert not matches(detractors, Features())

    def test_missing_score_does_not_match(self) -> None:
        assert not matches({"score": "clv", "op": "gt", "value": 0}, Features())

    def test_membership(self) -> None:
        assert matches({"segment": "vip"}, Features(memberships=frozenset({"vip"})))
        assert not matches({"segment": "vip"}, Features())


class TestBehaviour:
    def test_window_includes_today_and_excludes_its_start(self) -> None:
        condition = {"event": "Order Completed", "at_least": 1, "within_days": 7}
        assert matches(condition, daily("Order Completed", (0, 1)))
        assert matches(condition, daily("Order Completed", (6, 1)))
        assert not matches(condition, daily("Order Completed", (7, 1)))
        assert not matches(condition, daily("Order Completed", (-1, 1)))

    def test_sums_days(self) -> None:
        features = daily("page", (0, 2), (3, 1), (40, 5))
        assert matches({"event": "page", "exactly": 3, "within_days": 30}, features)
        assert matches({"event": "page", "exactly": 8, "within_days": 90}, features)
        assert matches({"event": "page", "at_most": 3, "within_days": 30}, features)
        assert not matches({"event": "page", "at_most": 2, "within_days": 30}, features)

    def test_no_history_counts_as_zero(self) -> None:
        assert matches({"event": "page", "at_most": 0, "within_days": 30}, Features())
        assert matches({"event": "page", "exactly": 0, "within_days": 30}, daily("identify", (0, 4)))
        assert not matches({"event": "page", "at_least": 1, "within_days": 30}, Features())

    def test_ignores_malformed_counts(self) -> None:
        features = daily("page", (0, "3"), (1, True), (2, 2))
        assert matches({"event": "page", "exactly": 2, "within_days": 30}, features)
        broken = Features(computed={"daily_counts": {"page": [1, 2]}})
        assert matches({"event": "page", "exactly": 0, "within_days": 30}, broken)

    def test_moves_with_today(self) -> None:
        condition = {"event": "page", "at_least": 1, "within_days": 1}
        features = daily("page", (1, 1))
        assert not matches(condition, features)
        assert matches(condition, features, today=TODAY - timedelta(days=1))


class TestReferences:
    def test_lists_referenced_segments(self) -> None:
        node = parse_definition({"or": [{"segment": "a"}, {"not": {"segment": "b"}}, {"segment": "a"}]})
        assert referenced_segments(node) == {"a", "b"}

    def test_dependencies(self) -> None:
        node = parse_definition({"and": [
            {"trait": "address.city", "op": "eq", "value": "Lyon"}, {"computed": "orders", "op": "gt", "value": 1},
            {"event": "page", "at_least": 1, "within_days": 3}, {"score": "clv", "op": "exists"}, {"segment": "s"}]})  # fmt: skip
        assert dependencies(node) == Dependencies(
            traits=frozenset({"address"}), computed=frozenset({"orders"}), events=frozenset({"page"}),
            scores=frozenset({"clv"}), segments=frozenset({"s"}),
        )  # fmt: skip

    def test_refuses_self_reference(self) -> None:
        with pytest.raises(DefinitionInvalid) as caught:
            check_no_cycles("a", parse_definition({"and": [{"segment": "a"}]}), {})
        assert caught.value.path == "and[0].segment"
        assert "a -> a" in caught.value.reason

    def test_refuses_indirect_cycle(self) -> None:
        definitions = {"b": parse_definition({"segment": "c"}), "c": parse_definition({"or": [{"segment": "a"}]})}
        with pytest.raises(DefinitionInvalid) as caught:
            check_no_cycles("a", parse_definition({"not": {"segment": "b"}}), definitions)
        assert caught.value.path == "not.segment"
        assert "a -> b -> c -> a" in caught.value.reason

    def test_accepts_a_diamond_and_unknown_segments(self) -> None:
        definitions = {"b": parse_definition({"segment": "d"}), "c": parse_definition({"segment": "d"}),
                       "d": parse_definition({"segment": "gone"})}  # fmt: skip
        check_no_cycles("a", parse_definition({"and": [{"segment": "b"}, {"segment": "c"}]}), definitions)

    def test_tolerates_existing_cycles_elsewhere(self) -> None:
        definitions = {"b": parse_definition({"segment": "c"}), "c": parse_definition({"segment": "b"})}
        check_no_cycles("a", parse_definition({"segment": "b"}), definitions)


class TestToSql:
    def test_refuses_other_databases(self) -> None:
        table = _features_table(MetaData())
        with pytest.raises(NotImplementedError):
            to_sql(parse_definition({"segment": "s"}), table, TODAY, dialect_name="mysql")

    def test_membership_needs_a_condition(self) -> None:
        table = _features_table(MetaData())
        node = parse_definition({"segment": "vip"})
        with pytest.raises(NotImplementedError):
            to_sql(node, table, TODAY, dialect_name="postgresql")
        condition = to_sql(node, table, TODAY, dialect_name="postgresql", member_sql=lambda s: table.c.id > 3)
        assert "coalesce" in str(condition).lower()


EQUIVALENCE_DEFINITIONS: list[dict[str, Any]] = [
    {"trait": "city", "op": "eq", "value": "Lyon"},
    {"trait": "city", "op": "neq", "value": "Lyon"},
    {"not": {"trait": "city", "op": "eq", "value": "Lyon"}},
    {"trait": "city", "op": "in", "value": ["Lyon", "Paris"]},
    {"trait": "city", "op": "not_in", "value": ["Lyon", "Paris"]},
    {"trait": "city", "op": "gt", "value": "Lyon"},
    {"trait": "city", "op": "between", "value": ["L", "Pz"]},
    {"trait": "city", "op": "contains", "value": "on"},
    {"trait": "city", "op": "starts_with", "value": "P"},
    {"trait": "city", "op": "starts_with", "value": "Zü"},
    {"trait": "city", "op": "lt", "value": "Zz"},
    {"trait": "city", "op": "exists"},
    {"trait": "city", "op": "not_exists"},
    {"trait": "vip", "op": "eq", "value": True},
    {"trait": "vip", "op": "neq", "value": True},
    {"trait": "vip", "op": "in", "value": [False]},
    {"trait": "vip", "op": "not_in", "value": [False]},
    {"trait": "age", "op": "gte", "value": 40},
    {"trait": "age", "op": "eq", "value": 30},
    {"trait": "age", "op": "in", "value": [20, 30, 41.5]},
    {"trait": "age", "op": "not_in", "value": [20, 30]},
    {"trait": "address.zip", "op": "starts_with", "value": "69"},
    {"computed": "orders", "op": "gte", "value": 3},
    {"computed": "revenue", "op": "between", "value": [50, 500.5]},
    {"computed": "revenue", "op": "lt", "value": 100},
    {"computed": "last_utm.source", "op": "eq", "value": "google"},
    {"computed": "last_order_at", "op": "gte", "value": "2026-10-01"},
    {"event": "Order Completed", "at_least": 1, "within_days": 7},
    {"event": "Order Completed", "at_least": 2, "within_days": 30},
    {"event": "page", "at_most": 3, "within_days": 14},
    {"event": "page", "exactly": 0, "within_days": 1},
    {"event": "page", "exactly": 2, "within_days": 90},
    {"not": {"event": "identify", "at_least": 1, "within_days": 60}},
    {
        "and": [
            {"trait": "city", "op": "eq", "value": "Lyon"},
            {
                "or": [
                    {"computed": "orders", "op": "gt", "value": 2},
                    {"not": {"event": "page", "at_least": 2, "within_days": 30}},
                ]
            },
        ]
    },  # fmt: skip
    {"or": [{"not": {"trait": "age", "op": "lt", "value": 30}}, {"trait": "city", "op": "not_exists"}]},
    {"score": "clv", "op": "gte", "value": 100},
    {"score": "p_alive", "op": "lt", "value": 0.3},
    {"score": "rfm_segment", "op": "in", "value": ["Champions", "Loyal"]},
    {"score": "cluster", "op": "eq", "value": "s1"},
    {"score": "cluster", "op": "not_in", "value": ["s1", "s2"]},
]
CITIES = ["Lyon", "Paris", "Lille", "lyon", "Pau", "", 7, None, ["Lyon"], {"name": "Lyon"}, "Zürich", "Ôslo"]
AGES = [20, 30, 30.0, 41.5, 55, "30", True, False, None, [30]]
VIPS = [True, False, 1, 0, "true", None]
DAILY_VALUES = [1, 2, 3, 0, 1.5, "2", True, None]


def _features_table(metadata: MetaData) -> Table:
    return Table("rule_features", metadata, Column("id", Integer, primary_key=True),
                 Column("traits", JSONType), Column("computed", JSONType), Column("scores", JSONType))  # fmt: skip


def _maybe(rng: random.Random, choices: list[Any]) -> dict[str, Any]:
    value = rng.choice([*choices, "__absent__"])
    return {} if value == "__absent__" else {"v": value}


def _random_row(rng: random.Random, i: int) -> dict[str, Any]:
    traits = {k: v["v"] for k, v in (("city", _maybe(rng, CITIES)), ("age", _maybe(rng, AGES)),
                                     ("vip", _maybe(rng, VIPS))) if v}  # fmt: skip
    if rng.random() < 0.5:
        traits["address"] = rng.choice([{"zip": rng.choice(["69001", "75002", 69001])}, "69 rue", {}])
    computed: dict[str, Any] = {k: v["v"] for k, v in (("orders", _maybe(rng, [0, 1, 2, 3, 5, "3", None])),
                                ("revenue", _maybe(rng, [0, 49.99, 50, 100, 250.25, 500.5, 900]))) if v}  # fmt: skip
    if rng.random() < 0.6:
        computed["last_utm"] = {"source": rng.choice(["google", "facebook", "Google"])}
    if rng.random() < 0.6:
        computed["last_order_at"] = (TODAY - timedelta(days=rng.randint(0, 120))).isoformat() + "T10:00:00+00:00"
    computed["daily_counts"] = _random_daily(rng)
    return {"id": i, "traits": traits, "computed": computed, "scores": _random_scores(rng)}


def _random_scores(rng: random.Random) -> dict[str, Any]:
    scores = {k: v["v"] for k, v in (("clv", _maybe(rng, [0, 50.5, 100, 250, "100", None])),
              ("p_alive", _maybe(rng, [0.1, 0.29, 0.3, 0.9])),
              ("rfm_segment", _maybe(rng, ["Champions", "Loyal", "Lost", 5]))) if v}  # fmt: skip
    if rng.random() < 0.6:
        scores["cluster_segments"] = {rng.choice(["s1", "s2", "s3"]): "c1"}
    return scores


def _random_daily(rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return rng.choice([[], "x", {"page": [1, 2]}, {"page": 3}])
    counts: dict[str, Any] = {}
    for event in ("Order Completed", "page", "identify"):
        if rng.random() < 0.7:
            days = rng.sample(range(-2, 95), rng.randint(0, 6))
            counts[event] = {(TODAY - timedelta(days=d)).isoformat(): rng.choice(DAILY_VALUES) for d in days}
    return counts


def _edge_rows(first_id: int) -> list[dict[str, Any]]:
    """One order on each side of the edges of the 1-, 7- and 30-day windows, and of today."""
    days_ago = [-1, 0, 1, 6, 7, 29, 30]
    return [
        {
            "id": first_id + i,
            "traits": {},
            "scores": {},
            "computed": {"daily_counts": {"Order Completed": {(TODAY - timedelta(days=ago)).isoformat(): 1}}},
        }  # fmt: skip
        for i, ago in enumerate(days_ago)
    ]


@pytest.fixture
async def features_rows(database_url: str) -> Any:
    rng = random.Random(20261122)
    rows = [_random_row(rng, i) for i in range(400)] + _edge_rows(400)
    metadata = MetaData()
    table = _features_table(metadata)
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(table.insert(), rows)
    yield engine, table, rows
    await engine.dispose()


class TestSqlMatchesPython:
    async def test_counts_agree(self, features_rows: Any) -> None:
        engine, table, rows = features_rows
        features = [Features(traits=r["traits"], computed=r["computed"], scores=r["scores"]) for r in rows]
        async with engine.connect() as conn:
            for definition in EQUIVALENCE_DEFINITIONS:
                node = parse_definition(definition)
                expected = sum(compile_predicate(node, TODAY)(f) for f in features)
                condition = to_sql(node, table, TODAY, dialect_name=engine.dialect.name)
                got = await conn.scalar(select(func.count()).select_from(table).where(condition))
                assert (definition, got) == (definition, expected)
                assert 0 < expected < len(rows), definition  # every definition splits the rows

    async def test_matching_ids_agree(self, features_rows: Any) -> None:
        engine, table, rows = features_rows
        definition = next(d for d in EQUIVALENCE_DEFINITIONS if "and" in d)
        node = parse_definition(definition)
        predicate = compile_predicate(node, TODAY)
        expected = {r["id"] for r in rows if predicate(Features(traits=r["traits"], computed=r["computed"]))}
        condition = to_sql(node, table, TODAY, dialect_name=engine.dialect.name)
        async with engine.connect() as conn:
            got = set((await conn.scalars(select(table.c.id).where(condition))).all())
        assert got == expected

    async def test_explain_agrees_with_membership_on_every_row(self, features_rows: Any) -> None:
        """The explanation's verdict is the membership the SQL backfill gives, and every group's verdict follows
        from its children's."""
        engine, table, rows = features_rows
        async with engine.connect() as conn:
            for definition in EQUIVALENCE_DEFINITIONS:
                node = parse_definition(definition)
                condition = to_sql(node, table, TODAY, dialect_name=engine.dialect.name)
                members = set((await conn.scalars(select(table.c.id).where(condition))).all())
                for row in rows:
                    features = Features(traits=row["traits"], computed=row["computed"], scores=row["scores"])
                    tree = explain(node, definition, features, TODAY)
                    assert tree.result == (row["id"] in members), (definition, row["id"])
                    _check_groups(tree)


def _check_groups(node: Any) -> None:
    verdicts = [child.result for child in node.children]
    if node.kind in ("and", "or", "not"):
        expected = all(verdicts) if node.kind == "and" else any(verdicts) if node.kind == "or" else not verdicts[0]
        assert node.result == expected, node.path
    for child in node.children:
        _check_groups(child)
