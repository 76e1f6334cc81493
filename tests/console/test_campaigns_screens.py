"""Console part 2 in real Chromium on `tessera up` with an SMTP sink: a marketer writes a two-variant campaign with a
holdout (a live preview for a real member, the pre-flight's numbers), launches it and reads its results after opens,
clicks and orders; an analyst cannot launch; a social CSV import shows its refused row; answering feedback moves the
response-time figures. Every figure on screen is checked against the API's own answer."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.builders import auth
from tests.campaigns.smtp_sink import html_of, smtp_sink
from tests.conftest import ADMIN_KEY, CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD, WRITE_KEY
from tests.console.chromium import chromium, log_in, person, screen
from tests.console.conftest import PASSWORD
from tests.console.conftest import Browser as Session
from tests.e2e.stack import tessera_up
from tests.helpers import audience_copied, wait_for

__all__ = ["chromium"]  # the session's browser, a fixture
ADMIN = auth(ADMIN_KEY)
NAMES = ("Ada", "Grace", "Linus", "Barbara", "Edsger", "Frances", "Donald", "Margaret", "Alan", "Radia", "Ken", "Hedy",
         "Dennis", "Katherine", "John", "Anita", "Tim", "Sophie", "Guido", "Jean")  # fmt: skip
BODY = '<p>Hello {{ first_name }}</p>\n<a href="https://shop.example/spring">Shop the sale</a>'


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`tessera up` sending mail to an SMTP sink, looking for due work every second."""
    with smtp_sink() as (sink, port):
        env = {"TESSERA_CAMPAIGNS_SMTP_PORT": str(port), "TESSERA_CAMPAIGNS_SCHEDULE_CHECK_SECONDS": "1",
               "TESSERA_LOG_LEVEL": "WARNING"}  # fmt: skip
        with tessera_up(tmp_path_factory.mktemp("console-campaigns"), **env) as running:
            yield running | {"sink": sink}


async def invited(stack: dict[str, Any], role: str) -> str:
    """A new console user of a role, invited by the admin through the console's API (the invite screen is part 1's);
    their e-mail address (the password is PASSWORD)."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=stack["console"], timeout=30) as http:
        admin = Session(http)
        assert (await admin.login(CONSOLE_ADMIN_EMAIL, CONSOLE_ADMIN_PASSWORD)).status_code == 200
        invitation = await admin.post("/api/invitations", json={"email": email, "role": role})
        assert invitation.status_code == 201, invitation.text
    token = invitation.json()["link"].rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=stack["console"], timeout=30) as http:
        accepted = await http.post(
            f"/api/invitations/{token}/accept", json={"name": role.title(), "password": PASSWORD}
        )
        assert accepted.status_code == 200, accepted.text
    return email


async def signed_in(stack: dict[str, Any], chromium: Browser, role: str) -> Page:
    """A page of a new user of `role`, logged in."""
    email = await invited(stack, role)
    page = await (await person(chromium, stack["console"])).new_page()
    await log_in(page, email, PASSWORD)
    return page


async def api(stack: dict[str, Any], service: str, method: str, path: str, **options: Any) -> Any:
    """A service's answer (admin key), which must be a success; its JSON."""
    async with httpx.AsyncClient(base_url=stack["urls"][service], headers=ADMIN, timeout=30) as http:
        response = await http.request(method, path, **options)
    assert response.is_success, response.text
    return response.json()


async def track(stack: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Events posted to tracking as the website tag would."""
    async with httpx.AsyncClient(auth=(WRITE_KEY, ""), timeout=30) as http:
        response = await http.post(f"{stack['urls']['tracking']}/v1/batch", json={"batch": events})
    assert response.status_code == 200, response.text


async def club_segment(stack: dict[str, Any], m: str, size: int) -> str:
    """A segment of the `club` m once segmentation and campaigns' membership copy both hold its `size` members."""
    definition = {"trait": "club", "op": "eq", "value": m}

    async def counted() -> bool:
        found = await api(stack, "segmentation", "POST", "/v1/segments/preview", json={"definition": definition})
        return found["count"] == size

    await wait_for(counted, timeout=60)
    segment = await api(
        stack, "segmentation", "POST", "/v1/segments", json={"name": f"Club {m}", "definition": definition}
    )
    async with httpx.AsyncClient(timeout=30) as http:
        await audience_copied(http, stack["urls"]["campaigns"], segment["id"], size, ADMIN)
    return str(segment["id"])


async def seed_club(stack: dict[str, Any], m: str) -> str:
    """Twenty people with an address and a first name, every tenth without e-mail consent, in a segment."""
    people = [{"type": "identify", "userId": f"{m}-{i}", "traits": {"email": f"{m}-{i}@example.com", "club": m,
               "first_name": name, "consent": {"email": i % 10 != 9}}} for i, name in enumerate(NAMES)]  # fmt: skip
    await track(stack, people)
    return await club_segment(stack, m, len(NAMES))


async def write_campaign(page: Page, m: str) -> None:
    """The editor: name, the club's segment, variant A and a variant B with its own subject, a 25% holdout."""
    await screen(page, "/campaigns/new", "New campaign")
    await page.get_by_role("textbox", name=re.compile("^Name")).first.fill(f"Spring {m}")
    await page.get_by_role("combobox", name="Send to segments").click()
    await page.get_by_role("option", name=re.compile(f"^Club {m} ")).click()
    await page.keyboard.press("Escape")
    first = page.get_by_role("group", name="Variant A")
    await first.get_by_label("Subject").fill("Hi {{ first_name }}")
    await first.get_by_label("HTML body").fill(BODY)
    await page.get_by_role("button", name="Add a variant").click()
    await page.get_by_role("group", name="Variant B").get_by_label("Subject").fill("{{ first_name }}, a gift for you")
    await page.get_by_label("Holdout").fill("25")


async def check_preview(stack: dict[str, Any], page: Page) -> None:
    """Variant A's preview, rendered by the server for the member it picked, greets that member by first name."""
    preview = page.get_by_role("group", name="Variant A")
    subject = preview.get_by_test_id("preview-subject")
    await expect(subject).to_have_text(re.compile(r"^Hi \S+$"))
    profile_id = await preview.get_by_label("Preview for").input_value()
    member = await api(stack, "profiles", "GET", f"/v1/profiles/{profile_id}")
    first_name = member["traits"]["first_name"]
    await expect(subject).to_have_text(f"Hi {first_name}")
    mail = preview.frame_locator("iframe[title='Mail preview']")
    await expect(mail.get_by_text(f"Hello {first_name}")).to_be_visible()
    await screen(page, None, "New campaign", shot="campaign-editor")


async def check_preflight(stack: dict[str, Any], page: Page, campaign_id: str) -> dict[str, Any]:
    """The pre-flight on the campaign's page shows the endpoint's numbers; they are returned."""
    await screen(page, f"/campaigns/{campaign_id}", re.compile("^Spring "), shot="campaign-preflight")
    plan = await api(stack, "campaigns", "GET", f"/v1/campaigns/{campaign_id}/preflight")
    assert plan["audience"] == len(NAMES) and plan["skipped"] == {"no_email_consent": 2}
    for label, key in (("Audience", "audience"), ("Will be sent", "sendable"), ("Holdout", "held_out")):
        await expect(page.get_by_role("region", name=label, exact=True)).to_contain_text(str(plan[key]))
    skipped = page.get_by_role("table", name="Skipped by reason")
    await expect(skipped.get_by_role("row", name=re.compile("consent"))).to_contain_text("2")
    recipients = page.get_by_role("table", name="Recipients per variant").get_by_role("row")
    expected = [f"{v['name']}{v['recipients']}" for v in plan["variants"]]
    await expect(recipients).to_have_text(["VariantRecipients", *expected])
    return dict(plan)


async def launch(page: Page, plan: dict[str, Any]) -> None:
    """Launch, confirmed in a dialog that repeats the audience, the holdout and the variants."""
    await page.get_by_role("button", name="Launch…").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(f"Audience: {plan['audience']} profiles, {plan['sendable']} will be sent to")
    await expect(dialog).to_contain_text(f"Holdout: 25%, {plan['held_out']} profiles")
    for variant in plan["variants"]:
        await expect(dialog).to_contain_text(f"Variant {variant['name']}: {variant['recipients']}")
    await dialog.get_by_role("button", name=f"Launch to {plan['sendable']}").click()
    await expect(dialog).to_have_count(0)


def link(message: Any, kind: str) -> str:
    """The tracking link of a kind (o: open pixel, c: click) in a received mail."""
    found = re.search(rf'(http://127\.0\.0\.1:\d+/v1/{kind}/[^"\s>]+)', html_of(message))
    assert found, kind
    return found.group(1)


async def interact(stack: dict[str, Any], mails: list[Any], held: list[str], m: str) -> dict[str, int]:
    """Six people open (as people, not machines), three click, two order, and one held-out person (if any) orders;
    what was done, counted."""
    async with httpx.AsyncClient(timeout=30) as http:
        for message in mails[:6]:
            assert (await http.get(link(message, "o"), headers={"User-Agent": "Mozilla/5.0"})).status_code == 200
        for message in mails[:3]:
            assert (await http.get(link(message, "c"), follow_redirects=False)).status_code == 302
    buyers = [message["To"].split("@")[0] for message in mails[:2]]  # the address is the user id's
    emails = await api(stack, "profiles", "POST", "/v1/profiles/batch", json={"ids": held[:1]})
    buyers += [next(i["value"] for i in p["identities"] if i["kind"] == "email").split("@")[0] for p in emails["items"]]
    await track(stack, [{"type": "track", "userId": user, "event": "Order Completed",
                         "properties": {"order_id": f"{user}-1", "revenue": 40.0}} for user in buyers])  # fmt: skip
    return {"human_opens": 6, "clicks": 3, "conversions": 2, "holdout": len(held[:1])}  # a holdout may be empty


async def measured(stack: dict[str, Any], campaign_id: str, done: dict[str, int]) -> dict[str, Any]:
    """The results once they count everything that was done."""

    async def counted() -> dict[str, Any] | None:
        results = await api(stack, "campaigns", "GET", f"/v1/campaigns/{campaign_id}/results")
        totals = {key: sum(v[key] for v in results["variants"]) for key in ("human_opens", "clicks", "conversions")}
        return results if totals | {"holdout": results["holdout"]["conversions"]} == done else None

    return await wait_for(counted, timeout=60)


async def check_results(page: Page, campaign_id: str, results: dict[str, Any]) -> None:
    """The funnel per arm on the campaign's page is the results' arms, count for count."""
    await screen(page, f"/campaigns/{campaign_id}", re.compile("^Spring "), shot="campaign-results")
    arms = [*results["variants"], {**results["holdout"], "name": "Holdout"}]
    for arm in arms:
        row = page.get_by_test_id(f"arm-{arm['name']}")
        counts = [str(arm[k]) for k in ("users", "sent", "human_opens", "machine_opens", "clicks", "conversions")]
        await expect(row.get_by_role("cell")).to_have_text([*counts, *[re.compile(".")] * 4])


async def test_a_marketer_writes_launches_and_reads_a_campaign_with_a_holdout(
    stack: dict[str, Any], chromium: Browser
) -> None:
    m = uuid.uuid4().hex[:8]
    segment_id = await seed_club(stack, m)
    page = await signed_in(stack, chromium, "marketer")
    await write_campaign(page, m)
    await check_preview(stack, page)
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_role("heading", level=1, name=f"Edit “Spring {m}”")).to_be_visible()
    campaign_id = page.url.rstrip("/").split("/")[-2]
    saved = await api(stack, "campaigns", "GET", f"/v1/campaigns/{campaign_id}")
    assert saved["target_segments"] == [segment_id] and saved["holdout_percent"] == 25
    assert [(v["name"], v["subject"]) for v in saved["variants"]] == [("A", "Hi {{ first_name }}"),
                                                                       ("B", "{{ first_name }}, a gift for you")]  # fmt: skip
    plan = await check_preflight(stack, page, campaign_id)
    await launch(page, plan)

    async def delivered() -> list[Any] | None:
        mails = [message for message in stack["sink"].messages if message["To"].startswith(f"{m}-")]
        return mails if len(mails) == plan["sendable"] else None

    mails = await wait_for(delivered, timeout=60)
    assert {message["X-Tessera-Variant"] for message in mails} == {v["variant_id"] for v in plan["variants"]}
    exposures = await api(stack, "campaigns", "GET", f"/v1/campaigns/{campaign_id}/exposures", params={"limit": 100})
    held = [e["profile_id"] for e in exposures["items"] if e["outcome"] == "held_out"]
    results = await measured(stack, campaign_id, await interact(stack, mails, held, m))
    await check_results(page, campaign_id, results)
    await page.context.close()


async def test_an_analyst_sees_a_draft_but_cannot_launch_it(stack: dict[str, Any], chromium: Browser) -> None:
    m = uuid.uuid4().hex[:8]
    segment = await api(stack, "segmentation", "POST", "/v1/segments",
                        json={"name": f"Club {m}", "definition": {"trait": "club", "op": "eq", "value": m}})  # fmt: skip
    draft = await api(stack, "campaigns", "POST", "/v1/campaigns", json={"name": f"Spring {m}",
                      "target_segments": [segment["id"]], "variants": [{"name": "A", "subject": "Hi", "body": BODY}]})  # fmt: skip
    page = await signed_in(stack, chromium, "analyst")
    await screen(page, f"/campaigns/{draft['id']}", f"Spring {m}")
    await expect(page.get_by_role("region", name="Pre-flight")).to_be_visible()
    for name in ("Launch…", "Pause", "Edit"):
        await expect(page.get_by_role("button", name=name)).to_have_count(0)
    await expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    csrf = (await (await page.request.get("/api/auth/me")).json())["csrf_token"]
    forged = await page.request.post(f"/api/campaigns/v1/campaigns/{draft['id']}/launch",
                                     headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert forged.status == 403, await forged.text()
    assert (await api(stack, "campaigns", "GET", f"/v1/campaigns/{draft['id']}"))["status"] == "draft"
    await page.context.close()


POSTS_CSV = (
    "platform,post_id,author,published_at,content_type,text\n"
    "instagram,{m}-1,ourbrand,2026-11-30T10:00:00Z,image,Spring is here\n"
    "instagram,{m}-2,ourbrand,2026-11-30T11:00:00Z,podcast,Not a content type\n"
)


async def test_a_social_csv_import_shows_the_refused_row_with_its_line_and_reason(
    stack: dict[str, Any], chromium: Browser
) -> None:
    m = uuid.uuid4().hex[:8]
    page = await signed_in(stack, chromium, "marketer")
    await screen(page, "/social", "Social")
    await page.get_by_role("tab", name="Import").click()
    csv = POSTS_CSV.format(m=m).encode()
    await page.locator("input[type=file]").set_input_files({"name": "posts.csv", "mimeType": "text/csv", "buffer": csv})
    await page.get_by_role("button", name="Import posts").click()
    await expect(page.get_by_test_id("import-summary")).to_have_text("1 rows stored, 1 refused.")
    refused = page.get_by_role("table", name="Refused rows").get_by_role("row")
    await expect(refused).to_have_text(["LineFieldReason", re.compile(r"^3content_typeInput should be 'image'")])
    await screen(page, None, "Social", shot="social-import")
    await page.context.close()


def hours(value: float | None) -> str:
    """Hours as the console writes them: at most one decimal, an en dash for none."""
    return "–" if value is None else f"{value:.1f}".removesuffix(".0") + " h"


def percent(ratio: float | None) -> str:
    """A ratio as the console's percentage: at most one decimal."""
    return "–" if ratio is None else f"{ratio * 100:.1f}".removesuffix(".0") + "%"


async def check_response_figures(stack: dict[str, Any], page: Page, product: str) -> dict[str, Any]:
    """The response-time figures on screen are the stats endpoint's for the product; the figures are returned."""
    stats = (await api(stack, "profiles", "GET", "/v1/feedback/stats", params={"product": product}))["total"]
    figures = {"Feedback items": str(stats["items"]), "Mean response time": hours(stats["mean_response_hours"]),
               "Median response time": hours(stats["median_response_hours"]),
               "Answered within 1 h": percent(stats["answered_within_1h"]),
               "Answered within 24 h": percent(stats["answered_within_24h"])}  # fmt: skip
    for label, text in figures.items():
        await expect(page.get_by_role("region", name=label, exact=True).locator("p").nth(1)).to_have_text(text)
    return dict(stats)


async def test_responding_to_feedback_updates_the_response_time_figures(
    stack: dict[str, Any], chromium: Browser
) -> None:
    m = uuid.uuid4().hex[:8]
    received = (datetime.now(UTC) - timedelta(hours=2, minutes=30)).isoformat()
    await track(stack, [{"type": "track", "userId": f"{m}-reviewer", "event": "Review Submitted", "timestamp": received,
                         "properties": {"text": "The zipper broke after a week", "rating": 1, "product_id": m}}])  # fmt: skip

    async def arrived() -> list[dict[str, Any]]:
        return list((await api(stack, "profiles", "GET", "/v1/feedback", params={"product": m}))["items"])

    [item] = await wait_for(arrived, timeout=30)
    page = await signed_in(stack, chromium, "marketer")
    await screen(page, "/feedback", "Feedback")
    await page.get_by_label("Product").fill(m)
    await expect(page.get_by_role("article", name=f"Feedback {item['id']}")).to_contain_text("The zipper broke")
    before = await check_response_figures(stack, page, m)
    assert before["answered"] == 0 and before["mean_response_hours"] is None
    await page.get_by_role("button", name=f"Mark responded: feedback {item['id']}").click()
    await expect(page.get_by_role("region", name="Mean response time").get_by_text("2.5 h")).to_be_visible()
    after = await check_response_figures(stack, page, m)
    assert after["answered"] == 1 and after["answered_within_1h"] == 0 and after["answered_within_24h"] == 1
    await screen(page, None, "Feedback", shot="feedback-inbox")
    await page.context.close()
