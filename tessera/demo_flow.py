"""`tessera demo`'s conversation with the platform: segments, clustering, models, social, a campaign, reports."""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

import httpx
from rich.console import Console
from sklearn.metrics import adjusted_rand_score

from tessera.demo_data import (
    DAYS,
    INFLUENCER_CAMPAIGN,
    PERSONAS,
    POSTS,
    REFERRAL_CODE,
    Customer,
    holdout_ordered,
    mail_client_address,
    reaction,
)

T = TypeVar("T")
FEATURES = ["orders", "revenue", "average_order_value", "days_since_last_visit", "tenure_days", "social_interactions"]
RULES: dict[str, dict[str, Any]] = {
    "Recent big spenders": {"and": [{"computed": "revenue", "op": "gte", "value": 500},
                                    {"event": "Order Completed", "at_least": 1, "within_days": 30}]},
    "Lapsed customers": {"and": [{"computed": "orders", "op": "gte", "value": 1},  # bought, then neither ordered
                                 {"event": "Order Completed", "at_most": 0, "within_days": 90},  # nor visited
                                 {"event": "page", "at_most": 0, "within_days": 60}]},
    "Social fans": {"computed": "social_interactions", "op": "gte", "value": 15},
    "Unhappy reviewers": {"computed": "average_sentiment", "op": "lt", "value": -0.05},
}  # fmt: skip
TOP_CLV = {"score": "clv_percentile", "op": "gt", "value": 90}
LINK = re.compile(r"""https?://[^\s"'<>]+/v1/([oc])/[^\s"'<>]+""")
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605"
)
PROXY = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
BODY = ('<p>Hello {{ first_name | default("there") }},</p><p>%s</p>'
        '<p><a href="https://shop.example/welcome-back?offer=%s">Come and see what is new</a></p>')  # fmt: skip
VARIANTS = [
    {"name": "A: we miss you", "subject": "We miss you, {{ first_name | default('friend') }}",
     "body": BODY % ("It has been a while. Our new collection is in.", "none")},
    {"name": "B: 20% off", "subject": "{{ first_name | default('Hi') }}, 20% off to welcome you back",
     "body": BODY % ("Take 20% off your next order this week.", "twenty")},
]  # fmt: skip


class DemoError(RuntimeError):
    """A one-line reason the demo stopped."""


def error_text(response: httpx.Response) -> str:
    """The platform's error message of a response, in one line."""
    try:
        error = response.json()["error"]
        fields = "; ".join(f"{f['field']}: {f['reason']}" for f in error.get("fields", []))
        return f"{error['message']}" + (f" ({fields})" if fields else "")
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


class MailSink:
    """A local SMTP server (aiosmtpd) that keeps every message campaigns send."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the message."""
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"

    @classmethod
    def start(cls, port: int) -> MailSink:
        """Listen on 127.0.0.1:port in a thread."""
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            raise DemoError(
                "aiosmtpd is missing (the demo's SMTP sink): pip install aiosmtpd, or run `make demo`"
            ) from None
        sink = cls()
        sink.controller = Controller(sink, hostname="127.0.0.1", port=port)
        try:
            sink.controller.start()
        except Exception as exc:  # aiosmtpd raises several kinds for a port it cannot use
            raise DemoError(f"the SMTP sink could not listen on port {port} ({exc})") from None
        return sink

    def stop(self) -> None:
        """Stop listening."""
        self.controller.stop()


class Api:
    """The four services' REST APIs with the admin key; every failure becomes a one-line DemoError."""

    def __init__(self, client: httpx.AsyncClient, urls: dict[str, str], key: str) -> None:
        self.client, self.urls, self.headers = client, urls, {"Authorization": f"Bearer {key}"}

    async def call(self, method: str, service: str, path: str, **options: Any) -> Any:
        """One request; the decoded JSON answer."""
        try:
            response = await self.client.request(method, self.urls[service] + path, headers=self.headers, **options)
        except httpx.HTTPError as exc:
            raise DemoError(f"{service} did not answer {method} {path} ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise DemoError(f"{service} {method} {path}: {error_text(response)}")
        return response.json() if response.content else None

    async def get(self, service: str, path: str, **params: Any) -> Any:
        """GET with query parameters."""
        return await self.call("GET", service, path, params=params)

    async def post(self, service: str, path: str, body: Any = None) -> Any:
        """POST a JSON body."""
        return await self.call("POST", service, path, json=body)


async def post_batch(client: httpx.AsyncClient, url: str, write_key: str, events: list[dict[str, Any]]) -> None:
    """One Segment batch to tracking; 429 and 5xx are retried a few times."""
    status = 0
    for attempt in range(5):
        try:
            response = await client.post(f"{url}/v1/batch", auth=(write_key, ""), json={"batch": events})
        except httpx.HTTPError as exc:
            raise DemoError(f"tracking at {url} did not answer ({type(exc).__name__})") from None
        status = response.status_code
        if status == 200:
            return
        if status != 429 and status < 500:
            raise DemoError(f"tracking refused a batch: {error_text(response)}")
        await asyncio.sleep(0.5 * 2**attempt)
    raise DemoError(f"tracking kept answering {status} to a batch")


async def poll(check: Callable[[], Awaitable[T | None]], timeout: float, what: str) -> T:
    """Call `check` until it returns something; a DemoError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.3)
    raise DemoError(f"{what} did not finish within {timeout:.0f} s")


class Flow:
    """The demo's steps after the events are in, each returning what the summary shows."""

    def __init__(self, api: Api, write_key: str, customers: list[Customer], today: datetime, seed: int,
                 sink: MailSink | None, console: Console) -> None:  # fmt: skip
        self.api, self.write_key, self.today, self.sink, self.console = api, write_key, today, sink, console
        self.rng = random.Random(seed)
        self.user_of: dict[str, str] = {}  # profile id → user id
        self.by_user = {c.user_id: c for c in customers}

    async def run_all(self, tag: str) -> dict[str, Any]:
        """Segments, clustering, CLV, RFM, social, the campaign and the reports, in that order."""
        with self.console.status("Creating segments…"):
            segments = [await self.segment(name, rule) for name, rule in RULES.items()]
        clustering = await self.clustering()
        with self.console.status("Fitting lifetime value (BG/NBD + Gamma-Gamma) and RFM…"):
            body = {"calibration_end": self.today.date().isoformat(), "time_unit": "weeks", "horizon": 26}
            clv = await self.clv(body)
            rfm = await self.api.post("segmentation", "/v1/rfm/score")
            segments.append(await self.segment("Top 10% lifetime value", TOP_CLV))
        with self.console.status("Influencer, social posts and metrics…"):
            influencer = await self.social()
        campaign = await self.campaign(next(s["id"] for s in segments if s["name"] == "Lapsed customers"), tag)
        with self.console.status("Reports…"):
            reports = [await self.api.get("segmentation", f"/v1/segments/{s['id']}/report") for s in segments]
            return {"segments": reports, "clustering": clustering, "clv": clv, "rfm": rfm, "campaign": campaign,
                    **await self.insights(influencer)}  # fmt: skip

    async def clv(self, body: dict[str, Any]) -> dict[str, Any]:
        """Fit CLV as a job and wait for its model."""
        started = await self.api.post("segmentation", "/v1/clv/fit", body)

        async def fitted() -> dict[str, Any] | None:
            found = await self.api.get("segmentation", f"/v1/clv/fits/{started['id']}")
            if found["status"] == "error":
                raise DemoError(f"the CLV fit failed: {found['error']['message']}")
            return found["model"] if found["status"] == "ready" else None

        return await poll(fitted, 300, "the CLV fit")

    async def segment(self, name: str, definition: dict[str, Any]) -> dict[str, Any]:
        """Create a rule segment and wait until its backfill is done."""
        created = await self.api.post("segmentation", "/v1/segments", {"name": name, "definition": definition})
        return await self.ready(created["id"])

    async def ready(self, segment_id: str) -> dict[str, Any]:
        """A segment once it is ready."""

        async def check() -> dict[str, Any] | None:
            found = await self.api.get("segmentation", f"/v1/segments/{segment_id}")
            if found["status"] == "error":
                raise DemoError(f"segment {found['name']!r} failed: {found['last_error']}")
            return found if found["status"] == "ready" else None

        return await poll(check, 120, f"segment {segment_id}")

    async def clustering(self) -> dict[str, Any]:
        """Fit k-means (k chosen by silhouette), publish one segment per cluster, compare with the personas."""
        body = {"name": "Demo personas", "features": FEATURES, "method": "kmeans", "k": "auto"}
        with self.console.status("Clustering customers…") as status:
            created = await self.api.post("segmentation", "/v1/clusterings", body)

            async def fitted() -> dict[str, Any] | None:
                found = await self.api.get("segmentation", f"/v1/clusterings/{created['id']}")
                if found["status"] == "error":
                    raise DemoError(f"the clustering failed: {found['last_error']}")
                status.update(f"Clustering customers: {found['stage']} ({found['progress']:.0%})")
                return found if found["status"] == "ready" else None

            await poll(fitted, 300, "the clustering")
            published = await self.api.post("segmentation", f"/v1/clusterings/{created['id']}/publish")
            clusters = published["latest_run"]["clusters"]
            members = [await self.members((await self.ready(c["segment_id"]))["id"]) for c in clusters]
        await self.map_profiles([p for group in members for p in group])
        return self.compare(published, clusters, members)

    async def members(self, segment_id: str) -> list[str]:
        """Every member's profile id."""
        ids: list[str] = []
        cursor: str | None = None
        while True:
            params = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
            page = await self.api.get("segmentation", f"/v1/segments/{segment_id}/members", **params)
            ids += [m["profile_id"] for m in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                return ids

    async def map_profiles(self, profile_ids: list[str]) -> None:
        """Learn the user id of each profile (profiles' batch read)."""
        missing = [p for p in dict.fromkeys(profile_ids) if p not in self.user_of]
        for start in range(0, len(missing), 1000):
            found = await self.api.post("profiles", "/v1/profiles/batch", {"ids": missing[start : start + 1000]})
            for profile in found["items"]:
                users = [i["value"] for i in profile["identities"] if i["kind"] == "user_id"]
                if users:
                    self.user_of[profile["id"]] = users[0]

    def compare(self, clustering: dict[str, Any], clusters: list[dict[str, Any]], members: list[list[str]]) -> dict:
        """Adjusted Rand index of the clusters against the planted personas, and each cluster's main persona."""
        truth, found = [], []
        for index, (cluster, ids) in enumerate(zip(clusters, members, strict=True)):
            personas = Counter(self.by_user[u].persona for p in ids if (u := self.user_of.get(p)) in self.by_user)
            truth += list(personas.elements())
            found += [index] * sum(personas.values())
            top, count = personas.most_common(1)[0] if personas else (0, 0)
            cluster["persona"], cluster["persona_share"] = PERSONAS[top].name, count / max(sum(personas.values()), 1)
            cluster["personas"] = [personas[i] for i in range(len(PERSONAS))]
        ari = adjusted_rand_score(truth, found) if truth else float("nan")
        run = clustering["latest_run"]
        return {"id": clustering["id"], "k": run["k"], "silhouette": run["silhouette"], "clusters": clusters,
                "adjusted_rand": float(ari), "features": FEATURES, "compared": len(truth)}  # fmt: skip

    async def social(self) -> dict[str, Any]:
        """Register the influencer behind the referral code, import our posts and their daily metrics."""
        body = {"name": "Anna Style", "platform": "instagram", "handle": "anna.style",
                "referral_codes": [REFERRAL_CODE], "utm_campaigns": [INFLUENCER_CAMPAIGN]}  # fmt: skip
        known = [i for i in await self.api.get("campaigns", "/v1/influencers") if i["handle"] == "anna.style"]
        influencer = known[0] if known else await self.api.post("campaigns", "/v1/influencers", body)
        start = self.today - timedelta(days=DAYS)
        theirs = {"author": "anna.style", "influencer_id": influencer["id"], "campaign": INFLUENCER_CAMPAIGN}
        posts = [{"platform": "instagram", "post_id": p.post_id, "author": "tessera.shop", "text": p.text,
                  "published_at": (start + timedelta(days=p.day, hours=18)).isoformat(),
                  "content_type": p.content_type} | (theirs if p.influencer else {}) for p in POSTS]  # fmt: skip
        await self.api.post("campaigns", "/v1/social/posts", posts)
        await self.api.post("campaigns", "/v1/social/metrics", self.metrics(start))
        return dict(influencer)

    def metrics(self, start: datetime) -> list[dict[str, Any]]:
        """A week of daily figures per post, decaying after publication; followers grow."""
        rows = []
        for n, post in enumerate(POSTS):
            for day in range(7):
                reach = int(self.rng.uniform(3000, 9000) * (1.6 if post.influencer else 1.0) * 0.6**day)
                rows.append({"platform": "instagram", "post_id": post.post_id,
                             "date": (start + timedelta(days=post.day + day)).date().isoformat(),
                             "impressions": int(reach * 1.4), "reach": reach, "likes": int(reach * 0.05),
                             "comments": int(reach * 0.006), "shares": int(reach * 0.004), "saves": int(reach * 0.008),
                             "clicks": int(reach * 0.012), "followers": 12000 + 350 * n + 20 * day})  # fmt: skip
        return rows

    async def campaign(self, segment_id: str, tag: str) -> dict[str, Any]:
        """An email campaign with two variants and a 10% holdout to the lapsed customers; simulated reactions."""
        body = {"name": f"Win-back {tag}", "target_segments": [segment_id], "holdout_percent": 10,
                "variants": VARIANTS, "attribution": {"model": "last_touch", "window_days": 7}}  # fmt: skip
        with self.console.status("Sending the win-back campaign…"):
            created = await self.api.post("campaigns", "/v1/campaigns", body)
            await self.api.post("campaigns", f"/v1/campaigns/{created['id']}/launch")
            done = await poll(lambda: self.finished(created["id"]), 180, "the campaign")
            exposures = await self.exposures(done["id"])
        with self.console.status("Recipients open, click and order…"):
            expected = await self.react(done, exposures)
        with self.console.status("Measuring the campaign…"):
            results = await self.results(done["id"], expected)
        return {"campaign": done, "results": results, "expected": expected}

    async def finished(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign once every message is sent."""
        found = await self.api.get("campaigns", f"/v1/campaigns/{campaign_id}")
        if found["last_error"] and found["status"] not in ("running", "completed"):
            raise DemoError(f"the campaign stopped: {found['last_error']}")
        return found if found["status"] == "completed" else None

    async def exposures(self, campaign_id: str) -> list[dict[str, Any]]:
        """Everyone the campaign sent to, held out or skipped."""
        items: list[dict[str, Any]] = []
        cursor: int | None = None
        while True:
            params = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
            page = await self.api.get("campaigns", f"/v1/campaigns/{campaign_id}/exposures", **params)
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items

    async def react(self, campaign: dict[str, Any], exposures: list[dict[str, Any]]) -> dict[str, int]:
        """Open pixels and click links found in the mail, then orders by some recipients and a few held out."""
        await self.map_profiles([e["profile_id"] for e in exposures])
        sent = self.sink.messages if self.sink else []
        mail = {str(m["To"]): m for m in sent if m["X-Tessera-Campaign"] == campaign["id"]}
        variant = {v["id"]: i for i, v in enumerate(campaign["variants"])}
        counts: Counter[str] = Counter()
        orders: list[dict[str, Any]] = []
        for exposure in sorted(exposures, key=lambda e: e["profile_id"]):
            customer = self.by_user.get(self.user_of.get(exposure["profile_id"], ""))
            if customer is None or exposure["outcome"] not in ("sent", "held_out"):
                continue
            if exposure["outcome"] == "held_out":
                ordered = holdout_ordered(self.rng)
                counts["holdout_conversions"] += ordered
            else:
                arm = variant.get(exposure["variant_id"], 0)
                ordered = await self.act(customer, arm, mail.get(customer.email), counts)
            if ordered:
                orders.append(self.order(customer, len(orders)))
        counts["mail_read_back"] = len(mail)
        for start in range(0, len(orders), 500):
            await post_batch(self.api.client, self.api.urls["tracking"], self.write_key, orders[start : start + 500])
        return dict(counts)

    async def act(self, customer: Customer, variant: int, message: EmailMessage | None, counts: Counter[str]) -> bool:
        """One recipient: a privacy proxy may fetch the pixel, the person may open, click, and later order."""
        done = reaction(customer, variant, self.rng)
        links = {m.group(1): m.group(0) for m in LINK.finditer(_html(message))} if message else {}
        for happened, kind, agent, counter in ((done.proxy_opened, "o", PROXY, "machine_opens"),
                                               (done.opened, "o", BROWSER, "human_opens"),
                                               (done.clicked, "c", BROWSER, "clicks")):  # fmt: skip
            if happened and kind in links:
                headers = {"User-Agent": agent, "X-Forwarded-For": mail_client_address(customer.index, agent is PROXY)}
                await self.api.client.get(links[kind], headers=headers, follow_redirects=False)
                counts[counter] += 1
        counts["conversions"] += done.ordered
        return done.ordered

    def order(self, customer: Customer, n: int) -> dict[str, Any]:
        """An order placed now, after the mail."""
        revenue = round(customer.order_value * self.rng.lognormvariate(0, 0.2), 2)
        return {"type": "track", "event": "Order Completed", "userId": customer.user_id,
                "messageId": f"{customer.user_id}-winback-{n}-{self.today.timestamp():.0f}",
                "timestamp": datetime.now(UTC).isoformat(),
                "properties": {"order_id": f"{customer.user_id}-winback-{n}", "revenue": revenue}}  # fmt: skip

    async def results(self, campaign_id: str, expected: dict[str, int]) -> dict[str, Any]:
        """The campaign's results once they count every open, click and order (or what they count after 60 s)."""
        wanted = {k: expected.get(k, 0) for k in ("human_opens", "machine_opens", "clicks", "conversions")}
        latest: dict[str, Any] = {}

        async def counted() -> dict[str, Any] | None:
            latest.update(await self.api.get("campaigns", f"/v1/campaigns/{campaign_id}/results"))
            totals = {k: sum(v[k] for v in latest["variants"]) for k in wanted}
            holdout = (latest.get("holdout") or {}).get("conversions", 0)
            return latest if totals == wanted and holdout == expected.get("holdout_conversions", 0) else None

        try:
            return await poll(counted, 60, "counting the campaign's results")
        except DemoError:
            self.console.print("[yellow]The campaign's results are still counting; showing what they count now.")
            return latest

    async def insights(self, influencer: dict[str, Any]) -> dict[str, Any]:
        """Feedback sentiment per segment, a 30-day funnel, social engagement and the influencer's report."""
        funnel = {"steps": [{"page": "/"}, {"event": "Product Viewed"}, {"event": "Product Added"},
                            {"event": "Order Completed"}], "window_hours": 168,
                  "from": (self.today - timedelta(days=30)).isoformat()}  # fmt: skip
        return {
            "feedback": await self.api.get("profiles", "/v1/feedback/stats", by="segment"),
            "funnel": await self.api.post("profiles", "/v1/journeys/funnel", funnel),
            "engagement": await self.api.get("campaigns", "/v1/social/engagement", by="content_type"),
            "influencer": await self.api.get("campaigns", f"/v1/influencers/{influencer['id']}/report"),
        }


def _html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return str(part.get_content()) if part is not None else ""
