"""Write each service's OpenAPI document as JSON, for the web app's generated client: `python -m tessera.openapi DIR`.

Nothing starts: each app is built by its factory and asked for its document.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tessera.stack import SERVICES

SERVICE_NAMES = tuple(SERVICES)  # the console included


def service_exists(name: str) -> bool:
    """Whether `services/<name>` is part of this checkout."""
    return importlib.util.find_spec(f"services.{name}") is not None


def openapi_document(name: str, data_dir: Path) -> dict[str, Any]:
    """The OpenAPI document of one service, from `create_app(Settings(...)).openapi()`; nothing connects."""
    config = importlib.import_module(f"services.{name}.config")
    app = importlib.import_module(f"services.{name}.app")
    settings = config.Settings(env="development", data_dir=data_dir, log_json=True)
    document: dict[str, Any] = app.create_app(settings).openapi()
    return document


def render(document: dict[str, Any]) -> str:
    """The document as stable, reviewable JSON text."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_documents(out_dir: Path) -> list[Path]:
    """Write `<service>.json` for every service present into `out_dir`; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="tessera-openapi-") as scratch:
        for name in SERVICE_NAMES:
            if not service_exists(name):
                continue
            path = out_dir / f"{name}.json"
            path.write_text(render(openapi_document(name, Path(scratch))), encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: the directory to write into."""
    parser = argparse.ArgumentParser(prog="python -m tessera.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="where the JSON documents go (web/openapi)")
    args = parser.parse_args(argv)
    for path in write_documents(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
