"""Hostile input against `tessera up` (issue 8): every service answers malformed, mistyped, huge, deeply nested,
injected, forged or unauthorised input with the right 4xx in the shared error shape and changes nothing, and no
email address, phone number or IP address that was sent reaches a log line.

Already covered for tracking's ingest API, not repeated here: gzip bombs, the 32 KB / 500 KB / 2,500-event limits,
bodies that are not JSON, unknown write keys (tests/tracking/test_api.py::TestIngest: test_gzip_bomb_is_413,
test_limits_are_413, test_not_json_is_400, test_unknown_or_missing_key_is_401).

Body size limits: tracking's ingest (above) and the uploads (profiles' CSV imports 100 MB, campaigns' social
imports 20 MB) are the only ones. The JSON APIs of all four services read a body of any size whole; a huge one is
refused by field validation (string lengths, list sizes, the 32 KB limit on patched traits)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from shared.events import EVENTS
from shared.tokens import sign_token
from tests.builders import auth
from tests.campaigns.smtp_sink import Sink, html_of, smtp_sink
from tests.conftest import ADMIN_KEY, ANALYST_KEY, API_KEYS, MARKETER_KEY, WRITE_KEY
from tests.e2e.stack import SERVICES, tessera_up
from tests.helpers import TopicReader, wait_for

ADMIN, MARKETER, ANALYST = auth(ADMIN_KEY), auth(MARKETER_KEY), auth(ANALYST_KEY)
EMAIL, PHONE, IP = "hostile.probe@example.com", "+14155550199", "203.0.113.77"
SQL = ("' OR 1=1 --", '"; DROP TABLE profiles; --')
LINK_SECRET = "hostile-input-link-secret"
# A trait that looks like template code: it must be printed as it is, never evaluated.
TEMPLATE_TRAIT = "{{ 7*7 }}{{ config }}{% for x in range(3) %}x{% endfor %}"
BODY = '<p>Hi {{ first_name }}</p><p>{{ config }}{{ request }}</p><a href="https://shop.example/sale">Shop</a>'
HUGE = 8 * 1024 * 1024
DEEP = "[" * 10_000 + "]" * 10_000  # deeper than any JSON parser here reads
MIDDLE = "[" * 300 + "]" * 300  # parsed by Python and orjson, deeper than orjson writes (254 levels)


@dataclass(frozen=True)
class Probe:
    """The data the tests aim at: a profile with personal data and injection strings, its segment and campaign."""

    marker: str
    profile_id: str
    bystander_id: str
    segment_id: str
    campaign_id: str
    links: dict[str, str]  # kind (o, c, u) -> the signed link from the mail
    html: str
    subject: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The stack with marketer and analyst keys, a known link secret and an SMTP sink."""
    keys = json.dumps([spec.model_dump() for spec in API_KEYS])
    with smtp_sink() as (sink, port):
        # DEBUG: SQL statements and their parameters (aiosqlite) reach the logs, so the final scan sees every value
        # the services handled, not only the few lines INFO writes.
        env = {"TESSERA_API_KEYS": keys, "TESSERA_LINK_SECRET": LINK_SECRET, "TESSERA_LOG_LEVEL": "DEBUG",
               "TESSERA_CAMPAIGNS_SMTP_PORT": str(port)}  # fmt: skip
        with tessera_up(tmp_path_factory.mktemp("hostile"), **env) as running:
            yield running | {"sink": sink}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as http:
        yield http


@pytest.fixture(scope="module")
async def probe(stack: dict[str, Any]) -> Probe:
    """A probe profile (and a bystander) sent through tracking, a segment of the probe, a campaign mailed to it."""
    urls, m = stack["urls"], uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as http:
        traits = {"email": EMAIL, "phone": PHONE, "first_name": TEMPLATE_TRAIT, "tier": m, "city": SQL[0],
                  "note": SQL[1], SQL[0]: SQL[1], "consent": {"email": True}}  # fmt: skip
        people = [{"type": "identify", "userId": f"u-{m}", "traits": traits, "context": {"ip": IP}},
                  {"type": "identify", "userId": f"b-{m}", "traits": {"tier": f"b-{m}", "city": "Lyon"}}]  # fmt: skip
        sent = await http.post(f"{urls['tracking']}/v1/batch", json={"batch": people}, auth=(WRITE_KEY, ""),
                               headers={"X-Forwarded-For": IP})  # fmt: skip
        assert sent.status_code == 200, sent.text
        profile_id, bystander_id = [await _profile_id(http, urls["profiles"], f"{p}-{m}") for p in ("u", "b")]
        segment_id = await _segment(http, urls["segmentation"], m)
        campaign_id, message = await _mailed(http, urls["campaigns"], stack["sink"], segment_id)
    html = html_of(message)
    links = {kind: _link(html, kind) for kind in ("o", "c", "u")}
    return Probe(m, profile_id, bystander_id, segment_id, campaign_id, links, html, str(message["Subject"]))


async def _profile_id(http: httpx.AsyncClient, url: str, user_id: str) -> str:
    async def found() -> str | None:
        response = await http.get(f"{url}/v1/profiles/lookup", params={"user_id": user_id}, headers=ADMIN)
        return str(response.json()["id"]) if response.status_code == 200 else None

    return await wait_for(found, timeout=30)


async def _segment(http: httpx.AsyncClient, url: str, m: str) -> str:
    definition = {"trait": "tier", "op": "eq", "value": m}

    async def replicated() -> bool:
        body = {"definition": {"trait": "city", "op": "exists"}}
        return (await http.post(f"{url}/v1/segments/preview", json=body, headers=ADMIN)).json().get("count") == 2

    await wait_for(replicated, timeout=30)
    created = await http.post(
        f"{url}/v1/segments", json={"name": f"probe {m}", "definition": definition}, headers=ADMIN
    )
    segment_id = str(created.json()["id"])

    async def ready() -> bool:
        body = (await http.get(f"{url}/v1/segments/{segment_id}", headers=ADMIN)).json()
        return body["status"] == "ready" and body["size"] == 1

    await wait_for(ready, timeout=30)
    return segment_id


async def _mailed(http: httpx.AsyncClient, url: str, sink: Sink, segment_id: str) -> tuple[str, Any]:
    body = {"name": "probe", "target_segments": [segment_id],
            "variants": [{"name": "A", "subject": "Hello {{ first_name }}", "body": BODY}]}  # fmt: skip
    created = await http.post(f"{url}/v1/campaigns", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    campaign_id = str(created.json()["id"])
    assert (await http.post(f"{url}/v1/campaigns/{campaign_id}/launch", headers=ADMIN)).status_code == 200

    async def delivered() -> list[Any]:
        return sink.to(EMAIL)

    [message] = await wait_for(delivered, timeout=30)
    return campaign_id, message


def _link(html: str, kind: str) -> str:
    found = re.search(rf'(http://127\.0\.0\.1:\d+/v1/{kind}/[^"\s>]+)', html)
    assert found, kind
    return found.group(1)


def refused(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """The response has one of `statuses` and the shared error shape; returns the error."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"] and error["code"]
    assert all(set(field) == {"field", "reason"} for field in error["fields"]), error
    return dict(error)


async def snapshot(http: httpx.AsyncClient, urls: dict[str, str], service: str, probe: Probe) -> Any:
    """What a refused request must leave as it was, per service."""
    url = urls[service]
    if service == "tracking":
        return sorted(
            (s["id"], s["name"], s["enabled"]) for s in (await http.get(f"{url}/v1/sources", headers=ADMIN)).json()
        )
    if service == "profiles":
        profile = (await http.get(f"{url}/v1/profiles/{probe.profile_id}", headers=ADMIN)).json()
        page = (await http.get(f"{url}/v1/profiles", params={"limit": 500}, headers=ADMIN)).json()
        return profile["traits"], profile["consent"], sorted(p["id"] for p in page["items"])
    if service == "segmentation":
        rows = (await http.get(f"{url}/v1/segments", headers=ADMIN)).json()
        return sorted(
            (s["id"], s["name"], s["description"], orjson.dumps(s["definition"]), str(s["goal"])) for s in rows
        )
    rows = (await http.get(f"{url}/v1/campaigns", headers=ADMIN)).json()
    return sorted((c["id"], c["name"], orjson.dumps(c["variants"]), c["holdout_percent"]) for c in rows)


def target(service: str, probe: Probe) -> tuple[str, str]:
    """The write endpoint each service's body scenarios aim at."""
    return {"tracking": ("POST", "/v1/sources"), "profiles": ("PATCH", f"/v1/profiles/{probe.profile_id}/traits"),
            "segmentation": ("POST", "/v1/segments"), "campaigns": ("POST", "/v1/campaigns")}[service]  # fmt: skip


def valid_body(service: str, probe: Probe) -> dict[str, Any]:
    """A body the target endpoint accepts, for scenarios that spoil one part of it."""
    return {
        "tracking": {"name": "hostile"},
        "profiles": {"traits": {"city": "Changed"}},
        "segmentation": {"name": "hostile", "definition": {"trait": "tier", "op": "eq", "value": probe.marker}},
        "campaigns": {"name": "hostile", "target_segments": [probe.segment_id],
                      "variants": [{"name": "A", "subject": "Hi", "body": "<p>Hi</p>"}]},
    }[service]  # fmt: skip


async def send_refused(
    http: httpx.AsyncClient, stack: dict[str, Any], service: str, probe: Probe, *statuses: int, **request: Any
) -> dict[str, Any]:
    """Send the request to the service's target endpoint; it is refused and nothing changed."""
    method, path = request.pop("method", None), request.pop("path", None)
    default_method, default_path = target(service, probe)
    request.setdefault("headers", writer(service))
    before = await snapshot(http, stack["urls"], service, probe)
    response = await http.request(method or default_method, stack["urls"][service] + (path or default_path), **request)
    error = refused(response, *statuses)
    assert await snapshot(http, stack["urls"], service, probe) == before
    return error


def writer(service: str) -> dict[str, str]:
    """A key allowed to write to the service's target endpoint (sources need an admin)."""
    return ADMIN if service == "tracking" else MARKETER


def raw(text: str | bytes, service: str) -> dict[str, Any]:
    """Request arguments for a raw JSON body, with a key allowed to write."""
    content = text.encode() if isinstance(text, str) else text
    return {"content": content, "headers": {"Content-Type": "application/json", **writer(service)}}


async def published(broker: str, topic: str) -> list[Any]:
    """Everything on a topic now (read to the end offsets of all partitions)."""
    async with TopicReader(broker, topic) as reader:
        partitions = list(reader.consumer.assignment())
        ends = await reader.consumer.end_offsets(partitions)

        async def caught_up() -> bool:
            await reader.poll()
            return all([await reader.consumer.position(p) >= ends[p] for p in partitions])

        await wait_for(caught_up, timeout=20)
        return reader.values


class TestMalformedBodies:
    @pytest.mark.parametrize("service", SERVICES)
    @pytest.mark.parametrize("text", [b'{"name": "x",', b"{'name': 'x'}", b'{"name": NaN}', b"\xff\xfe{}", b""],
                             ids=["truncated", "single-quotes", "nan", "not-utf-8", "empty"])  # fmt: skip
    async def test_broken_json_is_4xx(self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe,
                                      service: str, text: bytes) -> None:  # fmt: skip
        await send_refused(client, stack, service, probe, 400, 422, **raw(text, service))

    @pytest.mark.parametrize("service", SERVICES)
    @pytest.mark.parametrize("text", ["[]", "[{}]", '"an object"', "42", "null", "true"])
    async def test_json_of_the_wrong_type_is_422(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                 probe: Probe, service: str, text: str) -> None:  # fmt: skip
        await send_refused(client, stack, service, probe, 422, **raw(text, service))

    @pytest.mark.parametrize("service", SERVICES)
    async def test_a_list_of_valid_bodies_is_422(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                 probe: Probe, service: str) -> None:  # fmt: skip
        await send_refused(client, stack, service, probe, 422, json=[valid_body(service, probe)])

    @pytest.mark.parametrize("service", SERVICES)
    async def test_strings_for_numbers_are_422_naming_the_field(self, client: httpx.AsyncClient,
                                                                stack: dict[str, Any], probe: Probe,
                                                                service: str) -> None:  # fmt: skip
        cases = {
            "tracking": (None, None, {"name": "x", "anonymize_ip": "sometimes"}, "body.anonymize_ip"),
            "profiles": ("PUT", f"/v1/profiles/{probe.profile_id}/consent", {"email": "sometimes"}, "body.email"),
            "segmentation": (None, None, {**valid_body(service, probe),
                                          "goal": {"metric": "conversion_rate", "min": "three"}}, "body.goal.min"),
            "campaigns": (None, None, {**valid_body(service, probe), "holdout_percent": "ten"},
                          "body.holdout_percent"),
        }  # fmt: skip
        method, path, body, field = cases[service]
        error = await send_refused(client, stack, service, probe, 422, method=method, path=path, json=body)
        assert field in [f["field"] for f in error["fields"]]

    @pytest.mark.parametrize("service", SERVICES)
    async def test_missing_required_fields_are_422_naming_them(self, client: httpx.AsyncClient,
                                                               stack: dict[str, Any], probe: Probe,
                                                               service: str) -> None:  # fmt: skip
        error = await send_refused(client, stack, service, probe, 422, json={})
        required = {"tracking": {"body.name"}, "profiles": {"body.traits"},
                    "segmentation": {"body.name", "body.definition"},
                    "campaigns": {"body.name", "body.target_segments", "body.variants"}}[service]  # fmt: skip
        assert required <= {f["field"] for f in error["fields"]}

    @pytest.mark.parametrize("service", SERVICES)
    async def test_unknown_fields_are_422_naming_them(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                      probe: Probe, service: str) -> None:  # fmt: skip
        body = {**valid_body(service, probe), "is_admin": True}
        error = await send_refused(client, stack, service, probe, 422, json=body)
        assert "body.is_admin" in [f["field"] for f in error["fields"]]


class TestHugeAndDeepBodies:
    @pytest.mark.parametrize("service", SERVICES)
    async def test_a_huge_body_is_refused(self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe,
                                          service: str) -> None:  # fmt: skip
        blob = "x" * HUGE
        body = {
            "tracking": {"name": blob},
            "profiles": {"traits": {"blob": blob}},
            "segmentation": {**valid_body(service, probe), "description": blob},
            "campaigns": {**valid_body(service, probe), "variants": [{"name": "A", "body": blob}]},
        }[service]
        await send_refused(client, stack, service, probe, 413, 422, json=body)

    @pytest.mark.parametrize("service", ["profiles", "segmentation", "campaigns"])
    async def test_a_huge_list_is_refused(self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe,
                                          service: str) -> None:  # fmt: skip
        many = [f"id-{i}" for i in range(300_000)]
        path, body = {
            "profiles": ("/v1/profiles/batch", {"ids": many}),
            "segmentation": ("/v1/segments", {"name": "s", "definition": {"trait": "city", "op": "in", "value": many}}),
            "campaigns": ("/v1/campaigns", {**valid_body(service, probe), "target_segments": many}),
        }[service]  # fmt: skip
        await send_refused(client, stack, service, probe, 413, 422, method="POST", path=path, json=body)

    @pytest.mark.parametrize("service", SERVICES)
    @pytest.mark.parametrize("nested", [DEEP, MIDDLE], ids=["10000-levels", "300-levels"])
    async def test_a_deeply_nested_body_is_4xx(self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe,
                                               service: str, nested: str) -> None:  # fmt: skip
        text = {
            "tracking": '{"name": "x", "anonymize_ip": %s}',
            "profiles": '{"traits": {"deep": %s}}',
            "segmentation": '{"name": "x", "definition": {"trait": "city", "op": "eq", "value": %s}}',
            "campaigns": '{"name": "x", "target_segments": ["s"], "variants": %s}',
        }[service] % nested  # fmt: skip
        await send_refused(client, stack, service, probe, 400, 422, **raw(text, service))

    async def test_a_deeply_nested_segment_definition_is_422_naming_the_node(
        self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe
    ) -> None:
        definition: dict[str, Any] = {"trait": "city", "op": "exists"}
        for _ in range(300):
            definition = {"not": definition}
        error = await send_refused(client, stack, "segmentation", probe, 422,
                                   json={"name": "deep", "definition": definition})  # fmt: skip
        assert error["fields"][0]["field"].startswith("definition.not.not.not")

    @pytest.mark.parametrize("nested", [DEEP, MIDDLE], ids=["10000-levels", "300-levels"])
    async def test_a_deeply_nested_event_is_400_and_not_published(
        self, client: httpx.AsyncClient, stack: dict[str, Any], nested: str
    ) -> None:
        mark = uuid.uuid4().hex
        text = f'{{"userId": "deep-{mark}", "event": "Deep", "properties": {{"deep": {nested}}}}}'
        response = await client.post(f"{stack['urls']['tracking']}/v1/track", content=text, auth=(WRITE_KEY, ""))
        assert refused(response, 400)["fields"][0]["field"] == "body"
        assert not [v for v in await published(stack["broker"], EVENTS) if v.get("userId") == f"deep-{mark}"]

    @pytest.mark.parametrize("service", ["profiles", "segmentation", "campaigns"])
    async def test_a_gzip_bomb_is_not_inflated(self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe,
                                               service: str) -> None:  # fmt: skip
        bomb = gzip.compress(b'{"name": "' + b"x" * 50_000_000 + b'"}')
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", **writer(service)}
        await send_refused(client, stack, service, probe, 400, 415, 422, content=bomb, headers=headers)


class TestTrackingIngestTypes:
    """Ingest bodies of the wrong JSON type (bodies that are not JSON: tests/tracking/test_api.py)."""

    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [("/v1/track", [{"userId": "u", "event": "E"}], "body"), ("/v1/batch", {"batch": {"0": {}}}, "batch"),
         ("/v1/track", {"userId": "u", "event": "E", "properties": "revenue=5"}, "properties"),
         ("/v1/track", {"userId": "u", "event": ["E"]}, "event"), ("/v1/identify", {"userId": 12.5e300}, "userId"),
         ("/v1/track", {"userId": "u", "event": "E", "timestamp": "yesterday"}, "timestamp")],
    )  # fmt: skip
    async def test_wrong_types_are_400_naming_the_field(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                        path: str, body: Any, field: str) -> None:  # fmt: skip
        response = await client.post(stack["urls"]["tracking"] + path, json=body, auth=(WRITE_KEY, ""))
        assert refused(response, 400)["fields"][0]["field"] == field


class TestSqlInjection:
    async def test_sql_strings_sent_as_traits_are_stored_verbatim(self, client: httpx.AsyncClient,
                                                                  stack: dict[str, Any], probe: Probe) -> None:  # fmt: skip
        url = f"{stack['urls']['profiles']}/v1/profiles/{probe.profile_id}"
        traits = (await client.get(url, headers=ANALYST)).json()["traits"]
        assert (traits["city"], traits["note"], traits[SQL[0]]) == SQL + (SQL[1],)

    async def test_sql_strings_patched_as_traits_are_data(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                          probe: Probe) -> None:  # fmt: skip
        url = f"{stack['urls']['profiles']}/v1/profiles/{probe.profile_id}"
        patched = await client.patch(f"{url}/traits", json={"traits": {SQL[1]: SQL[0]}}, headers=MARKETER)
        assert patched.status_code == 200 and patched.json()["traits"][SQL[1]] == SQL[0]
        listed = await client.get(stack["urls"]["profiles"] + "/v1/profiles", params={"limit": 500}, headers=ANALYST)
        assert {p["id"] for p in listed.json()["items"]} == {probe.profile_id, probe.bystander_id}

    @pytest.mark.parametrize(
        "definition",
        [{"trait": "city", "op": "eq", "value": SQL[0]}, {"trait": "note", "op": "eq", "value": SQL[1]},
         {"trait": "note", "op": "contains", "value": "; DROP TABLE"}, {"trait": "city", "op": "in", "value": list(SQL)},
         {"trait": "city", "op": "starts_with", "value": "' OR"}, {"trait": SQL[0], "op": "eq", "value": SQL[1]},
         {"trait": SQL[0], "op": "exists"}, {"not": {"trait": "city", "op": "neq", "value": SQL[0]}}],
    )  # fmt: skip
    async def test_sql_strings_in_definitions_match_only_that_data(self, client: httpx.AsyncClient,
                                                                   stack: dict[str, Any], probe: Probe,
                                                                   definition: dict[str, Any]) -> None:  # fmt: skip
        url = stack["urls"]["segmentation"] + "/v1/segments/preview"
        response = await client.post(url, json={"definition": definition}, headers=ANALYST)
        assert response.status_code == 200 and response.json() == {"count": 1, "sample": [probe.profile_id]}

    @pytest.mark.parametrize(
        "definition",
        [{"trait": "city", "op": "eq", "value": "x' OR '1'='1"}, {"trait": "city", "op": "lt", "value": SQL[1]},
         {"event": SQL[0], "at_least": 1, "within_days": 30}, {"computed": SQL[0], "op": "gt", "value": 0},
         {"score": "rfm_segment", "op": "eq", "value": SQL[0]}, {"trait": "x') OR 1=1 --", "op": "exists"}],
    )  # fmt: skip
    async def test_sql_strings_in_definitions_that_match_nothing(self, client: httpx.AsyncClient,
                                                                 stack: dict[str, Any],
                                                                 definition: dict[str, Any]) -> None:  # fmt: skip
        url = stack["urls"]["segmentation"] + "/v1/segments/preview"
        response = await client.post(url, json={"definition": definition}, headers=ANALYST)
        assert response.status_code == 200 and response.json()["count"] == 0

    @pytest.mark.parametrize(
        "definition",
        [
            {"trait": SQL[1], "op": "exists"},
            {"computed": SQL[1], "op": "exists"},
            {"event": SQL[1], "at_least": 1, "within_days": 7},
            {"segment": SQL[0]},
        ],
    )
    async def test_keys_that_cannot_be_data_are_refused(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                        probe: Probe, definition: dict[str, Any]) -> None:  # fmt: skip
        error = await send_refused(client, stack, "segmentation", probe, 422,
                                   json={"name": SQL[0], "definition": definition})  # fmt: skip
        assert error["fields"][0]["field"].startswith("definition")

    async def test_a_segment_named_and_defined_with_sql_strings_is_data(self, client: httpx.AsyncClient,
                                                                        stack: dict[str, Any], probe: Probe) -> None:  # fmt: skip
        url = stack["urls"]["segmentation"] + "/v1/segments"
        body = {"name": SQL[1], "description": SQL[0], "definition": {"trait": "city", "op": "eq", "value": SQL[0]}}
        segment_id = (await client.post(url, json=body, headers=MARKETER)).json()["id"]

        async def built() -> dict[str, Any] | None:
            read = (await client.get(f"{url}/{segment_id}", headers=ANALYST)).json()
            return read if read["status"] == "ready" else None

        read = await wait_for(built, timeout=20)
        assert (read["name"], read["description"], read["size"]) == (SQL[1], SQL[0], 1)
        members = (await client.get(f"{url}/{segment_id}/members", headers=ANALYST)).json()["items"]
        assert [m["profile_id"] for m in members] == [probe.profile_id]
        assert (await client.delete(f"{url}/{segment_id}", headers=MARKETER)).status_code == 204

    @pytest.mark.parametrize("value", SQL)
    async def test_sql_strings_in_query_parameters(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                   probe: Probe, value: str) -> None:  # fmt: skip
        urls = stack["urls"]
        profiles = f"{urls['profiles']}/v1/profiles"
        matching = await client.get(profiles, params={"traits.city": SQL[0]}, headers=ANALYST)
        assert [p["id"] for p in matching.json()["items"]] == [probe.profile_id]
        by_key = await client.get(profiles, params={f"traits.{SQL[0]}": SQL[1]}, headers=ANALYST)
        assert [p["id"] for p in by_key.json()["items"]] == [probe.profile_id]
        for name in ("traits.city", f"traits.{value}", "traits.note"):
            assert (await client.get(profiles, params={name: value + "x"}, headers=ANALYST)).json()["items"] == []
        for lookup in ("email", "user_id", "anonymous_id"):
            refused(await client.get(f"{profiles}/lookup", params={lookup: value}, headers=ANALYST), 404)
        members = f"{urls['segmentation']}/v1/segments/{probe.segment_id}/members"
        assert (await client.get(members, params={"cursor": value}, headers=ANALYST)).status_code == 200
        exposures = f"{urls['campaigns']}/v1/campaigns/{probe.campaign_id}/exposures"
        refused(await client.get(exposures, params={"outcome": value}, headers=ANALYST), 422)
        refused(await client.get(exposures, params={"cursor": value}, headers=ANALYST), 422)
        refused(await client.get(f"{urls['tracking']}/v1/projects/{quote(value, safe='')}/settings"), 401)
        refused(await client.post(f"{urls['tracking']}/v1/track", params={"writeKey": value}, json={}), 401)

    async def test_the_tables_are_intact(self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe) -> None:
        urls = stack["urls"]
        reads = [f"{urls['profiles']}/v1/profiles/{probe.profile_id}", f"{urls['tracking']}/v1/sources",
                 f"{urls['segmentation']}/v1/segments/{probe.segment_id}",
                 f"{urls['campaigns']}/v1/campaigns/{probe.campaign_id}"]  # fmt: skip
        for url in reads:
            assert (await client.get(url, headers=ADMIN)).status_code == 200, url
        listed = await client.get(f"{urls['profiles']}/v1/profiles", params={"limit": 500}, headers=ADMIN)
        assert {probe.profile_id, probe.bystander_id} <= {p["id"] for p in listed.json()["items"]}

    @pytest.mark.parametrize("service", SERVICES)
    @pytest.mark.parametrize("value", SQL)
    async def test_sql_strings_as_path_ids_are_404(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                   probe: Probe, service: str, value: str) -> None:  # fmt: skip
        x = quote(value, safe="")
        requests = {
            "tracking": [("DELETE", f"/v1/sources/{x}"), ("POST", f"/v1/sources/{x}/rotate-key")],
            "profiles": [("GET", f"/v1/profiles/{x}"), ("GET", f"/v1/profiles/{x}/timeline"),
                         ("DELETE", f"/v1/profiles/{x}"), ("PUT", f"/v1/profiles/{x}/consent")],
            "segmentation": [("GET", f"/v1/segments/{x}"), ("GET", f"/v1/segments/{x}/members"),
                             ("DELETE", f"/v1/segments/{x}"), ("PATCH", f"/v1/segments/{x}")],
            "campaigns": [("GET", f"/v1/campaigns/{x}"), ("GET", f"/v1/campaigns/{x}/results"),
                          ("POST", f"/v1/campaigns/{x}/launch"), ("PATCH", f"/v1/campaigns/{x}")],
        }[service]  # fmt: skip
        for method, path in requests:
            body = {"email": True} if path.endswith("consent") else {"name": "n"} if method == "PATCH" else None
            error = await send_refused(client, stack, service, probe, 404, method=method, path=path, json=body,
                                       headers=ADMIN)  # fmt: skip
            assert error["code"] == "not_found"


class TestTemplateInjection:
    @pytest.mark.parametrize(
        "template",
        ["{{ ''.__class__.__mro__ }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "{% for %}",
         "{{ lipsum.__globals__['os'].popen('id').read() }}", "{{ cycler.__init__.__globals__.os }}",
         "{{ self.__init__.__globals__ }}", "{{ '{0.__class__}'.format('') }}", "{% include '/etc/passwd' %}",
         "{% import 'os' as os %}", "{% for i in range(10**9) %}x{% endfor %}", "{{ 'x' * 10**9 }}",
         "{{ 9 ** 99999999 }}", "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}"],
    )  # fmt: skip
    @pytest.mark.parametrize("part", ["subject", "body"])
    async def test_unsafe_or_broken_templates_are_refused_at_save(self, client: httpx.AsyncClient,
                                                                   stack: dict[str, Any], probe: Probe,
                                                                   template: str, part: str) -> None:  # fmt: skip
        variant = {"name": "A", "subject": "Hi", "body": "<p>Hi</p>", part: template}
        body = {**valid_body("campaigns", probe), "variants": [variant]}
        error = await send_refused(client, stack, "campaigns", probe, 422, json=body)
        assert error["fields"][0]["field"] == f"variants[0].{part}"

    async def test_a_template_cannot_be_smuggled_in_by_an_update(self, client: httpx.AsyncClient,
                                                                 stack: dict[str, Any], probe: Probe) -> None:  # fmt: skip
        url = f"{stack['urls']['campaigns']}/v1/campaigns"
        draft = (await client.post(url, json=valid_body("campaigns", probe), headers=MARKETER)).json()
        variants = [{"name": "A", "body": "{{ ''.__class__.__mro__ }}"}]
        error = await send_refused(client, stack, "campaigns", probe, 422, method="PATCH",
                                   path=f"/v1/campaigns/{draft['id']}", json={"variants": variants})  # fmt: skip
        assert error["fields"][0]["field"] == "variants[0].body"

    async def test_traits_are_rendered_literally_never_evaluated(self, probe: Probe) -> None:
        assert probe.subject == f"Hello {TEMPLATE_TRAIT}"
        assert f"<p>Hi {TEMPLATE_TRAIT}</p>" in probe.html and "49" not in probe.subject

    async def test_names_outside_the_traits_render_empty(self, probe: Probe) -> None:
        assert "<p></p>" in probe.html and LINK_SECRET not in probe.html and "Settings" not in probe.html


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed_raw(payload: bytes) -> str:
    body = _b64(payload)
    return f"{body}.{_b64(hmac.new(LINK_SECRET.encode(), body.encode(), hashlib.sha256).digest()[:18])}"


def payload_of(token: str) -> dict[str, Any]:
    body = token.partition(".")[0]
    return dict(orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def tampered(token: str, kind: str, other_kind: str) -> dict[str, str]:
    """Forged and tampered versions of a real token of `kind`; `other_kind` is a real token of another kind."""
    body, _, signature = token.partition(".")
    payload = payload_of(token)
    swapped = _b64(orjson.dumps({**payload, "p": "someone-else"}, option=orjson.OPT_SORT_KEYS))
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    forged = {"k": kind, "p": payload["p"], "c": payload.get("c"), "l": "https://evil.example/"}
    return {
        "flipped-signature": f"{body}.{flipped}",
        "swapped-payload": f"{swapped}.{signature}",
        "no-signature": body,
        "empty-signature": f"{body}.",
        "garbage": "not-a-token",
        "overlong": f"{body}.{signature}{'A' * 5000}",
        "default-secret": sign_token(forged, "tessera-dev-link-secret"),
        "other-kind": other_kind,
        "list-payload": _signed_raw(b"[1, 2]"),
        "no-profile": sign_token({"k": kind, "c": payload.get("c"), "l": "https://shop.example/"}, LINK_SECRET),
        "sql": quote(SQL[0], safe=""),
    }


TAMPERS = ["flipped-signature", "swapped-payload", "no-signature", "empty-signature", "garbage", "overlong",
           "default-secret", "other-kind", "list-payload", "no-profile", "sql"]  # fmt: skip
KINDS = {"o": "c", "c": "u", "u": "o"}  # each link kind, and the kind whose real token is tried in its place


def tokens(probe: Probe) -> dict[str, str]:
    """kind -> the real token of the mail's link."""
    return {kind: link.rsplit("/", 1)[1].removesuffix(".gif") for kind, link in probe.links.items()}


async def follow(client: httpx.AsyncClient, stack: dict[str, Any], kind: str, token: str) -> httpx.Response:
    """Open, click or (one-click POST) unsubscribe with a token."""
    url = f"{stack['urls']['tracking']}/v1/{kind}/{token}" + (".gif" if kind == "o" else "")
    return await client.request("POST" if kind == "u" else "GET", url, follow_redirects=False)


class TestTamperedLinks:
    @pytest.mark.parametrize("kind", ["o", "c", "u"])
    @pytest.mark.parametrize("tamper", TAMPERS)
    async def test_a_tampered_link_is_400(self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe,
                                          kind: str, tamper: str) -> None:  # fmt: skip
        real = tokens(probe)
        refused(await follow(client, stack, kind, tampered(real[kind], kind, real[KINDS[kind]])[tamper]), 400)

    async def test_a_signed_click_to_a_non_http_link_is_400(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                            probe: Probe) -> None:  # fmt: skip
        token = sign_token({**payload_of(tokens(probe)["c"]), "l": "javascript:alert(document.cookie)"}, LINK_SECRET)
        refused(await follow(client, stack, "c", token), 400)

    async def test_tampered_links_record_nothing(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                 probe: Probe) -> None:  # fmt: skip
        real = tokens(probe)
        for kind, token in real.items():
            for tamper, forged in tampered(token, kind, real[KINDS[kind]]).items():
                assert (await follow(client, stack, kind, forged)).status_code == 400, (kind, tamper)
        # The real open link, as a control: it is recorded, and nothing else is.
        assert (await client.get(probe.links["o"], headers={"User-Agent": "Mozilla/5.0"})).status_code == 200
        email_events = [v for v in await published(stack["broker"], EVENTS) if v.get("sourceId") == "email"]
        assert [(e["event"], e["context"]["profileId"]) for e in email_events] == [("Email Opened", probe.profile_id)]
        await self._campaign_counted_only_the_control(client, stack, probe)
        profile = (
            await client.get(f"{stack['urls']['profiles']}/v1/profiles/{probe.profile_id}", headers=ADMIN)
        ).json()
        assert profile["consent"]["email"]["granted"] is True

    @staticmethod
    async def _campaign_counted_only_the_control(client: httpx.AsyncClient, stack: dict[str, Any],
                                                 probe: Probe) -> None:  # fmt: skip
        url = f"{stack['urls']['campaigns']}/v1/campaigns/{probe.campaign_id}/results"

        async def counted() -> list[int] | None:
            response = await client.get(url, headers=ADMIN)
            assert response.status_code == 200, response.text
            variants = response.json()["variants"]
            totals = [sum(v[k] for v in variants) for k in ("human_opens", "clicks", "unsubscribes")]
            return totals if totals[0] else None

        assert await wait_for(counted, timeout=20) == [1, 0, 0]


WRITES = {
    "tracking": [("POST", "/v1/sources", {"name": "mallory"}), ("DELETE", "/v1/sources/{source}", None)],
    "profiles": [("PATCH", "/v1/profiles/{profile}/traits", {"traits": {"city": "Hacked"}}),
                 ("PUT", "/v1/profiles/{profile}/consent", {"email": False}), ("DELETE", "/v1/profiles/{profile}", None)],
    "segmentation": [("POST", "/v1/segments", {"name": "m", "definition": {"trait": "city", "op": "exists"}}),
                     ("PATCH", "/v1/segments/{segment}", {"name": "Hacked"}), ("DELETE", "/v1/segments/{segment}", None)],
    "campaigns": [("POST", "/v1/campaigns", "valid"), ("PATCH", "/v1/campaigns/{campaign}", {"name": "Hacked"}),
                  ("POST", "/v1/campaigns/{campaign}/pause", None)],
}  # fmt: skip
READS = {"tracking": "/v1/sources", "profiles": "/v1/profiles/{profile}", "segmentation": "/v1/segments",
         "campaigns": "/v1/campaigns"}  # fmt: skip
BAD_KEYS = {
    "unknown-bearer": {"Authorization": "Bearer tsk_unknown"},
    "unknown-x-api-key": {"X-API-Key": "tsk_unknown"},
    "admin-key-with-suffix": {"Authorization": f"Bearer {ADMIN_KEY}x"},
    "admin-key-as-basic": {"Authorization": "Basic " + base64.b64encode(f"{ADMIN_KEY}:".encode()).decode()},
    "write-key": {"Authorization": f"Bearer {WRITE_KEY}"},
    "sql": {"Authorization": f"Bearer {SQL[0]}"},
    "empty-bearer": {"Authorization": "Bearer"},
    "long": {"X-API-Key": "k" * 6000},
}


async def _ids(client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe) -> dict[str, str]:
    sources = (await client.get(stack["urls"]["tracking"] + "/v1/sources", headers=ADMIN)).json()
    return {"source": sources[0]["id"], "profile": probe.profile_id, "segment": probe.segment_id,
            "campaign": probe.campaign_id}  # fmt: skip


def _writes(service: str, probe: Probe, ids: dict[str, str]) -> list[tuple[str, str, Any]]:
    return [(method, path.format(**ids), valid_body(service, probe) if body == "valid" else body)
            for method, path, body in WRITES[service]]  # fmt: skip


class TestApiKeys:
    @pytest.mark.parametrize("service", SERVICES)
    @pytest.mark.parametrize("key", [None, *BAD_KEYS])
    async def test_a_missing_or_wrong_key_is_401(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                 probe: Probe, service: str, key: str | None) -> None:  # fmt: skip
        headers = BAD_KEYS[key] if key else {}
        ids = await _ids(client, stack, probe)
        refused(await client.get(stack["urls"][service] + READS[service].format(**ids), headers=headers), 401)
        for method, path, body in _writes(service, probe, ids):
            error = await send_refused(client, stack, service, probe, 401, method=method, path=path, json=body,
                                       headers=headers)  # fmt: skip
            assert error["code"] == "unauthorized"

    @pytest.mark.parametrize("service", SERVICES)
    async def test_an_analyst_key_cannot_write(self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe,
                                               service: str) -> None:  # fmt: skip
        for method, path, body in _writes(service, probe, await _ids(client, stack, probe)):
            error = await send_refused(client, stack, service, probe, 403, method=method, path=path, json=body,
                                       headers=ANALYST)  # fmt: skip
            assert error["code"] == "forbidden"

    @pytest.mark.parametrize("service", ["profiles", "segmentation", "campaigns"])
    async def test_an_analyst_key_can_read(self, client: httpx.AsyncClient, stack: dict[str, Any], probe: Probe,
                                           service: str) -> None:  # fmt: skip
        path = READS[service].format(profile=probe.profile_id)
        assert (await client.get(stack["urls"][service] + path, headers=ANALYST)).status_code == 200

    async def test_only_an_admin_manages_sources(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                 probe: Probe) -> None:  # fmt: skip
        refused(await client.get(stack["urls"]["tracking"] + "/v1/sources", headers=MARKETER), 403)
        for method, path, body in _writes("tracking", probe, await _ids(client, stack, probe)):
            await send_refused(client, stack, "tracking", probe, 403, method=method, path=path, json=body,
                               headers=MARKETER)  # fmt: skip

    async def test_an_api_key_is_not_a_write_key(self, client: httpx.AsyncClient, stack: dict[str, Any]) -> None:
        event = {"userId": "u-key", "event": "E"}
        for key in (ADMIN_KEY, MARKETER_KEY):
            response = await client.post(stack["urls"]["tracking"] + "/v1/track", json=event, auth=(key, ""))
            refused(response, 401)


class TestPersonalDataInLogs:
    """Runs last: the values sent by the fixture and every test above, plus requests that put them where a careless
    service would log them (paths, queries, headers, refused bodies, failing writes)."""

    async def test_no_email_phone_or_ip_sent_reaches_a_log(self, client: httpx.AsyncClient, stack: dict[str, Any],
                                                           probe: Probe) -> None:  # fmt: skip
        urls = stack["urls"]
        for value in (EMAIL, PHONE, IP):
            headers = {**ADMIN, "X-Forwarded-For": IP, "User-Agent": f"probe {EMAIL} {PHONE}"}
            await client.get(f"{urls['profiles']}/v1/profiles/{quote(value)}", headers=headers)
            await client.get(f"{urls['profiles']}/v1/profiles/lookup", params={"email": value}, headers=headers)
            await client.post(f"{urls['segmentation']}/v1/segments", json={"name": value, "definition": value},
                              headers=headers)  # fmt: skip
            await client.post(f"{urls['campaigns']}/v1/campaigns", json={"name": value, "webhook_url": value},
                              headers=headers)  # fmt: skip
            await client.post(f"{urls['tracking']}/v1/track", json={"userId": value, "context": {"ip": IP}},
                              headers={"X-Write-Key": value, "X-Forwarded-For": IP})  # fmt: skip
            await client.post(f"{urls['tracking']}/v1/identify", json={"userId": value, "traits": {"email": value}},
                              auth=(WRITE_KEY, ""), headers={"X-Forwarded-For": IP})  # fmt: skip
        await wait_for(lambda: _profile_lookup(client, urls["profiles"], EMAIL), timeout=20)
        logs = {service: (stack["data_dir"] / "logs" / f"{service}.log").read_text() for service in SERVICES}
        for service, text in logs.items():
            for value in (EMAIL, PHONE, PHONE.lstrip("+"), IP):
                assert value not in text, (service, value)
        # Not a vacuous scan: the values did reach the loggers, and were redacted there.
        assert all(marker in "".join(logs.values()) for marker in ("[email]", "[phone]", "[ip]"))


async def _profile_lookup(client: httpx.AsyncClient, url: str, user_id: str) -> bool:
    response = await client.get(f"{url}/v1/profiles/lookup", params={"user_id": user_id}, headers=ADMIN)
    return response.status_code == 200
