"""The built web app (`web/dist`): files as they are, hashed assets cached for a year, `index.html` for every
client-side route, and a clear 503 page while no build exists."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from shared.errors import NotFound

IMMUTABLE = "public, max-age=31536000, immutable"
MISSING = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tessera console</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The console's web app is not built</h1>
<p>The console runs, but it found no built web app at <code>{where}</code>.</p>
<p>Build it with <code>npm ci --prefix web &amp;&amp; npm run build --prefix web</code> (or <code>make run</code>),
or point <code>TESSERA_CONSOLE_WEB_DIR</code> at a build. The API answers under <code>/api/</code> meanwhile.</p>
</body></html>"""


def web_router(web_dir: Path) -> APIRouter:
    """Routes that serve the web app from `web_dir`; register them last (they match every path)."""
    router = APIRouter(include_in_schema=False)
    root = web_dir.resolve()

    @router.api_route("/{path:path}", methods=["GET", "HEAD"])
    async def serve_web_app(path: str) -> Response:
        """A file of the build, else index.html (the app routes on the client)."""
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(MISSING.format(where=root), status_code=503, headers={"Retry-After": "30"})
        found = _file(root, path)
        if found is None and path.startswith("assets/"):
            raise NotFound(f"No file /{path} in the web app's build.")
        if found is not None:
            hashed = found.parent.name == "assets"  # Vite names every file in assets/ by its content's hash
            return FileResponse(found, headers={"Cache-Control": IMMUTABLE if hashed else "no-cache"})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return router


def _file(root: Path, path: str) -> Path | None:
    """The file a path names inside the build, never outside it."""
    if not path:
        return None
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate
