// The social screens show the API's figures as they come: engagement per group, the daily trend and top content,
// competitors' share of voice, an influencer's report, a contest, refused import rows; analysts cannot review or import.
import { RouterProvider, createMemoryHistory, createRouter } from "@tanstack/react-router";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { Role } from "../../auth/session";
import { meQueryKey } from "../../auth/session";
import { getEngagementQueryKey, listContentQueryKey, listContestsQueryKey } from "../../client/campaigns/@tanstack/react-query.gen";
import type { ContentRead } from "../../client/campaigns/types.gen";
import { daysAgo, isoDay } from "../../lib/days";
import { formatCount, formatCurrency, formatPercent, formatSignedPercent } from "../../lib/format";
import { routeTree } from "../../routeTree.gen";
import { Providers, me, renderWithProviders, testQueryClient } from "../../test/render";
import { CompetitorsView, shareOfVoiceData } from "./CompetitorsPanel";
import { ContentQueue, ContentTable, ContestView, type ContestReport } from "./ContentQueue";
import { EngagementView, dailyEngagementData } from "./EngagementPanel";
import { ImportResultView } from "./ImportPanel";
import { InfluencerReportView } from "./InfluencersPanel";
import type { CompetitorsReport, EngagementReport, InfluencerReport, SocialTotals } from "./shapes";

const totals = (posts: number, reach: number, engagements: number): SocialTotals => ({
  posts, impressions: reach * 2, reach, likes: engagements, comments: 0, shares: 0, saves: 0, clicks: 17, followers: 5000,
  engagements, ctr: 0.012345, engagement_rate_by_reach: 0.0734, engagement_rate_by_impressions: 0.0367,
  engagement_rate_by_followers: 0.021, amplification_rate: 0.0012, virality_rate: 0.0004,
});

const ENGAGEMENT: EngagementReport = {
  by: "platform",
  from: "2026-11-08",
  to: "2026-12-05",
  engagement: { engagements: "likes + comments + shares + saves", ctr: "clicks / impressions" },
  groups: [{ key: "instagram", ...totals(12, 40_210, 2951) }, { key: "x", ...totals(3, 1200, 88) }],
  total: totals(15, 41_410, 3039),
  daily: [
    { date: "2026-12-01", impressions: 900, reach: 450, likes: 30, comments: 2, shares: 1, saves: 0, clicks: 4, engagements: 33, ctr: 0.0044, engagement_rate_by_reach: 0.07, engagement_rate_by_impressions: 0.03, virality_rate: 0.001 },
    { date: "2026-12-02", impressions: 1200, reach: 610, likes: 41, comments: 3, shares: 2, saves: 1, clicks: 9, engagements: 47, ctr: 0.0075, engagement_rate_by_reach: 0.077, engagement_rate_by_impressions: 0.039, virality_rate: 0.0016 },
  ],
  top_content: [{ platform: "instagram", post_id: "p9", content_type: "video", campaign: "winter", text: "Snow!", reach: 8000, engagements: 1200, engagement_rate_by_reach: 0.15 }],
};

describe("engagement", () => {
  it("shows each group's figures and the total as the API gives them", () => {
    renderWithProviders(<EngagementView report={ENGAGEMENT} segmentNames={{}} />, { role: "analyst" });
    const row = within(screen.getByTestId("engagement-instagram")).getAllByRole("cell").map((c) => c.textContent);
    expect(row.slice(0, 6)).toEqual([formatCount(12), formatCount(40_210), formatCount(80_420), formatCount(2951), formatCount(17), formatPercent(0.0734, 2)]);
    expect(screen.getByRole("region", { name: "Engagements" })).toHaveTextContent(formatCount(3039));
    expect(screen.getByTestId("top-instagram:p9")).toHaveTextContent(formatPercent(0.15, 2));
    expect(screen.getByRole("list", { name: "How the figures are defined" })).toHaveTextContent("clicks / impressions");
  });

  it("charts the API's daily figures", () => {
    expect(dailyEngagementData(ENGAGEMENT.daily).map((d) => [d.Reach, d.Engagements, d.Clicks])).toEqual([[450, 33, 4], [610, 47, 9]]);
  });

  it("names segments in the by-segment report", () => {
    const bySegment: EngagementReport = {
      ...ENGAGEMENT, by: "segment", total: null,
      groups: [{ key: "s1", segment_id: "s1", people: 1200, engaged_people: 300, likes: 500, comments: 40, shares: 12, ad_clicks: 7, engagement_rate: 0.25 }],
    };
    renderWithProviders(<EngagementView report={bySegment} segmentNames={{ s1: "VIP" }} />, { role: "analyst" });
    const row = screen.getByTestId("engagement-s1");
    expect(row).toHaveTextContent("VIP");
    expect(within(row).getAllByRole("cell").map((c) => c.textContent)).toEqual([formatCount(1200), formatCount(300), formatPercent(0.25, 2), formatCount(500), formatCount(40), formatCount(12), formatCount(7)]);
  });
});

const COMPETITORS: CompetitorsReport = {
  from: "2026-11-08", to: "2026-12-05",
  us: { handles: ["tessera"], from: "our posts' authors" },
  mentions: { tracked: 40, untracked: 3 },
  brands: [
    { brand: "us", is_us: true, posts_published: 12, posts_per_week: 3, content_mix: { image: 0.5, video: 0.5 }, impressions: 9000, reach: 5000, engagements: 400, engagement_rate_by_reach: 0.08, engagement_rate_by_impressions: 0.044, engagement_rate_by_followers: 0.02, followers: { start: 1000, end: 1100, growth: 100, growth_rate: 0.1 }, mentions: 30, mentions_by_platform: { x: 30 }, share_of_voice: 0.75 },
    { brand: "rival", is_us: false, posts_published: 4, posts_per_week: 1, content_mix: { text: 1 }, impressions: 3000, reach: 2000, engagements: 50, engagement_rate_by_reach: 0.025, engagement_rate_by_impressions: 0.0167, engagement_rate_by_followers: null, followers: { start: null, end: null, growth: null, growth_rate: null }, mentions: 10, mentions_by_platform: { x: 10 }, share_of_voice: 0.25 },
  ],
};

describe("competitors", () => {
  it("shows each brand's share of voice and rates as the API gives them", () => {
    renderWithProviders(<CompetitorsView report={COMPETITORS} />, { role: "analyst" });
    const us = screen.getByTestId("brand-us");
    expect(us).toHaveTextContent(formatPercent(0.75, 1));
    expect(us).toHaveTextContent(formatSignedPercent(0.1, 1));
    expect(screen.getByTestId("brand-rival")).toHaveTextContent(formatPercent(0.025, 2));
    expect(shareOfVoiceData(COMPETITORS).map((d) => d["Share of voice"])).toEqual([75, 25]);
  });
});

describe("influencers and contests", () => {
  it("shows an influencer's report as the API gives it", () => {
    const report: InfluencerReport = {
      influencer_id: "i1", from: null, to: null, posts: totals(4, 12_000, 900),
      followers: { start: 2000, end: 2300, growth: 300, growth_rate: 0.15 },
      sessions: 420, signups: 31, orders: 12, revenue: 1834.5, signup_rate: 0.0738, order_rate: 0.0286,
      attributed_by: { referral_codes: ["anna10"], utm_campaigns: [] },
    };
    renderWithProviders(<InfluencerReportView report={report} />, { role: "analyst" });
    expect(screen.getByRole("region", { name: "Sessions" })).toHaveTextContent(formatCount(420));
    expect(screen.getByRole("region", { name: "Orders" })).toHaveTextContent(formatPercent(0.0286, 2));
    expect(screen.getByRole("region", { name: "Revenue" })).toHaveTextContent(formatCurrency(1834.5));
    expect(screen.getByRole("region", { name: "Follower growth" })).toHaveTextContent(formatSignedPercent(0.15));
  });

  it("shows a contest's participation as the API gives it", () => {
    const contest: ContestReport = {
      contest_id: "xmas", entries: 130, participants: 120, people_reached: 9000, people_reached_from: "posts",
      participation_rate: 0.013333, user_content: { pending: 5, approved: 40, rejected: 2, total: 47 }, posts: totals(3, 9000, 700),
    };
    renderWithProviders(<ContestView report={contest} />, { role: "analyst" });
    expect(screen.getByRole("region", { name: "Participation rate" })).toHaveTextContent(formatPercent(0.013333, 2));
    expect(screen.getByRole("region", { name: "User content" })).toHaveTextContent("5 pending");
  });
});

const CONTENT: ContentRead[] = [
  { id: "u1", contest_id: "xmas", type: "image", url: "https://example.com/1.jpg", person: "p-1", status: "pending", submitted_at: "2026-12-04T10:00:00Z", reviewed_at: null },
];

describe("user content", () => {
  it("lets marketers approve or reject", () => {
    renderWithProviders(<ContentTable items={CONTENT} />, { role: "marketer" });
    expect(screen.getByRole("button", { name: "Approve content from p-1" })).toBeEnabled();
    expect(screen.getByRole("button", { name: "Reject content from p-1" })).toBeEnabled();
  });

  it("gives analysts no review buttons", () => {
    renderWithProviders(<ContentTable items={CONTENT} />, { role: "analyst" });
    expect(screen.getByTestId("content-u1")).toHaveTextContent("pending");
    expect(screen.queryByRole("button", { name: /Approve/ })).not.toBeInTheDocument();
  });
});

describe("the contests picker", () => {
  it("offers the contests the API lists, with participants and content to review", async () => {
    const client = testQueryClient();
    client.setQueryData(meQueryKey, me("marketer"));
    client.setQueryData(listContestsQueryKey(), [
      { contest_id: "summer-photo", entries: 12, participants: 9, user_content: 4, pending_review: 3, last_activity_at: "2026-12-01T10:00:00Z" },
    ]);
    client.setQueryData(listContentQueryKey({ query: { status: "pending", contest_id: null } }), { items: [], next_offset: null });
    render(
      <Providers client={client}>
        <ContentQueue />
      </Providers>,
    );
    await userEvent.click(screen.getByRole("combobox", { name: "Contest" }));
    expect(await screen.findByRole("option", { name: "summer-photo · 9 participants · 3 to review" })).toBeInTheDocument();
  });
});

describe("imports", () => {
  it("lists the refused rows with line, field and reason", () => {
    renderWithProviders(<ImportResultView result={{ accepted: 41, rejected: [{ line: 7, field: "published_at", reason: "invalid datetime" }] }} />);
    expect(screen.getByTestId("import-summary")).toHaveTextContent("41 rows stored, 1 refused");
    expect(within(screen.getByTestId("refused-7")).getAllByRole("cell").map((c) => c.textContent)).toEqual(["7", "published_at", "invalid datetime"]);
  });
});

function renderSocial(role: Role) {
  const client = testQueryClient();
  client.setQueryData(meQueryKey, me(role));
  const period = { from: daysAgo(27), to: isoDay(new Date()) };
  client.setQueryData(getEngagementQueryKey({ query: { by: "platform", ...period } }), ENGAGEMENT);
  const router = createRouter({ routeTree, context: { queryClient: client }, history: createMemoryHistory({ initialEntries: ["/social"] }) });
  render(
    <Providers client={client}>
      <RouterProvider router={router} />
    </Providers>,
  );
}

describe("the social page", () => {
  it("shows the engagement report and offers marketers imports", async () => {
    renderSocial("marketer");
    const table = await screen.findByRole("table", { name: "Engagement by group" }, { timeout: 10_000 });
    expect(within(table).getByTestId("engagement-instagram")).toHaveTextContent(formatCount(40_210));
    expect(screen.getByRole("tab", { name: "Import" })).toBeInTheDocument();
  }, 20_000);

  it("gives analysts no import", async () => {
    renderSocial("analyst");
    await screen.findByRole("table", { name: "Engagement by group" }, { timeout: 10_000 });
    expect(screen.queryByRole("tab", { name: "Import" })).not.toBeInTheDocument();
  }, 20_000);
});
