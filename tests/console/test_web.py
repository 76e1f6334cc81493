"""The built web app: files as they are, hashed assets cached for a year, index.html for client-side routes, a clear
503 page without a build, and /api never answered with the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.console.conftest import ConsoleUnderTest, console_running, console_settings

INDEX = "<!doctype html><title>Tessera</title><script src='/assets/index-3f9a1c7d.js'></script>"


@pytest.fixture(scope="module")
async def with_build(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ConsoleUnderTest]:
    """A console serving a small build (SQLite: nothing here is about the database)."""
    root = tmp_path_factory.mktemp("web-console")
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-3f9a1c7d.js").write_text("console.log('tessera')")
    (dist / "favicon.svg").write_text("<svg/>")
    (root / "secret.txt").write_text("outside the build")
    settings = console_settings(database_url=f"sqlite+aiosqlite:///{root / 'c.db'}", data_dir=root, web_dir=dist)
    async with console_running(settings) as running:
        yield running


class TestWebApp:
    @pytest.mark.parametrize("path", ["/", "/segments/abc", "/setup?token=x", "/invite/some-token"])
    async def test_client_side_routes_get_index_html(self, with_build: ConsoleUnderTest, path: str) -> None:
        page = await with_build.browser().get(path)
        assert page.status_code == 200 and page.text == INDEX and page.headers["cache-control"] == "no-cache"

    async def test_hashed_assets_are_cached_for_a_year(self, with_build: ConsoleUnderTest) -> None:
        asset = await with_build.browser().get("/assets/index-3f9a1c7d.js")
        assert asset.status_code == 200 and asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "javascript" in asset.headers["content-type"]
        icon = await with_build.browser().get("/favicon.svg")
        assert icon.status_code == 200 and icon.headers["cache-control"] == "no-cache"

    async def test_a_missing_asset_is_404_not_the_app(self, with_build: ConsoleUnderTest) -> None:
        missing = await with_build.browser().get("/assets/index-00000000.js")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

    async def test_nothing_outside_the_build_is_served(self, with_build: ConsoleUnderTest) -> None:
        for path in ("/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"):
            page = await with_build.browser().get(path)
            assert "outside the build" not in page.text, path

    async def test_api_paths_are_never_the_app(self, with_build: ConsoleUnderTest) -> None:
        for method in ("GET", "POST"):
            answer = await with_build.browser().http.request(method, "/api/no-such-thing")
            assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
        assert (await with_build.browser().get("/docs")).status_code == 200

    async def test_without_a_build_every_page_is_a_clear_503(self, tmp_path: Path) -> None:
        settings = console_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", data_dir=tmp_path)
        async with console_running(settings) as running:
            page = await running.browser().get("/campaigns")
            status = await running.browser().get("/api/auth/status")
        assert page.status_code == 503 and "not built" in page.text and "TESSERA_CONSOLE_WEB_DIR" in page.text
        assert status.status_code == 200
