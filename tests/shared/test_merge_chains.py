"""Following merges to the live profile: one read per level, the end of every chain, a guard against cycles."""

from __future__ import annotations

from shared.merge_chains import MAX_DEPTH, chain_end, load_chains

LINKS = {"a": "b", "b": "c", "c": None, "x": None, "y": "c"}


def test_the_end_of_a_chain_is_the_live_profile() -> None:
    assert [chain_end(p, LINKS.get) for p in ("a", "b", "c", "x", "y", "unknown")] == [
        "c",
        "c",
        "c",
        "x",
        "c",
        "unknown",
    ]


def test_a_cycle_stops_after_the_depth_bound() -> None:
    assert chain_end("p", {"p": "q", "q": "p"}.get) in {"p", "q"}


async def test_chains_load_one_level_per_read() -> None:
    reads: list[set[str]] = []

    async def level(ids: set[str]) -> dict[str, str | None]:
        reads.append(set(ids))
        return {i: LINKS[i] for i in ids if i in LINKS}

    links = await load_chains(["a", "x"], level)
    assert reads == [{"a", "x"}, {"b"}, {"c"}]
    assert chain_end("a", links.get) == "c" and chain_end("x", links.get) == "x"


async def test_a_long_chain_is_read_at_most_the_depth_bound() -> None:
    chain = {f"p{i}": f"p{i + 1}" for i in range(50)}
    reads = 0

    async def level(ids: set[str]) -> dict[str, str | None]:
        nonlocal reads
        reads += 1
        return {i: chain.get(i) for i in ids}

    await load_chains(["p0"], level)
    assert reads == MAX_DEPTH
