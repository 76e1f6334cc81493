"""The web app's committed OpenAPI documents and the client generated from them are current."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tessera.openapi import SERVICE_NAMES, service_exists, write_documents

WEB = Path(__file__).resolve().parents[2] / "web"
REGENERATE = "run `python -m tessera.openapi web/openapi` then `npm run generate-client` in web/, and commit both"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fresh_documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every present service's document, written now."""
    out = tmp_path_factory.mktemp("openapi")
    write_documents(out)
    return out


class TestOpenApiDocuments:
    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_committed_document_is_what_the_service_answers(self, name: str, fresh_documents: Path) -> None:
        if not service_exists(name):
            pytest.skip(f"services/{name} does not exist yet: web/openapi/{name}.json is written by hand")
        committed, fresh = WEB / "openapi" / f"{name}.json", fresh_documents / f"{name}.json"
        assert committed.exists(), f"web/openapi/{name}.json is missing: {REGENERATE}"
        assert json.loads(committed.read_text()) == json.loads(fresh.read_text()), (
            f"web/openapi/{name}.json is not what services/{name} answers: {REGENERATE}"
        )
        assert committed.read_text() == fresh.read_text(), (
            f"web/openapi/{name}.json is formatted differently: {REGENERATE}"
        )

    def test_every_service_has_a_document(self) -> None:
        assert sorted(p.stem for p in (WEB / "openapi").glob("*.json")) == sorted(SERVICE_NAMES)


class TestGeneratedClient:
    def test_committed_client_is_generated_from_the_committed_documents(self, tmp_path: Path) -> None:
        npm = shutil.which("npm")
        if shutil.which("node") is None or npm is None:
            pytest.skip("node and npm are not installed: the generated client cannot be checked here")
        if not (WEB / "node_modules" / "@hey-api" / "openapi-ts").exists():
            pytest.skip("web/node_modules is missing: `make web` installs it")
        out = tmp_path / "client"
        env = {**os.environ, "TESSERA_CLIENT_OUT": str(out)}
        result = subprocess.run(
            [npm, "run", "--silent", "generate-client"], cwd=WEB, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        committed, fresh = _tree(WEB / "src" / "client"), _tree(out)
        assert sorted(committed) == sorted(fresh), f"generated files differ: {REGENERATE}"
        stale = [name for name in fresh if committed[name] != fresh[name]]
        assert not stale, f"{', '.join(stale[:5])} differ from a fresh generation: {REGENERATE}"
