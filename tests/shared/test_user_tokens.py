"""shared/auth: console user tokens (signature, expiry, issuer, audience, lifetime) and console-issued API keys
(asked at the console, answers cached, negative ones too; a console that is away is a 503, not a refusal)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr, ValidationError

from services.console.app import create_app as create_console
from services.profiles.config import Settings as ProfilesSettings
from shared.auth import ConsoleLink, KeyRing, Principal, keyring_for
from shared.errors import Unauthorized, Unavailable
from shared.usertokens import (
    AUDIENCE,
    ISSUER,
    UserTokenSigner,
    generate_signing_key,
    load_or_create_signing_key,
    public_key_pem,
)  # fmt: skip
from tessera.broker import free_port
from tests.conftest import BACKENDS, CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD
from tests.console.conftest import INTERNAL_SECRET, PUBLIC_KEY, SIGNING_KEY, console_settings, serving, with_admin

SIGNER = UserTokenSigner(SIGNING_KEY)
RING = KeyRing(None, [], public_key=PUBLIC_KEY)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "u1", "email": "a@example.com", "role": "marketer", "iat": now, "exp": now + 300, "iss": ISSUER,
            "aud": AUDIENCE} | changes  # fmt: skip


def signed(payload: dict[str, Any], key: str = SIGNING_KEY) -> str:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(key.encode(), password=None)
    return jwt.encode(payload, private, algorithm="EdDSA")  # type: ignore[arg-type]


async def refusal(token: str, ring: KeyRing = RING) -> str:
    with pytest.raises(Unauthorized) as refused:
        await ring.resolve(token)
    return refused.value.message


class TestUserTokens:
    async def test_a_token_from_the_console_names_the_user_and_role(self) -> None:
        principal = await RING.resolve(SIGNER.sign(user_id="u1", email="a@example.com", role="analyst"))
        assert principal == Principal(name="user:u1", role="analyst", user_id="u1")
        assert principal.actor == "user:u1"

    async def test_an_expired_token_is_refused(self) -> None:
        old = SIGNER.sign(user_id="u1", email="a@example.com", role="admin", now=time.time() - 400)
        assert "expired" in await refusal(old)

    async def test_another_keys_signature_is_refused(self) -> None:
        assert "InvalidSignatureError" in await refusal(signed(claims(), generate_signing_key()))

    @pytest.mark.parametrize("change", [{"aud": "someone-else"}, {"iss": "not-the-console"}],
                             ids=["audience", "issuer"])  # fmt: skip
    async def test_the_audience_and_issuer_must_be_ours(self, change: dict[str, str]) -> None:
        assert "not valid" in await refusal(signed(claims(**change)))

    async def test_a_token_living_longer_than_five_minutes_is_refused(self) -> None:
        now = int(time.time())
        assert "longer" in await refusal(signed(claims(iat=now, exp=now + 3600)))

    @pytest.mark.parametrize("missing", ["sub", "role", "exp", "iat"])
    async def test_required_claims(self, missing: str) -> None:
        payload = claims()
        del payload[missing]
        await refusal(signed(payload))

    async def test_an_unknown_role_is_refused(self) -> None:
        assert "role" in await refusal(signed(claims(role="owner")))

    async def test_unsigned_and_symmetric_tokens_are_refused(self) -> None:
        for token in (
            jwt.encode(claims(), None, algorithm="none"),
            jwt.encode(claims(), "a-shared-secret-of-32-bytes-or-more", algorithm="HS256"),
        ):
            await refusal(token)

    async def test_a_service_without_the_public_key_accepts_no_token(self) -> None:
        token = SIGNER.sign(user_id="u1", email="a@example.com", role="admin")
        assert "no console public key" in await refusal(token, KeyRing(None, []))

    def test_the_console_signs_for_at_most_five_minutes(self) -> None:
        with pytest.raises(ValueError):
            UserTokenSigner(SIGNING_KEY, ttl_seconds=301)

    def test_a_key_in_a_one_line_setting_is_read(self) -> None:
        ring = KeyRing(None, [], public_key=PUBLIC_KEY.strip().replace("\n", "\\n"))
        assert ring._verifier is not None

    def test_the_signing_key_is_generated_once_owner_only(self, tmp_path: Path) -> None:
        path = tmp_path / "key.pem"
        first = load_or_create_signing_key(path)
        assert load_or_create_signing_key(path) == first and path.stat().st_mode & 0o077 == 0
        assert public_key_pem(first).startswith("-----BEGIN PUBLIC KEY-----")

    def test_the_cache_is_at_most_30_seconds(self) -> None:
        with pytest.raises(ValidationError):
            ProfilesSettings(console_key_cache_seconds=31)
        settings = ProfilesSettings(console_url="http://console", console_internal_secret=SecretStr("s"))
        assert keyring_for(settings)._console == ConsoleLink("http://console", "s", 30.0)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_console_keys_are_cached_both_ways_and_an_absent_console_is_503(
    backend: str, fresh_database: Any, tmp_path: Path
) -> None:
    settings = console_settings(
        database_url=await fresh_database(backend, "keyring"), data_dir=tmp_path, **with_admin()
    )
    port = free_port()
    ring = KeyRing(None, [], console=ConsoleLink(f"http://127.0.0.1:{port}", INTERNAL_SECRET, 30.0))
    async with serving(create_console(settings), port) as url, httpx.AsyncClient(base_url=url) as browser:
        me = (await browser.post("/api/auth/login", json={"email": CONSOLE_ADMIN_EMAIL,
                                                            "password": CONSOLE_ADMIN_PASSWORD})).json()  # fmt: skip
        made = await browser.post("/api/api-keys", json={"name": "etl", "role": "analyst"},
                                  headers={"X-CSRF-Token": me["csrf_token"]})  # fmt: skip
        key = made.json()["key"]
        assert await ring.resolve(key) == Principal("etl", "analyst")
        assert await ring.resolve("tsk_never_issued") is None
        wrong = KeyRing(None, [], console=ConsoleLink(url, "not-the-secret"))
        with pytest.raises(Unavailable):
            await wrong.resolve(key)
        await wrong.aclose()
    # The console is gone: what was asked is still answered from the cache, anything else is a 503.
    assert await ring.resolve(key) == Principal("etl", "analyst") and await ring.resolve("tsk_never_issued") is None
    with pytest.raises(Unavailable) as away:
        await ring.resolve("tsk_asked_for_the_first_time")
    assert away.value.status_code == 503 and away.value.headers == {"Retry-After": "5"}
    await ring.aclose()


async def test_the_acting_user_is_bound_to_the_log_context() -> None:
    import structlog
    from fastapi import Depends, FastAPI

    from shared.auth import authorize

    app = FastAPI()
    app.state.keyring = RING

    @app.get("/who", dependencies=[Depends(authorize)])
    async def who() -> dict[str, Any]:
        return dict(structlog.contextvars.get_contextvars())

    token = SIGNER.sign(user_id="u42", email="someone@example.com", role="analyst")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        bound = (await client.get("/who", headers=auth_header(token))).json()
    assert bound["actor"] == "user:u42" and "someone@example.com" not in str(bound)
    structlog.contextvars.unbind_contextvars("actor")


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
