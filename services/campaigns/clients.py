"""HTTP clients of the services campaigns reads from: segmentation (segments, goals) and profiles (contacts)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx


class PeerServices:
    """Segmentation's and profiles' REST APIs, with the service's key."""

    def __init__(self, client: httpx.AsyncClient, *, segmentation_url: str, profiles_url: str) -> None:
        self.client, self.segmentation_url, self.profiles_url = client, segmentation_url, profiles_url

    async def profiles(self, profile_ids: list[str]) -> list[dict[str, Any]]:
        """The profiles (traits, consent, identities) of up to 1000 ids; unknown ids are left out."""
        response = await self.client.post(f"{self.profiles_url}/v1/profiles/batch", json={"ids": profile_ids})
        response.raise_for_status()
        return list(response.json()["items"])

    async def segments(self) -> list[dict[str, Any]]:
        """Every segment, with its goal."""
        response = await self.client.get(f"{self.segmentation_url}/v1/segments")
        response.raise_for_status()
        return list(response.json())

    async def social_engagement(self, start: date | None, end: date | None) -> dict[str, Any]:
        """Profiles' social engagement per segment (people behind likes, comments, shares, ad clicks) in a period."""
        params = {name: day.isoformat() for name, day in (("from", start), ("to", end)) if day}
        response = await self.client.get(f"{self.profiles_url}/v1/reports/social-engagement", params=params)
        response.raise_for_status()
        body = response.json()
        return body if isinstance(body, dict) else {}


def peer_client(settings: Any) -> httpx.AsyncClient:
    """An HTTP client authorised with the service's key (the admin key until service keys exist)."""
    key = settings.admin_api_key.get_secret_value() if settings.admin_api_key else ""
    return httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=httpx.Timeout(30.0, connect=5.0))
