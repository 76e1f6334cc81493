"""Following merges from a profile id to the live profile it now belongs to (profiles reads `merged_into`, campaigns
its copy of `profile.merged` messages). Pure functions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping

# Merges never make cycles; the bound only keeps a corrupted chain from looping forever.
MAX_DEPTH = 10

MergedInto = Callable[[str], str | None]  # id → the profile it was merged into; None when live or unknown


def chain_end(profile_id: str, merged_into: MergedInto) -> str:
    """The id at the end of `profile_id`'s merge chain (itself when it was never merged away)."""
    current = profile_id
    for _ in range(MAX_DEPTH):
        following = merged_into(current)
        if following is None:
            return current
        current = following
    return current


async def load_chains(
    profile_ids: Iterable[str], load: Callable[[set[str]], Awaitable[Mapping[str, str | None]]]
) -> dict[str, str | None]:
    """Every link of the merge chains that start at `profile_ids`: `load` reads one level (id → merged_into of the
    ids it found), so a chain costs one read per level rather than one per profile."""
    links: dict[str, str | None] = {}
    pending = set(profile_ids)
    for _ in range(MAX_DEPTH):
        links |= await load(pending)
        pending = {into for into in links.values() if into} - links.keys()
        if not pending:
            break
    return links
